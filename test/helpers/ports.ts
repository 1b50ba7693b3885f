// A free TCP port on the loopback interface, for a server a test starts in another process
// (PostgreSQL, Redis, rsync, `aslo serve --workers`) that cannot be told to pick one itself.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

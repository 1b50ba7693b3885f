// A store as `aslo serve` runs it (src/server.ts's startServer on an embedded data folder) that
// its parent test can ask to switch its database to a new WAL segment, the one step towards a real
// PANIC a test cannot take from outside. Exits as `aslo serve` does: non-zero after a fatal error.
// Usage: node --import tsx test/helpers/fatal-store.ts DATA_DIR   (IPC: {url} out, 'switch-wal' in)
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config.js';
import { startServer } from '../../src/server.js';

const config = loadConfig({
  dataDir: process.argv[2]!,
  writeDefaults: true,
  env: { ...process.env, ASLO_DATABASE_URL: '', ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_JOBS_ENABLED: 'false', ASLO_SERVER_LOG_LEVEL: 'warn' },
});
config.server.host = '127.0.0.1';
config.server.port = 0;
// The stall watchdog's limit, shortened (the store's is a minute).
const server = await startServer(config, { quiet: true, stallLimitMs: Number(process.env.FATAL_STORE_STALL_MS ?? 60_000) });
process.on('message', (m) => {
  if (m !== 'switch-wal') return;
  void sql`select pg_switch_wal()`.execute(server.app.ctx.db).then(
    () => process.send!('switched'),
    (err: Error) => process.send!(`failed: ${err.message}`),
  );
});
process.send!({ url: server.url.replace('localhost', '127.0.0.1') });
await server.closed;
process.exit(server.fatal ? 1 : 0);

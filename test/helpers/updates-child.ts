// A store process for the propagation tests: builds the real app from the environment's config
// (ASLO_DATA_DIR, ASLO_INSTANCE, ASLO_DATABASE_URL...), listens on a free port, prints
// "LISTENING <url>", then obeys lines on stdin:
//   ingest <path>   ingest a bundle as public through this process; prints "INGESTED <json>"
//   exit            close cleanly (flushes pings) and exit
import { createInterface } from 'node:readline';
import { loadConfig } from '../../src/platform/config.js';
import { build } from '../../src/app.js';

const config = loadConfig({ writeDefaults: true });
const app = await build(config);
const url = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`LISTENING ${url}\n`);

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  const [cmd, ...rest] = line.trim().split(' ');
  if (cmd === 'ingest') {
    const res = await app.services.catalog.ingest.ingestPath(rest.join(' '), { status: 'public' });
    process.stdout.write(`INGESTED ${JSON.stringify({ outcome: res.outcome, version: res.version, errors: res.errors })}\n`);
  } else if (cmd === 'exit') {
    break;
  }
}
await app.close();
process.stdout.write('CLOSED\n');
process.exit(0);

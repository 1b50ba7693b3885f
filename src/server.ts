// The only place that listens. Builds the app for the selected instance, loads sample content
// into an empty catalog, prints where everything lives, and closes cleanly on SIGINT/SIGTERM.
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { build } from './app.js';
import { describeConfig, type AsloConfig } from './platform/config.js';
import { AsloError } from './platform/errors.js';
import { createContext } from './platform/context.js';
import { loggerOptions } from './platform/logging/index.js';
import { loadSampleContentIfEmpty } from './catalog/sample/load.js';
import { createDownloadWorker } from './downloads/worker.js';
import { ROLLUP_EVERY_SECONDS, ROLLUP_QUEUE, rollupAverageDailyUsers } from './updates/pings.js';
import { scheduleTemporarySweep, sweepAtStart } from './platform/storage/sweep.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function startServer(config: AsloConfig, opts: { role?: string; quiet?: boolean } = {}): Promise<RunningServer> {
  const log = (s: string) => {
    if (!opts.quiet) process.stdout.write(s + '\n');
  };
  const ctx = await createContext(config);
  log(`aslo: instance "${config.instance}"`);
  for (const [k, v] of Object.entries(describeConfig(config))) log(`  ${k.padEnd(9)} ${v}`);
  // Temporary files of uploads a crash interrupted; the worker sweeps again every few minutes.
  await sweepAtStart(ctx.files, log);
  if (config.sample.loadOnStart) {
    const loaded = await loadSampleContentIfEmpty(ctx);
    if (loaded > 0) log(`  sample    loaded ${loaded} sample activities into the empty catalog`);
  }
  // PGlite runs no autovacuum, so nothing else gathers planner statistics: without them a
  // listing after a bulk load (samples, an import, dev generate) may hash-join whole tables.
  // Cheap on any catalog this embedded database holds.
  if (ctx.database.kind === 'pglite') await sql`analyze`.execute(ctx.db);
  const role = (opts.role ?? 'all') as 'all' | 'web' | 'download' | 'worker';
  if (!['all', 'web', 'download', 'worker'].includes(role)) {
    await ctx.close();
    throw new AsloError('SERVE_BAD_ROLE', `Unknown role "${role}": use all, web, download or worker.`);
  }
  const app = await build(config, { context: ctx, logger: loggerOptions(config, role), role });
  // The background jobs (repo tree publishing, mirror checks) run in the single embedded
  // process, and in processes started with --role worker.
  const worker = config.jobs.enabled && (role === 'all' || role === 'worker') ? createDownloadWorker(ctx, { log: { warn: (m) => app.log.warn(m) } }) : null;
  if (worker) {
    // Average daily users from the updater's pings: a recurring job, so it runs in one worker
    // at a time however many processes there are (it was a timer in every web process).
    worker.runner.every(ROLLUP_QUEUE, ROLLUP_EVERY_SECONDS, async () => rollupAverageDailyUsers(ctx.db));
    scheduleTemporarySweep(worker.runner, ctx.files, app.log);
    await worker.runner.start();
    log(`  jobs      worker ${worker.runner.workerId} (${worker.runner.queues.join(', ')})`);
  }
  // The updater's final ping flush needs the database: it goes first.
  app.addHook('onClose', async () => {
    await worker?.runner.stop(5000);
    await app.services.updates.close();
    await app.downloads.close();
    await ctx.close();
  });
  const address = await app.listen({ port: config.server.port, host: config.server.host });
  const port = new URL(address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]')).port;
  const url = `http://localhost:${port}`;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing = false;
  const close = async () => {
    if (closing) return closed;
    closing = true;
    await app.close();
    resolveClosed();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`aslo: ${sig} received, closing`);
      void close();
    });
  }
  log(`  listening ${url}  (API docs: ${url}/api/docs)`);
  return { app, url, closed, close };
}

// The only place that listens. Builds the app for the selected instance, loads sample content
// into an empty catalog, prints where everything lives, and closes cleanly on SIGINT/SIGTERM.
import type { FastifyInstance } from 'fastify';
import { build } from './app.js';
import { describeConfig, type AsloConfig } from './platform/config.js';
import { AsloError } from './platform/errors.js';
import { createContext } from './platform/context.js';
import { loggerOptions } from './platform/logging/index.js';
import { loadSampleContentIfEmpty } from './build/samples.js';
import { createDownloadWorker } from './downloads/worker.js';
import { ROLLUP_EVERY_SECONDS, ROLLUP_QUEUE, rollupAverageDailyUsers } from './updates/pings.js';
import { scheduleTemporarySweep, sweepAtStart } from './platform/storage/sweep.js';
import { acceptCommands } from './cli/control.js';
import { startStallWatchdog } from './platform/db/stall.js';
import { analyzeTables, tablesNeedingStatistics } from './platform/db/statistics.js';

/** After a fatal database error: how long /healthz reports it before the listener closes. */
export const FATAL_GRACE_MS = 3000;
/** The longest a close may take before the process gives up waiting (a dead database may hang). */
const CLOSE_LIMIT_MS = 15_000;

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  closed: Promise<void>;
  close(): Promise<void>;
  /** The fatal database error that closed this server, if one did: the process must exit non-zero. */
  readonly fatal: Error | null;
}

export async function startServer(config: AsloConfig, opts: { role?: string; quiet?: boolean; stallLimitMs?: number } = {}): Promise<RunningServer> {
  const log = (s: string) => {
    if (!opts.quiet) process.stdout.write(s + '\n');
  };
  // The embedded database is locked by this process; CLI commands run through it once it is up.
  // What takes a while on a first start (migrations, samples) is printed as it happens.
  log(`aslo: opening instance "${config.instance}": database ${describeConfig(config).database}`);
  let migrated = false;
  const ctx = await createContext(config, {
    holder: 'aslo serve',
    acceptCommands: true,
    onMigration: (done, total, name) => {
      migrated = true;
      log(done === 0 ? `  migrate   database open, applying ${total} migrations` : `  migrate   ${done}/${total} ${name}`);
    },
  });
  log(`aslo: instance "${config.instance}"`);
  for (const [k, v] of Object.entries(describeConfig(config))) log(`  ${k.padEnd(9)} ${v}`);
  // Temporary files of uploads a crash interrupted; the worker sweeps again every few minutes.
  await sweepAtStart(ctx.files, log);
  if (config.sample.loadOnStart) {
    const loaded = await loadSampleContentIfEmpty(ctx, (step) => log(`  sample    ${step}`));
    if (loaded > 0) log(`  sample    loaded ${loaded} sample activities into the empty catalog`);
  }
  // PGlite runs no autovacuum: planner statistics of the tables that need them (all of them
  // after migrations; else those never analyzed or grown or shrunk since, src/platform/db/statistics.ts).
  if (ctx.database.kind === 'pglite') {
    const tables = migrated ? null : await tablesNeedingStatistics(ctx.db);
    if (tables === null || tables.length > 0) {
      log('  analyze   gathering planner statistics');
      await analyzeTables(ctx.db, tables);
    }
  }
  const role = (opts.role ?? 'all') as 'all' | 'web' | 'download' | 'worker';
  if (!['all', 'web', 'download', 'worker'].includes(role)) {
    await ctx.close();
    throw new AsloError('SERVE_BAD_ROLE', `Unknown role "${role}": use all, web, download or worker.`);
  }
  log(`  starting  ${role === 'all' ? 'the web store, API, updater and downloads' : `the ${role} role`}`);
  // The app owns the context from here: its composition root closes it, last (src/composition.ts).
  // The updater's index loads after the process listens (loading it is most of a restart on a
  // large catalog): everything else answers at once, update checks wait for the index (then 503
  // with Retry-After), and /readyz says 503 until it is loaded (docs/updates.md, "Start").
  const app = await build(config, { context: ctx, ownsContext: true, logger: loggerOptions(config, role), role, indexInBackground: true });
  // The background jobs (repo tree publishing, mirror checks) run in the single embedded
  // process, and in processes started with --role worker.
  const worker =
    config.jobs.enabled && (role === 'all' || role === 'worker')
      ? createDownloadWorker(ctx, { mailer: app.mailer, log: { warn: (m) => app.log.warn(m) } })
      : null;
  if (worker) {
    // Average daily users from the updater's pings: a recurring job, so it runs in one worker
    // at a time however many processes there are (it was a timer in every web process).
    worker.runner.every(ROLLUP_QUEUE, ROLLUP_EVERY_SECONDS, async () => rollupAverageDailyUsers(ctx.db));
    scheduleTemporarySweep(worker.runner, ctx.files, app.log);
  }
  let control: { drain(): Promise<void> } | null = null;
  let stopWatchdog: (() => void) | null = null;
  // Added after the app's own onClose (which closes the services and the context), so it runs
  // before it: commands and jobs end while the database is still there.
  app.addHook('onClose', async () => {
    await control?.drain();
    stopWatchdog?.();
    await worker?.runner.stop(5000);
  });
  let address: string;
  try {
    address = await app.listen({ port: config.server.port, host: config.server.host });
  } catch (err) {
    // A port in use: give the database (and the folder's lock) back before reporting it.
    await app.close().catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new AsloError(
        'SERVE_PORT_UNAVAILABLE',
        `Cannot listen on ${config.server.host}:${config.server.port} (${code}): ${code === 'EADDRINUSE' ? 'another program uses that port' : 'this user may not use that port'}. Choose another with --port or ASLO_PORT.`,
        { cause: err },
      );
    }
    throw err;
  }
  const port = new URL(address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]')).port;
  const url = `http://localhost:${port}`;
  // Links the store and its CLI print (mails, "aslo user create", "aslo keys show") use the real
  // port when the address is not configured (a --port, or port 0 picking a free one).
  const derived = `http://localhost:${config.server.port}`;
  if (config.server.baseUrl === derived) {
    if (config.downloads.baseUrl === derived) config.downloads.baseUrl = url;
    config.server.baseUrl = url;
  }
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing = false;
  let fatal: Error | null = null;
  const close = async () => {
    if (closing) return closed;
    closing = true;
    const limit = setTimeout(() => {
      app.log.error('closing took too long: leaving without waiting further');
      resolveClosed();
    }, CLOSE_LIMIT_MS);
    limit.unref();
    try {
      await app.close();
    } finally {
      clearTimeout(limit);
      resolveClosed();
    }
  };
  // A dead database (src/platform/db/fatal.ts): /healthz and /readyz fail at once, queries fail
  // with DB_FATAL instead of hanging; after a moment for the balancer to notice, the process
  // drains and ends non-zero (src/cli/commands/serve.ts) so its supervisor starts a fresh one.
  ctx.database.health.onFatal((err) => {
    fatal = err;
    app.log.fatal({ err }, `fatal database error: ${err.message}; draining, then exiting`);
    setTimeout(() => void close(), FATAL_GRACE_MS);
  });
  control = acceptCommands(ctx);
  // A PANIC inside a commit leaves PGlite spinning on the main thread (src/platform/db/stall.ts).
  if (ctx.database.kind === 'pglite') {
    stopWatchdog = startStallWatchdog({ what: `embedded database ${ctx.database.location}`, limitMs: opts.stallLimitMs });
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`aslo: ${sig} received, closing`);
      void close();
    });
  }
  log(`  listening ${url}  (API docs: ${url}/api/docs)`);
  // What no request needs to be answered starts now, after listening: the updater's index (its
  // answers and /readyz wait for it) and the background jobs.
  if (role === 'all' || role === 'web') {
    const started = Date.now();
    app.services.updates.beginLoading();
    void app.services.updates.loaded().then((ok) => {
      if (ok) log(`  ready     update index loaded ${((Date.now() - started) / 1000).toFixed(2)} s after listening`);
    });
  }
  if (worker) {
    try {
      await worker.runner.start();
    } catch (err) {
      await close();
      throw err;
    }
    log(`  jobs      worker ${worker.runner.workerId} (${worker.runner.queues.join(', ')})`);
  }
  return {
    app,
    url,
    closed,
    close,
    get fatal() {
      return fatal;
    },
  };
}

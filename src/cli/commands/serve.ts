import cluster from 'node:cluster';
import { Command } from 'commander';
import { configFrom, runsAlone, say, withCommon, UsageError } from '../common.js';
import { startServer } from '../../server.js';
import { AsloError } from '../../platform/errors.js';
import { createLogger } from '../../platform/logging/index.js';
import { joinCluster, runPrimary } from '../../platform/cluster/index.js';
import { createContext } from '../../platform/context.js';
import { loadSampleContentIfEmpty } from '../../build/samples.js';

const ROLES = ['all', 'web', 'download', 'worker'];

export function registerServe(program: Command): void {
  runsAlone(withCommon(program.command('serve')))
    .description('run the store (web, API, updater and downloads in one process by default)')
    .option('--port <port>', 'port to listen on (env ASLO_PORT, default 8080)', (v) => Number.parseInt(v, 10))
    .option('--host <host>', 'address to listen on (default 0.0.0.0)')
    .option('--role <role>', 'which part to run: all (default), web, download, worker', 'all')
    .option('--workers <n>', 'processes of this role sharing the port (node cluster; needs PostgreSQL when more than 1)', (v) => Number.parseInt(v, 10), 1)
    .action(async (opts: { port?: number; host?: string; role: string; workers: number }, cmd: Command) => {
      if (!ROLES.includes(opts.role)) throw new UsageError(`unknown role "${opts.role}": use ${ROLES.join(', ')}`);
      if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 256) throw new UsageError('--workers must be a whole number from 1 to 256');
      // Every log line of this process names its role (src/platform/logging).
      process.env.ASLO_ROLE ??= opts.role;
      const config = await configFrom(cmd, { port: opts.port, writeDefaults: true });
      if (opts.host) config.server.host = opts.host;
      if (opts.workers > 1 && cluster.isPrimary) {
        if (!config.database.url) {
          throw new AsloError(
            'SERVE_WORKERS_NEED_POSTGRES',
            'Several worker processes need a PostgreSQL database (database.url): the embedded database belongs to one process. Use --workers 1, or set ASLO_DATABASE_URL.',
          );
        }
        // Migrations and sample content once, before the workers start.
        const ctx = await createContext(config);
        try {
          if (config.sample.loadOnStart && opts.role !== 'download') await loadSampleContentIfEmpty(ctx);
        } finally {
          await ctx.close();
        }
        const log = createLogger(config, `${opts.role}-primary`);
        const running = runPrimary({ workers: opts.workers, role: opts.role, log });
        say(`aslo: ${opts.workers} ${opts.role} workers for instance "${config.instance}" (primary ${process.pid})`);
        await running.done;
        return;
      }
      const server = await startServer(config, { role: opts.role });
      if (cluster.isWorker) joinCluster(server.app.ctx.metrics);
      say(`aslo is serving instance "${config.instance}" at ${server.url}`);
      await server.closed;
      // A cluster worker keeps its IPC channel open: leave once the server is closed.
      if (cluster.isWorker) process.exit(server.fatal ? 1 : 0);
      // Whatever a dead database left pending must not keep the process from ending.
      if (server.fatal) setTimeout(() => process.exit(1), 2000).unref();
      if (server.fatal)
        throw new AsloError('DB_FATAL', `The store stopped after a fatal database error: ${server.fatal.message}. Its supervisor should start it again.`);
    });
}

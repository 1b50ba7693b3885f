import { Command } from 'commander';
import { configFrom, say, withCommon } from '../common.js';
import { startServer } from '../../server.js';

export function registerServe(program: Command): void {
  withCommon(program.command('serve'))
    .description('run the store (web, API, updater and downloads in one process by default)')
    .option('--port <port>', 'port to listen on (env ASLO_PORT, default 8080)', (v) => Number.parseInt(v, 10))
    .option('--host <host>', 'address to listen on (default 0.0.0.0)')
    .option('--role <role>', 'which part to run: all (default), web, download, worker', 'all')
    .action(async (opts: { port?: number; host?: string; role: string }, cmd: Command) => {
      const config = configFrom(cmd, { port: opts.port, writeDefaults: true });
      if (opts.host) config.server.host = opts.host;
      const server = await startServer(config, { role: opts.role });
      say(`aslo is serving instance "${config.instance}" at ${server.url}`);
      await server.closed;
    });
}

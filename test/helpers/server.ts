// A real server started in the test process (src/server.ts's startServer, as `aslo serve` runs
// it) on a fresh test instance and a free port, so a test can reach the running app's context
// and services directly (create users, set roles) while a browser or fetch talks HTTP to it.
import type { AppContext } from '../../src/platform/context.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createTestEnv, type TestEnv } from './env.js';

export interface InProcessServer {
  server: RunningServer;
  env: TestEnv;
  url: string;
  ctx: AppContext;
  stop(): Promise<void>;
}

export async function startInProcessServer(opts: { sample?: boolean; jobs?: boolean; database?: 'pglite' | 'postgres' } = {}): Promise<InProcessServer> {
  const env = await createTestEnv({ database: opts.database });
  const config = env.config;
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  config.server.logLevel = 'warn';
  config.database.migrateOnStart = true;
  config.sample.loadOnStart = opts.sample ?? true;
  config.jobs.enabled = opts.jobs ?? false;
  let server: RunningServer;
  try {
    server = await startServer(config, { quiet: true });
  } catch (err) {
    await env.cleanup();
    throw err;
  }
  return {
    server,
    env,
    url: server.url.replace('localhost', '127.0.0.1'),
    ctx: server.app.ctx,
    async stop() {
      await server.close();
      await env.cleanup();
    },
  };
}

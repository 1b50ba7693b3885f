// The services of one running instance, built once from its config and shared by the web app,
// the CLI and the workers. Everything that does I/O is reached through here.
import { join } from 'node:path';
import { openDatabase, type DatabaseHandle, type Db } from './db/index.js';
import { migrateToLatest } from './db/migrate.js';
import { FileStore } from './storage/file-store.js';
import { Metrics } from './metrics/index.js';
import { ensureInstanceFolders, loadSecrets, type AsloConfig, type Secrets } from './config.js';

export interface AppContext {
  config: AsloConfig;
  db: Db;
  database: DatabaseHandle;
  files: FileStore;
  secrets: Secrets;
  /** Prometheus metrics of this process (src/platform/metrics). */
  metrics: Metrics;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Apply pending migrations now (the embedded database always does). */
  migrate?: boolean;
  /**
   * Generate missing secrets into the instance's secrets.yaml (default true). A deployment with
   * several machines sets them in the environment instead, so every process shares them.
   */
  generateSecrets?: boolean;
}

export async function createContext(config: AsloConfig, opts: ContextOptions = {}): Promise<AppContext> {
  ensureInstanceFolders(config);
  const secrets = await loadSecrets(config, { generate: opts.generateSecrets ?? true });
  const database = await openDatabase({
    url: config.database.url,
    embeddedDir: config.database.embeddedDir,
    poolSize: config.database.poolSize,
  });
  try {
    if (opts.migrate ?? (database.kind === 'pglite' || config.database.migrateOnStart)) {
      await migrateToLatest(database.db);
    }
  } catch (err) {
    await database.close();
    throw err;
  }
  const files = new FileStore(config.storage.filesDir);
  const metrics = new Metrics({ labels: { instance: config.instance } });
  metrics.onCollect(() => {
    for (const p of database.pools()) {
      metrics.dbPool.set({ pool: p.name, state: 'total' }, p.total);
      metrics.dbPool.set({ pool: p.name, state: 'idle' }, p.idle);
      metrics.dbPool.set({ pool: p.name, state: 'waiting' }, p.waiting);
    }
  });
  let closed = false;
  return {
    config,
    db: database.db,
    database,
    files,
    secrets,
    metrics,
    async close() {
      if (closed) return;
      closed = true;
      await database.close();
    },
  };
}

export function tmpDirOf(config: AsloConfig): string {
  return join(config.instanceDir, 'tmp');
}

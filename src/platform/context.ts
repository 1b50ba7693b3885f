// The services of one running instance, built once from its config and shared by the web app,
// the CLI and the workers. Everything that does I/O is reached through here.
import { openDatabase, type DatabaseHandle, type Db } from './db/index.js';
import { migrateToLatest, type MigrationProgress } from './db/migrate.js';
import { FileStore } from './storage/file-store.js';
import pino from 'pino';
import { Metrics } from './metrics/index.js';
import { loggerOptions } from './logging/index.js';
import { Cache } from './cache/index.js';
import type { WriteHooks } from './db/replicas.js';
import { ensureInstanceFolders, loadSecrets, type AsloConfig, type Secrets } from './config.js';

export interface AppContext {
  config: AsloConfig;
  db: Db;
  database: DatabaseHandle;
  files: FileStore;
  secrets: Secrets;
  /** Prometheus metrics of this process (src/platform/metrics). */
  metrics: Metrics;
  /** The cache in front of the database (src/platform/cache): LRU, Redis, invalidated on writes. */
  cache: Cache;
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
  /** What this process runs, told to others that find the embedded database in use ("aslo serve"). */
  holder?: string;
  /** A store: it runs CLI commands for others over its control socket once started (src/cli/control.ts). */
  acceptCommands?: boolean;
  /** Told as each pending migration is applied (the store's first start prints it). */
  onMigration?: MigrationProgress;
}

/** Tables whose writes never change what cached pages show (or only counters, see replicas.ts). */
const NON_CONTENT_TABLES = new Set([
  'jobs',
  'sessions',
  'api_tokens',
  'email_tokens',
  'audit_log',
  'abuse_reports',
  'update_pings',
  'download_counts',
  'catalog_changes',
  'mirrors',
  'mirror_files',
  'aslo_migrations',
  'aslo_migrations_lock',
  'source_builds',
  'hook_deliveries',
]);

export async function createContext(config: AsloConfig, opts: ContextOptions = {}): Promise<AppContext> {
  ensureInstanceFolders(config);
  const secrets = await loadSecrets(config, { generate: opts.generateSecrets ?? true });
  const metrics = new Metrics({ labels: { instance: config.instance } });
  // Cache and database state changes (Redis gone and back, a replica skipped, read-only mode):
  // JSON lines on stderr, so command output on stdout stays clean.
  const { stream: _readable, ...opsOptions } = loggerOptions(config, process.env.ASLO_ROLE ?? 'process');
  const opsLogger = pino(opsOptions, pino.destination(2));
  const opsLog = { warn: (m: string) => opsLogger.warn(m), info: (m: string) => opsLogger.info(m) };
  const cache = new Cache({
    redisUrl: config.cache.redisUrl,
    pgUrl: config.database.url,
    prefix: config.cache.prefix,
    lruEntries: config.cache.lruEntries,
    ttlSeconds: config.cache.ttlSeconds,
    primaryWindowMs: config.database.readYourWritesSeconds * 1000,
    metrics,
    log: opsLog,
  });
  // Every committed write to content tables invalidates the cached catalog, in every process,
  // before the write returns (src/platform/db/replicas.ts sees the statements).
  const hooks: WriteHooks = {
    async afterWrite(tables) {
      for (const t of tables) {
        if (!NON_CONTENT_TABLES.has(t)) return cache.invalidate('catalog');
      }
    },
  };
  const database = await openDatabase({
    url: config.database.url,
    embeddedDir: config.database.embeddedDir,
    poolSize: config.database.poolSize,
    hooks,
    replicas: config.database.replicas,
    maxReplicaLagSeconds: config.database.maxReplicaLagSeconds,
    log: opsLog,
    holder: opts.holder,
    acceptCommands: opts.acceptCommands,
  }).catch(async (err: unknown) => {
    await cache.close().catch(() => {});
    throw err;
  });
  try {
    const readOnly = database.replicas ? !database.replicas.primary.up : false;
    if (readOnly) process.stderr.write('aslo: the primary database is unreachable: starting read-only, migrations not checked\n');
    else if (opts.migrate ?? (database.kind === 'pglite' || config.database.migrateOnStart)) {
      await migrateToLatest(database.db, opts.onMigration);
    }
  } catch (err) {
    await database.close();
    throw err;
  }
  const files = new FileStore(config.storage.filesDir);
  metrics.onCollect(() => {
    const set = database.replicas;
    metrics.readOnly.set(set && !set.primary.up ? 1 : 0);
    for (const r of set?.replicas ?? []) {
      metrics.replicaUp.set({ replica: r.name }, r.up ? 1 : 0);
      if (r.lag !== null) metrics.replicaLag.set({ replica: r.name }, r.lag);
    }
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
    cache,
    async close() {
      if (closed) return;
      closed = true;
      await cache.close();
      await database.close();
    },
  };
}

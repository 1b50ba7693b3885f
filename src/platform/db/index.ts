// One place that opens the database: PGlite (embedded default) or PostgreSQL (scaled), the
// same Kysely<Database> either way, with the same type parsing so results look identical.
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import type { Database } from './schema.js';
import { PgliteDialect } from './pglite-dialect.js';
import { guardPool, ReplicaSet, ReplicatedDialect, WatchedDialect, type WriteHooks } from './replicas.js';
import { AsloError } from '../errors.js';
import { DataDirLock } from './lock.js';
import { DbHealth, GuardedDialect, pgliteClassifier, postgresClassifier } from './fatal.js';

export type Db = Kysely<Database>;

export interface DatabaseHandle {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** Where it lives, for humans (password removed). */
  location: string;
  /** What /readyz reports; rejects when no database answers. */
  readiness(): Promise<Record<string, unknown>>;
  /** The database that reads may use right now (a replica when configured and healthy). */
  readDb(): Db;
  /** The primary and its read replicas, when replicas are configured. */
  replicas?: ReplicaSet;
  /** Connection pools by name, for the metrics (PostgreSQL only). */
  pools(): { name: string; total: number; idle: number; waiting: number }[];
  /** Whether the database is still alive (src/platform/db/fatal.ts). */
  health: DbHealth;
  /** The lock on the embedded data folder, which is also the store's control socket. */
  lock?: DataDirLock;
  close(): Promise<void>;
}

/** PostgreSQL unreachable this long in a row is fatal (the process exits; its supervisor restarts it). */
export const GIVE_UP_AFTER_MS = 60_000;

// int8 (ids, counts) and numeric (ratings) as numbers: ids stay far below 2^53; dates stay text.
const INT8 = 20;
const NUMERIC = 1700;
const DATE = 1082;
pg.types.setTypeParser(INT8, (v) => Number(v));
pg.types.setTypeParser(NUMERIC, (v) => Number(v));
pg.types.setTypeParser(DATE, (v) => v);

export interface OpenOptions {
  /** PostgreSQL URL; empty: PGlite. */
  url?: string;
  /** PGlite folder, or ':memory:'. */
  embeddedDir?: string;
  poolSize?: number;
  /** Told about every committed write (the cache invalidates on it). */
  hooks?: WriteHooks;
  /** Read replicas of `url` (src/platform/db/replicas.ts). */
  replicas?: string[];
  maxReplicaLagSeconds?: number;
  log?: { warn(msg: string): void; info(msg: string): void };
  /** What this process runs, told to others that find the embedded folder locked ("aslo serve"). */
  holder?: string;
  /** This process is a store that will run CLI commands for others once it has started. */
  acceptCommands?: boolean;
  /** PostgreSQL without replicas: how long unreachable before the database counts as dead. */
  giveUpAfterMs?: number;
}

// A migrated embedded database that new ':memory:' databases start from (a PGlite dumpDataDir
// tarball), so a test run migrates once instead of once per database. Unset: they start empty.
let memoryTemplate: Blob | null = null;
export function useMemoryTemplate(tarball: Blob | null): void {
  memoryTemplate = tarball;
}

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  if (opts.url && opts.replicas && opts.replicas.length > 0) return openReplicated(opts);
  if (opts.url) {
    // A client losing its server (idle or checked out) must not crash the process: its query
    // fails (and says so), and the next one reconnects (guardPool listens on every client).
    const pool = guardPool(new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 }));
    const health = new DbHealth();
    const db = new Kysely<Database>({
      dialect: new WatchedDialect(new GuardedDialect(new PostgresDialect({ pool }), health, postgresClassifier(health)), opts.hooks ?? {}),
    });
    try {
      await sql`select 1`.execute(db);
    } catch (err) {
      await db.destroy().catch(() => {});
      throw new AsloError(
        'DB_UNREACHABLE',
        `Cannot connect to PostgreSQL at ${safeUrl(opts.url)}: ${(err as Error).message}. Check that the server runs and database.url is right.`,
        { statusCode: 503, cause: err },
      );
    }
    // A server that stays away is fatal: checked now and then while it is away, with a query of
    // its own, so a process that gets no traffic notices too.
    const giveUp = opts.giveUpAfterMs ?? GIVE_UP_AFTER_MS;
    const watchdog = setInterval(
      () => {
        if (health.downSince === null || health.fatal) return;
        void sql`select 1`.execute(db).catch(() => {
          if (health.downSince !== null && Date.now() - health.downSince >= giveUp) {
            health.declare(new Error(`PostgreSQL at ${safeUrl(opts.url!)} has been unreachable for ${Math.round((Date.now() - health.downSince) / 1000)} s`));
          }
        });
      },
      Math.min(5000, Math.max(250, giveUp / 4)),
    );
    watchdog.unref();
    return {
      db,
      kind: 'postgres',
      location: safeUrl(opts.url),
      async readiness() {
        health.assertAlive();
        await sql`select 1`.execute(db);
        return { primary: 'up', mode: 'read-write' };
      },
      readDb: () => db,
      pools: () => [{ name: 'primary', total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }],
      health,
      close: async () => {
        clearInterval(watchdog);
        await db.destroy();
      },
    };
  }
  const dir = opts.embeddedDir ?? ':memory:';
  // One process per folder: taken before PGlite reads a byte of it (src/platform/db/lock.ts).
  let lock: DataDirLock | undefined;
  if (dir !== ':memory:') {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    lock = await DataDirLock.acquire(dir, { holder: opts.holder ?? 'aslo', willAccept: opts.acceptCommands });
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir === ':memory:' ? undefined : dir, {
      extensions: { pg_trgm, unaccent },
      ...(dir === ':memory:' && memoryTemplate ? { loadDataDir: memoryTemplate } : {}),
      parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v), [DATE]: (v: string) => v },
    });
  } catch (err) {
    await lock?.release();
    throw new AsloError('DB_EMBEDDED_OPEN_FAILED', `Cannot open the embedded database in ${dir}: ${(err as Error).message}.`, { statusCode: 503, cause: err });
  }
  const health = new DbHealth();
  const db = new Kysely<Database>({
    dialect: new WatchedDialect(new GuardedDialect(new PgliteDialect(pglite), health, pgliteClassifier(health)), opts.hooks ?? {}),
  });
  return {
    db,
    kind: 'pglite',
    location: dir,
    async readiness() {
      health.assertAlive();
      await sql`select 1`.execute(db);
      return { primary: 'up', mode: 'read-write', embedded: true };
    },
    readDb: () => db,
    pools: () => [],
    health,
    lock,
    close: async () => {
      try {
        // A database that PANICked cannot close (PGlite would wait forever): the process ends anyway.
        if (!health.fatal) await db.destroy();
      } finally {
        await lock?.release();
      }
    },
  };
}

/** PostgreSQL with read replicas: every statement routed (src/platform/db/replicas.ts). */
async function openReplicated(opts: OpenOptions): Promise<DatabaseHandle> {
  const set = new ReplicaSet({
    primaryUrl: opts.url!,
    replicaUrls: opts.replicas!,
    poolSize: opts.poolSize ?? 10,
    maxLagSeconds: opts.maxReplicaLagSeconds ?? 10,
    log: opts.log,
  });
  await set.start();
  if (!set.primary.up && !set.replicas.some((r) => r.up)) {
    await set.close();
    throw new AsloError(
      'DB_UNREACHABLE',
      `Cannot connect to PostgreSQL at ${safeUrl(opts.url!)} nor to any replica: ${set.primary.error}. Check that the servers run and database.url/database.replicas are right.`,
      { statusCode: 503 },
    );
  }
  // With replicas a primary that is away means read-only mode (replicas.ts), not a dead database.
  const health = new DbHealth();
  const db = new Kysely<Database>({ dialect: new WatchedDialect(new ReplicatedDialect(set), opts.hooks ?? {}) });
  return {
    db,
    kind: 'postgres',
    location: `${safeUrl(opts.url!)} + ${set.replicas.length} replica(s)`,
    replicas: set,
    async readiness() {
      await set.check();
      if (!set.primary.up && !set.replicas.some((r) => r.up || r.lag !== null)) throw new Error(`no database server reachable (primary: ${set.primary.error})`);
      return set.status();
    },
    readDb: () => db,
    pools: () => [set.primary, ...set.replicas].map((t) => ({ name: t.name, total: t.pool.totalCount, idle: t.pool.idleCount, waiting: t.pool.waitingCount })),
    health,
    close: () => db.destroy(),
  };
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

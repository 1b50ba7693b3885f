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
  close(): Promise<void>;
}

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
}

export async function openDatabase(opts: OpenOptions): Promise<DatabaseHandle> {
  if (opts.url && opts.replicas && opts.replicas.length > 0) return openReplicated(opts);
  if (opts.url) {
    // A client losing its server (idle or checked out) must not crash the process; the next query reconnects.
    const pool = guardPool(new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 }));
    const db = new Kysely<Database>({ dialect: new WatchedDialect(new PostgresDialect({ pool }), opts.hooks ?? {}) });
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
    return {
      db,
      kind: 'postgres',
      location: safeUrl(opts.url),
      async readiness() {
        await sql`select 1`.execute(db);
        return { primary: 'up', mode: 'read-write' };
      },
      readDb: () => db,
      pools: () => [{ name: 'primary', total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }],
      close: () => db.destroy(),
    };
  }
  const dir = opts.embeddedDir ?? ':memory:';
  if (dir !== ':memory:') mkdirSync(dir, { recursive: true });
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(dir === ':memory:' ? undefined : dir, {
      extensions: { pg_trgm, unaccent },
      parsers: { [INT8]: (v: string) => Number(v), [NUMERIC]: (v: string) => Number(v), [DATE]: (v: string) => v },
    });
  } catch (err) {
    throw new AsloError(
      'DB_EMBEDDED_OPEN_FAILED',
      `Cannot open the embedded database in ${dir}: ${(err as Error).message}. Is another aslo process using this data folder?`,
      { statusCode: 503, cause: err },
    );
  }
  const db = new Kysely<Database>({ dialect: new WatchedDialect(new PgliteDialect(pglite), opts.hooks ?? {}) });
  return {
    db,
    kind: 'pglite',
    location: dir,
    async readiness() {
      await sql`select 1`.execute(db);
      return { primary: 'up', mode: 'read-write', embedded: true };
    },
    readDb: () => db,
    pools: () => [],
    close: () => db.destroy(),
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
    throw new AsloError('DB_UNREACHABLE', `Cannot connect to PostgreSQL at ${safeUrl(opts.url!)} nor to any replica: ${set.primary.error}. Check that the servers run and database.url/database.replicas are right.`, { statusCode: 503 });
  }
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

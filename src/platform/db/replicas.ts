// What the database layer adds for scale: it sees every statement, so it knows which tables each
// committed write touched (the cache invalidates on that: src/platform/cache) and, with read
// replicas configured, where each statement may run (the routing below).
import type {
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
  CompiledQuery,
  Kysely,
  DialectAdapter,
  DatabaseIntrospector,
} from 'kysely';

// ---- which tables a statement writes ----

const WRITE_RE = /\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?|merge\s+into)\s+(?:only\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi;
const NOT_TABLES = new Set(['set', 'skip', 'of', 'nowait', 'on', 'where', 'from']);
/** Columns whose updates are counters shown approximately (cached pages may lag by the cache TTL). */
const COUNTER_COLUMNS = new Set(['download_count', 'average_daily_users']);

/** Tables a statement writes to ('*' for DDL and anything unrecognised that is not a plain read). */
export function writtenTables(sqlText: string): string[] {
  const text = sqlText.trimStart();
  if (
    /^(select|show|explain|values|set|reset|begin|commit|rollback|savepoint|release|listen|unlisten)\b/i.test(text) &&
    !/\b(insert|update|delete)\b/i.test(text)
  ) {
    // Plain reads, and selects that write only through functions (pg_notify, nextval): none.
    return [];
  }
  const out: string[] = [];
  for (const m of text.matchAll(WRITE_RE)) {
    const table = m[1]!.toLowerCase();
    if (NOT_TABLES.has(table)) continue;
    if (m[0].toLowerCase().startsWith('update') && table === 'activities' && countersOnly(text, m.index! + m[0].length)) continue;
    out.push(table);
  }
  if (out.length === 0 && /^(create|alter|drop|comment|grant|revoke)\b/i.test(text)) out.push('*');
  return out;
}

function countersOnly(text: string, from: number): boolean {
  const rest = text.slice(from);
  const set = /^\s+(?:as\s+)?(?:"?[a-z_]+"?\s+)?set\s+([\s\S]*?)(?:\s+from\s+|\s+where\s+|\s+returning\s+|$)/i.exec(rest);
  if (!set) return false;
  const cols = [...set[1]!.matchAll(/"?([a-z_][a-z0-9_]*)"?\s*=(?!=)/gi)].map((m) => m[1]!.toLowerCase());
  return cols.length > 0 && cols.every((c) => COUNTER_COLUMNS.has(c));
}

/** True when a statement only reads (it may run on a replica). */
export function isReadOnly(sqlText: string): boolean {
  const text = sqlText.trimStart();
  if (!/^(select|with|values|show|\()/i.test(text)) return false;
  return !/\b(insert\s+into|update\s|delete\s+from|for\s+(no\s+key\s+)?update|for\s+(key\s+)?share|pg_notify|nextval|setval|pg_advisory|lock\s+table|into\s+temp)/i.test(
    text,
  );
}

// ---- observing committed writes ----

export interface WriteHooks {
  /** Called after a statement outside a transaction, or a COMMIT, that wrote to `tables`. Awaited. */
  afterWrite?(tables: Set<string>): Promise<void>;
}

class WatchedConnection implements DatabaseConnection {
  tables: Set<string> | null = null;
  inTransaction = false;
  constructor(
    readonly inner: DatabaseConnection,
    private readonly hooks: WriteHooks,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const res = await this.inner.executeQuery<R>(compiled);
    if (this.hooks.afterWrite && compiled.query.kind !== 'SelectQueryNode') {
      const written = writtenTables(compiled.sql);
      if (written.length > 0) {
        if (this.inTransaction) {
          this.tables ??= new Set();
          for (const t of written) this.tables.add(t);
        } else {
          await this.hooks.afterWrite(new Set(written));
        }
      }
    }
    return res;
  }

  streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiled, chunkSize);
  }
}

class WatchedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly hooks: WriteHooks,
  ) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new WatchedConnection(await this.inner.acquireConnection(), this.hooks);
  }
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const w = c as WatchedConnection;
    await this.inner.beginTransaction(w.inner, settings);
    w.inTransaction = true;
    w.tables = null;
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    await this.inner.commitTransaction(w.inner);
    w.inTransaction = false;
    const tables = w.tables;
    w.tables = null;
    if (tables && this.hooks.afterWrite) await this.hooks.afterWrite(tables);
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const w = c as WatchedConnection;
    w.inTransaction = false;
    w.tables = null;
    await this.inner.rollbackTransaction(w.inner);
  }
  async savepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.savepoint?.((c as WatchedConnection).inner, name, compile);
  }
  async rollbackToSavepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.rollbackToSavepoint?.((c as WatchedConnection).inner, name, compile);
  }
  async releaseSavepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.releaseSavepoint?.((c as WatchedConnection).inner, name, compile);
  }
  releaseConnection(c: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((c as WatchedConnection).inner);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/** A dialect that reports the tables of every committed write to `hooks`. */
export class WatchedDialect implements Dialect {
  constructor(
    private readonly inner: Dialect,
    private readonly hooks: WriteHooks,
  ) {}
  createDriver(): Driver {
    return new WatchedDriver(this.inner.createDriver(), this.hooks);
  }
  createQueryCompiler(): QueryCompiler {
    return this.inner.createQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return this.inner.createAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return this.inner.createIntrospector(db);
  }
}

// ---- read replicas: where each statement runs ----
//
// Choice of read-your-writes: a time window, not WAL positions. A request that writes (any
// statement that is not a plain read, or a transaction) reads from the primary for the rest of
// the request, and its answer carries a short cookie (`aslo_primary`, database.readYourWritesSeconds)
// that sends the same client's reads to the primary until it expires. Comparing WAL positions
// would need the primary's position after every write carried to the client and a position query
// on the replica before every read; the window needs neither, costs only the writer's own reads
// for a few seconds, and replicas further behind than database.maxReplicaLagSeconds are skipped
// anyway (the window is longer than that limit). Cached values filled in the same window after an
// invalidation are read from the primary too, so a lagging replica never refills the cache with
// the page the write replaced.
//
// Outside a request (background work, the CLI) reads go to the primary, which keeps job handlers
// from acting on stale rows; they fall back to a replica while the primary is down.
//
// The primary down: writes (and transactions) fail at once with DB_READ_ONLY (HTTP 503 with
// Retry-After), reads go to the replicas (lagging ones included: a slightly old page beats none),
// and a health check every second notices when the primary is back.
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { PostgresAdapter, PostgresDriver, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { AsloError } from '../errors.js';

export interface ReadScope {
  /** Reads may go to a replica (a request of a client that has not written lately). */
  replicaOk: boolean;
  /** Set when this scope wrote: later reads of the request go to the primary. */
  wrote: boolean;
}

const scopes = new AsyncLocalStorage<ReadScope>();

/** Run `fn` as one request: its reads may use replicas until it writes. */
export function runWithReadScope<T>(scope: ReadScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** Run `fn` with every read on the primary (while it is up). */
export function onPrimary<T>(fn: () => Promise<T>): Promise<T> {
  const cur = scopes.getStore();
  if (cur && !cur.replicaOk) return fn();
  return scopes.run({ replicaOk: false, wrote: cur?.wrote ?? false }, fn);
}

export const READ_ONLY_RETRY_SECONDS = 30;

export function readOnlyError(cause?: unknown): AsloError {
  return new AsloError(
    'DB_READ_ONLY',
    'The store is read-only for a moment: its main database cannot be reached. Pages, downloads and updates keep working; please try this change again in a minute.',
    { statusCode: 503, details: { retryAfter: READ_ONLY_RETRY_SECONDS }, cause },
  );
}

/** For bookkeeping writes (last-used times) that may be skipped while the store is read-only. */
export function ignoreReadOnly(err: unknown): void {
  if ((err as { code?: string } | null)?.code === 'DB_READ_ONLY') return;
  throw err;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
]);

/** True when an error means "this server is not reachable" rather than "this statement failed". */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery)|Connection refused/i.test(
    e.message ?? '',
  );
}

export interface Target {
  name: string;
  url: string;
  pool: pg.Pool;
  driver: PostgresDriver;
  up: boolean;
  /** Replication delay in seconds (replicas), null when unknown. */
  lag: number | null;
  error: string | null;
  /** Statements run here (tests, debugging). */
  statements: number;
}

export interface ReplicaSetOptions {
  primaryUrl: string;
  replicaUrls: string[];
  poolSize: number;
  maxLagSeconds: number;
  healthIntervalMs?: number;
  log?: { warn(msg: string): void; info(msg: string): void };
}

/**
 * Keep the process alive when the server closes a pooled connection. node-postgres emits 'error' on
 * a client whose connection ends; the pool listens only while the client is idle, so a client
 * checked out at that moment (a transaction open, a ROLLBACK sent after its statement failed)
 * had no listener, and the event ended the process: a web process holding a connection when the
 * primary stopped died (the topology test saw one of its two web processes exit). The error
 * reaches the client's pending queries anyway, and the pool drops a client that lost its
 * connection when it is released, so these listeners have nothing else to do.
 */
export function guardPool(pool: pg.Pool): pg.Pool {
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

function makeTarget(name: string, url: string, poolSize: number): Target {
  const pool = guardPool(new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000, application_name: `aslo-${name}` }));
  return { name, url, pool, driver: new PostgresDriver({ pool }), up: true, lag: null, error: null, statements: 0 };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** The primary and its replicas, their health, and the choice of server for each statement. */
export class ReplicaSet {
  readonly primary: Target;
  readonly replicas: Target[];
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  private checking: Promise<void> | null = null;
  private readonly log: NonNullable<ReplicaSetOptions['log']>;
  private readonly maxLag: number;

  constructor(private readonly opts: ReplicaSetOptions) {
    this.primary = makeTarget('primary', opts.primaryUrl, opts.poolSize);
    this.replicas = opts.replicaUrls.map((u, i) => makeTarget(`replica${i + 1}`, u, opts.poolSize));
    this.log = opts.log ?? { warn: (m) => process.emitWarning(m), info: () => {} };
    this.maxLag = opts.maxLagSeconds;
  }

  get readOnly(): boolean {
    return !this.primary.up;
  }

  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => void this.check(), this.opts.healthIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** One health round (shared by concurrent callers). */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => (this.checking = null));
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    let primaryLsn: string | null = null;
    try {
      const r = await withTimeout(this.primary.pool.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn'), 2000);
      primaryLsn = r.rows[0]?.lsn ?? null;
      this.mark(this.primary, true, null);
    } catch (err) {
      this.mark(this.primary, false, (err as Error).message);
    }
    await Promise.all(
      this.replicas.map(async (t) => {
        try {
          const r = await withTimeout(
            t.pool.query<{ recovery: boolean; behind: boolean | null; caught_up: boolean | null; age: number | null }>(
              `select pg_is_in_recovery() as recovery,
                 case when $1::pg_lsn is null then null else pg_last_wal_replay_lsn() < $1::pg_lsn end as behind,
                 pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() as caught_up,
                 extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as age`,
              [primaryLsn],
            ),
            2000,
          );
          const row = r.rows[0]!;
          // Behind the primary: as old as its last replayed transaction. Level with it (or the
          // primary unknown and nothing left to replay): no delay.
          const lag = row.behind === false || (row.behind === null && row.caught_up) ? 0 : Math.max(0, row.age ?? 0);
          t.lag = lag;
          if (lag > this.maxLag) this.mark(t, false, `${lag.toFixed(1)} s behind the primary (limit ${this.maxLag} s)`);
          else this.mark(t, true, null);
        } catch (err) {
          t.lag = null;
          this.mark(t, false, (err as Error).message);
        }
      }),
    );
  }

  private mark(t: Target, up: boolean, error: string | null): void {
    const was = t.up;
    t.up = up;
    t.error = error;
    if (was && !up) {
      this.log.warn(
        t === this.primary
          ? `database: the primary is unreachable (${error}); the store is read-only until it returns`
          : `database: ${t.name} skipped for reads (${error})`,
      );
    } else if (!was && up) {
      this.log.info(t === this.primary ? 'database: the primary is back; writes accepted again' : `database: ${t.name} used for reads again`);
    }
  }

  /** A server seen failing: marked down now (the health check brings it back). */
  failed(t: Target, err: unknown): void {
    this.mark(t, false, (err as Error)?.message ?? String(err));
    // Look again now: one dropped connection must not keep a healthy server out for a second.
    void this.check();
  }

  /** Where a read runs, best first: healthy replicas in turn (or the primary first), then the rest. */
  readOrder(): Target[] {
    const scope = scopes.getStore();
    const healthy = this.replicas.filter((r) => r.up);
    const start = this.next++ % Math.max(1, healthy.length);
    const rotated = [...healthy.slice(start), ...healthy.slice(0, start)];
    // Last resorts: lagging or failing replicas (read-only mode: an older page beats none).
    const rest = this.replicas.filter((r) => !r.up);
    const primaryFirst = !scope || !scope.replicaOk || scope.wrote;
    const order = primaryFirst ? [this.primary, ...rotated, ...rest] : [...rotated, this.primary, ...rest];
    // A primary known to be down is tried last.
    return this.primary.up ? order : [...order.filter((t) => t !== this.primary), this.primary];
  }

  status(): Record<string, unknown> {
    return {
      primary: this.primary.up ? 'up' : 'down',
      mode: this.primary.up ? 'read-write' : 'read-only',
      replicas: this.replicas.map((r) => ({ name: r.name, up: r.up, lagSeconds: r.lag, ...(r.error ? { error: r.error } : {}) })),
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all([this.primary, ...this.replicas].map((t) => t.driver.destroy().catch(() => {})));
  }
}

class RoutingConnection implements DatabaseConnection {
  held: { target: Target; conn: DatabaseConnection } | null = null;
  constructor(private readonly set: ReplicaSet) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.held) {
      try {
        return await this.held.conn.executeQuery<R>(compiled);
      } catch (err) {
        // The primary went away in the middle of a transaction: nothing was committed.
        if (!isConnectionError(err)) throw err;
        this.set.failed(this.held.target, err);
        throw readOnlyError(err);
      }
    }
    if (isReadOnly(compiled.sql)) return this.read<R>(compiled);
    return this.write<R>(compiled);
  }

  private async read<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    let lastErr: unknown;
    for (const t of this.set.readOrder()) {
      try {
        return await runOn<R>(t, compiled);
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.set.failed(t, err);
        lastErr = err;
      }
    }
    throw new AsloError('DB_UNAVAILABLE', 'No database server can be reached right now. Please try again in a minute.', {
      statusCode: 503,
      details: { retryAfter: READ_ONLY_RETRY_SECONDS },
      cause: lastErr,
    });
  }

  private async write<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const scope = scopes.getStore();
    if (scope) scope.wrote = true;
    if (!this.set.primary.up) throw readOnlyError();
    try {
      return await runOn<R>(this.set.primary, compiled);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.set.failed(this.set.primary, err);
      throw readOnlyError(err);
    }
  }

  streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported with read replicas');
  }
}

async function runOn<R>(t: Target, compiled: CompiledQuery): Promise<QueryResult<R>> {
  t.statements++;
  const conn = await t.driver.acquireConnection();
  try {
    return await conn.executeQuery<R>(compiled);
  } finally {
    await t.driver.releaseConnection(conn as never);
  }
}

class RoutingDriver implements Driver {
  constructor(private readonly set: ReplicaSet) {}
  async init(): Promise<void> {
    await Promise.all([this.set.primary, ...this.set.replicas].map((t) => t.driver.init()));
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutingConnection(this.set);
  }
  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const rc = c as RoutingConnection;
    const scope = scopes.getStore();
    if (scope) scope.wrote = true;
    const p = this.set.primary;
    if (!p.up) throw readOnlyError();
    let conn: DatabaseConnection;
    try {
      conn = await p.driver.acquireConnection();
    } catch (err) {
      if (isConnectionError(err)) {
        this.set.failed(p, err);
        throw readOnlyError(err);
      }
      throw err;
    }
    rc.held = { target: p, conn };
    try {
      await p.driver.beginTransaction(conn, settings);
    } catch (err) {
      rc.held = null;
      await p.driver.releaseConnection(conn as never);
      if (isConnectionError(err)) {
        this.set.failed(p, err);
        throw readOnlyError(err);
      }
      throw err;
    }
  }
  async commitTransaction(c: DatabaseConnection): Promise<void> {
    const rc = c as RoutingConnection;
    try {
      await rc.held!.target.driver.commitTransaction(rc.held!.conn);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.set.failed(rc.held!.target, err);
      throw readOnlyError(err);
    }
  }
  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const rc = c as RoutingConnection;
    if (!rc.held) return;
    try {
      await rc.held.target.driver.rollbackTransaction(rc.held.conn);
    } catch (err) {
      // A rollback on a connection that is gone: the server rolled back already.
      if (!isConnectionError(err)) throw err;
    }
  }
  async savepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    const rc = c as RoutingConnection;
    await rc.held!.target.driver.savepoint(rc.held!.conn, name, compile);
  }
  async rollbackToSavepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    const rc = c as RoutingConnection;
    await rc.held!.target.driver.rollbackToSavepoint(rc.held!.conn, name, compile);
  }
  async releaseSavepoint(c: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    const rc = c as RoutingConnection;
    await rc.held!.target.driver.releaseSavepoint(rc.held!.conn, name, compile);
  }
  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const rc = c as RoutingConnection;
    const held = rc.held;
    rc.held = null;
    if (held) await held.target.driver.releaseConnection(held.conn as never);
  }
  async destroy(): Promise<void> {
    await this.set.close();
  }
}

/** PostgreSQL with read replicas: reads routed, writes to the primary, read-only when it is down. */
export class ReplicatedDialect implements Dialect {
  constructor(readonly set: ReplicaSet) {}
  createDriver(): Driver {
    return new RoutingDriver(this.set);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

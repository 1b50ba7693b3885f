// Fatal database errors. An embedded PostgreSQL that PANICs (or whose WebAssembly aborts) answers
// nothing after that: every later query hangs or fails. A PostgreSQL server that stays away
// leaves a process that can only fail. Either way the process must not stay up answering 500 to
// everything while /healthz says ok: it declares the database dead, /healthz and /readyz fail,
// every query fails at once with DB_FATAL (503) instead of hanging, and src/server.ts drains and
// exits non-zero so the supervisor starts a fresh process.
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { AsloError } from '../errors.js';

export class DbHealth {
  /** The error that killed the database, once one did. */
  fatal: Error | null = null;
  /** Since when the server has been unreachable (PostgreSQL), or null while it answers. */
  downSince: number | null = null;
  private listeners: ((err: Error) => void)[] = [];

  onFatal(fn: (err: Error) => void): void {
    if (this.fatal) fn(this.fatal);
    else this.listeners.push(fn);
  }

  declare(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    const ls = this.listeners;
    this.listeners = [];
    for (const fn of ls) fn(err);
  }

  /** Throws DB_FATAL once the database is dead. */
  assertAlive(): void {
    if (this.fatal) {
      throw new AsloError('DB_FATAL', `The database failed and this process is shutting down so that a new one starts: ${this.fatal.message}`, {
        statusCode: 503,
      });
    }
  }
}

/** PGlite: a PANIC or FATAL report, or the WebAssembly runtime aborting, ends the database. */
export function isPgliteFatal(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { severity?: string; message?: string; name?: string };
  if (e.severity === 'PANIC' || e.severity === 'FATAL') return true;
  if (err instanceof WebAssembly.RuntimeError) return true;
  return typeof e.message === 'string' && /^Aborted\(|RuntimeError: (unreachable|memory access out of bounds)/.test(e.message);
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** PostgreSQL: the server is gone (refused, reset, shut down), as opposed to a query's own error. */
export function isConnectionLoss(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: string; message?: string };
  if (e.code && CONNECTION_CODES.has(e.code)) return true;
  return typeof e.message === 'string' && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message);
}

class GuardedConnection implements DatabaseConnection {
  constructor(
    private readonly inner: DatabaseConnection,
    private readonly health: DbHealth,
    private readonly classify: Classifier,
  ) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    this.health.assertAlive();
    try {
      const r = await this.inner.executeQuery<R>(compiled);
      this.classify.ok?.();
      return r;
    } catch (err) {
      this.classify.failed(err);
      this.health.assertAlive();
      throw err;
    }
  }

  streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    this.health.assertAlive();
    return this.inner.streamQuery<R>(compiled, chunkSize);
  }
}

interface Classifier {
  failed(err: unknown): void;
  ok?(): void;
}

class GuardedDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly health: DbHealth,
    private readonly classify: Classifier,
  ) {}
  init() {
    return this.inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    this.health.assertAlive();
    try {
      const conn = await this.inner.acquireConnection();
      return new GuardedConnection(conn, this.health, this.classify);
    } catch (err) {
      this.classify.failed(err);
      this.health.assertAlive();
      throw err;
    }
  }
  private innerOf(conn: DatabaseConnection): DatabaseConnection {
    return conn instanceof GuardedConnection ? (conn as unknown as { inner: DatabaseConnection }).inner : conn;
  }
  beginTransaction(conn: DatabaseConnection, settings: TransactionSettings) {
    this.health.assertAlive();
    return this.inner.beginTransaction(conn, settings);
  }
  commitTransaction(conn: DatabaseConnection) {
    this.health.assertAlive();
    return this.inner.commitTransaction(conn);
  }
  async rollbackTransaction(conn: DatabaseConnection) {
    // A dead database cannot roll back; the transaction died with it.
    if (this.health.fatal) return;
    return this.inner.rollbackTransaction(conn);
  }
  async savepoint(conn: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.savepoint?.(conn, name, compile);
  }
  async rollbackToSavepoint(conn: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.rollbackToSavepoint?.(conn, name, compile);
  }
  async releaseSavepoint(conn: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.releaseSavepoint?.(conn, name, compile);
  }
  releaseConnection(conn: DatabaseConnection) {
    return this.inner.releaseConnection(this.innerOf(conn));
  }
  destroy() {
    return this.inner.destroy();
  }
}

/** Wraps a dialect so that its errors are classified and, after a fatal one, nothing runs. */
export class GuardedDialect implements Dialect {
  constructor(
    private readonly inner: Dialect,
    private readonly health: DbHealth,
    private readonly classify: Classifier,
  ) {}
  createAdapter() {
    return this.inner.createAdapter();
  }
  createDriver(): Driver {
    return new GuardedDriver(this.inner.createDriver(), this.health, this.classify);
  }
  createQueryCompiler() {
    return this.inner.createQueryCompiler();
  }
  createIntrospector(db: Kysely<any>) {
    return this.inner.createIntrospector(db);
  }
}

/** The classifier of the embedded database: PANIC, FATAL or an abort is the end. */
export function pgliteClassifier(health: DbHealth): Classifier {
  return {
    failed(err) {
      if (isPgliteFatal(err)) health.declare(new Error(`embedded database: ${(err as Error).message}`));
    },
  };
}

/** The classifier of PostgreSQL: remembers since when the server has been unreachable. */
export function postgresClassifier(health: DbHealth): Classifier {
  return {
    failed(err) {
      if (isConnectionLoss(err)) health.downSince ??= Date.now();
    },
    ok() {
      health.downSince = null;
    },
  };
}

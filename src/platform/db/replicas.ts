// What the database layer adds for scale: it sees every statement, so it knows which tables each
// committed write touched (the cache invalidates on that: src/platform/cache) and, with read
// replicas configured, where each statement may run (the routing below).
import type { DatabaseConnection, Dialect, Driver, QueryCompiler, QueryResult, TransactionSettings, CompiledQuery, Kysely, DialectAdapter, DatabaseIntrospector } from 'kysely';

// ---- which tables a statement writes ----

const WRITE_RE = /\b(?:insert\s+into|update|delete\s+from|truncate(?:\s+table)?|merge\s+into)\s+(?:only\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?/gi;
const NOT_TABLES = new Set(['set', 'skip', 'of', 'nowait', 'on', 'where', 'from']);
/** Columns whose updates are counters shown approximately (cached pages may lag by the cache TTL). */
const COUNTER_COLUMNS = new Set(['download_count', 'average_daily_users']);

/** Tables a statement writes to ('*' for DDL and anything unrecognised that is not a plain read). */
export function writtenTables(sqlText: string): string[] {
  const text = sqlText.trimStart();
  if (/^(select|show|explain|values|set|reset|begin|commit|rollback|savepoint|release|listen|unlisten)\b/i.test(text) && !/\b(insert|update|delete)\b/i.test(text)) {
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
  return !/\b(insert\s+into|update\s|delete\s+from|for\s+(no\s+key\s+)?update|for\s+(key\s+)?share|pg_notify|nextval|setval|pg_advisory|lock\s+table|into\s+temp)/i.test(text);
}

// ---- observing committed writes ----

export interface WriteHooks {
  /** Called after a statement outside a transaction, or a COMMIT, that wrote to `tables`. Awaited. */
  afterWrite?(tables: Set<string>): Promise<void>;
}

class WatchedConnection implements DatabaseConnection {
  tables: Set<string> | null = null;
  inTransaction = false;
  constructor(readonly inner: DatabaseConnection, private readonly hooks: WriteHooks) {}

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
  constructor(private readonly inner: Driver, private readonly hooks: WriteHooks) {}
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
  constructor(private readonly inner: Dialect, private readonly hooks: WriteHooks) {}
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

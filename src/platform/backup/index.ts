// Backups, restores and instance copies.
//
// A backup is a folder:
//   manifest.json        format, instance, time, every table (columns, row count, content hash),
//                        the migrations applied, every file of the file stores (size, sha256)
//   db/<table>.ndjson    one row per line, as PostgreSQL's row_to_json writes it
//   stores/<store>/...   the files of each store (files: the content-addressed uploads; repo:
//                        the public tree mirrors rsync from)
//
// The rows are read in one REPEATABLE READ, READ ONLY transaction: a consistent snapshot while
// the store keeps running. The format is logical (not pg_dump), so it goes both ways between the
// embedded database and PostgreSQL, and needs no server binaries of a matching version.
//
// A restore loads a backup into an instance: its database is migrated first (the backup's
// migrations must all be known to this version), every table emptied and refilled in one
// transaction (triggers and foreign keys set aside while loading), sequences moved past the
// highest ids, then the files are checked against the manifest and written atomically.
//
// `aslo instance clone` streams the same rows from one instance's database straight into
// another's and hard-links the files (copies across file systems), then, with --anonymize,
// replaces personal data (README of docs/operations.md lists what changes).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { sql, type Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Db } from '../db/index.js';
import type { Database } from '../db/schema.js';
import { MIGRATIONS } from '../db/migrate.js';
import { AsloError } from '../errors.js';

export const BACKUP_FORMAT = 'aslo-backup/1';
const MIGRATION_TABLES = new Set(['aslo_migrations', 'aslo_migrations_lock']);
const BATCH = 500;

export type Progress = (msg: string) => void;

export interface TableInfo {
  name: string;
  columns: string[];
  rows: number;
  /** md5 of the rows' JSON in primary-key order (compares two databases). */
  hash: string;
}

export interface FileEntry {
  store: string;
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: string;
  instance: string;
  createdAt: string;
  database: { kind: string; migrations: string[]; tables: TableInfo[] };
  files: FileEntry[];
}

type Tx = Transaction<Database>;

// ---- the database side ----

async function tableNames(db: Db | Tx): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  return r.rows.map((x) => x.name);
}

async function columnsOf(db: Db | Tx, table: string): Promise<{ name: string; generated: boolean; identity: boolean }[]> {
  const r = await sql<{ name: string; generated: string; identity: string }>`
    select column_name as name, is_generated as generated, is_identity as identity from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(db);
  return r.rows.map((c) => ({ name: c.name, generated: c.generated === 'ALWAYS', identity: c.identity === 'YES' }));
}

async function primaryKeyOf(db: Db | Tx, table: string): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select a.attname as name from pg_index i
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = ${table}::regclass and i.indisprimary order by array_position(i.indkey, a.attnum)`.execute(db);
  return r.rows.map((x) => x.name);
}

function ident(name: string): ReturnType<typeof sql.id> {
  return sql.id(name);
}

/** Row count and content hash of every table (both databases compare equal after a restore). */
export async function databaseFingerprint(db: Db | Tx, opts: { exclude?: Set<string> } = {}): Promise<Map<string, { rows: number; hash: string }>> {
  const out = new Map<string, { rows: number; hash: string }>();
  for (const t of await tableNames(db)) {
    if (opts.exclude?.has(t)) continue;
    const pk = await primaryKeyOf(db, t);
    const order = pk.length ? sql.join(pk.map((c) => sql`x.${ident(c)}`)) : sql`row_to_json(x)::text`;
    const r = await sql<{ n: number; h: string | null }>`
      select count(*)::int as n, md5(string_agg(row_to_json(x)::text, E'\\n' order by ${order})) as h from ${ident(t)} x`.execute(db);
    out.set(t, { rows: r.rows[0]!.n, hash: r.rows[0]!.h ?? '' });
  }
  return out;
}

/** Read every table in one consistent snapshot, `BATCH` rows at a time. */
async function readSnapshot(
  db: Db,
  onTable: (table: string, columns: string[]) => Promise<void>,
  onRows: (table: string, rows: string[]) => Promise<void>,
): Promise<{ tables: TableInfo[]; migrations: string[] }> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const tables: TableInfo[] = [];
      const migrations = (await sql<{ name: string }>`select name from aslo_migrations order by name`.execute(trx)).rows.map((r) => r.name);
      const prints = await databaseFingerprint(trx);
      for (const name of await tableNames(trx)) {
        const columns = (await columnsOf(trx, name)).map((c) => c.name);
        await onTable(name, columns);
        const cursor = `aslo_backup_${randomBytes(4).toString('hex')}`;
        await sql`declare ${sql.raw(cursor)} no scroll cursor for select row_to_json(x)::text as j from ${ident(name)} x`.execute(trx);
        for (;;) {
          const batch = await sql<{ j: string }>`fetch forward ${sql.raw(String(BATCH))} from ${sql.raw(cursor)}`.execute(trx);
          if (batch.rows.length === 0) break;
          await onRows(
            name,
            batch.rows.map((r) => r.j),
          );
        }
        await sql`close ${sql.raw(cursor)}`.execute(trx);
        const p = prints.get(name)!;
        tables.push({ name, columns, rows: p.rows, hash: p.hash });
      }
      return { tables, migrations };
    });
}

/**
 * Set triggers aside for the rest of the transaction: for the session when allowed (superuser,
 * the embedded database), else per table (the tables' owner; foreign keys then still hold, so
 * tables load in dependency order). Returns true in the per-table case (re-enable before commit).
 */
async function triggersOff(trx: Tx, tables: string[]): Promise<boolean> {
  try {
    await sql`savepoint aslo_srr`.execute(trx);
    await sql`set local session_replication_role = replica`.execute(trx);
    return false;
  } catch {
    await sql`rollback to savepoint aslo_srr`.execute(trx);
    for (const t of tables) await sql`alter table ${ident(t)} disable trigger user`.execute(trx);
    return true;
  }
}

/** Tables in an order where every referenced table comes first (self references aside). */
async function loadOrder(db: Db | Tx, tables: string[]): Promise<string[]> {
  const r = await sql<{ child: string; parent: string }>`
    select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace
    where c.contype = 'f' and n.nspname = current_schema()`.execute(db);
  const deps = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const { child, parent } of r.rows) {
    const ch = child.replace(/"/g, '');
    const pa = parent.replace(/"/g, '');
    if (ch !== pa && deps.has(ch) && deps.has(pa)) deps.get(ch)!.add(pa);
  }
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (t: string, stack: Set<string>) => {
    if (seen.has(t) || stack.has(t)) return;
    stack.add(t);
    for (const p of deps.get(t) ?? []) visit(p, stack);
    stack.delete(t);
    seen.add(t);
    out.push(t);
  };
  for (const t of [...tables].sort()) visit(t, new Set());
  return out;
}

export interface Loader {
  /** Rows of one table, in batches, as row_to_json text. */
  rows(table: string): AsyncIterable<string[]>;
  /** Columns the source table had (missing ones take their defaults here). */
  columns(table: string): string[] | null;
}

/** Empty every table of `db` (migrations aside) and fill it from `source`, in one transaction. */
export async function loadDatabase(db: Db, source: Loader, sourceMigrations: string[], progress: Progress): Promise<Map<string, number>> {
  const unknown = sourceMigrations.filter((m) => !(m in MIGRATIONS));
  if (unknown.length > 0) {
    throw new AsloError(
      'RESTORE_NEWER_SCHEMA',
      `The copy was made by a newer aslo (migrations ${unknown.join(', ')} are unknown here). Upgrade aslo, then restore again.`,
    );
  }
  return db.transaction().execute(async (trx) => {
    const all = (await tableNames(trx)).filter((t) => !MIGRATION_TABLES.has(t));
    const order = await loadOrder(trx, all);
    // Triggers (search documents, the audit log's append-only guard) and foreign keys are set
    // aside while loading: the rows are a consistent copy already.
    const perTable = await triggersOff(trx, all);
    await sql`truncate ${sql.join(all.map((t) => ident(t)))} restart identity cascade`.execute(trx);
    const counts = new Map<string, number>();
    for (const t of order) {
      const srcCols = source.columns(t);
      if (!srcCols) {
        progress(`  ${t}: not in the copy (a newer table here), left empty`);
        continue;
      }
      const here = await columnsOf(trx, t);
      const cols = here.filter((c) => !c.generated && srcCols.includes(c.name));
      const identity = here.some((c) => c.identity);
      const list = sql.join(cols.map((c) => ident(c.name)));
      let n = 0;
      for await (const batch of source.rows(t)) {
        const json = `[${batch.join(',')}]`;
        await sql`insert into ${ident(t)} (${list}) ${identity ? sql`overriding system value` : sql``}
          select ${list} from json_populate_recordset(null::${ident(t)}, ${json}::json)`.execute(trx);
        n += batch.length;
      }
      counts.set(t, n);
      progress(`  ${t}: ${n} rows`);
      // Sequences past the highest id.
      const seqs = await sql<{ col: string; seq: string }>`
        select a.attname as col, pg_get_serial_sequence(${t}, a.attname) as seq from pg_attribute a
        where a.attrelid = ${t}::regclass and a.attnum > 0 and not a.attisdropped and pg_get_serial_sequence(${t}, a.attname) is not null`.execute(trx);
      for (const s of seqs.rows) {
        await sql`select setval(${s.seq}::regclass, coalesce((select max(${ident(s.col)}) from ${ident(t)}), 0) + 1, false)`.execute(trx);
      }
    }
    if (perTable) for (const t of all) await sql`alter table ${ident(t)} enable trigger user`.execute(trx);
    return counts;
  });
}

// ---- the file side ----

export interface StoreDir {
  name: string;
  dir: string;
}

export function storesOf(ctx: AppContext): StoreDir[] {
  return [
    { name: 'files', dir: ctx.config.storage.filesDir },
    { name: 'repo', dir: ctx.config.storage.repoDir },
  ];
}

/** Every file under `dir` (relative paths, sorted), temporary folders and names aside. */
async function* walk(dir: string, base = dir): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (dir === base && (e.name === 'tmp' || e.name.startsWith('.'))) continue;
      yield* walk(p, base);
    } else if (e.isFile() && !/\.(part|tmp)$|\.tmp-/.test(e.name)) {
      yield relative(base, p).split(sep).join('/');
    }
  }
}

async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** Copy with the hash computed on the way (written to a temporary name, then renamed). */
async function copyHashed(from: string, to: string): Promise<{ sha256: string; size: number }> {
  await mkdir(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const h = createHash('sha256');
  let size = 0;
  await pipeline(
    createReadStream(from),
    async function* (source) {
      for await (const chunk of source) {
        h.update(chunk as Buffer);
        size += (chunk as Buffer).length;
        yield chunk;
      }
    },
    createWriteStream(tmp),
  );
  await rename(tmp, to);
  return { sha256: h.digest('hex'), size };
}

/** Hard-link `from` to `to` (same file system), else copy; atomic either way. */
async function linkOrCopy(from: string, to: string): Promise<'linked' | 'copied'> {
  await mkdir(dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await link(from, tmp);
    await rename(tmp, to);
    return 'linked';
  } catch {
    await rm(tmp, { force: true });
    await copyFile(from, tmp);
    await rename(tmp, to);
    return 'copied';
  }
}

// ---- backup ----

export async function backup(ctx: AppContext, outDir: string, progress: Progress = () => {}): Promise<Manifest> {
  await mkdir(join(outDir, 'db'), { recursive: true });
  const existing: string[] = await readdir(outDir).catch(() => []);
  if (existing.includes('manifest.json')) throw new AsloError('BACKUP_EXISTS', `${outDir} already holds a backup; choose a new folder.`);
  progress(`database: reading a consistent snapshot`);
  let stream: ReturnType<typeof createWriteStream> | null = null;
  const closeStream = () =>
    new Promise<void>((resolve, reject) => {
      if (!stream) return resolve();
      const s = stream;
      stream = null;
      s.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  let rowsDone = 0;
  const { tables, migrations } = await readSnapshot(
    ctx.db,
    async (table) => {
      await closeStream();
      stream = createWriteStream(join(outDir, 'db', `${table}.ndjson`));
    },
    async (table, rows) => {
      const s = stream!;
      if (!s.write(rows.join('\n') + '\n')) await new Promise<void>((r) => s.once('drain', () => r()));
      rowsDone += rows.length;
      if (rowsDone % (BATCH * 20) === 0) progress(`database: ${rowsDone} rows (${table})`);
    },
  );
  await closeStream();
  progress(`database: ${tables.length} tables, ${tables.reduce((a, t) => a + t.rows, 0)} rows`);
  const files: FileEntry[] = [];
  let bytes = 0;
  for (const store of storesOf(ctx)) {
    for await (const rel of walk(store.dir)) {
      const got = await copyHashed(join(store.dir, rel), join(outDir, 'stores', store.name, rel));
      files.push({ store: store.name, path: rel, ...got });
      bytes += got.size;
      if (files.length % 500 === 0) progress(`files: ${files.length} (${(bytes / 1048576).toFixed(1)} MiB)`);
    }
  }
  progress(`files: ${files.length} (${(bytes / 1048576).toFixed(1)} MiB)`);
  const manifest: Manifest = {
    format: BACKUP_FORMAT,
    instance: ctx.config.instance,
    createdAt: new Date().toISOString(),
    database: { kind: ctx.database.kind, migrations, tables },
    files,
  };
  // The manifest last: a folder without one is an unfinished backup.
  await writeFile(join(outDir, 'manifest.json.tmp'), JSON.stringify(manifest, null, 1));
  await rename(join(outDir, 'manifest.json.tmp'), join(outDir, 'manifest.json'));
  return manifest;
}

export async function readManifest(dir: string): Promise<Manifest> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    throw new AsloError('RESTORE_NOT_A_BACKUP', `${dir} is not a finished aslo backup (no readable manifest.json: ${(err as Error).message}).`);
  }
  if (m.format !== BACKUP_FORMAT) throw new AsloError('RESTORE_NOT_A_BACKUP', `${dir} has format "${m.format}"; this aslo reads ${BACKUP_FORMAT}.`);
  return m;
}

async function hasContent(db: Db): Promise<boolean> {
  const r = await sql<{ n: number }>`select (select count(*) from activities)::int + (select count(*) from users)::int as n`.execute(db);
  return r.rows[0]!.n > 0;
}

export async function restore(
  ctx: AppContext,
  dir: string,
  opts: { force?: boolean } = {},
  progress: Progress = () => {},
): Promise<{ tables: Map<string, number>; files: number }> {
  const m = await readManifest(dir);
  if (!opts.force && (await hasContent(ctx.db))) {
    throw new AsloError(
      'RESTORE_NOT_EMPTY',
      `Instance "${ctx.config.instance}" already has activities or users. Restoring replaces everything: run again with --force if that is what you want.`,
    );
  }
  progress(`checking ${m.files.length} files against the manifest`);
  for (const f of m.files) {
    const got = await hashFile(join(dir, 'stores', f.store, f.path)).catch(() => null);
    if (!got || got.sha256 !== f.sha256 || got.size !== f.size) {
      throw new AsloError(
        'RESTORE_DAMAGED',
        `The backup is damaged: stores/${f.store}/${f.path} is ${got ? 'different from' : 'missing from'} what the manifest lists. Nothing was changed.`,
      );
    }
  }
  const tableCols = new Map(m.database.tables.map((t) => [t.name, t.columns]));
  progress('database: loading');
  const tables = await loadDatabase(
    ctx.db,
    {
      columns: (t) => tableCols.get(t) ?? null,
      rows: (t) => ndjsonBatches(join(dir, 'db', `${t}.ndjson`)),
    },
    m.database.migrations,
    progress,
  );
  for (const t of m.database.tables) {
    if (MIGRATION_TABLES.has(t.name)) continue;
    if ((tables.get(t.name) ?? 0) !== t.rows)
      throw new AsloError('RESTORE_DAMAGED', `Table ${t.name}: the backup lists ${t.rows} rows, ${tables.get(t.name) ?? 0} were loaded.`);
  }
  const stores = new Map(storesOf(ctx).map((s) => [s.name, s.dir]));
  let n = 0;
  for (const f of m.files) {
    const target = stores.get(f.store);
    if (!target) continue;
    await linkOrCopy(join(dir, 'stores', f.store, f.path), join(target, f.path));
    if (++n % 500 === 0) progress(`files: ${n}/${m.files.length}`);
  }
  progress(`files: ${n}/${m.files.length}`);
  await ctx.cache.invalidate('catalog');
  return { tables, files: n };
}

async function* ndjsonBatches(path: string): AsyncGenerator<string[]> {
  try {
    await stat(path);
  } catch {
    return;
  }
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let batch: string[] = [];
  for await (const line of lines) {
    if (!line) continue;
    batch.push(line);
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

// ---- clone ----

export interface CloneResult {
  tables: Map<string, number>;
  files: number;
  linked: number;
  anonymized: boolean;
}

/** Copy `from`'s database and file stores into `to` (emptied first). */
export async function cloneInstance(
  from: AppContext,
  to: AppContext,
  opts: { anonymize?: boolean; force?: boolean } = {},
  progress: Progress = () => {},
): Promise<CloneResult> {
  if (from.config.instance === to.config.instance) throw new AsloError('CLONE_SAME_INSTANCE', 'An instance cannot be copied onto itself.');
  if (from.config.database.url && from.config.database.url === to.config.database.url) {
    throw new AsloError(
      'CLONE_SAME_DATABASE',
      `Instances "${from.config.instance}" and "${to.config.instance}" use the same database: give the target its own (aslo instance create ${to.config.instance} --database-url ...).`,
    );
  }
  if (!opts.force && (await hasContent(to.db))) {
    throw new AsloError(
      'CLONE_TARGET_NOT_EMPTY',
      `Instance "${to.config.instance}" already has activities or users. Copying replaces everything: run again with --force if that is what you want.`,
    );
  }
  // The source snapshot is read into memory table by table: a copy for development, not a backup
  // of a huge site (use aslo backup / aslo restore for that).
  const rows = new Map<string, string[][]>();
  const cols = new Map<string, string[]>();
  progress(`reading instance "${from.config.instance}"`);
  const snap = await readSnapshot(
    from.db,
    async (t, c) => {
      cols.set(t, c);
      rows.set(t, []);
    },
    async (t, batch) => {
      rows.get(t)!.push(batch);
    },
  );
  progress(`writing instance "${to.config.instance}"`);
  const tables = await loadDatabase(
    to.db,
    {
      columns: (t) => cols.get(t) ?? null,
      rows: async function* (t) {
        for (const b of rows.get(t) ?? []) yield b;
      },
    },
    snap.migrations,
    progress,
  );
  rows.clear();
  if (opts.anonymize) {
    progress('replacing personal data');
    await anonymize(to.db);
  }
  let files = 0;
  let linked = 0;
  const dest = new Map(storesOf(to).map((s) => [s.name, s.dir]));
  for (const store of storesOf(from)) {
    const target = dest.get(store.name)!;
    if (store.name === 'repo') await rm(target, { recursive: true, force: true });
    for await (const rel of walk(store.dir)) {
      if ((await linkOrCopy(join(store.dir, rel), join(target, rel))) === 'linked') linked++;
      files++;
    }
  }
  progress(`files: ${files} (${linked} hard-linked)`);
  await to.cache.invalidate('catalog');
  return { tables, files, linked, anonymized: Boolean(opts.anonymize) };
}

/**
 * Personal data replaced in a copy: e-mail addresses, passwords, names and profiles of users
 * (authors keep a neutral "User <id>" name), sessions and tokens deleted, client addresses and
 * e-mail addresses in the audit log (its details too), abuse reports and ping counters cleared,
 * mirror operators' contacts removed. Public content (activities, reviews'
 * text) stays. Only columns that exist are touched, so older and newer schemas both work.
 */
export async function anonymize(db: Db): Promise<void> {
  const steps: { table: string; column?: string; sql: string }[] = [
    { table: 'sessions', sql: 'delete from sessions' },
    { table: 'api_tokens', sql: 'delete from api_tokens' },
    { table: 'email_tokens', sql: 'delete from email_tokens' },
    { table: 'users', column: 'email', sql: `update users set email = 'user' || id || '@example.invalid'` },
    { table: 'users', column: 'display_name', sql: `update users set display_name = 'User ' || id where deleted_at is null` },
    { table: 'users', column: 'password_hash', sql: 'update users set password_hash = null' },
    { table: 'users', column: 'legacy_hash', sql: 'update users set legacy_hash = null' },
    { table: 'users', column: 'homepage', sql: 'update users set homepage = null' },
    { table: 'users', column: 'bio', sql: 'update users set bio = null' },
    { table: 'audit_log', column: 'actor_address', sql: 'update audit_log set actor_address = null' },
    { table: 'audit_log', column: 'actor_label', sql: `update audit_log set actor_label = 'user'` },
    // Details hold what an action changed: e-mail addresses (registrations, e-mail changes,
    // authors added) wherever they appear, and the client address of sign-ins.
    {
      table: 'audit_log',
      column: 'details',
      sql: `update audit_log set details = regexp_replace((details - 'address')::text, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+', 'redacted@example.invalid', 'g')::jsonb`,
    },
    { table: 'mirrors', column: 'contact', sql: 'update mirrors set contact = null' },
    { table: 'abuse_reports', column: 'reporter_address', sql: 'update abuse_reports set reporter_address = null' },
    { table: 'abuse_reports', column: 'reporter_email', sql: 'update abuse_reports set reporter_email = null' },
    { table: 'update_pings', column: 'address', sql: 'update update_pings set address = null' },
  ];
  const cols = await sql<{ t: string; c: string }>`
    select table_name as t, column_name as c from information_schema.columns where table_schema = current_schema()`.execute(db);
  const have = new Set(cols.rows.map((r) => `${r.t}.${r.c}`));
  const tables = new Set(cols.rows.map((r) => r.t));
  await db.transaction().execute(async (trx) => {
    // The audit log refuses changes (a trigger): a copy's addresses are still replaced.
    const touched = [...new Set(steps.map((s) => s.table))].filter((t) => tables.has(t));
    const perTable = await triggersOff(trx, touched);
    for (const s of steps) {
      if (!tables.has(s.table) || (s.column && !have.has(`${s.table}.${s.column}`))) continue;
      await sql.raw(s.sql).execute(trx);
    }
    if (perTable) for (const t of touched) await sql`alter table ${ident(t)} enable trigger user`.execute(trx);
  });
}

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
import type { Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { Db } from '../db/index.js';
import type { Database } from '../db/schema.js';
import { MIGRATIONS } from '../db/migrate.js';
import { AsloError } from '../errors.js';
import * as q from './queries.js';

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

/** Row count and content hash of every table (both databases compare equal after a restore). */
export async function databaseFingerprint(db: Db | Tx, opts: { exclude?: Set<string> } = {}): Promise<Map<string, { rows: number; hash: string }>> {
  const out = new Map<string, { rows: number; hash: string }>();
  for (const t of await q.tableNames(db)) {
    if (opts.exclude?.has(t)) continue;
    out.set(t, await q.tableFingerprint(db, t, await q.primaryKeyOf(db, t)));
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
      const migrations = await q.migrationNamesInOrder(trx);
      const prints = await databaseFingerprint(trx);
      for (const name of await q.tableNames(trx)) {
        const columns = (await q.columnsOf(trx, name)).map((c) => c.name);
        await onTable(name, columns);
        const cursor = `aslo_backup_${randomBytes(4).toString('hex')}`;
        await q.declareRowCursor(trx, cursor, name);
        for (;;) {
          const batch = await q.fetchRows(trx, cursor, BATCH);
          if (batch.length === 0) break;
          await onRows(name, batch);
        }
        await q.closeCursor(trx, cursor);
        const p = prints.get(name)!;
        tables.push({ name, columns, rows: p.rows, hash: p.hash });
      }
      return { tables, migrations };
    });
}

/** Tables in an order where every referenced table comes first (self references aside). */
async function loadOrder(db: Db | Tx, tables: string[]): Promise<string[]> {
  const refs = await q.foreignKeyReferences(db);
  const deps = new Map<string, Set<string>>(tables.map((t) => [t, new Set()]));
  for (const { child, parent } of refs) {
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
    const all = (await q.tableNames(trx)).filter((t) => !MIGRATION_TABLES.has(t));
    const order = await loadOrder(trx, all);
    // Triggers (search documents, the audit log's append-only guard) and foreign keys are set
    // aside while loading: the rows are a consistent copy already.
    const perTable = await q.triggersOff(trx, all);
    await q.truncateTables(trx, all);
    const counts = new Map<string, number>();
    for (const t of order) {
      const srcCols = source.columns(t);
      if (!srcCols) {
        progress(`  ${t}: not in the copy (a newer table here), left empty`);
        continue;
      }
      const here = await q.columnsOf(trx, t);
      const cols = here.filter((c) => !c.generated && srcCols.includes(c.name));
      const identity = here.some((c) => c.identity);
      const names = cols.map((c) => c.name);
      let n = 0;
      for await (const batch of source.rows(t)) {
        const json = `[${batch.join(',')}]`;
        await q.insertJsonRows(trx, t, names, identity, json);
        n += batch.length;
      }
      counts.set(t, n);
      progress(`  ${t}: ${n} rows`);
      // Sequences past the highest id.
      for (const s of await q.serialSequences(trx, t)) await q.moveSequencePastMax(trx, t, s.col, s.seq);
    }
    if (perTable) for (const t of all) await q.enableTriggers(trx, t);
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
  return (await q.activitiesAndUsers(db)) > 0;
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
  const steps = q.ANONYMIZE_STEPS;
  const cols = await q.allColumns(db);
  const have = new Set(cols.map((r) => `${r.t}.${r.c}`));
  const tables = new Set(cols.map((r) => r.t));
  await db.transaction().execute(async (trx) => {
    // The audit log refuses changes (a trigger): a copy's addresses are still replaced.
    const touched = [...new Set(steps.map((s) => s.table))].filter((t) => tables.has(t));
    const perTable = await q.triggersOff(trx, touched);
    for (const s of steps) {
      if (!tables.has(s.table) || (s.column && !have.has(`${s.table}.${s.column}`))) continue;
      await q.runStatement(trx, s.sql);
    }
    if (perTable) for (const t of touched) await q.enableTriggers(trx, t);
  });
}

// The SQL of backups, restores and copies (./index.ts): the catalog of tables, columns, keys and
// sequences, the snapshot's cursor, the bulk load and the anonymizing statements. Plain functions
// over the handle the caller passes (its transaction decides the snapshot and the atomicity).
import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/index.js';
import type { Database } from '../db/schema.js';

type Tx = Transaction<Database>;

function ident(name: string): ReturnType<typeof sql.id> {
  return sql.id(name);
}

export async function tableNames(db: Db | Tx): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db);
  return r.rows.map((x) => x.name);
}

export async function columnsOf(db: Db | Tx, table: string): Promise<{ name: string; generated: boolean; identity: boolean }[]> {
  const r = await sql<{ name: string; generated: string; identity: string }>`
    select column_name as name, is_generated as generated, is_identity as identity from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(db);
  return r.rows.map((c) => ({ name: c.name, generated: c.generated === 'ALWAYS', identity: c.identity === 'YES' }));
}

export async function primaryKeyOf(db: Db | Tx, table: string): Promise<string[]> {
  const r = await sql<{ name: string }>`
    select a.attname as name from pg_index i
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = ${table}::regclass and i.indisprimary order by array_position(i.indkey, a.attnum)`.execute(db);
  return r.rows.map((x) => x.name);
}

/** Row count and md5 of the table's rows as JSON, in the order of `primaryKey` (the whole row without one). */
export async function tableFingerprint(db: Db | Tx, table: string, primaryKey: string[]): Promise<{ rows: number; hash: string }> {
  const order = primaryKey.length ? sql.join(primaryKey.map((c) => sql`x.${ident(c)}`)) : sql`row_to_json(x)::text`;
  const r = await sql<{ n: number; h: string | null }>`
    select count(*)::int as n, md5(string_agg(row_to_json(x)::text, E'\\n' order by ${order})) as h from ${ident(table)} x`.execute(db);
  return { rows: r.rows[0]!.n, hash: r.rows[0]!.h ?? '' };
}

/** The applied migrations, by name. */
export async function migrationNamesInOrder(db: Db | Tx): Promise<string[]> {
  return (await sql<{ name: string }>`select name from aslo_migrations order by name`.execute(db)).rows.map((r) => r.name);
}

/** Opens cursor `cursor` over the table's rows as row_to_json text (ends with the transaction). */
export async function declareRowCursor(trx: Tx, cursor: string, table: string): Promise<void> {
  await sql`declare ${sql.raw(cursor)} no scroll cursor for select row_to_json(x)::text as j from ${ident(table)} x`.execute(trx);
}

/** The next `batch` rows of the cursor; none at its end. */
export async function fetchRows(trx: Tx, cursor: string, batch: number): Promise<string[]> {
  const r = await sql<{ j: string }>`fetch forward ${sql.raw(String(batch))} from ${sql.raw(cursor)}`.execute(trx);
  return r.rows.map((x) => x.j);
}

export async function closeCursor(trx: Tx, cursor: string): Promise<void> {
  await sql`close ${sql.raw(cursor)}`.execute(trx);
}

/**
 * Set triggers aside for the rest of the transaction: for the session when allowed (superuser,
 * the embedded database), else per table (the tables' owner; foreign keys then still hold, so
 * tables load in dependency order). Returns true in the per-table case (re-enable before commit).
 */
export async function triggersOff(trx: Tx, tables: string[]): Promise<boolean> {
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

/** Re-enables the user triggers of a table that triggersOff disabled. */
export async function enableTriggers(trx: Tx, table: string): Promise<void> {
  await sql`alter table ${ident(table)} enable trigger user`.execute(trx);
}

/** Every foreign key of the schema, as (referencing table, referenced table), names as regclass text. */
export async function foreignKeyReferences(db: Db | Tx): Promise<{ child: string; parent: string }[]> {
  const r = await sql<{ child: string; parent: string }>`
    select c.conrelid::regclass::text as child, c.confrelid::regclass::text as parent
    from pg_constraint c join pg_namespace n on n.oid = c.connamespace
    where c.contype = 'f' and n.nspname = current_schema()`.execute(db);
  return r.rows;
}

export async function truncateTables(trx: Tx, tables: string[]): Promise<void> {
  await sql`truncate ${sql.join(tables.map((t) => ident(t)))} restart identity cascade`.execute(trx);
}

/** Inserts the rows of `json` (a JSON array of row_to_json objects) into `columns` of the table. */
export async function insertJsonRows(trx: Tx, table: string, columns: string[], identity: boolean, json: string): Promise<void> {
  const list = sql.join(columns.map((c) => ident(c)));
  await sql`insert into ${ident(table)} (${list}) ${identity ? sql`overriding system value` : sql``}
    select ${list} from json_populate_recordset(null::${ident(table)}, ${json}::json)`.execute(trx);
}

/** The table's columns fed by a sequence, with the sequence. */
export async function serialSequences(trx: Tx, table: string): Promise<{ col: string; seq: string }[]> {
  const seqs = await sql<{ col: string; seq: string }>`
    select a.attname as col, pg_get_serial_sequence(${table}, a.attname) as seq from pg_attribute a
    where a.attrelid = ${table}::regclass and a.attnum > 0 and not a.attisdropped and pg_get_serial_sequence(${table}, a.attname) is not null`.execute(trx);
  return seqs.rows;
}

/** Moves the sequence past the highest value of the column. */
export async function moveSequencePastMax(trx: Tx, table: string, column: string, sequence: string): Promise<void> {
  await sql`select setval(${sequence}::regclass, coalesce((select max(${ident(column)}) from ${ident(table)}), 0) + 1, false)`.execute(trx);
}

/** How many activities and users there are, together. */
export async function activitiesAndUsers(db: Db): Promise<number> {
  const r = await sql<{ n: number }>`select (select count(*) from activities)::int + (select count(*) from users)::int as n`.execute(db);
  return r.rows[0]!.n;
}

/** Every (table, column) of the schema. */
export async function allColumns(db: Db): Promise<{ t: string; c: string }[]> {
  const cols = await sql<{ t: string; c: string }>`
    select table_name as t, column_name as c from information_schema.columns where table_schema = current_schema()`.execute(db);
  return cols.rows;
}

/**
 * The statements that replace personal data in a copy (see anonymize in ./index.ts), each run
 * only when its table (and column) exists.
 */
export const ANONYMIZE_STEPS: { table: string; column?: string; sql: string }[] = [
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

/** Runs one of the fixed statements above. */
export async function runStatement(trx: Tx, statement: string): Promise<void> {
  await sql.raw(statement).execute(trx);
}

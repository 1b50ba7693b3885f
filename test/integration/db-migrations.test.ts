// The migrations from an empty database, on the database this run selects: test databases are
// copies of one migrated template (test/helpers/template.ts), so this is where every migration
// still runs from the start, and where the template is checked to be what they produce.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openDatabase, type DatabaseHandle, type Db } from '../../src/platform/db/index.js';
import { MIGRATIONS, migrateToLatest, migrationStatus } from '../../src/platform/db/migrate.js';
import { createPgDatabase, createTestEnv, TEST_DATABASE, TEST_PG_URL, type TestEnv } from '../helpers/env.js';
import { ensurePgTemplate } from '../helpers/template.js';

/** Tables, columns, indexes, constraints, triggers, functions and extensions of the public schema. */
async function schemaOf(db: Db): Promise<string[]> {
  const { rows: columns } = await sql<{ d: string }>`
    select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as d
    from information_schema.columns where table_schema = 'public'`.execute(db);
  const { rows: indexes } = await sql<{ d: string }>`select indexdef as d from pg_indexes where schemaname = 'public'`.execute(db);
  const { rows: constraints } = await sql<{ d: string }>`
    select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) as d
    from pg_constraint where connamespace = 'public'::regnamespace`.execute(db);
  const { rows: triggers } = await sql<{ d: string }>`
    select tgrelid::regclass::text || ' ' || tgname as d from pg_trigger where not tgisinternal`.execute(db);
  const { rows: functions } = await sql<{ d: string }>`
    select proname || '(' || pg_get_function_identity_arguments(oid) || ')' as d
    from pg_proc where pronamespace = 'public'::regnamespace`.execute(db);
  const { rows: extensions } = await sql<{ d: string }>`select extname as d from pg_extension`.execute(db);
  return [...columns, ...indexes, ...constraints, ...triggers, ...functions, ...extensions].map((r) => r.d).sort();
}

describe(`migrations from an empty database (${TEST_DATABASE})`, () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  });

  async function open(opts: { template: boolean }): Promise<DatabaseHandle> {
    if (TEST_DATABASE === 'postgres') {
      const pgdb = await createPgDatabase('aslo_mig', opts.template ? await ensurePgTemplate(TEST_PG_URL) : undefined);
      closers.push(() => pgdb.drop());
      const database = await openDatabase({ url: pgdb.url, poolSize: 2 });
      closers.push(() => database.close());
      return database;
    }
    // This process's ':memory:' databases start empty until a test env asks for the template.
    if (opts.template) {
      const env: TestEnv = await createTestEnv();
      closers.push(() => env.cleanup());
    }
    const database = await openDatabase({ embeddedDir: ':memory:' });
    closers.push(() => database.close());
    return database;
  }

  let fresh: DatabaseHandle;

  it('applies every migration, in name order, to an empty database', async () => {
    fresh = await open({ template: false });
    const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = 'public'`.execute(fresh.db);
    assert.equal(tables.rows[0]!.n, 0);
    const report = await migrateToLatest(fresh.db);
    assert.deepEqual(report.applied, Object.keys(MIGRATIONS).sort());
    const status = await migrationStatus(fresh.db);
    assert.ok(
      status.every((m) => m.executedAt instanceof Date),
      JSON.stringify(status),
    );
    // Run again: nothing left to apply.
    assert.deepEqual((await migrateToLatest(fresh.db)).applied, []);
  });

  it('gives test databases (copies of the template) exactly the schema the migrations produce', async () => {
    const copy = await open({ template: true });
    assert.deepEqual((await migrateToLatest(copy.db)).applied, [], 'the template is fully migrated');
    const want = await schemaOf(fresh.db);
    assert.ok(
      want.some((d) => d.startsWith('activities.bundle_id ')),
      'the schema read back has the catalog',
    );
    assert.deepEqual(await schemaOf(copy.db), want);
    const rows = await copy.db.selectFrom('activities').select('id').execute();
    assert.deepEqual(rows, [], 'the template holds no data');
  });
});

// Planner statistics of the embedded database (src/platform/db/statistics.ts): a start analyzes
// only the tables never analyzed or whose size moved by more than a tenth since.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { analyzeTables, tablesNeedingStatistics } from '../../src/platform/db/statistics.js';

describe('embedded database: which tables need statistics', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp();
  });

  after(async () => {
    await t.cleanup();
  });

  it('none after an analyze; a table that grew a lot, until it is analyzed again', { skip: process.env.ASLO_TEST_DATABASE === 'postgres' }, async () => {
    await analyzeTables(t.ctx.db, null);
    assert.deepStrictEqual(await tablesNeedingStatistics(t.ctx.db), []);
    await sql`insert into catalog_changes (bundle_id, activity_id, changed_at, public_seen)
      select 'org.test.stats.A' || g, null, now(), false from generate_series(1, 2000) g`.execute(t.ctx.db);
    assert.deepStrictEqual(await tablesNeedingStatistics(t.ctx.db), ['catalog_changes']);
    await analyzeTables(t.ctx.db, ['catalog_changes']);
    assert.deepStrictEqual(await tablesNeedingStatistics(t.ctx.db), []);
  });
});

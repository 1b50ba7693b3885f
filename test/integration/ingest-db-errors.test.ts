// A unique-key error during ingest is INGEST_CONFLICT only when another upload really won the
// race: any other database error is reported as what it is, not as a
// harmless "someone else uploaded it" (a damaged index or a sequence behind its table was hidden
// that way).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';

describe('ingest and database errors', () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
  });
  after(() => t.cleanup());

  it('reports a unique-key error that is no upload race as the database error it is', async () => {
    const ingest = t.app.services.catalog.ingest;
    const first = await ingest.ingestPath(await buildActivity(join(dir, 'a'), { bundleId: 'org.test.First', name: 'First', version: '1' }), {
      status: 'public',
    });
    assert.equal(first.outcome, 'imported');
    // The activities' id sequence set back: the next new activity collides with the first's key.
    await sql`select setval('activities_id_seq', ${first.activityId}, false)`.execute(t.ctx.db);
    const second = await buildActivity(join(dir, 'b'), { bundleId: 'org.test.Second', name: 'Second', version: '1' });
    await assert.rejects(ingest.ingestPath(second, { status: 'public' }), (err: { code?: string; constraint?: string }) => {
      assert.equal(err.code, '23505');
      assert.equal(err.constraint, 'activities_pkey');
      return true;
    });
    // Nothing of it stayed behind, and the catalog still works once the sequence is right.
    await sql`select setval('activities_id_seq', (select max(id) from activities))`.execute(t.ctx.db);
    assert.equal((await ingest.ingestPath(second, { status: 'public' })).outcome, 'imported');
  });

  it('knows the keys two uploads race for by the names the schema gives them', async () => {
    const rows = await sql<{
      conname: string;
    }>`select conname from pg_constraint where contype = 'u' union select indexrelid::regclass::text from pg_index where indisunique`.execute(t.ctx.db);
    const names = new Set(rows.rows.map((r) => r.conname));
    for (const n of ['activities_bundle_id_key', 'versions_activity_id_version_normalized_key', 'files_sha256_key', 'files_repo_path_key'])
      assert.ok(names.has(n), n);
  });
});

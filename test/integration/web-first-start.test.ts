// The first start of a store, as `npm start` does it: a server started in this process on an
// empty instance loads the sample activities with a screenshot each, and gathers planner
// statistics on the embedded database (PGlite runs no autovacuum).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import sharp from 'sharp';
import { startInProcessServer, type InProcessServer } from '../helpers/server.js';

describe('first start of a server', { timeout: 180_000 }, () => {
  let s: InProcessServer;
  before(async () => {
    s = await startInProcessServer({ sample: true });
  });
  after(async () => s?.stop());

  it('loads the sample activities into the empty catalog', async () => {
    const res = await fetch(`${s.url}/api/v1/activities?per_page=100`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { total: number };
    assert.ok(body.total >= 5, `sample activities: ${body.total}`);
  });

  it('has planner statistics for the catalog tables on the embedded database', async () => {
    if (s.ctx.database.kind !== 'pglite') return; // PostgreSQL's autovacuum does this itself
    const rows = await sql<{
      tablename: string;
      n: number;
    }>`select tablename, count(*)::int as n from pg_stats where schemaname = 'public' and tablename in ('activities', 'versions', 'files', 'activity_texts') group by tablename`.execute(
      s.ctx.db,
    );
    const stats = Object.fromEntries(rows.rows.map((r) => [r.tablename, r.n]));
    for (const table of ['activities', 'versions', 'files', 'activity_texts']) assert.ok((stats[table] ?? 0) > 0, `no statistics on ${table}`);
  });

  it('shows a screenshot on every sample activity page, served as a PNG image', async () => {
    const list = (await (await fetch(`${s.url}/api/v1/activities?per_page=100`)).json()) as { items: { bundle_id: string }[] };
    const samples = list.items.map((i) => i.bundle_id).filter((id) => id.startsWith('org.aslo.sample.'));
    assert.equal(samples.length, 5);
    for (const id of samples) {
      const page = await fetch(`${s.url}/es/activity/${id}`);
      assert.equal(page.status, 200);
      const body = await page.text();
      const img = /<img src="(\/screenshots\/\d+)" width="(\d+)" height="(\d+)" alt="([^"]+)"/.exec(body);
      assert.ok(img, `${id}: no screenshot on the activity page`);
      assert.deepEqual([img[2], img[3]], ['800', '600']);
      assert.doesNotMatch(img[4]!, /^Screenshot of|^Captura/, `${id}: the caption is the alt text`);
      const shot = await fetch(`${s.url}${img[1]}`);
      assert.equal(shot.status, 200);
      assert.equal(shot.headers.get('content-type'), 'image/png');
      const bytes = Buffer.from(await shot.arrayBuffer());
      assert.equal(Number(shot.headers.get('content-length') ?? bytes.length), bytes.length);
      const meta = await sharp(bytes).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 800, 600]);
      // A drawn scene, not a blank image.
      const stats = await sharp(bytes).stats();
      assert.ok(
        stats.channels.some((c) => c.stdev > 20),
        `${id}: the screenshot looks blank`,
      );
    }
  });

  it('stores the screenshots like the hub does, once, with an audit entry', async () => {
    const rows = await s.ctx.db
      .selectFrom('screenshots as sc')
      .innerJoin('activities as a', 'a.id', 'sc.activity_id')
      .select(['a.bundle_id', 'sc.storage_key', 'sc.captions'])
      .execute();
    assert.equal(rows.length, 5);
    for (const r of rows) assert.ok(await s.ctx.files.has(r.storage_key), r.bundle_id);
    assert.equal(new Set(rows.map((r) => r.storage_key)).size, 5);
    const captions = rows[0]!.captions as Record<string, string>;
    for (const tag of ['und', 'es', 'fr', 'pt-BR', 'ar']) assert.ok(captions[tag], tag);
    const audits = await s.ctx.db
      .selectFrom('audit_log')
      .select('target_id')
      .where('action', '=', 'screenshot.add')
      .where('actor_label', '=', 'sample-content')
      .execute();
    assert.equal(audits.length, 5);
  });
});

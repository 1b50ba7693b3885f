// /services/index.json under requests that vary `sugar` and `since`: both are normalized (sugar to
// the release series the store knows, since to the change point at or before it), documents are
// cached by the normalized key and built on a worker thread, at most a bounded number at a time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, createPublicKey } from 'node:crypto';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { IndexBuildPool } from '../../src/updates/index-builder.js';
import { renderIndexBody, type IndexSnapshot } from '../../src/updates/json-index.js';

const PY2 = 'sugar-activity act.Act';
const PY3 = 'sugar-activity3 act.Act';

describe('index.json: normalized parameters, cached documents, builds off the event loop', () => {
  let t: TestApp;
  const T1 = Date.parse('2026-03-01T10:00:00.000Z');
  const T2 = Date.parse('2026-04-01T10:00:00.000Z');

  before(async () => {
    t = await createTestApp();
    const dir = await tempDir();
    for (const [bundleId, exec] of [
      ['org.ix.Old', PY2],
      ['org.ix.New', PY3],
    ] as const) {
      const res = await t.app.services.catalog.ingest.ingestPath(await buildActivity(dir, { bundleId, name: bundleId.slice(7), version: '1', exec }), {
        status: 'public',
      });
      assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
    }
    // Two change points: Old changed at T1, New at T2.
    await t.ctx.db
      .updateTable('catalog_changes')
      .set({ changed_at: new Date(T1) })
      .where('bundle_id', '=', 'org.ix.Old')
      .execute();
    await t.ctx.db
      .updateTable('catalog_changes')
      .set({ changed_at: new Date(T2) })
      .where('bundle_id', '=', 'org.ix.New')
      .execute();
    await t.app.services.updates.index.rebuild();
  });
  after(async () => t?.cleanup());

  const get = (q: string) => t.app.inject({ url: `/services/index.json${q}` });
  const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());

  it('sugar is read as its release series; a release the store does not know is a 400 with a code', async () => {
    const base = await get('?sugar=0.118');
    assert.equal(base.statusCode, 200);
    assert.equal(base.json().sugar, '0.118');
    for (const same of ['0.117', '0.118.1', '0.118.0']) {
      const r = await get(`?sugar=${same}`);
      assert.equal(r.statusCode, 200, same);
      assert.deepEqual(r.rawPayload, base.rawPayload, `sugar=${same} is the 0.118 document`);
      assert.equal(r.headers.etag, base.headers.etag);
    }
    for (const bad of ['0.300', '9.0', '1', 'banana', '0.118-peru', '0.' + '1'.repeat(60)]) {
      const r = await get(`?sugar=${encodeURIComponent(bad)}`);
      assert.equal(r.statusCode, 400, bad);
      assert.equal(r.json().error.code, 'SUGAR_VERSION_UNKNOWN', bad);
    }
  });

  it('a diff from any since is the diff from the latest change at or before it: one document per change point', async () => {
    const at = async (ms: number) => (await get(`?sugar=0.118&since=${iso(ms)}`)).rawPayload;
    const fromT1 = await at(T1);
    const doc = JSON.parse(fromT1.toString('utf8'));
    assert.equal(doc.since, new Date(T1).toISOString());
    assert.deepEqual(
      doc.activities.map((a: { bundle_id: string }) => a.bundle_id),
      ['org.ix.New'],
    );
    for (const ms of [T1 + 1, T1 + 86_400_000, T2 - 1]) assert.deepEqual(await at(ms), fromT1, new Date(ms).toISOString());
    // Before every change: the same as the beginning of time.
    const fromStart = await at(0);
    assert.equal(JSON.parse(fromStart.toString('utf8')).since, new Date(0).toISOString());
    for (const ms of [T1 - 1, Date.parse('2001-01-01T00:00:00Z')]) assert.deepEqual(await at(ms), fromStart);
    // At or after the last change (even in the future): nothing changed since.
    const fromT2 = await at(T2);
    assert.deepEqual(JSON.parse(fromT2.toString('utf8')).activities, []);
    for (const ms of [T2 + 5, Date.parse('2099-01-01T00:00:00Z')]) assert.deepEqual(await at(ms), fromT2);
    // The signature covers the normalized document.
    const key = createPublicKey((await t.app.inject({ url: '/services/index-key.pem' })).body);
    const sig = (await t.app.inject({ url: `/services/index.json.sig?sugar=0.118&since=${iso(T1 + 12345)}` })).body.trim();
    assert.ok(verify(null, fromT1, key, Buffer.from(sig, 'base64')));
  });

  it('new since and sugar values are served from the cache of their normalized key, built on a worker thread', async () => {
    const stats = t.app.services.updates.indexStats;
    await get(`?sugar=0.112&since=${iso(T1 + 1)}`);
    const before = stats.built;
    for (let i = 0; i < 60; i++) {
      const r = await get(`?sugar=${i % 2 ? '0.111' : '0.112'}&since=${iso(T1 + 1000 + i * 7919)}`);
      assert.equal(r.statusCode, 200);
    }
    assert.equal(stats.built, before, '60 new parameter values, no new build');
    assert.ok(stats.built > 0);
    assert.equal(stats.builtInWorker, stats.built, 'every document was built on a worker thread');
  });

  it('builds have bounded concurrency: beyond the queue a request is refused at once with INDEX_BUSY', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const snapshot: IndexSnapshot = {
      baseUrl: 'http://store.test',
      lastChangeAt: 1,
      changes: [],
      activities: Array.from({ length: 2000 }, (_, i) => ({
        bundle_id: `org.big.A${i}`,
        kind: 'activity',
        name: { und: `A${i}` },
        summary: {},
        versions: [
          {
            version: '1',
            sugar_min: null,
            sugar_max: null,
            runtime: 'other',
            size: 1,
            sha256: 'x'.repeat(64),
            url: 'http://store.test/a.xo',
            created_at: '2026-01-01T00:00:00.000Z',
            minKey: null,
            maxKey: null,
          },
        ],
      })),
    };
    const pool = new IndexBuildPool({ size: 1, maxQueue: 2, generation: () => 1, snapshot: () => snapshot, key: () => privateKey, log: () => {} });
    try {
      const q = (n: number) => ({ sugar: null, sugarKey: null, since: null, nextSince: n });
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => pool.build(q(i))));
      const ok = results.filter((r) => r.status === 'fulfilled');
      const busy = results.filter((r) => r.status === 'rejected');
      assert.equal(ok.length, 3, 'one running and two waiting');
      assert.equal(busy.length, 5);
      for (const r of busy) assert.equal(((r as PromiseRejectedResult).reason as { code: string; statusCode: number }).code, 'INDEX_BUSY');
      // The worker builds exactly what this thread would.
      const first = (ok[0] as PromiseFulfilledResult<{ body: Buffer }>).value.body;
      assert.deepEqual(first, renderIndexBody(snapshot, q(0)));
      // Once the queue drains, builds are accepted again.
      assert.equal((await pool.build(q(99))).body.length > 0, true);
    } finally {
      await pool.close();
    }
  });
});

// Feeds for deployments and school servers: the microformat pages (collections and all public
// activities) read like Sugar's microformat updater reads them, and the signed JSON index with
// compression, ETags and diffs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { readMicroformatLikeSugar, readRdfLikeSugar } from '../helpers/updates-client.js';

const PY2 = 'sugar-activity act.Act';
const PY3 = 'sugar-activity3 act.Act';

describe('microformat feeds and the JSON index', () => {
  let t: TestApp;
  let dir: string;
  const ids = new Map<string, number>();

  const ingest = async (
    a: Parameters<typeof buildActivity>[1],
    opts: { status?: 'public' | 'sandbox'; sugarMin?: string; releaseNotes?: string } = { status: 'public' },
  ) => {
    const res = await t.app.services.catalog.ingest.ingestPath(await buildActivity(dir, a), opts);
    assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
    ids.set(a.bundleId, res.activityId!);
    await t.app.services.updates.settled();
    return res;
  };

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    await ingest({
      bundleId: 'org.feed.Abacus',
      name: 'Abacus & Beads',
      version: '5',
      exec: PY2,
      summary: 'Count <fast>',
      locales: { es: { name: 'Ábaco', summary: 'Contar' }, pt_BR: { name: 'Ábaco BR' } },
    });
    await ingest({
      bundleId: 'org.feed.Abacus',
      name: 'Abacus & Beads',
      version: '6',
      exec: PY3,
      summary: 'Count <fast>',
      locales: { es: { name: 'Ábaco', summary: 'Contar' }, pt_BR: { name: 'Ábaco BR' } },
    });
    await ingest({ bundleId: 'org.feed.Chat', name: 'Chat', version: '80', exec: PY2 });
    await ingest({ bundleId: 'org.feed.Chat', name: 'Chat', version: '81', exec: PY2 });
    await ingest({ bundleId: 'org.feed.Paint', name: 'Paint', version: '70', exec: PY3 });
    await ingest({ bundleId: 'org.feed.Secret', name: 'Secret', version: '1', exec: PY3 }, { status: 'sandbox' });

    const collections = t.app.services.collections;
    await collections.create('school', { name: 'School set', description: 'What our school uses', names: { es: 'Conjunto escolar' } });
    await collections.add('school', 'org.feed.Abacus');
    await collections.add('school', 'org.feed.Chat', { pin: '80', optional: true });
    await collections.add('school', 'org.feed.Paint');
    await collections.add('school', 'org.feed.Secret');
    // Settle the catalog: while a change is younger than the settle window the index's cursor is
    // the horizon in whole seconds, so two requests a second apart would get different bytes.
    await t.ctx.db
      .updateTable('catalog_changes')
      .set({ changed_at: new Date(Date.now() - 7200_000) })
      .execute();
    await t.app.services.updates.index.rebuild();
  });
  after(async () => {
    await t?.cleanup();
  });

  const feed = (q: string) => t.app.inject({ url: `/services/micro-format.php${q}` });

  it('a collection: newest compatible or pinned version per activity, localized, optional marks', async () => {
    const res = await feed('?collection_nickname=school&lang=es&sugar=0.118');
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html; charset=utf-8/);
    const m = readMicroformatLikeSugar(res.body, 'http://store.test/services/micro-format.php');
    assert.equal(m.groupName, 'Conjunto escolar');
    assert.equal(m.groupDesc, 'What our school uses');
    assert.deepEqual([...m.results.keys()].sort(), ['org.feed.Abacus', 'org.feed.Paint'], 'Chat 80 is Python 2: not for 0.118; Secret is sandbox');
    assert.equal(m.results.get('org.feed.Abacus')!.version, '6');
    assert.match(res.body, /Ábaco/);
    // The app's download URL, or the repo tree path once a publish job has put the file there.
    assert.match(m.results.get('org.feed.Abacus')!.url, /^http:\/\/store\.test\/(downloads\/file\/\d+|repo\/\d+)\/.+\.xo$/);

    const old = readMicroformatLikeSugar((await feed('?collection_nickname=school&lang=en&sugar=0.110')).body, 'http://store.test/');
    assert.equal(old.groupName, 'School set');
    assert.deepEqual([...old.results.keys()].sort(), ['org.feed.Abacus', 'org.feed.Chat']);
    assert.equal(old.results.get('org.feed.Abacus')!.version, '5', 'Python 2 version for an old Sugar');
    assert.equal(old.results.get('org.feed.Chat')!.version, '80', 'pinned');
    assert.equal(old.results.get('org.feed.Chat')!.optional, true);
    assert.equal(old.results.get('org.feed.Abacus')!.optional, false);

    // Without sugar=, the client's User-Agent names its Sugar (Sugar/X.Y, sent since 0.100).
    const byAgent = readMicroformatLikeSugar(
      (await t.app.inject({ url: '/services/micro-format.php?collection_nickname=school', headers: { 'user-agent': 'Sugar/0.120' } })).body,
      'http://store.test/',
    );
    assert.equal(byAgent.results.get('org.feed.Abacus')!.version, '6');
    // With neither, only what runs on every Sugar: none of these Python activities does.
    assert.equal(readMicroformatLikeSugar((await feed('?collection_nickname=school')).body, 'http://store.test/').results.size, 0);

    // Every linked file downloads, and answers HEAD with a length and ranges with 206 (Sugar reads
    // the zip of new activities that way).
    for (const r of [...m.results.values(), ...old.results.values()]) {
      const path = new URL(r.url).pathname;
      const head = await t.app.inject({ method: 'HEAD', url: path });
      assert.equal(head.statusCode, 200);
      assert.ok(Number(head.headers['content-length']) > 0);
      const range = await t.app.inject({ url: path, headers: { range: 'bytes=-22' } });
      assert.equal(range.statusCode, 206);
    }
  });

  it('entries hold no void elements and everything is escaped', async () => {
    const res = await feed('?collection_nickname=school&sugar=0.110');
    const entries = res.body
      .split('<tr class="olpc-activity-info">')
      .slice(1)
      .map((e) => e.split('</tr>')[0]!);
    assert.ok(entries.length > 0);
    for (const e of entries) {
      const opens = [...e.matchAll(/<([a-z]+)[\s>]/g)].length;
      const closes = [...e.matchAll(/<\/([a-z]+)>/g)].length;
      assert.equal(opens, closes, `every element inside an entry is closed: ${e}`);
      assert.doesNotMatch(e, /<(br|img|hr|input|meta|link)\b/);
    }
    assert.match(res.body, /Abacus &amp; Beads/);
    assert.doesNotMatch(res.body, /Abacus & Beads/);
  });

  it('all public activities, without a collection', async () => {
    const m = readMicroformatLikeSugar((await feed('?lang=pt-BR&sugar=0.118')).body, 'http://store.test/');
    assert.deepEqual([...m.results.keys()].sort(), ['org.feed.Abacus', 'org.feed.Paint']);
    const old = readMicroformatLikeSugar((await feed('?sugar=0.110')).body, 'http://store.test/');
    assert.deepEqual([...old.results.keys()].sort(), ['org.feed.Abacus', 'org.feed.Chat']);
    assert.equal(old.results.get('org.feed.Chat')!.version, '81');
    assert.equal(readMicroformatLikeSugar((await feed('')).body, 'http://store.test/').results.size, 0, 'no Python activity runs on every Sugar');
    assert.match((await feed('?lang=pt_BR&sugar=0.118')).body, /Ábaco BR/);
  });

  it('unknown collections and bad parameters are clear errors, never a 500', async () => {
    const missing = await feed('?collection_nickname=nope');
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /COLLECTION_NOT_FOUND/);
    const bad = await feed('?collection_nickname=school&sugar=banana');
    assert.equal(bad.statusCode, 400);
    const weird = await feed('?collection_nickname=%3Cscript%3E&lang=%00');
    assert.ok(weird.statusCode < 500);
    assert.doesNotMatch(weird.body, /<script>/);
    const etag = (await feed('?collection_nickname=school')).headers.etag as string;
    assert.equal((await t.app.inject({ url: '/services/micro-format.php?collection_nickname=school', headers: { 'if-none-match': etag } })).statusCode, 304);
  });

  it('the JSON index: every public activity with versions, ranges, sizes, hashes and URLs', async () => {
    const res = await t.app.inject({ url: '/services/index.json' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^application\/json/);
    const doc = res.json();
    assert.equal(doc.format, 1);
    assert.equal(doc.sugar, null);
    assert.deepEqual(
      doc.activities.map((a: { bundle_id: string }) => a.bundle_id),
      ['org.feed.Abacus', 'org.feed.Chat', 'org.feed.Paint'],
    );
    const abacus = doc.activities[0];
    assert.deepEqual(abacus.name, { es: 'Ábaco', 'pt-BR': 'Ábaco BR', und: 'Abacus & Beads' });
    assert.deepEqual(abacus.summary, { es: 'Contar', und: 'Count <fast>' });
    assert.deepEqual(
      abacus.versions.map((v: { version: string }) => v.version),
      ['6', '5'],
    );
    const v6 = abacus.versions[0];
    assert.equal(v6.runtime, 'python3');
    assert.equal(v6.sugar_min, '0.116');
    assert.equal(v6.sugar_max, null);
    assert.equal(abacus.versions[1].sugar_max, '0.116');
    assert.match(v6.sha256, /^[0-9a-f]{64}$/);
    const dl = await t.app.inject({ url: new URL(v6.url).pathname });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.rawPayload.length, v6.size);

    const for110 = (await t.app.inject({ url: '/services/index.json?sugar=0.110' })).json();
    assert.equal(for110.sugar, '0.110');
    assert.deepEqual(
      for110.activities.map((a: { bundle_id: string }) => a.bundle_id),
      ['org.feed.Abacus', 'org.feed.Chat'],
    );
    assert.deepEqual(
      for110.activities[0].versions.map((v: { version: string }) => v.version),
      ['5'],
    );
    const for118 = (await t.app.inject({ url: '/services/index.json?sugar=0.118' })).json();
    assert.deepEqual(
      for118.activities.map((a: { bundle_id: string }) => a.bundle_id),
      ['org.feed.Abacus', 'org.feed.Paint'],
    );
    assert.equal((await t.app.inject({ url: '/services/index.json?sugar=nope' })).statusCode, 400);
    assert.equal((await t.app.inject({ url: '/services/index.json?since=yesterday' })).statusCode, 400);
  });

  it('ETag and 304, gzip and brotli of the same bytes', async () => {
    const plain = await t.app.inject({ url: '/services/index.json?sugar=0.118' });
    const etag = plain.headers.etag as string;
    assert.equal((await t.app.inject({ url: '/services/index.json?sugar=0.118', headers: { 'if-none-match': etag } })).statusCode, 304);
    const gz = await t.app.inject({ url: '/services/index.json?sugar=0.118', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.etag, etag);
    assert.deepEqual(gunzipSync(gz.rawPayload), plain.rawPayload);
    const br = await t.app.inject({ url: '/services/index.json?sugar=0.118', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(brotliDecompressSync(br.rawPayload), plain.rawPayload);
    assert.match(br.headers.vary as string, /accept-encoding/i);
    const none = await t.app.inject({ url: '/services/index.json?sugar=0.118', headers: { 'accept-encoding': 'br;q=0, gzip;q=0' } });
    assert.equal(none.headers['content-encoding'], undefined);
  });

  it('the signature verifies with the published key over the exact bytes, and nothing else', async () => {
    const pem = (await t.app.inject({ url: '/services/index-key.pem' })).body;
    assert.match(pem, /^-----BEGIN PUBLIC KEY-----/);
    const key = createPublicKey(pem);
    assert.equal(key.asymmetricKeyType, 'ed25519');
    for (const q of ['', '?sugar=0.110', `?since=${encodeURIComponent(new Date(Date.now() - 3600_000).toISOString())}`]) {
      const body = (await t.app.inject({ url: `/services/index.json${q}` })).rawPayload;
      const sigRes = await t.app.inject({ url: `/services/index.json.sig${q}` });
      assert.equal(sigRes.statusCode, 200);
      const sig = Buffer.from(sigRes.body.trim(), 'base64');
      assert.equal(sig.length, 64);
      assert.ok(verify(null, body, key, sig), `signature of index.json${q}`);
      const tampered = Buffer.from(body);
      tampered[tampered.length - 2] ^= 1;
      assert.equal(verify(null, tampered, key, sig), false);
    }
    const res = await t.app.inject({ url: '/services/index.json' });
    assert.ok(verify(null, res.rawPayload, key, Buffer.from(res.headers['x-aslo-signature'] as string, 'base64')));
  });

  it('diffs: only what changed since next_since, and tombstones for what left', async () => {
    const first = (await t.app.inject({ url: '/services/index.json?sugar=0.118' })).json();
    const cursor = first.next_since as string;
    assert.ok(cursor);
    // Later than any change: nothing.
    const later = new Date(Date.parse(cursor) + 3600_000).toISOString();
    const empty = (await t.app.inject({ url: `/services/index.json?sugar=0.118&since=${encodeURIComponent(later)}` })).json();
    assert.deepEqual(empty.activities, []);
    assert.deepEqual(empty.removed, []);

    // Shift every recorded change an hour back, so "since cursor" means "after this point".
    await t.ctx.db
      .updateTable('catalog_changes')
      .set({ changed_at: new Date(Date.now() - 3600_000) })
      .execute();
    await t.app.services.updates.index.rebuild();
    const quiet = (await t.app.inject({ url: '/services/index.json?sugar=0.118' })).json().next_since as string;
    assert.ok(Date.parse(quiet) < Date.now() - 3000_000, 'a settled catalog hands out its last change as the cursor');
    // A re-poll of a quiet catalog costs nothing, and gives the same cursor back.
    const repoll = (await t.app.inject({ url: `/services/index.json?sugar=0.118&since=${encodeURIComponent(quiet)}` })).json();
    assert.deepEqual([repoll.activities, repoll.removed, repoll.next_since], [[], [], quiet]);
    // A cursor half an hour ago: after those changes, before the next ones.
    const base = new Date(Date.now() - 1800_000).toISOString();

    await ingest({ bundleId: 'org.feed.Paint', name: 'Paint', version: '71', exec: PY3 });
    await ingest({ bundleId: 'org.feed.Secret', name: 'Secret', version: '2', exec: PY3 }, { status: 'sandbox' });
    // Chat leaves: disabled.
    await t.ctx.db.updateTable('activities').set({ status: 'disabled' }).where('id', '=', ids.get('org.feed.Chat')!).execute();
    await t.app.services.updates.changed([ids.get('org.feed.Chat')!]);
    await t.app.services.updates.settled();

    const diff = (await t.app.inject({ url: `/services/index.json?sugar=0.110&since=${encodeURIComponent(base)}` })).json();
    // The cursor stands for the latest change at or before it (the diff from both is the same).
    assert.equal(diff.since, quiet);
    assert.deepEqual(diff.activities, [], 'Paint 71 does not run on 0.110');
    assert.deepEqual(diff.removed, ['org.feed.Chat', 'org.feed.Paint'], 'gone for this Sugar; Secret was never public');
    const diff118 = (await t.app.inject({ url: `/services/index.json?sugar=0.118&since=${encodeURIComponent(base)}` })).json();
    assert.deepEqual(
      diff118.activities.map((a: { bundle_id: string }) => a.bundle_id),
      ['org.feed.Paint'],
    );
    assert.deepEqual(
      diff118.activities[0].versions.map((v: { version: string }) => v.version),
      ['71', '70'],
    );
    assert.deepEqual(diff118.removed, ['org.feed.Chat']);
    // Those changes are still settling (recorded seconds ago): the cursor stays before them, so a
    // change still on its way to this process cannot be skipped; they come again next time.
    assert.ok(Date.parse(diff118.next_since) > Date.parse(base));
    assert.ok(Date.parse(diff118.next_since) <= Date.now() - 5000);
    const again = (await t.app.inject({ url: `/services/index.json?sugar=0.118&since=${encodeURIComponent(diff118.next_since)}` })).json();
    assert.deepEqual(
      again.activities.map((a: { bundle_id: string }) => a.bundle_id),
      ['org.feed.Paint'],
    );
    const full = (await t.app.inject({ url: '/services/index.json?sugar=0.118' })).rawPayload.length;
    const small = (await t.app.inject({ url: `/services/index.json?sugar=0.118&since=${encodeURIComponent(base)}` })).rawPayload.length;
    assert.ok(small < full);

    // The RDF endpoint sees the same changes.
    assert.equal(readRdfLikeSugar((await t.app.inject({ url: '/services/update-aslo.php?id=org.feed.Paint&appVersion=0.118' })).body).version, '71');
    assert.equal(readRdfLikeSugar((await t.app.inject({ url: '/services/update-aslo.php?id=org.feed.Chat&appVersion=0.110' })).body).update, false);
  });
});

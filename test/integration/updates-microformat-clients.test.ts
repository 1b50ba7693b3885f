// The microformat feed as the real Sugar clients read it: the Sugar version from sugar= or from the
// client's User-Agent (and, with neither, only what runs on every Sugar), text that Python 2's
// HTMLParser reads back unchanged, and a layout where no id or version is split between two of
// the client's 8 KiB network reads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { readMicroformatInChunks, readMicroformatLikeSugar } from '../helpers/updates-client.js';

const PY2 = 'sugar-activity act.Act';
const PY3 = 'sugar-activity3 act.Act';
const SHELL = 'bin/start-it';
const BULK = 40;

describe('the microformat feed never offers a laptop what it cannot run', () => {
  let t: TestApp;
  let dir: string;

  const ingest = async (a: Parameters<typeof buildActivity>[1]) => {
    const res = await t.app.services.catalog.ingest.ingestPath(await buildActivity(dir, a), { status: 'public' });
    assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
  };

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    await ingest({ bundleId: 'org.mf.Old', name: 'Old', version: '1.10', exec: PY2 });
    await ingest({ bundleId: 'org.mf.New', name: 'New', version: '1.10', exec: PY3 });
    await ingest({ bundleId: 'org.mf.Both', name: 'Both', version: '2', exec: PY2 });
    await ingest({ bundleId: 'org.mf.Both', name: 'Both', version: '3', exec: PY3 });
    await ingest({ bundleId: 'org.mf.Shell', name: 'Shell', version: '4', exec: SHELL });
    await ingest({ bundleId: "org.mf.Tom's", name: "Tom's", version: '1', exec: PY2 });
    for (let i = 0; i < BULK; i++)
      await ingest({ bundleId: `org.mf.bulk.Activity${String(i).padStart(2, '0')}`, name: `Bulk ${i}`, version: '1.10', exec: SHELL });
    await t.app.services.updates.settled();
    const c = t.app.services.collections;
    await c.create('school', { name: 'School set' });
    for (const id of ['org.mf.Old', 'org.mf.New', 'org.mf.Both', 'org.mf.Shell']) await c.add('school', id);
    await c.create('bulk', { name: 'Bulk', description: '' });
    for (let i = 0; i < BULK; i++) await c.add('bulk', `org.mf.bulk.Activity${String(i).padStart(2, '0')}`);
  });
  after(async () => {
    await t?.cleanup();
  });

  const feed = (q: string, ua?: string) => t.app.inject({ url: `/services/micro-format.php${q}`, headers: ua ? { 'user-agent': ua } : {} });
  const read = async (q: string, ua?: string) => {
    const res = await feed(q, ua);
    assert.equal(res.statusCode, 200, res.body);
    const m = readMicroformatLikeSugar(res.body, 'http://store.test/');
    return Object.fromEntries([...m.results].map(([id, r]) => [id, r.version]));
  };

  it('takes the Sugar from sugar=, else from User-Agent: Sugar/X.Y, else offers only what runs on every Sugar', async () => {
    // What `aslo collection create` printed until now: no sugar=, and a client that says nothing.
    assert.deepEqual(await read('?collection_nickname=school'), { 'org.mf.Shell': '4' }, 'no Python 2 or Python 3 activity runs on every Sugar');
    assert.deepEqual(await read('?collection_nickname=school', 'Sugar/0.112'), { 'org.mf.Old': '1.10', 'org.mf.Both': '2', 'org.mf.Shell': '4' });
    assert.deepEqual(await read('?collection_nickname=school', 'Sugar/0.122'), { 'org.mf.New': '1.10', 'org.mf.Both': '3', 'org.mf.Shell': '4' });
    // A development release reads as the release it leads to, like the updater's appVersion.
    assert.deepEqual(await read('?collection_nickname=school', 'Sugar/0.113'), await read('?collection_nickname=school', 'Sugar/0.114'));
    // sugar= wins over the User-Agent.
    assert.deepEqual(await read('?collection_nickname=school&sugar=0.112', 'Sugar/0.122'), { 'org.mf.Old': '1.10', 'org.mf.Both': '2', 'org.mf.Shell': '4' });
    // A User-Agent that names no Sugar the store knows: as if it said nothing.
    assert.deepEqual(await read('?collection_nickname=school', 'Sugar/9.9'), { 'org.mf.Shell': '4' });
    assert.deepEqual(await read('?collection_nickname=school', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0'), { 'org.mf.Shell': '4' });

    // The every-activity feed follows the same rule.
    const all = await read('');
    assert.deepEqual(
      Object.keys(all).filter((id) => !id.startsWith('org.mf.bulk.')),
      ['org.mf.Shell'],
    );
    assert.equal((await read('', 'Sugar/0.110'))['org.mf.Both'], '2');

    const res = await feed('?collection_nickname=school');
    assert.match(String(res.headers.vary), /user-agent/i, 'caches keep the answers for different Sugars apart');
    assert.doesNotMatch(String((await feed('?collection_nickname=school&sugar=0.112')).headers.vary), /user-agent/i);
    const unknown = await feed('?collection_nickname=school&sugar=0.300');
    assert.equal(unknown.statusCode, 400);
    assert.match(unknown.body, /SUGAR_VERSION_UNKNOWN/);
  });

  it("writes ' as itself in text, so Python 2's parser reads the id back unchanged", async () => {
    const res = await feed('?sugar=0.110');
    assert.match(res.body, /<td class="olpc-activity-id">org\.mf\.Tom's<\/td>/);
    for (const mode of ['py2', 'py3'] as const) {
      const m = readMicroformatInChunks(res.rawPayload, 'http://store.test/', mode);
      assert.equal(m.results.get("org.mf.Tom's")?.version, '1', `${mode}: ${[...m.results.keys()].join(' ')}`);
    }
  });

  it('no id or version text crosses an 8 KiB boundary, so a client reading 8 KiB at a time reads every entry right', async () => {
    // Textual positions (bytes) of every id and version in a body.
    const texts = (body: Buffer) => {
      const out: { text: string; start: number; end: number }[] = [];
      for (const cls of ['olpc-activity-id', 'olpc-activity-version']) {
        const open = Buffer.from(`<td class="${cls}">`);
        for (let at = body.indexOf(open); at >= 0; at = body.indexOf(open, at + 1)) {
          const start = at + open.length;
          const end = body.indexOf('</td>', start);
          out.push({ text: body.subarray(start, end).toString('utf8'), start, end });
        }
      }
      return out.sort((a, b) => a.start - b.start);
    };
    // Shift the entries (with the collection's description, above them) until one version would
    // start two bytes before the first 8 KiB boundary: "1." in one read, "10" in the next.
    const first = (await feed('?collection_nickname=bulk&sugar=0.110')).rawPayload;
    assert.ok(first.length > 8192 + 1024, `the feed spans more than one read (${first.length} bytes)`);
    const versions = texts(first).filter((x) => x.text === '1.10');
    const last = versions.filter((x) => x.start < 8192 - 2).at(-1)!;
    await t.app.services.collections.update('bulk', { description: 'x'.repeat(8192 - 2 - last.start) });

    for (const q of ['?collection_nickname=bulk&sugar=0.110', '?collection_nickname=bulk', '?sugar=0.110', '']) {
      const body = (await feed(q)).rawPayload;
      for (const x of texts(body)) {
        assert.equal(Math.floor(x.start / 8192), Math.floor((x.end - 1) / 8192), `${q}: "${x.text}" at bytes ${x.start}-${x.end} crosses an 8 KiB boundary`);
      }
      for (const mode of ['py2', 'py3'] as const) {
        const m = readMicroformatInChunks(body, 'http://store.test/', mode);
        for (let i = 0; i < BULK; i++) {
          const id = `org.mf.bulk.Activity${String(i).padStart(2, '0')}`;
          assert.equal(m.results.get(id)?.version, '1.10', `${q} read by ${mode} in 8 KiB chunks: ${id}`);
        }
        assert.equal([...m.results.keys()].filter((id) => id.startsWith('org.mf.bulk.')).length, BULK);
      }
      // The same bytes still read as one document.
      assert.equal(readMicroformatLikeSugar(body.toString('utf8'), 'http://store.test/').results.get('org.mf.bulk.Activity00')?.version, '1.10');
    }
  });
});

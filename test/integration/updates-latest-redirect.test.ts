// /downloads/latest/<id> asked by Sugar's Browse (User-Agent "... SugarLabs/0.120") gives the newest
// version that runs on that Sugar, the same one the updater (update-aslo.php) offers it, and never
// one that does not run there.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { readRdfLikeSugar } from '../helpers/updates-client.js';

const PY2 = 'sugar-activity act.Act';
const PY3 = 'sugar-activity3 act.Act';
const BROWSE = (v: string) => `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70 Safari/537.36 SugarLabs/${v}`;

describe('/downloads/latest for Sugar’s browser', () => {
  let t: TestApp;
  const files = new Map<string, string>();

  before(async () => {
    t = await createTestApp();
    const dir = await tempDir();
    const add = async (bundleId: string, version: string, exec: string, range: { sugarMin?: string; sugarMax?: string } = {}) => {
      const res = await t.app.services.catalog.ingest.ingestPath(
        await buildActivity(dir, { bundleId, name: bundleId.split('.').pop()!, version, exec, payload: version }),
        { status: 'public', ...range },
      );
      assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
      const f = await t.ctx.db.selectFrom('files').select(['id', 'file_name']).where('version_id', '=', res.versionId!).executeTakeFirstOrThrow();
      files.set(`${bundleId}@${version}`, `/downloads/file/${f.id}/${encodeURIComponent(f.file_name)}`);
    };
    // Newest first: a Python 3 version narrowed by its uploader to 0.116-0.118, an open Python 3
    // one, and a Python 2 one.
    await add('org.latest.Narrow', '1', PY2);
    await add('org.latest.Narrow', '2', PY3);
    await add('org.latest.Narrow', '3', PY3, { sugarMin: '0.116', sugarMax: '0.118' });
    // Only Python 2 versions: nothing runs on 0.120.
    await add('org.latest.Old', '7', PY2);
    await add('org.latest.Old', '8', PY2);
    await t.app.services.updates.settled();
  });
  after(async () => t?.cleanup());

  const latest = (id: string, ua?: string) => t.app.inject({ url: `/downloads/latest/${id}`, headers: ua ? { 'user-agent': ua } : {} });
  const offered = async (id: string, sugar: string) =>
    readRdfLikeSugar((await t.app.inject({ url: `/services/update-aslo.php?id=${id}&appVersion=${sugar}` })).body).version ?? null;

  it('redirects Browse to the newest version that runs on its Sugar, as the updater would offer it', async () => {
    for (const [sugar, want] of [
      ['0.120', '2'],
      ['0.118', '3'],
      ['0.116', '3'],
      ['0.112', '1'],
      ['0.119', '2'],
    ] as const) {
      const res = await latest('org.latest.Narrow', BROWSE(sugar));
      assert.equal(res.statusCode, 302, `Sugar ${sugar}: ${res.body}`);
      assert.equal(res.headers.location, files.get(`org.latest.Narrow@${want}`), `Sugar ${sugar} gets version ${want}`);
      assert.match(String(res.headers.vary), /user-agent/i);
      if (sugar !== '0.119') assert.equal(await offered('org.latest.Narrow', sugar), want);
    }
    // Not Sugar: the newest public version.
    assert.equal((await latest('org.latest.Narrow')).headers.location, files.get('org.latest.Narrow@3'));
    // The file name segment after the id changes nothing.
    assert.equal(
      (await t.app.inject({ url: '/downloads/latest/org.latest.Narrow/narrow.xo', headers: { 'user-agent': BROWSE('0.120') } })).headers.location,
      files.get('org.latest.Narrow@2'),
    );
  });

  it('when no version runs on that Sugar, says so instead of handing over one that cannot start', async () => {
    const res = await latest('org.latest.Old', BROWSE('0.120'));
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /NO_COMPATIBLE_VERSION/);
    assert.match(res.body, /0\.120/);
    assert.equal(await offered('org.latest.Old', '0.120'), null);
    // An older Sugar still gets the newest that runs there.
    assert.equal((await latest('org.latest.Old', BROWSE('0.110'))).headers.location, files.get('org.latest.Old@8'));
    assert.equal((await latest('no.such.Activity', BROWSE('0.120'))).statusCode, 404);
  });
});

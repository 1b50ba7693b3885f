// Non-public versions stay unknown to people who may not see them (the release notes of
// /services/update-info/<versionId>, the "unchanged" answer to an upload of the same bytes), and
// new bundle ids cannot pass for another author's or hide what they are: bidi controls, invisible
// and feed-unsafe characters, mixed scripts, case and confusable look-alikes; names with bidi
// overrides. Ids already in the catalog keep working.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir, type TestActivity } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { Browser, PASSWORD } from '../helpers/browser.js';

describe('non-public versions are not told to others', () => {
  let t: TestApp;
  let dir: string;
  let author: Person;
  let other: Person;
  let editor: Person;
  let sandboxBytes: Buffer;
  let pendingBytes: Buffer;
  let publicBytes: Buffer;
  const vid: Record<string, number> = {};

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    author = await person(t.app, { prefix: 'author' });
    other = await person(t.app, { prefix: 'other' });
    editor = await person(t.app, { role: 'editor' });
    const admin = await person(t.app, { role: 'admin' });
    const build = async (a: TestActivity) => readFile(await buildActivity(dir, a));
    const up = async (data: Buffer, name: string) => {
      const res = await apiUpload(t.app, author.token, data, name);
      assert.ok(res.statusCode < 300, res.body);
      return res.json() as { file_id: number };
    };
    const versionOf = async (fileId: number) =>
      (await t.ctx.db.selectFrom('files').select('version_id').where('id', '=', fileId).executeTakeFirstOrThrow()).version_id;
    sandboxBytes = await build({ bundleId: 'org.test.hidden.Sandbox', name: 'Hidden Sandbox', version: '1' });
    vid.sandbox = await versionOf((await up(sandboxBytes, 'sb-1.xo')).file_id);
    await t.ctx.db.updateTable('versions').set({ release_notes: 'secret sandbox notes' }).where('id', '=', vid.sandbox).execute();
    publicBytes = await build({ bundleId: 'org.test.hidden.Public', name: 'Hidden Public', version: '1' });
    vid.public = await versionOf((await up(publicBytes, 'pub-1.xo')).file_id);
    const a = await t.app.publishing.activityByBundleId('org.test.hidden.Public');
    await t.app.review.nominate(author.actor, a.id, 'please');
    await t.app.review.decide(admin.actor, 'activity', a.id, 'approve', 'ok', ['1']);
    pendingBytes = await build({ bundleId: 'org.test.hidden.Public', name: 'Hidden Public', version: '2', payload: 'v2' });
    vid.pending = await versionOf((await up(pendingBytes, 'pub-2.xo')).file_id);
    await t.ctx.db.updateTable('versions').set({ release_notes: 'unreleased notes' }).where('id', '=', vid.pending).execute();
  });
  after(async () => {
    await t?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /services/update-info/<versionId> of a non-public version only to its authors, editors and admins', async () => {
    const anonymous = new Browser(t.app);
    const notFound = await anonymous.get(`/services/update-info/${99999}`);
    assert.equal(notFound.statusCode, 404);
    for (const key of ['sandbox', 'pending'] as const) {
      for (const b of [anonymous, other.browser]) {
        const res = await b.get(`/services/update-info/${vid[key]}`);
        assert.equal(res.statusCode, 404, `${key}: ${res.body}`);
        assert.equal(res.json().error.code, notFound.json().error.code);
        assert.doesNotMatch(res.body, /notes|Hidden/);
      }
      for (const b of [author.browser, editor.browser]) {
        const res = await b.get(`/services/update-info/${vid[key]}`);
        assert.equal(res.statusCode, 200, key);
        assert.match(res.body, key === 'sandbox' ? /secret sandbox notes/ : /unreleased notes/);
        assert.equal(res.headers['cache-control'], 'private, no-store');
      }
    }
    const pub = await anonymous.get(`/services/update-info/${vid.public}`);
    assert.equal(pub.statusCode, 200);
    assert.match(pub.headers['cache-control'] as string, /public/);
  });

  it('answers an upload of the same bytes as a non-public version like any upload of that id by a non-author', async () => {
    for (const [bytes, name] of [
      [sandboxBytes, 'sb-1.xo'],
      [pendingBytes, 'pub-2.xo'],
    ] as const) {
      const mine = await apiUpload(t.app, author.token, bytes, name);
      assert.equal(mine.statusCode, 200, mine.body);
      assert.equal(mine.json().outcome, 'unchanged');
      const theirs = await apiUpload(t.app, other.token, bytes, name);
      assert.equal(theirs.statusCode, 403, theirs.body);
      const body = theirs.json();
      assert.equal(body.outcome, 'rejected');
      assert.equal(body.errors[0].code, 'INGEST_NOT_AUTHOR');
      assert.equal(body.activity_status, null);
      assert.equal(body.file_status, null);
      assert.equal(body.file_id, null);
      assert.equal(body.hub_url, null);
      // The same answer as for a different file of the same id.
      const different = await readFile(await buildActivity(dir, { bundleId: body.bundle_id, name: 'X', version: '9', payload: String(Math.random()) }));
      const diff = await apiUpload(t.app, other.token, different, 'x.xo');
      assert.equal(diff.statusCode, theirs.statusCode);
      assert.equal(diff.json().errors[0].code, body.errors[0].code);
      // Editors may know.
      const ed = await apiUpload(t.app, editor.token, bytes, name);
      assert.equal(ed.json().outcome, 'unchanged');
    }
    // A public file is public: anyone may hear it is there.
    const pub = await apiUpload(t.app, other.token, publicBytes, 'pub-1.xo');
    assert.equal(pub.statusCode, 200);
    assert.equal(pub.json().outcome, 'unchanged');
  });
});

describe('new bundle ids and names that pass for something else are refused', () => {
  let t: TestApp;
  let dir: string;
  let alice: Person;
  let mallory: Person;
  let n = 0;

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    alice = await person(t.app, { prefix: 'alice' });
    mallory = await person(t.app, { prefix: 'mallory' });
    const first = await upload(alice, 'org.example.Paint');
    assert.equal(first.statusCode, 201, first.body);
  });
  after(async () => {
    await t?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  async function upload(p: Person, bundleId: string, extra: Partial<TestActivity> = {}, accept?: string) {
    const data = await readFile(await buildActivity(dir, { bundleId, name: 'Some Activity', version: '1', payload: String(++n), ...extra }));
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/uploads?filename=a${n}.xo`,
      payload: data,
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${p.token}`, ...(accept ? { 'accept-language': accept } : {}) },
    });
  }
  const code = (res: { json(): { errors: { code: string; params?: Record<string, string> }[] } }) => res.json().errors[0]?.code;

  it("refuses a look-alike of another author's id: case, Cyrillic letters, digits for letters, invisible characters", async () => {
    for (const id of ['org.example.paint', 'ORG.EXAMPLE.PAINT', 'org.example.Раint', 'org.ехаmple.Paint', 'org.examp1e.Paint', 'org.example.Pa\u0131nt']) {
      const res = await upload(mallory, id);
      assert.equal(res.statusCode, 422, `${id}: ${res.body}`);
      assert.match(code(res), /^BUNDLE_ID_(CONFUSABLE|MIXED_SCRIPT)$/, id);
    }
    const res = await upload(mallory, 'org.example.paint');
    assert.equal(code(res), 'BUNDLE_ID_CONFUSABLE');
    assert.doesNotMatch(res.json().errors[0].message, /org\.example\.Paint/, 'the other id is not named');
    assert.equal(
      (await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', 'in', ['org.example.paint', 'org.example.Раint']).execute()).length,
      0,
    );
  });

  it('lets the same author use a case variant of their own id, and anyone an unrelated id', async () => {
    assert.equal((await upload(alice, 'org.example.PAINT')).statusCode, 201);
    assert.equal((await upload(mallory, 'org.example.Painter')).statusCode, 201);
  });

  it('refuses bidi controls, invisible characters, feed-unsafe characters and mixed scripts in a new id', async () => {
    const cases: [string, string, string | undefined][] = [
      ['org.example.\u202Eyalp', 'BUNDLE_ID_UNSAFE_CHARACTERS', 'bidi'],
      ['org.example.Pl\u200Fay', 'BUNDLE_ID_UNSAFE_CHARACTERS', 'bidi'],
      ['org.example.Pl\u200Bay', 'BUNDLE_ID_UNSAFE_CHARACTERS', 'invisible'],
      ['org.example.Pl\u00ADay', 'BUNDLE_ID_UNSAFE_CHARACTERS', 'invisible'],
      ['org.example.Tom#Jerry', 'BUNDLE_ID_UNSAFE_CHARACTERS', 'feed'],
      ['org.example.Tom&Jerry', 'BUNDLE_ID_UNSAFE_CHARACTERS', 'feed'],
      ['org.example.Gаme', 'BUNDLE_ID_MIXED_SCRIPT', undefined],
    ];
    for (const [id, c, variant] of cases) {
      const res = await upload(mallory, id);
      assert.equal(res.statusCode, 422, `${JSON.stringify(id)}: ${res.body}`);
      assert.equal(code(res), c, JSON.stringify(id));
      assert.equal(res.json().errors[0].params?.variant, variant, JSON.stringify(id));
    }
    // One script per part is fine, whatever the script.
    assert.equal((await upload(mallory, 'org.example.Калькулятор')).statusCode, 201);
    assert.equal((await upload(mallory, 'jp.example.ひらがなカタカナ漢字')).statusCode, 201);
  });

  it('refuses names with bidi overrides, in activity.info and in translations', async () => {
    const plain = await upload(mallory, 'org.example.NameOne', { name: 'Good\u202Edab' });
    assert.equal(code(plain), 'NAME_BIDI_OVERRIDE');
    const linfo = await upload(mallory, 'org.example.NameTwo', { locales: { es: { name: 'Bueno\u2067x\u2069' } } });
    assert.equal(code(linfo), 'NAME_BIDI_OVERRIDE');
    assert.equal(linfo.json().errors[0].params?.where, 'locale/es');
    // A right-to-left name without overrides is fine.
    assert.equal((await upload(mallory, 'org.example.NameThree', { locales: { ar: { name: 'رسم' } } })).statusCode, 201);
    // Display names and listing names too.
    const b = new Browser(t.app);
    const reg = await b.submit('/account/register', '/account/register', { email: 'bidi@example.org', display_name: 'admin\u202Etset', password: PASSWORD });
    assert.equal(reg.statusCode, 400);
    // The form says why in a sentence; the code stays out of the page's text.
    assert.match(reg.body, /bidirectional/);
    const a = await t.app.publishing.activityByBundleId('org.example.NameThree');
    await assert.rejects(t.app.listing.update(mallory.actor, a.id, { name: 'x\u202Dy' }), /NAME_BIDI_OVERRIDE|bidirectional/);
  });

  it("tells these refusals in the developer's language", async () => {
    const res = await upload(mallory, 'org.example.pAint', {}, 'es');
    assert.equal(code(res), 'BUNDLE_ID_CONFUSABLE');
    assert.match(res.json().errors[0].message_localized, /se ve igual que el identificador de una actividad de otro autor/);
    const fr = await upload(mallory, 'org.example.Jo&e', {}, 'fr');
    assert.match(fr.json().errors[0].message_localized, /que Sugar lit mal dans les flux/);
  });

  it('keeps existing ids as they are: a new version of an activity imported with an id that is refused today is accepted', async () => {
    const odd = 'org.example.Tom#s';
    const data = await readFile(await buildActivity(dir, { bundleId: odd, name: 'Toms', version: '1' }));
    const { writeFile } = await import('node:fs/promises');
    const path = `${dir}/odd.xo`;
    await writeFile(path, data);
    const imported = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public', actorLabel: 'cli:import' });
    assert.equal(imported.outcome, 'imported', JSON.stringify(imported.errors));
    const a = await t.app.publishing.activityByBundleId(odd);
    await t.ctx.db.insertInto('activity_authors').values({ activity_id: a.id, user_id: alice.id, role: 'owner', created_at: new Date() }).execute();
    const v2 = await upload(alice, odd, { version: '2' });
    assert.equal(v2.statusCode, 201, v2.body);
    // And the id of a look-alike of it from someone else is still refused.
    assert.equal(code(await upload(mallory, 'ORG.example.Tom#s')), 'BUNDLE_ID_UNSAFE_CHARACTERS');
  });
});

// The store's page of an activity that is not public: a preview for its authors, editors and
// administrators ("Preview — not public", never stored by any cache), the same 404 as for no such
// activity for everyone else; its icon likewise. Once approved, the ordinary public page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { Browser, PASSWORD } from '../helpers/browser.js';

const BUNDLE = 'org.test.preview.Comet';

describe('preview of an activity that is not public', () => {
  let t: TestApp;
  let dev: Person;
  let editor: Person;
  let admin: Person;
  let stranger: Person;
  before(async () => {
    t = await createTestApp();
    dev = await person(t.app);
    editor = await person(t.app, { role: 'editor' });
    admin = await person(t.app, { role: 'admin' });
    stranger = await person(t.app);
    const data = await readFile(await buildActivity(await tempDir(), { bundleId: BUNDLE, name: 'Comet', version: '1', summary: 'Follow a comet.' }));
    const res = await apiUpload(t.app, dev.token, data, 'Comet-1.xo');
    assert.ok(res.statusCode < 300, res.body);
  });
  after(async () => t.cleanup());

  const page = `/en/activity/${BUNDLE}`;

  it('is shown to its authors, editors and administrators with a banner, never cached', async () => {
    for (const p of [dev, editor, admin]) {
      for (const path of [page, `${page}/versions`]) {
        const res = await p.browser.get(path);
        assert.equal(res.statusCode, 200, `${path}: ${res.body.slice(0, 300)}`);
        assert.match(res.body, /class="preview-banner"[^>]*><strong>Preview — not public<\/strong>/);
        assert.equal(res.headers['cache-control'], 'private, no-store');
      }
    }
    const icon = await dev.browser.get(`/icon/${BUNDLE}/1.svg`);
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['cache-control'], 'private, no-store');
  });

  it('is a 404 for anyone else, logged in or not, like an activity that does not exist', async () => {
    const anonymous = new Browser(t.app);
    for (const b of [anonymous, stranger.browser]) {
      for (const path of [page, `${page}/versions`, `/icon/${BUNDLE}/1.svg`]) {
        const res = await b.get(path);
        assert.equal(res.statusCode, 404, path);
        assert.doesNotMatch(res.body, /preview-banner|Follow a comet/);
        // Word for word the answer for an id no activity has.
        const none = await b.get(path.replace(BUNDLE, 'org.test.preview.Nothing'));
        assert.equal(res.body.replaceAll(BUNDLE, 'ID'), none.body.replaceAll('org.test.preview.Nothing', 'ID'), path);
      }
    }
  });

  it('after logging in, editors land on their queue, developers on the hub, anyone on the page asked for', async () => {
    const landing = async (p: Person, next?: string) => {
      const b = new Browser(t.app);
      await b.get(next ? `/account/login?next=${encodeURIComponent(next)}` : '/account/login');
      const res = await b.post('/account/login', { email: p.email, password: PASSWORD, next: next ?? '' });
      assert.equal(res.statusCode, 303);
      return res.headers.location;
    };
    assert.equal(await landing(editor), '/editors/queue');
    assert.equal(await landing(admin), '/editors/queue');
    assert.equal(await landing(dev), '/developers');
    assert.equal(await landing(editor, '/account'), '/account');
  });

  it('the store’s account menu logs out through a page with one button', async () => {
    const b = new Browser(t.app);
    await b.login(stranger.email, PASSWORD);
    const store = await b.get('/en/');
    assert.match(store.body, /<a href="\/account\/logout">Log out<\/a>/);
    const confirm = await b.get('/account/logout');
    assert.equal(confirm.statusCode, 200);
    assert.match(confirm.body, /<form method="post" action="\/account\/logout"/);
    assert.equal((await b.post('/account/logout')).statusCode, 303);
    assert.equal((await b.get('/account/logout')).headers.location, '/');
  });

  it('becomes the ordinary public page once approved', async () => {
    const a = await t.app.publishing.activityByBundleId(BUNDLE);
    await dev.browser.get(`/developers/activities/${a.id}`);
    assert.equal((await dev.browser.post(`/developers/activities/${a.id}/nominate`, { message: 'Ready.' })).statusCode, 303);
    await t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'Good.', ['1']);
    const res = await new Browser(t.app).get(page);
    assert.equal(res.statusCode, 200);
    assert.doesNotMatch(res.body, /preview-banner/);
    assert.match(String(res.headers['cache-control']), /^public/);
    assert.match((await new Browser(t.app).get(`/icon/${BUNDLE}/1.svg`)).headers['cache-control'] as string, /^public/);
  });
});

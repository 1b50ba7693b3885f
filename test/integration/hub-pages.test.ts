// The web hub as a person uses it: a new developer registers, verifies, uploads in the browser,
// edits the listing, adds a screenshot, nominates; an editor reviews in the queue and approves;
// the activity is public in the API; a second developer cannot publish over it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { Browser, PASSWORD, linkInMail, mailsTo, uniqueEmail } from '../helpers/browser.js';
import { person, type Person } from '../helpers/people.js';

describe('developer hub pages', () => {
  let t: TestApp;
  let dir: string;
  let editor: Person;
  let admin: Person;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    editor = await person(t.app, { role: 'editor' });
    admin = await person(t.app, { role: 'admin' });
  });
  after(async () => {
    await t.cleanup();
  });

  it('takes a new developer from registration to a public activity', async () => {
    const b = new Browser(t.app);
    const email = uniqueEmail('newdev');
    assert.equal((await b.submit('/account/register', '/account/register', { email, display_name: 'New Dev', password: PASSWORD })).statusCode, 303);
    const link = linkInMail(t.ctx, email, '/account/verify');
    await b.get(link);
    await b.post('/account/verify', { token: new URL(link, 'http://x').searchParams.get('token')! });
    await b.login(email, PASSWORD);

    const file = await readFile(await buildActivity(dir, { bundleId: 'org.test.hub.Paint', name: 'Hub <Paint>', version: '1', summary: 'Paint things' }));
    await b.get('/developers/upload');
    const up = await b.postMultipart('/developers/upload', { release_notes: 'First!' }, { field: 'file', name: 'Paint-1.xo', data: file });
    assert.equal(up.statusCode, 201, up.body.slice(0, 2000));
    assert.match(up.body, /activity <strong>sandbox<\/strong>/);
    const a = await t.app.publishing.activityByBundleId('org.test.hub.Paint');

    const dash = await b.get('/developers');
    assert.ok(dash.body.includes('Hub &lt;Paint&gt;'), 'names are escaped');
    assert.ok(!dash.body.includes('Hub <Paint>'));
    const pageRes = await b.get(`/developers/activities/${a.id}`);
    assert.equal(pageRes.statusCode, 200);
    assert.match(pageRes.body, /Nominate for review/);

    // Listing: override texts (the description is sanitized), links, tags.
    const saved = await b.post(`/developers/activities/${a.id}/listing`, {
      name: 'Paint Deluxe',
      summary: 'Draw and paint',
      description: '<p>Hello</p><script>alert(1)</script><ul><li>one</li></ul>',
      homepage_url: 'https://example.org/paint',
      support_url: 'javascript:alert(1)',
      tags: 'art, drawing',
    });
    assert.equal(saved.statusCode, 400);
    assert.match(saved.body, /LISTING_LINK_INVALID/);
    await b.get(`/developers/activities/${a.id}`);
    const ok = await b.post(`/developers/activities/${a.id}/listing`, {
      name: 'Paint Deluxe',
      summary: 'Draw and paint',
      description: '<p>Hello</p><script>alert(1)</script><ul><li>one</li></ul>',
      homepage_url: 'https://example.org/paint',
      support_url: '',
      tags: 'art, drawing',
    });
    assert.equal(ok.statusCode, 303);
    const text = await t.ctx.db
      .selectFrom('activity_texts')
      .selectAll()
      .where('activity_id', '=', a.id)
      .where('origin', '=', 'developer')
      .executeTakeFirstOrThrow();
    assert.equal(text.name, 'Paint Deluxe');
    assert.equal(text.description, '<p>Hello</p><ul><li>one</li></ul>');

    // Screenshot: checked by content, resized.
    const png = await sharp({ create: { width: 2000, height: 1500, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    await b.get(`/developers/activities/${a.id}`);
    const shot = await b.postMultipart(
      `/developers/activities/${a.id}/screenshots`,
      { caption: 'Main window' },
      { field: 'screenshot', name: 'shot.png', data: png, type: 'image/png' },
    );
    assert.equal(shot.statusCode, 303, shot.body.slice(0, 1000));
    const s = await t.ctx.db.selectFrom('screenshots').selectAll().where('activity_id', '=', a.id).executeTakeFirstOrThrow();
    assert.deepEqual([s.width, s.height, s.content_type], [1280, 960, 'image/png']);
    await b.get(`/developers/activities/${a.id}`);
    const fake = await b.postMultipart(
      `/developers/activities/${a.id}/screenshots`,
      {},
      { field: 'screenshot', name: 'evil.png', data: Buffer.from('<svg onload=alert(1)>'), type: 'image/png' },
    );
    assert.equal(fake.statusCode, 415);
    assert.match(fake.body, /SCREENSHOT_NOT_IMAGE/);
    assert.equal((await t.app.inject({ url: `/screenshots/${s.id}` })).statusCode, 404, 'not public yet');
    assert.equal((await b.get(`/screenshots/${s.id}`)).statusCode, 200);

    // Nominate.
    await b.get(`/developers/activities/${a.id}`);
    const nom = await b.post(`/developers/activities/${a.id}/nominate`, { message: 'Please review: a paint program for young children.' });
    assert.equal(nom.statusCode, 303);

    // The editor's queue and review page.
    const queue = await editor.browser.get('/editors/queue');
    assert.equal(queue.statusCode, 200);
    assert.ok(queue.body.includes(`/editors/review/activity/${a.id}`));
    const review = await editor.browser.get(`/editors/review/activity/${a.id}`);
    assert.equal(review.statusCode, 200);
    assert.match(review.body, /<td[^>]*>activity\/activity.info<\/td>/);
    assert.match(review.body, /This is the first version/);
    // The form carries the versions the page shows.
    assert.match(review.body, /<input type="hidden" name="versions" value="1">/);
    const noComment = await editor.browser.post(`/editors/review/activity/${a.id}`, { action: 'approve', comment: '' });
    assert.equal(noComment.statusCode, 400);
    assert.match(noComment.body, /COMMENT_REQUIRED/);
    await editor.browser.get(`/editors/review/activity/${a.id}`);
    const approve = await editor.browser.post(`/editors/review/activity/${a.id}`, { action: 'approve', comment: 'Lovely. Approved.', versions: '1' });
    assert.equal(approve.statusCode, 303);

    const api = await t.app.inject({ url: '/api/v1/activities/org.test.hub.Paint' });
    assert.equal(api.statusCode, 200);
    assert.equal(api.json().status, 'public');
    assert.equal((await t.app.inject({ url: `/screenshots/${s.id}` })).statusCode, 200);
    assert.match(mailsTo(t.ctx, email).at(-1)!.text, /Lovely\. Approved\./);
    const history = await b.get(`/developers/activities/${a.id}`);
    assert.match(history.body, /Lovely\. Approved\./);

    // A second developer cannot publish over it, in the browser either; nothing is stored.
    const other = await person(t.app);
    const before = (await t.ctx.db.selectFrom('files').select('id').execute()).length;
    await other.browser.get('/developers/upload');
    const hijack = await other.browser.postMultipart(
      '/developers/upload',
      {},
      {
        field: 'file',
        name: 'Paint-2.xo',
        data: await readFile(await buildActivity(dir, { bundleId: 'org.test.hub.Paint', name: 'Hub Paint', version: '2' })),
      },
    );
    assert.equal(hijack.statusCode, 403);
    assert.match(hijack.body, /INGEST_NOT_AUTHOR/);
    assert.equal((await t.ctx.db.selectFrom('files').select('id').execute()).length, before);
    assert.equal((await other.browser.get(`/developers/activities/${a.id}`)).statusCode, 403);
  });

  it('shows the audit log to administrators only, filterable', async () => {
    assert.equal((await editor.browser.get('/admin/audit')).statusCode, 403);
    const all = await admin.browser.get('/admin/audit');
    assert.equal(all.statusCode, 200);
    const filtered = await admin.browser.get('/admin/audit?action=review.approve');
    assert.equal(filtered.statusCode, 200);
    assert.match(filtered.body, /review\.approve/);
    assert.doesNotMatch(filtered.body, /<td[^>]*>user\.create<\/td>/);
    const json = await admin.browser.get('/admin/audit.json?action=user.*');
    assert.ok(json.json().items.every((e: { action: string }) => e.action.startsWith('user.')));
  });

  it('lets administrators change roles, mark activities trusted and reassign them', async () => {
    const dev = await person(t.app);
    const heir = await person(t.app);
    const file = await readFile(await buildActivity(dir, { bundleId: 'org.test.hub.Orphan', name: 'Orphan', version: '1' }));
    await dev.browser.get('/developers/upload');
    await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'O.xo', data: file });
    const a = await t.app.publishing.activityByBundleId('org.test.hub.Orphan');
    await admin.browser.get(`/developers/activities/${a.id}`);
    const re = await admin.browser.post(`/admin/activities/${a.id}/reassign`, {
      email: heir.email,
      reason: 'Original author unreachable for two years',
      replace: '1',
    });
    assert.equal(re.statusCode, 303);
    const authors = await t.ctx.db.selectFrom('activity_authors').select(['user_id', 'role']).where('activity_id', '=', a.id).execute();
    assert.deepEqual(authors, [{ user_id: heir.id, role: 'owner' }]);
    await admin.browser.get('/admin/users');
    const role = await admin.browser.post(`/admin/users/${dev.id}/role`, { role: 'editor', reason: 'helps a lot' });
    assert.equal(role.statusCode, 303);
    assert.equal((await t.app.accounts.getUser(dev.id))!.role, 'editor');
  });
});

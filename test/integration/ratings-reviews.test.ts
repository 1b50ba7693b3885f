// Ratings, reviews, replies, flags and their moderation, abuse reports, and the activity's
// average and Bayesian rating kept up to date.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { Browser } from '../helpers/browser.js';

describe('ratings, reviews and reports', () => {
  let t: TestApp;
  let dev: Person;
  let editor: Person;
  let admin: Person;
  let activityId: number;
  const BID = 'org.test.rate.Star';
  const stats = async () =>
    t.ctx.db.selectFrom('activities').select(['rating_count', 'rating_average', 'rating_bayesian']).where('id', '=', activityId).executeTakeFirstOrThrow();

  before(async () => {
    t = await createTestApp();
    const dir = await tempDir();
    dev = await person(t.app);
    editor = await person(t.app, { role: 'editor' });
    admin = await person(t.app, { role: 'admin' });
    const res = await apiUpload(t.app, dev.token, await readFile(await buildActivity(dir, { bundleId: BID, name: 'Star', version: '1' })), 'Star-1.xo');
    activityId = (await t.app.publishing.activityByBundleId(BID)).id;
    assert.equal(res.statusCode, 201);
    await t.app.review.nominate(dev.actor, activityId, 'please');
    await t.app.review.decide(editor.actor, 'activity', activityId, 'approve', 'ok', ['1']);
  });
  after(async () => {
    await t.cleanup();
  });

  it('keeps one review per user (edit replaces), refuses authors and anonymous visitors', async () => {
    const u1 = await person(t.app);
    await u1.browser.get(`/ratings/${BID}`);
    assert.equal((await u1.browser.post(`/ratings/${BID}`, { rating: '5', body: 'Great <script>alert(1)</script>' })).statusCode, 303);
    assert.deepEqual(await stats(), { rating_count: 1, rating_average: 5, rating_bayesian: 5 });
    await u1.browser.get(`/ratings/${BID}`);
    assert.equal((await u1.browser.post(`/ratings/${BID}`, { rating: '3', body: 'Good' })).statusCode, 303);
    const rows = await t.ctx.db.selectFrom('reviews').selectAll().where('activity_id', '=', activityId).execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.rating, 3);
    assert.equal((await stats()).rating_average, 3);

    await dev.browser.get(`/ratings/${BID}`);
    const own = await dev.browser.post(`/ratings/${BID}`, { rating: '5' });
    assert.equal(own.statusCode, 403);
    assert.match(own.body, /RATING_OWN_ACTIVITY/);
    const anon = new Browser(t.app);
    const page = await anon.get(`/ratings/${BID}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Log in to rate/);
    assert.equal((await anon.post(`/ratings/${BID}`, { rating: '1' })).statusCode, 401);
    const bad = await u1.browser.post(`/ratings/${BID}`, { rating: '9' });
    assert.match(bad.body, /RATING_INVALID|CSRF_INVALID/);
  });

  it('computes the average and the Bayesian rating, lets authors reply once, escapes review text', async () => {
    const u2 = await person(t.app);
    await u2.browser.get(`/ratings/${BID}`);
    await u2.browser.post(`/ratings/${BID}`, { rating: '4', body: 'Nice <b>bold</b>' });
    const s = await stats();
    assert.equal(s.rating_count, 2);
    assert.equal(s.rating_average, 3.5);
    // Prior: 5 votes at the mean of all ratings (3.5 here): (5*3.5 + 7) / 7 = 3.5.
    assert.equal(s.rating_bayesian, 3.5);
    const page = await dev.browser.get(`/ratings/${BID}`);
    assert.ok(page.body.includes('Nice &lt;b&gt;bold&lt;/b&gt;'));
    assert.ok(!page.body.includes('<b>bold</b>'));
    const review = await t.ctx.db.selectFrom('reviews').select('id').where('user_id', '=', u2.id).executeTakeFirstOrThrow();
    assert.equal((await dev.browser.post(`/ratings/review/${review.id}/reply`, { body: 'Thanks!' })).statusCode, 303);
    await dev.browser.get(`/ratings/${BID}`);
    const twice = await dev.browser.post(`/ratings/review/${review.id}/reply`, { body: 'Again' });
    assert.equal(twice.statusCode, 409);
    assert.match(twice.body, /REPLY_EXISTS/);
    await u2.browser.get(`/ratings/${BID}`);
    assert.equal((await u2.browser.post(`/ratings/review/${review.id}/reply`, { body: 'me too' })).statusCode, 403);
  });

  it('lets users flag reviews once and editors moderate them, updating the averages', async () => {
    const flagger = await person(t.app);
    const target = await t.ctx.db
      .selectFrom('reviews')
      .select(['id', 'user_id'])
      .where('activity_id', '=', activityId)
      .where('rating', '=', 3)
      .executeTakeFirstOrThrow();
    await flagger.browser.get(`/ratings/${BID}`);
    assert.equal((await flagger.browser.post(`/ratings/review/${target.id}/flag`, { reason: 'spam', message: 'ad' })).statusCode, 303);
    await flagger.browser.get(`/ratings/${BID}`);
    assert.equal((await flagger.browser.post(`/ratings/review/${target.id}/flag`, { reason: 'spam' })).statusCode, 409);
    assert.equal((await flagger.browser.get('/editors/flags')).statusCode, 403);
    const queue = await editor.browser.get('/editors/flags');
    assert.match(queue.body, /spam/);
    const noComment = await editor.browser.post(`/editors/flags/${target.id}`, { action: 'hide', comment: '' });
    assert.equal(noComment.statusCode, 400);
    await editor.browser.get('/editors/flags');
    assert.equal((await editor.browser.post(`/editors/flags/${target.id}`, { action: 'hide', comment: 'Advertising.' })).statusCode, 303);
    const s = await stats();
    assert.equal(s.rating_count, 1);
    assert.equal(s.rating_average, 4);
    assert.doesNotMatch((await editor.browser.get('/editors/flags')).body, /spam/);
    const audit = await t.ctx.db.selectFrom('audit_log').select(['action', 'reason']).where('action', '=', 'rating.moderate.hide').executeTakeFirstOrThrow();
    assert.equal(audit.reason, 'Advertising.');
  });

  it("takes abuse reports from anyone into the administrators' queue", async () => {
    const anon = new Browser(t.app, '10.1.2.3');
    await anon.get(`/ratings/${BID}`);
    const r = await anon.post(`/report/${BID}`, { reason: 'malware', message: 'It deletes my journal.' });
    assert.equal(r.statusCode, 303);
    assert.equal((await editor.browser.get('/admin/reports')).statusCode, 403);
    const q = await admin.browser.get('/admin/reports');
    assert.match(q.body, /It deletes my journal\./);
    assert.match(q.body, /anonymous 10\.1\.2\.3/);
    const report = await t.ctx.db.selectFrom('abuse_reports').select('id').executeTakeFirstOrThrow();
    assert.equal((await admin.browser.post(`/admin/reports/${report.id}/resolve`, { resolution: 'Checked: false alarm.' })).statusCode, 303);
    assert.doesNotMatch((await admin.browser.get('/admin/reports')).body, /It deletes my journal/);
    const bad = await anon.post(`/report/${BID}`, { reason: 'whatever', message: 'x' });
    assert.equal(bad.statusCode, 400);
  });
});

describe('abuse report rate limits', () => {
  let t: TestApp;
  const BID = 'org.test.rate.Limited';

  before(async () => {
    // Reports have their own limits (rateLimits.reportPerAddress / reportPerAccount), apart from registration's.
    t = await createTestApp({
      env: { ASLO_RATE_LIMITS_REPORT_PER_ADDRESS: '3', ASLO_RATE_LIMITS_REPORT_PER_ACCOUNT: '2', ASLO_RATE_LIMITS_REGISTER_PER_ADDRESS: '1' },
    });
    const dir = await tempDir();
    const dev = await person(t.app);
    const editor = await person(t.app, { role: 'editor' });
    const res = await apiUpload(t.app, dev.token, await readFile(await buildActivity(dir, { bundleId: BID, name: 'Limited', version: '1' })), 'Limited-1.xo');
    assert.equal(res.statusCode, 201);
    const id = (await t.app.publishing.activityByBundleId(BID)).id;
    await t.app.review.nominate(dev.actor, id, 'please');
    await t.app.review.decide(editor.actor, 'activity', id, 'approve', 'ok', ['1']);
  });
  after(async () => {
    await t.cleanup();
  });

  const report = (b: Browser, n: number) => b.post(`/report/${BID}`, { reason: 'spam', message: `report ${n}` });

  it('limits reports per address with their own limit, not the registration one', async () => {
    const anon = new Browser(t.app, '10.20.0.1');
    await anon.get(`/ratings/${BID}`);
    // Registration's limit (1) is used up from this address; reports do not care.
    assert.equal(
      (await anon.submit('/account/register', '/account/register', { email: 'someone-rl@example.org', display_name: 'S', password: 'a long enough password' }))
        .statusCode,
      303,
    );
    assert.equal(
      (await anon.submit('/account/register', '/account/register', { email: 'someone-rl2@example.org', display_name: 'S', password: 'a long enough password' }))
        .statusCode,
      429,
    );
    await anon.get(`/ratings/${BID}`);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await report(anon, i)).statusCode);
    assert.deepEqual(codes, [303, 303, 303, 429]);
    const limited = await report(anon, 5);
    assert.equal(limited.statusCode, 429);
    assert.match(limited.body, /RATE_LIMITED/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const stored = await t.ctx.db.selectFrom('abuse_reports').select('message').where('reporter_address', '=', '10.20.0.1').execute();
    assert.equal(stored.length, 3, 'refused reports are not stored');
    // Another address is not affected.
    const other = new Browser(t.app, '10.20.0.2');
    await other.get(`/ratings/${BID}`);
    assert.equal((await report(other, 6)).statusCode, 303);
  });

  it('limits reports per account, whatever the address', async () => {
    const user = await person(t.app, { prefix: 'reporter' });
    const codes: number[] = [];
    for (const [i, addr] of ['10.30.0.1', '10.30.0.2', '10.30.0.3'].entries()) {
      const b = new Browser(t.app, addr);
      for (const [k, v] of user.browser.cookies) b.cookies.set(k, v);
      await b.get(`/ratings/${BID}`);
      codes.push((await report(b, 10 + i)).statusCode);
    }
    assert.deepEqual(codes, [303, 303, 429]);
  });
});

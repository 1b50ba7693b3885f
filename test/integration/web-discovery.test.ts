// What children and teachers find on the store's pages: category counts that agree with the
// category's listing for the Sugar viewing it, the language filter, new this month, "more by" and
// "similar", the ratings summary and latest reviews on the activity page (with the ways to write
// one and to report), the ratings page titled with the activity's name and its menu starting on
// no rating, developer text with its own direction, ids wrapping at dots, tag chips translated,
// and error pages that say sentences, never codes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { person } from '../helpers/people.js';
import { Browser } from '../helpers/browser.js';
import { loadSampleContent } from '../../src/build/samples.js';

const SUGAR_0120 = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) SugarLabs/0.120';
const ALPHA = 'org.test.discovery.AlphaKites';
const BETA = 'org.test.discovery.BetaKites';
const OLD = 'org.test.discovery.OldPython';

describe('discovery, reviews and readable pages', () => {
  let t: TestApp;
  const ids: Record<string, number> = {};
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  before(async () => {
    t = await createTestApp();
    await loadSampleContent(t.ctx);
    const dir = await tempDir();
    const add = async (bundleId: string, name: string, exec: string, tags: string, opts: { sugarMin?: string } = {}) => {
      const path = await buildActivity(dir, { bundleId, name, version: '1', exec, summary: `${name} for everyone.`, tags });
      const res = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public', releaseNotes: 'First.', ...opts });
      assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
      ids[bundleId] = (await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', bundleId).executeTakeFirstOrThrow()).id;
    };
    await add(ALPHA, 'Alpha Kites', 'sugar-activity3 kites.Kites', 'Science;Physics');
    await add(BETA, 'Beta Kites', 'sugar-activity3 kites.Kites', 'Science');
    // A Python 2 activity whose uploader gave only a minimum: its runtime still ends at 0.116.
    await add(OLD, 'Old Python', 'sugar-activity old.Old', 'Science', { sugarMin: '0.86' });
    const author = await t.app.accounts.createUser({ email: 'kite.author@example.org', displayName: 'Kite Author', password: 'correct horse battery staple' });
    for (const b of [ALPHA, BETA]) {
      await t.ctx.db.insertInto('activity_authors').values({ activity_id: ids[b]!, user_id: author.id, role: 'owner', created_at: new Date() }).execute();
    }
    // Beta was added two months ago; Alpha today.
    await t.ctx.db
      .updateTable('activities')
      .set({ created_at: new Date(Date.now() - 60 * 24 * 3600 * 1000) })
      .where('id', '=', ids[BETA]!)
      .execute();
    await t.ctx.cache.invalidate('catalog');
  });
  after(async () => t?.cleanup());

  it('counts in each category what its listing shows, for every Sugar (the runtime bound applied)', async () => {
    const catalog = t.app.services.catalog;
    for (const sugar of [null, '0.112', '0.116', '0.120']) {
      const cats = await catalog.categories('en', sugar);
      for (const c of cats) {
        const listed = await catalog.listActivities({ category: c.slug, sugar: sugar ?? undefined, perPage: 100, sort: 'popular' });
        assert.equal(c.count, listed.total, `${c.slug} for Sugar ${sugar ?? 'any'}`);
        assert.equal(listed.items.length, listed.total);
      }
    }
    const science = async (sugar: string | null) => (await catalog.categories('en', sugar)).find((c) => c.slug === 'science')!.count;
    // Pendulum Lab and Old Python are Python 2: not on 0.120, whatever the uploader said.
    assert.equal((await science(null)) - (await science('0.120')), 2);
    const on0120 = await catalog.listActivities({ category: 'science', sugar: '0.120', perPage: 100 });
    assert.ok(!on0120.items.some((a) => a.bundle_id === OLD || a.bundle_id === 'org.aslo.sample.PendulumLab'));
    assert.ok((await catalog.listActivities({ category: 'science', sugar: '0.112', perPage: 100 })).items.some((a) => a.bundle_id === OLD));

    // The home page as Sugar 0.120 says for Science what the Science page shows it.
    const home = await get('/en/', { 'user-agent': SUGAR_0120 });
    const chip = /href="\/en\/category\/science">Science <span class="n">(\d+)<\/span>/.exec(home.body);
    assert.ok(chip, 'the Science chip has a count');
    const page = await get('/en/category/science', { 'user-agent': SUGAR_0120 });
    assert.equal((page.body.match(/class="card"/g) ?? []).length, Number(chip[1]));
    assert.match(page.body, new RegExp(`>${chip[1]} activit`));
  });

  it('filters listings by language and offers the languages activities have', async () => {
    const catalog = t.app.services.catalog;
    const ar = await catalog.listActivities({ language: 'ar', perPage: 100 });
    assert.ok(ar.items.some((a) => a.bundle_id === 'org.aslo.sample.CountingStars'));
    assert.ok(!ar.items.some((a) => a.bundle_id === ALPHA), 'no Arabic text');
    const en = await catalog.listActivities({ language: 'en', perPage: 100 });
    assert.ok(
      en.items.some((a) => a.bundle_id === ALPHA),
      'a bundle’s own text is in its default language',
    );
    assert.throws(() => catalog.parseListQuery({ language: 'not a tag' }), /language must be a language tag/);
    const page = await get('/es/browse?language=ar');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<option value="ar" selected>árabe \(\d+\)<\/option>/);
    assert.doesNotMatch(page.body, /AlphaKites/);
  });

  it('lists what is new this month, and what else the developer made and similar activities', async () => {
    const catalog = t.app.services.catalog;
    const fresh = await catalog.newActivities({ lang: 'en', perPage: 50 });
    assert.ok(fresh.items.some((a) => a.bundle_id === ALPHA));
    assert.ok(!fresh.items.some((a) => a.bundle_id === BETA), 'added two months ago');
    // Featured: Beta is in a listed collection.
    const coll = await t.ctx.db
      .insertInto('collections')
      .values({
        nickname: 'kites',
        name: 'Kites',
        description: null,
        names: JSON.stringify({}),
        owner_id: null,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await t.ctx.db.insertInto('collection_activities').values({ collection_id: coll.id, activity_id: ids[BETA]!, pinned_version_id: null }).execute();
    await t.ctx.cache.invalidate('catalog');
    const featured = await catalog.listActivities({ featured: true, perPage: 50 });
    assert.ok(featured.items.some((a) => a.bundle_id === BETA));
    assert.ok(!featured.items.some((a) => a.bundle_id === ALPHA));
    const home = await get('/en/');
    assert.match(home.body, /<h2 id="new">New this month<\/h2>/);
    assert.match(home.body, /<h2 id="featured">Featured<\/h2>.*BetaKites.*<h2 id="categories">/s);

    const { more, similar } = await catalog.related(ids[ALPHA]!, 'en', null, 4);
    assert.deepEqual(
      more.map((a) => a.bundle_id),
      [BETA],
    );
    assert.equal(similar[0]!.bundle_id, 'org.aslo.sample.PendulumLab', 'shares Science and Physics');
    assert.ok(!similar.some((a) => a.bundle_id === BETA || a.bundle_id === ALPHA), 'not its own, not its authors’');
    // On Sugar 0.120 the Python 2 ones drop out.
    const on0120 = (await catalog.related(ids[ALPHA]!, 'en', '0.120', 4)).similar;
    assert.ok(!on0120.some((a) => a.bundle_id === 'org.aslo.sample.PendulumLab' || a.bundle_id === OLD));

    const page = await get(`/en/activity/${ALPHA}`);
    assert.match(page.body, /<h2 id="more-h">More by Kite Author<\/h2>/);
    assert.match(page.body, /<h2 id="similar-h">Similar activities<\/h2>/);
  });

  it('shows the star summary and the latest reviews on the activity page, with writing and reporting for people logged in', async () => {
    const ratings = t.app.services.ratings;
    const r1 = await person(t.app, { prefix: 'teacher' });
    const r2 = await person(t.app, { prefix: 'parent' });
    await ratings.rate(r1.actor, ALPHA, 5, 'My class loved it.');
    await ratings.rate(r2.actor, ALPHA, 3, 'مفيد لكن قصير.');
    const s = await ratings.summary(ids[ALPHA]!, r1.actor, 1);
    assert.deepEqual(s.counts, [0, 0, 1, 0, 1]);
    assert.equal(s.total, 2);
    assert.equal(s.reviews.length, 1);
    assert.equal(s.reviews[0]!.body, 'مفيد لكن قصير.', 'the newest first');
    assert.equal(s.viewerIsAuthor, false);

    const anon = await get(`/en/activity/${ALPHA}`);
    assert.match(anon.body, /<h2 id="reviews-h">Ratings and reviews<\/h2><a href="\/ratings\/org\.test\.discovery\.AlphaKites">All 2 reviews<\/a>/);
    assert.match(anon.body, /<p dir="auto">مفيد لكن قصير.<\/p>/);
    assert.match(anon.body, /<meter min="0" max="2" value="1" aria-label="5 stars: 1 rating">/);
    assert.match(anon.body, /Log in to write a review/);
    assert.doesNotMatch(anon.body, /Write a review/);

    const teacher = await r1.browser.get(`/en/activity/${ALPHA}`);
    assert.match(teacher.body, /<a class="btn" href="\/ratings\/org\.test\.discovery\.AlphaKites#rate">Write a review<\/a>/);
    assert.match(teacher.body, /href="\/ratings\/org\.test\.discovery\.AlphaKites#report">Report this activity<\/a>/);
    assert.equal(teacher.headers['cache-control'], 'private, no-cache');
  });

  it('titles the ratings page with the activity’s name, links back, and asks for a rating rather than choosing one', async () => {
    const rater = await person(t.app, { prefix: 'rater' });
    const page = await rater.browser.get(`/ratings/${ALPHA}`);
    assert.match(page.body, /<title>Reviews: Alpha Kites · /);
    assert.match(page.body, /<a href="\/en\/activity\/org\.test\.discovery\.AlphaKites">Back to Alpha Kites<\/a>/);
    assert.match(page.body, /<select name="rating" required><option value="">Choose a rating<\/option><option value="5">5 of 5 stars<\/option>/);
    assert.doesNotMatch(page.body, /<option value="\d"[^>]* selected>/);
    assert.match(page.body, /id="rate"/);
    assert.match(page.body, /id="report"/);
  });

  it('gives developer text its own direction, wraps ids at dots and translates tag chips', async () => {
    const es = await get(`/es/activity/${ALPHA}`);
    assert.match(es.body, /<h1 dir="auto">Alpha Kites<\/h1>/);
    assert.match(es.body, /<p class="summary" dir="auto">Alpha Kites for everyone\.<\/p>/);
    assert.match(es.body, /<code class="bid" dir="ltr">org.<wbr>test.<wbr>discovery.<wbr>AlphaKites<\/code>/);
    assert.match(es.body, /<a href="\/es\/tag\/science">Ciencias<\/a>/);
    assert.match(es.body, /<a href="\/es\/tag\/physics">Física<\/a>/);
    assert.match(es.body, /<p dir="auto">First\.<\/p>/);
    const ar = await get('/ar/browse');
    assert.match(ar.body, /<h2 class="h3"><a href="\/ar\/activity\/org\.test\.discovery\.AlphaKites"><bdi>Alpha Kites<\/bdi><\/a><\/h2><p dir="auto">/);
  });

  it('shows sentences on error pages, never the internal code', async () => {
    const missing = await get('/es/activity/org.test.nothing');
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /<p>Aquí no hay ninguna actividad pública «org\.test\.nothing»\.<\/p>/);
    assert.doesNotMatch(missing.body, />ACTIVITY_NOT_FOUND</);
    const b = new Browser(t.app);
    const login = await b.submit('/account/login', '/account/login', { email: 'kite.author@example.org', password: 'not the password' });
    assert.equal(login.statusCode, 401);
    assert.match(login.body, /<p role="alert" class="error"><strong>The e-mail address or the password is wrong\. Check them and try again\.<\/strong><\/p>/);
    assert.match(login.body, /value="kite\.author@example\.org"/);
    assert.doesNotMatch(login.body, /LOGIN_FAILED/);
  });
});

// An editor's decision covers exactly what the editor reviewed: the review form carries the
// versions it shows, a version uploaded meanwhile stays pending (in the queue, shown as new, never
// offered by the updater), a decision naming a version that no longer awaits review is refused
// (409 REVIEW_STALE), and an editor who has been an author since the versions were uploaded never
// decides on them (leaving the authors for the decision does not help). The editors' API: exact
// shapes, the review scope and the editor role. Migration 0006's authorship history.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { mailsTo } from '../helpers/browser.js';
import { readRdfLikeSugar } from '../helpers/updates-client.js';
import { migrateToLatest, migrator } from '../../src/platform/db/migrate.js';

type Coded = Error & { code?: string };
const code = (c: string) => (e: Coded) => e.code === c;

describe('review decisions cover exactly what was reviewed', () => {
  let t: TestApp;
  let dir: string;
  let editor: Person;
  let editor2: Person;
  let admin: Person;
  let n = 0;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    editor = await person(t.app, { role: 'editor', scopes: ['read', 'review'] });
    editor2 = await person(t.app, { role: 'editor', scopes: ['review'] });
    admin = await person(t.app, { role: 'admin', scopes: ['review'] });
  });
  after(async () => {
    await t.cleanup();
  });

  const upload = async (p: Person, bundleId: string, version: string) => {
    const data = await readFile(
      await buildActivity(dir, { bundleId, name: `Scope ${bundleId.split('.').pop()}`, version, summary: `Summary ${version}`, payload: `code ${++n}` }),
    );
    const res = await apiUpload(t.app, p.token, data, `${bundleId}-${version}.xo`);
    assert.ok(res.statusCode < 300, res.body);
    return res.json() as { file_id: number; file_status: string };
  };
  /** A developer's new activity, uploaded (versions given) and nominated. */
  const nominated = async (bundleId: string, versions = ['1']) => {
    const dev = await person(t.app);
    for (const v of versions) await upload(dev, bundleId, v);
    const a = await t.app.publishing.activityByBundleId(bundleId);
    await t.app.review.nominate(dev.actor, a.id, 'Please review.');
    return { dev, id: a.id };
  };
  const fileStatus = async (bundleId: string, version: string) =>
    (
      await t.ctx.db
        .selectFrom('files as f')
        .innerJoin('versions as v', 'v.id', 'f.version_id')
        .innerJoin('activities as a', 'a.id', 'v.activity_id')
        .select('f.status')
        .where('a.bundle_id', '=', bundleId)
        .where('v.version', '=', version)
        .executeTakeFirstOrThrow()
    ).status;
  const activityStatus = async (bundleId: string) => (await t.app.publishing.activityByBundleId(bundleId)).status;
  /** The version Sugar's updater (update-aslo.php) offers a laptop, if any. */
  const offered = async (bundleId: string) => {
    await t.app.services.updates.settled();
    const res = await t.app.inject({ url: `/services/update-aslo.php?id=${bundleId}&appVersion=0.116` });
    assert.equal(res.statusCode, 200);
    const r = readRdfLikeSugar(res.body);
    return r.update ? r.version : null;
  };
  /** The hidden versions of a review page's decision form. */
  const formVersions = (body: string) => [...body.matchAll(/<input type="hidden" name="versions" value="([^"]*)">/g)].map((m) => m[1]!);
  const apiQueue = (token: string) => t.app.inject({ url: '/api/v1/review/queue', headers: { authorization: `Bearer ${token}` } });
  const apiDecide = (token: string | null, bundleId: string, payload: unknown) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/review/activities/${encodeURIComponent(bundleId)}/decision`,
      payload: payload as object,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it('publishes only the version the review page showed; one uploaded meanwhile stays pending, queued as new, never offered to laptops', async () => {
    const bid = 'org.test.scope.Race';
    const { dev, id } = await nominated(bid);
    // The editor opens the review page: it lists version 1 and its form carries it.
    const page = await editor.browser.get(`/editors/review/activity/${id}`);
    assert.equal(page.statusCode, 200);
    assert.deepEqual(formVersions(page.body), ['1']);
    assert.match(page.body, /Versions under review/);
    // Meanwhile the developer uploads version 2 (sandbox, like every upload to a nominated activity).
    assert.equal((await upload(dev, bid, '2')).file_status, 'sandbox');
    // The editor approves with the form as the page had it.
    const res = await editor.browser.post(`/editors/review/activity/${id}`, {
      action: 'approve',
      comment: 'Version 1 works well.',
      versions: formVersions(page.body),
    });
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(await activityStatus(bid), 'public');
    assert.equal(await fileStatus(bid, '1'), 'public');
    assert.equal(await fileStatus(bid, '2'), 'pending', 'the unreviewed version waits for review');
    assert.equal(await offered(bid), '1', 'the updater never offers the unreviewed version');
    assert.equal((await t.app.inject({ url: `/api/v1/activities/${bid}` })).json().current.version, '1');

    // It waits in the queue, shown as new: the service, the queue page and the API say so.
    const q = await t.app.review.queue(editor.actor);
    const pend = q.pending.find((x) => x.bundle_id === bid)!;
    assert.equal(pend.version, '2');
    assert.equal(pend.new, true);
    const queuePage = await editor.browser.get('/editors/queue');
    assert.match(queuePage.body, new RegExp(`${bid.replace(/\./g, '\\.')}</a></td><td[^>]*>2 <strong class="badge">new</strong>`));
    const item = (await apiQueue(editor.token)).json().items.find((x: { bundle_id: string }) => x.bundle_id === bid);
    assert.deepEqual(item, {
      bundle_id: bid,
      name: 'Scope Race',
      status: 'public',
      versions: [{ version: '2', file_id: pend.id, status: 'pending', uploaded_at: item.versions[0].uploaded_at }],
    });
    assert.ok(!Number.isNaN(Date.parse(item.versions[0].uploaded_at)));
    // Its review page offers exactly version 2, compared with the approved version 1.
    const filePage = await t.app.review.reviewPage(editor.actor, 'file', pend.id);
    assert.deepEqual(
      filePage.underReview.map((v) => [v.version, v.status, v.new]),
      [['2', 'pending', true]],
    );
    assert.equal(filePage.previous?.version, '1');
    // The authors are told what was approved and what still waits.
    const mail = mailsTo(t.ctx, dev.email).at(-1)!;
    assert.match(mail.text, /Versions reviewed: 1\n/);
    assert.match(mail.text, /Still waiting for review: 2\n/);

    // Once reviewed in its turn, version 2 reaches the laptops; it is no longer new.
    await t.app.review.decide(editor2.actor, 'file', pend.id, 'approve', 'Version 2 is fine too.');
    assert.equal(await offered(bid), '2');
    assert.equal(
      (await t.app.review.queue(editor.actor)).pending.some((x) => x.bundle_id === bid),
      false,
    );
  });

  it("does the same through the editors' API: the decision names the versions from the queue", async () => {
    const bid = 'org.test.scope.ApiRace';
    const { dev } = await nominated(bid);
    const before = (await apiQueue(editor.token)).json().items.find((x: { bundle_id: string }) => x.bundle_id === bid);
    assert.equal(before.status, 'nominated');
    assert.deepEqual(
      before.versions.map((v: { version: string; status: string }) => [v.version, v.status]),
      [['1', 'sandbox']],
    );
    await upload(dev, bid, '2');
    const res = await apiDecide(editor.token, bid, {
      action: 'approve',
      versions: before.versions.map((v: { version: string }) => v.version),
      comment: 'Reviewed version 1.',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { activity: { bundle_id: bid, status: 'public' }, versions: [{ version: '1', status: 'public' }] });
    assert.equal(await fileStatus(bid, '2'), 'pending');
    assert.equal(await offered(bid), '1');
    const after = (await apiQueue(editor.token)).json().items.find((x: { bundle_id: string }) => x.bundle_id === bid);
    assert.deepEqual(
      after.versions.map((v: { version: string; status: string }) => [v.version, v.status]),
      [['2', 'pending']],
    );
    // The pending version is decided on by name too.
    const ret = await apiDecide(editor.token, bid, { action: 'return', versions: ['2'], comment: 'Crashes at start.' });
    assert.deepEqual(ret.json(), { activity: { bundle_id: bid, status: 'public' }, versions: [{ version: '2', status: 'sandbox' }] });
    assert.equal(await offered(bid), '1');
  });

  it('answers 409 REVIEW_STALE to a decision naming a version that no longer awaits review', async () => {
    const bid = 'org.test.scope.Stale';
    const { dev, id } = await nominated(bid);
    // Two editors open the same review page; the first approves.
    const pageA = await editor.browser.get(`/editors/review/activity/${id}`);
    const pageB = await editor2.browser.get(`/editors/review/activity/${id}`);
    assert.equal(
      (await editor.browser.post(`/editors/review/activity/${id}`, { action: 'approve', comment: 'ok', versions: formVersions(pageA.body) })).statusCode,
      303,
    );
    // The second editor's return, from the page they saw, comes too late.
    const late = await editor2.browser.post(`/editors/review/activity/${id}`, { action: 'return', comment: 'needs work', versions: formVersions(pageB.body) });
    assert.equal(late.statusCode, 409);
    assert.match(late.body, /REVIEW_STALE/);
    assert.equal(await activityStatus(bid), 'public');
    assert.equal(await fileStatus(bid, '1'), 'public');
    // Through the API alike, with the code and the versions in the details.
    const api = await apiDecide(editor2.token, bid, { action: 'return', versions: ['1'], comment: 'needs work' });
    assert.equal(api.statusCode, 409);
    assert.equal(api.json().error.code, 'REVIEW_STALE');
    assert.deepEqual(api.json().error.details, { versions: [{ version: '1', status: 'public' }] });
    // A pending version returned by one editor cannot then be approved from another's page.
    const r2 = await upload(dev, bid, '2');
    const fileA = await editor.browser.get(`/editors/review/file/${r2.file_id}`);
    assert.deepEqual(formVersions(fileA.body), ['2']);
    await editor2.browser.get(`/editors/review/file/${r2.file_id}`);
    assert.equal((await editor2.browser.post(`/editors/review/file/${r2.file_id}`, { action: 'return', comment: 'crashes', versions: '2' })).statusCode, 303);
    const stale = await editor.browser.post(`/editors/review/file/${r2.file_id}`, { action: 'approve', comment: 'fine', versions: formVersions(fileA.body) });
    assert.equal(stale.statusCode, 409);
    assert.match(stale.body, /REVIEW_STALE/);
    assert.equal(await fileStatus(bid, '2'), 'sandbox');
    await assert.rejects(t.app.review.decide(editor.actor, 'file', r2.file_id, 'approve', 'fine'), code('REVIEW_STALE'));
    // Approving a nominated activity names its versions; one that is no longer there is stale.
    const other = await nominated('org.test.scope.Stale2', ['1', '2']);
    await assert.rejects(t.app.review.decide(editor.actor, 'activity', other.id, 'approve', 'ok'), code('REVIEW_VERSIONS_REQUIRED'));
    await t.app.review.decide(editor2.actor, 'activity', other.id, 'return', 'Version 2 crashes.', ['1', '2']);
    await assert.rejects(t.app.review.decide(editor.actor, 'activity', other.id, 'approve', 'ok', ['1', '2']), code('REVIEW_STALE'));
    assert.equal(await activityStatus('org.test.scope.Stale2'), 'sandbox');
  });

  it('refuses an editor who was an author since the versions were uploaded, even after leaving (add, leave, approve, rejoin)', async () => {
    const bid = 'org.test.scope.Leaver';
    const { dev, id } = await nominated(bid);
    const insider = await person(t.app, { role: 'editor', scopes: ['review'] });
    await t.app.publishing.addAuthor(dev.actor, id, insider.email, 'developer');
    await assert.rejects(t.app.review.decide(insider.actor, 'activity', id, 'approve', 'mine, fine', ['1']), code('REVIEW_OWN_ACTIVITY'));
    // The co-author leaves, to approve...
    await t.app.publishing.removeAuthor(insider.actor, id, insider.id);
    // The queue still tells them it is not theirs to decide.
    const mine = (await t.app.review.queue(insider.actor)).nominated.find((x) => x.id === id)!;
    assert.equal(mine.own, true);
    assert.equal(mine.can_decide, false);
    await assert.rejects(t.app.review.decide(insider.actor, 'activity', id, 'approve', 'looks fine', ['1']), code('REVIEW_OWN_ACTIVITY'));
    await insider.browser.get(`/editors/review/activity/${id}`);
    const web = await insider.browser.post(`/editors/review/activity/${id}`, { action: 'approve', comment: 'looks fine', versions: '1' });
    assert.equal(web.statusCode, 403);
    assert.match(web.body, /REVIEW_OWN_ACTIVITY/);
    const api = await apiDecide(insider.token, bid, { action: 'approve', versions: ['1'], comment: 'looks fine' });
    assert.equal(api.statusCode, 403);
    assert.equal(api.json().error.code, 'REVIEW_OWN_ACTIVITY');
    // ...nor escalate or disable it; the activity stays nominated for another editor.
    await assert.rejects(t.app.review.decide(insider.actor, 'activity', id, 'disable', 'hm'), code('REVIEW_OWN_ACTIVITY'));
    assert.equal(await activityStatus(bid), 'nominated');
    assert.equal(await fileStatus(bid, '1'), 'sandbox');
    // ...and rejoining later finds nothing approved by them.
    await t.app.publishing.addAuthor(dev.actor, id, insider.email, 'developer');
    assert.equal(await offered(bid), null);
    // Another editor decides.
    await t.app.review.decide(editor.actor, 'activity', id, 'approve', 'ok', ['1']);
    assert.equal(await activityStatus(bid), 'public');
  });

  it('lets a former author review versions uploaded after they left', async () => {
    const bid = 'org.test.scope.LongGone';
    const { dev, id } = await nominated(bid);
    await t.app.review.decide(editor.actor, 'activity', id, 'approve', 'ok', ['1']);
    const former = await person(t.app, { role: 'editor', scopes: ['review'] });
    await t.app.publishing.addAuthor(dev.actor, id, former.email, 'developer');
    await t.app.publishing.removeAuthor(dev.actor, id, former.id);
    // They left last year (the history says so); version 2 comes now.
    const periods = await t.ctx.db.selectFrom('activity_author_periods').selectAll().where('activity_id', '=', id).where('user_id', '=', former.id).execute();
    assert.equal(periods.length, 1);
    assert.ok(periods[0]!.ended_at, 'leaving closes the period');
    const lastYear = new Date(Date.now() - 365 * 24 * 3600_000);
    await t.ctx.db
      .updateTable('activity_author_periods')
      .set({ started_at: new Date(lastYear.getTime() - 3600_000), ended_at: lastYear })
      .where('id', '=', periods[0]!.id)
      .execute();
    const r2 = await upload(dev, bid, '2');
    const queued = (await t.app.review.queue(former.actor)).pending.find((x) => x.id === r2.file_id)!;
    assert.equal(queued.own, false);
    assert.equal(queued.can_decide, true);
    const res = await apiDecide(former.token, bid, { action: 'approve', versions: ['2'], comment: 'Reviewed.' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { activity: { bundle_id: bid, status: 'public' }, versions: [{ version: '2', status: 'public' }] });
  });

  it('records authorship from every path that changes the authors', async () => {
    const bid = 'org.test.scope.Periods';
    const { dev, id } = await nominated(bid);
    const other = await person(t.app);
    const open = async () =>
      (
        await t.ctx.db
          .selectFrom('activity_author_periods')
          .select('user_id')
          .where('activity_id', '=', id)
          .where('ended_at', 'is', null)
          .orderBy('user_id')
          .execute()
      ).map((r) => r.user_id);
    assert.deepEqual(await open(), [dev.id], 'the uploader became an author');
    await t.app.publishing.reassign(admin.actor, id, other.email, 'abandoned', true);
    assert.deepEqual(await open(), [other.id], 'a reassignment that replaces the authors ends their periods');
    const ended = await t.ctx.db
      .selectFrom('activity_author_periods')
      .select(['user_id', 'ended_at'])
      .where('activity_id', '=', id)
      .where('ended_at', 'is not', null)
      .execute();
    assert.deepEqual(
      ended.map((r) => r.user_id),
      [dev.id],
    );
    await t.app.accounts.deleteAccount(other.actor, 'correct horse battery staple');
    assert.deepEqual(await open(), []);
  });

  describe("the editors' API", () => {
    it('answers the queue in the exact shape, oldest first', async () => {
      const bid = 'org.test.scope.Shape';
      await nominated(bid, ['1', '1.5']);
      const res = await apiQueue(editor2.token);
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(Object.keys(body), ['items']);
      const item = body.items.find((x: { bundle_id: string }) => x.bundle_id === bid);
      assert.deepEqual(Object.keys(item), ['bundle_id', 'name', 'status', 'versions']);
      assert.equal(item.name, 'Scope Shape');
      assert.equal(item.status, 'nominated');
      const files = await t.ctx.db
        .selectFrom('files as f')
        .innerJoin('versions as v', 'v.id', 'f.version_id')
        .innerJoin('activities as a', 'a.id', 'v.activity_id')
        .select(['f.id', 'v.version', 'f.created_at'])
        .where('a.bundle_id', '=', bid)
        .orderBy('v.sort_key')
        .execute();
      assert.deepEqual(
        item.versions,
        files.map((f) => ({ version: f.version, file_id: f.id, status: 'sandbox', uploaded_at: f.created_at.toISOString() })),
      );
      for (const it of body.items) for (const v of it.versions) assert.deepEqual(Object.keys(v), ['version', 'file_id', 'status', 'uploaded_at']);
      // The longest waiting first: this one was nominated last.
      assert.equal(body.items.at(-1).bundle_id, bid);
    });

    it('checks the token, its review scope and the role before anything else', async () => {
      const bid = 'org.test.scope.Access';
      await nominated(bid);
      const body = { action: 'approve', versions: ['1'], comment: 'ok' };
      const anon = await t.app.inject({ url: '/api/v1/review/queue' });
      assert.equal(anon.statusCode, 401);
      assert.equal(anon.json().error.code, 'AUTH_REQUIRED');
      const anonPost = await apiDecide(null, bid, { nonsense: true });
      assert.equal(anonPost.statusCode, 401);
      assert.equal(anonPost.json().error.code, 'AUTH_REQUIRED');
      const bad = await apiDecide('aslo_' + 'x'.repeat(43), bid, body);
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.json().error.code, 'TOKEN_INVALID');
      // An editor's token without the review scope.
      const noScope = await person(t.app, { role: 'editor', scopes: ['publish', 'read'] });
      for (const res of [await apiQueue(noScope.token), await apiDecide(noScope.token, bid, body)]) {
        assert.equal(res.statusCode, 403);
        assert.equal(res.json().error.code, 'TOKEN_SCOPE_MISSING');
      }
      // The review scope on a plain user's token gives nothing.
      const user = await person(t.app, { scopes: ['review'] });
      for (const res of [await apiQueue(user.token), await apiDecide(user.token, bid, body), await apiDecide(user.token, bid, { bad: 1 })]) {
        assert.equal(res.statusCode, 403);
        assert.equal(res.json().error.code, 'FORBIDDEN_NOT_EDITOR');
      }
      assert.equal(await activityStatus(bid), 'nominated');
      // Editors and administrators with the scope may.
      assert.equal((await apiQueue(admin.token)).statusCode, 200);
      const ok = await apiDecide(admin.token, bid, body);
      assert.equal(ok.statusCode, 200, ok.body);
      assert.deepEqual(ok.json(), { activity: { bundle_id: bid, status: 'public' }, versions: [{ version: '1', status: 'public' }] });
    });

    it('answers bad bodies with 400 and a code, unknown activities with 404', async () => {
      const bid = 'org.test.scope.Bad';
      await nominated(bid);
      const cases: [unknown, string][] = [
        [{ action: 'approve', comment: 'ok' }, 'REVIEW_VERSIONS_REQUIRED'],
        [{ action: 'return', versions: [], comment: 'ok' }, 'REVIEW_VERSIONS_REQUIRED'],
        [{ action: 'publish', versions: ['1'], comment: 'ok' }, 'REVIEW_ACTION_INVALID'],
        [{ versions: ['1'], comment: 'ok' }, 'REVIEW_ACTION_INVALID'],
        [{ action: 'approve', versions: '1', comment: 'ok' }, 'REVIEW_BODY_INVALID'],
        [{ action: 'approve', versions: [1], comment: 'ok' }, 'REVIEW_BODY_INVALID'],
        [{ action: 'approve', versions: ['1'], comment: 7 }, 'REVIEW_BODY_INVALID'],
        [{ action: 'approve', versions: ['1'] }, 'COMMENT_REQUIRED'],
        [{ action: 'approve', versions: ['1'], comment: '  ' }, 'COMMENT_REQUIRED'],
        [{ action: 'approve', versions: ['9'], comment: 'ok' }, 'REVIEW_VERSION_UNKNOWN'],
        [[1, 2], 'REVIEW_BODY_INVALID'],
      ];
      for (const [payload, expected] of cases) {
        const res = await apiDecide(editor.token, bid, payload);
        assert.equal(res.statusCode, 400, `${JSON.stringify(payload)}: ${res.body}`);
        assert.equal(res.json().error.code, expected, JSON.stringify(payload));
      }
      const notJson = await t.app.inject({
        method: 'POST',
        url: `/api/v1/review/activities/${bid}/decision`,
        payload: '{"action":',
        headers: { authorization: `Bearer ${editor.token}`, 'content-type': 'application/json' },
      });
      assert.equal(notJson.statusCode, 400);
      assert.ok(notJson.json().error.code);
      const missing = await apiDecide(editor.token, 'org.nowhere.Nothing', { action: 'approve', versions: ['1'], comment: 'ok' });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.code, 'ACTIVITY_NOT_FOUND');
      assert.equal(await activityStatus(bid), 'nominated');
    });

    it('escalates to an administrator and disables without naming versions', async () => {
      const bid = 'org.test.scope.Escalate';
      await nominated(bid);
      const esc = await apiDecide(editor.token, bid, { action: 'escalate', comment: 'Uses the network: an administrator should decide.' });
      assert.equal(esc.statusCode, 200, esc.body);
      assert.deepEqual(esc.json(), { activity: { bundle_id: bid, status: 'nominated' }, versions: [] });
      const refused = await apiDecide(editor2.token, bid, { action: 'approve', versions: ['1'], comment: 'ok' });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().error.code, 'REVIEW_ADMIN_ONLY');
      assert.equal((await apiDecide(admin.token, bid, { action: 'approve', versions: ['1'], comment: 'Fine.' })).statusCode, 200);
      const dis = await apiDecide(editor.token, bid, { action: 'disable', comment: 'Malware report confirmed.' });
      assert.deepEqual(dis.json(), { activity: { bundle_id: bid, status: 'disabled' }, versions: [] });
      assert.equal(await offered(bid), null);
    });

    it('is documented in the OpenAPI schema, and tokens can carry the review scope', async () => {
      const doc = (await t.app.inject({ url: '/api/docs/json' })).json();
      assert.ok(doc.paths['/api/v1/review/queue'].get);
      const post = doc.paths['/api/v1/review/activities/{bundle_id}/decision'].post;
      const schema = post.requestBody.content['application/json'].schema;
      assert.deepEqual(schema.properties.action.enum, ['approve', 'return', 'escalate', 'disable']);
      assert.equal(schema.properties.versions.type, 'array');
      assert.ok(post.responses['200'] && post.responses['409']);
      const page = await editor.browser.get('/account');
      assert.match(page.body, /<input type="checkbox" name="scopes" value="review">/);
      // People who are neither editors nor administrators are not offered a scope they cannot use.
      const developer = await person(t.app);
      const theirs = await developer.browser.get('/account');
      assert.equal(theirs.statusCode, 200);
      assert.match(theirs.body, /<input type="checkbox" name="scopes" value="publish"/);
      assert.doesNotMatch(theirs.body, /name="scopes" value="review"/);
    });
  });
});

describe('migration 0006 fills the authorship history from the authors and the audit log', () => {
  let t: TestApp;
  after(async () => {
    await t?.cleanup();
  });

  it('opens periods for the authors of the day and closes those of authors who left before it', async () => {
    t = await createTestApp();
    const dir = await tempDir();
    // The store as it was before the migration: no history, no trigger (later migrations undone
    // first, newest first).
    const down = await migrator(t.ctx.db).migrateTo('0005_downloads_mirrors');
    assert.equal(down.error, undefined);
    const undone = down.results?.map((r) => r.migrationName) ?? [];
    assert.equal(undone.at(-1), '0006_review_authorship');
    assert.deepEqual(undone, [...undone].sort().reverse());
    const dev = await person(t.app);
    const co = await person(t.app);
    const heir = await person(t.app);
    const admin = await person(t.app, { role: 'admin' });
    for (const bid of ['org.test.mig.Left', 'org.test.mig.Given']) {
      const res = await apiUpload(t.app, dev.token, await readFile(await buildActivity(dir, { bundleId: bid, name: 'Mig', version: '1' })), `${bid}.xo`);
      assert.equal(res.statusCode, 201, res.body);
    }
    const left = await t.app.publishing.activityByBundleId('org.test.mig.Left');
    const given = await t.app.publishing.activityByBundleId('org.test.mig.Given');
    await t.app.publishing.addAuthor(dev.actor, left.id, co.email, 'developer');
    await t.app.publishing.removeAuthor(co.actor, left.id, co.id);
    await t.app.publishing.reassign(admin.actor, given.id, heir.email, 'abandoned', true);

    await migrateToLatest(t.ctx.db);
    const rows = await t.ctx.db.selectFrom('activity_author_periods').select(['activity_id', 'user_id', 'ended_at']).orderBy('id').execute();
    const view = (activityId: number) =>
      rows
        .filter((r) => r.activity_id === activityId)
        .map((r) => [r.user_id, r.ended_at === null ? 'open' : 'ended'])
        .sort();
    assert.deepEqual(
      view(left.id),
      [
        [co.id, 'ended'],
        [dev.id, 'open'],
      ].sort(),
    );
    assert.deepEqual(
      view(given.id),
      [
        [dev.id, 'ended'],
        [heir.id, 'open'],
      ].sort(),
    );
    const leftAt = await t.ctx.db
      .selectFrom('audit_log')
      .select('at')
      .where('action', '=', 'author.remove')
      .where('target_id', '=', 'org.test.mig.Left')
      .executeTakeFirstOrThrow();
    assert.equal(rows.find((r) => r.activity_id === left.id && r.user_id === co.id)!.ended_at!.getTime(), leftAt.at.getTime());
    // And the trigger works from then on.
    await t.app.publishing.addAuthor(dev.actor, left.id, co.email, 'developer');
    assert.equal(
      (
        await t.ctx.db
          .selectFrom('activity_author_periods')
          .select('id')
          .where('activity_id', '=', left.id)
          .where('user_id', '=', co.id)
          .where('ended_at', 'is', null)
          .execute()
      ).length,
      1,
    );
  });
});

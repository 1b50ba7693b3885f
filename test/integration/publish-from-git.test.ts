// Publishing from git on the hub: the authors set the activity's source, "check now" queues a
// build that the worker's job runs (newest tag built and ingested as a new version, or refused
// with a code when its version is not newer), the outcome and log on the hub, mail to the
// authors; administrators set legacy ids, and old numeric URLs lead to the activity.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { person, type Person } from '../helpers/people.js';
import { activityInfo, gitIn, makeRepo, writeFiles, TEST_ICON } from '../helpers/git-repo.js';
import { createDownloadWorker, type DownloadWorker } from '../../src/downloads/worker.js';
import { readOutbox } from '../../src/mail/mailer.js';
import { buildFromGit } from '../../src/build/index.js';

const BUNDLE = 'org.test.FromGit';
const files = (version: string, bundleId = BUNDLE) => ({
  'activity/activity.info': activityInfo({ name: 'From Git', bundleId, version }),
  'activity/activity-test.svg': TEST_ICON,
  'main.py': `# ${version}\n`,
});

describe('publish from git on the hub', () => {
  let t: TestApp;
  let work = '';
  let repo = '';
  let dev: Person;
  let admin: Person;
  let other: Person;
  let worker: DownloadWorker;
  let activityId = 0;
  const page = () => `/developers/activities/${activityId}`;

  const tag = (version: string, name: string, bundleId = BUNDLE) => {
    writeFiles(repo, files(version, bundleId));
    gitIn(repo, ['commit', '-q', '--allow-empty', '-am', name]);
    gitIn(repo, ['tag', name]);
    return gitIn(repo, ['rev-parse', 'HEAD']).trim();
  };
  const checkNow = async () => {
    const res = await dev.browser.submit(page(), `${page()}/source/check`);
    assert.equal(res.statusCode, 303, res.body.slice(0, 500));
    await worker.runner.drain();
    return t.ctx.db.selectFrom('source_builds').selectAll().where('activity_id', '=', activityId).orderBy('id', 'desc').executeTakeFirstOrThrow();
  };

  before(async () => {
    t = await createTestApp();
    work = await mkdtemp(join(tmpdir(), 'aslo-publish-git-'));
    dev = await person(t.app, { prefix: 'gitdev' });
    admin = await person(t.app, { role: 'admin' });
    other = await person(t.app, { prefix: 'stranger' });
    worker = createDownloadWorker(t.ctx);
    // Version 1, uploaded by the developer (who becomes its owner), made public by an administrator.
    repo = join(work, 'fromgit');
    makeRepo(repo, files('1'), { tag: 'v1' });
    const v1 = await buildFromGit({ source: repo, ref: 'v1', outDir: join(work, 'out') });
    const up = await t.app.services.catalog.ingest.ingestPath(v1.path, { actorUserId: dev.id });
    assert.equal(up.outcome, 'imported', JSON.stringify(up.errors));
    activityId = up.activityId!;
    await t.ctx.db.updateTable('activities').set({ status: 'public' }).where('id', '=', activityId).execute();
  });
  after(async () => {
    await t?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('authors set an https source; local paths are for administrators; strangers cannot', async () => {
    let res = await dev.browser.submit(page(), `${page()}/source`, { source_url: 'https://git.example.org/sugar/fromgit-activity/' });
    assert.equal(res.statusCode, 303);
    assert.equal(
      (await t.ctx.db.selectFrom('activities').select('source_url').where('id', '=', activityId).executeTakeFirstOrThrow()).source_url,
      'https://git.example.org/sugar/fromgit-activity',
    );
    res = await dev.browser.submit(page(), `${page()}/source`, { source_url: repo });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /SOURCE_URL_INVALID|https:\/\/ URL/);
    res = await dev.browser.submit(page(), `${page()}/source`, { source_url: 'https://user:pw@git.example.org/x' });
    assert.equal(res.statusCode, 400);
    res = await other.browser.submit('/developers', `${page()}/source`, { source_url: 'https://evil.example.org/x' });
    assert.equal(res.statusCode, 403);
    res = await admin.browser.submit(page(), `${page()}/source`, { source_url: repo });
    assert.equal(res.statusCode, 303);
    const hub = await dev.browser.get(page());
    assert.ok(hub.body.includes('Check now'));
    assert.ok(hub.body.includes(`value="${repo}"`));
    const secret = (await t.ctx.db.selectFrom('activities').select('source_hook_secret').where('id', '=', activityId).executeTakeFirstOrThrow())
      .source_hook_secret!;
    assert.ok(hub.body.includes(`<code>${secret}</code>`), 'the webhook secret is shown to the authors');
    assert.ok(hub.body.includes('/api/v1/hooks/github</code>'));
    const stranger = await other.browser.get(page());
    assert.equal(stranger.statusCode, 403);
    assert.ok(!stranger.body.includes(secret));
  });

  test('check now builds the newest tag in the worker as a new version, pending review; log on the hub; authors mailed', async () => {
    const commit = tag('2', 'v2');
    const before = readOutbox(t.ctx.config.storage.outboxDir).length;
    const res = await dev.browser.submit(page(), `${page()}/source/check`);
    assert.equal(res.statusCode, 303);
    // Queued: nothing is built in the request.
    const queued = await t.ctx.db.selectFrom('source_builds').selectAll().where('activity_id', '=', activityId).executeTakeFirstOrThrow();
    assert.equal(queued.state, 'queued');
    assert.equal((await t.ctx.db.selectFrom('versions').select('id').where('activity_id', '=', activityId).execute()).length, 1);
    await worker.runner.drain();
    const b = await t.ctx.db.selectFrom('source_builds').selectAll().where('id', '=', queued.id).executeTakeFirstOrThrow();
    assert.deepEqual([b.state, b.outcome, b.tag, b.commit_sha, b.version, b.file_status], ['done', 'built', 'v2', commit, '2', 'pending']);
    assert.match(b.log, /ingested: version 2, status pending/);
    const src = await t.ctx.db.selectFrom('built_sources').selectAll().where('commit_sha', '=', commit).executeTakeFirstOrThrow();
    assert.equal(src.tag, 'v2');
    const hub = await dev.browser.get(page());
    assert.ok(hub.body.includes('Built version 2 from v2'), hub.body);
    assert.ok(hub.body.includes('ingested: version 2, status pending'));
    const mails = readOutbox(t.ctx.config.storage.outboxDir).slice(before);
    assert.equal(mails.length, 1);
    assert.equal(mails[0].to, dev.email);
    assert.match(mails[0].subject, /version 2 built from v2/);
    assert.match(mails[0].text, /Build log:/);
  });

  test('the same tag again: nothing new; a tag whose version is not newer: refused with a code', async () => {
    let b = await checkNow();
    assert.deepEqual([b.outcome, b.codes], ['unchanged', []]);
    tag('2', 'v3');
    b = await checkNow();
    assert.deepEqual([b.outcome, b.codes, b.tag, b.version], ['refused', ['BUILD_VERSION_NOT_NEWER'], 'v3', '2']);
    const hub = await dev.browser.get(page());
    assert.ok(hub.body.includes('Refused: BUILD_VERSION_NOT_NEWER'));
    tag('4', 'v4', 'org.test.SomethingElse');
    b = await checkNow();
    assert.deepEqual([b.outcome, b.codes], ['refused', ['BUILD_BUNDLE_ID_MISMATCH']]);
    assert.equal((await t.ctx.db.selectFrom('versions').select('id').where('activity_id', '=', activityId).execute()).length, 2);
  });

  test("a trusted activity's built version is public at once", async () => {
    await t.ctx.db.updateTable('activities').set({ trusted: true }).where('id', '=', activityId).execute();
    tag('5', 'v5');
    const b = await checkNow();
    assert.deepEqual([b.outcome, b.version, b.file_status], ['built', '5', 'public']);
    const res = await t.app.inject({ method: 'GET', url: `/en/activity/${BUNDLE}` });
    assert.ok(res.body.includes(`Built from ${repo} at v5`), 'the activity page names the source');
  });

  test('an unexpected failure ends the build with a code instead of leaving it waiting', async () => {
    tag('6', 'v6');
    const files = t.ctx.files as unknown as { stage: (...a: unknown[]) => Promise<unknown> };
    const stage = files.stage;
    files.stage = async () => {
      throw new Error('disk gone');
    };
    try {
      const b = await checkNow();
      assert.deepEqual([b.state, b.outcome, b.codes], ['done', 'refused', ['BUILD_INTERNAL_ERROR']]);
      assert.match(b.log, /disk gone/);
    } finally {
      files.stage = stage;
    }
    const b = await checkNow();
    assert.deepEqual([b.outcome, b.version], ['built', '6']);
  });

  test('an unreachable source is refused with the git code', async () => {
    await t.ctx.db
      .updateTable('activities')
      .set({ source_url: join(work, 'gone') })
      .where('id', '=', activityId)
      .execute();
    const b = await checkNow();
    assert.deepEqual([b.outcome, b.codes], ['refused', ['BUILD_SOURCE_NOT_FOUND']]);
  });

  test('administrators set legacy ids; old numeric URLs redirect to the activity; unknown ones get the 404 page', async () => {
    let res = await dev.browser.post(`/admin/activities/${activityId}/legacy-id`, { legacy_id: '4027', reason: 'old id' });
    assert.equal(res.statusCode, 403);
    res = await admin.browser.submit(page(), `/admin/activities/${activityId}/legacy-id`, { legacy_id: 'x12', reason: 'old id' });
    assert.equal(res.statusCode, 400);
    res = await admin.browser.submit(page(), `/admin/activities/${activityId}/legacy-id`, { legacy_id: '4027', reason: "the old store's id" });
    assert.equal(res.statusCode, 303);
    assert.equal((await t.ctx.db.selectFrom('activities').select('legacy_id').where('id', '=', activityId).executeTakeFirstOrThrow()).legacy_id, 4027);

    let hop = await t.app.inject({ method: 'GET', url: '/en-US/sugar/addon/4027' });
    const seen: string[] = [];
    while (hop.statusCode === 301 && seen.length < 4) {
      seen.push(hop.headers.location as string);
      hop = await t.app.inject({ method: 'GET', url: hop.headers.location as string });
    }
    assert.equal(seen.at(-1), `/en/activity/${BUNDLE}`);
    assert.equal(hop.statusCode, 200);
    const direct = await t.app.inject({ method: 'GET', url: '/en/sugar/addon/4027' });
    assert.equal(direct.statusCode, 301);
    assert.equal(direct.headers.location, `/en/activity/${BUNDLE}`);

    const unknown = await t.app.inject({ method: 'GET', url: '/en/sugar/addon/999999', headers: { accept: 'text/html' } });
    assert.equal(unknown.statusCode, 404);
    assert.match(String(unknown.headers['content-type']), /text\/html/);
    assert.match(unknown.body, /<html/);
    const unknownNoAccept = await t.app.inject({ method: 'GET', url: '/en-US/sugar/addon/999999' });
    const final = unknownNoAccept.statusCode === 301 ? await t.app.inject({ method: 'GET', url: unknownNoAccept.headers.location as string }) : unknownNoAccept;
    assert.equal(final.statusCode, 404);
    assert.match(String(final.headers['content-type']), /text\/html/);
  });
});

// The review workflow: nominate, the editors' queue, approve / return / escalate / disable with
// mandatory comments, pending versions of public activities, trusted authors, mails to authors,
// the review history and the audit log, and download access by status.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { mailsTo } from '../helpers/browser.js';

describe('review workflow', () => {
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

  const upload = async (p: Person, bundleId: string, version: string, extra: { payload?: string; tags?: string } = {}) => {
    const data = await readFile(
      await buildActivity(dir, { bundleId, name: `Act ${bundleId.split('.').pop()}`, version, summary: `Summary ${version}`, ...extra }),
    );
    const res = await apiUpload(t.app, p.token, data, `${bundleId}-${version}.xo`);
    assert.ok(res.statusCode < 300, res.body);
    return res.json();
  };
  const nominate = (p: Person, bundleId: string, message: string) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/developer/activities/${bundleId}/nominate`,
      payload: { message },
      headers: { authorization: `Bearer ${p.token}` },
    });

  it('takes a new activity from the sandbox to public: nominate, queue, approve, mail, history, audit', async () => {
    const dev = await person(t.app);
    await upload(dev, 'org.test.rev.One', '1');
    const a = await t.app.publishing.activityByBundleId('org.test.rev.One');
    const empty = await nominate(dev, 'org.test.rev.One', '   ');
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.code, 'COMMENT_REQUIRED');
    const other = await person(t.app);
    assert.equal((await nominate(other, 'org.test.rev.One', 'please')).statusCode, 403);
    const nom = await nominate(dev, 'org.test.rev.One', 'Ready for review, please.');
    assert.equal(nom.statusCode, 200, nom.body);
    assert.equal((await nominate(dev, 'org.test.rev.One', 'again')).json().error.code, 'NOMINATE_BAD_STATUS');

    await assert.rejects(t.app.review.queue(dev.actor), (e: Error & { code?: string }) => e.code === 'FORBIDDEN_NOT_EDITOR');
    const q = await t.app.review.queue(editor.actor);
    const item = q.nominated.find((x) => x.bundle_id === 'org.test.rev.One')!;
    assert.ok(item);
    assert.equal(item.can_decide, true);
    assert.equal(item.nomination_message, 'Ready for review, please.');
    assert.ok(item.waiting_seconds >= 0);

    await assert.rejects(
      t.app.review.decide(editor.actor, 'activity', a.id, 'approve', '', ['1']),
      (e: Error & { code?: string }) => e.code === 'COMMENT_REQUIRED',
    );
    const d = await t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'Works well on 0.118. Welcome!', ['1']);
    assert.deepEqual(d, { from: 'nominated', to: 'public' });
    const pub = await t.app.inject({ url: '/api/v1/activities/org.test.rev.One' });
    assert.equal(pub.statusCode, 200);
    assert.equal(pub.json().status, 'public');
    assert.equal(pub.json().current.version, '1');

    const mail = mailsTo(t.ctx, dev.email).at(-1)!;
    assert.match(mail.subject, /was approved/);
    assert.match(mail.text, /Works well on 0\.118/);
    assert.match(mail.text, /nominated -> public/);
    const history = await t.app.review.history(dev.actor, a.id);
    assert.deepEqual(
      history.map((h) => h.action),
      ['approve', 'nominate'],
    );
    const auditRows = await t.ctx.db.selectFrom('audit_log').selectAll().where('target_id', '=', 'org.test.rev.One').orderBy('id').execute();
    assert.deepEqual(
      auditRows.map((r) => r.action),
      ['activity.create', 'activity.nominate', 'review.approve'],
    );
    assert.equal(auditRows.at(-1)!.actor_user_id, editor.id);
    assert.equal(auditRows.at(-1)!.reason, 'Works well on 0.118. Welcome!');
  });

  it('holds new versions of a public activity as pending; return, escalate (admins only), approve', async () => {
    const dev = await person(t.app);
    await upload(dev, 'org.test.rev.Two', '1');
    const a = await t.app.publishing.activityByBundleId('org.test.rev.Two');
    await nominate(dev, 'org.test.rev.Two', 'v1');
    await t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'ok', ['1']);

    const r2 = await upload(dev, 'org.test.rev.Two', '2', { tags: 'maths', payload: 'more code' });
    assert.equal(r2.file_status, 'pending');
    const q = await t.app.review.queue(editor.actor);
    const pend = q.pending.find((x) => x.bundle_id === 'org.test.rev.Two')!;
    assert.equal(pend.version, '2');
    const page = await t.app.review.reviewPage(editor.actor, 'file', pend.id);
    assert.equal(page.previous?.version, '1');
    assert.ok(page.metadataDiff.some((d) => d.key === 'summary' && d.before === 'Summary 1' && d.after === 'Summary 2'));
    assert.ok(page.metadataDiff.some((d) => d.key === 'tags'));
    assert.ok(page.fileDiff!.changed.some((c) => c.path.endsWith('activity.py')));
    assert.ok(page.files.some((f) => f.path.endsWith('activity/activity.info')));

    await t.app.review.decide(editor.actor, 'file', pend.id, 'return', 'Crashes on start: see the log.');
    assert.equal((await t.ctx.db.selectFrom('files').select('status').where('id', '=', pend.id).executeTakeFirstOrThrow()).status, 'sandbox');
    assert.match(mailsTo(t.ctx, dev.email).at(-1)!.subject, /Version 2 of .* was returned to the sandbox/);
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.rev.Two' })).json().current.version, '1');

    const r3 = await upload(dev, 'org.test.rev.Two', '3');
    await t.app.review.decide(editor.actor, 'file', r3.file_id, 'escalate', 'Uses the network a lot: an admin should decide.');
    const q2 = await t.app.review.queue(editor.actor);
    assert.equal(q2.pending.find((x) => x.id === r3.file_id)!.can_decide, false);
    await assert.rejects(
      t.app.review.decide(editor.actor, 'file', r3.file_id, 'approve', 'ok'),
      (e: Error & { code?: string }) => e.code === 'REVIEW_ADMIN_ONLY',
    );
    await t.app.review.decide(admin.actor, 'file', r3.file_id, 'approve', 'Fine by me.');
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.rev.Two' })).json().current.version, '3');
  });

  it('never lets editors review their own activities', async () => {
    await upload(editor, 'org.test.rev.Own', '1');
    const a = await t.app.publishing.activityByBundleId('org.test.rev.Own');
    await nominate(editor, 'org.test.rev.Own', 'mine');
    const q = await t.app.review.queue(editor.actor);
    const item = q.nominated.find((x) => x.id === a.id)!;
    assert.equal(item.own, true);
    assert.equal(item.can_decide, false);
    await assert.rejects(
      t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'looks great'),
      (e: Error & { code?: string }) => e.code === 'REVIEW_OWN_ACTIVITY',
    );
  });

  it('publishes versions of trusted activities at once, and refuses uploads to disabled ones', async () => {
    const dev = await person(t.app);
    await upload(dev, 'org.test.rev.Trusted', '1');
    const a = await t.app.publishing.activityByBundleId('org.test.rev.Trusted');
    await nominate(dev, 'org.test.rev.Trusted', 'v1');
    await t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'ok', ['1']);
    await assert.rejects(
      t.app.publishing.setTrusted(editor.actor, a.id, true, 'long record'),
      (e: Error & { code?: string }) => e.code === 'FORBIDDEN_NOT_ADMIN',
    );
    await t.app.publishing.setTrusted(admin.actor, a.id, true, 'long record of good versions');
    const r2 = await upload(dev, 'org.test.rev.Trusted', '2');
    assert.equal(r2.file_status, 'public');
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.rev.Trusted' })).json().current.version, '2');

    await t.app.review.decide(editor.actor, 'activity', a.id, 'disable', 'Malware report confirmed.');
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.rev.Trusted' })).statusCode, 404);
    const data = await readFile(await buildActivity(dir, { bundleId: 'org.test.rev.Trusted', name: 'Act Trusted', version: '3' }));
    const res = await apiUpload(t.app, dev.token, data, 'x.xo');
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().errors[0].code, 'INGEST_ACTIVITY_DISABLED');
    assert.match(mailsTo(t.ctx, dev.email).at(-1)!.subject, /was disabled/);
  });

  it('lets administrators (only) enable a disabled activity again, with a comment, mailed, audited and propagated', async () => {
    const dev = await person(t.app);
    const r1 = await upload(dev, 'org.test.rev.Again', '1');
    const a = await t.app.publishing.activityByBundleId('org.test.rev.Again');
    await nominate(dev, 'org.test.rev.Again', 'v1');
    await t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'ok', ['1']);
    await assert.rejects(t.app.review.enable(admin.actor, a.id, 'not disabled'), (e: Error & { code?: string }) => e.code === 'REVIEW_BAD_STATUS');
    await t.app.review.decide(editor.actor, 'activity', a.id, 'disable', 'Reported as malware.');
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.rev.Again' })).statusCode, 404);

    await assert.rejects(t.app.review.enable(editor.actor, a.id, 'false alarm'), (e: Error & { code?: string }) => e.code === 'FORBIDDEN_NOT_ADMIN');
    await assert.rejects(t.app.review.enable(dev.actor, a.id, 'false alarm'), (e: Error & { code?: string }) => e.code === 'FORBIDDEN_NOT_ADMIN');
    await assert.rejects(t.app.review.enable(admin.actor, a.id, '  '), (e: Error & { code?: string }) => e.code === 'COMMENT_REQUIRED');
    await assert.rejects(t.app.review.enable(admin.actor, a.id, 'ok', 'disabled'), (e: Error & { code?: string }) => e.code === 'REVIEW_ACTION_INVALID');
    // No worker runs in this test: mark the publish jobs of the earlier decisions done, to see the next one.
    const pendingJobs = () =>
      t.ctx.db
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', 'repo.publish')
        .where('dedupe_key', '=', `file:${r1.file_id}`)
        .where('done_at', 'is', null)
        .execute();
    assert.equal((await pendingJobs()).length, 1, 'the approval and the disabling queued the repo tree update');
    await t.ctx.db.updateTable('jobs').set({ done_at: new Date() }).where('queue', '=', 'repo.publish').execute();

    // Through the hub's form, as an administrator: back to the status it had (public).
    const pageRes = await admin.browser.get(`/developers/activities/${a.id}`);
    assert.match(pageRes.body, /action="\/admin\/activities\/\d+\/enable"/);
    const res = await admin.browser.post(`/admin/activities/${a.id}/enable`, { comment: 'The report was a false alarm.', to: '' });
    assert.equal(res.statusCode, 303, res.body);
    assert.match((await admin.browser.get(res.headers.location as string)).body, /enabled again/);
    assert.equal((await t.ctx.db.selectFrom('activities').select('status').where('id', '=', a.id).executeTakeFirstOrThrow()).status, 'public');
    const pub = await t.app.inject({ url: '/api/v1/activities/org.test.rev.Again' });
    assert.equal(pub.statusCode, 200);
    assert.equal(pub.json().status, 'public');

    const mail = mailsTo(t.ctx, dev.email).at(-1)!;
    assert.match(mail.subject, /was enabled again/);
    assert.match(mail.text, /false alarm/);
    assert.match(mail.text, /disabled -> public/);
    const history = await t.app.review.history(dev.actor, a.id);
    assert.deepEqual(
      history.slice(0, 2).map((h) => [h.action, h.from_status, h.to_status]),
      [
        ['enable', 'disabled', 'public'],
        ['disable', 'public', 'disabled'],
      ],
    );
    const last = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('target_id', '=', 'org.test.rev.Again')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(last.action, 'review.enable');
    assert.equal(last.actor_user_id, admin.id);
    assert.equal(last.reason, 'The report was a false alarm.');
    // The updater's change log and the repo tree's publish queue both heard of it.
    const change = await t.ctx.db.selectFrom('catalog_changes').selectAll().where('bundle_id', '=', 'org.test.rev.Again').executeTakeFirstOrThrow();
    assert.equal(change.public_seen, true);
    assert.equal((await pendingJobs()).length, 1);

    // Disabled again, then enabled into the sandbox on purpose.
    await t.app.review.decide(admin.actor, 'activity', a.id, 'disable', 'Second report.');
    assert.deepEqual(await t.app.review.enable(admin.actor, a.id, 'Needs another review first.', 'sandbox'), { from: 'disabled', to: 'sandbox' });
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.rev.Again' })).statusCode, 404);
    const notAdmin = await editor.browser.get(`/developers/activities/${a.id}`);
    assert.doesNotMatch(notAdmin.body, /\/enable"/);
  });

  it('serves experimental files to logged-in users who confirm, disabled ones to authors and editors only', async () => {
    const dev = await person(t.app);
    const r = await upload(dev, 'org.test.rev.Dl', '1');
    const url = `/downloads/file/${r.file_id}/x.xo`;
    const anon = await t.app.inject({ url });
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().error.code, 'DOWNLOAD_LOGIN_REQUIRED');
    const reader = await person(t.app);
    const unconfirmed = await reader.browser.get(url);
    assert.equal(unconfirmed.statusCode, 403);
    assert.match(unconfirmed.body, /DOWNLOAD_CONFIRM_REQUIRED/);
    const confirmed = await reader.browser.get(`${url}?confirm=experimental`);
    assert.equal(confirmed.statusCode, 200);
    assert.equal(confirmed.headers['cache-control'], 'private, no-store');
    assert.equal((await dev.browser.get(url)).statusCode, 200, 'authors need no confirmation');

    const a = await t.app.publishing.activityByBundleId('org.test.rev.Dl');
    await t.app.review.decide(admin.actor, 'activity', a.id, 'disable', 'Broken beyond repair.');
    assert.equal((await reader.browser.get(`${url}?confirm=experimental`)).statusCode, 404);
    assert.equal((await t.app.inject({ url })).statusCode, 404);
    assert.equal((await dev.browser.get(url)).statusCode, 200);
    assert.equal((await editor.browser.get(url)).statusCode, 200);
  });
});

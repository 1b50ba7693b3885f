// Publishing through the API and the CLI: tokens and scopes, ownership of bundle ids, streamed
// uploads with progress, tokens left inside bundles, co-authors and ownership transfer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person } from '../helpers/people.js';
import { mailsTo } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';

describe('publishing API', () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
  });
  after(async () => {
    await t.cleanup();
  });

  const bundle = async (bundleId: string, version: string, extra: { payload?: string } = {}) =>
    readFile(await buildActivity(dir, { bundleId, name: `Act ${bundleId.split('.').pop()}`, version, summary: 'A test activity', ...extra }));
  const count = async (table: 'files' | 'versions' | 'activities') =>
    Number(
      (
        await t.ctx.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('publishes a new activity with a token: sandbox, owned by the uploader', async () => {
    const dev = await person(t.app);
    const res = await apiUpload(t.app, dev.token, await bundle('org.test.api.First', '1'), 'First-1.xo');
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json();
    assert.equal(r.ok, true);
    assert.equal(r.outcome, 'imported');
    assert.equal(r.bundle_id, 'org.test.api.First');
    assert.equal(r.activity_status, 'sandbox');
    assert.equal(r.file_status, 'sandbox');
    assert.match(r.hub_url, /\/developers\/activities\/\d+$/);
    const a = await t.app.publishing.activityByBundleId('org.test.api.First');
    const authors = await t.ctx.db.selectFrom('activity_authors').selectAll().where('activity_id', '=', a.id).execute();
    assert.deepEqual(
      authors.map((x) => [x.user_id, x.role]),
      [[dev.id, 'owner']],
    );
    // Not public: the catalog API does not show it.
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.api.First' })).statusCode, 404);
    const me = await t.app.inject({ url: '/api/v1/developer/activities', headers: { authorization: `Bearer ${dev.token}` } });
    assert.equal(me.json().items[0].status, 'sandbox');
  });

  it('refuses uploads without a valid token with the publish scope, or from unverified accounts', async () => {
    const data = await bundle('org.test.api.Refused', '1');
    const before = await count('files');
    const anon = await apiUpload(t.app, null, data, 'R.xo');
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().error.code, 'AUTH_REQUIRED');
    assert.equal((await apiUpload(t.app, 'aslo_' + 'x'.repeat(43), data, 'R.xo')).json().error.code, 'TOKEN_INVALID');
    const reader = await person(t.app, { scopes: ['read'], login: false });
    const ro = await apiUpload(t.app, reader.token, data, 'R.xo');
    assert.equal(ro.statusCode, 403);
    assert.equal(ro.json().error.code, 'TOKEN_SCOPE_MISSING');
    const unverified = await person(t.app, { verified: false, login: false });
    const uv = await apiUpload(t.app, unverified.token, data, 'R.xo');
    assert.equal(uv.statusCode, 403);
    assert.equal(uv.json().error.code, 'EMAIL_NOT_VERIFIED');
    const expired = await person(t.app, { login: false });
    await t.ctx.db
      .updateTable('api_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', expired.id)
      .execute();
    assert.equal((await apiUpload(t.app, expired.token, data, 'R.xo')).json().error.code, 'TOKEN_INVALID');
    assert.equal(await count('files'), before);
  });

  it('lets nobody but the authors publish a version of a bundle id (the classic hijack)', async () => {
    const owner = await person(t.app);
    const other = await person(t.app);
    assert.equal((await apiUpload(t.app, owner.token, await bundle('org.test.api.Mine', '1'), 'M.xo')).statusCode, 201);
    const before = { files: await count('files'), versions: await count('versions') };
    const res = await apiUpload(t.app, other.token, await bundle('org.test.api.Mine', '2'), 'M.xo');
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().errors[0].code, 'INGEST_NOT_AUTHOR');
    assert.deepEqual({ files: await count('files'), versions: await count('versions') }, before);
    assert.equal((await apiUpload(t.app, owner.token, await bundle('org.test.api.Mine', '2'), 'M.xo')).statusCode, 201);
  });

  it('streams progress events and the result as NDJSON, and accepts multipart', async () => {
    const dev = await person(t.app);
    const data = await bundle('org.test.api.Stream', '1', { payload: 'x'.repeat(700_000) + Math.random() });
    const res = await apiUpload(t.app, dev.token, data, 'S.xo', { accept: 'application/x-ndjson' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /application\/x-ndjson/);
    const events = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const progress = events.filter((e) => e.event === 'progress');
    assert.ok(progress.length >= 2);
    assert.equal(progress.at(-1).received, data.length);
    const result = events.at(-1);
    assert.equal(result.event, 'result');
    assert.equal(result.status, 201);
    assert.equal(result.bundle_id, 'org.test.api.Stream');

    const mp = await dev.browser.postMultipart(
      '/api/v1/uploads',
      { release_notes: 'multipart notes' },
      { field: 'file', name: 'Multi-1.xo', data: await bundle('org.test.api.Multi', '1') },
      { csrf: null },
    );
    assert.equal(mp.statusCode, 401, 'the API takes tokens, not session cookies');
    const boundary = 'b' + Math.random().toString(16).slice(2);
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="release_notes"\r\n\r\nmultipart notes\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Multi-1.xo"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      await bundle('org.test.api.Multi', '1'),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/uploads',
      payload: body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${dev.token}` },
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const v = await t.ctx.db
      .selectFrom('versions')
      .innerJoin('activities', 'activities.id', 'versions.activity_id')
      .select('release_notes')
      .where('bundle_id', '=', 'org.test.api.Multi')
      .executeTakeFirstOrThrow();
    assert.equal(v.release_notes, 'multipart notes');
  });

  it('revokes an API token found inside an uploaded bundle and tells its owner', async () => {
    const dev = await person(t.app);
    const res = await apiUpload(t.app, dev.token, await bundle('org.test.api.Leaky', '1', { payload: `TOKEN = "${dev.token}"` }), 'L.xo');
    assert.equal(res.statusCode, 201, res.body);
    const r = res.json();
    assert.equal(r.revoked_tokens, 1);
    assert.ok(r.warnings.some((w: { code: string; file: string }) => w.code === 'TOKEN_IN_BUNDLE_REVOKED' && w.file.endsWith('activity.py')));
    const row = await t.ctx.db.selectFrom('api_tokens').selectAll().where('user_id', '=', dev.id).executeTakeFirstOrThrow();
    assert.ok(row.revoked_at);
    assert.match(mailsTo(t.ctx, dev.email).at(-1)!.subject, /API tokens was revoked/);
    assert.equal((await apiUpload(t.app, dev.token, await bundle('org.test.api.Leaky', '2'), 'L.xo')).statusCode, 401);
  });

  it('lets owners add and remove co-authors and transfer ownership; keeps one owner', async () => {
    const owner = await person(t.app);
    const co = await person(t.app);
    await apiUpload(t.app, owner.token, await bundle('org.test.api.Team', '1'), 'T.xo');
    const a = await t.app.publishing.activityByBundleId('org.test.api.Team');
    await assert.rejects(t.app.publishing.addAuthor(co.actor, a.id, co.email, 'developer'), /FORBIDDEN|Only/);
    await t.app.publishing.addAuthor(owner.actor, a.id, co.email, 'developer');
    assert.match(mailsTo(t.ctx, co.email).at(-1)!.subject, /You are now an author/);
    assert.equal((await apiUpload(t.app, co.token, await bundle('org.test.api.Team', '2'), 'T.xo')).statusCode, 201, 'a developer may publish');
    await assert.rejects(t.app.publishing.removeAuthor(owner.actor, a.id, owner.id), (e: Error & { code?: string }) => e.code === 'LAST_OWNER');
    await t.app.publishing.transferOwnership(owner.actor, a.id, co.id);
    const roles = Object.fromEntries(
      (await t.ctx.db.selectFrom('activity_authors').select(['user_id', 'role']).where('activity_id', '=', a.id).execute()).map((r) => [r.user_id, r.role]),
    );
    assert.deepEqual(roles, { [owner.id]: 'developer', [co.id]: 'owner' });
    await t.app.publishing.removeAuthor(co.actor, a.id, owner.id);
    assert.equal((await apiUpload(t.app, owner.token, await bundle('org.test.api.Team', '3'), 'T.xo')).statusCode, 403);
  });

  it('publishes from the command line with ASLO_TOKEN', async () => {
    const dev = await person(t.app);
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const file = await buildActivity(dir, { bundleId: 'org.test.api.Cli', name: 'Cli Act', version: '1' });
    const ok = await runCli(['publish', file, '--server', address, '--release-notes', 'first'], { ASLO_TOKEN: dev.token });
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /published: org\.test\.api\.Cli 1/);
    assert.match(ok.stdout, /status: activity sandbox, this version sandbox/);
    assert.match(ok.stderr, /uploaded \d+ of \d+ bytes \(100%\)/);
    const other = await person(t.app);
    const file2 = await buildActivity(dir, { bundleId: 'org.test.api.Cli', name: 'Cli Act', version: '2' });
    const hijack = await runCli(['publish', file2, '--server', address], { ASLO_TOKEN: other.token });
    assert.equal(hijack.code, 1);
    assert.match(hijack.stdout, /rejected: .*\n  error   INGEST_NOT_AUTHOR/);
    const noToken = await runCli(['publish', file2, '--server', address], { ASLO_TOKEN: '' });
    assert.equal(noToken.code, 2);
    const bad = await runCli(['publish', file2, '--server', address], { ASLO_TOKEN: 'aslo_' + 'y'.repeat(43) });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /TOKEN_INVALID/);
  });
});

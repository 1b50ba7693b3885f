// Release webhooks: a fake forge posts signed deliveries over loopback HTTP to the store, the way
// GitHub (X-Hub-Signature-256), Gitea/Forgejo (X-Gitea-Signature) and GitLab (X-Gitlab-Token)
// do, as JSON and (GitHub, Gitea) as a form-encoded `payload=`: a valid tag push queues a build
// that the worker runs; a wrong signature, a replayed delivery and an unknown repository are
// refused with codes and queue nothing. Also the API to set the source and ask for a build.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { person, type Person } from '../helpers/people.js';
import { activityInfo, gitIn, makeRepo, writeFiles, TEST_ICON } from '../helpers/git-repo.js';
import { createDownloadWorker, type DownloadWorker } from '../../src/downloads/worker.js';
import { buildFromGit } from '../../src/build/index.js';

const BUNDLE = 'org.test.Hooked';
const files = (version: string) => ({
  'activity/activity.info': activityInfo({ name: 'Hooked', bundleId: BUNDLE, version }),
  'activity/activity-test.svg': TEST_ICON,
  'main.py': `# ${version}\n`,
});

/** A forge that signs and posts deliveries as each kind does. */
class FakeForge {
  constructor(private readonly base: string) {}
  async post(forge: 'github' | 'gitlab' | 'gitea', body: unknown, opts: { secret: string; event?: string; delivery?: string; form?: boolean; raw?: Buffer }) {
    // Content type application/x-www-form-urlencoded: the JSON in a `payload` field, signed as the form's bytes.
    const raw = opts.raw ?? Buffer.from(opts.form ? new URLSearchParams({ payload: JSON.stringify(body) }).toString() : JSON.stringify(body));
    const headers: Record<string, string> = {
      'content-type': opts.form || opts.raw ? 'application/x-www-form-urlencoded' : 'application/json',
      'user-agent': `${forge}-hookshot/test`,
    };
    const hmac = createHmac('sha256', opts.secret).update(raw).digest('hex');
    const delivery = opts.delivery ?? randomUUID();
    if (forge === 'github')
      Object.assign(headers, { 'x-github-event': opts.event ?? 'push', 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${hmac}` });
    if (forge === 'gitea') Object.assign(headers, { 'x-gitea-event': opts.event ?? 'push', 'x-gitea-delivery': delivery, 'x-gitea-signature': hmac });
    if (forge === 'gitlab')
      Object.assign(headers, { 'x-gitlab-event': opts.event ?? 'Tag Push Hook', 'x-gitlab-event-uuid': delivery, 'x-gitlab-token': opts.secret });
    const res = await fetch(`${this.base}/api/v1/hooks/${forge}`, { method: 'POST', headers, body: new Uint8Array(raw) });
    const text = await res.text();
    return { status: res.status, json: JSON.parse(text || '{}') as Record<string, any> };
  }
}

describe('release webhooks and the source API', () => {
  let t: TestApp;
  let work = '';
  let repo = '';
  let url = '';
  let dev: Person;
  let admin: Person;
  let worker: DownloadWorker;
  let forge: FakeForge;
  let secret = '';
  let activityId = 0;
  let address = '';

  const tag = (version: string, name: string) => {
    writeFiles(repo, files(version));
    gitIn(repo, ['commit', '-q', '--allow-empty', '-am', name]);
    gitIn(repo, ['tag', name]);
  };
  const builds = () => t.ctx.db.selectFrom('source_builds').selectAll().where('activity_id', '=', activityId).orderBy('id').execute();
  const api = (method: 'GET' | 'PUT' | 'POST', path: string, token: string, payload?: unknown) =>
    t.app.inject({
      method,
      url: `/api/v1/developer/activities/${BUNDLE}${path}`,
      headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json' } : {}) },
      payload: payload ? JSON.stringify(payload) : undefined,
    });

  before(async () => {
    t = await createTestApp();
    work = await mkdtemp(join(tmpdir(), 'aslo-hooks-'));
    dev = await person(t.app, { prefix: 'hookdev' });
    admin = await person(t.app, { role: 'admin' });
    worker = createDownloadWorker(t.ctx);
    repo = join(work, 'hooked-activity');
    url = `file://${repo}`;
    makeRepo(repo, files('1'), { tag: 'v1' });
    const v1 = await buildFromGit({ source: repo, ref: 'v1', outDir: join(work, 'out') });
    const up = await t.app.services.catalog.ingest.ingestPath(v1.path, { actorUserId: dev.id });
    assert.equal(up.outcome, 'imported');
    activityId = up.activityId!;
    address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    forge = new FakeForge(address);
  });
  after(async () => {
    await t?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the API: authors set an https source and read the hook secret; local paths only for administrators', async () => {
    let res = await api('PUT', '/source', dev.token, { source_url: repo });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'SOURCE_URL_INVALID');
    res = await api('PUT', '/source', dev.token, { source_url: 'https://git.example.org/hooked-activity.git' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().source_url, 'https://git.example.org/hooked-activity.git');
    secret = res.json().hooks.secret;
    assert.match(secret, /^[0-9a-f]{48}$/);
    res = await api('PUT', '/source', admin.token, { source_url: repo });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().hooks.secret, secret, 'the secret is kept when the source changes');
    res = await api('GET', '/source', dev.token);
    assert.equal(res.json().source_url, repo);
  });

  test('GitHub: a signed tag push queues a build the worker runs; wrong signature, replay, unknown repository refused', async () => {
    tag('2', 'v2');
    const push = { ref: 'refs/tags/v2', repository: { clone_url: url, html_url: 'https://example.invalid/x' } };
    const delivery = randomUUID();
    let r = await forge.post('github', push, { secret, delivery });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual([r.json.queued, r.json.tag], [true, 'v2']);
    assert.equal((await builds()).length, 1);

    r = await forge.post('github', push, { secret, delivery });
    assert.deepEqual([r.status, r.json.error?.code], [409, 'HOOK_REPLAYED']);
    r = await forge.post('github', push, { secret: 'not the secret' });
    assert.deepEqual([r.status, r.json.error?.code], [401, 'HOOK_BAD_SIGNATURE']);
    r = await forge.post('github', { ...push, repository: { clone_url: 'https://example.org/nobody/unknown.git' } }, { secret });
    assert.deepEqual([r.status, r.json.error?.code], [404, 'HOOK_UNKNOWN_REPOSITORY']);
    r = await forge.post('github', { zen: 'hi', repository: { clone_url: url } }, { secret, event: 'ping' });
    assert.deepEqual([r.status, r.json.queued], [200, false]);
    r = await forge.post('github', { ref: 'refs/heads/main', repository: { clone_url: url } }, { secret });
    assert.deepEqual([r.status, r.json.queued], [200, false]);
    assert.equal((await builds()).length, 1, 'only the valid tag push queued a build');

    await worker.runner.drain();
    const [b] = await builds();
    assert.deepEqual([b.state, b.outcome, b.tag, b.version, b.file_status], ['done', 'built', 'v2', '2', 'sandbox']);
  });

  test('GitHub form-encoded deliveries (payload=): signed over the form bytes; wrong signature, replay, unknown repository refused', async () => {
    tag('2.5', 'v2.5');
    const push = { ref: 'refs/tags/v2.5', repository: { clone_url: url }, note: 'ünïcode & = + %' };
    const before = (await builds()).length;
    const delivery = randomUUID();
    let r = await forge.post('github', push, { secret, delivery, form: true });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    assert.deepEqual([r.json.queued, r.json.tag], [true, 'v2.5']);
    r = await forge.post('github', push, { secret, delivery, form: true });
    assert.deepEqual([r.status, r.json.error?.code], [409, 'HOOK_REPLAYED']);
    r = await forge.post('github', push, { secret: 'not the secret', form: true });
    assert.deepEqual([r.status, r.json.error?.code], [401, 'HOOK_BAD_SIGNATURE']);
    r = await forge.post('github', { ...push, repository: { clone_url: 'https://example.org/nobody/unknown.git' } }, { secret, form: true });
    assert.deepEqual([r.status, r.json.error?.code], [404, 'HOOK_UNKNOWN_REPOSITORY']);
    // A signature over the JSON alone does not sign the form.
    const form = Buffer.from(new URLSearchParams({ payload: JSON.stringify(push) }).toString());
    const jsonHmac = createHmac('sha256', secret).update(JSON.stringify(push)).digest('hex');
    const res = await fetch(`${address}/api/v1/hooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': `sha256=${jsonHmac}`,
      },
      body: form,
    });
    assert.equal(res.status, 401);
    // A form without a payload field, or whose payload is not JSON.
    r = await forge.post('github', null, { secret, raw: Buffer.from('ref=refs%2Ftags%2Fv2.5') });
    assert.deepEqual([r.status, r.json.error?.code], [400, 'HOOK_BAD_REQUEST']);
    r = await forge.post('github', null, { secret, raw: Buffer.from('payload=%7Bnot+json') });
    assert.deepEqual([r.status, r.json.error?.code], [400, 'HOOK_BAD_REQUEST']);
    r = await forge.post('gitea', { ref: 'refs/heads/main', repository: { clone_url: url } }, { secret, form: true });
    assert.deepEqual([r.status, r.json.queued], [200, false]);
    assert.equal((await builds()).length, before + 1, 'only the valid form delivery queued a build');
    await worker.runner.drain();
    const b = (await builds()).at(-1)!;
    assert.deepEqual([b.state, b.outcome, b.tag, b.version], ['done', 'built', 'v2.5', '2.5']);
  });

  test('Gitea/Forgejo and GitLab deliveries', async () => {
    tag('3', 'v3');
    let r = await forge.post('gitea', { ref: 'refs/tags/v3', repository: { clone_url: url } }, { secret: 'wrong' });
    assert.deepEqual([r.status, r.json.error?.code], [401, 'HOOK_BAD_SIGNATURE']);
    r = await forge.post('gitea', { ref: 'refs/tags/v3', repository: { clone_url: url } }, { secret });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    await worker.runner.drain();
    assert.deepEqual(
      (await builds()).map((b) => [b.outcome, b.version]),
      [
        ['built', '2'],
        ['built', '2.5'],
        ['built', '3'],
      ],
    );

    tag('4', 'v4');
    const gl = { object_kind: 'tag_push', ref: 'refs/tags/v4', after: 'a'.repeat(40), project: { git_http_url: url } };
    r = await forge.post('gitlab', gl, { secret: 'wrong' });
    assert.deepEqual([r.status, r.json.error?.code], [401, 'HOOK_BAD_SIGNATURE']);
    r = await forge.post('gitlab', gl, { secret });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    // The API's "check now" while that build waits: the same queued build.
    const check = await api('POST', '/source/check', dev.token);
    assert.equal(check.statusCode, 202);
    assert.equal(check.json().build_id, Number((await builds()).at(-1)!.id));
    await worker.runner.drain();
    assert.deepEqual(
      (await builds()).map((b) => b.version),
      ['2', '2.5', '3', '4'],
    );
    const versions = await t.ctx.db.selectFrom('versions').select('version').where('activity_id', '=', activityId).orderBy('sort_key').execute();
    assert.deepEqual(
      versions.map((v) => v.version),
      ['1', '2', '2.5', '3', '4'],
    );
  });
});

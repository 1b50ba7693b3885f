// Download counts for authors and administrators: real downloads (redirects to a mirror and the
// origin's own answers) are counted once each (resumed range requests, HEAD and the hash and
// metalink representations are not), flushed, and shown per day, per file and per mirror
// (origin = 0) by the API and the hub pages, to the activity's authors and the administrators
// only; the administrators' overview adds up the whole store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { person, type Person } from '../helpers/people.js';
import { Browser } from '../helpers/browser.js';
import { createDownloadWorker } from '../../src/downloads/worker.js';
import { MirrorRegistry } from '../../src/mirrors/registry.js';
import { dayRange } from '../../src/downloads/stats.js';

const CLIENT = '8.8.8.8';
const OTHER_CLIENT = '81.2.69.142';
const today = new Date().toISOString().slice(0, 10);
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe('download counts for authors and administrators', () => {
  let t: TestApp;
  let dir: string;
  let owner: Person;
  let coauthor: Person;
  let otherAuthor: Person;
  let user: Person;
  let editor: Person;
  let admin: Person;
  let mirrorId: number;
  const A = 'org.test.stats.A';
  const B = 'org.test.stats.B';
  const S = 'org.test.stats.Sandbox';
  let activityA: number;
  let a1: { id: number; repoPath: string; fileName: string };
  let a2: { id: number; repoPath: string; fileName: string };

  const api = (p: Person | null, url: string) => t.app.inject({ method: 'GET', url, headers: p ? { authorization: `Bearer ${p.token}` } : {} });
  const dl = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET', client = CLIENT) =>
    t.app.inject({ method, url, headers: { 'x-forwarded-for': client, ...headers } });

  async function ingest(bundleId: string, version: string, status: 'public' | 'sandbox', authors: [Person, 'owner' | 'developer'][]) {
    const r = await t.app.services.catalog.ingest.ingestPath(
      await buildActivity(dir, { bundleId, name: bundleId.split('.').pop()!, version, payload: `${bundleId}-${version}` }),
      { status },
    );
    assert.ok(['imported', 'added-version'].includes(r.outcome) || r.fileId, JSON.stringify(r));
    for (const [p, role] of authors) {
      await t.ctx.db
        .insertInto('activity_authors')
        .values({ activity_id: r.activityId!, user_id: p.id, role, created_at: new Date() })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    return r;
  }

  before(async () => {
    t = await createTestApp({ env: { ASLO_DOWNLOADS_ORIGIN_THRESHOLD_BYTES: '0', ASLO_DOWNLOADS_COUNT_FLUSH_SECONDS: '0' } });
    await t.app.downloads.geo.load();
    dir = await tempDir();
    owner = await person(t.app, { prefix: 'owner' });
    coauthor = await person(t.app, { prefix: 'coauthor' });
    otherAuthor = await person(t.app, { prefix: 'other' });
    user = await person(t.app, { prefix: 'user' });
    editor = await person(t.app, { role: 'editor' });
    admin = await person(t.app, { role: 'admin' });
    const r1 = await ingest(A, '1', 'public', [
      [owner, 'owner'],
      [coauthor, 'developer'],
    ]);
    const r2 = await ingest(A, '2', 'public', []);
    await ingest(B, '1', 'public', [[otherAuthor, 'owner']]);
    await ingest(S, '1', 'sandbox', [[owner, 'owner']]);
    activityA = r1.activityId!;
    await createDownloadWorker(t.ctx).runner.drain();
    const fileOf = async (id: number) => {
      const f = await t.ctx.db.selectFrom('files').select(['id', 'repo_path', 'file_name']).where('id', '=', id).executeTakeFirstOrThrow();
      return { id: f.id, repoPath: f.repo_path!, fileName: f.file_name };
    };
    a1 = await fileOf(r1.fileId!);
    a2 = await fileOf(r2.fileId!);
    // One mirror, verified for version 1 only (as the verifier records it; it is never contacted).
    mirrorId = (
      await new MirrorRegistry(t.ctx).add({
        name: 'stats-mirror.example',
        httpUrl: 'http://127.0.0.1:9/sugar',
        country: 'US',
        continent: null,
        asn: null,
        latitude: null,
        longitude: null,
      })
    ).id;
    await t.ctx.db
      .updateTable('mirror_files')
      .set({ state: 'verified', verified_at: new Date(), next_check_at: null })
      .where('mirror_id', '=', mirrorId)
      .where('file_id', '=', a1.id)
      .execute();
    await t.app.downloads.index.refreshNow();
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts real downloads once: redirects per mirror, origin answers as 0, resumed ranges not again', async () => {
    // Version 1: redirected to the mirror.
    for (let i = 0; i < 3; i++) {
      const res = await dl(`/repo/${a1.repoPath}`);
      assert.equal(res.statusCode, 302);
      assert.ok(String(res.headers.location).startsWith('http://127.0.0.1:9/sugar/'));
    }
    // The same client resuming (a range from a later byte) goes to the same mirror, not counted.
    const resumed = await dl(`/repo/${a1.repoPath}`, { range: 'bytes=100-' });
    assert.equal(resumed.statusCode, 302);
    // A range from byte 0 is a (new) download; HEAD, .sha256 and .meta4 are not downloads.
    assert.equal((await dl(`/downloads/file/${a1.id}/${a1.fileName}`, { range: 'bytes=0-99' })).statusCode, 302);
    assert.equal((await dl(`/repo/${a1.repoPath}`, {}, 'HEAD')).statusCode, 302);
    assert.equal((await dl(`/repo/${a1.repoPath}.sha256`)).statusCode, 200);
    assert.equal((await dl(`/repo/${a1.repoPath}.meta4`)).statusCode, 200);
    // Version 2: on no mirror, so the origin sends the bytes (counted as mirror 0).
    const whole = await dl(`/downloads/file/${a2.id}/${a2.fileName}`, {}, 'GET', OTHER_CLIENT);
    assert.equal(whole.statusCode, 200);
    const part = await dl(`/repo/${a2.repoPath}`, { range: 'bytes=10-' }, 'GET', OTHER_CLIENT);
    assert.equal(part.statusCode, 206);
    assert.equal((await dl(`/repo/${a2.repoPath}`, { range: 'bytes=0-' }, 'GET', OTHER_CLIENT)).statusCode, 206);
    // Downloads of B, for the overview.
    const b = await t.ctx.db
      .selectFrom('files as f')
      .innerJoin('versions as v', 'v.id', 'f.version_id')
      .innerJoin('activities as a', 'a.id', 'v.activity_id')
      .select(['f.repo_path'])
      .where('a.bundle_id', '=', B)
      .executeTakeFirstOrThrow();
    assert.equal((await dl(`/repo/${b.repo_path}`)).statusCode, 200);

    assert.equal(t.app.downloads.counter.unsaved, 7);
    await t.app.downloads.counter.flush();
    assert.equal(t.app.downloads.counter.unsaved, 0);

    const res = await api(owner, `/api/v1/activities/${A}/stats/downloads`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['cache-control'], 'private, no-store');
    const s = res.json();
    assert.equal(s.bundle_id, A);
    assert.equal(s.activity_id, activityA);
    assert.equal(s.to, today);
    assert.equal(s.from, daysAgo(29));
    assert.equal(s.by_day.length, 30);
    assert.equal(s.total, 6);
    assert.equal(s.all_time, 6);
    assert.deepEqual(s.by_day.at(-1), { day: today, count: 6, origin: 2 });
    assert.ok(s.by_day.slice(0, -1).every((d: { count: number }) => d.count === 0));
    assert.deepEqual(
      s.by_file.map((f: { file_id: number; version: string; count: number }) => [f.file_id, f.version, f.count]),
      [
        [a2.id, '2', 2],
        [a1.id, '1', 4],
      ],
    );
    assert.deepEqual(s.by_mirror, [
      { mirror_id: mirrorId, name: 'stats-mirror.example', count: 4 },
      { mirror_id: 0, name: 'origin', count: 2 },
    ]);
    assert.deepEqual(
      s.rows,
      [
        { day: today, file_id: a1.id, mirror_id: mirrorId, count: 4 },
        { day: today, file_id: a2.id, mirror_id: 0, count: 2 },
      ].sort((x, y) => x.file_id - y.file_id || x.mirror_id - y.mirror_id),
    );
  });

  it('adds up several flushes and days, and answers the range asked for', async () => {
    // History as earlier flushes left it (another process, an earlier day).
    await t.ctx.db
      .insertInto('download_counts')
      .values([
        { file_id: a1.id, day: daysAgo(3), mirror_id: 0, count: 5 },
        { file_id: a1.id, day: daysAgo(3), mirror_id: mirrorId, count: 7 },
        { file_id: a2.id, day: daysAgo(40), mirror_id: 0, count: 11 },
      ])
      .execute();
    assert.equal((await dl(`/repo/${a1.repoPath}`)).statusCode, 302);
    await t.app.downloads.counter.flush();
    const s = (await api(coauthor, `/api/v1/activities/${A}/stats/downloads`)).json();
    assert.equal(s.total, 6 + 1 + 12);
    assert.deepEqual(
      s.by_day.find((d: { day: string }) => d.day === daysAgo(3)),
      { day: daysAgo(3), count: 12, origin: 5 },
    );
    assert.deepEqual(s.by_day.at(-1), { day: today, count: 7, origin: 2 });
    assert.deepEqual(s.by_mirror, [
      { mirror_id: mirrorId, name: 'stats-mirror.example', count: 12 },
      { mirror_id: 0, name: 'origin', count: 7 },
    ]);
    const older = (await api(owner, `/api/v1/activities/${A}/stats/downloads?from=${daysAgo(45)}&to=${daysAgo(35)}`)).json();
    assert.equal(older.by_day.length, 11);
    assert.equal(older.total, 11);
    assert.deepEqual(
      older.by_file.map((f: { version: string; count: number }) => [f.version, f.count]),
      [
        ['2', 11],
        ['1', 0],
      ],
    );
    assert.deepEqual(older.by_mirror, [{ mirror_id: 0, name: 'origin', count: 11 }]);
    const one = (await api(owner, `/api/v1/activities/${A}/stats/downloads?from=${daysAgo(3)}&to=${daysAgo(3)}`)).json();
    assert.equal(one.total, 12);
    for (const q of ['from=2026-02-30', 'from=yesterday', `from=${today}&to=${daysAgo(1)}`, `from=${daysAgo(400)}&to=${today}`]) {
      const bad = await api(owner, `/api/v1/activities/${A}/stats/downloads?${q}`);
      assert.equal(bad.statusCode, 400, q);
      assert.equal(bad.json().error.code, 'STATS_RANGE_INVALID');
    }
    // A removed mirror keeps its downloads, under a name that says so.
    await new MirrorRegistry(t.ctx).remove(mirrorId);
    const after = (await api(admin, `/api/v1/activities/${A}/stats/downloads`)).json();
    assert.deepEqual(after.by_mirror[0], { mirror_id: mirrorId, name: `removed mirror #${mirrorId}`, count: 12 });
  });

  it('shows the counts to the authors and administrators only (API)', async () => {
    const url = `/api/v1/activities/${A}/stats/downloads`;
    const status = async (p: Person | null, u = url) => (await api(p, u)).statusCode;
    assert.equal(await status(null), 401);
    assert.equal(await status(user), 403);
    assert.equal(await status(otherAuthor), 403);
    assert.equal(await status(editor), 403);
    assert.equal(await status(owner), 200);
    assert.equal(await status(coauthor), 200);
    assert.equal(await status(admin), 200);
    assert.equal((await api(user, url)).json().error.code, 'FORBIDDEN_NOT_AUTHOR');
    // A sandbox activity does not exist for others; it does for its author and admins.
    const sandbox = `/api/v1/activities/${S}/stats/downloads`;
    assert.equal(await status(user, sandbox), 404);
    assert.equal(await status(editor, sandbox), 404);
    assert.equal(await status(owner, sandbox), 200);
    assert.equal(await status(admin, sandbox), 200);
    assert.equal(await status(admin, '/api/v1/activities/org.test.nothing/stats/downloads'), 404);
    // A token without the read scope is refused.
    const { token } = await t.app.accounts.createApiToken(owner.actor, { name: 'publish only', scopes: ['publish'], expiresInDays: 1 });
    const noRead = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    assert.equal(noRead.statusCode, 403);
    assert.equal(noRead.json().error.code, 'TOKEN_SCOPE_MISSING');
    // The store's overview: administrators only.
    assert.equal(await status(null, '/api/v1/stats/downloads'), 401);
    for (const p of [user, owner, editor]) assert.equal(await status(p, '/api/v1/stats/downloads'), 403);
    const o = (await api(admin, '/api/v1/stats/downloads')).json();
    assert.equal(o.total, 6 + 1 + 12 + 1);
    assert.deepEqual(
      o.top_activities.map((x: { bundle_id: string; count: number }) => [x.bundle_id, x.count]),
      [
        [A, 19],
        [B, 1],
      ],
    );
    assert.equal(o.mirror_share, 12 / 20);
    assert.deepEqual(o.by_day.at(-1), { day: today, count: 8, origin: 3 });
  });

  it('shows them on the hub pages, to the same people', async () => {
    const path = `/developers/activities/${activityA}/stats`;
    const anon = await new Browser(t.app).get(path);
    assert.equal(anon.statusCode, 303);
    assert.match(String(anon.headers.location), /^\/account\/login/);
    for (const p of [user, otherAuthor, editor]) {
      const res = await p.browser.get(path);
      assert.equal(res.statusCode, 403, res.body.slice(0, 300));
      assert.match(res.body, /FORBIDDEN_NOT_AUTHOR/);
    }
    for (const p of [owner, coauthor, admin]) {
      const res = await p.browser.get(path);
      assert.equal(res.statusCode, 200, res.body.slice(0, 300));
      assert.match(res.body, /Downloads in these days \([\d-]+ – [\d-]+\)<\/th><td>19<\/td>/);
      assert.match(res.body, new RegExp(`<tr><td[^>]*>${today}</td><td[^>]*>7</td><td[^>]*>5</td><td[^>]*>2</td>`));
      assert.match(res.body, /<tr><td[^>]*>this store \(origin\)<\/td><td[^>]*>7<\/td><td[^>]*>36\.8 %<\/td><\/tr>/);
      assert.match(res.body, /<meter min="0" max="12" value="12"/);
    }
    // The activity's hub page links to it.
    assert.match((await owner.browser.get(`/developers/activities/${activityA}`)).body, new RegExp(`href="${path}"`));
    // A day range.
    const older = await owner.browser.get(`${path}?from=${daysAgo(45)}&to=${daysAgo(35)}`);
    assert.match(older.body, /Downloads in these days \([\d-]+ – [\d-]+\)<\/th><td>11<\/td>/);
    assert.equal((await owner.browser.get(`${path}?from=nonsense`)).statusCode, 400);
    // The administrators' overview.
    const overview = '/admin/stats/downloads';
    for (const p of [user, owner, editor]) assert.equal((await p.browser.get(overview)).statusCode, 403);
    const res = await admin.browser.get(overview);
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Downloads in these days \([\d-]+ – [\d-]+\)<\/th><td>20<\/td>/);
    assert.match(res.body, /Served by mirrors<\/th><td>60\.0 %<\/td>/);
    assert.match(res.body, new RegExp(`<a href="/developers/activities/${activityA}/stats\\?from=[\\d-]+&amp;to=[\\d-]+">A</a>`));
  });

  it('reads day ranges the same way everywhere', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    assert.deepEqual(dayRange({}, now).days.slice(0, 2), ['2026-01-31', '2026-02-01']);
    assert.equal(dayRange({}, now).days.length, 30);
    assert.deepEqual(dayRange({ from: '2026-02-27' }, now), { from: '2026-02-27', to: '2026-03-01', days: ['2026-02-27', '2026-02-28', '2026-03-01'] });
    assert.equal(dayRange({ from: '2024-01-01', to: '2024-12-31' }, now).days.length, 366);
    assert.throws(() => dayRange({ from: '2024-01-01', to: '2025-01-01' }, now), /at most 366 days/);
  });
});

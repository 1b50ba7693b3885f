// The administrators' mirror page (/admin/mirrors): anonymous visitors, users and editors are
// refused (pages and forms); an administrator adds, edits, disables, enables and removes
// mirrors through the same registry as `aslo mirror` (audit log, the redirector sees the change
// at once); values are escaped; forms without a valid CSRF token change nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { person, type Person } from '../helpers/people.js';
import { Browser } from '../helpers/browser.js';
import { createDownloadWorker } from '../../src/downloads/worker.js';
import { MirrorRegistry } from '../../src/mirrors/registry.js';

const CLIENT = '8.8.8.8';

describe('/admin/mirrors', () => {
  let t: TestApp;
  let dir: string;
  let user: Person;
  let editor: Person;
  let admin: Person;
  let file: { id: number; repoPath: string };

  const mirrorRow = (name: string) => t.ctx.db.selectFrom('mirrors').selectAll().where('name', '=', name).executeTakeFirst();
  const auditOf = (action: string, target: string) =>
    t.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).where('target_id', '=', target).execute();
  const download = () => t.app.inject({ method: 'GET', url: `/repo/${file.repoPath}`, headers: { 'x-forwarded-for': CLIENT } });

  before(async () => {
    // Files of any size go to mirrors here (the test bundle is small).
    t = await createTestApp({ env: { ASLO_DOWNLOADS_ORIGIN_THRESHOLD_BYTES: '0', ASLO_DOWNLOADS_COUNT_FLUSH_SECONDS: '0' } });
    await t.app.downloads.geo.load();
    dir = await tempDir();
    user = await person(t.app, { prefix: 'user' });
    editor = await person(t.app, { role: 'editor' });
    admin = await person(t.app, { role: 'admin' });
    const r = await t.app.services.catalog.ingest.ingestPath(
      await buildActivity(dir, { bundleId: 'org.test.mirroradmin', name: 'Mirror Admin', version: '1' }),
      { status: 'public' },
    );
    assert.equal(r.outcome, 'imported');
    await createDownloadWorker(t.ctx).runner.drain();
    const f = await t.ctx.db.selectFrom('files').select(['id', 'repo_path']).where('id', '=', r.fileId!).executeTakeFirstOrThrow();
    file = { id: f.id, repoPath: f.repo_path! };
    await t.app.downloads.index.refreshNow();
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses anonymous visitors, users and editors, on the pages and on every form', async () => {
    const existing = await new MirrorRegistry(t.ctx).add(
      { name: 'existing.example', httpUrl: 'http://127.0.0.1:9/sugar', country: 'DE', continent: null, asn: null, latitude: null, longitude: null },
      { actor: admin.actor },
    );
    const anon = new Browser(t.app);
    const page = await anon.get('/admin/mirrors');
    assert.equal(page.statusCode, 303);
    assert.match(String(page.headers.location), /^\/account\/login\?next=%2Fadmin%2Fmirrors/);
    assert.equal((await anon.get(`/admin/mirrors/${existing.id}`)).statusCode, 303);
    for (const p of [user, editor]) {
      for (const url of ['/admin/mirrors', `/admin/mirrors/${existing.id}`]) {
        const res = await p.browser.get(url);
        assert.equal(res.statusCode, 403, `${url}: ${res.body.slice(0, 200)}`);
        assert.match(res.body, /FORBIDDEN_NOT_ADMIN/);
        assert.doesNotMatch(res.body, /existing\.example/);
      }
    }
    // Forms, each with a valid CSRF token of the visitor's own session.
    const forms: [string, Record<string, string>][] = [
      ['/admin/mirrors', { name: 'sneaky.example', http_url: 'http://127.0.0.1:9/x' }],
      [`/admin/mirrors/${existing.id}`, { name: 'existing.example', http_url: 'http://127.0.0.1:9/sugar', weight: '1' }],
      [`/admin/mirrors/${existing.id}/disable`, {}],
      [`/admin/mirrors/${existing.id}/enable`, {}],
      [`/admin/mirrors/${existing.id}/remove`, { confirm: 'existing.example' }],
    ];
    for (const [b, who] of [
      [anon, 'anonymous'],
      [user.browser, 'user'],
      [editor.browser, 'editor'],
    ] as const) {
      await b.get('/account/login');
      assert.ok(b.lastCsrf);
      for (const [url, form] of forms) {
        const res = await b.post(url, form);
        assert.ok([401, 403].includes(res.statusCode), `${who} ${url}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      }
    }
    const after = await mirrorRow('existing.example');
    assert.equal(after?.weight, 100);
    assert.equal(after?.enabled, true);
    assert.equal(await mirrorRow('sneaky.example'), undefined);
    await new MirrorRegistry(t.ctx).remove(existing.id);
  });

  it('lets an administrator add, edit, disable, enable and remove a mirror; the redirector follows', async () => {
    const b = admin.browser;
    const empty = await b.get('/admin/mirrors');
    assert.equal(empty.statusCode, 200);
    assert.match(empty.body, /No mirror yet/);

    // Add (empty fields are looked up in the geo database: a loopback host has no record).
    const added = await b.post('/admin/mirrors', {
      name: 'Mirror.Example.org',
      http_url: 'http://127.0.0.1:9/sugar/',
      https_url: '',
      rsync_url: 'rsync://127.0.0.1/sugar',
      operator: 'Test <b>Org</b>',
      contact: 'ops@example.org',
      country: 'de',
      continent: '',
      asn: 'AS64501',
      prefixes: '192.0.2.0/24\n2001:db8::/32',
      latitude: '',
      longitude: '',
      weight: '150',
      max_file_size: '',
    });
    assert.equal(added.statusCode, 303, added.body.slice(0, 500));
    const m = (await mirrorRow('mirror.example.org'))!;
    assert.ok(m);
    assert.equal(String(added.headers.location), `/admin/mirrors/${m.id}?done=added`);
    assert.equal(m.http_url, 'http://127.0.0.1:9/sugar');
    assert.equal(m.rsync_url, 'rsync://127.0.0.1/sugar');
    assert.equal(m.country, 'DE');
    assert.equal(m.continent, 'EU');
    assert.equal(Number(m.asn), 64501);
    assert.deepEqual(m.prefixes, ['192.0.2.0/24', '2001:db8::/32']);
    assert.equal(m.weight, 150);
    assert.equal(m.enabled, true);
    const addAudit = await auditOf('mirror.add', 'mirror.example.org');
    assert.equal(addAudit.length, 1);
    assert.equal(addAudit[0]!.actor_user_id, admin.id);
    // Every published file gets a check on the new mirror.
    const pending = await t.ctx.db.selectFrom('mirror_files').selectAll().where('mirror_id', '=', m.id).execute();
    assert.deepEqual(
      pending.map((p) => [p.file_id, p.state]),
      [[file.id, 'pending']],
    );

    // The list and the mirror's page show it, escaped.
    const list = await b.get('/admin/mirrors?done=added');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, new RegExp(`<a href="/admin/mirrors/${m.id}">mirror\\.example\\.org</a>`));
    assert.ok(list.body.includes('Test &lt;b&gt;Org&lt;/b&gt;'));
    assert.ok(!list.body.includes('<b>Org</b>'));
    assert.match(list.body, /not checked yet/);
    const one = await b.get(`/admin/mirrors/${m.id}?done=added`);
    assert.equal(one.statusCode, 200);
    assert.match(one.body, /The mirror is added/);
    assert.match(one.body, /0 verified, 1 pending, 0 failed/);
    assert.ok(one.body.includes(file.repoPath));

    // Once verified (as the verifier records it), downloads are redirected there.
    assert.equal((await download()).statusCode, 200);
    await t.ctx.db.updateTable('mirror_files').set({ state: 'verified', verified_at: new Date(), next_check_at: null }).where('mirror_id', '=', m.id).execute();
    await t.app.downloads.index.refreshNow();
    const redirected = await download();
    assert.equal(redirected.statusCode, 302);
    assert.equal(redirected.headers.location, `http://127.0.0.1:9/sugar/${file.repoPath}`);
    assert.match((await b.get('/admin/mirrors')).body, /<td>1<\/td>/);

    // A bad value shows the form again with the error and what was typed; nothing changes.
    await b.get(`/admin/mirrors/${m.id}`);
    const bad = await b.post(`/admin/mirrors/${m.id}`, { name: 'mirror.example.org', http_url: 'ftp://127.0.0.1/x', weight: '7' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /MIRROR_URL_INVALID/);
    assert.ok(bad.body.includes('value="ftp://127.0.0.1/x"'));
    assert.match(bad.body, /id="m-http_url" name="http_url" type="text" value="ftp:\/\/127\.0\.0\.1\/x" aria-invalid="true"/);
    assert.equal((await mirrorRow('mirror.example.org'))!.weight, 150);

    // Edit: the form holds every field; empty ones clear.
    const edited = await b.post(`/admin/mirrors/${m.id}`, {
      name: 'mirror.example.org',
      http_url: 'http://127.0.0.1:9/sugar',
      https_url: '',
      rsync_url: '',
      operator: 'Test Org',
      contact: '',
      country: 'PE',
      continent: '',
      asn: '64501',
      prefixes: '',
      latitude: '-12.05',
      longitude: '-77.04',
      weight: '20',
      max_file_size: '5000000',
      country_only: '1',
    });
    assert.equal(edited.statusCode, 303, edited.body.slice(0, 500));
    const e = (await mirrorRow('mirror.example.org'))!;
    assert.equal(e.weight, 20);
    assert.equal(e.country, 'PE');
    assert.equal(e.continent, 'SA');
    assert.equal(e.country_only, true);
    assert.equal(e.rsync_url, null);
    assert.deepEqual(e.prefixes, []);
    assert.equal(Number(e.max_file_size), 5000000);
    assert.equal(e.latitude, -12.05);
    assert.equal((await auditOf('mirror.edit', 'mirror.example.org')).length, 1);
    // Same base URL: the evidence stays. The client (US) is outside its country now: the origin serves.
    assert.equal((await t.ctx.db.selectFrom('mirror_files').select('state').where('mirror_id', '=', m.id).executeTakeFirstOrThrow()).state, 'verified');
    await t.app.downloads.index.refreshNow();
    assert.equal((await download()).statusCode, 200);
    await b.get(`/admin/mirrors/${m.id}`);
    assert.equal(
      (await b.post(`/admin/mirrors/${m.id}`, { name: 'mirror.example.org', http_url: 'http://127.0.0.1:9/sugar', country: 'PE', weight: '20' })).statusCode,
      303,
    );
    await t.app.downloads.index.refreshNow();
    assert.equal((await download()).statusCode, 302);

    // Disable: no client is sent there; enable again.
    await b.get('/admin/mirrors');
    const off = await b.post(`/admin/mirrors/${m.id}/disable`);
    assert.equal(off.statusCode, 303);
    assert.equal((await mirrorRow('mirror.example.org'))!.enabled, false);
    await t.app.downloads.index.refreshNow();
    assert.equal((await download()).statusCode, 200);
    assert.match((await b.get('/admin/mirrors')).body, /<strong>disabled<\/strong>/);
    assert.equal((await b.post(`/admin/mirrors/${m.id}/enable`)).statusCode, 303);
    assert.equal((await mirrorRow('mirror.example.org'))!.enabled, true);
    await t.app.downloads.index.refreshNow();
    assert.equal((await download()).statusCode, 302);
    assert.equal((await auditOf('mirror.edit', 'mirror.example.org')).length, 4);

    // Remove: only with the name typed.
    await b.get(`/admin/mirrors/${m.id}`);
    const unconfirmed = await b.post(`/admin/mirrors/${m.id}/remove`, { confirm: 'something else' });
    assert.equal(unconfirmed.statusCode, 400);
    assert.match(unconfirmed.body, /MIRROR_REMOVE_UNCONFIRMED/);
    assert.ok(await mirrorRow('mirror.example.org'));
    const removed = await b.post(`/admin/mirrors/${m.id}/remove`, { confirm: 'Mirror.Example.org' });
    assert.equal(removed.statusCode, 303);
    assert.equal(String(removed.headers.location), '/admin/mirrors?done=removed');
    assert.equal(await mirrorRow('mirror.example.org'), undefined);
    assert.equal((await auditOf('mirror.remove', 'mirror.example.org')).length, 1);
    await t.app.downloads.index.refreshNow();
    assert.equal((await download()).statusCode, 200);
    assert.equal((await b.get(`/admin/mirrors/${m.id}`)).statusCode, 404);
  });

  it("shows the registry's errors with their codes and keeps what was typed", async () => {
    const b = admin.browser;
    await b.get('/admin/mirrors');
    const cases: [Record<string, string>, string][] = [
      [{ name: 'bad name', http_url: 'http://127.0.0.1/' }, 'MIRROR_NAME_INVALID'],
      [{ name: 'nourl.example' }, 'MIRROR_NO_URL'],
      [{ name: 'x1.example', http_url: 'http://127.0.0.1/', country: 'XX' }, 'MIRROR_COUNTRY_INVALID'],
      [{ name: 'x2.example', http_url: 'http://127.0.0.1/', prefixes: '10.0.0.0/99' }, 'MIRROR_PREFIX_INVALID'],
      [{ name: 'x3.example', http_url: 'http://127.0.0.1/', country: 'DE', weight: '-1' }, 'MIRROR_WEIGHT_INVALID'],
      [{ name: 'x4.example', http_url: 'http://127.0.0.1/', country: 'DE', as_only: '1' }, 'MIRROR_RESTRICTION_INVALID'],
    ];
    for (const [form, code] of cases) {
      const res = await b.post('/admin/mirrors', form);
      assert.equal(res.statusCode, 400, `${code}: ${res.body.slice(0, 300)}`);
      assert.match(res.body, new RegExp(code));
      assert.ok(res.body.includes(`value="${form.name!.replace(/"/g, '&quot;')}"`));
    }
    assert.equal((await t.ctx.db.selectFrom('mirrors').select('id').execute()).length, 0);
    assert.equal((await b.post('/admin/mirrors', { name: 'dup.example', http_url: 'http://127.0.0.1:9/d', country: 'DE' })).statusCode, 303);
    await b.get('/admin/mirrors');
    const dup = await b.post('/admin/mirrors', { name: 'dup.example', http_url: 'http://127.0.0.1:9/e', country: 'DE' });
    assert.equal(dup.statusCode, 400);
    assert.match(dup.body, /MIRROR_EXISTS/);
    await new MirrorRegistry(t.ctx).remove('dup.example');
  });

  it('changes nothing without a valid CSRF token, even for an administrator', async () => {
    const m = await new MirrorRegistry(t.ctx).add({
      name: 'csrf.example',
      httpUrl: 'http://127.0.0.1:9/c',
      country: 'DE',
      continent: null,
      asn: null,
      latitude: null,
      longitude: null,
    });
    const b = admin.browser;
    await b.get('/admin/mirrors');
    const forms: [string, Record<string, string>][] = [
      ['/admin/mirrors', { name: 'forged.example', http_url: 'http://127.0.0.1:9/f', country: 'DE' }],
      [`/admin/mirrors/${m.id}`, { name: 'csrf.example', http_url: 'http://127.0.0.1:9/c', country: 'DE', weight: '1' }],
      [`/admin/mirrors/${m.id}/disable`, {}],
      [`/admin/mirrors/${m.id}/remove`, { confirm: 'csrf.example' }],
    ];
    for (const [url, form] of forms) {
      for (const csrf of [null, 'not-a-token']) {
        const res = await b.post(url, form, { csrf });
        assert.equal(res.statusCode, 403, `${url} with ${csrf}: ${res.statusCode}`);
        assert.match(res.body, /CSRF_INVALID/);
      }
    }
    // Another session's token does not do either.
    await user.browser.get('/account/login');
    for (const [url, form] of forms) assert.equal((await b.post(url, form, { csrf: user.browser.lastCsrf })).statusCode, 403);
    const row = (await mirrorRow('csrf.example'))!;
    assert.equal(row.weight, 100);
    assert.equal(row.enabled, true);
    assert.equal(await mirrorRow('forged.example'), undefined);
    // With the page's own token it works.
    await b.get('/admin/mirrors');
    assert.equal((await b.post(`/admin/mirrors/${m.id}/disable`)).statusCode, 303);
    assert.equal((await mirrorRow('csrf.example'))!.enabled, false);
  });
});

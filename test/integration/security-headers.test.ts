// Security headers on every answer of the app (store, hub and admin pages, error pages, the API
// and its documentation): nosniff, Referrer-Policy, a CSP without inline scripts and with
// frame-ancestors 'none', X-Frame-Options DENY, and HSTS when the base URL is https. No page
// has an inline script or event handler, and the CSRF token is never in a URL: every form
// carries it as a field, multipart forms as their first field, and a token in the query string
// is not accepted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { person, type Person } from '../helpers/people.js';
import { Browser } from '../helpers/browser.js';

function checkHeaders(res: LightMyRequestResponse, what: string, https = false): void {
  const h = res.headers;
  assert.equal(h['x-content-type-options'], 'nosniff', `${what}: nosniff`);
  assert.ok(h['referrer-policy'], `${what}: Referrer-Policy`);
  assert.equal(h['x-frame-options'], 'DENY', `${what}: X-Frame-Options`);
  const csp = String(h['content-security-policy'] ?? '');
  assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP frame-ancestors (${csp})`);
  const scripts = /script-src ([^;]*)/.exec(csp)?.[1] ?? /default-src ([^;]*)/.exec(csp)?.[1] ?? '';
  assert.ok(scripts, `${what}: CSP restricts scripts (${csp})`);
  assert.doesNotMatch(scripts, /unsafe-inline|unsafe-eval|\*/, `${what}: no inline scripts (${csp})`);
  if (https) assert.match(String(h['strict-transport-security']), /max-age=\d{7,}/, `${what}: HSTS`);
  else assert.equal(h['strict-transport-security'], undefined, `${what}: no HSTS over http`);
}

function checkHtml(res: LightMyRequestResponse, what: string): void {
  if (!String(res.headers['content-type'] ?? '').startsWith('text/html')) return;
  const body = res.body;
  for (const m of body.matchAll(/<script\b[^>]*>/gi)) assert.match(m[0], /\bsrc=/, `${what}: inline script ${m[0]}`);
  assert.doesNotMatch(body, /<[^>]+\son[a-z]+\s*=/i, `${what}: inline event handler`);
  assert.doesNotMatch(body, /javascript:/i, `${what}: javascript: URL`);
  assert.doesNotMatch(body, /_csrf=/, `${what}: CSRF token in a URL`);
  for (const form of body.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const [, attrs, inner] = form;
    if (!/method="post"/i.test(attrs!)) continue;
    assert.match(inner!, /^<input type="hidden" name="_csrf" value="[^"]+">/, `${what}: the CSRF token is the first field of ${attrs}`);
  }
}

describe('security headers and CSRF tokens', () => {
  let t: TestApp;
  let dir: string;
  let dev: Person;
  let admin: Person;
  let activityId: number;

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    dev = await person(t.app, { prefix: 'dev' });
    admin = await person(t.app, { role: 'admin' });
    const file = await readFile(await buildActivity(dir, { bundleId: 'org.test.headers.Kite', name: 'Kite', version: '1' }));
    await dev.browser.get('/developers/upload');
    const up = await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'Kite-1.xo', data: file });
    assert.equal(up.statusCode, 201, up.body.slice(0, 500));
    activityId = (await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.headers.Kite').executeTakeFirstOrThrow()).id;
    await t.app.review.nominate(dev.actor, activityId, 'please');
  });
  after(async () => {
    await t?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends them with every page of the store, the hub and the admin, with every error, redirect and API answer', async () => {
    const anonymous = new Browser(t.app);
    const fill = (url: string) =>
      url.replace(':id', String(activityId)).replace(':bundle_id', 'org.test.headers.Kite').replace(':kind', 'activity').replace(':tag', 'es');
    // Every GET route the app has, as an administrator and as a visitor.
    // Not the downloads: bundle bytes and redirects, answered by the download fast path in a
    // running store (src/downloads/fast-path.ts), never a page.
    const routes = [...new Set(t.app.routeTable.filter((r) => r.method === 'GET').map((r) => r.url))].filter(
      (u) => !u.includes('*') && !u.startsWith('/downloads/'),
    );
    assert.ok(routes.length > 30, `${routes.length} routes`);
    let pages = 0;
    for (const url of [...routes.map(fill), '/en/', '/en/search?q=kite', '/does/not/exist', '/api/v1/nothing', '/api/docs/static/index.html']) {
      for (const b of [admin.browser, anonymous]) {
        const res = await b.get(url);
        if (res.statusCode >= 500) assert.fail(`${url}: ${res.statusCode}`);
        checkHeaders(res, `GET ${url} (${res.statusCode})`);
        checkHtml(res, `GET ${url}`);
        if (String(res.headers['content-type']).startsWith('text/html')) pages++;
      }
    }
    assert.ok(pages > 30, `${pages} HTML pages checked`);
    // The editor's pages and the developer's own.
    const editor = await person(t.app, { role: 'editor' });
    for (const url of [
      '/editors/queue',
      `/editors/review/activity/${activityId}`,
      '/developers',
      `/developers/activities/${activityId}`,
      '/developers/upload',
      '/account',
    ]) {
      for (const b of [editor.browser, dev.browser]) {
        const res = await b.get(url);
        checkHeaders(res, `GET ${url}`);
        checkHtml(res, `GET ${url}`);
      }
    }
    // A refused form (403), a JSON API error, a POST answer.
    const csrf = await anonymous.post('/account/login', { email: 'x@example.org', password: 'y' }, { csrf: null });
    assert.equal(csrf.statusCode, 403);
    checkHeaders(csrf, 'CSRF refusal');
    const api = await t.app.inject({ method: 'POST', url: '/api/v1/uploads', payload: 'x', headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(api.statusCode, 401);
    checkHeaders(api, 'API 401');
    // The store's pages keep their stricter policy: scripts and styles from the store only.
    const home = await anonymous.get('/en/');
    assert.match(String(home.headers['content-security-policy']), /script-src 'self'/);
    const hub = await anonymous.get('/account/login');
    assert.doesNotMatch(String(hub.headers['content-security-policy']), /unsafe-inline/);
  });

  it('adds HSTS when the base URL is https', async () => {
    const s = await createTestApp({ env: { ASLO_SERVER_BASE_URL: 'https://store.example.org' } });
    try {
      for (const url of ['/', '/en/', '/account/login', '/api/v1/activities', '/nothing/here']) checkHeaders(await s.app.inject({ url }), url, true);
    } finally {
      await s.cleanup();
    }
  });

  it('takes the CSRF token of a multipart form only from its first field, never from the URL', async () => {
    const file = await readFile(await buildActivity(dir, { bundleId: 'org.test.headers.Kite', name: 'Kite', version: '2', payload: 'v2' }));
    await dev.browser.get('/developers/upload');
    const token = dev.browser.lastCsrf!;
    const send = (url: string, parts: { name: string; value?: string; file?: Buffer }[]) => {
      const boundary = '----csrf' + Math.random().toString(16).slice(2);
      const body = Buffer.concat([
        ...parts.map((p) =>
          p.file
            ? Buffer.concat([
                Buffer.from(
                  `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"; filename="Kite-2.xo"\r\nContent-Type: application/octet-stream\r\n\r\n`,
                ),
                p.file,
                Buffer.from('\r\n'),
              ])
            : Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`),
        ),
        Buffer.from(`--${boundary}--\r\n`),
      ]);
      return t.app.inject({
        method: 'POST',
        url,
        payload: body,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, cookie: [...dev.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
    };
    const inQuery = await send(`/developers/upload?_csrf=${encodeURIComponent(token)}`, [{ name: 'file', file }]);
    assert.equal(inQuery.statusCode, 403, inQuery.body.slice(0, 300));
    assert.match(inQuery.body, /CSRF_INVALID/);
    const afterFile = await send('/developers/upload', [
      { name: 'file', file },
      { name: '_csrf', value: token },
    ]);
    assert.equal(afterFile.statusCode, 403);
    const wrong = await send('/developers/upload', [
      { name: '_csrf', value: 'forged' },
      { name: 'file', file },
    ]);
    assert.equal(wrong.statusCode, 403);
    const screenshot = await send(`/developers/activities/${activityId}/screenshots?_csrf=${encodeURIComponent(token)}`, [{ name: 'screenshot', file }]);
    assert.equal(screenshot.statusCode, 403);
    // Nothing was stored by the refused requests.
    const versions = await t.ctx.db.selectFrom('versions').select('version').where('activity_id', '=', activityId).execute();
    assert.deepEqual(
      versions.map((v) => v.version),
      ['1'],
    );
    const ok = await send('/developers/upload', [
      { name: '_csrf', value: token },
      { name: 'file', file },
    ]);
    assert.equal(ok.statusCode, 201, ok.body.slice(0, 300));
    // Urlencoded forms do not take it from the URL either.
    await dev.browser.get('/account');
    const q = await t.app.inject({
      method: 'POST',
      url: `/account/locale?_csrf=${encodeURIComponent(dev.browser.lastCsrf!)}`,
      payload: 'locale=es',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: [...dev.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    assert.equal(q.statusCode, 403);
  });
});

// The hub, account, editor and admin pages in the visitor's language: the language menu's cookie,
// else the account's language, else Accept-Language, else English; Arabic right to left; the
// forms post the same values in every language.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { Browser } from '../helpers/browser.js';
import { person, type Person } from '../helpers/people.js';

const htmlTag = (body: string) => /<html lang="([^"]+)" dir="(ltr|rtl)">/.exec(body)?.slice(1) ?? [];
const h1 = (body: string) => /<h1>([^<]*)<\/h1>/.exec(body)?.[1];

describe('hub pages in the visitor’s language', () => {
  let t: TestApp;
  let dev: Person;
  let editor: Person;
  let admin: Person;
  let activityId: number;

  before(async () => {
    t = await createTestApp();
    dev = await person(t.app);
    editor = await person(t.app, { role: 'editor' });
    admin = await person(t.app, { role: 'admin' });
    const dir = await tempDir();
    const file = await readFile(await buildActivity(dir, { bundleId: 'org.test.i18n.Kite', name: 'Kite', version: '1' }));
    await dev.browser.get('/developers/upload');
    const up = await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'Kite-1.xo', data: file });
    assert.equal(up.statusCode, 201, up.body.slice(0, 500));
    activityId = (await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.i18n.Kite').executeTakeFirstOrThrow()).id;
    await dev.browser.get(`/developers/activities/${activityId}`);
    assert.equal((await dev.browser.post(`/developers/activities/${activityId}/nominate`, { message: 'Ready' })).statusCode, 303);
  });
  after(async () => t?.cleanup());

  it('stays English without a choice', async () => {
    const res = await new Browser(t.app).get('/account/login');
    assert.deepEqual(htmlTag(res.body), ['en', 'ltr']);
    assert.equal(h1(res.body), 'Log in');
  });

  it('renders a hub page in Spanish for Accept-Language: es', async () => {
    const res = await new Browser(t.app).get('/account/login', { 'accept-language': 'es-UY,es;q=0.9' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(htmlTag(res.body), ['es', 'ltr']);
    assert.equal(h1(res.body), 'Iniciar sesión');
    assert.match(res.body, /<label for="f-password">Contraseña<\/label>/);
    assert.match(res.body, /¿Olvidaste tu contraseña\?/);
    // The store's shell around it is in Spanish too, and the language menu comes back here.
    assert.match(res.body, /placeholder="Buscar actividades"/);
    assert.ok(res.body.includes('href="/lang/ar?next=%2Faccount%2Flogin&amp;stay=1"'), 'the menu returns to this page');
  });

  it('renders a hub page in Arabic, right to left, from the language menu’s cookie', async () => {
    const b = new Browser(t.app);
    const chosen = await b.get('/lang/ar?next=%2Faccount%2Fregister&stay=1');
    assert.equal(chosen.headers.location, '/account/register');
    const res = await b.get('/account/register', { 'accept-language': 'fr' });
    assert.deepEqual(htmlTag(res.body), ['ar', 'rtl']);
    assert.equal(h1(res.body), 'إنشاء حساب');
    assert.match(res.body, /<button type="submit">إنشاء حساب<\/button>/);
  });

  it('uses the account’s language for a logged-in person, and the menu’s choice before it', async () => {
    const p = await person(t.app);
    await p.browser.get('/account');
    assert.equal((await p.browser.post('/account/locale', { locale: 'ar' })).statusCode, 303);
    // A fresh log-in elsewhere (no cookie yet): the account decides.
    const elsewhere = new Browser(t.app);
    await elsewhere.login(p.email, 'correct horse battery staple');
    const dash = await elsewhere.get('/developers', { 'accept-language': 'fr' });
    assert.deepEqual(htmlTag(dash.body), ['ar', 'rtl']);
    assert.equal(h1(dash.body), 'مركز المطورين');
    // The language menu in this browser wins.
    await elsewhere.get('/lang/es?next=%2Fdevelopers&stay=1');
    const es = await elsewhere.get('/developers');
    assert.deepEqual(htmlTag(es.body), ['es', 'ltr']);
    assert.match(es.body, /Todavía no tienes ninguna actividad\./);
    // Saving "browser's choice" clears the menu's cookie too: Accept-Language decides again.
    await p.browser.get('/account');
    await p.browser.post('/account/locale', { locale: '' });
    assert.equal(p.browser.cookies.get('aslo_lang'), undefined);
    assert.deepEqual(htmlTag((await p.browser.get('/developers', { 'accept-language': 'pt-BR' })).body), ['pt-BR', 'ltr']);
  });

  it('shows the developer’s activity page in French with statuses and roles translated', async () => {
    dev.browser.cookies.set('aslo_lang', 'fr');
    try {
      const res = await dev.browser.get(`/developers/activities/${activityId}`);
      assert.deepEqual(htmlTag(res.body), ['fr', 'ltr']);
      assert.match(res.body, /État : <strong>proposée<\/strong>/);
      assert.match(res.body, /<h2 id="history">Historique des relectures<\/h2>/);
      assert.match(res.body, /<strong>proposée<\/strong> par /);
      // Form values stay the stored ones.
      assert.match(res.body, /<option value="developer">développeur<\/option><option value="owner">propriétaire<\/option>/);
    } finally {
      dev.browser.cookies.delete('aslo_lang');
    }
  });

  it('shows the editors’ queue and review page in Spanish and Arabic, and the decision still works', async () => {
    editor.browser.cookies.set('aslo_lang', 'es');
    const queue = await editor.browser.get('/editors/queue');
    assert.deepEqual(htmlTag(queue.body), ['es', 'ltr']);
    assert.equal(h1(queue.body), 'Cola de los editores');
    assert.match(queue.body, /Actividades propuestas \(1\)/);
    editor.browser.cookies.set('aslo_lang', 'ar');
    const review = await editor.browser.get(`/editors/review/activity/${activityId}`);
    assert.deepEqual(htmlTag(review.body), ['ar', 'rtl']);
    assert.match(review.body, /<h2 id="decision">القرار<\/h2>/);
    assert.match(review.body, /<input type="radio" name="action" value="approve" required> الموافقة \(جعله عامًا\)/);
    const decided = await editor.browser.post(`/editors/review/activity/${activityId}`, { action: 'approve', comment: 'جيد', versions: '1' });
    assert.equal(decided.statusCode, 303);
    const done = await editor.browser.get(decided.headers.location as string);
    assert.match(done.body, /سُجّل القرار/);
    editor.browser.cookies.delete('aslo_lang');
    const a = await t.ctx.db.selectFrom('activities').select('status').where('id', '=', activityId).executeTakeFirstOrThrow();
    assert.equal(a.status, 'public');
  });

  it('translates the error page and the admin pages', async () => {
    const b = new Browser(t.app);
    b.cookies.set('aslo_lang', 'es');
    await b.login(admin.email, 'correct horse battery staple');
    const missing = await b.get('/developers/activities/99999999');
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(htmlTag(missing.body), ['es', 'ltr']);
    assert.equal(h1(missing.body), 'No encontrado');
    const users = await b.get('/admin/users');
    assert.match(users.body, /<option value="admin" selected>administrador<\/option>/);
    b.cookies.set('aslo_lang', 'fr');
    const mirrors = await b.get('/admin/mirrors');
    assert.equal(h1(mirrors.body), 'Miroirs');
    assert.match(mirrors.body, /Pas encore de miroir/);
    b.cookies.set('aslo_lang', 'pt-BR');
    const audit = await b.get('/admin/audit');
    assert.equal(h1(audit.body), 'Registro de auditoria');
  });
});

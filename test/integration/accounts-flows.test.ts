// Accounts as a person uses them, against the real app and database: register, verify by mail,
// log in and out, forgotten password, e-mail and password changes, deletion, legacy hashes,
// sessions shared by processes, CSRF, generic messages and rate limits.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { build } from '../../src/app.js';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { Browser, PASSWORD, linkInMail, mailsTo, uniqueEmail } from '../helpers/browser.js';

describe('accounts', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.cleanup();
  });

  it('registers, sends a verification mail, verifies the address, logs in and out', async () => {
    const b = new Browser(t.app);
    const email = uniqueEmail('reg');
    const res = await b.submit('/account/register', '/account/register', { email, display_name: 'Ana <b>', password: PASSWORD });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/login?done=registered');
    const user = await t.app.accounts.findByEmail(email);
    assert.ok(user);
    assert.equal(user.email_verified_at, null);
    assert.match(user.password_hash!, /^\$argon2id\$/);
    const mails = mailsTo(t.ctx, email);
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.subject, /Confirm your e-mail/);

    const link = linkInMail(t.ctx, email, '/account/verify');
    const page = await b.get(link);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Confirm my address/);
    const v = await b.post('/account/verify', { token: new URL(link, 'http://x').searchParams.get('token')! });
    assert.equal(v.statusCode, 303);
    assert.ok((await t.app.accounts.findByEmail(email))!.email_verified_at);
    // The link works once.
    const again = await b.post('/account/verify', { token: new URL(link, 'http://x').searchParams.get('token')! });
    assert.equal(again.statusCode, 400);
    assert.match(again.body, /LINK_INVALID/);

    const login = await b.login(email, PASSWORD);
    const cookie = (login.cookies as { name: string; httpOnly?: boolean; sameSite?: string; path?: string; secure?: boolean }[]).find(
      (c) => c.name === 'aslo_session',
    )!;
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.notEqual(cookie.secure, true, 'http base URL: no Secure flag');
    const account = await b.get('/account');
    assert.equal(account.statusCode, 200);
    assert.ok(account.body.includes(email));
    // Display names are escaped.
    assert.ok(account.body.includes('Ana &lt;b&gt;'));
    assert.ok(!account.body.includes('Ana <b>'));
    const sessions = await t.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute();
    assert.equal(sessions.length, 1);
    // The stored id is a hash, not the cookie's value.
    assert.notEqual(sessions[0]!.id, b.cookies.get('aslo_session'));

    const out = await b.post('/account/logout', {});
    assert.equal(out.statusCode, 303);
    assert.equal((await t.ctx.db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute()).length, 0);
    const after = await b.get('/account');
    assert.equal(after.statusCode, 303);
    assert.match(String(after.headers.location), /^\/account\/login/);

    const actions = (await t.ctx.db.selectFrom('audit_log').select('action').where('target_id', '=', String(user.id)).execute()).map((r) => r.action);
    assert.ok(actions.includes('user.register'));
    assert.ok(actions.includes('user.verify_email'));
  });

  it('answers registration of a taken address exactly like a new one, and tells the owner by mail', async () => {
    const email = uniqueEmail('taken');
    await t.app.accounts.createUser({ email, displayName: 'Owner', password: PASSWORD });
    const b = new Browser(t.app);
    const res = await b.submit('/account/register', '/account/register', { email: email.toUpperCase(), display_name: 'Intruder', password: PASSWORD + '!' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/account/login?done=registered');
    const mails = mailsTo(t.ctx, email.toUpperCase());
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.subject, /tried to register/);
    const users = await t.ctx.db.selectFrom('users').select('id').where('display_name', '=', 'Intruder').execute();
    assert.equal(users.length, 0);
  });

  it('rejects bad registration input with sentences, the form kept, never a code', async () => {
    const b = new Browser(t.app);
    const short = await b.submit('/account/register', '/account/register', { email: uniqueEmail(), display_name: 'X', password: 'short' });
    assert.equal(short.statusCode, 400);
    assert.match(short.body, /role="alert"[^>]*><strong>Choose a longer password: at least 10 characters\.<\/strong>/);
    assert.doesNotMatch(short.body, /PASSWORD_TOO_SHORT/);
    assert.match(short.body, /name="display_name"[^>]*value="X"|value="X"[^>]*name="display_name"/);
    const bad = await b.submit('/account/register', '/account/register', { email: 'not-an-address', display_name: 'X', password: PASSWORD });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /Enter a valid e-mail address, like name@example\.org\./);
    assert.doesNotMatch(bad.body, /EMAIL_INVALID/);
  });

  it('gives the same answer for a wrong password and an unknown address', async () => {
    const email = uniqueEmail('login');
    await t.app.accounts.createUser({ email, displayName: 'L', password: PASSWORD });
    const b = new Browser(t.app);
    const wrong = await b.submit('/account/login', '/account/login', { email, password: 'wrong password!' });
    const unknown = await b.submit('/account/login', '/account/login', { email: uniqueEmail('nobody'), password: 'wrong password!' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(unknown.statusCode, 401);
    const msg = (body: string) => /role="alert"[^>]*><strong>([^<]+)<\/strong>/.exec(body)![1];
    assert.equal(msg(wrong.body), msg(unknown.body));
    assert.equal(msg(wrong.body), 'The e-mail address or the password is wrong. Check them and try again.');
    // The form again, with the address kept; no internal code on the page.
    assert.match(wrong.body, new RegExp(`id="f-email" name="email" type="email" value="${email.replace(/[.+]/g, '\\$&')}"`));
    assert.doesNotMatch(wrong.body, /LOGIN_FAILED/);
  });

  it('refuses forms without a valid CSRF token', async () => {
    const email = uniqueEmail('csrf');
    await t.app.accounts.createUser({ email, displayName: 'C', password: PASSWORD });
    const b = new Browser(t.app);
    await b.get('/account/login');
    const none = await b.post('/account/login', { email, password: PASSWORD }, { csrf: null });
    assert.equal(none.statusCode, 403);
    assert.match(none.body, /CSRF_INVALID/);
    // A token from another browser does not fit this browser's secret.
    const other = new Browser(t.app);
    await other.get('/account/login');
    const foreign = await b.post('/account/login', { email, password: PASSWORD }, { csrf: other.lastCsrf });
    assert.equal(foreign.statusCode, 403);
    assert.equal(b.cookies.has('aslo_session'), false);
  });

  it('resets a forgotten password by mail, without telling whether an address is registered', async () => {
    const email = uniqueEmail('reset');
    await t.app.accounts.createUser({ email, displayName: 'R', password: PASSWORD });
    const other = new Browser(t.app);
    await other.login(email, PASSWORD);

    const b = new Browser(t.app);
    const known = await b.submit('/account/forgot', '/account/forgot', { email });
    const unknownAddr = uniqueEmail('ghost');
    const unknown = await b.submit('/account/forgot', '/account/forgot', { email: unknownAddr });
    assert.equal(known.statusCode, 303);
    assert.equal(unknown.statusCode, 303);
    assert.equal(known.headers.location, unknown.headers.location);
    assert.equal(mailsTo(t.ctx, unknownAddr).length, 0);

    const link = linkInMail(t.ctx, email, '/account/reset');
    const form = await b.get(link);
    assert.equal(form.statusCode, 200);
    const token = new URL(link, 'http://x').searchParams.get('token')!;
    const done = await b.post('/account/reset', { token, password: 'a brand new password' });
    assert.equal(done.statusCode, 303);
    // Old password out, new in, other sessions ended, link spent.
    const old = await new Browser(t.app).submit('/account/login', '/account/login', { email, password: PASSWORD });
    assert.equal(old.statusCode, 401);
    await new Browser(t.app).login(email, 'a brand new password');
    assert.equal((await other.get('/account')).statusCode, 303);
    const reuse = await b.get(link);
    assert.equal(reuse.statusCode, 400);
  });

  it('changes the password (ending other sessions) and the e-mail address (confirmed from the new one)', async () => {
    const email = uniqueEmail('chg');
    await t.app.accounts.createUser({ email, displayName: 'Chg', password: PASSWORD });
    const a = new Browser(t.app);
    const b = new Browser(t.app);
    await a.login(email, PASSWORD);
    await b.login(email, PASSWORD);
    const wrong = await a.submit('/account', '/account/password', { current_password: 'nope nope nope', password: 'another password 1' });
    assert.equal(wrong.statusCode, 403);
    assert.match(wrong.body, /PASSWORD_WRONG/);
    const ok = await a.submit('/account', '/account/password', { current_password: PASSWORD, password: 'another password 1' });
    assert.equal(ok.statusCode, 303);
    assert.equal((await a.get('/account')).statusCode, 200, 'this session stays');
    assert.equal((await b.get('/account')).statusCode, 303, 'the other session is logged out');

    const newEmail = uniqueEmail('new');
    const req = await a.submit('/account', '/account/email', { email: newEmail, current_password: 'another password 1' });
    assert.equal(req.statusCode, 303);
    assert.equal(mailsTo(t.ctx, email).at(-1)!.subject, 'Your e-mail address is about to change');
    const link = linkInMail(t.ctx, newEmail, '/account/email/confirm');
    await a.get(link);
    const conf = await a.post('/account/email/confirm', { token: new URL(link, 'http://x').searchParams.get('token')! });
    assert.equal(conf.statusCode, 303);
    assert.ok(await t.app.accounts.findByEmail(newEmail));
    assert.equal(await t.app.accounts.findByEmail(email), undefined);
  });

  it('deletes an account: logs out everywhere, frees the address, revokes tokens', async () => {
    const email = uniqueEmail('del');
    const user = await t.app.accounts.createUser({ email, displayName: 'Del', password: PASSWORD });
    const b = new Browser(t.app);
    await b.login(email, PASSWORD);
    await b.submit('/account', '/account/tokens', { name: 'cli', scopes: ['publish'], expires_in_days: '30' });
    const res = await b.submit('/account', '/account/delete', { current_password: PASSWORD });
    assert.equal(res.statusCode, 303);
    const row = await t.ctx.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    assert.ok(row.deleted_at);
    assert.notEqual(row.email, email);
    assert.equal(row.password_hash, null);
    const live = await t.ctx.db.selectFrom('api_tokens').select('id').where('user_id', '=', user.id).where('revoked_at', 'is', null).execute();
    assert.equal(live.length, 0);
    assert.equal((await b.get('/account')).statusCode, 303);
    // The address can register again.
    const again = await new Browser(t.app).submit('/account/register', '/account/register', { email, display_name: 'Back', password: PASSWORD });
    assert.equal(again.statusCode, 303);
    assert.ok(await t.app.accounts.findByEmail(email));
  });

  it("accepts the old site's md5 and sha512 hashes once, upgrading them to argon2id", async () => {
    const now = new Date();
    const md5Email = uniqueEmail('md5');
    const shaEmail = uniqueEmail('sha');
    const pw = 'legacy password 123';
    const salt = 'abcdef';
    await t.ctx.db
      .insertInto('users')
      .values([
        {
          email: md5Email,
          display_name: 'Old1',
          password_hash: null,
          legacy_hash: createHash('md5').update(pw).digest('hex'),
          email_verified_at: now,
          locale: null,
          homepage: null,
          bio: null,
          legacy_id: 9001,
          created_at: now,
          updated_at: now,
        },
        {
          email: shaEmail,
          display_name: 'Old2',
          password_hash: null,
          legacy_hash: `sha512$${salt}$${createHash('sha512')
            .update(salt + pw)
            .digest('hex')}`,
          email_verified_at: now,
          locale: null,
          homepage: null,
          bio: null,
          legacy_id: 9002,
          created_at: now,
          updated_at: now,
        },
      ])
      .execute();
    for (const email of [md5Email, shaEmail]) {
      const bad = await new Browser(t.app).submit('/account/login', '/account/login', { email, password: 'not it at all' });
      assert.equal(bad.statusCode, 401);
      assert.equal((await t.app.accounts.findByEmail(email))!.password_hash, null, 'a failed login upgrades nothing');
      await new Browser(t.app).login(email, pw);
      const u = (await t.app.accounts.findByEmail(email))!;
      assert.match(u.password_hash!, /^\$argon2id\$/);
      assert.equal(u.legacy_hash, null);
      await new Browser(t.app).login(email, pw);
    }
    const upgrades = await t.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'user.password_upgrade').execute();
    assert.equal(upgrades.length, 2);
  });

  it('keeps a session valid in another process sharing the database', async () => {
    const email = uniqueEmail('multi');
    await t.app.accounts.createUser({ email, displayName: 'Multi', password: PASSWORD });
    const b = new Browser(t.app);
    await b.login(email, PASSWORD);
    const second = await build(t.config, { context: t.ctx });
    await second.ready();
    try {
      const other = new Browser(second);
      for (const [k, v] of b.cookies) other.cookies.set(k, v);
      const res = await other.get('/account');
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes(email));
    } finally {
      await second.close();
    }
  });

  it('refuses writes to the audit log other than appending', async () => {
    await assert.rejects(t.ctx.db.updateTable('audit_log').set({ reason: 'rewritten' }).execute(), /append-only/);
    await assert.rejects(t.ctx.db.deleteFrom('audit_log').execute(), /append-only/);
  });
});

describe('accounts rate limits', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      env: {
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT: '3',
        ASLO_RATE_LIMITS_LOGIN_PER_ADDRESS: '100',
        ASLO_RATE_LIMITS_REGISTER_PER_ADDRESS: '2',
        ASLO_RATE_LIMITS_RESET_PER_ACCOUNT: '1',
      },
    });
  });
  after(async () => {
    await t.cleanup();
  });

  it('limits login attempts per account, whatever the address', async () => {
    const email = uniqueEmail('rl');
    await t.app.accounts.createUser({ email, displayName: 'RL', password: PASSWORD });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const b = new Browser(t.app, `10.0.0.${i + 1}`);
      codes.push((await b.submit('/account/login', '/account/login', { email, password: 'wrong password' })).statusCode);
    }
    assert.deepEqual(codes, [401, 401, 401, 429]);
    const last = await new Browser(t.app, '10.0.1.1').submit('/account/login', '/account/login', { email, password: PASSWORD });
    assert.equal(last.statusCode, 429);
    assert.match(last.body, /RATE_LIMITED/);
    // Another account is not affected.
    const other = uniqueEmail('rl2');
    await t.app.accounts.createUser({ email: other, displayName: 'RL2', password: PASSWORD });
    await new Browser(t.app, '10.0.0.1').login(other, PASSWORD);
  });

  it('limits registrations per address and password-reset mails per account', async () => {
    const b = new Browser(t.app, '10.9.9.9');
    const codes: number[] = [];
    for (let i = 0; i < 3; i++)
      codes.push((await b.submit('/account/register', '/account/register', { email: uniqueEmail('many'), display_name: 'M', password: PASSWORD })).statusCode);
    assert.deepEqual(codes, [303, 303, 429]);
    const email = uniqueEmail('rst');
    await t.app.accounts.createUser({ email, displayName: 'R', password: PASSWORD });
    const first = await new Browser(t.app, '10.8.0.1').submit('/account/forgot', '/account/forgot', { email });
    const second = await new Browser(t.app, '10.8.0.2').submit('/account/forgot', '/account/forgot', { email });
    assert.equal(first.statusCode, 303);
    assert.equal(second.statusCode, 429);
    assert.equal(mailsTo(t.ctx, email).length, 1);
  });
});

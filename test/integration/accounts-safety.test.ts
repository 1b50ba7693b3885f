// Accounts that others cannot lock, mail-bomb or outlast: failed logins throttled per (account,
// address) with a device cookie past the per-account lockout, IPv6 counted per /64, at most 3
// "someone tried to register" mails a day, resets and password changes ending tokens and
// sessions (the mail names the tokens), and one password verification per login attempt whether
// or not the account exists (counted, never timed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { build } from '../../src/app.js';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { Browser, PASSWORD, linkInMail, mailsTo, uniqueEmail } from '../helpers/browser.js';
import { verificationCounter, prepareDummyHash, hashPassword } from '../../src/accounts/passwords.js';
import { EMAIL_CHANGE_MAILS_PER_DAY, REGISTER_EXISTING_MAILS_PER_DAY, RESET_MAILS_PER_DAY } from '../../src/accounts/service.js';
import { DEVICE_COOKIE } from '../../src/accounts/devices.js';

const WRONG = 'not the password at all';

describe('failed logins cannot lock a person out', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      env: {
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT_ADDRESS: '3',
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT: '6',
        ASLO_RATE_LIMITS_LOGIN_PER_ADDRESS: '50',
        ASLO_RATE_LIMITS_REGISTER_PER_ADDRESS: '2',
      },
    });
  });
  after(async () => t?.cleanup());

  const attempt = (address: string, email: string, password: string, b = new Browser(t.app, address)) =>
    b.submit('/account/login', '/account/login', { email, password });

  it('throttles guesses per (account, address): the owner elsewhere still logs in', async () => {
    const email = uniqueEmail('victim');
    await t.app.accounts.createUser({ email, displayName: 'Victim', password: PASSWORD });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await attempt('198.51.100.7', email, WRONG)).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 429, 429]);
    // Even the right password from the attacker's address waits for the window.
    const res = await attempt('198.51.100.7', email, PASSWORD);
    assert.equal(res.statusCode, 429);
    assert.match(res.body, /RATE_LIMITED/);
    assert.ok(Number(res.headers['retry-after']) > 0);
    // The owner, at home, with a browser that never logged in before: not locked.
    const owner = await attempt('203.0.113.20', email, PASSWORD);
    assert.equal(owner.statusCode, 303);
    // The attacker's address may still try other accounts (up to the per-address limit).
    const other = uniqueEmail('other');
    await t.app.accounts.createUser({ email: other, displayName: 'Other', password: PASSWORD });
    assert.equal((await attempt('198.51.100.7', other, PASSWORD)).statusCode, 303);
  });

  it('counts failures only: a person who logs in often is never held by their own successes', async () => {
    const email = uniqueEmail('often');
    await t.app.accounts.createUser({ email, displayName: 'Often', password: PASSWORD });
    for (let i = 0; i < 8; i++) assert.equal((await attempt('192.0.2.44', email, PASSWORD)).statusCode, 303, `login ${i + 1}`);
  });

  it('lets a browser that logged in to the account before past a lockout made from many addresses (device cookie)', async () => {
    const email = uniqueEmail('locked');
    const user = await t.app.accounts.createUser({ email, displayName: 'Locked', password: PASSWORD });
    const laptop = new Browser(t.app, '203.0.113.50');
    await laptop.login(email, PASSWORD);
    assert.ok(laptop.cookies.get(DEVICE_COOKIE), 'a device cookie is set at login');
    await laptop.post('/account/logout', {});
    assert.ok(laptop.cookies.get(DEVICE_COOKIE), 'logging out keeps the device cookie');

    // A botnet: 2 guesses from each of many addresses (under the per-address limit each).
    for (let i = 0; i < 4; i++) for (let j = 0; j < 2; j++) await attempt(`10.66.${i}.1`, email, WRONG);
    // A browser that never logged in to the account, even with the right password: locked.
    const stranger = await attempt('203.0.113.51', email, PASSWORD);
    assert.equal(stranger.statusCode, 429, 'the per-account lockout holds unknown browsers');
    // The owner's laptop gets in, from its usual address or any other.
    const back = await attempt('203.0.113.50', email, PASSWORD, laptop);
    assert.equal(back.statusCode, 303, back.body.slice(0, 300));
    assert.equal((await laptop.get('/account')).statusCode, 200);

    // A forged or tampered device cookie is worth nothing.
    const forger = new Browser(t.app, '203.0.113.52');
    forger.cookies.set(DEVICE_COOKIE, `${user.id}.AAAAAAAAAAAAAAAAAAAAAAAA`);
    assert.equal((await attempt('203.0.113.52', email, PASSWORD, forger)).statusCode, 429);
    const tampered = new Browser(t.app, '203.0.113.53');
    tampered.cookies.set(DEVICE_COOKIE, laptop.cookies.get(DEVICE_COOKIE)!.replace(/^\d+/, String(user.id + 1000)));
    assert.equal((await attempt('203.0.113.53', email, PASSWORD, tampered)).statusCode, 429);
    // The cookie of another account does not open this one.
    const otherEmail = uniqueEmail('neighbour');
    await t.app.accounts.createUser({ email: otherEmail, displayName: 'N', password: PASSWORD });
    const neighbour = new Browser(t.app, '203.0.113.54');
    await neighbour.login(otherEmail, PASSWORD);
    assert.equal((await attempt('203.0.113.54', email, PASSWORD, neighbour)).statusCode, 429);
  });

  it('limits guesses made with a device cookie per cookie', async () => {
    const email = uniqueEmail('stolen');
    await t.app.accounts.createUser({ email, displayName: 'S', password: PASSWORD });
    const b = new Browser(t.app, '203.0.113.60');
    await b.login(email, PASSWORD);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await attempt(`10.77.${i}.1`, email, WRONG, b)).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 429]);
  });

  it('counts an IPv6 client per /64 in the login and registration limits', async () => {
    const email = uniqueEmail('v6');
    await t.app.accounts.createUser({ email, displayName: 'V6', password: PASSWORD });
    const codes: number[] = [];
    // A fresh address of the same /64 for every guess.
    for (let i = 1; i <= 4; i++) codes.push((await attempt(`2001:db8:aa:bb::${i.toString(16)}`, email, WRONG)).statusCode);
    assert.deepEqual(codes, [401, 401, 401, 429]);
    assert.equal((await attempt('2001:db8:aa:bb:ffff:1:2:3', email, PASSWORD)).statusCode, 429, 'same /64, other spelling');
    // Another /64 is another client.
    assert.equal((await attempt('2001:db8:aa:bc::1', email, PASSWORD)).statusCode, 303);

    const reg: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const b = new Browser(t.app, `2001:db8:cc:dd:${i}::1`);
      reg.push((await b.submit('/account/register', '/account/register', { email: uniqueEmail('v6reg'), display_name: 'R', password: PASSWORD })).statusCode);
    }
    assert.deepEqual(reg, [303, 303, 429]);
    // IPv4 mapped into IPv6 is the IPv4 address.
    const mapped: number[] = [];
    for (const a of ['192.0.2.200', '::ffff:192.0.2.200', '::ffff:c000:2c8']) {
      const b = new Browser(t.app, a);
      mapped.push(
        (await b.submit('/account/register', '/account/register', { email: uniqueEmail('v4reg'), display_name: 'R', password: PASSWORD })).statusCode,
      );
    }
    assert.deepEqual(mapped, [303, 303, 429]);
  });
});

describe('accounts: mails, revocation, equal work for unknown addresses', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: { ASLO_RATE_LIMITS_REGISTER_PER_ADDRESS: '100', ASLO_RATE_LIMITS_RESET_PER_ACCOUNT: '100' } });
  });
  after(async () => t?.cleanup());

  it(`mails the owner of a taken address at most ${REGISTER_EXISTING_MAILS_PER_DAY} times a day, answering every attempt the same`, async () => {
    const email = uniqueEmail('bombed');
    const user = await t.app.accounts.createUser({ email, displayName: 'Owner', password: PASSWORD });
    for (let i = 0; i < 6; i++) {
      const b = new Browser(t.app, `10.5.${i}.1`);
      const res = await b.submit('/account/register', '/account/register', { email, display_name: 'Spam', password: PASSWORD });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/account/login?done=registered');
    }
    assert.equal(mailsTo(t.ctx, email).length, 3);
    const rows = await t.ctx.db
      .selectFrom('audit_log')
      .select(['details'])
      .where('action', '=', 'user.register_existing')
      .where('target_id', '=', String(user.id))
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).mailed),
      [true, true, true, false, false, false],
    );
    // Another account's owner is mailed as usual.
    const other = uniqueEmail('calm');
    await t.app.accounts.createUser({ email: other, displayName: 'Calm', password: PASSWORD });
    await new Browser(t.app).submit('/account/register', '/account/register', { email: other, display_name: 'X', password: PASSWORD });
    assert.equal(mailsTo(t.ctx, other).length, 1);
  });

  it(`mails password-reset links to one account at most ${RESET_MAILS_PER_DAY} times a day, answering every request the same`, async () => {
    const email = uniqueEmail('resetbomb');
    await t.app.accounts.createUser({ email, displayName: 'Owner', password: PASSWORD });
    for (let i = 0; i < RESET_MAILS_PER_DAY + 3; i++) {
      const res = await new Browser(t.app, `10.6.${i}.1`).submit('/account/forgot', '/account/forgot', { email });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/account/forgot?done=forgot-sent');
    }
    assert.equal(mailsTo(t.ctx, email).length, RESET_MAILS_PER_DAY);
  });

  it(`lets an account ask for at most ${EMAIL_CHANGE_MAILS_PER_DAY} address changes a day (each mails an address of its choice)`, async () => {
    const email = uniqueEmail('changer');
    await t.app.accounts.createUser({ email, displayName: 'Changer', password: PASSWORD });
    const b = new Browser(t.app);
    await b.login(email, PASSWORD);
    const victim = uniqueEmail('victim');
    const codes: number[] = [];
    for (let i = 0; i < EMAIL_CHANGE_MAILS_PER_DAY + 2; i++)
      codes.push((await b.submit('/account', '/account/email', { email: victim, current_password: PASSWORD })).statusCode);
    assert.deepEqual(codes, [...Array<number>(EMAIL_CHANGE_MAILS_PER_DAY).fill(303), 429, 429]);
    assert.equal(mailsTo(t.ctx, victim).length, EMAIL_CHANGE_MAILS_PER_DAY);
    const refused = await b.submit('/account', '/account/email', { email: victim, current_password: PASSWORD });
    assert.match(refused.body, /EMAIL_CHANGE_LIMIT/);
  });

  const tokensOf = (userId: number) =>
    t.ctx.db.selectFrom('api_tokens').select(['name', 'revoked_at', 'revoked_reason']).where('user_id', '=', userId).orderBy('id').execute();

  it('a password reset revokes every API token and ends every session; the mail names the tokens', async () => {
    const email = uniqueEmail('reset');
    const user = await t.app.accounts.createUser({ email, displayName: 'R', password: PASSWORD });
    const b = new Browser(t.app);
    await b.login(email, PASSWORD);
    for (const name of ['laptop CLI', 'CI <release>']) {
      const res = await b.submit('/account', '/account/tokens', { name, scopes: ['publish'], expires_in_days: '30' });
      assert.equal(res.statusCode, 201);
    }

    await new Browser(t.app).submit('/account/forgot', '/account/forgot', { email });
    const link = linkInMail(t.ctx, email, '/account/reset');
    const r = new Browser(t.app);
    await r.get(link);
    const done = await r.post('/account/reset', { token: new URL(link, 'http://x').searchParams.get('token')!, password: 'a brand new password' });
    assert.equal(done.statusCode, 303);

    const tokens = await tokensOf(user.id);
    assert.equal(tokens.length, 2);
    for (const tok of tokens) {
      assert.ok(tok.revoked_at, `${tok.name} revoked`);
      assert.equal(tok.revoked_reason, 'password reset');
    }
    assert.equal((await b.get('/account')).statusCode, 303, 'the session is ended');
    const mail = mailsTo(t.ctx, email).at(-1)!;
    assert.equal(mail.subject, 'Your password was reset');
    assert.match(mail.text, /"laptop CLI" \(aslo_/);
    assert.match(mail.text, /"CI <release>" \(aslo_/);
    assert.match(mail.text, /logged out/);
  });

  it('a password change revokes tokens and other sessions by default, and keeps them when the box is unchecked', async () => {
    const email = uniqueEmail('change');
    const user = await t.app.accounts.createUser({ email, displayName: 'C', password: PASSWORD });
    const a = new Browser(t.app);
    const other = new Browser(t.app);
    await a.login(email, PASSWORD);
    await other.login(email, PASSWORD);
    await a.submit('/account', '/account/tokens', { name: 'first token', scopes: ['read'], expires_in_days: '30' });

    // The form offers the choice, checked by default.
    const form = await a.get('/account');
    assert.match(form.body, /<input type="checkbox" name="sign_out_everywhere" value="1" checked>/);

    // Unchecked: only the password changes.
    const kept = await a.post('/account/password', { current_password: PASSWORD, password: 'second password 22', sign_out_choice: '1' });
    assert.equal(kept.statusCode, 303);
    assert.equal(kept.headers.location, '/account?done=password-changed-kept');
    assert.equal((await tokensOf(user.id))[0]!.revoked_at, null);
    assert.equal((await other.get('/account')).statusCode, 200, 'the other session stays');
    assert.match(mailsTo(t.ctx, email).at(-1)!.text, /API tokens were kept/);

    // Checked (as the form is sent by default): tokens revoked, other sessions ended, this one kept.
    await a.get('/account');
    const all = await a.post('/account/password', {
      current_password: 'second password 22',
      password: 'third password 333',
      sign_out_choice: '1',
      sign_out_everywhere: '1',
    });
    assert.equal(all.statusCode, 303);
    const [tok] = await tokensOf(user.id);
    assert.ok(tok!.revoked_at);
    assert.equal(tok!.revoked_reason, 'password change');
    assert.equal((await other.get('/account')).statusCode, 303, 'the other session is ended');
    assert.equal((await a.get('/account')).statusCode, 200, 'this session stays');
    const mail = mailsTo(t.ctx, email).at(-1)!;
    assert.equal(mail.subject, 'Your password was changed');
    assert.match(mail.text, /"first token" \(aslo_/);
  });

  it('runs exactly one password verification per login attempt, whether or not the account exists', async () => {
    const email = uniqueEmail('known');
    await t.app.accounts.createUser({ email, displayName: 'K', password: PASSWORD });
    const legacyEmail = uniqueEmail('legacy');
    const noHashEmail = uniqueEmail('nohash');
    const now = new Date();
    await t.ctx.db
      .insertInto('users')
      .values([
        {
          email: legacyEmail,
          display_name: 'L',
          password_hash: null,
          legacy_hash: createHash('md5').update('old password 1').digest('hex'),
          email_verified_at: now,
          locale: null,
          homepage: null,
          bio: null,
          legacy_id: 99001,
          created_at: now,
          updated_at: now,
        },
        {
          email: noHashEmail,
          display_name: 'N',
          password_hash: null,
          legacy_hash: null,
          email_verified_at: now,
          locale: null,
          homepage: null,
          bio: null,
          legacy_id: 99002,
          created_at: now,
          updated_at: now,
        },
      ])
      .execute();
    const verifications = async (emailAddr: string, password: string) => {
      const before = verificationCounter.count;
      const res = await new Browser(t.app).submit('/account/login', '/account/login', { email: emailAddr, password });
      return { n: verificationCounter.count - before, status: res.statusCode, code: /<code>([A-Z_]+)<\/code>/.exec(res.body)?.[1] ?? null };
    };
    const cases = {
      unknown: await verifications(uniqueEmail('nobody'), WRONG),
      unknownOddSpelling: await verifications(`  ${uniqueEmail('Nobody').toUpperCase()} `, WRONG),
      knownWrong: await verifications(email, WRONG),
      knownRight: await verifications(email, PASSWORD),
      legacyWrong: await verifications(legacyEmail, WRONG),
      noHash: await verifications(noHashEmail, WRONG),
    };
    for (const [name, c] of Object.entries(cases)) assert.equal(c.n, 1, `${name}: one verification`);
    assert.equal(cases.unknown.code, cases.knownWrong.code);
    assert.equal(cases.unknown.status, cases.knownWrong.status);
    // Both failures leave the same trace (an audit row), so neither does more work than the other.
    const unknownRows = await t.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'user.login_failed').where('target_id', 'is', null).execute();
    assert.ok(unknownRows.length >= 2);
    // The dummy hash costs what a real one does: same algorithm and parameters.
    const params = (h: string) => h.split('$').slice(1, 4).join('$');
    assert.equal(params(await prepareDummyHash()), params(await hashPassword('any password 123')));
    // Registering a taken address verifies once too (a new address hashes instead).
    const before = verificationCounter.count;
    await new Browser(t.app).submit('/account/register', '/account/register', { email, display_name: 'X', password: PASSWORD });
    assert.equal(verificationCounter.count - before, 1);
  });
});

const REDIS = process.env.ASLO_TEST_REDIS_URL;

describe('login limits shared through Redis by every process', { skip: REDIS ? false : 'ASLO_TEST_REDIS_URL is not set' }, () => {
  let t: TestApp;
  let second: Awaited<ReturnType<typeof build>>;
  before(async () => {
    t = await createTestApp({
      env: {
        ASLO_CACHE_REDIS_URL: REDIS!,
        ASLO_CACHE_PREFIX: `aslo-test-${Date.now()}-${Math.random().toString(36).slice(2)}:`,
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT_ADDRESS: '2',
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT: '3',
      },
    });
    second = await build(t.config, { context: t.ctx });
    await second.ready();
  });
  after(async () => {
    await second?.close();
    await t?.cleanup();
  });

  it('counts failures made on one process in the other, and lets the device cookie in on both', async () => {
    const email = uniqueEmail('redis-lock');
    await t.app.accounts.createUser({ email, displayName: 'RL', password: PASSWORD });
    const laptop = new Browser(t.app, '203.0.113.70');
    await laptop.login(email, PASSWORD);
    const codes: number[] = [];
    for (const [i, app] of [t.app, second, t.app].entries())
      codes.push((await new Browser(app, '198.51.100.70').submit('/account/login', '/account/login', { email, password: WRONG + i })).statusCode);
    assert.deepEqual(codes, [401, 401, 429], 'per (account, address), across processes');
    await new Browser(second, '198.51.100.71').submit('/account/login', '/account/login', { email, password: WRONG });
    assert.equal(
      (await new Browser(t.app, '198.51.100.72').submit('/account/login', '/account/login', { email, password: PASSWORD })).statusCode,
      429,
      'the account is locked for unknown browsers',
    );
    const onSecond = new Browser(second, '203.0.113.70');
    for (const [k, v] of laptop.cookies) if (k !== 'aslo_session') onSecond.cookies.set(k, v);
    assert.equal((await onSecond.submit('/account/login', '/account/login', { email, password: PASSWORD })).statusCode, 303);
  });
});

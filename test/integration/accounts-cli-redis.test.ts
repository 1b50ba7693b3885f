// The accounts command line (`aslo user`, `aslo dev outbox`), and sessions and rate limits
// shared through Redis when it is configured (ASLO_TEST_REDIS_URL, set by .ci/run).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCliEnv, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { build } from '../../src/app.js';
import { Browser, PASSWORD, uniqueEmail } from '../helpers/browser.js';

describe('aslo user and aslo dev outbox', () => {
  let dir: string;
  let env: Record<string, string>;
  let cleanup = async () => {};
  before(async () => {
    ({ dir, env, cleanup } = await createCliEnv('aslo-user-cli-', { ASLO_SAMPLE_LOAD_ON_START: 'false' }));
  });
  after(() => cleanup());

  it('creates the first administrator, changes roles, lists accounts', async () => {
    const created = await runCli(['user', 'create', '--admin', '--email', 'root@example.org', '--name', 'Root'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created admin #\d+ root@example.org/);
    assert.match(created.stdout, /Password: \S{12,}/);
    const dup = await runCli(['user', 'create', '--email', 'ROOT@example.org'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /EMAIL_TAKEN/);
    assert.equal((await runCli(['user', 'create', '--email', 'ed@example.org'], env)).code, 0);
    const role = await runCli(['user', 'role', 'ed@example.org', 'editor', '--reason', 'new editor'], env);
    assert.equal(role.code, 0, role.stderr);
    assert.match(role.stdout, /ed@example.org is now editor/);
    assert.equal((await runCli(['user', 'role', 'ed@example.org', 'king'], env)).code, 2);
    const missing = await runCli(['user', 'role', 'nobody@example.org', 'editor'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /USER_NOT_FOUND/);
    const list = await runCli(['user', 'list'], env);
    assert.match(list.stdout, /admin\s+verified\s+root@example.org/);
    assert.match(list.stdout, /editor\s+verified\s+ed@example.org/);
  });

  it('shows an empty outbox', async () => {
    const r = await runCli(['dev', 'outbox'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No mail in/);
  });
});

describe('aslo dev outbox with mail in it', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t.cleanup();
  });

  it('prints the mails the app wrote', async () => {
    const email = uniqueEmail('outbox');
    await new Browser(t.app).submit('/account/register', '/account/register', { email, display_name: 'Out', password: PASSWORD });
    const r = await runCli(['dev', 'outbox', '--data', t.dataDir, '--instance', 'test'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`to ${email}`));
    assert.match(r.stdout, /Confirm your e-mail address/);
    assert.match(r.stdout, /http:\/\/store\.test\/account\/verify\?token=/);
  });
});

const REDIS = process.env.ASLO_TEST_REDIS_URL;

describe('sessions and rate limits in Redis', { skip: REDIS ? false : 'ASLO_TEST_REDIS_URL is not set' }, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({
      env: {
        ASLO_CACHE_REDIS_URL: REDIS!,
        ASLO_CACHE_PREFIX: `aslo-test-${Date.now()}-${Math.random().toString(36).slice(2)}:`,
        ASLO_RATE_LIMITS_LOGIN_PER_ACCOUNT: '2',
      },
    });
  });
  after(async () => {
    await t.cleanup();
  });

  it('stores sessions in Redis, readable by every process, and shares rate limits', async () => {
    const email = uniqueEmail('redis');
    await t.app.accounts.createUser({ email, displayName: 'Redis', password: PASSWORD });
    const b = new Browser(t.app);
    await b.login(email, PASSWORD);
    assert.equal((await t.ctx.db.selectFrom('sessions').select('id').execute()).length, 0, 'no session row in the database');
    const second = await build(t.config, { context: t.ctx });
    await second.ready();
    try {
      const other = new Browser(second);
      for (const [k, v] of b.cookies) other.cookies.set(k, v);
      assert.equal((await other.get('/account')).statusCode, 200);
      // One failed login through each process: the shared limit (2) is reached on the third.
      const target = uniqueEmail('rl');
      await t.app.accounts.createUser({ email: target, displayName: 'RL', password: PASSWORD });
      assert.equal((await new Browser(t.app).submit('/account/login', '/account/login', { email: target, password: 'bad password' })).statusCode, 401);
      assert.equal((await new Browser(second).submit('/account/login', '/account/login', { email: target, password: 'bad password' })).statusCode, 401);
      assert.equal((await new Browser(t.app).submit('/account/login', '/account/login', { email: target, password: PASSWORD })).statusCode, 429);
      await b.post('/account/logout', {});
      assert.equal((await other.get('/account')).statusCode, 303, 'logged out in every process');
    } finally {
      await second.close();
    }
  });
});

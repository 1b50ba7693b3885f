// The embedded database has exactly one writer. A real store (`aslo serve`, a
// child process) on an embedded data folder; the operator's commands run beside it in other
// processes, as in the README. Each change must be seen by the running store at once (log in,
// fetch the page) and still be there after a restart; commands that cannot run beside a store
// refuse; a second store refuses; a store killed with -9 leaves no lock behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCliEnv, runCli, startCliServer } from '../helpers/cli.js';
import { EMBEDDED_ONLY, TEST_DATABASE } from '../helpers/env.js';
import { buildActivity } from '../helpers/activities.js';

/** A browser on real HTTP: cookies, the CSRF token of the last page, no redirects followed. */
class HttpBrowser {
  cookies = new Map<string, string>();
  csrf: string | null = null;
  constructor(readonly base: string) {}
  private header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(res: Response, body: string) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /max-age=0|expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(body);
    if (m) this.csrf = m[1]!.replace(/&amp;/g, '&');
  }
  async get(path: string) {
    const res = await fetch(this.base + path, { redirect: 'manual', headers: { cookie: this.header() } });
    const body = await res.text();
    this.keep(res, body);
    return { status: res.status, body, location: res.headers.get('location') };
  }
  async post(path: string, form: Record<string, string>) {
    const res = await fetch(this.base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...(this.csrf ? { _csrf: this.csrf } : {}), ...form }).toString(),
    });
    const body = await res.text();
    this.keep(res, body);
    return { status: res.status, body, location: res.headers.get('location') };
  }
  async login(email: string, password: string) {
    await this.get('/account/login');
    return this.post('/account/login', { email, password });
  }
}

describe('one writer per embedded database', EMBEDDED_ONLY, () => {
  let dir: string;
  let env: Record<string, string>;
  let dbDir: string;
  let bundle: string;
  let store: Awaited<ReturnType<typeof startCliServer>> | null = null;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aslo-sw-'));
    // Always the embedded database, whatever database the run tests otherwise.
    env = {
      ASLO_DATA_DIR: join(dir, 'data'),
      ASLO_DATABASE_URL: '',
      ASLO_DATABASE_EMBEDDED_DIR: '',
      ASLO_PORT: '0',
      ASLO_SERVER_HOST: '127.0.0.1',
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_JOBS_ENABLED: 'false',
      ASLO_SERVER_LOG_LEVEL: 'warn',
    };
    dbDir = join(dir, 'data', 'instances', 'default', 'db');
    bundle = await buildActivity(join(dir, 'bundles'), { bundleId: 'org.test.OneWriter', name: 'One Writer', version: '1' });
  });
  after(async () => {
    if (store) store.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const pidOf = (s: { child: { pid?: number } }) => s.child.pid!;

  it('runs the day-to-day commands through the running store, which sees each change at once', async () => {
    store = await startCliServer([], env);
    const url = store.url.replace('localhost', '127.0.0.1');
    // The control socket: inside the data folder, owner only.
    const sock = await stat(join(dbDir, 'aslo.sock'));
    assert.ok(sock.isSocket());
    assert.equal(sock.mode & 0o777, 0o600);
    assert.equal((await stat(dbDir)).mode & 0o777, 0o700);

    const created = await runCli(['user', 'create', '--admin', '--email', 'admin@example.org'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created admin #\d+ admin@example\.org/);
    const password = /Password: (\S+)/.exec(created.stdout)![1]!;
    // The link names the store's real address (a free port here), not the config's default.
    assert.ok(created.stdout.includes(`${store.url}/account/login`), created.stdout);

    const admin = new HttpBrowser(url);
    const login = await admin.login('admin@example.org', password);
    assert.equal(login.status, 303, login.body.slice(0, 300));
    assert.equal((await admin.get('/admin/users')).status, 200);

    const listed = await runCli(['user', 'list'], env);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, /admin\s+verified\s+admin@example\.org/);

    // A demoted admin is demoted in the running store at once.
    const demoted = await runCli(['user', 'role', 'admin@example.org', 'editor', '--reason', 'test'], env);
    assert.equal(demoted.code, 0, demoted.stderr);
    assert.equal(demoted.stdout.trim(), 'admin@example.org is now editor.');
    assert.equal((await admin.get('/admin/users')).status, 403);

    const imported = await runCli(['import', '--status', 'public', bundle], env);
    assert.equal(imported.code, 0, imported.stdout + imported.stderr);
    assert.match(imported.stdout, /imported\s+org\.test\.OneWriter 1 \(public\)/);
    const page = await fetch(`${url}/api/v1/activities/org.test.OneWriter`);
    assert.equal(page.status, 200);

    const token = await runCli(['token', 'create', '--email', 'admin@example.org', '--scopes', 'publish,read,review', '--days', '7', '--name', 'ci'], env);
    assert.equal(token.code, 0, token.stderr);
    const lines = token.stdout.trim().split('\n');
    const secret = lines[lines.length - 1]!;
    assert.match(secret, /^aslo_[A-Za-z0-9_-]{43}$/);
    const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
    assert.equal(me.status, 200);
    assert.deepEqual(((await me.json()) as { scopes: string[] }).scopes.sort(), ['publish', 'read', 'review']);

    // The same exit codes as when run directly: a failure is 1 with its code, a usage error 2.
    const again = await runCli(['user', 'create', '--email', 'admin@example.org'], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /\[EMAIL_TAKEN\]/);
    const bad = await runCli(['token', 'create', '--email', 'admin@example.org', '--scopes', 'everything'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\[TOKEN_SCOPE_INVALID\]/);
    assert.equal((await runCli(['import', '--status', 'weird', bundle], env)).code, 2);
    // Standard input reaches a command that runs in the store.
    const withStdin = await runCli(['user', 'create', '--email', 'stdin@example.org', '--password-stdin'], env, 120_000, 'a long enough password 123\n');
    assert.equal(withStdin.code, 0, withStdin.stderr);
    assert.equal((await new HttpBrowser(url).login('stdin@example.org', 'a long enough password 123')).status, 303);
  });

  it('runs every other day-to-day command through the store too', async () => {
    const socketOwnerPid = pidOf(store!);
    const ok = async (args: string[], expect: RegExp) => {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, expect, args.join(' '));
      return r;
    };
    await ok(['collection', 'create', 'school', '--name', 'School'], /Created collection "school"/);
    await ok(['collection', 'add', 'school', 'org.test.OneWriter'], /org\.test\.OneWriter/);
    await ok(['collection', 'list'], /school\s+1 activities/);
    await ok(['mirror', 'add', 'mirror.example.org', '--http', 'http://mirror.example.org/aslo'], /added mirror mirror\.example\.org/);
    await ok(['mirror', 'list'], /mirror\.example\.org/);
    // The tree is not published yet (no job worker in this test): repaired through the store.
    assert.equal((await runCli(['repo', 'verify'], env)).code, 1);
    await ok(['repo', 'verify', '--fix'], /repaired 1 difference/);
    await ok(['repo', 'verify'], /no difference/);
    await ok(['keys', 'show'], /BEGIN PUBLIC KEY/);
    await ok(['dev', 'outbox'], /mail|No mail/);
    await ok(['migrate', '--status'], /applied\s+0001_initial/);
    const out = join(dir, 'backup-1');
    await ok(['backup', '--out', out], /Done in/);
    assert.ok(existsSync(join(out, 'manifest.json')));
    // It all happened inside the store: still the one holder of the folder.
    const again = await runCli(['serve'], env);
    assert.ok(again.stderr.includes(`process ${socketOwnerPid} (aslo serve)`), again.stderr);
  });

  it('refuses what cannot run beside a live store, before touching anything', async () => {
    const pid = pidOf(store!);
    const second = await runCli(['serve'], env);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /\[DATA_DIR_IN_USE\]/);
    assert.ok(second.stderr.includes(`process ${pid} (aslo serve)`), second.stderr);
    for (const args of [['migrate'], ['restore', join(dir, 'no-backup')], ['dev', 'generate', '--activities', '1', '--versions', '1']]) {
      const r = await runCli(args, env);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /\[DATA_DIR_IN_USE\]/, args.join(' '));
      assert.ok(r.stderr.includes(`process ${pid}`), r.stderr);
    }
    // Cloning into the folder the store holds.
    const clone = await runCli(['instance', 'clone', 'other', 'default'], { ...env });
    assert.equal(clone.code, 1);
    // "other" does not exist, so this one is refused for that; create it and try again.
    assert.equal((await runCli(['instance', 'create', 'other'], env)).code, 0);
    const clone2 = await runCli(['instance', 'clone', 'other', 'default', '--force'], env);
    assert.equal(clone2.code, 1);
    assert.match(clone2.stderr, /\[DATA_DIR_IN_USE\]/);
    // The store is untouched and still serves.
    assert.equal((await fetch(`${store!.url.replace('localhost', '127.0.0.1')}/api/v1/activities/org.test.OneWriter`)).status, 200);
  });

  it('leaves no lock behind when killed with -9, and keeps every change across a restart', async () => {
    store!.child.kill('SIGKILL');
    await new Promise((r) => store!.child.once('exit', r));
    // The socket file is still there, but nobody listens on it: a new start takes the folder.
    assert.ok(existsSync(join(dbDir, 'aslo.sock')));
    store = await startCliServer([], env);
    const url = store.url.replace('localhost', '127.0.0.1');
    const editor = new HttpBrowser(url);
    assert.equal((await runCli(['user', 'list', '--role', 'editor'], env)).stdout.includes('admin@example.org'), true);
    assert.equal((await fetch(`${url}/api/v1/activities/org.test.OneWriter`)).status, 200);
    const listed = await runCli(['user', 'list'], env);
    assert.match(listed.stdout, /editor\s+verified\s+admin@example\.org/);
    const stdinLogin = await editor.login('stdin@example.org', 'a long enough password 123');
    assert.equal(stdinLogin.status, 303);
    const code = await store.stop();
    assert.equal(code, 0);
    store = null;
    // A clean stop removes the socket; the commands then open the database themselves.
    assert.equal(existsSync(join(dbDir, 'aslo.sock')), false);
    const direct = await runCli(['user', 'list'], env);
    assert.equal(direct.code, 0);
    assert.match(direct.stdout, /editor\s+verified\s+admin@example\.org/);
    assert.equal(existsSync(join(dbDir, 'aslo.sock')), false);
  });
});

describe('on PostgreSQL nothing of this applies', { skip: TEST_DATABASE === 'postgres' ? false : 'runs with ASLO_TEST_DATABASE=postgres' }, () => {
  it('runs commands beside a store directly, and a second store beside the first', async () => {
    const cli = await createCliEnv('aslo-sw-pg-', {
      ASLO_PORT: '0',
      ASLO_SERVER_HOST: '127.0.0.1',
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_JOBS_ENABLED: 'false',
    });
    const first = await startCliServer([], cli.env);
    let second: Awaited<ReturnType<typeof startCliServer>> | null = null;
    try {
      second = await startCliServer([], cli.env);
      const created = await runCli(['user', 'create', '--admin', '--email', 'pg-admin@example.org'], cli.env);
      assert.equal(created.code, 0, created.stderr);
      const password = /Password: (\S+)/.exec(created.stdout)![1]!;
      for (const s of [first, second]) {
        assert.equal((await new HttpBrowser(s.url.replace('localhost', '127.0.0.1')).login('pg-admin@example.org', password)).status, 303);
      }
      assert.equal((await runCli(['migrate'], cli.env)).code, 0);
    } finally {
      await second?.stop();
      await first.stop();
      await cli.cleanup();
    }
  });
});

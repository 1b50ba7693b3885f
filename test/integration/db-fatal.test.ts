// A fatal database error ends the process instead of leaving it up answering 500 to everything.
// A real PANIC of the embedded database: its WAL folder replaced by a file, so
// the next WAL segment cannot be opened. The store must report it on /healthz and /readyz, answer
// DB_FATAL instead of hanging, and exit non-zero after draining. A PANIC inside a commit leaves
// PGlite spinning on the main thread: the watchdog must end that process.
// test-pass: pglite
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helperScript, REPO_ROOT, runCli } from '../helpers/cli.js';
import { EMBEDDED_ONLY } from '../helpers/env.js';

function startFatalStore(dir: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [...helperScript('fatal-store'), dir], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const messages: unknown[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const w of waiters.splice(0)) w();
  });
  const nextMessage = async (): Promise<unknown> => {
    while (messages.length === 0) {
      if (gone) throw new Error(`the store exited: ${output}`);
      await new Promise<void>((r) => waiters.push(r));
    }
    return messages.shift();
  };
  return { child, exited, nextMessage, output: () => output, gone: () => gone };
}

/** Replace the WAL folder by a file, and make the store leave its current WAL segment. */
async function breakWal(dbDir: string, store: ReturnType<typeof startFatalStore>): Promise<void> {
  await rename(join(dbDir, 'pg_wal'), join(dbDir, 'pg_wal.gone'));
  await writeFile(join(dbDir, 'pg_wal'), 'not a folder');
  store.child.send('switch-wal');
  assert.equal(await store.nextMessage(), 'switched');
}

describe('a fatal database error', EMBEDDED_ONLY, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aslo-fatal-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  const envOf = (data: string) => ({ ASLO_DATA_DIR: data, ASLO_DATABASE_URL: '', ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_JOBS_ENABLED: 'false' });

  it('fails /healthz and /readyz, answers DB_FATAL, and ends the process non-zero', async () => {
    const data = join(dir, 'a');
    const env = envOf(data);
    const store = startFatalStore(data, env);
    const { url } = (await store.nextMessage()) as { url: string };
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    // An account and an API token, made through the running store.
    assert.equal((await runCli(['user', 'create', '--email', 'dev@example.org'], env)).code, 0);
    const made = await runCli(['token', 'create', '--email', 'dev@example.org', '--scopes', 'read'], env);
    assert.equal(made.code, 0, made.stderr);
    const token = made.stdout.trim().split('\n').pop()!;

    await breakWal(join(data, 'instances', 'default', 'db'), store);

    // Watch the health endpoints until the process is gone.
    const seen: { path: string; status: number | 'refused'; body: string }[] = [];
    const watching = (async () => {
      while (!store.gone()) {
        for (const path of ['/healthz', '/readyz']) {
          try {
            const res = await fetch(url + path);
            seen.push({ path, status: res.status, body: await res.text() });
          } catch {
            seen.push({ path, status: 'refused', body: '' });
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // The next write (the token's first use is recorded) meets the PANIC: 503 DB_FATAL, not 500.
    const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.status, 503);
    assert.equal(((await me.json()) as { error: { code: string } }).error.code, 'DB_FATAL');
    // Every later request that needs the database fails at once the same way, never hangs.
    const later = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
    if (later) assert.equal(later.status, 503);

    const { code } = await store.exited;
    await watching;
    assert.equal(code, 1, store.output());
    assert.match(store.output(), /fatal database error/);
    const failed = seen.filter((s) => s.status === 503);
    assert.ok(
      failed.some((s) => s.path === '/healthz' && /DB_FATAL/.test(s.body)),
      JSON.stringify(seen.slice(-6)),
    );
    assert.ok(
      failed.some((s) => s.path === '/readyz'),
      JSON.stringify(seen.slice(-6)),
    );
    // Never a 200 from /healthz once the database had failed.
    const firstFail = seen.findIndex((s) => s.status !== 200);
    assert.ok(
      seen.slice(firstFail).every((s) => s.status !== 200),
      JSON.stringify(seen),
    );
  });

  it('ends a store whose embedded database never returns from a PANIC inside a commit', async () => {
    const data = join(dir, 'b');
    const env = envOf(data);
    const store = startFatalStore(data, { ...env, FATAL_STORE_STALL_MS: '3000' });
    await store.nextMessage();
    const dbDir = join(data, 'instances', 'default', 'db');
    await breakWal(dbDir, store);
    // A write in a transaction, through the store: its commit PANICs and PGlite spins.
    const cli = runCli(['user', 'create', '--email', 'spin@example.org'], env);
    const { signal } = await store.exited;
    assert.equal(signal, 'SIGKILL', store.output());
    assert.match(store.output(), /the main thread has not run for \d+ s/);
    const r = await cli;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[CONTROL_LOST\]/);
    // The lock went with the process: with its WAL folder back, the database opens again.
    await rm(join(dbDir, 'pg_wal'));
    await rename(join(dbDir, 'pg_wal.gone'), join(dbDir, 'pg_wal'));
    const listed = await runCli(['user', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
  });
});

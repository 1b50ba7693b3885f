// Crash recovery with real processes, on the database of the run (embedded PGlite, or PostgreSQL):
// `aslo serve` killed with SIGKILL while an upload is half received, and `aslo import` killed with
// SIGKILL in the middle of a bundle; then the store starts again and we check what an operator
// relies on: the database and the file store agree (every file row has its content-addressed file,
// with the right sha256), no temporary file is left (the start removes those of dead processes),
// every upload that was acknowledged is served, and the import can simply be run again.
//
// The embedded database has one writer: nothing here opens it while a store or an import holds it
// (the test's own look at the database happens while no aslo process runs).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { createCliEnv, runCli, startCliServer, ASLO_BIN, REPO_ROOT, type CliEnv } from '../helpers/cli.js';
import { TEST_DATABASE } from '../helpers/env.js';
import { buildBundle } from '../helpers/bundle-builder.js';
import { activityFiles, type TestActivity } from '../helpers/activities.js';
import { loadConfig } from '../../src/platform/config.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { newApiToken, sha256Hex } from '../../src/accounts/secrets.js';
import { DbSessionStore } from '../../src/accounts/sessions.js';
import { SESSION_COOKIE } from '../../src/accounts/plugin.js';
import { JobRunner } from '../../src/platform/jobs/index.js';
import { scheduleTemporarySweep, TEMP_SWEEP_QUEUE } from '../../src/platform/storage/sweep.js';
import { createTestApp } from '../helpers/env.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function sha256Of(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A bundle with `extraBytes` of incompressible data, so that writing it takes a while. */
async function bigBundle(dir: string, a: TestActivity, extraBytes: number): Promise<{ path: string; data: Buffer }> {
  const files: Record<string, string | Buffer> = activityFiles(a);
  files[`${a.name.replace(/\s+/g, '')}.activity/data.bin`] = randomBytes(extraBytes);
  const path = join(dir, `${a.bundleId}-${a.version}.xo`);
  await buildBundle(files, path, { compress: false });
  return { path, data: await readFile(path) };
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGKILL');
  });
}

describe(`crash recovery (kill -9) on ${TEST_DATABASE === 'postgres' ? 'PostgreSQL' : 'the embedded database'}`, () => {
  let cli: CliEnv;
  let env: Record<string, string>;
  let filesDir = '';
  let bundles = '';
  let token = '';
  let session = '';
  const running: ChildProcess[] = [];

  const tmpNames = async () => (await readdir(join(filesDir, 'tmp')).catch(() => [] as string[])).sort();

  /** A look at the database while no aslo process runs (the embedded database has one writer). */
  const withDatabase = async <T>(fn: (ctx: AppContext) => Promise<T>): Promise<T> => {
    const config = loadConfig({ env: { ...process.env, ...env } });
    const ctx = await createContext(config, { migrate: true });
    try {
      return await fn(ctx);
    } finally {
      await ctx.close();
    }
  };

  /** Every file row has its content-addressed file, with the bytes the row names. Returns the rows. */
  const assertStoreAgrees = async () =>
    withDatabase(async (ctx) => {
      const rows = await ctx.db.selectFrom('files').select(['id', 'sha256', 'storage_key', 'size']).orderBy('id').execute();
      for (const r of rows) {
        const p = ctx.files.pathOf(r.storage_key);
        const st = await stat(p).catch(() => null);
        assert.ok(st?.isFile(), `file ${r.id}: ${p} is missing`);
        assert.equal(st!.size, Number(r.size), `file ${r.id}: size`);
        assert.equal(await sha256OfFile(p), r.sha256, `file ${r.id}: the stored bytes have the sha256 of the row`);
      }
      const shots = await ctx.db.selectFrom('screenshots').select(['id', 'storage_key']).execute();
      for (const s of shots) assert.ok(await ctx.files.has(s.storage_key), `screenshot ${s.id}: its file is missing`);
      return rows;
    });

  const serve = async () => {
    const s = await startCliServer(['--port', '0', '--host', '127.0.0.1'], env);
    running.push(s.child);
    return { ...s, url: s.url.replace('localhost', '127.0.0.1') };
  };

  const upload = async (url: string, data: Buffer, name: string) => {
    const r = await fetch(`${url}/api/v1/uploads`, {
      method: 'POST',
      body: new Uint8Array(data),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'x-file-name': name },
    });
    return { status: r.status, body: (await r.json()) as { file_id: number | null; sha256: string | null; outcome: string } };
  };

  /** The bytes a logged-in author downloads for a file id. */
  const download = async (url: string, fileId: number) => {
    const r = await fetch(`${url}/downloads/file/${fileId}/f.xo`, { headers: { cookie: `${SESSION_COOKIE}=${session}` } });
    return { status: r.status, data: Buffer.from(await r.arrayBuffer()) };
  };

  before(async () => {
    cli = await createCliEnv('aslo-crash-', { ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_SERVER_LOG_LEVEL: 'warn' });
    env = cli.env;
    filesDir = join(cli.dir, 'data', 'instances', 'default', 'files');
    bundles = join(cli.dir, 'bundles');
    await mkdir(bundles, { recursive: true });
    // An uploader with a token and a browser session, made while no aslo process runs.
    const made = await runCli(['user', 'create', '--email', 'crash@example.org', '--name', 'Crash'], env);
    assert.equal(made.code, 0, made.stderr);
    token = newApiToken();
    session = await withDatabase(async (ctx) => {
      const user = await ctx.db.selectFrom('users').select('id').where('email', '=', 'crash@example.org').executeTakeFirstOrThrow();
      await ctx.db
        .insertInto('api_tokens')
        .values({
          user_id: user.id,
          name: 'crash',
          token_hash: sha256Hex(token),
          token_prefix: token.slice(0, 9),
          scopes: ['publish', 'read'],
          created_at: new Date(),
          expires_at: new Date(Date.now() + 86400_000),
        })
        .execute();
      return (await new DbSessionStore(ctx.db, 86400_000).create(user.id, {})).token;
    });
  });

  after(async () => {
    for (const c of running) await killHard(c);
    await cli?.cleanup();
  });

  it('kill -9 in the middle of an upload: acknowledged uploads are served after the restart, the half-received one leaves nothing', async () => {
    const store = await serve();
    // Acknowledged uploads.
    const acknowledged: { fileId: number; sha256: string }[] = [];
    for (let v = 1; v <= 3; v++) {
      const b = await bigBundle(bundles, { bundleId: 'org.test.Crash', name: 'Crash', version: String(v) }, 64 * 1024);
      const r = await upload(store.url, b.data, `crash-${v}.xo`);
      assert.equal(r.status, 201, JSON.stringify(r.body));
      acknowledged.push({ fileId: r.body.file_id!, sha256: r.body.sha256! });
      assert.equal(r.body.sha256, sha256Of(b.data));
    }
    // An upload half sent: the store is writing its temporary file when it is killed.
    const big = await bigBundle(bundles, { bundleId: 'org.test.Crash', name: 'Crash', version: '4' }, 4 * 1024 * 1024);
    const half = Math.floor(big.data.length / 2);
    const req = http.request(`${store.url}/api/v1/uploads`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'content-length': String(big.data.length),
        'x-file-name': 'crash-4.xo',
      },
    });
    req.on('error', () => {});
    req.write(big.data.subarray(0, half));
    const partial = await until('the half-received upload in a temporary file', async () => {
      for (const n of await tmpNames()) {
        const st = await stat(join(filesDir, 'tmp', n)).catch(() => null);
        if (n.endsWith('.part') && st && st.size >= half) return n;
      }
      return null;
    });
    await killHard(store.child);
    req.destroy();
    assert.deepEqual(await tmpNames(), [partial], 'the kill left the temporary file behind');

    // The restart removes it (its owner is gone), and serves every acknowledged upload.
    const again = await serve();
    assert.deepEqual(await tmpNames(), [], 'no temporary file after the restart');
    for (const a of acknowledged) {
      const d = await download(again.url, a.fileId);
      assert.equal(d.status, 200, `file ${a.fileId} is served`);
      assert.equal(sha256Of(d.data), a.sha256, `file ${a.fileId}: the bytes that were uploaded`);
    }
    // The upload that was cut off can be sent again, whole.
    const retried = await upload(again.url, big.data, 'crash-4.xo');
    assert.equal(retried.status, 201, JSON.stringify(retried.body));
    assert.equal(await again.stop(), 0);
    running.splice(running.indexOf(again.child), 1);

    const rows = await assertStoreAgrees();
    assert.deepEqual(rows.map((r) => r.sha256).sort(), [...acknowledged.map((a) => a.sha256), sha256Of(big.data)].sort());
    assert.deepEqual(await tmpNames(), []);
    // The store's worker keeps sweeping: its recurring job is scheduled.
    const sweeps = await withDatabase((ctx) =>
      ctx.db.selectFrom('jobs').select('id').where('queue', '=', TEMP_SWEEP_QUEUE).where('done_at', 'is', null).execute(),
    );
    assert.equal(sweeps.length, 1);
  });

  it('kill -9 in the middle of an import: what it imported before is kept, nothing half-done is, and importing again completes it', async () => {
    const dir = join(cli.dir, 'import');
    await mkdir(dir, { recursive: true });
    const made: { path: string; data: Buffer; bundleId: string }[] = [];
    for (let i = 1; i <= 4; i++) {
      const bundleId = `org.test.Imported${i}`;
      made.push({ ...(await bigBundle(dir, { bundleId, name: `Imported ${i}`, version: '1' }, 64 * 1024)), bundleId });
    }
    // The last bundle (by name) is read through a pipe that the test fills half-way: the import
    // is inside that bundle, its temporary file half written, when it is killed.
    const last = await bigBundle(bundles, { bundleId: 'org.test.ImportedZ', name: 'Imported Z', version: '1' }, 2 * 1024 * 1024);
    const fifo = join(dir, 'zz-last.xo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    const importer = spawn(process.execPath, [ASLO_BIN, 'import', dir, '--status', 'public'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.push(importer);
    let output = '';
    importer.stdout!.on('data', (d) => (output += d));
    importer.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<void>((r) => importer.once('exit', () => r()));
    // Opening the pipe for writing waits until the importer opens it to read: it has finished
    // every bundle before it (it takes them one after the other, in name order).
    let writer: FileHandle | null = null;
    await Promise.race([
      open(fifo, 'w').then((fh) => (writer = fh)),
      exited.then(() => {
        throw new Error(`the import ended before it reached the last bundle: ${output}`);
      }),
    ]);
    const half = Math.floor(last.data.length / 2);
    await writer!.write(last.data.subarray(0, half));
    const partial = await until('the import writing the half-read bundle', async () => {
      for (const n of await tmpNames()) {
        const st = await stat(join(filesDir, 'tmp', n)).catch(() => null);
        if (n.endsWith('.part') && st && st.size >= half) return n;
      }
      return null;
    });
    await killHard(importer);
    await writer!.close().catch(() => {});
    running.splice(running.indexOf(importer), 1);
    assert.deepEqual(await tmpNames(), [partial], 'the kill left the temporary file behind');

    // The store starts: no temporary file; everything imported before the kill is published.
    const store = await serve();
    assert.deepEqual(await tmpNames(), [], 'no temporary file after the restart');
    for (const m of made) {
      const r = await fetch(`${store.url}/api/v1/activities/${m.bundleId}`);
      assert.equal(r.status, 200, `${m.bundleId} was imported before the kill`);
      const a = (await r.json()) as { current: { files: { download_url: string }[] } };
      const d = await fetch(`${store.url}${new URL(a.current.files[0]!.download_url).pathname}`);
      assert.equal(d.status, 200);
      assert.equal(sha256Of(Buffer.from(await d.arrayBuffer())), sha256Of(m.data), `${m.bundleId}: the bytes that were imported`);
    }
    assert.equal((await fetch(`${store.url}/api/v1/activities/org.test.ImportedZ`)).status, 404, 'the bundle cut off is not in the catalog');
    assert.equal(await store.stop(), 0);
    running.splice(running.indexOf(store.child), 1);
    await assertStoreAgrees();

    // Importing the same folder again (the cut-off bundle now whole) completes the work.
    await rm(fifo);
    await writeFile(join(dir, 'zz-last.xo'), last.data);
    const rerun = await runCli(['import', dir, '--status', 'public'], env);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /Summary: 1 imported, 4 unchanged, 0 rejected/);
    const rows = await assertStoreAgrees();
    for (const m of [...made, last])
      assert.ok(
        rows.some((r) => r.sha256 === sha256Of(m.data)),
        'every bundle of the folder is in the catalog',
      );
    assert.deepEqual(await tmpNames(), []);
  });
});

describe('the worker sweeps temporary files', () => {
  it('its recurring job removes a leftover nobody has touched for over an hour, and stays scheduled', async () => {
    const t = await createTestApp();
    const runner = new JobRunner(t.ctx.db, { pollMs: 50 });
    try {
      const tmp = join(t.config.storage.filesDir, 'tmp');
      await mkdir(tmp, { recursive: true });
      const leftover = join(tmp, '1700000000000-4242-0a0b0c.part');
      await writeFile(leftover, 'x'.repeat(100));
      const longAgo = new Date(Date.now() - 2 * 3600_000);
      await utimes(leftover, longAgo, longAgo);
      const logged: string[] = [];
      scheduleTemporarySweep(runner, t.ctx.files, { info: (m) => logged.push(m) });
      await runner.start();
      await until('the leftover removed', async () => (await stat(leftover).catch(() => null)) === null);
      await until('the sweep logged', async () => logged.length > 0);
      assert.match(logged[0]!, /removed 1 temporary file \(100 bytes\) left by interrupted uploads/);
      await runner.stop();
      const pending = await t.ctx.db.selectFrom('jobs').select(['run_at']).where('queue', '=', TEMP_SWEEP_QUEUE).where('done_at', 'is', null).execute();
      assert.equal(pending.length, 1, 'one pending run');
      assert.ok(new Date(pending[0]!.run_at).getTime() > Date.now(), 'the next one later');
    } finally {
      await runner.stop();
      await t.cleanup();
    }
  });
});

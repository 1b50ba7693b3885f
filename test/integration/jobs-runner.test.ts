// The durable job runner (src/platform/jobs): dedupe, retries with backoff, dead jobs, leases
// that expire after a crash, re-runs requested while running, recurring jobs, and two workers
// on one database never running the same job at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { spawn } from 'node:child_process';
import { createTestEnv, TEST_DATABASE, type TestEnv } from '../helpers/env.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { JobRunner, deadJobs, enqueue, pendingJobs } from '../../src/platform/jobs/index.js';

describe('jobs runner', () => {
  let env: TestEnv;
  let ctx: AppContext;
  before(async () => {
    env = await createTestEnv();
    ctx = await createContext(env.config, { migrate: true });
  });
  after(async () => {
    await ctx.close();
    await env.cleanup();
  });

  it('runs an enqueued job once with its payload; dedupe keys merge', async () => {
    const seen: unknown[] = [];
    const runner = new JobRunner(ctx.db).handle('t.once', async (job) => {
      seen.push(job.payload);
    });
    assert.equal(await enqueue(ctx.db, 't.once', { n: 1 }, { dedupeKey: 'a' }), true);
    assert.equal(await enqueue(ctx.db, 't.once', { n: 2 }, { dedupeKey: 'a' }), false);
    await enqueue(ctx.db, 't.once', { n: 3 });
    assert.equal(await runner.drain(), 2);
    assert.deepEqual(
      seen.sort((a, b) => (a as { n: number }).n - (b as { n: number }).n),
      [{ n: 2 }, { n: 3 }],
    );
    assert.equal(await pendingJobs(ctx.db, 't.once'), 0);
    assert.equal(await runner.drain(), 0);
  });

  it('retries a failing job with backoff, then gives up and keeps the error', async () => {
    let calls = 0;
    const runner = new JobRunner(ctx.db, { retryBaseSeconds: 0 }).handle('t.fail', async () => {
      calls++;
      throw new Error(`boom ${calls}`);
    });
    await enqueue(ctx.db, 't.fail', {}, { maxAttempts: 3 });
    await runner.drain();
    assert.equal(calls, 3);
    const dead = await deadJobs(ctx.db, 't.fail');
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.last_error, 'boom 3');
    assert.equal(dead[0]!.attempts, 3);

    // Backoff: a failure moves run_at into the future.
    const slow = new JobRunner(ctx.db, { retryBaseSeconds: 60 }).handle('t.backoff', async () => {
      throw new Error('later');
    });
    await enqueue(ctx.db, 't.backoff', {});
    assert.equal(await slow.drain(), 1);
    const row = await ctx.db.selectFrom('jobs').selectAll().where('queue', '=', 't.backoff').executeTakeFirstOrThrow();
    assert.ok(new Date(row.run_at).getTime() > Date.now() + 30_000);
    assert.equal(row.done_at, null);
    assert.equal(await slow.drain(), 0);
  });

  it('claims again a job whose worker died (lease expired), and never one that is leased', async () => {
    const ran: number[] = [];
    const runner = new JobRunner(ctx.db).handle('t.lease', async (job) => {
      ran.push(job.id);
    });
    await enqueue(ctx.db, 't.lease', {}, { dedupeKey: 'x' });
    await enqueue(ctx.db, 't.lease', {}, { dedupeKey: 'y' });
    // One held by a live worker, one by a worker that died a while ago.
    await sql`update jobs set locked_by = 'alive', locked_until = now() + interval '1 hour', attempts = 1 where queue = 't.lease' and dedupe_key = 'x'`.execute(
      ctx.db,
    );
    await sql`update jobs set locked_by = 'dead', locked_until = now() - interval '1 second', attempts = 1 where queue = 't.lease' and dedupe_key = 'y'`.execute(
      ctx.db,
    );
    assert.equal(await runner.drain(), 1);
    const y = await ctx.db.selectFrom('jobs').selectAll().where('queue', '=', 't.lease').where('dedupe_key', '=', 'y').executeTakeFirstOrThrow();
    assert.deepEqual(ran, [y.id]);
    assert.notEqual(y.done_at, null);
    assert.equal(y.attempts, 2);
  });

  it('runs a job again when it was enqueued while running', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = new JobRunner(ctx.db).handle('t.rerun', async () => {
      calls++;
      if (calls === 1) await gate;
    });
    await enqueue(ctx.db, 't.rerun', { v: 1 }, { dedupeKey: 'k' });
    const first = runner.drain(1);
    while (calls === 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await enqueue(ctx.db, 't.rerun', { v: 2 }, { dedupeKey: 'k' }), false);
    release();
    await first;
    assert.equal(await runner.drain(), 1);
    assert.equal(calls, 2);
    assert.equal(await pendingJobs(ctx.db, 't.rerun'), 0);
  });

  it('two workers on one database never run the same job twice, or at once', async () => {
    const running = new Set<number>();
    const done = new Map<number, number>();
    let overlap = false;
    const handler = async (job: { id: number }) => {
      if (running.has(job.id)) overlap = true;
      running.add(job.id);
      await new Promise((r) => setTimeout(r, 2));
      running.delete(job.id);
      done.set(job.id, (done.get(job.id) ?? 0) + 1);
    };
    const a = new JobRunner(ctx.db, { concurrency: 3, pollMs: 20 }).handle('t.many', handler);
    const b = new JobRunner(ctx.db, { concurrency: 3, pollMs: 20 }).handle('t.many', handler);
    for (let i = 0; i < 40; i++) await enqueue(ctx.db, 't.many', { i });
    await a.start();
    await b.start();
    const deadline = Date.now() + 60_000;
    while ((await pendingJobs(ctx.db, 't.many')) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await a.stop();
    await b.stop();
    assert.equal(done.size, 40);
    assert.ok([...done.values()].every((n) => n === 1));
    assert.equal(overlap, false);
  });

  it('keeps exactly one pending job of a recurring queue', async () => {
    let calls = 0;
    const mk = () =>
      new JobRunner(ctx.db, { pollMs: 10 }).every('t.every', 3600, async () => {
        calls++;
      });
    const a = mk();
    const b = mk();
    await a.start();
    await b.start();
    const deadline = Date.now() + 30_000;
    while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await a.stop();
    await b.stop();
    assert.equal(calls, 1);
    const rows = await ctx.db.selectFrom('jobs').selectAll().where('queue', '=', 't.every').execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.done_at, null);
    assert.ok(new Date(rows[0]!.run_at).getTime() > Date.now() + 3000_000);
  });
});

// A worker process killed in the middle of a job (SIGKILL: no cleanup, no lease released): the
// job stays in the table and another process runs it once the lease has ended. PostgreSQL only:
// the embedded database belongs to one process.
describe('a worker process killed mid-job', { skip: TEST_DATABASE === 'postgres' ? false : 'needs PostgreSQL (two processes)' }, () => {
  let env: TestEnv;
  let ctx: AppContext;
  before(async () => {
    env = await createTestEnv();
    ctx = await createContext(env.config, { migrate: true });
  });
  after(async () => {
    await ctx?.close();
    await env?.cleanup();
  });

  it('leaves the job to be claimed again after its lease, and it runs to the end once', async () => {
    await enqueue(ctx.db, 't.crash', { n: 7 });
    // The other process: claims the job with a 2 s lease and hangs in it until killed.
    const script = `
      import { loadConfig } from './src/platform/config.ts';
      import { createContext } from './src/platform/context.ts';
      import { JobRunner } from './src/platform/jobs/index.ts';
      const ctx = await createContext(loadConfig({}), { migrate: false });
      const runner = new JobRunner(ctx.db, { leaseSeconds: 2, pollMs: 50 }).handle('t.crash', async () => {
        process.stdout.write('RUNNING\\n');
        await new Promise(() => {});
      });
      await runner.start();
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env: { ...process.env, ASLO_DATA_DIR: env.dataDir, ASLO_INSTANCE: env.config.instance, ASLO_DATABASE_URL: env.databaseUrl! },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const deadline = Date.now() + 60_000;
    while (!out.includes('RUNNING') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(out.includes('RUNNING'), `the other process claimed the job: ${out}`);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const leased = await ctx.db.selectFrom('jobs').selectAll().where('queue', '=', 't.crash').executeTakeFirstOrThrow();
    assert.equal(leased.done_at, null, 'the job is still there after the crash');
    assert.notEqual(leased.locked_by, null, 'under the dead process lease');

    const seen: unknown[] = [];
    const runner = new JobRunner(ctx.db, { pollMs: 50 }).handle('t.crash', async (job) => {
      seen.push(job.payload);
    });
    // Once the dead process's lease has ended, this runner claims the job.
    const end = Date.now() + 30_000;
    while (seen.length === 0 && Date.now() < end) {
      await runner.drain();
      if (seen.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(seen, [{ n: 7 }]);
    const row = await ctx.db.selectFrom('jobs').selectAll().where('queue', '=', 't.crash').executeTakeFirstOrThrow();
    assert.notEqual(row.done_at, null);
    assert.equal(row.attempts, 2, 'one claim by the dead process, one by this one');
    assert.equal(await runner.drain(), 0, 'and it does not run again');
  });
});

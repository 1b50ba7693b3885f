// `aslo serve --workers N`: worker processes sharing one port, a dead worker replaced, /metrics
// added up over the workers, a clean stop on SIGTERM; refused on the embedded database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import pg from 'pg';
import { createPgDatabase, EMBEDDED_ONLY, TEST_DATABASE } from '../helpers/env.js';
import { runCli, startCliServer } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('serve --workers on the embedded database', EMBEDDED_ONLY, () => {
  it('is refused with a clear message (the data folder belongs to one process)', async () => {
    const data = await mkdtemp(join(tmpdir(), 'aslo-cluster-'));
    try {
      const r = await runCli(['serve', '--workers', '2', '--port', '0'], { ASLO_DATA_DIR: data, ASLO_DATABASE_URL: '' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /SERVE_WORKERS_NEED_POSTGRES/);
      const bad = await runCli(['serve', '--workers', 'zero'], { ASLO_DATA_DIR: data });
      assert.equal(bad.code, 2);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});

describe('serve --workers 2 on PostgreSQL', { skip: TEST_DATABASE === 'postgres' ? false : 'needs PostgreSQL' }, () => {
  let data = '';
  let db: { url: string; drop(): Promise<void> };
  let server: Awaited<ReturnType<typeof startCliServer>>;

  before(async () => {
    data = await mkdtemp(join(tmpdir(), 'aslo-cluster-'));
    db = await createPgDatabase();
    // A fixed port: with port 0 every worker would get a port of its own.
    const port = await freePort();
    server = await startCliServer(['--port', String(port), '--host', '127.0.0.1', '--workers', '2', '--role', 'web'], {
      ASLO_DATA_DIR: data,
      ASLO_DATABASE_URL: db.url,
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ...(process.env.ASLO_TEST_REDIS_URL ? { ASLO_CACHE_REDIS_URL: process.env.ASLO_TEST_REDIS_URL } : {}),
    });
  });
  after(async () => {
    if (server && server.child.exitCode === null) await server.stop();
    await db?.drop();
    if (data) await rm(data, { recursive: true, force: true });
  });

  // A new connection each time (fetch would keep one open to one worker).
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get(`${server.url.replace('localhost', '127.0.0.1')}${path}`, { agent: false, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', reject);
    });
  const pidOf = async () => (JSON.parse((await get('/readyz')).body) as { pid: number }).pid;

  it('answers from two processes on one port, replaces a dead one, adds up their metrics, stops cleanly', async () => {
    const seen = new Set<number>();
    await until('two workers answering', async () => {
      seen.add(await pidOf());
      return seen.size >= 2;
    });
    const [victim] = [...seen];
    process.kill(victim!, 'SIGKILL');
    const fresh = new Set<number>();
    await until('a replacement worker', async () => {
      const pid = await pidOf();
      if (pid !== victim && !seen.has(pid)) fresh.add(pid);
      return fresh.size >= 1;
    });

    for (let i = 0; i < 10; i++) assert.equal((await get('/api/v1/activities')).status, 200);
    const total = await until('metrics from both workers', async () => {
      const text = (await get('/metrics')).body;
      const m = /aslo_http_requests_total\{[^}]*route="\/api\/v1\/activities"[^}]*\} (\d+)/.exec(text);
      return m ? Number(m[1]) : undefined;
    });
    assert.equal(total, 10, 'the requests of every worker are added up');

    server.child.kill('SIGTERM');
    const code = await until('primary exit', async () => (server.child.exitCode !== null ? { code: server.child.exitCode } : undefined), 30_000);
    assert.equal(code.code, 0);
    assert.match(server.output(), /worker died; starting another/);
    // The web role runs no background jobs: they belong to the worker role.
    assert.doesNotMatch(server.output(), /jobs\s+worker /);
  });

  it('runs the background jobs in every process of the worker role, each with its own lease id', async () => {
    // A job enqueued while no worker runs (as one left by processes that stopped): it waits in
    // the table and runs, once, when workers start.
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    try {
      const { rows } = await pgc.query<{ id: string }>(
        `insert into jobs (queue, payload, run_at, max_attempts) values ('repo.publish', '{"fileId": 0}'::jsonb, now(), 5) returning id`,
      );
      const jobId = rows[0]!.id;
      const port = await freePort();
      const workers = await startCliServer(['--port', String(port), '--host', '127.0.0.1', '--workers', '2', '--role', 'worker'], {
        ASLO_DATA_DIR: data,
        ASLO_DATABASE_URL: db.url,
        ASLO_SAMPLE_LOAD_ON_START: 'false',
        ASLO_JOBS_POLL_MS: '200',
      });
      try {
        const ids = await until('two job runners', async () => {
          const found = new Set([...workers.output().matchAll(/jobs\s+worker (\S+)/g)].map((m) => m[1]));
          return found.size >= 2 ? found : undefined;
        });
        assert.equal(ids.size, 2);
        assert.match(workers.output(), /jobs\s+worker \S+ \([^)]*updates\.rollup/, 'the rollup is a job of the worker role');

        const done = await until('the waiting job done', async () => {
          const r = await pgc.query<{ done_at: Date | null; attempts: number; last_error: string | null }>(
            'select done_at, attempts, last_error from jobs where id = $1',
            [jobId],
          );
          return r.rows[0]?.done_at ? r.rows[0] : undefined;
        });
        assert.equal(done.attempts, 1, 'claimed once by one of the two processes');
        assert.equal(done.last_error, null);
        // The recurring rollup: one pending row however many processes, next run an hour away.
        const rollup = await until('the rollup ran', async () => {
          const r = await pgc.query<{ n: number; later: boolean }>(
            `select count(*)::int as n, bool_and(run_at > now() + interval '50 minutes') as later from jobs where queue = 'updates.rollup' and done_at is null`,
          );
          return r.rows[0]?.later ? r.rows[0] : undefined;
        });
        assert.equal(rollup.n, 1);

        // The worker role's port answers the operations endpoints only (it is not behind nginx).
        const base = `http://127.0.0.1:${port}`;
        const status = (path: string) =>
          new Promise<number>((resolve, reject) => {
            http
              .get(`${base}${path}`, { agent: false }, (res) => {
                res.resume();
                resolve(res.statusCode ?? 0);
              })
              .on('error', reject);
          });
        assert.equal(await status('/healthz'), 200);
        assert.equal(await status('/readyz'), 200);
        assert.equal(await status('/metrics'), 200);
        assert.equal(await status('/api/v1/activities'), 404);
        assert.equal(await status('/en/'), 404);
      } finally {
        await workers.stop();
      }
    } finally {
      await pgc.end();
    }
  });
});

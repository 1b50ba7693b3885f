// The scaled topology on loopback, with real components: a PostgreSQL primary and a streaming
// replica (pg_basebackup, a cluster of the test's own), a Redis of the test's own, two web
// processes, one download process, one worker, and nginx running deploy/nginx/aslo.conf. Under a
// steady load (readers and an uploader, through nginx) it injects faults one after another:
//   kill a web process, stop Redis, stop the replica, stop the primary, then brings everything back
// and checks: no read failed at any time (nginx retries one idempotent request on the other web
// process), writes answered 503 + Retry-After only while the primary was down, and every upload
// acknowledged at any time is in the database at the end. It prints a table of what it did and
// what it observed. Runs in the PostgreSQL pass of the suite (a few minutes); everything it
// starts is stopped, and its folders removed, whatever happens.
// test-pass: postgres
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import pg from 'pg';
import { TEST_DATABASE } from '../helpers/env.js';
import { ASLO_BIN, REPO_ROOT, runCli } from '../helpers/cli.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { canRunCluster, startReplicatedCluster, type ReplicatedCluster } from '../helpers/pg-cluster.js';
import { freePort } from '../helpers/ports.js';
import { newApiToken, sha256Hex } from '../../src/accounts/secrets.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => spawnSync(p, ['-v']).status === 0) ?? null;
const REDIS_OK = spawnSync('redis-server', ['--version']).status === 0;
const skip =
  TEST_DATABASE !== 'postgres'
    ? 'runs in the PostgreSQL pass (ASLO_TEST_DATABASE=postgres)'
    : !canRunCluster()
      ? 'needs the PostgreSQL server binaries'
      : !NGINX
        ? 'needs nginx'
        : !REDIS_OK
          ? 'needs redis-server'
          : false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Writes accepted again after the primary returns: measured by bench/primary-recovery (primary
// back → first acknowledged upload, 20 trials: see docs/operations.md, "Read-only mode"). The
// test waits for that event itself; this bound, several times the worst trial, only decides
// when waiting has become a failure.
const RECOVERY_BOUND_MS = 15_000;

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Proc {
  name: string;
  child: ChildProcess;
  out: string[];
}

interface Sample {
  /** The phase when the request was sent. */
  phase: string;
  /** When it was sent (Date.now()). */
  sentAt: number;
  /** The phase when its answer (or failure) came: a fault may start while a request is in flight. */
  endPhase?: string;
  kind: 'read' | 'write';
  ok: boolean;
  status: number;
  ms: number;
  detail?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function request(
  base: string,
  method: string,
  path: string,
  opts: { body?: Buffer; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method, agent, headers: { ...opts.headers, ...(opts.body ? { 'content-length': String(opts.body.length) } : {}) }, timeout: opts.timeoutMs ?? 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('the scaled topology on loopback', { skip }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  const procs = new Map<string, Proc>();
  let cluster: ReplicatedCluster;
  let root = '';
  let env: Record<string, string> = {};
  let redisPort = 0;
  let redis: ChildProcess | null = null;
  let nginxBase = '';
  const ports = { web1: 0, web2: 0, download: 0, worker: 0, nginx: 0 };

  const startAslo = async (name: string, role: string, port: number) => {
    const child = spawn(process.execPath, [ASLO_BIN, 'serve', '--role', role, '--port', String(port), '--host', '127.0.0.1'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p: Proc = { name, child, out: [] };
    const keep = (d: Buffer) => {
      p.out.push(d.toString());
      if (p.out.length > 400) p.out.splice(0, 100);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    procs.set(name, p);
    await until(
      `${name} ready`,
      async () => {
        if (child.exitCode !== null) throw new Error(`${name} exited: ${p.out.join('').slice(-2000)}`);
        return (await request(`http://127.0.0.1:${port}`, 'GET', '/readyz', { timeoutMs: 2000 })).status === 200;
      },
      120_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${p.out.join('').slice(-3000)}`);
    });
  };

  const stopProc = async (name: string, signal: NodeJS.Signals = 'SIGTERM') => {
    const p = procs.get(name);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
    p.child.kill(signal);
    const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };

  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until(
      'redis up',
      () =>
        spawnSync('redis-cli', ['-p', String(redisPort), 'ping'])
          .stdout?.toString()
          .trim() === 'PONG',
      20_000,
    );
  };
  const stopRedis = async () => {
    const r = redis;
    redis = null;
    if (!r || r.exitCode !== null) return;
    const exited = new Promise<void>((res) => r.once('exit', () => res()));
    r.kill('SIGKILL');
    await exited;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'aslo-topology-'));
    chmodSync(root, 0o755);
    cleanups.push(async () => rm(root, { recursive: true, force: true }));
    cluster = await startReplicatedCluster();
    cleanups.push(() => cluster.destroy());
    redisPort = await freePort();
    await startRedis();
    cleanups.push(stopRedis);
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    env = {
      ASLO_DATA_DIR: join(root, 'data'),
      ASLO_INSTANCE: 'topology',
      ASLO_DATABASE_URL: cluster.primary.url,
      ASLO_DATABASE_REPLICAS: cluster.replica.url,
      ASLO_DATABASE_MAX_REPLICA_LAG_SECONDS: '10',
      ASLO_CACHE_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ASLO_SERVER_BASE_URL: `http://127.0.0.1:${ports.nginx}`,
      ASLO_SERVER_TRUSTED_PROXIES: '127.0.0.1',
      ASLO_SERVER_LOG_LEVEL: 'warn',
      ASLO_SAMPLE_LOAD_ON_START: 'true',
      ASLO_RATE_LIMITS_UPLOAD_PER_ADDRESS: '100000',
      ASLO_RATE_LIMITS_UPLOAD_PER_ACCOUNT: '100000',
      ASLO_JOBS_POLL_MS: '500',
    };
    cleanups.push(async () => {
      for (const name of procs.keys()) await stopProc(name, 'SIGKILL');
    });
    // Schema, secrets (shared by every process through the instance folder) and an uploader.
    const mig = await runCli(['migrate'], env);
    assert.equal(mig.code, 0, mig.stderr);
    const user = await runCli(['user', 'create', '--email', 'uploader@example.org', '--name', 'Uploader'], env);
    assert.equal(user.code, 0, user.stderr);
    // The first web process loads the sample catalog; the others start once it is there.
    await startAslo('web1', 'web', ports.web1);
    await Promise.all([startAslo('web2', 'web', ports.web2), startAslo('download', 'download', ports.download), startAslo('worker', 'worker', ports.worker)]);

    // nginx with the shipped configuration, our ports substituted.
    const ngx = join(root, 'nginx');
    mkdirSync(ngx, { recursive: true });
    chmodSync(ngx, 0o777);
    const site = readFileSync(join(REPO_ROOT, 'deploy', 'nginx', 'aslo.conf'), 'utf8')
      .replace(/127\.0\.0\.1:8081/g, `127.0.0.1:${ports.web1}`)
      .replace(/127\.0\.0\.1:8082/g, `127.0.0.1:${ports.web2}`)
      .replace(/127\.0\.0\.1:8090/g, `127.0.0.1:${ports.download}`)
      .replace(/listen 80;/, `listen 127.0.0.1:${ports.nginx};`)
      .replace(/\n\s*listen \[::\]:80;/, '')
      .replace('/var/log/nginx/aslo.access.log', join(ngx, 'access.log'));
    const main = [
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      `pid ${join(ngx, 'nginx.pid')};`,
      `error_log ${join(ngx, 'error.log')} warn;`,
      'events { worker_connections 512; }',
      'http {',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(ngx, t)};`),
      site,
      '}',
    ].join('\n');
    writeFileSync(join(ngx, 'nginx.conf'), main);
    const test = spawnSync(NGINX!, ['-t', '-c', join(ngx, 'nginx.conf'), '-p', ngx]);
    assert.equal(test.status, 0, test.stderr.toString());
    const nginx = spawn(NGINX!, ['-c', join(ngx, 'nginx.conf'), '-p', ngx, '-g', 'daemon off;'], { stdio: 'ignore' });
    procs.set('nginx', { name: 'nginx', child: nginx, out: [] });
    nginxBase = `http://127.0.0.1:${ports.nginx}`;
    await until('nginx up', async () => (await request(nginxBase, 'GET', '/readyz', { timeoutMs: 2000 })).status === 200);
  });

  after(async () => {
    agent.destroy();
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('keeps serving through every fault, read-only while the primary is down, and loses no acknowledged write', async () => {
    // What the readers read (sample content) and what the uploader sends.
    const list = JSON.parse((await request(nginxBase, 'GET', '/api/v1/activities?per_page=10')).body) as { items: { bundle_id: string }[] };
    assert.ok(list.items.length > 0, 'sample content loaded');
    const ids = list.items.map((i) => i.bundle_id);
    const detail = JSON.parse((await request(nginxBase, 'GET', `/api/v1/activities/${encodeURIComponent(ids[0]!)}`)).body) as {
      current: { files: { download_url: string }[] } | null;
    };
    const fileUrl = detail.current?.files[0]?.download_url ? new URL(detail.current.files[0].download_url).pathname : null;
    const reads: string[] = [
      '/en/',
      '/api/v1/activities',
      ...ids.slice(0, 4).map((id) => `/api/v1/activities/${encodeURIComponent(id)}`),
      ...ids.slice(0, 4).map((id) => `/services/update-aslo.php?id=${encodeURIComponent(id)}&appVersion=0.116`),
      ...(fileUrl ? [fileUrl] : []),
    ];

    const token = newApiToken();
    {
      const c = new pg.Client({ connectionString: cluster.primary.url });
      await c.connect();
      await c.query(
        `insert into api_tokens (user_id, name, token_hash, token_prefix, scopes, created_at, expires_at)
         select id, 'topology', $1, $2, array['publish'], now(), now() + interval '1 day' from users where email = 'uploader@example.org'`,
        [sha256Hex(token), token.slice(0, 9)],
      );
      await c.end();
      // The web processes look tokens up on the replica: the first upload must not outrun it.
      await cluster.waitReplicated();
    }
    // A new version for every upload, made when it is needed: the uploader never runs out, however
    // long a step takes (a fixed stock of 400 ran out when a step was slow, and the primary-back
    // step then saw no write at all).
    const bdir = await tempDir();
    cleanups.push(() => rm(bdir, { recursive: true, force: true }));
    const bundleOf = async (v: number) =>
      readFile(await buildActivity(bdir, { bundleId: 'org.test.Topology', name: 'Topology', version: String(v), payload: `v${v}` }));

    // The load: 3 readers and 1 uploader, until stopped (and never past a deadline).
    let phase = 'warm-up';
    const samples: Sample[] = [];
    const acknowledged: string[] = [];
    let running = true;
    const hardStop = Date.now() + 8 * 60_000;
    const reader = async (seed: number) => {
      let i = seed;
      while (running && Date.now() < hardStop) {
        const path = reads[i++ % reads.length]!;
        const t0 = Date.now();
        const ph = phase;
        try {
          const r = await request(nginxBase, 'GET', path);
          samples.push({
            phase: ph,
            sentAt: t0,
            kind: 'read',
            ok: r.status === 200,
            status: r.status,
            ms: Date.now() - t0,
            detail: r.status === 200 ? undefined : `${path} ${r.status} ${r.body.slice(0, 200)}`,
          });
        } catch (err) {
          samples.push({ phase: ph, sentAt: t0, kind: 'read', ok: false, status: 0, ms: Date.now() - t0, detail: `${path} ${(err as Error).message}` });
        }
        await sleep(20);
      }
    };
    let nextVersion = 0;
    const uploader = async () => {
      while (running && Date.now() < hardStop) {
        const v = ++nextVersion;
        const body = await bundleOf(v);
        const t0 = Date.now();
        const ph = phase;
        try {
          const r = await request(nginxBase, 'POST', '/api/v1/uploads', {
            body,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'x-file-name': `topology-${v}.xo` },
          });
          const ok = r.status === 201;
          if (ok) acknowledged.push(String(v));
          samples.push({
            phase: ph,
            sentAt: t0,
            endPhase: phase,
            kind: 'write',
            ok,
            status: r.status,
            ms: Date.now() - t0,
            detail: ok ? undefined : `${r.status} retry-after=${r.headers['retry-after'] ?? '-'} ${r.body.slice(0, 160)}`,
          });
        } catch (err) {
          samples.push({ phase: ph, sentAt: t0, endPhase: phase, kind: 'write', ok: false, status: 0, ms: Date.now() - t0, detail: (err as Error).message });
        }
        await sleep(150);
      }
    };
    const load = Promise.all([reader(0), reader(3), reader(7), uploader()]);

    const steps: { phase: string; action: string; ms: number }[] = [];
    const step = async (name: string, action: string, fn: () => Promise<void>, holdMs: number) => {
      const t0 = Date.now();
      phase = name;
      await fn();
      await sleep(holdMs);
      steps.push({ phase: name, action, ms: Date.now() - t0 });
    };
    // When the primary accepted connections again (pg_ctl start returned), and when the first
    // write sent after that was acknowledged.
    let primaryBackAt = 0;
    let recoveredAt = 0;

    try {
      await step('baseline', 'everything up', async () => {}, 4000);
      await step('web1 killed', 'SIGKILL web process 1', async () => stopProc('web1', 'SIGKILL'), 5000);
      await step('web1 back', 'start web process 1 again', async () => startAslo('web1', 'web', ports.web1), 3000);
      await step('redis down', 'stop Redis', stopRedis, 5000);
      await step('redis back', 'start Redis', startRedis, 4000);
      await step('replica down', 'stop the replica', () => cluster.replica.stop(), 5000);
      await step('replica back', 'start the replica', () => cluster.replica.start(), 4000);
      await step(
        'primary down',
        'stop the primary',
        async () => {
          await cluster.primary.stop();
          // Wait until both web processes report read-only mode, then keep the load on a while.
          for (const name of ['web1', 'web2'] as const) {
            let seen = '';
            await until(
              `read-only mode in ${name}`,
              async () => {
                const r = await request(`http://127.0.0.1:${ports[name]}`, 'GET', '/readyz', { timeoutMs: 3000 }).catch((err: Error) => ({
                  status: 0,
                  body: err.message,
                }));
                seen = `${r.status} ${r.body}`;
                return (JSON.parse(r.body) as { checks: { database: { mode?: string } } }).checks.database.mode === 'read-only';
              },
              60_000,
            ).catch((err: Error) => {
              throw new Error(`${err.message}; its /readyz said: ${seen.slice(0, 600)}\n${name}'s output:\n${procs.get(name)!.out.join('').slice(-3000)}`);
            });
          }
        },
        5000,
      );
      await step(
        'primary back',
        'start the primary',
        async () => {
          await cluster.primary.start();
          primaryBackAt = Date.now();
          // Wait for the event itself (a write sent after the primary returned, acknowledged),
          // never for a guessed time; the bound only turns "never" into a failure.
          await until(
            `a write acknowledged within ${RECOVERY_BOUND_MS} ms of the primary's return`,
            () => {
              const first = samples.find((s) => s.kind === 'write' && s.ok && s.sentAt >= primaryBackAt);
              if (first) recoveredAt = first.sentAt + first.ms;
              return first !== undefined;
            },
            RECOVERY_BOUND_MS,
          );
        },
        3000,
      );
    } finally {
      running = false;
      await load;
    }

    // Every acknowledged upload is in the database (the primary, after everything came back).
    const c = new pg.Client({ connectionString: cluster.primary.url });
    await c.connect();
    const rows = await c.query<{ version: string }>(
      `select v.version from versions v join activities a on a.id = v.activity_id where a.bundle_id = 'org.test.Topology'`,
    );
    await c.end();
    const present = new Set(rows.rows.map((r) => r.version));
    const lost = acknowledged.filter((v) => !present.has(v));

    // The table.
    const phases = steps.map((s) => s.phase);
    const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]! : 0);
    const lines: string[] = [];
    lines.push('');
    lines.push('phase          | action                      | s    | reads ok/all | read fails | p50/p95 ms | writes ok | 503 | other fails');
    lines.push('---------------|-----------------------------|------|--------------|------------|------------|-----------|-----|------------');
    for (const s of steps) {
      const mine = samples.filter((x) => x.phase === s.phase);
      const r = mine.filter((x) => x.kind === 'read');
      const w = mine.filter((x) => x.kind === 'write');
      const rms = r.map((x) => x.ms);
      lines.push(
        [
          s.phase.padEnd(14),
          s.action.padEnd(27),
          (s.ms / 1000).toFixed(1).padStart(4),
          `${r.filter((x) => x.ok).length}/${r.length}`.padStart(12),
          String(r.filter((x) => !x.ok).length).padStart(10),
          `${pct(rms, 50)}/${pct(rms, 95)}`.padStart(10),
          `${w.filter((x) => x.ok).length}/${w.length}`.padStart(9),
          String(w.filter((x) => x.status === 503).length).padStart(3),
          String(w.filter((x) => !x.ok && x.status !== 503).length).padStart(11),
        ].join(' | '),
      );
    }
    lines.push(`primary back → first acknowledged write: ${recoveredAt ? `${recoveredAt - primaryBackAt} ms` : 'none'}`);
    lines.push(`acknowledged uploads: ${acknowledged.length}; present after recovery: ${acknowledged.length - lost.length}; lost: ${lost.length}`);
    const failures = samples.filter((x) => !x.ok);
    const shown = new Set<string>();
    for (const f of failures) {
      const key = `${f.phase}: ${f.kind} ${(f.detail ?? String(f.status)).slice(0, 140)}`;
      if (shown.size < 15 && !shown.has(key)) shown.add(key);
    }
    for (const k of shown) lines.push(`  ${k}`);
    // What nginx said about failed writes (a 502 names its cause there).
    try {
      const errLog = readFileSync(join(root, 'nginx', 'error.log'), 'utf8')
        .split('\n')
        .filter((l) => /\[(error|warn)\]/.test(l) && !/ upstream server temporarily disabled/.test(l));
      for (const l of errLog.slice(-6)) lines.push(`  nginx: ${l.replace(/^.*?\[(error|warn)\] \d+#\d+: \*\d+ /, '').slice(0, 220)}`);
    } catch {
      // no log
    }
    console.log(lines.join('\n'));

    // Redis going away is logged once per process (the cache; sessions and rate limits).
    const web2log = procs.get('web2')!.out.join('');
    const cacheLines = web2log.split('\n').filter((l) => /cache: Redis unreachable/.test(l)).length;
    const sessionLines = web2log.split('\n').filter((l) => /sessions and rate limits: Redis unreachable/.test(l)).length;
    console.log(`web process 2 logged the Redis outage: cache ${cacheLines} line(s), sessions/rate limits ${sessionLines} line(s)`);

    // What must hold.
    assert.equal(cacheLines, 1, 'the cache logs the Redis outage once');
    assert.ok(sessionLines <= 1, 'sessions and rate limits log the Redis outage at most once');
    assert.ok(samples.filter((s) => s.kind === 'read').length > 100, 'the load ran');
    for (const ph of phases) {
      const fails = samples.filter((s) => s.phase === ph && s.kind === 'read' && !s.ok);
      assert.equal(
        fails.length,
        0,
        `no failed read in "${ph}": ${fails
          .map((f) => f.detail)
          .slice(0, 3)
          .join('; ')}`,
      );
    }
    const readOnly = samples.filter((s) => s.phase === 'primary down' && s.kind === 'write' && !s.ok);
    assert.ok(readOnly.length > 0, 'writes were refused while the primary was down');
    for (const s of readOnly) assert.equal(s.status, 503, `refused with 503: ${s.detail}`);
    for (const s of readOnly) assert.match(s.detail ?? '', /retry-after=\d+ .*DB_READ_ONLY/);
    for (const ph of ['baseline', 'web1 back', 'redis down', 'redis back', 'replica down', 'replica back']) {
      assert.ok(
        samples.some((s) => s.phase === ph && s.kind === 'write' && s.ok),
        `writes worked in "${ph}"`,
      );
      // Only a fault on the write's own path may fail it: a killed process (a POST is never
      // replayed) or the primary down. A write sent in this phase whose answer came after the
      // next step had begun is judged by that step (below).
      const failed = samples.filter((s) => s.phase === ph && s.endPhase === ph && s.kind === 'write' && !s.ok);
      assert.equal(failed.length, 0, `no failed write in "${ph}": ${failed.map((f) => f.detail).join('; ')}`);
    }
    // Writes in flight when a step began: only a step that is a fault on their path may fail them.
    // The primary's return is one until each web process has seen it (its health check runs every
    // second): a write refused read-only then is judged below, with the primary-back phase.
    const faultsOnWritePath = new Set(['web1 killed', 'primary down', 'primary back']);
    for (const s of samples.filter((x) => x.kind === 'write' && !x.ok && x.endPhase !== undefined && x.endPhase !== x.phase)) {
      assert.ok(
        faultsOnWritePath.has(s.endPhase!),
        `a write sent in "${s.phase}" failed once "${s.endPhase}" began, which is not a fault on its path: ${s.detail}`,
      );
    }
    // Writes after the primary returned: refused only read-only (503, DB_READ_ONLY) and only until
    // recovery (the bound); one was acknowledged (the wait above), and every write sent once the
    // bound had passed was.
    assert.ok(
      samples.some((s) => s.phase === 'primary back' && s.kind === 'write' && s.ok && s.sentAt >= primaryBackAt),
      'writes work again after the primary returns',
    );
    for (const s of samples.filter((x) => x.kind === 'write' && !x.ok && (x.phase === 'primary back' || x.endPhase === 'primary back'))) {
      assert.match(s.detail ?? '', /^503 retry-after=\d+ .*DB_READ_ONLY/, `a write around the primary's return failed other than read-only: ${s.detail}`);
      assert.ok(
        s.sentAt < primaryBackAt + RECOVERY_BOUND_MS,
        `a write sent ${s.sentAt - primaryBackAt} ms after the primary returned was refused: ${s.detail}`,
      );
    }
    assert.deepEqual(lost, [], 'every acknowledged upload is present');
  });
});

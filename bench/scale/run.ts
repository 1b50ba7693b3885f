// bench/scale: throughput of one web process against two behind nginx (deploy/nginx/aslo.conf),
// with the cache cold (no cache: every request reads PostgreSQL) and warm (LRU + Redis, warmed
// up), on a generated 10,000-activity catalog. Same load generator (autocannon), same request mix,
// same run; each process's CPU is measured so the cost per request can be compared.
//
//   npm run bench -- scale [--activities 10000] [--versions 5] [--duration 10] [--connections 32]
//                          [--admin-url postgres://postgres@127.0.0.1:5432/postgres]
//                          [--redis-url redis://127.0.0.1:6379] [--keep-db] [--no-doc]
//
// Needs PostgreSQL (a database is created on the admin URL's server), Redis and nginx.
// Prints a table and rewrites the `scale` section of docs/benchmarks.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config.js';
import { createContext } from '../../src/platform/context.js';
import { generateRows } from '../lib/catalog.js';
import { inTurn, runLoad } from '../lib/load.js';
import { freePort, nginxBin, stopper } from '../lib/processes.js';
import { DOC, ROOT, loadAverage, log, runLine, table, writeSection } from '../lib/report.js';

const { values: args } = parseArgs({
  options: {
    activities: { type: 'string', default: '10000' },
    versions: { type: 'string', default: '5' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    'admin-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    'keep-db': { type: 'boolean', default: false },
    'no-doc': { type: 'boolean', default: false },
  },
});
const ACTIVITIES = Number(args.activities);
const VERSIONS = Number(args.versions);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const DB_NAME = `aslo_bench_scale_${ACTIVITIES}_${VERSIONS}`;
const NGINX = nginxBin();

function dbUrl(): string {
  const u = new URL(args['admin-url']!);
  u.pathname = `/${DB_NAME}`;
  return u.toString();
}

async function prepare(dataDir: string): Promise<string[]> {
  const admin = new pg.Client({ connectionString: args['admin-url'] });
  await admin.connect();
  const exists = (await admin.query('select 1 from pg_database where datname = $1', [DB_NAME])).rowCount;
  if (!exists) await admin.query(`create database ${DB_NAME}`);
  await admin.end();
  const config = loadConfig({ dataDir, instance: 'benchscale', env: { ASLO_DATABASE_URL: dbUrl(), ASLO_SAMPLE_LOAD_ON_START: 'false' }, writeDefaults: true });
  const ctx = await createContext(config, { migrate: true });
  try {
    const ids = async () =>
      (await ctx.db.selectFrom('activities').select('bundle_id').where('status', '=', 'public').orderBy('id').execute()).map((r) => r.bundle_id);
    let have = await ids();
    if (have.length < ACTIVITIES) {
      const started = Date.now();
      await generateRows(ctx, { activities: ACTIVITIES, versions: VERSIONS, seed: 29 });
      await sql`analyze`.execute(ctx.db);
      log(`  generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      have = await ids();
    }
    return have;
  } finally {
    await ctx.close();
  }
}

interface Proc {
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startWeb(env: Record<string, string>, port: number): Promise<Proc> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/aslo.mjs'), 'serve', '--role', 'web', '--port', String(port), '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  const end = Date.now() + 300_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`web process exited: ${err}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
    } catch {
      // starting
    }
    if (Date.now() > end) throw new Error(`web process did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return { child, stop: stopper(child, 'SIGTERM', 15_000) };
}

async function startNginx(dir: string, listen: number, upstreams: number[]): Promise<Proc> {
  mkdirSync(dir, { recursive: true });
  let site = readFileSync(join(ROOT, 'deploy', 'nginx', 'aslo.conf'), 'utf8')
    .replace(/listen 80;/, `listen 127.0.0.1:${listen};`)
    .replace(/\n\s*listen \[::\]:80;/, '')
    .replace('access_log /var/log/nginx/aslo.access.log aslo_json;', 'access_log off;');
  // The shipped upstream lists two web processes: keep as many as this case runs.
  site = site.replace(
    /upstream aslo_web \{[\s\S]*?\n\}/,
    `upstream aslo_web {\n    least_conn;\n${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}\n    keepalive 64;\n    keepalive_timeout 4s;\n}`,
  );
  site = site.replace(/127\.0\.0\.1:8090/g, `127.0.0.1:${upstreams[0]}`).replace(/127\.0\.0\.1:8081/g, `127.0.0.1:${upstreams[0]}`);
  const conf = [
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} warn;`,
    'events { worker_connections 2048; }',
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    site,
    '}',
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn(NGINX!, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${listen}/nginx-health`)).ok) break;
    } catch {
      // starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, stop: stopper(child, 'SIGQUIT', 5000) };
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  cpuPerK: number;
  bad: number;
}

async function measure(url: string, paths: string[], seconds: number, pids: number[]): Promise<Measure> {
  const r = await runLoad({ url, connections: CONNECTIONS, seconds, next: inTurn(paths), pids });
  return { rps: r.rps, p50: r.p50, p99: r.p99, cpuPerK: r.cpuPerK, bad: r.non2xx + r.errors + r.timeouts };
}

/** Every path once through `base` (8 at a time): fills the caches before a warm measurement. */
async function prime(base: string, paths: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < paths.length) {
        const p = paths[next++]!;
        await fetch(`${base}${p}`)
          .then((r) => r.arrayBuffer())
          .catch(() => {});
      }
    }),
  );
}

async function main(): Promise<void> {
  if (!NGINX) throw new Error('nginx is not installed (apt install nginx)');
  const dir = await mkdtemp(join(tmpdir(), 'aslo-bench-scale-'));
  const running: Proc[] = [];
  try {
    log(`catalog: ${ACTIVITIES} activities x ${VERSIONS} versions in PostgreSQL database ${DB_NAME}`);
    const ids = await prepare(dir);
    // The request mix: catalog API lists and details, and store pages, spread over 500 activities.
    const pick = ids.filter((_, k) => k % Math.max(1, Math.floor(ids.length / 500)) === 0).slice(0, 500);
    const paths: string[] = [];
    for (let k = 0; k < pick.length; k++) {
      const id = encodeURIComponent(pick[k]!);
      paths.push(`/api/v1/activities/${id}`, `/en/activity/${id}`);
      if (k % 10 === 0) paths.push(`/api/v1/activities?page=${k / 10 + 1}`, `/en/`);
    }
    const base = {
      ASLO_DATA_DIR: dir,
      ASLO_INSTANCE: 'benchscale',
      ASLO_DATABASE_URL: dbUrl(),
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_SERVER_LOG_LEVEL: 'warn',
      ASLO_JOBS_ENABLED: 'false',
      ASLO_SERVER_BASE_URL: 'http://bench.local',
    };
    const caches: Record<string, Record<string, string>> = {
      cold: { ASLO_CACHE_LRU_ENTRIES: '0', ASLO_CACHE_REDIS_URL: '' },
      warm: { ASLO_CACHE_REDIS_URL: args['redis-url']!, ASLO_CACHE_PREFIX: `aslo:benchscale:${process.pid}:` },
    };
    const rows: (string | number)[][] = [];
    const results: Record<string, Measure> = {};
    for (const [cacheName, cacheEnv] of Object.entries(caches)) {
      const ports = [await freePort(), await freePort()];
      log(`starting two web processes (cache ${cacheName})...`);
      const webs = await Promise.all(ports.map((p) => startWeb({ ...base, ...cacheEnv }, p)));
      running.push(...webs);
      const lbPort = await freePort();
      for (const [setup, upstreams] of [
        ['1 web process', [ports[0]!]],
        ['2 web processes behind nginx', ports],
      ] as const) {
        const nginx = await startNginx(join(dir, `nginx-${cacheName}-${upstreams.length}`), lbPort, [...upstreams]);
        const url = upstreams.length === 1 ? `http://127.0.0.1:${upstreams[0]}` : `http://127.0.0.1:${lbPort}`;
        const pids = upstreams.map((p) => webs[ports.indexOf(p)]!.child.pid!);
        if (cacheName === 'warm') {
          log(`  ${setup}: priming the caches of each process (${paths.length} paths)`);
          for (const p of upstreams) await prime(`http://127.0.0.1:${p}`, paths);
        }
        log(`  ${setup}, cache ${cacheName}: warm-up ${WARMUP} s`);
        await measure(url, paths, WARMUP, pids);
        log(`  ${setup}, cache ${cacheName}: ${DURATION} s`);
        const m = await measure(url, paths, DURATION, pids);
        results[`${setup}|${cacheName}`] = m;
        log(`    ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.cpuPerK.toFixed(0)} CPU ms/1k, bad ${m.bad}`);
        await nginx.stop();
      }
      await Promise.all(webs.map((w) => w.stop()));
      running.length = 0;
    }
    const one = results['1 web process|cold']!.rps;
    for (const [key, m] of Object.entries(results)) {
      const [setup, cacheName] = key.split('|');
      rows.push([setup!, cacheName!, Math.round(m.rps), m.p50, m.p99, m.cpuPerK.toFixed(1), (m.rps / one).toFixed(2), m.bad]);
    }
    const out = table(['setup', 'cache', 'requests/s', 'p50 ms', 'p99 ms', 'web CPU ms/1k req', 'ratio to 1 process cold', 'errors'], rows);
    console.log(`\n${out}\n`);
    if (!args['no-doc']) {
      writeSection(
        'scale',
        '## Scale: one web process vs two behind nginx (bench/scale)',
        [
          runLine(),
          '',
          `Catalog: ${ACTIVITIES.toLocaleString('en')} activities x ${VERSIONS} versions (\`aslo dev generate\`) on PostgreSQL. Request mix over 500 activities: API detail and store activity page for each, ` +
            `an API list page and the home page every tenth. autocannon in the bench process, ${CONNECTIONS} connections, ${DURATION} s after a ${WARMUP} s warm-up. ` +
            '"cold": no cache (cache.lruEntries 0, no Redis: every request reads PostgreSQL); "warm": LRU + Redis, every path requested once from each process before the warm-up. ' +
            '"web CPU" adds up the CPU time of the web processes serving the case, per 1,000 requests. nginx runs deploy/nginx/aslo.conf with the upstream reduced to the processes of the case. ' +
            "Everything (PostgreSQL, Redis, nginx, the web processes and the load generator) shares this machine's cores: see docs/scaling.md for what the numbers mean for capacity.",
          '',
          out,
          '',
          `Load average at the end of the run: ${loadAverage()}.`,
          '',
          'Reproduce: `npm run bench -- scale` (options: `--activities`, `--versions`, `--duration`, `--connections`, `--admin-url`, `--redis-url`, `--keep-db`, `--no-doc`).',
        ].join('\n'),
      );
      log(`wrote the scale section of ${DOC}`);
    }
  } finally {
    for (const p of running) await p.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    if (!args['keep-db']) {
      const admin = new pg.Client({ connectionString: args['admin-url'] });
      await admin
        .connect()
        .then(() => admin.query(`drop database if exists ${DB_NAME} with (force)`))
        .catch(() => {});
      await admin.end().catch(() => {});
    }
  }
}

await main();

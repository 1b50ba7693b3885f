// What the redirector benchmarks share: a seeded instance (published files, mirrors with partial
// coverage), the servers under test (aslo --role download, a bare node:http server and nginx
// answering a fixed 302) and the load generator (autocannon, geo-spread X-Forwarded-For
// clients). Ports, processes, /proc counters and the report helpers are in bench/lib/.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config.js';
import { createContext } from '../../src/platform/context.js';
import { continentOf } from '../../src/geo/continents.js';
import { runLoad } from '../lib/load.js';
import { freePort, nginxBin, waitForOutput } from '../lib/processes.js';
import { ROOT } from '../lib/report.js';

export const FIXED = 'http://m1.mirrors.invalid/sugar/1/activity-1.xo';

// The same deterministic generator the tests use for simulated clients.
export { prng } from '../../test/helpers/mirrors.js';
import { prng } from '../../test/helpers/mirrors.js';

export const COUNTRIES = [
  'US',
  'DE',
  'GB',
  'FR',
  'BR',
  'PE',
  'UY',
  'AR',
  'IN',
  'JP',
  'CN',
  'AU',
  'NZ',
  'ZA',
  'KE',
  'NG',
  'CA',
  'MX',
  'ES',
  'IT',
  'NL',
  'SE',
  'RU',
  'KR',
  'SG',
];

/** Random public IPv4 client addresses (1.0.0.0 - 223.255.255.255), deterministic. */
export function clientAddresses(n: number, seed = 99): string[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => {
    const v = (Math.floor(rand() * 0xdeffffff) + 0x01000000) >>> 0;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  });
}

/**
 * Rows only (no bytes on disk): `files` published files of 1 MiB, `mirrors` mirrors in 25
 * countries (every third with HTTPS, every tenth restricted to its country, weights 50-300),
 * each verified for about 60 % of the files; every file is on at least one unrestricted mirror.
 */
export async function seed(dataDir: string, files: number, mirrors: number, databaseUrl?: string): Promise<{ paths: string[] }> {
  const config = loadConfig({
    dataDir,
    instance: 'bench',
    env: { ASLO_SAMPLE_LOAD_ON_START: 'false', ...(databaseUrl ? { ASLO_DATABASE_URL: databaseUrl } : {}) },
    writeDefaults: true,
  });
  const ctx = await createContext(config, { migrate: true });
  const db = ctx.db;
  const perActivity = 10;
  const activities = Math.ceil(files / perActivity);
  await sql`insert into activities (bundle_id, kind, status) select 'org.bench.a' || i, 'activity', 'public' from generate_series(1, ${activities}) i`.execute(
    db,
  );
  await sql`insert into versions (activity_id, version, version_normalized, sort_key, runtime, metadata)
    select a.id, v::text, v::text, lpad(v::text, 8, '0'), 'python3', '{}'::jsonb from activities a, generate_series(1, ${perActivity}) v`.execute(db);
  await sql`insert into files (version_id, sha256, size, storage_key, file_name, status, piece_length, piece_hashes, sha1, md5, repo_path, published_at)
    select v.id, encode(sha256(('f' || v.id)::bytea), 'hex'), 1048576, encode(sha256(('f' || v.id)::bytea), 'hex'), 'activity_' || v.activity_id || '-' || v.version || '.xo', 'public', 262144,
      sha256(('p1' || v.id)::bytea) || sha256(('p2' || v.id)::bytea) || sha256(('p3' || v.id)::bytea) || sha256(('p4' || v.id)::bytea),
      encode(sha256(('s' || v.id)::bytea), 'hex'), md5('m' || v.id), v.activity_id || '/activity_' || v.activity_id || '-' || v.version || '.xo', now()
    from versions v order by v.id limit ${files}`.execute(db);
  const rand = prng(42);
  for (let i = 1; i <= mirrors; i++) {
    const country = COUNTRIES[(i - 1) % COUNTRIES.length]!;
    await db
      .insertInto('mirrors')
      .values({
        name: `m${i}.mirrors.invalid`,
        http_url: `http://m${i}.mirrors.invalid/sugar`,
        https_url: i % 3 === 0 ? `https://m${i}.mirrors.invalid/sugar` : null,
        country,
        continent: continentOf(country) as never,
        asn: 64500 + i,
        prefixes: [],
        weight: 50 + Math.floor(rand() * 250),
        country_only: i % 10 === 0,
        created_at: new Date(),
        updated_at: new Date(),
      })
      .execute();
  }
  await sql`insert into mirror_files (mirror_id, file_id, state, verified_at, updated_at)
    select m.id, f.id, 'verified', now(), now() from mirrors m, files f where random() < 0.6
    on conflict do nothing`.execute(db);
  await sql`insert into mirror_files (mirror_id, file_id, state, verified_at, updated_at)
    select (select id from mirrors where not country_only order by id limit 1), f.id, 'verified', now(), now() from files f
    on conflict do nothing`.execute(db);
  const paths = (await db.selectFrom('files').select('repo_path').execute()).map((r) => `/repo/${r.repo_path}`);
  await ctx.close();
  return { paths };
}

/** A new empty database on a PostgreSQL server (the URL names any database there); drop() removes it. */
export async function createDatabase(serverUrl: string, prefix = 'aslo_bench'): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const name = `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface Target {
  name: string;
  url: string;
  child: ChildProcess;
}

/** `aslo serve --role download` on the seeded data folder (optionally with extra node flags). */
export async function startAslo(dataDir: string, opts: { nodeArgs?: string[]; env?: Record<string, string>; root?: string } = {}): Promise<Target> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), join(opts.root ?? ROOT, 'bin', 'aslo.mjs'), 'serve', '--role', 'download', '--port', String(port), '--host', '127.0.0.1'],
    {
      env: {
        ...process.env,
        ASLO_DATA_DIR: dataDir,
        ASLO_INSTANCE: 'bench',
        ASLO_SERVER_LOG_LEVEL: 'warn',
        ASLO_SAMPLE_LOAD_ON_START: 'false',
        ASLO_JOBS_ENABLED: 'false',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await waitForOutput(child, /listening/, 'aslo', 120_000);
  return { name: 'aslo (--role download)', url: `http://127.0.0.1:${port}`, child };
}

export async function startBare(): Promise<Target> {
  const port = await freePort();
  const code = `require('http').createServer((q,s)=>{s.writeHead(302,{location:${JSON.stringify(FIXED)},'content-length':'0'});s.end()}).listen(${port},'127.0.0.1',()=>console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, /ready/, 'bare node', 120_000);
  return { name: 'bare node:http, fixed 302', url: `http://127.0.0.1:${port}`, child };
}

/**
 * A bare node:http server answering every request with the same status and headers as one
 * captured answer of aslo (raw head as read off the wire): what the bytes alone cost, without
 * any of aslo's work.
 */
export async function startBareSameHeaders(rawHead: string): Promise<Target> {
  const port = await freePort();
  const lines = rawHead.split('\r\n').filter(Boolean);
  const status = Number(lines[0]!.split(' ')[1]);
  // Node adds its own Date and Connection headers, as it does for aslo.
  const headers = lines
    .slice(1)
    .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()])
    .filter(([k]) => !/^(date|connection|keep-alive)$/i.test(k!))
    .flat();
  const code = `const h=${JSON.stringify(headers)};require('http').createServer((q,s)=>{s.writeHead(${status},h);s.end()}).listen(${port},'127.0.0.1',()=>console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForOutput(child, /ready/, 'bare node (same headers)', 120_000);
  return { name: "bare node:http, fixed 302 with aslo's headers", url: `http://127.0.0.1:${port}`, child };
}

export async function startNginx(dir: string): Promise<Target | null> {
  const bin = nginxBin();
  if (!bin) return null;
  const port = await freePort();
  const prefix = join(dir, 'nginx');
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;\nerror_log ${prefix}/logs/error.log warn;\npid ${prefix}/nginx.pid;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;\n  server {\n    listen 127.0.0.1:${port};\n    location / { return 302 ${FIXED}; }\n  }\n}\n`,
  );
  const child = spawn(bin, ['-p', prefix, '-c', conf, '-g', 'daemon off; master_process off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' })
      .then((r) => r.status === 302)
      .catch(() => false);
    if (ok) return { name: 'nginx, fixed 302 (1 worker)', url: `http://127.0.0.1:${port}`, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return null;
}

/** Wait until the download role redirects (the geo databases load in the background at start). */
export async function untilRedirecting(url: string, path: string, ip: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${url}${path}`, { redirect: 'manual', headers: { 'x-forwarded-for': ip } });
    await r.body?.cancel();
    if (r.status === 302) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('the download role never redirected');
}

export interface Result {
  rps: number;
  p99: number;
  p50: number;
  bytes: number;
  codes: Record<string, number>;
}

/** autocannon against one target: random paths, random clients (X-Forwarded-For from loopback, a trusted proxy). */
export async function load(target: { url: string }, paths: string[], ips: string[], seconds: number, connections: number, seedValue = 7): Promise<Result> {
  const rand = prng(seedValue);
  const next = () => ({ path: paths[Math.floor(rand() * paths.length)]!, headers: { 'x-forwarded-for': ips[Math.floor(rand() * ips.length)]! } });
  const r = await runLoad({ url: target.url, connections, seconds, next });
  return { rps: r.rps, p99: r.p99, p50: r.p50, bytes: r.bytes, codes: r.codes };
}

/** One raw answer (status line, headers and body) and its size in bytes. */
export async function responseSize(url: string, path: string, ip: string): Promise<{ bytes: number; head: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () =>
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nX-Forwarded-For: ${ip}\r\nConnection: close\r\n\r\n`),
    );
    let buf = Buffer.alloc(0);
    s.on('data', (d) => (buf = Buffer.concat([buf, d])));
    s.on('end', () => resolve({ bytes: buf.length, head: buf.toString('latin1') }));
    s.on('error', reject);
  });
}

export async function stopAll(targets: Target[]): Promise<void> {
  for (const t of targets) t.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const t of targets) if (t.child.exitCode === null) t.child.kill('SIGKILL');
}

// bench/redirector: redirects per second and p99 latency of the download role (aslo serve
// --role download) with 10,000 published files and 50 mirrors with partial coverage, clients
// spread over the world (X-Forwarded-For from the trusted loopback proxy, random public IPv4
// addresses looked up in the real geo databases), against (a) nginx answering a fixed 302 (one
// worker) and (b) a bare node:http server answering a fixed 302: same load generator
// (autocannon, in this process), same run, one server process each, rounds interleaved.
//
//   npm run bench -- redirector [--files 10000] [--mirrors 50] [--duration 10] [--connections 50] [--rounds 2] [--no-doc]
//
// Mirrors are never contacted: their URLs use the reserved .invalid domain and the load
// generator does not follow redirects. Writes its section of docs/benchmarks.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync, renameSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, platform, release, arch, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import autocannon from 'autocannon';
import { loadConfig } from '../../src/platform/config.js';
import { createContext } from '../../src/platform/context.js';
import { continentOf } from '../../src/geo/continents.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    mirrors: { type: 'string', default: '50' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const FILES = Number(args.files);
const MIRRORS = Number(args.mirrors);
const ROOT = new URL('../../', import.meta.url).pathname;
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const FIXED = 'http://m1.mirrors.invalid/sugar/1/activity-1.xo';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'BR', 'PE', 'UY', 'AR', 'IN', 'JP', 'CN', 'AU', 'NZ', 'ZA', 'KE', 'NG', 'CA', 'MX', 'ES', 'IT', 'NL', 'SE', 'RU', 'KR', 'SG'];

async function seed(dataDir: string): Promise<{ paths: string[] }> {
  const config = loadConfig({ dataDir, instance: 'bench', env: { ASLO_SAMPLE_LOAD_ON_START: 'false' }, writeDefaults: true });
  const ctx = await createContext(config, { migrate: true });
  const db = ctx.db;
  const perActivity = 10;
  const activities = Math.ceil(FILES / perActivity);
  await sql`insert into activities (bundle_id, kind, status) select 'org.bench.a' || i, 'activity', 'public' from generate_series(1, ${activities}) i`.execute(db);
  await sql`insert into versions (activity_id, version, version_normalized, sort_key, runtime, metadata)
    select a.id, v::text, v::text, lpad(v::text, 8, '0'), 'python3', '{}'::jsonb from activities a, generate_series(1, ${perActivity}) v`.execute(db);
  await sql`insert into files (version_id, sha256, size, storage_key, file_name, status, piece_length, piece_hashes, sha1, md5, repo_path, published_at)
    select v.id, encode(sha256(('f' || v.id)::bytea), 'hex'), 1048576, encode(sha256(('f' || v.id)::bytea), 'hex'), 'activity_' || v.activity_id || '-' || v.version || '.xo', 'public', 262144,
      sha256(('p1' || v.id)::bytea) || sha256(('p2' || v.id)::bytea) || sha256(('p3' || v.id)::bytea) || sha256(('p4' || v.id)::bytea),
      encode(sha256(('s' || v.id)::bytea), 'hex'), md5('m' || v.id), v.activity_id || '/activity_' || v.activity_id || '-' || v.version || '.xo', now()
    from versions v order by v.id limit ${FILES}`.execute(db);
  const rand = prng(42);
  for (let i = 1; i <= MIRRORS; i++) {
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
  // Partial coverage: each mirror holds about 60 % of the files; every file is on at least one
  // mirror without restrictions.
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

interface Target {
  name: string;
  url: string;
  child: ChildProcess;
}

function waitFor(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), 120_000);
    const on = (d: Buffer) => {
      out += d;
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}: ${out}`)));
  });
}

async function startAslo(dataDir: string): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'aslo.mjs'), 'serve', '--role', 'download', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, ASLO_DATA_DIR: dataDir, ASLO_INSTANCE: 'bench', ASLO_SERVER_LOG_LEVEL: 'warn', ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_JOBS_ENABLED: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitFor(child, /listening/, 'aslo');
  return { name: 'aslo (--role download)', url: `http://127.0.0.1:${port}`, child };
}

async function startBare(): Promise<Target> {
  const port = await freePort();
  const code = `require('http').createServer((q,s)=>{s.writeHead(302,{location:${JSON.stringify(FIXED)},'content-length':'0'});s.end()}).listen(${port},'127.0.0.1',()=>console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitFor(child, /ready/, 'bare node');
  return { name: 'bare node:http, fixed 302', url: `http://127.0.0.1:${port}`, child };
}

function nginxBin(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v nginx']);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}

async function startNginx(dir: string): Promise<Target | null> {
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
    const ok = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' }).then((r) => r.status === 302).catch(() => false);
    if (ok) return { name: 'nginx, fixed 302 (1 worker)', url: `http://127.0.0.1:${port}`, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return null;
}

interface Result {
  rps: number;
  p99: number;
  p50: number;
  bytes: number;
  codes: Record<string, number>;
}

async function load(target: Target, paths: string[], ips: string[], seconds: number): Promise<Result> {
  const rand = prng(7);
  const res = await autocannon({
    url: target.url,
    connections: Number(args.connections),
    duration: seconds,
    requests: [
      {
        setupRequest: (req: Record<string, unknown>) => {
          req.path = paths[Math.floor(rand() * paths.length)];
          req.headers = { 'x-forwarded-for': ips[Math.floor(rand() * ips.length)] };
          return req;
        },
      },
    ],
  } as never);
  const r = res as unknown as { requests: { average: number; total: number }; latency: { p99: number; p50: number }; throughput: { total: number }; statusCodeStats?: Record<string, { count: number }> };
  const codes: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) codes[k] = v.count;
  return { rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, bytes: r.requests.total ? r.throughput.total / r.requests.total : 0, codes };
}

async function responseSize(url: string, path: string, ip: string): Promise<{ bytes: number; head: string }> {
  const { connect } = await import('node:net');
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nX-Forwarded-For: ${ip}\r\nConnection: close\r\n\r\n`));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => (buf = Buffer.concat([buf, d])));
    s.on('end', () => resolve({ bytes: buf.length, head: buf.toString('latin1') }));
    s.on('error', reject);
  });
}

function table(head: string[], rows: (string | number)[][]): string {
  const line = (r: (string | number)[]) => `| ${r.join(' | ')} |`;
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

function writeSection(body: string): void {
  const start = '<!-- bench:redirector:start -->';
  const end = '<!-- bench:redirector:end -->';
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  else doc = `${doc.trimEnd()}\n\n## Download redirector\n\n${block}\n`;
  const tmp = `${DOC}.tmp-${process.pid}`;
  writeFileSync(tmp, doc);
  renameSync(tmp, DOC);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'aslo-bench-redirector-'));
  const targets: Target[] = [];
  try {
    process.stdout.write(`seeding ${FILES} files and ${MIRRORS} mirrors...\n`);
    const { paths } = await seed(dir);
    const rand = prng(99);
    const ips = Array.from({ length: 20_000 }, () => {
      const n = (Math.floor(rand() * 0xdeffffff) + 0x01000000) >>> 0;
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    });
    targets.push(await startAslo(dir));
    targets.push(await startBare());
    const nginx = await startNginx(dir);
    if (nginx) targets.push(nginx);
    // The geo databases load in the background at start: wait until the store redirects.
    for (let i = 0; i < 300; i++) {
      const r = await fetch(`${targets[0]!.url}${paths[0]}`, { redirect: 'manual', headers: { 'x-forwarded-for': ips[0]! } });
      await r.body?.cancel();
      if (r.status === 302) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const results = new Map<string, Result[]>();
    for (const t of targets) await load(t, paths, ips, Number(args.warmup));
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const t of targets) {
        const r = await load(t, paths, ips, Number(args.duration));
        results.set(t.name, [...(results.get(t.name) ?? []), r]);
        process.stdout.write(`round ${round + 1} ${t.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, codes ${JSON.stringify(r.codes)}\n`);
      }
    }
    const sizes = new Map<string, number>();
    let sample = '';
    for (const t of targets) {
      const s = await responseSize(t.url, paths[1]!, ips[1]!);
      sizes.set(t.name, s.bytes);
      if (t === targets[0]) sample = s.head;
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const bare = mean(results.get(targets[1]!.name)!.map((r) => r.rps));
    const rows = targets.map((t) => {
      const rs = results.get(t.name)!;
      const rps = mean(rs.map((r) => r.rps));
      const codes = rs.map((r) => r.codes).reduce((acc, c) => {
        for (const [k, v] of Object.entries(c)) acc[k] = (acc[k] ?? 0) + v;
        return acc;
      }, {} as Record<string, number>);
      return [t.name, rps.toFixed(0), mean(rs.map((r) => r.p50)).toFixed(1), mean(rs.map((r) => r.p99)).toFixed(1), sizes.get(t.name) ?? 0, (rps / bare).toFixed(2), Object.entries(codes).map(([k, v]) => `${k}: ${v}`).join(', ')];
    });
    const md = [
      `${FILES.toLocaleString('en')} published files, ${MIRRORS} mirrors (about 60 % coverage each, 25 countries, every 10th restricted to its country), clients drawn from 20,000 random public IPv4 addresses (X-Forwarded-For from the trusted loopback proxy, looked up in the shipped geo databases), requests spread evenly over the files. autocannon in the bench process, ${args.connections} connections, ${args.rounds} rounds of ${args.duration} s after a ${args.warmup} s warm-up, rounds interleaved; one server process each.`,
      '',
      `Machine: ${cpus()[0]?.model.trim()}, ${cpus().length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, ${platform()} ${release()} ${arch()}. Run ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- redirector\`.`,
      '',
      table(['server', 'requests/s', 'p50 ms', 'p99 ms', 'response bytes', 'ratio to bare node', 'status codes'], rows),
      '',
      'One redirect as sent (the response bytes column counts status line, headers and body):',
      '',
      '```',
      sample.trim(),
      '```',
      '',
      "Correctness figures are not measured by this bench yet: redirects to a missing or wrong file under mirror churn, and the time from publish to the first redirect. What bounds them today: a client is only sent to a mirror after a HEAD and a piece hash of that very file succeeded there (test/integration/mirrors-real); the first check runs at publication, then after 2, 5, 15, 30 minutes and hourly, so the first redirect comes at the first check after the mirror's rsync; a mirror that deletes or replaces a verified file is caught only when its health check samples that file (one file per mirror per minute) or on a spot check.",
    ].join('\n');
    process.stdout.write(`\n${md}\n`);
    if (!args['no-doc']) writeSection(md);
  } finally {
    for (const t of targets) t.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const t of targets) if (t.child.exitCode === null) t.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

await main();

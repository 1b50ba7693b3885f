// bench/redirector: redirects per second and p99 latency of the download role (aslo serve
// --role download) with 10,000 published files and 50 mirrors with partial coverage, clients
// spread over the world (X-Forwarded-For from the trusted loopback proxy, random public IPv4
// addresses looked up in the real geo databases), against (a) nginx answering a fixed 302 (one
// worker) and (b) a bare node:http server answering a fixed 302: same load generator
// (autocannon, in this process), same run, one server process each, rounds interleaved.
//
// The download role runs on PostgreSQL (its deployment: several roles and processes share one
// database server) and, for comparison, on the embedded PGlite database, where the database
// work of counting downloads runs inside the redirector's own process.
//
//   npm run bench -- redirector [--files 10000] [--mirrors 50] [--duration 30] [--preload 30] [--warmup 15] [--connections 50] [--rounds 3]
//        [--database-url postgres://...] [--databases postgres,pglite] [--compare-root DIR --compare-label TEXT] [--no-doc]
//
// Mirrors are never contacted: their URLs use the reserved .invalid domain and the load
// generator does not follow redirects. The correctness figures (mirror churn, time to the first
// redirect) come from bench/redirector/churn.ts. Writes its section of docs/benchmarks.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median } from '../lib/load.js';
import { cpuMs, memoryOf } from '../lib/processes.js';
import { loadAverage, plainTable, shortMachineLine, today, writeSection } from '../lib/report.js';
import {
  clientAddresses,
  createDatabase,
  load,
  responseSize,
  seed,
  startAslo,
  startBare,
  startBareSameHeaders,
  startNginx,
  stopAll,
  untilRedirecting,
  type Result,
  type Target,
} from './lib.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    mirrors: { type: 'string', default: '50' },
    duration: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    // Unmeasured load on each aslo server right before its measured window: as long as the
    // download-count flush period, so that the window pays for exactly its share of count
    // writing (the flush at its start writes the preload's counts, its own are written after).
    preload: { type: 'string', default: '30' },
    'database-url': { type: 'string', default: process.env.ASLO_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    databases: { type: 'string', default: 'postgres,pglite' },
    // Another checkout (git worktree) of aslo to measure in the same run, on the PostgreSQL data: "before".
    'compare-root': { type: 'string' },
    'compare-label': { type: 'string', default: 'before' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const FILES = Number(args.files);
const MIRRORS = Number(args.mirrors);
const CONNECTIONS = Number(args.connections);

async function main(): Promise<void> {
  const dirs: string[] = [];
  const drops: (() => Promise<void>)[] = [];
  const targets: Target[] = [];
  const kinds = args.databases
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const load0 = loadAverage();
  try {
    let paths: string[] = [];
    for (const kind of kinds) {
      const dir = await mkdtemp(join(tmpdir(), `aslo-bench-redirector-${kind}-`));
      dirs.push(dir);
      let url: string | undefined;
      if (kind === 'postgres') {
        try {
          const db = await createDatabase(args['database-url']);
          drops.push(db.drop);
          url = db.url;
        } catch (err) {
          process.stderr.write(`no PostgreSQL at ${args['database-url']} (${(err as Error).message}): skipping that row\n`);
          continue;
        }
      }
      process.stderr.write(`seeding ${FILES} files and ${MIRRORS} mirrors (${kind})...\n`);
      paths = (await seed(dir, FILES, MIRRORS, url)).paths;
      const t = await startAslo(dir, { env: url ? { ASLO_DATABASE_URL: url } : {} });
      t.name = `aslo --role download (${kind === 'postgres' ? 'PostgreSQL' : 'PGlite, in-process'})`;
      targets.push(t);
      if (args['compare-root'] && kind === kinds[0]) {
        // Its own config file (written with that version's defaults): the keys differ between versions.
        const b = await startAslo(dir, {
          env: { ...(url ? { ASLO_DATABASE_URL: url } : {}), ASLO_CONFIG: join(dir, 'compare-config.yaml') },
          root: args['compare-root'],
        });
        b.name = `${args['compare-label']}: aslo --role download (${kind === 'postgres' ? 'PostgreSQL' : 'PGlite, in-process'})`;
        targets.push(b);
      }
    }
    const ips = clientAddresses(20_000);
    const aslo = [...targets];
    // The geo databases load in the background at start: wait until each store redirects.
    for (const t of aslo) await untilRedirecting(t.url, paths[0]!, ips[0]!);
    targets.push(await startBare());
    targets.push(await startBareSameHeaders((await responseSize(aslo[0]!.url, paths[1]!, ips[1]!)).head.split('\r\n\r\n')[0]!));
    const nginx = await startNginx(dirs[0]!);
    if (nginx) targets.push(nginx);
    const results = new Map<string, (Result & { cpuUs: number; ratio: number })[]>();
    for (const t of targets) await load(t, paths, ips, Number(args.warmup), CONNECTIONS);
    const rss = new Map(aslo.map((t) => [t.name, Math.round(memoryOf(t.child.pid).rss) || 0]));
    for (let round = 0; round < Number(args.rounds); round++) {
      const inRound = new Map<string, Result & { cpuUs: number }>();
      for (const t of targets) {
        if (aslo.includes(t) && Number(args.preload) > 0) await load(t, paths, ips, Number(args.preload), CONNECTIONS, 1000 + round);
        const c0 = cpuMs(t.child.pid);
        const r = await load(t, paths, ips, Number(args.duration), CONNECTIONS, 7 + round);
        const total = Object.values(r.codes).reduce((a, b) => a + b, 0);
        const cpuUs = total ? ((cpuMs(t.child.pid) - c0) * 1000) / total : 0;
        inRound.set(t.name, { ...r, cpuUs });
        process.stderr.write(
          `round ${round + 1} ${t.name}: ${r.rps.toFixed(0)} req/s, p99 ${r.p99} ms, ${cpuUs.toFixed(1)} µs CPU/request, codes ${JSON.stringify(r.codes)}\n`,
        );
      }
      // Ratios within the round: the same minutes of a shared machine for every server.
      const bareNow = [...inRound].find(([k]) => k.startsWith('bare'))![1].rps;
      for (const [k, r] of inRound) results.set(k, [...(results.get(k) ?? []), { ...r, ratio: r.rps / bareNow }]);
    }
    const sizes = new Map<string, number>();
    let sample = '';
    for (const t of targets) {
      const s = await responseSize(t.url, paths[1]!, ips[1]!);
      sizes.set(t.name, s.bytes);
      if (t === targets[0]) sample = s.head;
    }
    const bareName = targets.find((t) => t.name.startsWith('bare'))!.name;
    const bareCpu = median(results.get(bareName)!.map((r) => r.cpuUs));
    const rows = targets.map((t) => {
      const rs = results.get(t.name)!;
      const codes = rs
        .map((r) => r.codes)
        .reduce(
          (acc, c) => {
            for (const [k, v] of Object.entries(c)) acc[k] = (acc[k] ?? 0) + v;
            return acc;
          },
          {} as Record<string, number>,
        );
      const cpu = median(rs.map((r) => r.cpuUs));
      return [
        t.name,
        median(rs.map((r) => r.rps)).toFixed(0),
        median(rs.map((r) => r.p50)).toFixed(1),
        median(rs.map((r) => r.p99)).toFixed(1),
        sizes.get(t.name) ?? 0,
        median(rs.map((r) => r.ratio)).toFixed(2),
        `${Math.min(...rs.map((r) => r.ratio)).toFixed(2)}-${Math.max(...rs.map((r) => r.ratio)).toFixed(2)}`,
        cpu.toFixed(1),
        (bareCpu / cpu).toFixed(2),
        Object.entries(codes)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', '),
      ];
    });
    const md = [
      `${FILES.toLocaleString('en')} published files, ${MIRRORS} mirrors (about 60 % coverage each, 25 countries, every 10th restricted to its country), clients drawn from 20,000 random public IPv4 addresses (X-Forwarded-For from the trusted loopback proxy, looked up in the shipped geo databases), requests spread evenly over the files, every one counted. autocannon in the bench process, ${CONNECTIONS} connections, ${args.rounds} rounds of ${args.duration} s after a ${args.warmup} s warm-up, rounds interleaved, each aslo window right after ${args.preload} s of unmeasured load (one download-count flush period: the window pays for writing as many counts as it makes); one server process each (the PostgreSQL server is a process of its own). The second bare row answers with exactly the status and headers of aslo's redirect below: the cost of the bytes alone.`,
      '',
      `Machine: ${shortMachineLine()}. Load average when the run started: ${load0} (2 cores shared with other work: compare the ratios, not the absolute numbers). Run ${today()} with \`npm run bench -- redirector\`.`,
      '',
      plainTable(
        [
          'server',
          'requests/s',
          'p50 ms',
          'p99 ms',
          'response bytes',
          'ratio to bare node',
          'ratio range',
          'server CPU µs/request',
          'bare node CPU / this CPU',
          'status codes',
        ],
        rows,
      ),
      '',
      'Medians over the rounds. "Ratio to bare node" is requests/s divided by the bare server\'s in the same round; "server CPU" is the CPU time the server process used per answered request (its /proc counters), which depends less on the load generator (autocannon shares the two cores). For the PostgreSQL row the database server\'s own CPU (writing the download counts) is not included.',
      '',
      `Resident memory of the download role after the warm-up: ${[...rss].map(([k, v]) => `${v} MiB (${k.replace('aslo --role download ', '')})`).join(', ')}.`,
      '',
      'One redirect as sent (the response bytes column counts status line, headers and body):',
      '',
      '```',
      sample.trim(),
      '```',
    ].join('\n');
    process.stdout.write(`\n${md}\n`);
    if (!args['no-doc']) writeSection('redirector', '## Download redirector', md);
  } finally {
    await stopAll(targets);
    for (const d of drops) await d().catch(() => {});
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

await main();

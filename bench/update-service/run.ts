// bench/update-service: the legacy update check (/services/update-aslo.php) of the store against
// a bare node:http server answering one fixed RDF body, with the same load generator (autocannon)
// and the same request mix, one server process each, in the same run.
//
//   npm run bench -- update-service [--activities 10000] [--versions 10] [--duration 15]
//                                   [--connections 64] [--rounds 2] [--database-url URL] [--keep DIR]
//
// The catalog comes from `aslo dev generate` (tools/catalog-generator/generate.ts): N activities x M
// versions. Requests: 90% known bundle ids, 10% unknown ones, appVersion drawn from the Sugar
// series 0.82..0.122. Prints a table (requests/s, p50/p99 latency, memory, ratio to the bare
// server) and rewrites the updater's section of docs/benchmarks.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareCatalog } from '../lib/catalog.js';
import { inTurn, median, runLoad, updaterRequestPaths } from '../lib/load.js';
import { memoryOf, startAsloServe, startProcess, type Server } from '../lib/processes.js';
import { DOC, ROOT, loadAverage, log, runLine, table, writeSection } from '../lib/report.js';

// --hostile: the index.json abuse scenario (hostile.ts), which reads the options itself.
const HOSTILE = process.argv.includes('--hostile');
const { values: args } = parseArgs({
  args: HOSTILE ? [] : process.argv.slice(2),
  options: {
    activities: { type: 'string', default: '10000' },
    versions: { type: 'string', default: '10' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '2' },
    'database-url': { type: 'string' },
    keep: { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
  },
});
const ACTIVITIES = Number(args.activities);
const VERSIONS = Number(args.versions);
const DURATION = Number(args.duration);
const WARMUP = Number(args.warmup);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const SEED = 7;

interface Measure {
  /** CPU milliseconds the server spent per 1,000 requests: robust to other load on the machine. */
  cpuPerK: number;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function load(url: string, paths: string[], seconds: number, pid?: number): Promise<Measure> {
  const r = await runLoad({ url, connections: CONNECTIONS, seconds, next: inTurn(paths), pipelining: 1, pids: pid ? [pid] : [] });
  return { cpuPerK: r.cpuPerK, rps: r.rps, p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts, total: r.total };
}

async function main(): Promise<void> {
  const dir = args.keep ?? (await mkdtemp(join(tmpdir(), 'aslo-bench-updates-')));
  const env: Record<string, string> = {
    ASLO_SAMPLE_LOAD_ON_START: 'false',
    ASLO_SERVER_LOG_LEVEL: 'warn',
    ASLO_SERVER_BASE_URL: 'http://bench.local',
  };
  if (args['database-url']) env.ASLO_DATABASE_URL = args['database-url'];
  const dbKind = args['database-url'] ? 'PostgreSQL' : 'embedded PGlite';
  try {
    log(`catalog: ${ACTIVITIES} activities x ${VERSIONS} versions (${dbKind}) in ${dir}`);
    // Rows only: the update check never opens the files.
    const ids = await prepareCatalog(dir, env, { activities: ACTIVITIES, versions: VERSIONS, seed: SEED, analyze: false });
    const paths = updaterRequestPaths(ids);

    const serveEnv = { ...env, ASLO_DATA_DIR: dir, ASLO_INSTANCE: 'bench' };
    log('starting the store (aslo serve)...');
    const storeStarted = Date.now();
    const store = await startAsloServe(serveEnv);
    const storeStartSeconds = (Date.now() - storeStarted) / 1000;
    const idle = memoryOf(store.child.pid!);

    // The bare server answers the store's own answer for a typical request, byte for byte.
    const sample = await fetch(`${store.url}${paths.find((p) => !p.includes('unknown'))}`);
    const body = Buffer.from(await sample.arrayBuffer());
    const headers = { 'content-type': 'text/xml; charset=utf-8', 'cache-control': 'public, max-age=3600', etag: sample.headers.get('etag') ?? '"x"' };
    const bareSource = `
      const http = require('node:http');
      const body = Buffer.from(${JSON.stringify(body.toString('base64'))}, 'base64');
      const headers = ${JSON.stringify(headers)};
      headers['content-length'] = body.length;
      const s = http.createServer((req, res) => { res.writeHead(200, headers); res.end(body); });
      s.listen(0, '127.0.0.1', () => console.log('listening http://127.0.0.1:' + s.address().port));
      process.on('SIGTERM', () => s.close(() => process.exit(0)));
    `;
    const bare = await startProcess(['-e', bareSource], {});

    const results: Record<'store' | 'bare', Measure[]> = { store: [], bare: [] };
    const indexRows: (string | number)[][] = [];
    const mem: Record<'store' | 'bare', { rss: number; peak: number }> = { store: idle, bare: memoryOf(bare.child.pid!) };
    try {
      for (const [name, s] of [
        ['store', store],
        ['bare', bare],
      ] as const) {
        log(`warming up ${name} (${WARMUP} s)...`);
        await load(s.url, paths, WARMUP);
      }
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate, so drift on the machine hits both alike.
        for (const [name, s] of (r % 2 === 0
          ? [
              ['store', store],
              ['bare', bare],
            ]
          : [
              ['bare', bare],
              ['store', store],
            ]) as ['store' | 'bare', Server][]) {
          log(`round ${r + 1}/${ROUNDS}: ${name} for ${DURATION} s...`);
          const m = await load(s.url, paths, DURATION, s.child.pid);
          results[name].push(m);
          log(
            `  ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.cpuPerK.toFixed(0)} CPU ms per 1000 requests, non-2xx ${m.non2xx}, errors ${m.errors}`,
          );
        }
      }
      mem.store = memoryOf(store.child.pid!);
      mem.bare = memoryOf(bare.child.pid!);
      // The JSON index of the same catalog: sizes as a school server downloads them.
      for (const q of ['sugar=0.118', 'sugar=0.110', '']) {
        const url = `${store.url}/services/index.json${q ? `?${q}` : ''}`;
        const t0 = Date.now();
        const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
        const raw = (await plain.arrayBuffer()).byteLength;
        const firstMs = Date.now() - t0;
        const doc = JSON.parse(Buffer.from(await (await fetch(url, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).toString('utf8')) as {
          next_since: string;
          activities: unknown[];
        };
        const sizeWith = async (enc: string) => {
          const r = await fetch(url, { headers: { 'accept-encoding': enc } });
          return Number(r.headers.get('content-length') ?? (await r.arrayBuffer()).byteLength);
        };
        const gz = await sizeWith('gzip');
        const br = await sizeWith('br');
        const diffUrl = `${url}${q ? '&' : '?'}since=${encodeURIComponent(doc.next_since)}`;
        const diff = (await (await fetch(diffUrl, { headers: { 'accept-encoding': 'identity' } })).arrayBuffer()).byteLength;
        indexRows.push([q || '(all versions)', doc.activities.length, raw, gz, br, diff, firstMs]);
      }
    } finally {
      await store.stop();
      await bare.stop();
    }

    const summary = (ms: Measure[]) => ({
      rps: median(ms.map((m) => m.rps)),
      cpuPerK: median(ms.map((m) => m.cpuPerK)),
      p50: Math.max(...ms.map((m) => m.p50)),
      p99: Math.max(...ms.map((m) => m.p99)),
      bad: ms.reduce((a, m) => a + m.non2xx + m.errors, 0),
      total: ms.reduce((a, m) => a + m.total, 0),
    });
    const s = summary(results.store);
    const b = summary(results.bare);
    const ratio = s.rps / b.rps;
    // Per-round ratios (each store round against the bare round next to it).
    const roundRatios = results.store.map((m, k) => m.rps / results.bare[k]!.rps);
    const cpuRatio = b.cpuPerK / s.cpuPerK;
    const rows = [
      [
        'store (aslo serve, fast path)',
        Math.round(s.rps),
        s.p50,
        s.p99,
        s.cpuPerK.toFixed(0),
        mem.store.rss.toFixed(0),
        mem.store.peak.toFixed(0),
        s.bad,
        ratio.toFixed(2),
        cpuRatio.toFixed(2),
      ],
      [
        'bare node:http, one fixed body',
        Math.round(b.rps),
        b.p50,
        b.p99,
        b.cpuPerK.toFixed(0),
        mem.bare.rss.toFixed(0),
        mem.bare.peak.toFixed(0),
        b.bad,
        '1.00',
        '1.00',
      ],
    ];
    const head = ['server', 'requests/s', 'p50 ms', 'p99 ms', 'CPU ms/1k req', 'RSS MiB', 'peak RSS MiB', 'errors', 'throughput ratio', 'CPU-efficiency ratio'];
    const out = table(head, rows);
    console.log(`\n${out}\n`);
    const indexTable = table(['index.json', 'activities', 'bytes', 'gzip bytes', 'brotli bytes', 'diff bytes (no change)', 'first build ms'], indexRows);
    console.log(`${indexTable}\n`);
    console.log(
      `store: ${ACTIVITIES} activities x ${VERSIONS} versions on ${dbKind}; idle RSS after start ${idle.rss.toFixed(0)} MiB; started (index built) in ${storeStartSeconds.toFixed(1)} s`,
    );
    console.log(`per-round throughput ratios: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}; load average during the run: ${loadAverage()}`);
    console.log(
      `goal: store >= 0.80 x bare throughput -> ${ratio.toFixed(2)} ${ratio >= 0.8 ? 'met' : 'NOT met'} (CPU per request: ${cpuRatio.toFixed(2)} of the bare server's efficiency)`,
    );

    if (!args['no-doc']) {
      const body = [
        runLine(),
        '',
        `Catalog: ${ACTIVITIES.toLocaleString('en')} activities x ${VERSIONS} versions from \`aslo dev generate\` on ${dbKind}. ` +
          `Requests: 90% known bundle ids, 10% unknown, appVersion drawn from 0.82-0.122; autocannon, ${CONNECTIONS} connections, ` +
          `${ROUNDS} alternating rounds of ${DURATION} s per server after a ${WARMUP} s warm-up (requests/s and CPU are the median of the rounds, latencies the worst round). ` +
          'One server process each, load generator in a third process, all on the same machine. ' +
          '"CPU ms/1k req" is the CPU time (user + system, from /proc) the server process spent per 1,000 answered requests: unlike requests/s it does not depend on what else the machine runs, ' +
          'so "CPU-efficiency ratio" (bare CPU per request / store CPU per request) is the steadier comparison on a shared machine.',
        '',
        out,
        '',
        `Store memory includes the in-memory update index${dbKind === 'embedded PGlite' ? ' and the embedded database (PGlite runs inside the store process)' : ''}; ` +
          `idle RSS after start ${idle.rss.toFixed(0)} MiB, start (index build) ${storeStartSeconds.toFixed(1)} s. ` +
          `Per-round throughput ratios: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}; load average at the end of the run ${loadAverage()}. ` +
          `Goal: at least 0.80 of the bare server's throughput: **${ratio.toFixed(2)}** (${ratio >= 0.8 ? 'met' : 'not met'}); CPU efficiency **${cpuRatio.toFixed(2)}**.`,
        '',
        "The signed JSON index of the same catalog (`/services/index.json`), as a school server downloads it; a diff asked with the answer's `next_since` when nothing changed since; " +
          '"first build" is the first request for that Sugar version (later ones are served from memory until the catalog changes; compression is computed once, off the event loop):',
        '',
        indexTable,
        '',
        'Reproduce: `npm run bench -- update-service` (options: `--activities`, `--versions`, `--duration`, `--connections`, `--rounds`, `--database-url`, `--keep DIR` to reuse a generated catalog).',
      ].join('\n');
      writeSection('update-service', '## Updater: /services/update-aslo.php (bench/update-service)', body);
      log(`wrote the update-service section of ${DOC}`);
    }
  } finally {
    if (!args.keep) await rm(dir, { recursive: true, force: true });
  }
}

if (!existsSync(join(ROOT, 'package.json'))) throw new Error('run from the repository');
if (HOSTILE) await import('./hostile.js');
else await main();

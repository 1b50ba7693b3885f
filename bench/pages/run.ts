// bench/pages: the web store's pages (home, search, activity) of one `aslo serve` process with a
// large generated catalog, against the same server's /healthz as the floor (the cost of Fastify
// and the network path alone), in the same run, with the same load generator (autocannon).
//
//   npm run bench -- pages [--activities 10000] [--versions 10] [--duration 10] [--connections 16]
//                          [--rounds 2] [--database-url URL] [--keep DIR] [--no-doc]
//
// Requests per page kind cycle through a fixed pseudo-random list: home in the five languages,
// search for 40 words (a quarter of them misspelt), activity pages of 20 activities and of 2,000
// random ones.
// Prints a table (requests/s, p50/p99, CPU per 1,000 requests, ratio to /healthz, page size) and
// rewrites the `pages` section of docs/benchmarks.md.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { prepareCatalog } from '../lib/catalog.js';
import { inTurn, median, runLoad } from '../lib/load.js';
import { startAsloServe } from '../lib/processes.js';
import { DOC, ROOT, loadAverage, log, runLine, table, writeSection } from '../lib/report.js';

const { values: args } = parseArgs({
  options: {
    activities: { type: 'string', default: '10000' },
    versions: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '16' },
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
const SEED = 11;

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  cpuPerK: number;
  bad: number;
  total: number;
}

async function load(url: string, paths: string[], seconds: number, pid: number): Promise<Measure> {
  const r = await runLoad({ url, connections: CONNECTIONS, seconds, next: inTurn(paths), headers: { 'accept-encoding': 'gzip' }, pids: [pid] });
  return { rps: r.rps, p50: r.p50, p99: r.p99, cpuPerK: r.cpuPerK, bad: r.non2xx + r.errors + r.timeouts, total: r.total };
}

const WORDS = [
  'math',
  'music',
  'paint',
  'garden',
  'stars',
  'space',
  'words',
  'read',
  'maps',
  'chess',
  'piano',
  'draw',
  'robot',
  'turtle',
  'physics',
  'colors',
  'numbers',
  'juego',
  'música',
  'lectura',
  'ciencia',
  'étoiles',
  'jardin',
  'mapas',
  'explorer',
  'puzzle',
  'ocean',
  'animals',
  'clock',
  'story',
  /* misspelt */ 'mahts',
  'musci',
  'gardn',
  'physcis',
  'numbres',
  'pianno',
  'expolrer',
  'puzle',
  'anmals',
  'stroy',
];

async function main(): Promise<void> {
  const dir = args.keep ?? (await mkdtemp(join(tmpdir(), 'aslo-bench-pages-')));
  const env: Record<string, string> = { ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_SERVER_LOG_LEVEL: 'warn', ASLO_SERVER_BASE_URL: 'http://bench.local' };
  if (args['database-url']) env.ASLO_DATABASE_URL = args['database-url'];
  const dbKind = args['database-url'] ? 'PostgreSQL' : 'embedded PGlite';
  try {
    log(`catalog: ${ACTIVITIES} activities x ${VERSIONS} versions (${dbKind}) in ${dir}`);
    // Planner statistics after generating, as PostgreSQL's autovacuum would gather them (PGlite runs no autovacuum).
    const ids = await prepareCatalog(dir, env, { activities: ACTIVITIES, versions: VERSIONS, seed: SEED, analyze: true });
    const r = rng(2463534242);
    const cases: Record<string, string[]> = {
      '/healthz (floor)': ['/healthz'],
      home: ['en', 'es', 'fr', 'pt-BR', 'ar'].map((l) => `/${l}/`),
      search: WORDS.map((w, k) => `/${['en', 'es', 'fr'][k % 3]}/search?q=${encodeURIComponent(w)}`),
      'activity (20 pages, warm)': Array.from({ length: 60 }, (_, k) => `/${['en', 'es', 'ar'][k % 3]}/activity/${encodeURIComponent(ids[k % 20]!)}`),
      'activity (2,000 random)': Array.from(
        { length: 2000 },
        () => `/${['en', 'es', 'ar'][Math.floor(r() * 3)]}/activity/${encodeURIComponent(ids[Math.floor(r() * ids.length)]!)}`,
      ),
    };
    log('starting the store (aslo serve)...');
    const server = await startAsloServe({ ...env, ASLO_DATA_DIR: dir, ASLO_INSTANCE: 'bench' });
    const sizes: Record<string, string> = {};
    const results: Record<string, Measure[]> = {};
    try {
      for (const [name, paths] of Object.entries(cases)) {
        const sample = await fetch(`${server.url}${paths[0]}`);
        const body = Buffer.from(await sample.arrayBuffer());
        sizes[name] = name.startsWith('/healthz') ? '' : `${(body.length / 1024).toFixed(1)} / ${(gzipSync(body).length / 1024).toFixed(1)}`;
        if (!sample.ok) throw new Error(`${paths[0]}: ${sample.status}`);
        log(`warming up ${name} (${WARMUP} s)...`);
        await load(server.url, paths, WARMUP, server.child.pid!);
      }
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? Object.keys(cases) : Object.keys(cases).reverse();
        for (const name of order) {
          log(`round ${round + 1}/${ROUNDS}: ${name} for ${DURATION} s...`);
          const m = await load(server.url, cases[name]!, DURATION, server.child.pid!);
          (results[name] ??= []).push(m);
          log(`  ${Math.round(m.rps)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, ${m.cpuPerK.toFixed(0)} CPU ms/1k, bad ${m.bad}`);
        }
      }
    } finally {
      await server.stop();
    }
    const floor = median(results['/healthz (floor)']!.map((m) => m.rps));
    const rows = Object.entries(results).map(([name, ms]) => {
      const rps = median(ms.map((m) => m.rps));
      return [
        name,
        Math.round(rps),
        Math.max(...ms.map((m) => m.p50)),
        Math.max(...ms.map((m) => m.p99)),
        median(ms.map((m) => m.cpuPerK)).toFixed(0),
        (rps / floor).toFixed(3),
        sizes[name] || '-',
        ms.reduce((a, m) => a + m.bad, 0),
      ];
    });
    const out = table(['requests', 'requests/s', 'p50 ms', 'p99 ms', 'CPU ms/1k req', 'ratio to /healthz', 'page KB (raw / gzip)', 'errors'], rows);
    console.log(`\n${out}\n`);
    if (!args['no-doc']) {
      const body = [
        runLine(),
        '',
        `Catalog: ${ACTIVITIES.toLocaleString('en')} activities x ${VERSIONS} versions from \`aslo dev generate\` on ${dbKind}. ` +
          `One \`aslo serve\` process; autocannon in another, ${CONNECTIONS} connections, gzip accepted; ${ROUNDS} rounds of ${DURATION} s per kind after a ${WARMUP} s warm-up ` +
          '(requests/s and CPU: median of the rounds; latencies: the worst round). Home in the five languages; search for 40 words in en/es/fr, a quarter of them misspelt (typo correction on); ' +
          "activity pages of 20 activities (warm: what popular pages cost) and of 2,000 random activities in en/es/ar (mostly first views in the run: the cost of building a page from the database). The floor is the same server's `/healthz` (Fastify and the network path, no database), measured in the same run. " +
          "The HTML is rendered for every request from the catalog's cache-aside data (src/platform/cache): there is no cache of finished pages (browsers and proxies revalidate with the ETag and get a 304). The machine was shared with other work (see the load average), so compare the ratios, not the absolute numbers.",
        '',
        out,
        '',
        `Load average at the end of the run: ${loadAverage()}.`,
        '',
        'Reproduce: `npm run bench -- pages` (options: `--activities`, `--versions`, `--duration`, `--connections`, `--rounds`, `--database-url`, `--keep DIR` to reuse a generated catalog, `--no-doc`).',
      ].join('\n');
      // One section per database, so a PostgreSQL run does not replace the embedded one.
      const section = args['database-url'] ? 'pages-postgres' : 'pages';
      writeSection(section, args['database-url'] ? '## Web store pages on PostgreSQL (bench/pages --database-url)' : '## Web store pages (bench/pages)', body);
      log(`wrote the ${section} section of ${DOC}`);
    }
  } finally {
    if (!args.keep) await rm(dir, { recursive: true, force: true });
  }
}

if (!existsSync(join(ROOT, 'package.json'))) throw new Error('run from the repository');
await main();

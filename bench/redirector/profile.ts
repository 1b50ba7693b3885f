// Where the download role spends its CPU on the redirect fast path: the same seeded instance as
// bench/redirector/run.ts, `aslo serve --role download` under node --cpu-prof, autocannon load
// for --duration seconds, then the top frames by self time (and a few inclusive totals).
//
//   node --import tsx bench/redirector/profile.ts [--files 10000] [--mirrors 50] [--duration 15] [--connections 50] [--top 40] [--keep DIR]
//   node --import tsx bench/redirector/profile.ts --report FILE.cpuprofile
//
// Not part of `npm run bench` (no run.ts here): a tool for finding what to make faster.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clientAddresses, createDatabase, load, seed, startAslo, untilRedirecting } from './lib.js';

const { values: args } = parseArgs({
  options: {
    files: { type: 'string', default: '10000' },
    mirrors: { type: 'string', default: '50' },
    duration: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    top: { type: 'string', default: '40' },
    keep: { type: 'string' },
    report: { type: 'string' },
    'database-url': { type: 'string' },
  },
});

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

function frameName(n: Node): string {
  const url = n.callFrame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/(node_modules\/)/, '$1')
    .replace(/^.*\/work\/[^/]+\//, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
}

/**
 * Self and inclusive time per frame. With `window` (wall-clock ms, and when the profile ended),
 * only the samples taken inside it count: the load, not the start-up.
 */
async function report(file: string, top: number, window?: { from: number; to: number; endedAt: number }): Promise<void> {
  const prof = JSON.parse(await readFile(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  let t = prof.startTime;
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (window) {
      const wall = window.endedAt - (prof.endTime - t) / 1000;
      if (wall < window.from || wall > window.to) continue;
    }
    hits.set(prof.samples[i]!, (hits.get(prof.samples[i]!) ?? 0) + 1);
    total++;
  }
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const groups = new Map<string, number>();
  for (const [id, count] of hits) {
    const n = byId.get(id)!;
    const name = frameName(n);
    self.set(name, (self.get(name) ?? 0) + count);
    const u = n.callFrame.url;
    const group =
      /pglite/.test(u) || u.startsWith('wasm')
        ? 'PGlite (database)'
        : /prom-client/.test(u)
          ? 'prom-client (metrics)'
          : /mmdb|maxmind|lru-cache/.test(u)
            ? 'maxmind (geo)'
            : /\/src\//.test(u)
              ? 'aslo (src/)'
              : u.startsWith('node:')
                ? 'Node (JavaScript)'
                : !u
                  ? `native ${['(idle)', '(garbage collector)', '(program)'].includes(n.callFrame.functionName) ? n.callFrame.functionName : '(C++: syscalls, HTTP parser, string writes)'}`
                  : 'other';
    groups.set(group, (groups.get(group) ?? 0) + count);
    // Inclusive: count once per distinct frame name on the stack.
    const seen = new Set<string>();
    for (let p: number | undefined = id; p !== undefined; p = parent.get(p)) {
      const f = frameName(byId.get(p)!);
      if (seen.has(f)) continue;
      seen.add(f);
      inclusive.set(f, (inclusive.get(f) ?? 0) + count);
    }
  }
  const pct = (x: number) => `${((100 * x) / Math.max(1, total)).toFixed(1).padStart(5)} %`;
  process.stdout.write(`\n${total} samples${window ? ` during the load (${((window.to - window.from) / 1000).toFixed(1)} s)` : ''}\n\nBy origin:\n`);
  for (const [name, n] of [...groups].sort((a, b) => b[1] - a[1])) process.stdout.write(`${pct(n)}  ${name}\n`);
  process.stdout.write('\nTop frames by self time:\n');
  for (const [name, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(n)}  ${name}\n`);
  process.stdout.write('\nInclusive (frames of this repository and node:http):\n');
  for (const [name, n] of [...inclusive]
    .filter(([k]) => /src\/|_http_|net:|stream/.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    process.stdout.write(`${pct(n)}  ${name}\n`);
}

async function main(): Promise<void> {
  if (args.report) return report(args.report, Number(args.top));
  const dir = args.keep ?? (await mkdtemp(join(tmpdir(), 'aslo-bench-profile-')));
  const profDir = join(dir, 'prof');
  let paths: string[];
  // On PostgreSQL (--database-url names the server): a fresh database each time, dropped after.
  const pgdb = args['database-url'] ? await createDatabase(args['database-url']) : null;
  try {
    if (pgdb) throw new Error('seed');
    paths = JSON.parse(await readFile(join(dir, 'paths.json'), 'utf8')) as string[];
  } catch {
    process.stderr.write(`seeding ${args.files} files and ${args.mirrors} mirrors in ${dir}...\n`);
    paths = (await seed(dir, Number(args.files), Number(args.mirrors), pgdb?.url)).paths;
    if (!pgdb) await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'paths.json'), JSON.stringify(paths)));
  }
  const ips = clientAddresses(20_000);
  const aslo = await startAslo(dir, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`], env: pgdb ? { ASLO_DATABASE_URL: pgdb.url } : {} });
  const window = { from: 0, to: 0, endedAt: 0 };
  try {
    await untilRedirecting(aslo.url, paths[0]!, ips[0]!);
    await load(aslo, paths, ips, Number(args.warmup), Number(args.connections));
    window.from = Date.now();
    const r = await load(aslo, paths, ips, Number(args.duration), Number(args.connections));
    window.to = Date.now();
    process.stdout.write(`${r.rps.toFixed(0)} requests/s, p99 ${r.p99} ms, codes ${JSON.stringify(r.codes)}\n`);
  } finally {
    const exited = new Promise((res) => aslo.child.once('exit', res));
    aslo.child.kill('SIGINT');
    await exited;
    window.endedAt = Date.now();
  }
  // The main thread's profile (the other one is tsx's loader thread: its id ends in .1.).
  const files = (await readdir(profDir)).filter((f) => /\.0\.\d+\.cpuprofile$/.test(f)).sort();
  const f = files.at(-1)!;
  process.stdout.write(`\nprofile ${join(profDir, f)}`);
  await report(join(profDir, f), Number(args.top), window);
  await pgdb?.drop();
  if (!args.keep) await rm(dir, { recursive: true, force: true });
}

await main();

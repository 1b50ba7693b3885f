// Command line start-up: how long `aslo` takes before it does anything useful, compiled (dist/,
// what bin/aslo.mjs runs) and from the TypeScript sources through tsx (ASLO_FROM_SOURCE=1, what
// every run paid before the build step), against a bare `node -e ''` in the same run.
//   --help      aslo --help
//   inspect     aslo inspect of a small bundle (a sample activity)
//   restart     aslo serve on an embedded catalog of 10,000 activities (x 10 versions, rows
//               only, made once with `aslo dev generate` and kept in the temporary folder),
//               from the spawn to its "listening" line, and to ready: the first 200 of /readyz
//               (polled every 20 ms from the "listening" line), once the updater's index is loaded
//   first start aslo serve on a new data folder (migrations and the sample activities): to the
//               first line it prints, and to "listening"
// Targets: --help under 0.3 s, inspect under 0.6 s, restart (to listening) under 2 s.
//
// Usage: npm run bench -- cli [--reps 5] [--activities 10000] [--no-write]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSampleBundle } from '../../src/build/samples.js';
import { SAMPLE_ACTIVITIES } from '../../src/catalog/sample/activities.js';
import { loadAverage, log, ROOT, runLine, table, writeSection } from '../lib/report.js';
import { median } from '../lib/load.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const REPS = option('reps', 5);
const ACTIVITIES = option('activities', 10_000);
const VERSIONS = 10;
const write = !args.includes('--no-write');

const ASLO = join(ROOT, 'bin', 'aslo.mjs');
const WORK = join(tmpdir(), 'aslo-bench-cli');
const FROM_SOURCE = { ASLO_FROM_SOURCE: '1' };

/** Seconds from spawning `node args` until it exits (or until its output matches `until`, then it is stopped). */
function timed(argv: string[], env: Record<string, string> = {}, until?: RegExp): Promise<{ seconds: number; firstLine: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - t0) / 1e9;
    const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let firstLine: number | null = null;
    let done: number | null = null;
    const onData = (d: Buffer) => {
      if (firstLine === null) firstLine = since();
      output += d;
      if (until && done === null && until.test(output)) {
        done = since();
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = done ?? since();
      if (until ? done === null : code !== 0) reject(new Error(`node ${argv.join(' ')} failed (exit ${code}):\n${output}`));
      else resolve({ seconds, firstLine, output });
    });
  });
}

/** A restart: seconds from the spawn to the "listening" line, and to the first 200 of /readyz. */
function restartTimes(argv: string[], env: Record<string, string> = {}): Promise<{ listening: number; ready: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - t0) / 1e9;
    const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let listening: number | null = null;
    let ready: number | null = null;
    const poll = async (url: string) => {
      while (child.exitCode === null) {
        const ok = await fetch(`${url}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) {
          ready = since();
          child.kill('SIGTERM');
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const onData = (d: Buffer) => {
      output += d;
      if (listening !== null) return;
      const m = /listening (http:\/\/\S+)/.exec(output);
      if (m) {
        listening = since();
        void poll(m[1]!.replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code) => {
      if (listening === null || ready === null) reject(new Error(`node ${argv.join(' ')} failed (exit ${code}):\n${output}`));
      else resolve({ listening, ready });
    });
  });
}

async function medianOf(what: string, reps: number, run: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  const m = median(times);
  log(`  ${what}: ${times.map((t) => t.toFixed(3)).join(' ')} s, median ${m.toFixed(3)} s`);
  return m;
}

/** The kept data folder with the 10,000-activity catalog, generated the first time (several minutes). */
async function bigCatalog(): Promise<string> {
  const dir = join(WORK, `catalog-${ACTIVITIES}x${VERSIONS}`);
  if (existsSync(join(dir, 'generated'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`generating ${ACTIVITIES} activities x ${VERSIONS} versions (rows only) into ${dir}: once, kept for later runs`);
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [ASLO, '--data', dir, 'dev', 'generate', '--activities', String(ACTIVITIES), '--versions', String(VERSIONS), '--no-files'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('aslo dev generate failed');
  // A first start (writes what a first start writes) so that every measured one is a restart.
  await timed([ASLO, '--data', dir, 'serve', '--port', '0', '--host', '127.0.0.1'], {}, /listening/);
  mkdirSync(join(dir, 'generated'));
  log(`  generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return dir;
}

const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
if (built.status !== 0) throw new Error('npm run build failed');
mkdirSync(WORK, { recursive: true });
const load = loadAverage();
const bundle = await buildSampleBundle(SAMPLE_ACTIVITIES[0]!, SAMPLE_ACTIVITIES[0]!.versions[0]!, join(WORK, 'bundles'));
const catalog = await bigCatalog();
const serveArgs = [ASLO, '--data', catalog, 'serve', '--port', '0', '--host', '127.0.0.1'];

log(`measuring (${REPS} runs each, load average ${load})`);
const bare = await medianOf("node -e ''", REPS, async () => (await timed(['-e', ''])).seconds);
const rows: { what: string; target: number | null; compiled: number; source: number; first?: number }[] = [];
for (const [what, argv, target] of [
  ['aslo --help', [ASLO, '--help'], 0.3],
  ['aslo inspect (small bundle)', [ASLO, 'inspect', bundle], 0.6],
] as const) {
  const compiled = await medianOf(`${what}, compiled`, REPS, async () => (await timed([...argv])).seconds);
  const source = await medianOf(`${what}, from source`, REPS, async () => (await timed([...argv], FROM_SOURCE)).seconds);
  rows.push({ what, target, compiled, source });
}
const restartReps = Math.max(1, Math.min(REPS, 3));
const restarts: Record<'compiled' | 'source', { listening: number; ready: number }[]> = { compiled: [], source: [] };
const restartOf = (which: 'compiled' | 'source') => async () => {
  const r = await restartTimes(serveArgs, which === 'source' ? FROM_SOURCE : {});
  restarts[which].push(r);
  return r.listening;
};
const restart = await medianOf('restart to listening, compiled', restartReps, restartOf('compiled'));
const restartSource = await medianOf('restart to listening, from source', restartReps, restartOf('source'));
const readyOf = (which: 'compiled' | 'source') => median(restarts[which].map((r) => r.ready));
log(
  `  restart to ready: compiled ${restarts.compiled.map((r) => r.ready.toFixed(3)).join(' ')} s, from source ${restarts.source.map((r) => r.ready.toFixed(3)).join(' ')} s`,
);
const activities = `${ACTIVITIES.toLocaleString('en')} activities (embedded)`;
rows.push({ what: `restart to listening, ${activities}`, target: 2, compiled: restart, source: restartSource });
rows.push({ what: `restart to ready (update index loaded), ${activities}`, target: null, compiled: readyOf('compiled'), source: readyOf('source') });

async function firstStart(env: Record<string, string>): Promise<{ listening: number; firstLine: number }> {
  const dir = mkdtempSync(join(WORK, 'first-'));
  try {
    const r = await timed([ASLO, '--data', join(dir, 'data'), 'serve', '--port', '0', '--host', '127.0.0.1'], env, /listening/);
    return { listening: r.seconds, firstLine: r.firstLine ?? r.seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const first = await firstStart({});
const firstSource = await firstStart(FROM_SOURCE);
log(
  `  first start: listening ${first.listening.toFixed(1)} s (first line ${first.firstLine.toFixed(2)} s), from source ${firstSource.listening.toFixed(1)} s (first line ${firstSource.firstLine.toFixed(2)} s)`,
);
rows.push({ what: 'first start to listening (migrations, samples)', target: null, compiled: first.listening, source: firstSource.listening });
rows.push({ what: 'first start: its first line of output', target: null, compiled: first.firstLine, source: firstSource.firstLine });

const s = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} s`;
const body = [
  `${runLine()} Load average at the start: ${load}.`,
  '',
  table(
    ['', 'compiled (dist/)', "× node -e ''", 'from source (tsx)', 'target', ''],
    rows.map((r) => [
      r.what,
      s(r.compiled),
      `${(r.compiled / bare).toFixed(1)}×`,
      s(r.source),
      r.target === null ? '' : `< ${r.target} s`,
      r.target === null ? '' : r.compiled < r.target ? 'met' : 'MISSED',
    ]),
  ),
  '',
  `A bare \`node -e ''\` took ${s(bare)} (median of ${REPS}); the ratio column divides by it. Medians of ${REPS} runs (${restartReps} for the restart, one first start each).`,
  `"From source" is ASLO_FROM_SOURCE=1: the TypeScript loaded through tsx at every run, as every run did before the build step.`,
].join('\n');
console.log(`\n${body}\n`);
if (write) writeSection('cli', '## Command line start-up (bench/cli)', body);

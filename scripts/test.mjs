#!/usr/bin/env node
// Runs the test suite with Node's own test runner, one process per test file, ASLO_TEST_CONCURRENCY
// (default 2: one per core of a small machine) at a time. The test files run as JavaScript from a
// mirror of the checkout (scripts/test-build.mjs: esbuild's transform, as tsx does it, without the
// loader hooks' cost in every process); ASLO_TEST_TSX=1 runs them through tsx instead.
// Usage: node scripts/test.mjs [pattern...]   (patterns filter test files by substring)
// ASLO_TEST_DATABASE=pglite|postgres selects the database the integration tests use
// (default pglite; .ci/run runs the suite once for each).
//
// Each file's CPU time (user + system, with the child processes it waited for) is printed with its
// wall time; it stays comparable when the machine is shared, unlike wall time.
//
// Speed: one migrated template database per run (test/helpers/template.ts, built here first)
// that every test database copies; the files that took longest in the previous run start first,
// so the slow ones do not end up running alone at the end. Each file's output is printed whole
// when it finishes, then the totals and the slowest files.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { buildTests, compiledTestPath } from './test-build.mjs';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// A file that only means something on one database says so in a line of its own,
// `// test-pass: postgres` or `// test-pass: pglite` (its tests skip themselves on the other one
// too, for a run of the file by hand): the other pass does not start it at all (a test process
// that only skips still loads the app, 2-3 s of CPU). Files without the line run in both passes.
const database = process.env.ASLO_TEST_DATABASE ?? 'pglite';
const otherPass = [];
for (const f of [...files]) {
  const pass = /^\/\/ test-pass: (postgres|pglite)$/m.exec(readFileSync(join(root, f), 'utf8'))?.[1];
  if (pass && pass !== database) {
    otherPass.push(f);
    files.splice(files.indexOf(f), 1);
  }
}
if (otherPass.length) console.log(`not in the ${database} pass (test-pass line): ${otherPass.join(', ')}`);
if (files.length === 0) {
  console.error(`no test files of the ${database} pass matched`);
  process.exit(1);
}
const concurrency = Math.max(1, Number(process.env.ASLO_TEST_CONCURRENCY) || 2);
const started = Date.now();

// Tests that run the `aslo` command run the compiled one (bin/aslo.mjs runs dist/), as users do:
// bring dist/ up to date first (incremental, a second or two when nothing changed).
if (files.some((f) => f.startsWith('test/integration/') || f.startsWith('test/browser/'))) {
  const built = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit', cwd: root });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

// One migrated template database for the whole run, built before the test processes start,
// which then copy it instead of migrating a database each.
if (files.some((f) => f.startsWith('test/integration/') || f.startsWith('test/browser/'))) {
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/template.ts'], { stdio: 'inherit', cwd: root, env: process.env });
  if (built.status !== 0) {
    console.error('could not build the template test database');
    process.exit(built.status ?? 1);
  }
}

// The test files as JavaScript (incremental: only what changed since the last run is transformed).
const useTsx = process.env.ASLO_TEST_TSX === '1';
if (!useTsx) buildTests(root);
const cpuPreload = join(root, 'scripts', 'test-cpu.mjs');
// --liftoff-only: V8 runs PGlite's WebAssembly with its baseline compiler only. A test process
// is short, and compiling the hot functions again optimised (in background threads) cost more
// CPU than it saved: about a quarter of a typical file's CPU, a tenth of the heaviest ones'
// (docs/testing.md). The same program either way; only the test processes run so.
const COMPILED_NODE_FLAGS = ['--enable-source-maps', '--liftoff-only'];

// How long each file took last time (per checkout and database), to start the longest first.
const timesDir = join(tmpdir(), 'aslo-test-templates');
const timesFile = join(
  timesDir,
  `durations-${createHash('sha256').update(root).digest('hex').slice(0, 12)}-${process.env.ASLO_TEST_DATABASE ?? 'pglite'}.json`,
);
let lastTimes = {};
try {
  if (existsSync(timesFile)) lastTimes = JSON.parse(readFileSync(timesFile, 'utf8'));
} catch {
  lastTimes = {};
}
// Files never timed first (they may be slow), then by last duration, longest first.
const queue = [...files].sort((a, b) => (lastTimes[b] ?? Infinity) - (lastTimes[a] ?? Infinity) || a.localeCompare(b));

const totals = { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
const durations = {};
const cpuTimes = {};
const failed = [];
const children = new Set();

function runFile(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // One line when a file starts, so a file that hangs can be named from the log.
    process.stdout.write(`▷ ${file}\n`);
    const args = useTsx
      ? ['--import', 'tsx', '--import', cpuPreload, '--test-reporter=spec', file]
      : [...COMPILED_NODE_FLAGS, '--import', cpuPreload, '--test-reporter=spec', compiledTestPath(root, file)];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: { ...process.env, ASLO_TEST_CHECKOUT: root.replace(/\/$/, ''), FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('close', (code, signal) => {
      children.delete(child);
      const ms = Date.now() - t0;
      durations[file] = ms;
      let text = Buffer.concat(chunks).toString('utf8');
      const cpu = /\nℹ cpu_ms (\d+)\n/.exec(text);
      if (cpu) {
        cpuTimes[file] = Number(cpu[1]);
        text = text.slice(0, cpu.index + 1) + text.slice(cpu.index + cpu[0].length);
      }
      // The totals the reporter prints last (ℹ tests 12 ...), added up over the files.
      const counts = {};
      for (const m of text.replace(/\x1b\[[0-9;]*m/g, '').matchAll(/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) counts[m[1]] = Number(m[2]);
      for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
      const ok = code === 0 && (counts.fail ?? 0) === 0;
      if (!ok) failed.push(`${file} (${signal ? `signal ${signal}` : `exit code ${code}`})`);
      const cpuText = cpu ? `, cpu ${(cpuTimes[file] / 1000).toFixed(1)} s` : '';
      process.stdout.write(`\n── ${file} (${(ms / 1000).toFixed(1)} s${cpuText})${ok ? '' : ' FAILED'}\n${text}`);
      resolve();
    });
  });
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) c.kill(sig);
    process.exit(130);
  });
}

await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) await runFile(file);
  }),
);

try {
  mkdirSync(timesDir, { recursive: true });
  writeFileSync(timesFile, JSON.stringify({ ...lastTimes, ...durations }, null, 1));
} catch {
  // only an ordering hint for the next run
}

const wall = ((Date.now() - started) / 1000).toFixed(1);
const slowest = Object.entries(durations)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 10);
const cpuTotal = Object.values(cpuTimes).reduce((a, b) => a + b, 0);
console.log(`\n══ ${files.length} files, concurrency ${concurrency}, ${wall} s, cpu ${(cpuTotal / 1000).toFixed(1)} s in the test processes`);
console.log(
  Object.entries(totals)
    .map(([k, v]) => `${k} ${v}`)
    .join(', '),
);
const cpuOf = (f) => (cpuTimes[f] === undefined ? '' : ` (cpu ${(cpuTimes[f] / 1000).toFixed(1)})`);
if (slowest.length > 1) console.log(`slowest: ${slowest.map(([f, ms]) => `${f.replace(/^test\//, '')} ${(ms / 1000).toFixed(1)} s${cpuOf(f)}`).join(', ')}`);
// Every file's times, for comparing runs: ASLO_TEST_TIMES=FILE writes them as JSON.
if (process.env.ASLO_TEST_TIMES) {
  writeFileSync(
    process.env.ASLO_TEST_TIMES,
    JSON.stringify(Object.fromEntries(files.map((f) => [f, { wall_ms: durations[f] ?? null, cpu_ms: cpuTimes[f] ?? null }])), null, 1),
  );
}
if (failed.length) {
  console.log(`FAILED: ${failed.join(', ')}`);
  process.exit(1);
}

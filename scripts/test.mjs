#!/usr/bin/env node
// Runs the test suite with Node's own test runner (TypeScript loaded through tsx), one process per
// test file, ASLO_TEST_CONCURRENCY (default 2: one per core of a small machine) at a time.
// Usage: node scripts/test.mjs [pattern...]   (patterns filter test files by substring)
// ASLO_TEST_DATABASE=pglite|postgres selects the database the integration tests use
// (default pglite; .ci/run runs the suite once for each).
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
const failed = [];
const children = new Set();

function runFile(file) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    // One line when a file starts, so a file that hangs can be named from the log.
    process.stdout.write(`▷ ${file}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', '--test-reporter=spec', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? (process.stdout.isTTY ? '1' : '0') },
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
      const text = Buffer.concat(chunks).toString('utf8');
      // The totals the reporter prints last (ℹ tests 12 ...), added up over the files.
      const counts = {};
      for (const m of text.replace(/\x1b\[[0-9;]*m/g, '').matchAll(/^ℹ (tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/gm)) counts[m[1]] = Number(m[2]);
      for (const k of Object.keys(totals)) totals[k] += counts[k] ?? 0;
      const ok = code === 0 && (counts.fail ?? 0) === 0;
      if (!ok) failed.push(`${file} (${signal ? `signal ${signal}` : `exit code ${code}`})`);
      process.stdout.write(`\n── ${file} (${(ms / 1000).toFixed(1)} s)${ok ? '' : ' FAILED'}\n${text}`);
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
console.log(`\n══ ${files.length} files, concurrency ${concurrency}, ${wall} s`);
console.log(
  Object.entries(totals)
    .map(([k, v]) => `${k} ${v}`)
    .join(', '),
);
if (slowest.length > 1) console.log(`slowest: ${slowest.map(([f, ms]) => `${f.replace(/^test\//, '')} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
if (failed.length) {
  console.log(`FAILED: ${failed.join(', ')}`);
  process.exit(1);
}

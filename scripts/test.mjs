#!/usr/bin/env node
// Runs the whole test suite with Node's own test runner (TypeScript loaded through tsx).
// Usage: node scripts/test.mjs [pattern...]   (patterns filter test files by substring)
// ASLO_TEST_DATABASE=pglite|postgres selects the database the integration tests use
// (default pglite; .ci/run runs the suite once for each).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

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
// One migrated template database for the whole run (test/helpers/template.ts), built here before
// the test processes start, which then copy it instead of migrating a database each.
if (files.some((f) => f.startsWith('test/integration/') || f.startsWith('test/browser/'))) {
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/template.ts'], { stdio: 'inherit', cwd: root, env: process.env });
  if (built.status !== 0) {
    console.error('could not build the template test database');
    process.exit(built.status ?? 1);
  }
}
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: process.env },
);
process.exit(res.status ?? 1);

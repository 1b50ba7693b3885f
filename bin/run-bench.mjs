#!/usr/bin/env node
// Runs the benchmarks under bench/: every bench/<name>/run.ts, or only the ones named.
//   npm run bench                          all of them, one after the other
//   npm run bench -- ingest                only bench/ingest
//   npm run bench -- ingest --sizes 1,10   options from the first --option on go to each bench
// Each bench prints its tables and rewrites its own section of docs/benchmarks.md.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const benchDir = join(root, 'bench');
const available = existsSync(benchDir)
  ? readdirSync(benchDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(benchDir, d.name, 'run.ts')))
      .map((d) => d.name)
      .sort()
  : [];

const args = process.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith('-'));
const names = firstOption < 0 ? args : args.slice(0, firstOption);
const passOn = firstOption < 0 ? [] : args.slice(firstOption);

if (names.includes('help') || (passOn.includes('--help') && names.length === 0)) {
  console.log(`usage: npm run bench [-- NAME... [OPTIONS]]\nbenchmarks: ${available.join(', ') || '(none)'}`);
  process.exit(0);
}
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (available: ${available.join(', ') || 'none'})`);
  process.exit(2);
}
const selected = names.length > 0 ? names : available;
if (selected.length === 0) {
  console.error('no benchmarks found under bench/*/run.ts');
  process.exit(2);
}

let failed = 0;
for (const name of selected) {
  console.log(`\n== bench/${name} ==`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, name, 'run.ts'), ...passOn], { stdio: 'inherit', cwd: root });
  if (res.status !== 0) {
    failed++;
    console.error(`bench/${name} failed (exit ${res.status ?? res.signal})`);
  }
}
process.exit(failed > 0 ? 1 : 0);

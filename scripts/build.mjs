#!/usr/bin/env node
// Compiles src/ and tools/ to JavaScript in dist/ (tsconfig.build.json), which bin/aslo.mjs runs.
// Incremental: a build with nothing changed takes a second or two. `npm install` (prepare),
// `npm start` and the test runner (scripts/test.mjs) run it; `npm run build` by hand.
//
// dist/ mirrors the repository (dist/src/..., dist/tools/...), so a module finds the files it
// reads at run time one folder further up than in src/: dist/locales and dist/src/web/assets are
// links to the real folders, not copies, so an edited translation or style sheet needs no build.
// The stamp dist/.built says when the last build succeeded (bin/aslo.mjs compares it with src/).
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

// `npm install --omit=dev` has no compiler: as its prepare step (--if-possible) that is no error,
// bin/aslo.mjs then says how to build (docs/operations.md installs with the compiler, then prunes).
let tscBin;
try {
  tscBin = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  console.error('aslo: TypeScript is not installed (npm install --omit=dev?), so dist/ was not built: run npm install, then npm run build');
  process.exit(process.argv.includes('--if-possible') ? 0 : 1);
}
const tsc = spawnSync(process.execPath, [tscBin, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (tsc.status !== 0) {
  console.error('aslo: the build failed (tsc, see above); dist/ was not updated');
  process.exit(tsc.status ?? 1);
}

// What tsc wrote for a source file that is gone since (moved or deleted) would still be loadable.
function removeOrphans(dir, srcDir) {
  if (!existsSync(dir)) return;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isSymbolicLink()) continue;
    if (d.isDirectory()) {
      removeOrphans(p, join(srcDir, d.name));
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      continue;
    }
    const m = /^(.*)\.(js|js\.map|d\.ts)$/.exec(d.name);
    if (m && !existsSync(join(srcDir, `${m[1]}.ts`))) rmSync(p);
  }
}
for (const top of ['src', 'tools']) removeOrphans(join(dist, top), join(root, top));

// Folders read at run time, linked where the compiled modules look for them.
for (const [at, target] of [
  ['locales', 'locales'],
  ['src/web/assets', 'src/web/assets'],
]) {
  const link = join(dist, at);
  const want = relative(dirname(link), join(root, target));
  if (existsSync(link) || isLink(link)) {
    if (isLink(link)) continue;
    rmSync(link, { recursive: true, force: true });
  }
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(want, link, 'dir');
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

writeFileSync(join(dist, '.built'), `${new Date().toISOString()}\n`);

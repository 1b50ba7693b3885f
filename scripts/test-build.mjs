// The test processes' JavaScript: a mirror of the checkout in the temporary folder where every
// TypeScript file of src/, tools/, test/, scripts/ and bench/ sits next to its JavaScript (esbuild's transform, the
// same one tsx applies when it loads a file) and everything else is a link to the real file or
// folder. Test files then run with plain `node`, without tsx's loader hooks: about 1.2 s less CPU
// per test process (docs/testing.md), and nothing else changes: a module finds the files it reads
// next to it (fixtures, migrations, locales, the .ts sources some tests read) as in the checkout.
// What lies beside the checkout (../shared/corpus) and where commands run and write (the
// checkout itself) the helpers take from ASLO_TEST_CHECKOUT, which the runner sets (REPO_ROOT in
// test/helpers/cli.ts).
//
// Incremental: a file is transformed again only when its source is newer than its output; files
// gone from the checkout are removed from the mirror. Writes go through a rename, so two runs of
// the same checkout at once (the PGlite and the PostgreSQL pass) can share the mirror.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';

/** Folders whose TypeScript files are transformed; every other top-level entry is linked. */
const COMPILED = ['src', 'tools', 'test', 'scripts', 'bench'];

export function testBuildDir(root) {
  return join(tmpdir(), 'aslo-test-build', createHash('sha256').update(root).digest('hex').slice(0, 12));
}

function hasTs(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory() ? hasTs(join(dir, d.name)) : isSource(d.name)) return true;
  }
  return false;
}

function isSource(name) {
  return name.endsWith('.ts') && !name.endsWith('.d.ts');
}

function lexists(p) {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** A link at `at` to `target`, replacing whatever else is there. */
function link(at, target) {
  if (lexists(at)) {
    const st = lstatSync(at);
    if (st.isSymbolicLink() && readlinkSync(at) === target) return;
    rmSync(at, { recursive: true, force: true });
  }
  const tmp = `${at}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, at);
}

/**
 * Bring the mirror of `root` up to date; returns its folder and how many files were transformed.
 */
export function buildTests(root) {
  const require = createRequire(join(root, 'package.json'));
  const esbuild = require('esbuild');
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  const options = {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    keepNames: true,
    sourcemap: 'inline',
    tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
  };
  const out = testBuildDir(root);
  mkdirSync(out, { recursive: true });
  let transformed = 0;

  function mirror(srcDir, outDir) {
    if (lexists(outDir) && !lstatSync(outDir).isDirectory()) rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const wanted = new Set();
    for (const d of readdirSync(srcDir, { withFileTypes: true })) {
      const from = join(srcDir, d.name);
      const to = join(outDir, d.name);
      wanted.add(d.name);
      if (d.isDirectory()) {
        if (hasTs(from)) mirror(from, to);
        else link(to, from);
        continue;
      }
      link(to, from);
      if (!isSource(d.name)) continue;
      const js = to.replace(/\.ts$/, '.js');
      wanted.add(d.name.replace(/\.ts$/, '.js'));
      if (existsSync(js) && !lstatSync(js).isSymbolicLink() && statSync(js).mtimeMs >= statSync(from).mtimeMs) continue;
      const { code } = esbuild.transformSync(readFileSync(from, 'utf8'), { ...options, sourcefile: from });
      const tmp = `${js}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, js);
      transformed++;
    }
    // What the checkout no longer has (a moved or deleted file) would still be found here.
    for (const name of readdirSync(outDir)) {
      if (!wanted.has(name) && !name.endsWith('.tmp')) rmSync(join(outDir, name), { recursive: true, force: true });
    }
  }

  const wantedTop = new Set();
  for (const d of readdirSync(root, { withFileTypes: true })) {
    if (d.name === '.git') continue;
    wantedTop.add(d.name);
    const from = join(root, d.name);
    if (COMPILED.includes(d.name) && d.isDirectory()) mirror(from, join(out, d.name));
    else link(join(out, d.name), from);
  }
  for (const name of readdirSync(out)) {
    if (!wantedTop.has(name) && !name.endsWith('.tmp')) rmSync(join(out, name), { recursive: true, force: true });
  }
  return { dir: out, transformed };
}

/** Where the mirror's JavaScript for a checkout's test file (relative to root) is. */
export function compiledTestPath(root, file) {
  return join(testBuildDir(root), relative(root, join(root, file))).replace(/\.ts$/, '.js');
}

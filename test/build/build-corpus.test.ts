// Every folder of the project's oddity fixtures (test/fixtures/oddities), and of the shared corpus
// of real activity metadata when it is beside the repository, committed to a git repository of its
// own and built with buildFromGit: the store's builder must accept exactly what the store's
// validator accepts for the same files (a bundle made directly by the test helper), with the same
// id, version, name and languages, and refuse the rest with a code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { buildBundleFromCorpusFolder, corpusDir, listCorpusFolders, REPO_ROOT } from '../helpers/bundle-builder.js';
import { makeRepo, type RepoFile } from '../helpers/git-repo.js';
import { buildFromGit, BuildError } from '../../src/build/index.js';
import { inspectBundle } from '../../src/bundles/index.js';

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'aslo-build-corpus-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** The folder's files as a repository: everything but SOURCE, plus what the helper adds (a start file). */
function repoFiles(folder: string): Record<string, RepoFile> {
  const files: Record<string, RepoFile> = {};
  for (const p of walk(folder)) {
    const rel = relative(folder, p).split(sep).join('/');
    if (rel !== 'SOURCE') files[rel] = readFileSync(p);
  }
  return files;
}

async function compare(name: string, folder: string): Promise<'built' | 'refused'> {
  const isContent = existsSync(join(folder, 'library', 'library.info'));
  const direct = await buildBundleFromCorpusFolder(folder, join(work, `${name}-direct.${isContent ? 'xol' : 'xo'}`));
  const verdict = await inspectBundle(direct.path);
  // The helper adds a generated start file: commit the same one.
  const files = repoFiles(folder);
  for (const f of verdict.metadata?.files ?? []) {
    if (!(f.path in files)) files[f.path] = Buffer.from(isContent ? '<!doctype html><title>t</title>\n' : '# generated\n');
  }
  const repo = join(work, name);
  makeRepo(repo, files);
  try {
    const r = await buildFromGit({ source: repo, outDir: join(work, `${name}-out`) });
    assert.equal(verdict.ok, true, `${name}: built, but the validator refuses the same files: ${JSON.stringify(verdict.errors)}`);
    assert.equal(r.metadata.bundle_id, verdict.metadata!.bundle_id, name);
    assert.equal(r.metadata.version, verdict.metadata!.version, name);
    assert.equal(r.metadata.name, verdict.metadata!.name, name);
    assert.deepEqual(Object.keys(r.metadata.locales).sort(), Object.keys(verdict.metadata!.locales).sort(), name);
    return 'built';
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    assert.equal(verdict.ok, false, `${name}: refused with ${err.code} (${err.message}) but the validator accepts the same files`);
    assert.ok(['BUILD_INFO_INVALID', 'BUILD_VALIDATION_FAILED'].includes(err.code), `${name}: ${err.code}`);
    return 'refused';
  }
}

describe('oddity fixtures built from git', () => {
  const dir = join(REPO_ROOT, 'test', 'fixtures', 'oddities');
  for (const name of readdirSync(dir).sort()) {
    test(name, async () => {
      await compare(name, join(dir, name));
    });
  }
});

const CORPUS = corpusDir();
if (!existsSync(CORPUS)) {
  console.log(`shared corpus not found at ${CORPUS}: its build tests are not run (set ASLO_CORPUS_DIR to run them)`);
} else {
  describe('shared corpus built from git', () => {
    test('every folder builds exactly when the validator accepts it', async () => {
      const folders = await listCorpusFolders(CORPUS);
      assert.ok(folders.length > 0);
      const counts = { built: 0, refused: 0 };
      for (const f of folders) counts[await compare(f, join(CORPUS, f))]++;
      console.log(`corpus: ${folders.length} folders built from git: ${counts.built} built, ${counts.refused} refused as the validator refuses them`);
    });
  });
}

// import-git benchmark: `importGit` (the body of `aslo import-git`) on 100 local repositories
// made here, each an activity with 3 tagged versions, 8 languages and some code and images, into
// a fresh embedded (PGlite) instance: every tag built and ingested (--all-tags), then the same
// run again, which must build nothing (the commits are remembered in built_sources).
//
// Usage: npx tsx bench/build/import-git.ts [--repos 100] [--no-write]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { activityInfo, gitIn, makeRepo, writeFiles, TEST_ICON, type RepoFile } from '../../test/helpers/git-repo.js';
import { importGit } from '../../src/build/import.js';
import { loadAverage, log, runLine, table, writeSection } from '../lib/report.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const REPOS = Number(opt('repos', '100'));
const WRITE = !args.includes('--no-write');
const TAGS = 3;
const LANGS = 8;

function po(lang: string, name: string): string {
  const lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"', ''];
  lines.push(`msgid "${name}"`, `msgstr "${name} ${lang}"`, '', 'msgid "A benchmark activity"', `msgstr "Una actividad (${lang})"`, '');
  for (let i = 0; i < 40; i++) lines.push(`msgid "Message ${i}"`, `msgstr "Mensaje ${i} (${lang})"`, '');
  return lines.join('\n');
}

function files(i: number, version: number): Record<string, RepoFile> {
  const name = `Bench Import ${i}`;
  const f: Record<string, RepoFile> = {
    'activity/activity.info': activityInfo({ name, bundleId: `org.bench.Import${i}`, version: String(version), summary: 'A benchmark activity' }),
    'activity/activity-test.svg': TEST_ICON,
    'setup.py': '#!/usr/bin/env python3\nfrom sugar3.activity import bundlebuilder\nbundlebuilder.start()\n',
    'activity.py': `# version ${version}\n` + 'x = 1\n'.repeat(200),
    'images/picture.png': randomBytes(32 * 1024),
  };
  for (let l = 0; l < LANGS; l++) f[`po/l${l}.po`] = po(`l${l}`, name);
  return f;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'aslo-bench-import-git-'));
  try {
    const repos: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < REPOS; i++) {
      const repo = join(work, 'repos', `bench${i}-activity`);
      makeRepo(repo, files(i, 1), { tag: 'v1' });
      for (let v = 2; v <= TAGS; v++) {
        writeFiles(repo, files(i, v));
        gitIn(repo, ['commit', '-q', '-am', `v${v}`]);
        gitIn(repo, ['tag', `v${v}`]);
      }
      repos.push(repo);
    }
    log(`made ${REPOS} repositories of ${TAGS} tags in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const { loadConfig } = await import('../../src/platform/config.js');
    const { createContext } = await import('../../src/platform/context.js');
    const config = loadConfig({ dataDir: join(work, 'data'), instance: 'bench', env: { ASLO_SAMPLE_LOAD_ON_START: 'false' }, writeDefaults: true });
    const ctx = await createContext(config, { migrate: true, generateSecrets: true });
    try {
      const load = loadAverage();
      const cpu0 = process.cpuUsage();
      const t1 = performance.now();
      const first = await importGit(ctx, { repositories: repos, select: { kind: 'all' }, status: 'public' });
      const firstMs = performance.now() - t1;
      const cpu1 = process.cpuUsage(cpu0);
      if (first.built !== REPOS * TAGS || first.refused !== 0)
        throw new Error(`unexpected first run: ${JSON.stringify({ built: first.built, refused: first.refused })}`);
      log(`first run: ${first.built} built in ${(firstMs / 1000).toFixed(1)} s`);
      const t2 = performance.now();
      const again = await importGit(ctx, { repositories: repos, select: { kind: 'all' }, status: 'public' });
      const againMs = performance.now() - t2;
      if (again.built !== 0 || again.unchanged !== REPOS * TAGS)
        throw new Error(`unexpected re-run: ${JSON.stringify({ built: again.built, unchanged: again.unchanged })}`);
      log(`re-run: ${again.unchanged} unchanged in ${(againMs / 1000).toFixed(1)} s`);
      const n = REPOS * TAGS;
      const rows = [
        [
          'first run (--all-tags)',
          REPOS,
          n,
          first.built,
          (firstMs / 1000).toFixed(1),
          (firstMs / n).toFixed(0),
          ((cpu1.user + cpu1.system) / 1000 / n).toFixed(0),
        ],
        ['re-run (nothing new)', REPOS, n, again.built, (againMs / 1000).toFixed(1), (againMs / REPOS).toFixed(0) + ' per repository', '-'],
      ];
      const body = [
        runLine(),
        '',
        `${REPOS} local repositories, each an activity with ${TAGS} tagged versions, ${LANGS} PO files, a 32 KiB image and some code (about ${LANGS + 5} files); \`importGit\` (the body of \`aslo import-git --all-tags --status public\`) into a fresh embedded (PGlite) instance, in one process: per repository \`git ls-remote\`, then per tag buildFromGit (one git cat-file for the commit, trees and files; PO compiling; deflate; validation) and the ingest path (validation again, hashing, storage, rows, built_sources). The re-run lists each repository's tags and finds every commit in built_sources: nothing is fetched or built. Load average at the start ${load}; the machine is shared with other work.`,
        '',
        table(['run', 'repositories', 'tags', 'built', 'wall s', 'wall ms per tag', 'CPU ms per tag (this process)'], rows),
        '',
        `Reproduce: \`npx tsx bench/build/import-git.ts\` (options: \`--repos N\`, \`--no-write\`).`,
      ].join('\n');
      console.log(body);
      if (WRITE) writeSection('import-git', '## Importing repositories (bench/build/import-git.ts)', body);
    } finally {
      await ctx.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();

// `aslo import-git` on repositories the tests make: the chosen tags built and ingested in version
// order through the upload path, the built commits remembered (a re-run builds only what is new),
// HEAD for a repository without tags, refusals with codes, list files and folders of
// repositories, and the command's table and exit status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { createCliEnv, runCli, type CliEnv } from '../helpers/cli.js';
import { activityInfo, gitIn, makeRepo, writeFiles, TEST_ICON, type RepoFile } from '../helpers/git-repo.js';
import { expandSources, importGit, sortTags, legacyIdFromName } from '../../src/build/import.js';

let work = '';
let counter = 0;
const dir = (name: string) => join(work, `${++counter}`, name);

function files(bundleId: string, name: string, version: string): Record<string, RepoFile> {
  return {
    'activity/activity.info': activityInfo({ name, bundleId, version }),
    'activity/activity-test.svg': TEST_ICON,
    'main.py': `# version ${version}\n`,
    'setup.py': '#!/usr/bin/env python3\nfrom sugar3.activity import bundlebuilder\n\nbundlebuilder.start()\n',
  };
}

/** A repository with one commit and tag per version (tags made in the order given). */
function repoWithTags(path: string, bundleId: string, name: string, versions: string[], tagPrefix = 'v'): string[] {
  const commits: string[] = [];
  for (const [i, v] of versions.entries()) {
    const date = `2024-0${1 + i}-10T12:00:00Z`;
    if (i === 0) commits.push(makeRepo(path, files(bundleId, name, v), { date }));
    else {
      writeFiles(path, files(bundleId, name, v));
      gitIn(path, ['commit', '-q', '-am', `v${v}`], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
      commits.push(gitIn(path, ['rev-parse', 'HEAD']).trim());
    }
    gitIn(path, ['tag', '-a', '-m', v, `${tagPrefix}${v}`], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  }
  return commits;
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'aslo-import-git-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('tags sort by the version their name holds; <number>-activity names a legacy id', () => {
  assert.deepEqual(sortTags(['v10', 'v9', 'v9.1', 'release', 'v2']), ['release', 'v2', 'v9', 'v9.1', 'v10']);
  assert.equal(legacyIdFromName('https://github.com/sugarlabs-mirror/4027-activity.git'), 4027);
  assert.equal(legacyIdFromName('/srv/repos/4027-activity/'), 4027);
  assert.equal(legacyIdFromName('/srv/repos/paint-activity'), null);
});

describe('importGit against the catalog', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t?.cleanup();
  });

  const versionsOf = async (bundleId: string) =>
    (
      await t.ctx.db
        .selectFrom('versions')
        .innerJoin('activities', 'activities.id', 'versions.activity_id')
        .select(['versions.version', 'versions.id'])
        .where('activities.bundle_id', '=', bundleId)
        .orderBy('versions.id')
        .execute()
    ).map((v) => v.version);

  test('the newest tag by default; a re-run builds nothing; --all-tags adds the older tags in version order', async () => {
    const repo = dir('abacus-activity');
    const commits = repoWithTags(repo, 'org.test.ImportAbacus', 'Abacus', ['1', '2', '10']);
    const first = await importGit(t.ctx, { repositories: [repo], status: 'public' });
    assert.equal(first.built, 1, JSON.stringify(first.rows));
    assert.deepEqual(
      first.rows.map((r) => [r.ref, r.version, r.outcome]),
      [['v10', '10', 'built']],
    );
    assert.deepEqual(await versionsOf('org.test.ImportAbacus'), ['10']);

    const lines: string[] = [];
    const again = await importGit(t.ctx, { repositories: [repo], status: 'public', onProgress: (l) => lines.push(l) });
    assert.deepEqual([again.built, again.unchanged, again.refused], [0, 1, 0]);
    assert.ok(!lines.some((l) => l.includes('building')), lines.join('\n'));

    const all = await importGit(t.ctx, { repositories: [repo], select: { kind: 'all' }, status: 'public' });
    assert.deepEqual(
      all.rows.map((r) => [r.ref, r.outcome]),
      [
        ['v10', 'unchanged'],
        ['v1', 'built'],
        ['v2', 'built'],
      ],
    );
    // Ingested oldest first: version ids follow the version order.
    assert.deepEqual(await versionsOf('org.test.ImportAbacus'), ['10', '1', '2']);

    const sources = await t.ctx.db.selectFrom('built_sources').selectAll().where('repository', '=', repo).orderBy('tag').execute();
    assert.deepEqual(
      sources.map((s) => [s.tag, s.commit_sha]),
      [
        ['v1', commits[0]],
        ['v10', commits[2]],
        ['v2', commits[1]],
      ],
    );
    assert.ok(sources.every((s) => s.file_id !== null && s.builder === 'aslo-build/1'));

    // A new tag: only it is built.
    writeFiles(repo, files('org.test.ImportAbacus', 'Abacus', '11'));
    gitIn(repo, ['commit', '-q', '-am', 'v11']);
    gitIn(repo, ['tag', 'v11']);
    const next = await importGit(t.ctx, { repositories: [repo], select: { kind: 'all' }, status: 'public' });
    assert.deepEqual([next.built, next.unchanged, next.refused], [1, 3, 0]);
    assert.equal(next.rows.find((r) => r.outcome === 'built')!.version, '11');
  });

  test('--since-version picks the tags from that version on; HEAD is built when there are no tags', async () => {
    const repo = dir('since');
    repoWithTags(repo, 'org.test.ImportSince', 'Since', ['3', '4', '5'], 'release-');
    const r = await importGit(t.ctx, { repositories: [repo], select: { kind: 'since', version: '4' } });
    assert.deepEqual(
      r.rows.map((x) => [x.ref, x.outcome, x.fileStatus]),
      [
        ['release-4', 'built', 'sandbox'],
        ['release-5', 'built', 'sandbox'],
      ],
    );

    const bare = dir('untagged');
    const head = makeRepo(bare, files('org.test.ImportHead', 'Head', '7'));
    const h = await importGit(t.ctx, { repositories: [bare] });
    assert.deepEqual(
      h.rows.map((x) => [x.ref, x.commit, x.outcome, x.version]),
      [['HEAD', head, 'built', '7']],
    );
    const rec = await t.ctx.db.selectFrom('built_sources').select(['tag', 'commit_sha']).where('repository', '=', bare).execute();
    assert.deepEqual(rec, [{ tag: null, commit_sha: head }]);
  });

  test('a repository URL is listed with ls-remote, fetched shallow and recorded by its URL', async () => {
    const repo = dir('remote-activity');
    const commits = repoWithTags(repo, 'org.test.ImportRemote', 'Remote', ['1', '2']);
    const url = `file://${repo}`;
    const r = await importGit(t.ctx, { repositories: [url], select: { kind: 'all' } });
    assert.deepEqual(
      r.rows.map((x) => [x.ref, x.outcome]),
      [
        ['v1', 'built'],
        ['v2', 'built'],
      ],
    );
    const rec = await t.ctx.db.selectFrom('built_sources').select(['repository', 'commit_sha']).where('repository', '=', url).orderBy('tag').execute();
    assert.deepEqual(
      rec.map((x) => x.commit_sha),
      commits,
    );
    const again = await importGit(t.ctx, { repositories: [url], select: { kind: 'all' } });
    assert.equal(again.unchanged, 2);
    const gone = await importGit(t.ctx, { repositories: [`file://${join(work, 'nowhere')}`] });
    assert.deepEqual(
      gone.rows.map((x) => [x.outcome, x.codes]),
      [['refused', ['BUILD_GIT_UNREACHABLE']]],
    );
  });

  test('refusals carry codes and leave the catalog unchanged', async () => {
    const broken = dir('broken');
    makeRepo(broken, { ...files('org.test.ImportBroken', 'Broken', '1'), 'activity/activity.info': '[Activity]\nname = Broken\n' }, { tag: 'v1' });
    const older = dir('older');
    repoWithTags(older, 'org.test.ImportOlder', 'Older', ['5']);
    // A tag whose activity.info version is already in the catalog with other bytes.
    const clash = dir('clash');
    repoWithTags(clash, 'org.test.ImportOlder', 'Older', ['5']);
    writeFiles(clash, { 'extra.txt': 'different bytes\n' });
    const before = await t.ctx.db
      .selectFrom('versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const r = await importGit(t.ctx, { repositories: [broken, join(work, 'missing'), older] });
    assert.deepEqual(
      r.rows.map((x) => [x.outcome, x.codes]),
      [
        ['refused', ['BUILD_INFO_INVALID']],
        ['refused', ['BUILD_SOURCE_NOT_FOUND']],
        ['built', []],
      ],
    );
    gitIn(clash, ['add', '-A']);
    gitIn(clash, ['commit', '-q', '-m', 'extra']);
    gitIn(clash, ['tag', 'v5.0']);
    const c = await importGit(t.ctx, { repositories: [clash] });
    assert.deepEqual(
      c.rows.map((x) => [x.ref, x.outcome, x.codes]),
      [['v5.0', 'refused', ['INGEST_VERSION_EXISTS']]],
    );
    const after = await t.ctx.db
      .selectFrom('versions')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(after.n), Number(before.n) + 1);
    assert.equal((await t.ctx.db.selectFrom('built_sources').select('id').where('repository', '=', clash).execute()).length, 0);
  });

  test('legacy ids from --legacy-id or a <number>-activity name; old URLs lead to the activity; a taken id is refused', async () => {
    const named = dir('4100-activity');
    repoWithTags(named, 'org.test.ImportLegacy', 'Legacy', ['1']);
    let r = await importGit(t.ctx, { repositories: [named], status: 'public' });
    assert.equal(r.built, 1);
    const id = async (b: string) =>
      (await t.ctx.db.selectFrom('activities').select('legacy_id').where('bundle_id', '=', b).executeTakeFirstOrThrow()).legacy_id;
    assert.equal(await id('org.test.ImportLegacy'), 4100);
    const res = await t.app.inject({ method: 'GET', url: '/en/sugar/addon/4100' });
    assert.deepEqual([res.statusCode, res.headers.location], [301, '/en/activity/org.test.ImportLegacy']);

    const plain = dir('plain');
    repoWithTags(plain, 'org.test.ImportLegacy2', 'Legacy Two', ['1']);
    r = await importGit(t.ctx, { repositories: [plain], legacyId: 4100 });
    assert.deepEqual(
      r.rows.map((x) => [x.outcome, x.codes]),
      [['refused', ['IMPORT_LEGACY_ID_TAKEN']]],
    );
    r = await importGit(t.ctx, { repositories: [plain], legacyId: 4101 });
    assert.equal(r.built, 1);
    assert.equal(await id('org.test.ImportLegacy2'), 4101);
  });

  test('a list file (comments, relative paths) and a folder of repositories', () => {
    const folder = join(work, 'folder');
    makeRepo(join(folder, 'b-activity'), files('org.test.B', 'B', '1'));
    makeRepo(join(folder, 'a-activity'), files('org.test.A', 'A', '1'));
    writeFileSync(join(folder, 'notes.txt'), 'not a repository\n');
    assert.deepEqual(expandSources([folder]), [join(folder, 'a-activity'), join(folder, 'b-activity')]);
    const list = join(work, 'list.txt');
    writeFileSync(list, '# repositories\nfolder/a-activity\n\nhttps://example.org/x-activity.git  # remote\n');
    assert.deepEqual(expandSources([list]), [join(folder, 'a-activity'), 'https://example.org/x-activity.git']);
  });
});

describe('aslo import-git (the command)', () => {
  let env: CliEnv;
  before(async () => {
    env = await createCliEnv('aslo-import-git-cli-');
  });
  after(async () => {
    await env?.cleanup();
  });

  test('prints progress and a table; exit 1 when a repository is refused, 0 on a re-run of the good ones', async () => {
    const good = join(env.dir, '4027-activity');
    repoWithTags(good, 'org.test.ImportCli', 'Cli', ['1', '2']);
    const bad = join(env.dir, 'bad');
    makeRepo(bad, { README: 'no activity here\n' }, { tag: 'v1' });
    const list = join(env.dir, 'repos.txt');
    writeFileSync(list, '4027-activity\nbad\n');
    const r = await runCli(['import-git', list, '--all-tags', '--status', 'public'], env.env);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /\[1\/2\] .*4027-activity: building v1/);
    assert.match(r.stdout, /^repository\s+ref\s+version\s+outcome\s+codes$/m);
    assert.match(r.stdout, /4027-activity\s+v2\s+org\.test\.ImportCli 2\s+built \(public\)/);
    assert.match(r.stdout, /bad\s+v1\s+-\s+refused\s+BUILD_NO_INFO/);
    assert.match(r.stdout, /Summary: 2 built, 0 unchanged, 1 refused \(of 3\)\./);

    const again = await runCli(['import-git', good, '--all-tags'], env.env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Summary: 0 built, 2 unchanged, 0 refused/);

    const usage = await runCli(['import-git', good, bad, '--legacy-id', '12'], env.env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /one repository/);
    const both = await runCli(['import-git', good, '--all-tags', '--since-version', '2'], env.env);
    assert.equal(both.code, 2);
  });
});

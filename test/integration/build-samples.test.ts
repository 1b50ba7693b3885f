// The sample activities of a first start are built by the store's builder from git repositories
// made at start from the project's sample data (src/build/samples.ts): each version is a tagged
// commit, each bundle records its source, the activity page says "Built from ...", the PO files
// compile into the linfo files Sugar reads, and the same repositories give the same bytes on
// every run (the commits' dates and authors are fixed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildSampleBundle, loadSampleContent, loadSampleContentIfEmpty, sampleRepoName, sampleTag, writeSampleRepo } from '../../src/build/samples.js';
import { SAMPLE_ACTIVITIES } from '../../src/catalog/sample/activities.js';
import { buildFromGit, verifyBundle } from '../../src/build/index.js';
import { readZipRecords } from '../../src/build/zip.js';
import { inflateRawSync } from 'node:zlib';

describe('sample content built from git', () => {
  let t: TestApp;
  let work = '';
  const steps: string[] = [];
  let loaded = 0;

  before(async () => {
    t = await createTestApp();
    work = await mkdtemp(join(tmpdir(), 'aslo-samples-test-'));
    loaded = await loadSampleContentIfEmpty(t.ctx, (s) => steps.push(s));
  });
  after(async () => {
    await t?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('every sample version is built from a tag of its repository and ingested with its provenance', async () => {
    assert.equal(loaded, SAMPLE_ACTIVITIES.length);
    const versions = SAMPLE_ACTIVITIES.reduce((n, a) => n + a.versions.length, 0);
    assert.ok(steps[0]!.startsWith(`making ${SAMPLE_ACTIVITIES.length} sample git repositories`), steps[0]);
    assert.equal(steps.filter((s) => s.startsWith('building sample ')).length, versions);
    assert.ok(
      steps.includes(`building sample ${versions}/${versions}: ${SAMPLE_ACTIVITIES.at(-1)!.name} ${sampleTag(SAMPLE_ACTIVITIES.at(-1)!.versions.at(-1)!)}`),
    );
    const rows = await t.ctx.db
      .selectFrom('built_sources')
      .innerJoin('files', 'files.id', 'built_sources.file_id')
      .innerJoin('versions', 'versions.id', 'files.version_id')
      .innerJoin('activities', 'activities.id', 'versions.activity_id')
      .select(['activities.bundle_id', 'versions.version', 'built_sources.repository', 'built_sources.tag', 'built_sources.commit_sha', 'files.status'])
      .orderBy('built_sources.id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.bundle_id, r.version, r.tag, r.status]),
      SAMPLE_ACTIVITIES.flatMap((a) => a.versions.map((v) => [a.bundleId, v.version, sampleTag(v), 'public'])),
    );
    for (const a of SAMPLE_ACTIVITIES) {
      const repo = join(t.ctx.config.instanceDir, 'sample-sources', `${sampleRepoName(a)}.git`);
      assert.ok(existsSync(join(repo, 'HEAD')), `${repo} is a git repository`);
      assert.ok(rows.filter((r) => r.bundle_id === a.bundleId).every((r) => r.repository === repo && /^[0-9a-f]{40}$/.test(r.commit_sha)));
    }
    // The catalog is no longer empty: a second start loads nothing.
    assert.equal(await loadSampleContentIfEmpty(t.ctx), 0);
  });

  test('the activity page says "Built from" the sample repository at its tag', async () => {
    const a = SAMPLE_ACTIVITIES[0]!;
    const res = await t.app.inject({ method: 'GET', url: `/en/activity/${a.bundleId}` });
    assert.equal(res.statusCode, 200);
    assert.match(
      res.body,
      new RegExp(`Built from[\\s\\S]{0,400}${sampleRepoName(a)}\\.git[\\s\\S]{0,200}${sampleTag(a.versions.at(-1)!).replace('.', '\\.')}`),
    );
    assert.doesNotMatch(res.body, /Uploaded by the developer/);
  });

  test('a sample bundle: PO files compiled into .mo and linfo, source recorded, verified against its repository, same bytes on every machine', async () => {
    const a = SAMPLE_ACTIVITIES.find((x) => x.kind === 'activity' && Object.keys(x.translations).includes('ar'))!;
    const v = a.versions.at(-1)!;
    // The same repository written in two folders (two machines) gives the same commits and bytes.
    const built = [];
    for (const side of ['one', 'two']) {
      const repo = join(work, side, `${sampleRepoName(a)}.git`);
      await writeSampleRepo(a, repo);
      built.push(await buildFromGit({ source: repo, ref: sampleTag(v), outDir: join(work, side, 'out'), sourceUrl: 'https://git.example.org/samples/x.git' }));
    }
    assert.equal(built[0]!.source.commit, built[1]!.source.commit);
    assert.equal(built[0]!.sha256, built[1]!.sha256);
    // The bundle in the catalog is what the builder makes of its repository's tag, and --verify says so.
    const loadedRepo = join(t.ctx.config.instanceDir, 'sample-sources', `${sampleRepoName(a)}.git`);
    const rebuilt = await buildFromGit({ source: loadedRepo, ref: sampleTag(v), outDir: join(work, 'three') });
    const stored = await t.ctx.db
      .selectFrom('files')
      .innerJoin('versions', 'versions.id', 'files.version_id')
      .innerJoin('activities', 'activities.id', 'versions.activity_id')
      .select('files.sha256')
      .where('activities.bundle_id', '=', a.bundleId)
      .where('versions.version', '=', v.version)
      .executeTakeFirstOrThrow();
    assert.equal(stored.sha256, rebuilt.sha256);
    const verified = await verifyBundle(rebuilt.path);
    assert.equal(verified.match, true, JSON.stringify(verified));
    // A bundle for other uses (bench/cli): built the same way from a repository of its own.
    assert.match(await buildSampleBundle(a, v, join(work, 'four')), /\.xo$/);

    const bytes = await readFile(rebuilt.path);
    const entries = readZipRecords(bytes)!.map((r) => {
      const data = r.local.subarray(30 + r.local.readUInt16LE(26) + r.local.readUInt16LE(28));
      return { name: r.name, data: r.name.endsWith('/') ? null : inflateRawSync(data) };
    });
    const names = entries.map((e) => e.name);
    const root = `${a.folder}.activity`;
    for (const lang of Object.keys(a.translations)) {
      assert.ok(names.includes(`${root}/locale/${lang}/LC_MESSAGES/${a.bundleId}.mo`), `${lang} .mo`);
      const linfo = entries.find((e) => e.name === `${root}/locale/${lang}/activity.linfo`);
      assert.ok(linfo, `${lang} linfo`);
      assert.equal(linfo.data!.toString('utf8'), `[Activity]\nname = ${a.translations[lang]!.name}\nsummary = ${a.translations[lang]!.summary}\n`);
    }
    assert.ok(names.includes(`${root}/po/ar.po`) && names.includes(`${root}/setup.py`) && names.includes(`${root}/NEWS`));
    assert.equal(names.at(-1), `${root}/.aslo-source.json`);
  });

  test('loading again (aslo dev sample) rewrites the repositories and leaves present versions as they are', async () => {
    const before = await t.ctx.db.selectFrom('files').select(['id', 'sha256']).orderBy('id').execute();
    assert.equal(await loadSampleContent(t.ctx), SAMPLE_ACTIVITIES.length);
    const afterFiles = await t.ctx.db.selectFrom('files').select(['id', 'sha256']).orderBy('id').execute();
    assert.deepEqual(afterFiles, before, 'the same commits build the same bytes: nothing new');
    // The instance folder moved: the bundles record another path, the versions are left as they are.
    const moved = { ...t.ctx, config: { ...t.ctx.config, instanceDir: join(work, 'moved') } };
    const steps: string[] = [];
    assert.equal(await loadSampleContent(moved, (s) => steps.push(s)), SAMPLE_ACTIVITIES.length);
    assert.ok(steps.includes(`${SAMPLE_ACTIVITIES[0]!.name} ${SAMPLE_ACTIVITIES[0]!.versions[0]!.version} is already in the catalog: left as it is`));
    assert.deepEqual(await t.ctx.db.selectFrom('files').select(['id', 'sha256']).orderBy('id').execute(), before);
  });
});

describe('sample content without git', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => {
    await t?.cleanup();
  });

  test('a first start without git starts with an empty catalog and says why; aslo dev sample fails with the code', async () => {
    const path = process.env.PATH;
    const steps: string[] = [];
    process.env.PATH = join(tmpdir(), 'aslo-no-such-folder');
    try {
      assert.equal(await loadSampleContentIfEmpty(t.ctx, (s) => steps.push(s)), 0);
      await assert.rejects(loadSampleContent(t.ctx), (e: unknown) => (e as { code?: string }).code === 'BUILD_GIT_MISSING');
    } finally {
      process.env.PATH = path;
    }
    assert.match(steps.at(-1)!, /^no sample content: .*git cannot be run/);
    assert.equal((await t.ctx.db.selectFrom('activities').select('id').execute()).length, 0);
  });
});

// The public repo tree: a public import is published by a durable job into
// <repo>/<activity id>/<name>-<version>.xo (a real file, never a symlink) with a TRACE file; a
// disabled file leaves the tree; `aslo repo verify` finds every difference and --fix repairs it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, rm, writeFile, mkdir, symlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createPgDatabase, createTestApp, TEST_DATABASE, type TestApp } from '../helpers/env.js';
import { loadConfig } from '../../src/platform/config.js';
import { createContext } from '../../src/platform/context.js';
import { build } from '../../src/app.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { runCli } from '../helpers/cli.js';
import { createDownloadWorker, type DownloadWorker } from '../../src/downloads/worker.js';
import { onFileStatusChanged, repoUrlFor, verifyRepo, TRACE_FILE } from '../../src/downloads/repo.js';

describe('repo tree', () => {
  let t: TestApp;
  let worker: DownloadWorker;
  let dir: string;
  const ids: { fileId: number; activityId: number }[] = [];
  before(async () => {
    t = await createTestApp();
    worker = createDownloadWorker(t.ctx);
    dir = await tempDir();
    for (const [i, name] of ['Repo One', 'Repo Two'].entries()) {
      const path = await buildActivity(dir, { bundleId: `org.test.repo${i}`, name, version: '3' });
      const r = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' });
      assert.equal(r.outcome, 'imported');
      ids.push({ fileId: r.fileId!, activityId: r.activityId! });
    }
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const repo = () => t.config.storage.repoDir;
  const fileRow = (id: number) => t.ctx.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  const updateLink = async (bundleId: string) => {
    await t.app.services.updates.settled();
    const res = await t.app.inject({ url: `/services/update-aslo.php?id=${bundleId}&appVersion=0.116` });
    assert.equal(res.statusCode, 200);
    return /<em:updateLink>([^<]+)<\/em:updateLink>/.exec(res.body)?.[1];
  };

  it('publishes a public import through a job: a real file at <activity>/<name>, a trace file', async () => {
    // Until the job ran, the updater links to the store's own file URL...
    assert.doesNotMatch((await updateLink('org.test.repo0')) ?? '', /\/repo\//);
    assert.ok((await worker.runner.drain()) >= 2);
    // ...and to the repo tree as soon as the file is there (the publish announces the change).
    assert.equal(await updateLink('org.test.repo0'), repoUrlFor(t.config, await fileRow(ids[0]!.fileId)));
    for (const { fileId, activityId } of ids) {
      const f = await fileRow(fileId);
      assert.equal(f.repo_path, `${activityId}/${f.file_name}`);
      assert.ok(f.published_at);
      const st = await lstat(join(repo(), f.repo_path!));
      assert.ok(st.isFile() && !st.isSymbolicLink());
      assert.equal(st.size, Number(f.size));
      assert.deepEqual(await readFile(join(repo(), f.repo_path!)), await readFile(t.ctx.files.pathOf(f.storage_key)));
      assert.equal(repoUrlFor(t.config, f), `http://store.test/repo/${activityId}/${encodeURIComponent(f.file_name)}`);
    }
    const trace = await readFile(join(repo(), TRACE_FILE), 'utf8');
    assert.match(trace, /^\d{4}-\d\d-\d\dT/);
    assert.equal(
      (await readdir(join(repo(), String(ids[0]!.activityId)))).some((n) => n.includes('tmp')),
      false,
    );
    assert.deepEqual((await verifyRepo(t.ctx)).problems, []);
  });

  it('takes a disabled file out of the tree, and puts it back when public again', async () => {
    const { fileId } = ids[1]!;
    const before = await fileRow(fileId);
    await t.ctx.db.updateTable('files').set({ status: 'disabled', status_changed_at: new Date() }).where('id', '=', fileId).execute();
    await onFileStatusChanged(t.ctx, fileId);
    await worker.runner.drain();
    const off = await fileRow(fileId);
    assert.equal(off.repo_path, null);
    await assert.rejects(lstat(join(repo(), before.repo_path!)));
    await t.ctx.db.updateTable('files').set({ status: 'public', status_changed_at: new Date() }).where('id', '=', fileId).execute();
    await onFileStatusChanged(t.ctx, fileId);
    await worker.runner.drain();
    assert.equal((await fileRow(fileId)).repo_path, before.repo_path);
    assert.deepEqual((await verifyRepo(t.ctx)).problems, []);
  });

  it('aslo repo verify reports missing, wrong and extra files, and --fix repairs them', async () => {
    const a = await fileRow(ids[0]!.fileId);
    const b = await fileRow(ids[1]!.fileId);
    await rm(join(repo(), a.repo_path!));
    await writeFile(join(repo(), b.repo_path!), 'short');
    await mkdir(join(repo(), '999999'), { recursive: true });
    await writeFile(join(repo(), '999999', 'stray.xo'), 'x');
    await writeFile(join(repo(), 'README'), 'x');
    await symlink('/etc/passwd', join(repo(), String(ids[0]!.activityId), 'link.xo'));
    await t.ctx.db.updateTable('files').set({ repo_path: null }).where('id', '=', b.id).execute();
    // In process here; the command itself is tested below.
    const report = await verifyRepo(t.ctx);
    const kinds = report.problems.map((p) => `${p.kind}:${p.path}`).sort();
    assert.deepEqual(
      kinds,
      [
        `extra:${ids[0]!.activityId}/link.xo`,
        'extra:999999/stray.xo',
        'extra:README',
        `missing:${a.repo_path}`,
        `not-marked:${b.repo_path}`,
        `wrong-size:${b.repo_path}`,
      ].sort(),
    );
    const fixed = await verifyRepo(t.ctx, { fix: true, hooks: worker.hooks });
    assert.ok(fixed.fixed >= 5);
    assert.deepEqual((await verifyRepo(t.ctx, { deep: true })).problems, []);
    assert.equal((await fileRow(b.id)).repo_path, b.repo_path);
    await assert.rejects(lstat(join(repo(), '999999')));
  });
});

// The command opens the instance's database itself. An embedded PGlite database belongs to one
// process at a time, so the instance is built on disk (not in memory), filled, published and
// closed before the command runs on the same data folder; on PostgreSQL the same steps run
// against a database of its own. Both databases run this test.
describe("aslo repo verify (the command, on this run's database)", () => {
  let dataDir: string;
  let bundles: string;
  let cliEnv: Record<string, string>;
  let drop: (() => Promise<void>) | null = null;
  let repoPath: string;
  let repoDir: string;

  before(async () => {
    dataDir = await tempDir('aslo-repo-cli-');
    bundles = await tempDir();
    cliEnv = { ASLO_DATA_DIR: dataDir, ASLO_INSTANCE: 'repocli', ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_SERVER_BASE_URL: 'http://store.test' };
    if (TEST_DATABASE === 'postgres') {
      const pgdb = await createPgDatabase();
      cliEnv.ASLO_DATABASE_URL = pgdb.url;
      drop = pgdb.drop;
    }
    const config = loadConfig({ dataDir, instance: 'repocli', env: cliEnv, writeDefaults: true });
    assert.equal(config.database.url ? 'postgres' : 'pglite', TEST_DATABASE);
    if (!config.database.url) assert.notEqual(config.database.embeddedDir, ':memory:');
    const ctx = await createContext(config, { migrate: true, generateSecrets: true });
    const app = await build(config, { context: ctx });
    try {
      await app.ready();
      const r = await app.services.catalog.ingest.ingestPath(await buildActivity(bundles, { bundleId: 'org.test.repocli', name: 'Repo Cli', version: '1' }), {
        status: 'public',
      });
      assert.equal(r.outcome, 'imported');
      const worker = createDownloadWorker(ctx);
      assert.ok((await worker.runner.drain()) >= 1);
      const f = await ctx.db.selectFrom('files').select('repo_path').where('id', '=', r.fileId!).executeTakeFirstOrThrow();
      assert.ok(f.repo_path);
      repoPath = f.repo_path;
      repoDir = config.storage.repoDir;
    } finally {
      // Release the database (PGlite's files) before any other process opens it.
      await app.close();
      await ctx.close();
    }
  });
  after(async () => {
    await drop?.();
    await rm(dataDir, { recursive: true, force: true });
    await rm(bundles, { recursive: true, force: true });
  });

  it('exits 1 on a difference, repairs it with --fix and exits 0 once fixed', async () => {
    const r0 = await runCli(['repo', 'verify'], cliEnv);
    assert.equal(r0.code, 0, r0.stdout + r0.stderr);
    assert.match(r0.stdout, /no difference/);
    await rm(join(repoDir, repoPath));
    await writeFile(join(repoDir, 'stray.xo'), 'x');
    const r1 = await runCli(['repo', 'verify'], cliEnv);
    assert.equal(r1.code, 1, r1.stdout + r1.stderr);
    assert.match(r1.stdout, new RegExp(`missing\\s+${repoPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r1.stdout, /extra\s+stray\.xo/);
    const r2 = await runCli(['repo', 'verify', '--fix'], cliEnv);
    assert.equal(r2.code, 0, r2.stdout + r2.stderr);
    assert.match(r2.stdout, /repaired 2 differences/);
    // The file is back, byte for byte a real file, and the stray one is gone.
    assert.ok((await lstat(join(repoDir, repoPath))).isFile());
    await assert.rejects(lstat(join(repoDir, 'stray.xo')));
    const r3 = await runCli(['repo', 'verify', '--deep', '--json'], cliEnv);
    assert.equal(r3.code, 0, r3.stdout + r3.stderr);
    assert.deepEqual(JSON.parse(r3.stdout).problems, []);
  });
});

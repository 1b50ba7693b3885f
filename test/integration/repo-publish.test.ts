// The public repo tree: a public import is published by a durable job into
// <repo>/<activity id>/<name>-<version>.xo (a real file, never a symlink) with a TRACE file; a
// disabled file leaves the tree; `aslo repo verify` finds every difference and --fix repairs it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, readFile, rm, writeFile, mkdir, symlink, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
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

  it('publishes a public import through a job: a real file at <activity>/<name>, a trace file', async () => {
    assert.ok((await worker.runner.drain()) >= 2);
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
    assert.equal((await readdir(join(repo(), String(ids[0]!.activityId)))).some((n) => n.includes('tmp')), false);
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
    // The CLI opens the database itself: give it the same one (PostgreSQL) or check in-process (PGlite in memory).
    const report = await verifyRepo(t.ctx);
    const kinds = report.problems.map((p) => `${p.kind}:${p.path}`).sort();
    assert.deepEqual(kinds, [
      `extra:${ids[0]!.activityId}/link.xo`,
      'extra:999999/stray.xo',
      'extra:README',
      `missing:${a.repo_path}`,
      `not-marked:${b.repo_path}`,
      `wrong-size:${b.repo_path}`,
    ].sort());
    const fixed = await verifyRepo(t.ctx, { fix: true, hooks: worker.hooks });
    assert.ok(fixed.fixed >= 5);
    assert.deepEqual((await verifyRepo(t.ctx, { deep: true })).problems, []);
    assert.equal((await fileRow(b.id)).repo_path, b.repo_path);
    await assert.rejects(lstat(join(repo(), '999999')));
  });

  it('the aslo repo verify command exits 1 on a difference and 0 once fixed', { skip: !t_pgUrl() && 'the CLI needs a database of its own: runs on PostgreSQL' }, async () => {
    const env = { ASLO_DATA_DIR: t.dataDir, ASLO_INSTANCE: 'test', ASLO_DATABASE_URL: t.databaseUrl!, ASLO_STORAGE_REPO_DIR: repo(), ASLO_STORAGE_FILES_DIR: t.config.storage.filesDir };
    const f = await fileRow(ids[0]!.fileId);
    await rm(join(repo(), f.repo_path!));
    const r1 = await runCli(['repo', 'verify'], env);
    assert.equal(r1.code, 1, r1.stderr);
    assert.match(r1.stdout, new RegExp(`missing\\s+${f.repo_path}`));
    const r2 = await runCli(['repo', 'verify', '--fix'], env);
    assert.equal(r2.code, 0, r2.stderr);
    const r3 = await runCli(['repo', 'verify', '--json'], env);
    assert.equal(r3.code, 0, r3.stderr);
    assert.deepEqual(JSON.parse(r3.stdout).problems, []);
  });
});

function t_pgUrl(): boolean {
  return (process.env.ASLO_TEST_DATABASE ?? 'pglite') === 'postgres';
}

// aslo backup / aslo restore: back up, destroy, restore, and compare every table's rows (count
// and content hash) and every file's hash. Then instance copies (clone) with --anonymize.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { sql } from 'kysely';
import { createTestApp, createTestEnv, EMBEDDED_ONLY, type TestApp, type TestEnv } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { runCli } from '../helpers/cli.js';
import { backup, cloneInstance, databaseFingerprint, readManifest, restore } from '../../src/platform/backup/index.js';
import { createContext, type AppContext } from '../../src/platform/context.js';

const NO_MIGRATIONS = new Set(['aslo_migrations', 'aslo_migrations_lock']);

async function fileHashes(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (d === dir && e.name === 'tmp') continue;
        await walk(p);
      } else
        out.set(
          relative(dir, p),
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        );
    }
  };
  await walk(dir);
  return out;
}

async function seed(t: TestApp): Promise<void> {
  const dir = await tempDir();
  for (const [i, name] of ['Backup One', 'Backup Two', 'Backup Three'].entries()) {
    const path = await buildActivity(dir, {
      bundleId: `org.test.Backup${i}`,
      name,
      version: '1',
      summary: `${name} — résumé ✓`,
      tags: 'math,art',
      payload: 'x'.repeat(i * 1000),
    });
    const r = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' });
    assert.ok(['accepted', 'imported'].includes(r.outcome), JSON.stringify(r.errors));
  }
  await t.ctx.db
    .insertInto('users')
    .values({ email: 'alice@example.org', display_name: 'Alice Example', password_hash: 'x' } as never)
    .execute();
  await mkdir(join(t.config.storage.repoDir, 'activities', '1'), { recursive: true });
  await writeFile(join(t.config.storage.repoDir, 'activities', '1', 'backup-one-1.xo'), 'repo tree bytes');
}

describe('backup, destroy, restore', () => {
  let t: TestApp;
  let out: string;
  before(async () => {
    t = await createTestApp();
    await seed(t);
    out = await mkdtemp(join(tmpdir(), 'aslo-backup-'));
  });
  after(async () => {
    await t?.cleanup();
    await rm(out, { recursive: true, force: true });
  });

  it('gives back every row and every file', async () => {
    const rowsBefore = await databaseFingerprint(t.ctx.db, { exclude: NO_MIGRATIONS });
    const filesBefore = await fileHashes(t.config.storage.filesDir);
    const repoBefore = await fileHashes(t.config.storage.repoDir);
    assert.ok(filesBefore.size >= 3);
    assert.ok((rowsBefore.get('activities')?.rows ?? 0) >= 3);

    const progress: string[] = [];
    const dest = join(out, 'b1');
    const m = await backup(t.ctx, dest, (msg) => progress.push(msg));
    assert.ok(
      progress.some((p) => /files: \d+/.test(p)),
      'progress is reported',
    );
    assert.equal(m.files.filter((f) => f.store === 'files').length, filesBefore.size);
    assert.equal((await readManifest(dest)).database.tables.find((x) => x.name === 'activities')?.rows, rowsBefore.get('activities')?.rows);
    await assert.rejects(backup(t.ctx, dest), /already holds a backup/);

    // Destroy: every table emptied, every stored file gone.
    const tables = [...rowsBefore.keys()];
    await t.ctx.db.transaction().execute(async (trx) => {
      await sql`set local session_replication_role = replica`.execute(trx); // past the audit log's guard
      await sql`truncate ${sql.join(tables.map((x) => sql.id(x)))} restart identity cascade`.execute(trx);
    });
    await rm(t.config.storage.filesDir, { recursive: true, force: true });
    await rm(t.config.storage.repoDir, { recursive: true, force: true });
    const gone = await t.app.inject({ method: 'GET', url: '/api/v1/activities/org.test.Backup1' });
    assert.equal(gone.statusCode, 404);

    const r = await restore(t.ctx, dest, {}, () => {});
    assert.equal(r.files, m.files.length);
    const rowsAfter = await databaseFingerprint(t.ctx.db, { exclude: NO_MIGRATIONS });
    for (const [name, before] of rowsBefore) assert.deepEqual(rowsAfter.get(name), before, `table ${name}`);
    assert.deepEqual(await fileHashes(t.config.storage.filesDir), filesBefore);
    assert.deepEqual(await fileHashes(t.config.storage.repoDir), repoBefore);
    const back = await t.app.inject({ method: 'GET', url: '/api/v1/activities/org.test.Backup1' });
    assert.equal(back.statusCode, 200);
    assert.equal(back.json().name, 'Backup Two');
    // New rows get new ids (sequences moved past the restored ones).
    await t.ctx.db
      .insertInto('users')
      .values({ email: 'bob@example.org', display_name: 'Bob' } as never)
      .execute();

    await assert.rejects(restore(t.ctx, dest), /already has activities or users/);
  });

  it('refuses a damaged backup before changing anything', async () => {
    const dest = join(out, 'b2');
    const m = await backup(t.ctx, dest);
    const victim = m.files[0]!;
    await writeFile(join(dest, 'stores', victim.store, victim.path), 'tampered');
    const before = await databaseFingerprint(t.ctx.db, { exclude: NO_MIGRATIONS });
    await assert.rejects(restore(t.ctx, dest, { force: true }), /damaged/);
    assert.deepEqual(await databaseFingerprint(t.ctx.db, { exclude: NO_MIGRATIONS }), before);
  });
});

describe('instance clone', () => {
  let t: TestApp;
  let env2: TestEnv;
  let target: AppContext;
  before(async () => {
    t = await createTestApp();
    await seed(t);
    env2 = await createTestEnv({ instance: 'devel' });
    target = await createContext(env2.config, { migrate: true });
  });
  after(async () => {
    await target?.close();
    await env2?.cleanup();
    await t?.cleanup();
  });

  it('copies the database and the files, hard-linked, with personal data replaced', async () => {
    // Personal data beyond the users table: a session with its client address, the audit log
    // (its details name e-mail addresses and sign-in addresses), a mirror operator's contact.
    const alice = await t.ctx.db.selectFrom('users').select('id').where('email', '=', 'alice@example.org').executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('sessions')
      .values({
        id: 'sess-1',
        user_id: alice.id,
        created_at: new Date(),
        expires_at: new Date(Date.now() + 3600_000),
        last_seen_at: new Date(),
        address: '203.0.113.9',
        user_agent: 'Sugar',
      } as never)
      .execute();
    await t.ctx.db
      .insertInto('audit_log')
      .values({
        actor_user_id: alice.id,
        actor_label: 'user:1 alice@example.org',
        actor_address: '203.0.113.9',
        action: 'user.email_change',
        target_type: 'user',
        target_id: String(alice.id),
        details: JSON.stringify({ from: 'alice@example.org', to: 'alice.new@mail.example.org', address: '203.0.113.9', field: 'email' }),
      } as never)
      .execute();
    await t.ctx.db
      .insertInto('mirrors')
      .values({
        name: 'mirror.example.org',
        http_url: 'http://mirror.example.org/aslo/',
        operator: 'Example University',
        contact: 'admin@mirror.example.org',
        created_at: new Date(),
        updated_at: new Date(),
      } as never)
      .execute();

    const r = await cloneInstance(t.ctx, target, { anonymize: true });
    assert.ok(r.files >= 4);
    const src = await databaseFingerprint(t.ctx.db, { exclude: NO_MIGRATIONS });
    const dst = await databaseFingerprint(target.db, { exclude: NO_MIGRATIONS });
    for (const name of ['activities', 'versions', 'files', 'activity_texts']) assert.deepEqual(dst.get(name), src.get(name), name);
    assert.equal(dst.get('users')?.rows, src.get('users')?.rows);
    const users = await target.db.selectFrom('users').select(['email', 'display_name', 'password_hash']).execute();
    for (const u of users) {
      assert.match(u.email, /^user\d+@example\.invalid$/);
      assert.doesNotMatch(u.display_name ?? '', /Alice/);
      assert.equal(u.password_hash, null);
    }
    assert.equal((await target.db.selectFrom('sessions').selectAll().execute()).length, 0, 'sessions deleted');
    const audit = await target.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.email_change').execute();
    assert.equal(audit.length, 1);
    const a0 = audit[0]!;
    assert.equal(a0.actor_address, null);
    assert.doesNotMatch(`${a0.actor_label} ${JSON.stringify(a0.details)}`, /alice|203\.0\.113/);
    assert.equal((a0.details as Record<string, unknown>).field, 'email', 'the rest of the details stay');
    const mirror = await target.db.selectFrom('mirrors').select(['operator', 'contact']).executeTakeFirstOrThrow();
    assert.deepEqual(mirror, { operator: 'Example University', contact: null });
    // The source keeps everything.
    const srcAudit = await t.ctx.db.selectFrom('audit_log').select('details').where('action', '=', 'user.email_change').executeTakeFirstOrThrow();
    assert.match(JSON.stringify(srcAudit.details), /alice@example\.org/);
    const filesSrc = await fileHashes(t.config.storage.filesDir);
    assert.deepEqual(await fileHashes(env2.config.storage.filesDir), filesSrc);
    const [one] = [...filesSrc.keys()];
    const a = await stat(join(t.config.storage.filesDir, one!));
    const b = await stat(join(env2.config.storage.filesDir, one!));
    if (a.dev === b.dev) assert.equal(a.ino, b.ino, 'hard-linked on the same file system');
    await assert.rejects(cloneInstance(t.ctx, target), /already has activities or users/);
    await assert.rejects(cloneInstance(t.ctx, t.ctx), /onto itself/);
  });
});

describe('aslo backup and aslo restore commands', EMBEDDED_ONLY, () => {
  it('round-trips an embedded instance through the command line', async () => {
    const data = await mkdtemp(join(tmpdir(), 'aslo-backup-cli-'));
    try {
      const env = { ASLO_DATA_DIR: data, ASLO_DATABASE_URL: '', ASLO_SAMPLE_LOAD_ON_START: 'false' };
      const dir = await tempDir();
      const path = await buildActivity(dir, { bundleId: 'org.test.CliBackup', name: 'Cli Backup', version: '2' });
      const imp = await runCli(['import', path], env);
      assert.equal(imp.code, 0, imp.stderr);
      const out = join(data, 'the-backup');
      const b = await runCli(['backup', '--out', out], env);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /Done in .* \d+ tables, \d+ rows, [1-9]\d* files/);
      const r = await runCli(['--instance', 'restored', 'restore', out], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Done in/);
      const c = await runCli(['instance', 'clone', 'restored', 'copy', '--anonymize'], env);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /personal data replaced/);
      const again = await runCli(['--instance', 'restored', 'restore', out], env);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /RESTORE_NOT_EMPTY/);
    } finally {
      await rm(data, { recursive: true, force: true });
    }
  });
});

// The ingest service and the read API, against the real app and the selected database.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';

async function storedFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(join(d, e.name));
    }
  };
  await walk(root);
  return out;
}

describe('ingest and catalog read API', () => {
  let t: TestApp;
  let dir: string;

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
  });
  after(async () => {
    await t?.cleanup();
  });

  const ingest = (path: string, opts: Parameters<TestApp['app']['services']['catalog']['ingest']['ingestPath']>[1] = {}) =>
    t.app.services.catalog.ingest.ingestPath(path, { status: 'public', ...opts });

  it('imports a bundle with its metadata, locales and hashes', async () => {
    const path = await buildActivity(dir, {
      bundleId: 'org.test.Abacus',
      name: 'Abacus Test',
      version: '12',
      summary: 'Count with beads',
      tags: 'Math;Numbers',
      license: 'GPLv3+',
      locales: { es: { name: 'Ábaco', summary: 'Cuenta con cuentas' }, pt_BR: { name: 'Ábaco BR' } },
    });
    const res = await ingest(path);
    assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
    assert.equal(res.bundleId, 'org.test.Abacus');
    assert.match(res.sha256!, /^[0-9a-f]{64}$/);

    const list = await t.app.inject({ url: '/api/v1/activities' });
    assert.equal(list.statusCode, 200);
    const body = list.json();
    assert.equal(body.total, 1);
    assert.equal(body.items[0].bundle_id, 'org.test.Abacus');
    assert.equal(body.items[0].name, 'Abacus Test');
    assert.equal(body.items[0].current_version, '12');
    assert.equal(body.items[0].runtime, 'python3');
    assert.deepEqual(body.items[0].tags.sort(), ['Math', 'Numbers']);

    const es = await t.app.inject({ url: '/api/v1/activities/org.test.Abacus', headers: { 'accept-language': 'es-UY,es;q=0.8' } });
    assert.equal(es.statusCode, 200);
    assert.equal(es.json().name, 'Ábaco');
    assert.equal(es.json().summary, 'Cuenta con cuentas');
    const pt = await t.app.inject({ url: '/api/v1/activities/org.test.Abacus?lang=pt-BR' });
    assert.equal(pt.json().name, 'Ábaco BR');
    // pt-BR has no summary: the activity.info text is the fallback
    assert.equal(pt.json().summary, 'Count with beads');
    const fr = await t.app.inject({ url: '/api/v1/activities/org.test.Abacus?lang=fr' });
    assert.equal(fr.json().name, 'Abacus Test');
    assert.deepEqual(es.json().current.licenses, ['GPLv3+']);
    assert.deepEqual(es.json().current.sugar, { min: '0.116', max: null, origin: 'runtime' });

    const file = es.json().current.files[0];
    assert.equal(file.sha256, res.sha256);
    const meta = await t.app.inject({ url: `/api/v1/files/${file.id}` });
    assert.equal(meta.statusCode, 200);
    assert.equal(meta.json().sha256, res.sha256);
    assert.equal(meta.json().pieces, Math.ceil(meta.json().size / (256 * 1024)));
    assert.match(file.download_url, /\.xo$/);

    const dl = await t.app.inject({ url: new URL(file.download_url).pathname });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.headers['content-type'], 'application/vnd.olpc-sugar');
    assert.equal(Number(dl.headers['content-length']), file.size);
    const { readFile } = await import('node:fs/promises');
    assert.deepEqual(dl.rawPayload, await readFile(path));
    const ranged = await t.app.inject({ url: new URL(file.download_url).pathname, headers: { range: 'bytes=0-9' } });
    assert.equal(ranged.statusCode, 206);
    assert.equal(ranged.rawPayload.length, 10);

    const icon = await t.app.inject({ url: '/api/v1/activities/org.test.Abacus/icon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.doesNotMatch(icon.body, /&stroke_color;|&fill_color;/);
  });

  it('treats re-importing the same file as a no-op', async () => {
    const path = await buildActivity(dir, { bundleId: 'org.test.Same', name: 'Same', version: '1' });
    assert.equal((await ingest(path)).outcome, 'imported');
    const before = await t.ctx.db
      .selectFrom('files')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const again = await ingest(path);
    assert.equal(again.outcome, 'unchanged');
    const afterCount = await t.ctx.db
      .selectFrom('files')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(afterCount.n), Number(before.n));
  });

  it('rejects a different file with the same normalized version, and keeps the first', async () => {
    const first = await buildActivity(dir, { bundleId: 'org.test.Clash', name: 'Clash', version: '2', payload: 'a' });
    const second = await buildActivity(dir, { bundleId: 'org.test.Clash', name: 'Clash', version: '2.0', payload: 'b' });
    const r1 = await ingest(first);
    assert.equal(r1.outcome, 'imported');
    const r2 = await ingest(second);
    assert.equal(r2.outcome, 'rejected');
    assert.equal(r2.errors[0]!.code, 'INGEST_VERSION_EXISTS');
    assert.equal(await t.ctx.files.has(r2.sha256!), false, 'the rejected file is not stored');
    const versions = (await t.app.inject({ url: '/api/v1/activities/org.test.Clash/versions' })).json().versions;
    assert.equal(versions.length, 1);
    assert.equal(versions[0].files[0].sha256, r1.sha256);
  });

  it('orders versions the way Sugar does, not as decimals', async () => {
    for (const v of ['1.9', '1.10', '1.2.3', '2', '1.10.1-peru']) {
      const r = await ingest(await buildActivity(dir, { bundleId: 'org.test.Order', name: 'Order', version: v, payload: v }));
      assert.equal(r.outcome, 'imported', `${v}: ${JSON.stringify(r.errors)}`);
    }
    const versions = (await t.app.inject({ url: '/api/v1/activities/org.test.Order/versions' })).json().versions.map((v: { version: string }) => v.version);
    assert.deepEqual(versions, ['2', '1.10.1-peru', '1.10', '1.9', '1.2.3']);
    const one = await t.app.inject({ url: '/api/v1/activities/org.test.Order/versions/1.10' });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().version, '1.10');
  });

  it('rejects broken bundles with a code and stores nothing', async () => {
    const before = (await storedFiles(t.config.storage.filesDir)).filter((f) => !f.includes('/tmp/'));
    const rows = await t.ctx.db
      .selectFrom('versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const notZip = join(dir, 'broken.xo');
    await writeFile(notZip, 'this is not a zip file at all');
    const r = await ingest(notZip);
    assert.equal(r.outcome, 'rejected');
    assert.match(r.errors[0]!.code, /^BUNDLE_/);
    const bad = await buildActivity(dir, { bundleId: 'org.test.Bad', name: 'Bad', version: '1.02' });
    const r2 = await ingest(bad);
    assert.equal(r2.outcome, 'rejected');
    const afterFiles = (await storedFiles(t.config.storage.filesDir)).filter((f) => !f.includes('/tmp/'));
    assert.deepEqual(afterFiles.sort(), before.sort());
    assert.deepEqual(await storedFiles(join(t.config.storage.filesDir, 'tmp')), []);
    const rows2 = await t.ctx.db
      .selectFrom('versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(rows2.n), Number(rows.n));
  });

  it('leaves no rows and no file when the database write fails midway', async () => {
    const path = await buildActivity(dir, { bundleId: 'org.test.Fail', name: 'Fail', version: '1' });
    // A check constraint that refuses this one file name makes the files insert fail inside the
    // transaction, after the activity and version rows were written.
    const { sql } = await import('kysely');
    await sql`alter table files add constraint test_refuse check (file_name not like 'fail-%')`.execute(t.ctx.db);
    try {
      await assert.rejects(ingest(path));
    } finally {
      await sql`alter table files drop constraint test_refuse`.execute(t.ctx.db);
    }
    const act = await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.Fail').executeTakeFirst();
    assert.equal(act, undefined);
    assert.deepEqual(await storedFiles(join(t.config.storage.filesDir, 'tmp')), []);
    const ok = await ingest(path);
    assert.equal(ok.outcome, 'imported');
  });

  it('removes the stored file when COMMIT refuses the transaction', async () => {
    const path = await buildActivity(dir, { bundleId: 'org.test.CommitRefused', name: 'Commit Refused', version: '1' });
    // A deferred constraint trigger fails at COMMIT, after the file was moved into place.
    const { sql } = await import('kysely');
    await sql`create function test_refuse_at_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`.execute(
      t.ctx.db,
    );
    await sql`create constraint trigger test_refuse_at_commit after insert on versions deferrable initially deferred for each row execute function test_refuse_at_commit()`.execute(
      t.ctx.db,
    );
    try {
      await assert.rejects(ingest(path), /refused at commit/);
    } finally {
      await sql`drop trigger test_refuse_at_commit on versions`.execute(t.ctx.db);
      await sql`drop function test_refuse_at_commit()`.execute(t.ctx.db);
    }
    const { createHash } = await import('node:crypto');
    const { readFile } = await import('node:fs/promises');
    const sha256 = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
    assert.equal(await t.ctx.db.selectFrom('files').select('id').where('sha256', '=', sha256).executeTakeFirst(), undefined);
    assert.equal(await t.ctx.files.has(sha256), false, 'no stored file without its row');
  });

  it('keeps the stored file when COMMIT reports an error although it committed (the outcome was unknown)', async () => {
    const path = await buildActivity(dir, { bundleId: 'org.test.CommitLost', name: 'Commit Lost', version: '1' });
    // The connection drops just after the server committed: the client sees an error.
    const db = t.ctx.db as unknown as { transaction: () => { execute<T>(fn: (trx: unknown) => Promise<T>): Promise<T> } };
    const real = db.transaction.bind(db);
    let first = true;
    db.transaction = () => {
      const builder = real();
      if (!first) return builder;
      first = false;
      return {
        async execute<T>(fn: (trx: unknown) => Promise<T>): Promise<T> {
          await builder.execute(fn);
          throw new Error('Connection terminated unexpectedly');
        },
      };
    };
    try {
      await assert.rejects(ingest(path), /Connection terminated/);
    } finally {
      delete (db as { transaction?: unknown }).transaction;
    }
    const row = await t.ctx.db
      .selectFrom('files')
      .innerJoin('versions', 'versions.id', 'files.version_id')
      .innerJoin('activities', 'activities.id', 'versions.activity_id')
      .select(['files.id', 'files.sha256'])
      .where('activities.bundle_id', '=', 'org.test.CommitLost')
      .executeTakeFirst();
    assert.ok(row, 'the transaction committed');
    assert.equal(await t.ctx.files.has(row.sha256), true, 'its file is still stored');
    const again = await ingest(path);
    assert.equal(again.outcome, 'unchanged');
    const dl = await t.app.inject({ url: `/api/v1/files/${row.id}` });
    assert.equal(dl.statusCode, 200);
  });

  it('filters by tag, runtime, Sugar version and text; paginates', async () => {
    await ingest(await buildActivity(dir, { bundleId: 'org.test.Old', name: 'Old Python', version: '5', exec: 'sugar-activity old.Old', tags: 'Games' }));
    await ingest(
      await buildActivity(dir, {
        bundleId: 'org.test.Web',
        name: 'Web Thing',
        version: '1',
        exec: 'sugar-activity-web',
        tags: 'Games',
        summary: 'A browser game',
      }),
    );
    const get = async (qs: string) => (await t.app.inject({ url: `/api/v1/activities?${qs}` })).json();
    const games = await get('tag=games');
    assert.deepEqual(games.items.map((i: { bundle_id: string }) => i.bundle_id).sort(), ['org.test.Old', 'org.test.Web']);
    const web = await get('runtime=web');
    assert.deepEqual(
      web.items.map((i: { bundle_id: string }) => i.bundle_id),
      ['org.test.Web'],
    );
    // Python 2 is offered to Sugar 0.112 but not to 0.118; Python 3 the other way round.
    const s112 = (await get('sugar=0.112&per_page=100')).items.map((i: { bundle_id: string }) => i.bundle_id);
    assert.ok(s112.includes('org.test.Old'));
    assert.ok(!s112.includes('org.test.Abacus'));
    const s118 = (await get('sugar=0.118&per_page=100')).items.map((i: { bundle_id: string }) => i.bundle_id);
    assert.ok(!s118.includes('org.test.Old'));
    assert.ok(s118.includes('org.test.Abacus'));
    const text = await get('q=browser');
    assert.deepEqual(
      text.items.map((i: { bundle_id: string }) => i.bundle_id),
      ['org.test.Web'],
    );
    const p1 = await get('per_page=2&page=1&sort=name');
    const p2 = await get('per_page=2&page=2&sort=name');
    assert.equal(p1.items.length, 2);
    assert.equal(p1.total, p2.total);
    assert.notDeepEqual(p1.items[0].bundle_id, p2.items[0].bundle_id);
  });

  it('sorts a search by relevance when asked (sort=relevance with q)', async () => {
    await ingest(await buildActivity(dir, { bundleId: 'org.test.KiteFlyer', name: 'Kite Flyer', version: '1', summary: 'Steer in the wind' }));
    await ingest(await buildActivity(dir, { bundleId: 'org.test.WindyDay', name: 'Windy Day', version: '1', summary: 'Watch a kite over the hills' }));
    // The summary match is the more recently published and the more downloaded: only relevance
    // puts the name match first.
    await t.ctx.db
      .updateTable('activities')
      .set({ last_published_at: new Date('2020-01-01T00:00:00Z'), download_count: 1 })
      .where('bundle_id', '=', 'org.test.KiteFlyer')
      .execute();
    await t.ctx.db
      .updateTable('activities')
      .set({ last_published_at: new Date('2024-01-01T00:00:00Z'), download_count: 50 })
      .where('bundle_id', '=', 'org.test.WindyDay')
      .execute();
    await t.ctx.cache.invalidate('catalog');
    const ids = async (qs: string) => {
      const r = await t.app.inject({ url: `/api/v1/activities?${qs}` });
      assert.equal(r.statusCode, 200, `${qs}: ${r.body}`);
      return (r.json().items as { bundle_id: string }[]).map((i) => i.bundle_id);
    };
    assert.deepEqual(await ids('q=kite&sort=relevance'), ['org.test.KiteFlyer', 'org.test.WindyDay']);
    assert.deepEqual(await ids('q=kite&sort=updated'), ['org.test.WindyDay', 'org.test.KiteFlyer']);
    assert.deepEqual(await ids('q=kite&sort=popular'), ['org.test.WindyDay', 'org.test.KiteFlyer']);
    // Without words, relevance falls back to downloads.
    const all = await ids('sort=relevance&per_page=100');
    assert.ok(all.indexOf('org.test.WindyDay') < all.indexOf('org.test.KiteFlyer'));
    const doc = (await t.app.inject({ url: '/api/docs/json' })).json();
    const sort = doc.paths['/api/v1/activities'].get.parameters.find((p: { name: string }) => p.name === 'sort');
    assert.ok(sort.schema.enum.includes('relevance'));
  });

  it('answers bad parameters and unknown ids with JSON errors and codes', async () => {
    for (const qs of ['per_page=1000', 'page=0', 'runtime=java', 'sugar=banana', 'sort=random']) {
      const r = await t.app.inject({ url: `/api/v1/activities?${qs}` });
      assert.equal(r.statusCode, 400, qs);
      assert.ok(r.json().error.code, qs);
    }
    const missing = await t.app.inject({ url: '/api/v1/activities/org.nowhere.Nothing' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'ACTIVITY_NOT_FOUND');
    const noFile = await t.app.inject({ url: '/api/v1/files/999999' });
    assert.equal(noFile.statusCode, 404);
    // A path id that is not a file id (not a number, or out of range) names no file: 404.
    for (const id of ['abc', '-1', '99999999999999999999']) {
      const badFile = await t.app.inject({ url: `/api/v1/files/${id}` });
      assert.equal(badFile.statusCode, 404, id);
      assert.ok(badFile.json().error.code, id);
    }
  });

  it('hides sandbox activities from the public API', async () => {
    const r = await ingest(await buildActivity(dir, { bundleId: 'org.test.Sandboxed', name: 'Sandboxed', version: '1' }), { status: 'sandbox' });
    assert.equal(r.outcome, 'imported');
    assert.equal(r.fileStatus, 'sandbox');
    assert.equal((await t.app.inject({ url: '/api/v1/activities/org.test.Sandboxed' })).statusCode, 404);
    assert.equal((await t.app.inject({ url: `/api/v1/files/${r.fileId}` })).statusCode, 404);
  });

  it('serves an OpenAPI document and the browsable docs', async () => {
    const doc = await t.app.inject({ url: '/api/docs/json' });
    assert.equal(doc.statusCode, 200);
    assert.ok(doc.json().paths['/api/v1/activities']);
    const ui = await t.app.inject({ url: '/api/docs/' });
    assert.equal(ui.statusCode, 200);
    const health = await t.app.inject({ url: '/healthz' });
    assert.deepEqual(health.json(), { status: 'ok' });
  });
});

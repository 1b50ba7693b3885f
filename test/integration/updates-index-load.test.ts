// The update index reads the whole catalog at start in one JSON document per table (activities,
// versions with their files, texts, change rows: src/updates/update-index.ts); a patch reads
// some activities as rows. Both must build the same activities, whatever the release notes hold
// (the full read sends a mark instead of notes with a visible ASCII character), and the same
// change rows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person } from '../helpers/people.js';
import { runtimeRangesFromConfig } from '../../src/catalog/compat.js';
import { UpdateIndex, type IxActivity } from '../../src/updates/update-index.js';

describe('update index: a full load and a load by ids agree', () => {
  let t: TestApp;
  let dir: string;

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    const author = await person(t.app, { prefix: 'loader' });
    for (const [bundleId, versions] of [
      ['org.test.load.One', ['1', '2', '3']],
      ['org.test.load.Two', ['1', '2']],
    ] as const) {
      for (const version of versions) {
        const data = await readFile(await buildActivity(dir, { bundleId, name: `Load ${bundleId.slice(-3)}`, version }));
        const res = await apiUpload(t.app, author.token, data, `${bundleId}-${version}.xo`);
        assert.ok(res.statusCode < 300, res.body);
      }
    }
  });

  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('with notes that are absent, empty, blank, non-ASCII blank, non-ASCII text or plain text', async () => {
    const notes = [null, '', '  \n\t ', '\u00a0\u2003\ufeff', 'é', '  changes  ', 'Fixed: "quotes", \\ and \u0001'];
    const ids = (await t.ctx.db.selectFrom('versions').select('id').orderBy('id').execute()).map((r) => r.id);
    assert.ok(ids.length >= 5);
    for (const [i, id] of ids.entries()) {
      await t.ctx.db
        .updateTable('versions')
        .set({ release_notes: notes[i % notes.length]! })
        .where('id', '=', id)
        .execute();
    }
    const index = new UpdateIndex(t.ctx.db, runtimeRangesFromConfig(t.config.updates.runtimeRanges), { updateLink: () => '', updateInfoUrl: () => null });
    const load = (activityIds: number[] | null) => (index as unknown as { load(ids: number[] | null): Promise<IxActivity[]> }).load(activityIds);
    const full = await load(null);
    assert.ok(full.length >= 2);
    const byIds = new Map((await load(full.map((a) => a.id))).map((a) => [a.id, a]));
    for (const a of full) assert.deepStrictEqual(a, byIds.get(a.id));
    const changes = (activityBundles: string[] | null) =>
      (index as unknown as { loadChanges(b: string[] | null): Promise<unknown[]> }).loadChanges(activityBundles);
    const allChanges = await changes(null);
    assert.ok(allChanges.length >= 2);
    const bundles = (await t.ctx.db.selectFrom('catalog_changes').select('bundle_id').execute()).map((r) => r.bundle_id);
    const key = (c: unknown) => (c as { bundleId: string }).bundleId;
    assert.deepStrictEqual(
      [...allChanges].sort((x, y) => key(x).localeCompare(key(y))),
      [...(await changes(bundles))].sort((x, y) => key(x).localeCompare(key(y))),
    );
    const versions = full.flatMap((a) => a.exp);
    assert.ok(versions.some((v) => v.hasNotes) && versions.some((v) => !v.hasNotes));
  });
});

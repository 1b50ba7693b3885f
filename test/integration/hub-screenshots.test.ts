// Screenshots in the store's content-addressed file store: deleting one removes its stored file
// once the row is gone, unless another screenshot still uses the same bytes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';

describe('screenshot files', () => {
  let t: TestApp;
  let dir: string;
  let dev: Person;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    dev = await person(t.app);
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const newActivity = async (bundleId: string) => {
    const data = await readFile(await buildActivity(dir, { bundleId, name: `Shots ${bundleId.split('.').pop()}`, version: '1' }));
    const res = await apiUpload(t.app, dev.token, data, `${bundleId}.xo`);
    assert.equal(res.statusCode, 201, res.body);
    return (await t.app.publishing.activityByBundleId(bundleId)).id;
  };
  const image = (background: string) =>
    sharp({ create: { width: 400, height: 300, channels: 3, background } })
      .png()
      .toBuffer();
  const keyOf = async (id: number) =>
    (await t.ctx.db.selectFrom('screenshots').select('storage_key').where('id', '=', id).executeTakeFirstOrThrow()).storage_key;

  it('removes the stored file of a deleted screenshot (through the hub form)', async () => {
    const a = await newActivity('org.test.shots.One');
    const id = await t.app.listing.addScreenshot(dev.actor, a, Readable.from([await image('#336699')]), 'one');
    const key = await keyOf(id);
    assert.equal(await t.ctx.files.has(key), true);
    await dev.browser.get(`/developers/activities/${a}`);
    const res = await dev.browser.post(`/developers/activities/${a}/screenshots/${id}/delete`, {});
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(await t.ctx.db.selectFrom('screenshots').select('id').where('id', '=', id).executeTakeFirst(), undefined);
    assert.equal(await t.ctx.files.has(key), false);
    assert.equal((await dev.browser.get(`/screenshots/${id}`)).statusCode, 404);
  });

  it('keeps the stored file while another screenshot uses the same bytes', async () => {
    const a = await newActivity('org.test.shots.Two');
    const b = await newActivity('org.test.shots.Three');
    const png = await image('#993366');
    const first = await t.app.listing.addScreenshot(dev.actor, a, Readable.from([png]), null);
    const second = await t.app.listing.addScreenshot(dev.actor, b, Readable.from([png]), null);
    const key = await keyOf(first);
    assert.equal(await keyOf(second), key, 'same bytes, same storage key');

    await t.app.listing.deleteScreenshot(dev.actor, a, first);
    assert.equal(await t.ctx.files.has(key), true, 'still used by the other activity');
    assert.equal((await dev.browser.get(`/screenshots/${second}`)).statusCode, 200);

    await t.app.listing.deleteScreenshot(dev.actor, b, second);
    assert.equal(await t.ctx.files.has(key), false);

    // The same bytes can come back afterwards.
    const again = await t.app.listing.addScreenshot(dev.actor, a, Readable.from([png]), null);
    assert.equal(await keyOf(again), key);
    assert.equal(await t.ctx.files.has(key), true);
    assert.equal((await dev.browser.get(`/screenshots/${again}`)).statusCode, 200);
  });

  it('removes nothing when the screenshot is not found or the deletion is refused', async () => {
    const a = await newActivity('org.test.shots.Four');
    const id = await t.app.listing.addScreenshot(dev.actor, a, Readable.from([await image('#669933')]), null);
    const key = await keyOf(id);
    const other = await person(t.app);
    await assert.rejects(t.app.listing.deleteScreenshot(other.actor, a, id), (e: Error & { code?: string }) => e.code === 'FORBIDDEN_NOT_AUTHOR');
    const elsewhere = await newActivity('org.test.shots.Five');
    await assert.rejects(t.app.listing.deleteScreenshot(dev.actor, elsewhere, id), (e: Error & { code?: string }) => e.code === 'SCREENSHOT_NOT_FOUND');
    assert.equal(await t.ctx.files.has(key), true);
  });
});

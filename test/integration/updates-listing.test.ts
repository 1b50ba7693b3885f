// A Sugar range edited in the developer hub changes what the updater offers, at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import type { Actor } from '../../src/accounts/access.js';

describe('listing edits reach the updater', () => {
  let t: TestApp;
  let admin: Actor;
  before(async () => {
    t = await createTestApp();
    const u = await t.ctx.db
      .insertInto('users')
      .values({ email: 'admin@example.org', display_name: 'Admin', role: 'admin', created_at: new Date(), updated_at: new Date() })
      .returning('id')
      .executeTakeFirstOrThrow();
    admin = {
      userId: u.id,
      email: 'admin@example.org',
      displayName: 'Admin',
      role: 'admin',
      emailVerified: true,
      via: 'cli',
      scopes: null,
      address: '127.0.0.1',
    } as Actor;
  });
  after(async () => t?.cleanup());

  const offered = async (sugar: string) => {
    const r = await t.app.inject({ url: `/services/update-aslo.php?id=org.test.Range&appVersion=${sugar}` });
    assert.equal(r.statusCode, 200);
    return /<em:version>([^<]+)<\/em:version>/.exec(r.body)?.[1] ?? null;
  };

  it('narrowing a version range stops offering it to laptops outside it', async () => {
    const dir = await tempDir();
    const res = await t.app.services.catalog.ingest.ingestPath(await buildActivity(dir, { bundleId: 'org.test.Range', name: 'Range', version: '5' }), {
      status: 'public',
    });
    assert.equal(res.outcome, 'imported');
    assert.equal(await offered('0.118'), '5');
    assert.equal(await offered('0.122'), '5');
    await t.app.listing.updateVersion(admin, res.activityId!, res.versionId!, { sugar_min: '0.116', sugar_max: '0.118' });
    assert.equal(await offered('0.118'), '5');
    assert.equal(await offered('0.122'), null, 'a Sugar above the new maximum is no longer offered this version');
  });
});

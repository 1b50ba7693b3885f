// Two instances on one PostgreSQL server never see each other's data.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { createPgDatabase } from '../helpers/env.js';
import { buildActivity } from '../helpers/activities.js';
import { loadConfig } from '../../src/platform/config.js';
import { createContext } from '../../src/platform/context.js';
import { build } from '../../src/app.js';

describe('instances', () => {
  let dir: string;
  const dbs: { url: string; drop(): Promise<void> }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aslo-instances-'));
    dbs.push(await createPgDatabase('aslo_inst'), await createPgDatabase('aslo_inst'));
  });
  after(async () => {
    // Cleanup never decides the test: a drop or removal that fails is reported, not thrown.
    for (const d of dbs) await d.drop().catch((err) => console.error('instances: could not drop a test database:', err));
    await rm(dir, { recursive: true, force: true, maxRetries: 5 }).catch((err) => console.error('instances: could not remove', dir, err));
  });

  it('keep databases, files, cache prefixes and base URLs apart on one PostgreSQL server', async () => {
    const data = join(dir, 'data');
    const env = { ASLO_DATA_DIR: data };
    for (const [name, db, port] of [
      ['production', dbs[0]!, 8301],
      ['devel', dbs[1]!, 8302],
    ] as const) {
      const r = await runCli(['instance', 'create', name, '--database-url', db.url, '--port', String(port), '--base-url', `http://${name}.test`], env);
      assert.equal(r.code, 0, r.stderr);
    }
    const bundle = await buildActivity(dir, { bundleId: 'org.test.OnlyInProduction', name: 'Only Production', version: '1' });
    const imp = await runCli(['--instance', 'production', 'import', '--status', 'public', bundle], env);
    assert.equal(imp.code, 0, imp.stdout + imp.stderr);
    const viaEnv = await runCli(['import', '--status', 'public', bundle], { ...env, ASLO_INSTANCE: 'devel' });
    assert.equal(viaEnv.code, 0);
    assert.match(viaEnv.stdout, /1 imported/, 'devel does not know the production file, so it imports it');

    const prodCfg = loadConfig({ dataDir: data, instance: 'production', env: {} });
    const develCfg = loadConfig({ dataDir: data, instance: 'devel', env: {} });
    assert.notEqual(prodCfg.database.url, develCfg.database.url);
    assert.notEqual(prodCfg.storage.filesDir, develCfg.storage.filesDir);
    assert.notEqual(prodCfg.cache.prefix, develCfg.cache.prefix);
    assert.equal(prodCfg.server.baseUrl, 'http://production.test');

    const prod = await createContext(prodCfg);
    const devel = await createContext(develCfg);
    const prodApp = await build(prodCfg, { context: prod });
    const develApp = await build(develCfg, { context: devel });
    try {
      // A third activity only in devel.
      const extra = await buildActivity(dir, { bundleId: 'org.test.OnlyInDevel', name: 'Only Devel', version: '1' });
      assert.equal((await develApp.services.catalog.ingest.ingestPath(extra, { status: 'public' })).outcome, 'imported');
      const p = (await prodApp.inject({ url: '/api/v1/activities?sort=name' })).json();
      const d = (await develApp.inject({ url: '/api/v1/activities?sort=name' })).json();
      assert.deepEqual(
        p.items.map((i: { bundle_id: string }) => i.bundle_id),
        ['org.test.OnlyInProduction'],
      );
      assert.deepEqual(
        d.items.map((i: { bundle_id: string }) => i.bundle_id),
        ['org.test.OnlyInDevel', 'org.test.OnlyInProduction'],
      );
      assert.match(p.items[0].url, /^http:\/\/production\.test\//);
      assert.equal((await prodApp.inject({ url: '/api/v1/activities/org.test.OnlyInDevel' })).statusCode, 404);
      const sha = d.items[0] && (await develApp.inject({ url: '/api/v1/activities/org.test.OnlyInDevel' })).json().current.files[0].sha256;
      assert.equal(await devel.files.has(sha), true);
      assert.equal(await prod.files.has(sha), false);
    } finally {
      await prodApp.close();
      await develApp.close();
      await prod.close();
      await devel.close();
    }
  });
});

// `aslo collection` and `aslo keys show` as an administrator runs them, then the feeds they drive.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCliEnv, runCli } from '../helpers/cli.js';
import { buildActivity } from '../helpers/activities.js';
import { loadConfig, loadSecrets } from '../../src/platform/config.js';
import { signingKeysFrom } from '../../src/updates/json-index.js';
import { build } from '../../src/app.js';
import { readMicroformatLikeSugar } from '../helpers/updates-client.js';

describe('aslo collection and aslo keys', () => {
  let dir: string;
  let env: Record<string, string>;
  let cleanup = async () => {};

  before(async () => {
    ({ dir, env, cleanup } = await createCliEnv('aslo-col-', { ASLO_SERVER_BASE_URL: 'http://store.test' }));
    const files = [
      await buildActivity(dir, { bundleId: 'org.col.Maze', name: 'Maze', version: '1', exec: 'sugar-activity3 m.M' }),
      await buildActivity(dir, { bundleId: 'org.col.Maze', name: 'Maze', version: '2', exec: 'sugar-activity3 m.M', payload: '2' }),
      await buildActivity(dir, { bundleId: 'org.col.Speak', name: 'Speak', version: '50', exec: 'sugar-activity3 s.S' }),
    ];
    const imp = await runCli(['import', '--status', 'public', ...files], env);
    assert.equal(imp.code, 0, imp.stderr);
  });
  after(() => cleanup());

  it('creates, fills, pins and shows a collection; refuses mistakes with clear errors', async () => {
    const created = await runCli(
      ['collection', 'create', 'school', '--name', 'School set', '--description', 'Our activities', '--localized-name', 'es=Conjunto escolar'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /micro-format\.php\?collection_nickname=school&sugar=0\.112$/m);
    assert.doesNotMatch(created.stdout, /collection_nickname=school$/m, 'every printed feed names its Sugar');

    const script = ['collection add school org.col.Maze --pin 1', 'collection add school org.col.Speak --optional'];
    for (const line of script) {
      const r = await runCli(line.split(' '), env);
      assert.equal(r.code, 0, `${line}: ${r.stderr}`);
    }
    const shown = await runCli(['collection', 'show', 'school', '--json'], env);
    assert.equal(shown.code, 0, shown.stderr);
    const c = JSON.parse(shown.stdout);
    assert.equal(c.name, 'School set');
    assert.deepEqual(c.names, { es: 'Conjunto escolar' });
    assert.deepEqual(
      c.entries.map((e: { bundle_id: string; pinned_version: string | null; optional: boolean; position: number }) => [
        e.bundle_id,
        e.pinned_version,
        e.optional,
        e.position,
      ]),
      [
        ['org.col.Maze', '1', false, 0],
        ['org.col.Speak', null, true, 1],
      ],
    );

    const mistake = await runCli(['collection', 'add', 'school', 'org.col.Missing'], env);
    assert.equal(mistake.code, 1);
    assert.match(mistake.stderr, /No activity has the bundle id "org\.col\.Missing"\. \[ACTIVITY_NOT_FOUND\]/);
    const list = await runCli(['collection', 'list'], env);
    assert.match(list.stdout, /school\s+2 activities\s+School set/);

    // The other refusals, through the same service in one process (each CLI start costs seconds).
    const app = await build(loadConfig({ env, writeDefaults: true }));
    try {
      const col = app.services.collections;
      const refusals: [() => Promise<unknown>, string][] = [
        [() => col.create('school', { name: 'Again' }), 'COLLECTION_EXISTS'],
        [() => col.create('bad nick!', { name: 'X' }), 'COLLECTION_BAD_NICKNAME'],
        [() => col.create('fine', { name: '  ' }), 'COLLECTION_NAME_REQUIRED'],
        [() => col.pin('school', 'org.col.Maze', '9'), 'VERSION_NOT_FOUND'],
        [() => col.get('nope'), 'COLLECTION_NOT_FOUND'],
        [() => col.drop('school', 'org.col.Missing'), 'ACTIVITY_NOT_FOUND'],
      ];
      for (const [fn, code] of refusals) await assert.rejects(fn, (err: { code?: string }) => err.code === code, code);
      assert.equal((await col.get('school')).entries.length, 2, 'nothing changed');
    } finally {
      await app.close();
    }
  });

  it('the feed and the published key match what the command line set and shows', async () => {
    const keys = await runCli(['keys', 'show'], env);
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, /fingerprint sha256:[0-9a-f]{64}/);
    const pem = /-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/.exec(keys.stdout)?.[0] ?? '';
    assert.ok(pem, keys.stdout);
    assert.doesNotMatch(keys.stdout, /PRIVATE/);

    const config = loadConfig({ env, writeDefaults: true });
    assert.equal(signingKeysFrom((await loadSecrets(config)).signingKey).publicKeyPem, pem);
    const app = await build(config);
    try {
      assert.equal((await app.inject({ url: '/services/index-key.pem' })).body, pem);
      const m = readMicroformatLikeSugar(
        (await app.inject({ url: '/services/micro-format.php?collection_nickname=school&lang=es&sugar=0.120' })).body,
        'http://store.test/',
      );
      assert.equal(m.groupName, 'Conjunto escolar');
      assert.deepEqual(
        [...m.results.entries()].map(([id, r]) => [id, r.version, r.optional]),
        [
          ['org.col.Maze', '1', false],
          ['org.col.Speak', '50', true],
        ],
      );
    } finally {
      await app.close();
    }

    for (const line of ['collection unpin school org.col.Maze', 'collection remove school org.col.Speak']) {
      const r = await runCli(line.split(' '), env);
      assert.equal(r.code, 0, `${line}: ${r.stderr}`);
    }
    const after1 = JSON.parse((await runCli(['collection', 'show', 'school', '--json'], env)).stdout);
    assert.deepEqual(
      after1.entries.map((e: { bundle_id: string; pinned_version: string | null }) => [e.bundle_id, e.pinned_version]),
      [['org.col.Maze', null]],
    );
    assert.equal((await runCli(['collection', 'delete', 'school'], env)).code, 0);
  });
});

// The `aslo` command as users run it: real child processes, real files, real HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCliEnv, runCli, startCliServer } from '../helpers/cli.js';
import { buildActivity } from '../helpers/activities.js';

describe('the aslo command', () => {
  let dir: string;
  let env: Record<string, string>;
  let cleanup = async () => {};

  before(async () => {
    ({ dir, env, cleanup } = await createCliEnv('aslo-cli-'));
  });
  after(() => cleanup());

  it('documents every subcommand with --help', async () => {
    const top = await runCli(['--help'], env);
    assert.equal(top.code, 0);
    for (const sub of ['serve', 'migrate', 'import', 'inspect', 'instance', 'dev']) {
      assert.match(top.stdout, new RegExp(`\\b${sub}\\b`));
      const r = await runCli([sub, '--help'], env);
      assert.equal(r.code, 0, `${sub} --help`);
      assert.match(r.stdout, /--config <file>/);
      assert.match(r.stdout, /--instance <name>/);
      assert.match(r.stdout, /--data <dir>/);
    }
    assert.match((await runCli(['serve', '--help'], env)).stdout, /--port/);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await runCli(['inspect'], env)).code, 2);
    assert.equal((await runCli(['no-such-command'], env)).code, 2);
    assert.equal((await runCli(['inspect', join(dir, 'missing.xo')], env)).code, 2);
    assert.equal((await runCli(['import', '--status', 'weird', dir], env)).code, 2);
  });

  it('inspects a good bundle (exit 0, the documented JSON shape) and a bad one (exit 1)', async () => {
    const good = await buildActivity(dir, {
      bundleId: 'org.test.Cli',
      name: 'Cli Test',
      version: '3',
      summary: 'For the CLI',
      locales: { es: { name: 'Prueba' } },
    });
    const r = await runCli(['inspect', good, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(json).sort(), ['errors', 'kind', 'metadata', 'ok', 'warnings']);
    assert.equal(json.ok, true);
    assert.equal(json.kind, 'activity');
    for (const key of ['bundle_id', 'name', 'version', 'exec', 'runtime', 'icon', 'license', 'summary', 'description', 'tags', 'locales']) {
      assert.ok(key in json.metadata, key);
    }
    assert.equal(json.metadata.bundle_id, 'org.test.Cli');
    assert.equal(json.metadata.runtime, 'python3');
    assert.equal(json.metadata.locales.es.name, 'Prueba');
    assert.ok(Array.isArray(json.metadata.license));

    const bad = join(dir, 'bad.xo');
    await writeFile(bad, 'not a zip');
    const rb = await runCli(['inspect', bad, '--json'], env);
    assert.equal(rb.code, 1);
    const jb = JSON.parse(rb.stdout);
    assert.equal(jb.ok, false);
    assert.ok(jb.errors.length > 0);
    for (const e of jb.errors) assert.deepEqual(Object.keys(e).sort(), ['code', 'file', 'line', 'message']);
    const human = await runCli(['inspect', good], env);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /org\.test\.Cli/);
  });

  it('imports folders with a summary, is idempotent, and exits 1 when something is rejected', async () => {
    const folder = join(dir, 'batch');
    await buildActivity(folder, { bundleId: 'org.test.One', name: 'One', version: '1' });
    await buildActivity(folder, { bundleId: 'org.test.Two', name: 'Two', version: '2' });
    const first = await runCli(['import', '--status', 'public', folder], env);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /Summary: 2 imported, 0 unchanged, 0 rejected/);
    const second = await runCli(['import', '--status', 'public', folder], env);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /Summary: 0 imported, 2 unchanged, 0 rejected/);
    await writeFile(join(folder, 'broken.xo'), 'garbage');
    const third = await runCli(['import', folder], env);
    assert.equal(third.code, 1);
    assert.match(third.stdout, /rejected .*broken\.xo/);
    assert.match(third.stdout, /BUNDLE_/);
    assert.match(third.stdout, /Summary: 0 imported, 2 unchanged, 1 rejected/);
    const mig = await runCli(['migrate', '--status'], env);
    assert.equal(mig.code, 0);
    assert.match(mig.stdout, /applied\s+0001_initial/);
  });

  it('serves the imported catalog over HTTP and stops cleanly', async () => {
    const server = await startCliServer(['--port', '0'], { ...env, ASLO_SAMPLE_LOAD_ON_START: 'false' });
    try {
      assert.match(server.output(), /config\s+.*config\.yaml/);
      const health = await fetch(`${server.url}/healthz`);
      assert.equal(health.status, 200);
      const list = (await (await fetch(`${server.url}/api/v1/activities?sort=name`)).json()) as { items: { bundle_id: string }[] };
      assert.deepEqual(
        list.items.map((i) => i.bundle_id),
        ['org.test.One', 'org.test.Two'],
      );
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });

  it('creates and lists instances; an instance has its own folders and cache prefix', async () => {
    const r = await runCli(['instance', 'create', 'devel', '--port', '8181', '--base-url', 'http://devel.test'], { ASLO_DATA_DIR: join(dir, 'data') });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(dir, 'data', 'instances', 'devel', 'instance.yaml')));
    const yaml = await readFile(join(dir, 'data', 'instances', 'devel', 'instance.yaml'), 'utf8');
    assert.match(yaml, /prefix: "?aslo:devel:"?/);
    const dup = await runCli(['instance', 'create', 'devel'], { ASLO_DATA_DIR: join(dir, 'data') });
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /INSTANCE_EXISTS/);
    const bad = await runCli(['instance', 'create', 'Bad Name'], { ASLO_DATA_DIR: join(dir, 'data') });
    assert.equal(bad.code, 1);
    const list = await runCli(['instance', 'list'], { ASLO_DATA_DIR: join(dir, 'data') });
    assert.equal(list.code, 0);
    assert.match(list.stdout, /^devel\s+http:\/\/devel\.test/m);
  });
});

describe('first start of the embedded default', () => {
  it('writes its config, loads the sample activities, and says where everything lives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aslo-first-'));
    const server = await startCliServer(['--port', '0', '--data', join(dir, 'data')], { ASLO_DATA_DIR: '', ASLO_DATABASE_URL: '' });
    try {
      const out = server.output();
      assert.match(out, /config\s+.*config\.yaml/);
      assert.match(out, /loaded 5 sample activities/);
      assert.ok(existsSync(join(dir, 'data', 'config.yaml')));
      assert.ok(existsSync(join(dir, 'data', 'instances', 'default', 'secrets.yaml')));
      const list = (await (await fetch(`${server.url}/api/v1/activities?per_page=50`)).json()) as {
        total: number;
        items: { bundle_id: string; name: string }[];
      };
      assert.equal(list.total, 5);
      const es = (await (await fetch(`${server.url}/api/v1/activities/org.aslo.sample.CountingStars?lang=es`)).json()) as {
        name: string;
        current: { version: string };
      };
      assert.equal(es.name, 'Contar estrellas');
      assert.equal(es.current.version, '4');
      const home = await fetch(`${server.url}/`);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /Counting Stars/);
    } finally {
      await server.stop();
    }
    // A second start finds the catalog populated and does not load the samples again.
    const again = await startCliServer(['--port', '0', '--data', join(dir, 'data')], { ASLO_DATA_DIR: '', ASLO_DATABASE_URL: '' });
    try {
      assert.doesNotMatch(again.output(), /loaded \d+ sample/);
    } finally {
      await again.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

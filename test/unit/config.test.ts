import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadSecrets } from '../../src/platform/config.js';
import { AsloError } from '../../src/platform/errors.js';

describe('configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aslo-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a documented default config on first run and fills instance paths', () => {
    const data = join(dir, 'first');
    const cfg = loadConfig({ dataDir: data, env: {}, writeDefaults: true });
    assert.ok(existsSync(join(data, 'config.yaml')));
    assert.equal(cfg.instance, 'default');
    assert.equal(cfg.server.port, 8080);
    assert.equal(cfg.server.baseUrl, 'http://localhost:8080');
    assert.equal(cfg.database.url, '');
    assert.equal(cfg.database.embeddedDir, join(data, 'instances', 'default', 'db'));
    assert.equal(cfg.storage.filesDir, join(data, 'instances', 'default', 'files'));
    assert.equal(cfg.cache.prefix, 'aslo:default:');
  });

  it('lets environment variables override any key, with types', () => {
    const cfg = loadConfig({
      dataDir: join(dir, 'env'),
      env: {
        ASLO_SERVER_PORT: '9090',
        ASLO_BUNDLES_MAX_ENTRIES: '77',
        ASLO_SERVER_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2',
        ASLO_DATABASE_MIGRATE_ON_START: 'false',
        ASLO_CACHE_REDIS_URL: 'redis://127.0.0.1:6379',
      },
    });
    assert.equal(cfg.server.port, 9090);
    assert.equal(cfg.bundles.maxEntries, 77);
    assert.deepEqual(cfg.server.trustedProxies, ['10.0.0.1', '10.0.0.2']);
    assert.equal(cfg.database.migrateOnStart, false);
    assert.equal(cfg.cache.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(loadConfig({ dataDir: join(dir, 'env'), env: { ASLO_PORT: '7000' } }).server.port, 7000);
    assert.equal(loadConfig({ dataDir: join(dir, 'env'), env: { ASLO_PORT: '7000' }, port: 7001 }).server.port, 7001);
  });

  it('reads the config file and the instance override file, env winning over both', async () => {
    const data = join(dir, 'files');
    await mkdir(join(data, 'instances', 'devel'), { recursive: true });
    await writeFile(join(data, 'config.yaml'), 'server:\n  port: 8100\n  baseUrl: https://store.example.org\nupdates:\n  cacheMaxAge: 60\n');
    await writeFile(join(data, 'instances', 'devel', 'instance.yaml'), 'server:\n  port: 8101\n  baseUrl: https://devel.example.org/\n');
    const prod = loadConfig({ dataDir: data, env: {} });
    assert.equal(prod.server.port, 8100);
    assert.equal(prod.server.baseUrl, 'https://store.example.org');
    assert.equal(prod.updates.cacheMaxAge, 60);
    const devel = loadConfig({ dataDir: data, instance: 'devel', env: {} });
    assert.equal(devel.server.port, 8101);
    assert.equal(devel.server.baseUrl, 'https://devel.example.org');
    assert.equal(devel.cache.prefix, 'aslo:devel:');
    assert.equal(devel.updates.cacheMaxAge, 60);
    assert.equal(loadConfig({ dataDir: data, instance: 'devel', env: { ASLO_SERVER_PORT: '1234' } }).server.port, 1234);
    assert.equal(loadConfig({ dataDir: data, env: { ASLO_INSTANCE: 'devel' } }).instance, 'devel');
  });

  it('refuses unknown keys, secrets in the file, bad values and bad instance names with codes', async () => {
    const data = join(dir, 'bad');
    await mkdir(data, { recursive: true });
    const expectCode = (code: string, fn: () => unknown) => assert.throws(fn, (err: unknown) => err instanceof AsloError && err.code === code);
    await writeFile(join(data, 'config.yaml'), 'server:\n  prot: 1\n');
    expectCode('CONFIG_UNKNOWN_KEY', () => loadConfig({ dataDir: data, env: {} }));
    await writeFile(join(data, 'config.yaml'), 'secrets:\n  sessionKey: abc\n');
    expectCode('CONFIG_SECRET_IN_FILE', () => loadConfig({ dataDir: data, env: {} }));
    await writeFile(join(data, 'config.yaml'), 'server: [\n');
    expectCode('CONFIG_INVALID', () => loadConfig({ dataDir: data, env: {} }));
    await writeFile(join(data, 'config.yaml'), 'server:\n  port: eighty\n');
    expectCode('CONFIG_INVALID', () => loadConfig({ dataDir: data, env: {} }));
    await writeFile(join(data, 'config.yaml'), '');
    expectCode('CONFIG_BAD_INSTANCE_NAME', () => loadConfig({ dataDir: data, instance: '../etc', env: {} }));
    expectCode('CONFIG_UNREADABLE', () => loadConfig({ dataDir: data, configFile: join(data, 'missing.yaml'), env: {} }));
  });

  it('names the key and the value in its refusals', async () => {
    const data = join(dir, 'messages');
    await mkdir(data, { recursive: true });
    const file = join(data, 'config.yaml');
    const refusal = (code: string, message: string, fn: () => unknown) =>
      assert.throws(fn, (err: unknown) => err instanceof AsloError && err.code === code && err.message === message);
    await writeFile(file, 'server:\n  prot: 1\n');
    refusal('CONFIG_UNKNOWN_KEY', `${file}: unknown key "server.prot". Check its spelling against the documented default config.`, () =>
      loadConfig({ dataDir: data, env: {} }),
    );
    // Names an object has by inheritance are not keys either.
    for (const name of ['toString', '__proto__', 'constructor']) {
      await writeFile(file, `${name}:\n  x: 1\n`);
      refusal('CONFIG_UNKNOWN_KEY', `${file}: unknown key "${name}". Check its spelling against the documented default config.`, () =>
        loadConfig({ dataDir: data, env: {} }),
      );
    }
    await writeFile(file, 'server: 5\n');
    refusal('CONFIG_INVALID', `${file}: server must be a mapping.`, () => loadConfig({ dataDir: data, env: {} }));
    await writeFile(file, 'jobs:\n  enabled: maybe\n');
    refusal('CONFIG_INVALID', `${file}: jobs.enabled must be true or false, got "maybe".`, () => loadConfig({ dataDir: data, env: {} }));
    await writeFile(file, '');
    refusal('CONFIG_INVALID', 'environment ASLO_BUNDLES_MAX_ENTRIES: bundles.maxEntries must be a number, got "many".', () =>
      loadConfig({ dataDir: data, env: { ASLO_BUNDLES_MAX_ENTRIES: 'many' } }),
    );
    refusal('CONFIG_INVALID', 'server.port must be a port number (0-65535), got 70000.', () => loadConfig({ dataDir: data, env: { ASLO_PORT: '70000' } }));
    refusal('CONFIG_INVALID', 'server.port must be a port number (0-65535), got 1.5.', () => loadConfig({ dataDir: data, env: {}, port: 1.5 }));
    assert.equal(loadConfig({ dataDir: data, env: { ASLO_PORT: '7000', ASLO_SERVER_PORT: '7002' } }).server.port, 7002);
    assert.equal(loadConfig({ dataDir: data, env: { ASLO_PORT: '7000', ASLO_SERVER_PORT: '' } }).server.port, 7000);
  });

  it('generates secrets into a private file, and prefers the environment', async () => {
    const cfg = loadConfig({ dataDir: join(dir, 'secrets'), env: {} });
    await assert.rejects(loadSecrets(cfg, { env: {} }), (err: unknown) => err instanceof AsloError && err.code === 'CONFIG_MISSING_SECRET');
    const s = await loadSecrets(cfg, { env: {}, generate: true });
    assert.ok(s.sessionKey.length >= 32);
    assert.match(s.signingKey, /BEGIN PRIVATE KEY/);
    const file = join(cfg.instanceDir, 'secrets.yaml');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await loadSecrets(cfg, { env: {} });
    assert.equal(again.sessionKey, s.sessionKey);
    const fromEnv = await loadSecrets(cfg, { env: { ASLO_SECRET_SESSION_KEY: 'from-env' } });
    assert.equal(fromEnv.sessionKey, 'from-env');
    assert.doesNotMatch(await readFile(join(cfg.dataDir, 'config.yaml'), 'utf8').catch(() => ''), /PRIVATE KEY/);
  });
});

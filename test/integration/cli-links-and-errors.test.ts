// Smaller things a user hit with the command line: `aslo publish` to a store
// that is not there prints one line with a code, and the links the CLI prints name the store's
// real address (a store started with --port).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startCliServer } from '../helpers/cli.js';
import { buildActivity } from '../helpers/activities.js';
import { freePort } from '../helpers/ports.js';

describe('the CLI against a store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aslo-cli8-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('aslo publish to an unreachable server prints one line with a code, not a stack trace', async () => {
    const file = await buildActivity(join(dir, 'b'), { bundleId: 'org.test.Nowhere', name: 'Nowhere', version: '1' });
    const port = await freePort();
    const r = await runCli(['publish', file, '--server', `http://127.0.0.1:${port}`], { ASLO_TOKEN: 'aslo_' + 'x'.repeat(43) });
    assert.equal(r.code, 1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^aslo: Cannot reach the store at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\..*\[PUBLISH_UNREACHABLE\]$/);
  });

  it('prints links with the address of the running store (user create, keys show)', async () => {
    const port = await freePort();
    const env = {
      ASLO_DATA_DIR: join(dir, 'data'),
      ASLO_DATABASE_URL: '',
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_JOBS_ENABLED: 'false',
      ASLO_SERVER_HOST: '127.0.0.1',
    };
    // The config says 8080; the store runs on another port given on its command line.
    const store = await startCliServer(['--port', String(port)], env);
    try {
      const created = await runCli(['user', 'create', '--email', 'links@example.org'], env);
      assert.equal(created.code, 0, created.stderr);
      assert.ok(created.stdout.includes(`Log in at http://localhost:${port}/account/login`), created.stdout);
      const keys = await runCli(['keys', 'show'], env);
      assert.equal(keys.code, 0, keys.stderr);
      assert.ok(keys.stdout.includes(`also at http://localhost:${port}/services/index-key.pem`), keys.stdout);
      const pem = await (await fetch(`http://127.0.0.1:${port}/services/index-key.pem`)).text();
      assert.ok(keys.stdout.endsWith(pem), 'the key the store serves');
    } finally {
      await store.stop();
    }
  });
});

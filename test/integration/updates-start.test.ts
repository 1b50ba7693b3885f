// A process listens before its updater's index is loaded (src/server.ts): what it answers
// meanwhile. Update checks wait for the index, then answer from it, or after
// updates.indexWaitSeconds answer 503 UPDATE_INDEX_LOADING with Retry-After, never from the empty
// index; /readyz is 503 until the index is loaded, /healthz is 200 throughout.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../../src/server.js';
import { UpdateIndex } from '../../src/updates/update-index.js';
import { SAMPLE_ACTIVITIES } from '../../src/catalog/sample/activities.js';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { createCliEnv, runCli, startCliServer, type CliEnv } from '../helpers/cli.js';

interface Answer {
  status: number;
  body: string;
  retryAfter: string | null;
}

async function get(url: string): Promise<Answer> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), retryAfter: res.headers.get('retry-after') };
}

/** A 503 that says the index is loading, the way every updater endpoint says it. */
function assertLoading(a: Answer, what: string): void {
  assert.equal(a.status, 503, `${what}: ${a.status} ${a.body.slice(0, 200)}`);
  assert.equal(a.retryAfter, '5', what);
  assert.match(a.body, /UPDATE_INDEX_LOADING/, what);
}

describe('the updater while its index loads (a server held before its first load)', () => {
  let env: TestEnv;
  let server: RunningServer;
  let url: string;
  let release!: () => void;
  const original = UpdateIndex.prototype.rebuild;
  const bundleId = SAMPLE_ACTIVITIES[0]!.bundleId;
  const check = () => `${url}/services/update-aslo.php?id=${encodeURIComponent(bundleId)}&appVersion=0.118`;

  before(async () => {
    env = await createTestEnv();
    env.config.server.host = '127.0.0.1';
    env.config.server.port = 0;
    env.config.server.logLevel = 'warn';
    env.config.sample.loadOnStart = true;
    env.config.jobs.enabled = false;
    env.config.updates.indexWaitSeconds = 2;
    // The first load waits until the test lets it go.
    const gate = new Promise<void>((r) => (release = r));
    UpdateIndex.prototype.rebuild = async function (this: UpdateIndex) {
      await gate;
      return original.call(this);
    };
    server = await startServer(env.config, { quiet: true });
    url = server.url.replace('localhost', '127.0.0.1');
  });

  after(async () => {
    UpdateIndex.prototype.rebuild = original;
    release?.();
    await server?.close();
    await env?.cleanup();
  });

  it('answers /healthz, says 503 on /readyz and 503 UPDATE_INDEX_LOADING on the updater after its wait, then answers from the loaded index', async () => {
    const health = await get(`${url}/healthz`);
    assert.equal(health.status, 200);
    const notReady = await get(`${url}/readyz`);
    assert.equal(notReady.status, 503);
    const checks = (JSON.parse(notReady.body) as { checks: Record<string, { ok: boolean; loading?: boolean }> }).checks;
    assert.equal(checks.updateIndex?.ok, false);
    assert.equal(checks.updateIndex?.loading, true);
    assert.equal(checks.database?.ok, true);

    // Every endpoint that needs the index: waited for it (2 s), then 503, never an empty answer.
    const [rdf, legacy, json, sig, micro] = await Promise.all([
      get(check()),
      get(`${url}/services/update.php?id=${encodeURIComponent(bundleId)}`),
      get(`${url}/services/index.json?sugar=0.118`),
      get(`${url}/services/index.json.sig`),
      get(`${url}/services/micro-format.php?sugar=0.118`),
    ]);
    assertLoading(rdf, 'update-aslo.php');
    assertLoading(legacy, 'update.php');
    assertLoading(json, 'index.json');
    assertLoading(sig, 'index.json.sig');
    assertLoading(micro, 'micro-format.php');
    // What needs no index answers meanwhile.
    const key = await get(`${url}/services/index-key.pem`);
    assert.equal(key.status, 200);

    // A check that arrives during the load waits for it and gets the loaded answer.
    const waiting = get(check());
    await new Promise((r) => setTimeout(r, 200));
    release();
    UpdateIndex.prototype.rebuild = original;
    const answered = await waiting;
    assert.equal(answered.status, 200, answered.body);
    assert.match(answered.body, /<em:updateLink>/);
    assert.equal(answered.body, (await get(check())).body);

    const ready = await get(`${url}/readyz`);
    assert.equal(ready.status, 200, ready.body);
    const loaded = (JSON.parse(ready.body) as { checks: Record<string, { ok: boolean; activities?: number }> }).checks.updateIndex!;
    assert.equal(loaded.ok, true);
    assert.equal(loaded.activities, SAMPLE_ACTIVITIES.length);
    assert.equal((await get(`${url}/services/index.json?sugar=0.118`)).status, 200);
    assert.equal((await get(`${url}/services/micro-format.php?sugar=0.118`)).status, 200);
  });
});

describe('aslo serve restarted on a catalog: every answer from the moment it listens', () => {
  let cli: CliEnv;
  let bundleIds: string[] = [];

  before(async () => {
    cli = await createCliEnv('aslo-updates-start-', { ASLO_SAMPLE_LOAD_ON_START: 'false', ASLO_JOBS_ENABLED: 'false' });
    const gen = await runCli(['dev', 'generate', '--activities', '120', '--versions', '4', '--no-files'], cli.env, 300_000);
    assert.equal(gen.code, 0, gen.stdout + gen.stderr);
    // A first start (what a first start does), and the bundle ids it lists.
    const first = await startCliServer(['--port', '0', '--host', '127.0.0.1'], cli.env);
    try {
      const base = first.url.replace('localhost', '127.0.0.1');
      while ((await get(`${base}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 50));
      const list = (await (await fetch(`${base}/api/v1/activities?per_page=50`)).json()) as { items: { bundle_id: string }[] };
      bundleIds = list.items.map((i) => i.bundle_id).slice(0, 8);
    } finally {
      await first.stop();
    }
    assert.ok(bundleIds.length > 0);
  });

  after(async () => {
    await cli?.cleanup();
  });

  it('answers update checks only from the loaded index (or 503 while loading), /healthz always, /readyz 503 until loaded then 200', async () => {
    const server = await startCliServer(['--port', '0', '--host', '127.0.0.1'], cli.env);
    try {
      const base = server.url.replace('localhost', '127.0.0.1');
      const checks = bundleIds.flatMap((id) => [
        `/services/update-aslo.php?id=${encodeURIComponent(id)}&appVersion=0.118`,
        `/services/update-aslo.php?id=${encodeURIComponent(id)}&appVersion=0.100&experimental=1`,
      ]);
      const early: { path: string; answer: Answer }[] = [];
      const readyz: number[] = [];
      const healthz: number[] = [];
      // From the "listening" line until /readyz says ready: checks, health and readiness at once.
      for (;;) {
        const [r, h, ...answers] = await Promise.all([get(`${base}/readyz`), get(`${base}/healthz`), ...checks.map((p) => get(base + p))]);
        readyz.push(r.status);
        healthz.push(h.status);
        for (const [i, answer] of answers.entries()) early.push({ path: checks[i]!, answer });
        if (r.status === 200) break;
        assert.equal(r.status, 503, r.body);
        assert.equal((JSON.parse(r.body) as { checks: { updateIndex: { ok: boolean } } }).checks.updateIndex.ok, false);
      }
      assert.ok(
        healthz.every((s) => s === 200),
        `healthz: ${healthz.join(' ')}`,
      );
      // Ready stays ready.
      assert.equal((await get(`${base}/readyz`)).status, 200);
      // What the loaded index answers: each early answer is that one, or a 503 while loading.
      const final = new Map<string, Answer>();
      for (const p of checks) final.set(p, await get(base + p));
      assert.ok(
        [...final.values()].some((a) => a.body.includes('<em:updateLink>')),
        'some generated activity has an update to offer',
      );
      for (const { path, answer } of early) {
        if (answer.status === 503) assertLoading(answer, path);
        else assert.deepEqual({ status: answer.status, body: answer.body }, { status: 200, body: final.get(path)!.body }, path);
      }
      assert.match(server.output(), /ready {5}update index loaded/);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});

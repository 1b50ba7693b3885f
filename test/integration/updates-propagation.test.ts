// A new public version is visible to every process within 2 seconds, with no database query per
// update request. On PostgreSQL: two real store processes on one database (LISTEN/NOTIFY); with
// the embedded database (one process): two apps on one context.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { build } from '../../src/app.js';
import { createTestApp, createTestEnv, type TestApp, type TestEnv } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { helperScript, REPO_ROOT, runCli } from '../helpers/cli.js';
import { readRdfLikeSugar } from '../helpers/updates-client.js';

/** The requirement: a change is visible everywhere within this. */
const DEADLINE_MS = 2000;

async function versionAt(base: string, id: string, sugar = '0.118'): Promise<string | null> {
  const res = await fetch(`${base}/services/update-aslo.php?id=${id}&appVersion=${sugar}`);
  assert.equal(res.status, 200);
  const r = readRdfLikeSugar(await res.text());
  return r.update ? r.version! : null;
}

/** Poll until `check` holds or the deadline passes; returns whether it held. */
async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Child {
  url: string;
  send(line: string): void;
  next(prefix: string): Promise<string>;
  stop(): Promise<void>;
}

function startChild(env: Record<string, string>): Promise<Child> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, helperScript('updates-child'), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines: string[] = [];
  const waiters: { prefix: string; resolve: (s: string) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const i = waiters.findIndex((w) => line.startsWith(w.prefix));
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(line.slice(waiters[i]?.prefix.length ?? 0));
    else lines.push(line);
  });
  const next = (prefix: string) =>
    new Promise<string>((resolve, reject) => {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return resolve(lines.splice(i, 1)[0]!.slice(prefix.length));
      const timer = setTimeout(() => reject(new Error(`child did not print ${prefix}: ${stderr}`)), 60_000);
      waiters.push({ prefix, resolve: (s) => (clearTimeout(timer), resolve(s.slice(prefix.length))) });
    });
  return next('LISTENING ').then((url) => ({
    url: url.trim(),
    send: (line) => child.stdin.write(line + '\n'),
    next,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.stdin.write('exit\n');
      await new Promise<void>((r) => {
        const t = setTimeout(() => (child.kill('SIGKILL'), r()), 20_000);
        child.on('exit', () => (clearTimeout(t), r()));
      });
    },
  }));
}

// Two processes need a database server, so this part always runs on PostgreSQL (the embedded
// database is single-process by design), whichever database the rest of the run uses.
describe('change propagation between two processes (PostgreSQL LISTEN/NOTIFY)', () => {
  let env: TestEnv;
  let a: Child;
  let b: Child;
  let dir: string;
  let childEnv: Record<string, string>;

  before(async () => {
    env = await createTestEnv({ database: 'postgres' });
    dir = await tempDir();
    childEnv = {
      ASLO_DATA_DIR: env.dataDir,
      ASLO_INSTANCE: env.config.instance,
      ASLO_DATABASE_URL: env.databaseUrl!,
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_SERVER_BASE_URL: 'http://store.test',
      ASLO_SERVER_LOG_LEVEL: 'warn',
    };
    // The first process migrates the database; the second starts once it has.
    a = await startChild(childEnv);
    b = await startChild(childEnv);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await env?.cleanup();
  });

  it('a version published through one process is answered by the other within 2 seconds', async () => {
    for (const [i, version] of ['1', '2', '3'].entries()) {
      const path = await buildActivity(dir, { bundleId: 'org.prop.Two', name: 'Two', version, exec: 'sugar-activity3 a.A', payload: `v${version}` });
      a.send(`ingest ${path}`);
      const res = JSON.parse(await a.next('INGESTED '));
      assert.equal(res.outcome, 'imported', JSON.stringify(res));
      const committed = Date.now();
      const seen = await within(DEADLINE_MS, async () => (await versionAt(b.url, 'org.prop.Two')) === version);
      assert.ok(
        seen,
        `round ${i}: process B did not answer version ${version} within ${DEADLINE_MS} ms (answered ${await versionAt(b.url, 'org.prop.Two')} after ${Date.now() - committed} ms)`,
      );
      assert.equal(await versionAt(a.url, 'org.prop.Two'), version, 'and the publishing process itself');
    }
  });

  it('a version imported by another command (aslo import) reaches both servers', async () => {
    const path = await buildActivity(dir, { bundleId: 'org.prop.Cli', name: 'Cli', version: '7', exec: 'sugar-activity3 a.A' });
    const r = await runCli(['import', '--status', 'public', path], childEnv);
    assert.equal(r.code, 0, r.stderr);
    for (const p of [a, b])
      assert.ok(await within(DEADLINE_MS, async () => (await versionAt(p.url, 'org.prop.Cli')) === '7'), `${p.url} did not see the import`);
  });

  it('a process that lost its LISTEN connection reconnects and catches up', async () => {
    const admin = new pg.Client({ connectionString: env.databaseUrl! });
    await admin.connect();
    try {
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'aslo-listen' and datname = current_database()`,
      );
      assert.equal(killed.rowCount, 2, 'both processes hold one LISTEN connection each');
    } finally {
      await admin.end();
    }
    const path = await buildActivity(dir, { bundleId: 'org.prop.Two', name: 'Two', version: '4', exec: 'sugar-activity3 a.A', payload: 'v4' });
    a.send(`ingest ${path}`);
    assert.equal(JSON.parse(await a.next('INGESTED ')).outcome, 'imported');
    // The notification may have been sent while B was reconnecting: its resync rebuild finds it.
    assert.ok(await within(15_000, async () => (await versionAt(b.url, 'org.prop.Two')) === '4'));
  });
});

describe('change propagation inside one process (two apps on one context)', () => {
  let t: TestApp;
  let dir: string;
  before(async () => {
    // No timer-driven flush or rebuild during the query count below.
    t = await createTestApp({ env: { ASLO_UPDATES_PING_FLUSH_SECONDS: '0', ASLO_UPDATES_INDEX_REFRESH_SECONDS: '0' } });
    dir = await tempDir();
  });
  after(async () => {
    await t?.cleanup();
  });

  it('two apps on one context share one notifier: a version ingested through one is answered by the other', async () => {
    const second = await build(t.config, { context: t.ctx });
    await second.ready();
    try {
      for (const version of ['1', '2']) {
        const path = await buildActivity(dir, { bundleId: 'org.prop.One', name: 'One', version, exec: 'sugar-activity3 a.A', payload: version });
        assert.equal((await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' })).outcome, 'imported');
        await second.services.updates.settled();
        const r = readRdfLikeSugar((await second.inject({ url: '/services/update-aslo.php?id=org.prop.One&appVersion=0.118' })).body);
        assert.equal(r.version, version);
      }
    } finally {
      await second.close();
    }
    // The first app still receives changes after the second one left.
    const path = await buildActivity(dir, { bundleId: 'org.prop.One', name: 'One', version: '3', exec: 'sugar-activity3 a.A', payload: '3' });
    assert.equal((await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' })).outcome, 'imported');
    await t.app.services.updates.settled();
    assert.equal(readRdfLikeSugar((await t.app.inject({ url: '/services/update-aslo.php?id=org.prop.One&appVersion=0.118' })).body).version, '3');
  });

  it('answers update checks without a database query', async () => {
    // Count the statements sent through Kysely (all repositories use it) on behalf of the HTTP
    // server or the updater while the listening server answers a burst of update checks. (Other
    // parts of the store may run their own timers meanwhile; those are not update requests.)
    const exec = t.ctx.db.getExecutor();
    const proto = Object.getPrototypeOf(exec) as { executeQuery: (...a: unknown[]) => unknown };
    const orig = proto.executeQuery;
    let queries = 0;
    proto.executeQuery = function (this: unknown, ...args: unknown[]) {
      const stack = new Error().stack ?? '';
      if (/_http_server|[\\/]src[\\/]updates[\\/]/.test(stack)) queries++;
      return orig.apply(this, args);
    };
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      for (let i = 0; i < 200; i++) {
        const id = i % 3 === 0 ? 'org.prop.Unknown' : 'org.prop.One';
        const res = await fetch(`${base}/services/update-aslo.php?id=${id}&appVersion=0.${82 + (i % 21) * 2}`);
        assert.equal(res.status, 200);
        await res.arrayBuffer();
      }
      assert.equal(queries, 0, 'no database query per update request');
      assert.ok(t.app.services.updates.pings.pending() > 0, 'the pings were counted in memory');
      await t.app.services.updates.pings.flush();
      assert.ok(queries > 0, 'the flush is what writes them');
    } finally {
      proto.executeQuery = orig;
    }
  });
});

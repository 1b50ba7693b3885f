// Read replicas on a real streaming replica (a cluster of the test's own, pg_basebackup -R):
// reads routed to the replica, read-your-writes, a lagging or stopped replica skipped, and the
// store turning read-only (503 + Retry-After on writes, reads fine) while the primary is down,
// then recovering by itself.
// test-pass: postgres
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { TEST_DATABASE } from '../helpers/env.js';
import { canRunCluster, startReplicatedCluster, type ReplicatedCluster } from '../helpers/pg-cluster.js';
import { loadConfig } from '../../src/platform/config.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { build } from '../../src/app.js';
import type { ReplicaSet } from '../../src/platform/db/replicas.js';

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const skip = TEST_DATABASE !== 'postgres' ? 'runs with ASLO_TEST_DATABASE=postgres' : !canRunCluster() ? 'needs the PostgreSQL server binaries' : false;

describe('read replicas and read-only mode', { skip }, () => {
  let cluster: ReplicatedCluster;
  let data: string;
  let ctx: AppContext;
  let app: FastifyInstance;
  let set: ReplicaSet;

  before(async () => {
    cluster = await startReplicatedCluster();
    data = await mkdtemp(join(tmpdir(), 'aslo-replicas-'));
    const config = loadConfig({
      dataDir: data,
      instance: 'replicas',
      writeDefaults: true,
      env: {
        ASLO_DATABASE_URL: cluster.primary.url,
        ASLO_DATABASE_REPLICAS: cluster.replica.url,
        ASLO_DATABASE_MAX_REPLICA_LAG_SECONDS: '2',
        ASLO_DATABASE_READ_YOUR_WRITES_SECONDS: '5',
        ASLO_SAMPLE_LOAD_ON_START: 'false',
        ASLO_SERVER_BASE_URL: 'http://store.test',
      },
    });
    ctx = await createContext(config, { migrate: true });
    set = ctx.database.replicas!;
    app = await build(config, { context: ctx });
    // Probes: one plain read, one write, as any route would do them.
    app.get('/__probe/read', async () => {
      const r = await sql<{ n: number; recovery: boolean }>`select count(*)::int as n, pg_is_in_recovery() as recovery from users`.execute(ctx.db);
      return r.rows[0];
    });
    app.post('/__probe/write', async () => {
      await ctx.db
        .insertInto('users')
        .values({ email: `u${Date.now()}${Math.random()}@test`, display_name: 'Probe' } as never)
        .execute();
      const r = await sql<{ n: number; recovery: boolean }>`select count(*)::int as n, pg_is_in_recovery() as recovery from users`.execute(ctx.db);
      return r.rows[0];
    });
    await app.ready();
    await cluster.waitReplicated();
    await set.check();
  });
  after(async () => {
    await app?.close().catch(() => {});
    await ctx?.close().catch(() => {});
    await cluster?.destroy();
    if (data) await rm(data, { recursive: true, force: true });
  });

  const read = async (cookie?: string) => {
    const res = await app.inject({ method: 'GET', url: '/__probe/read', headers: cookie ? { cookie } : {} });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { n: number; recovery: boolean };
  };

  it('sends reads to the replica, and a writer reads its own write from the primary', async () => {
    assert.equal((await read()).recovery, true, 'a plain read runs on the replica');
    const w = await app.inject({ method: 'POST', url: '/__probe/write' });
    assert.equal(w.statusCode, 200);
    assert.equal(w.json().recovery, false, 'the read after a write in the same request runs on the primary');
    const setCookie = String(w.headers['set-cookie'] ?? '');
    assert.match(setCookie, /aslo_primary=\d+; Max-Age=5/);
    const cookie = setCookie.split(';')[0]!;
    const mine = await read(cookie);
    assert.equal(mine.recovery, false, 'the writer reads from the primary for a while');
    assert.equal(mine.n, w.json().n);
    // Others still read from the replica; a loaded machine may need a moment for the replica to
    // replay the write (beyond the lag limit it is skipped, rightly), so poll up to a deadline.
    let other = await read();
    for (const deadline = Date.now() + 30_000; !other.recovery && Date.now() < deadline; other = await read()) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(other.recovery, true, 'others still read from the replica');
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.json().checks.database.replicas[0].up, true);
  });

  it('skips a replica that lags beyond the limit, and uses it again once it catches up', async () => {
    const r = new pg.Client({ connectionString: cluster.replica.url });
    await r.connect();
    try {
      await r.query('select pg_wal_replay_pause()');
      await app.inject({ method: 'POST', url: '/__probe/write' });
      await until('replica marked lagging', async () => {
        await set.check();
        return !set.replicas[0]!.up;
      });
      assert.equal((await read()).recovery, false, 'reads moved to the primary');
      const m = await ctx.metrics.text();
      assert.match(m, /aslo_db_replica_up\{[^}]*replica="replica1"[^}]*\} 0/);
      assert.match(m, /aslo_db_replica_lag_seconds\{[^}]*replica="replica1"[^}]*\} [0-9.]+/);
    } finally {
      await r.query('select pg_wal_replay_resume()').catch(() => {});
      await r.end();
    }
    await until('replica back', async () => {
      await set.check();
      return set.replicas[0]!.up;
    });
    assert.equal((await read()).recovery, true);
  });

  it('keeps reading from the primary while the replica is stopped', async () => {
    await cluster.replica.stop();
    try {
      for (let i = 0; i < 5; i++) assert.equal((await read()).recovery, false);
      await until('replica marked down', () => !set.replicas[0]!.up);
    } finally {
      await cluster.replica.start();
    }
    await until('replica back', async () => {
      await set.check();
      return set.replicas[0]!.up;
    });
  });

  it('turns read-only while the primary is down (503 + Retry-After on writes, reads fine) and recovers by itself', async () => {
    await cluster.waitReplicated();
    await cluster.primary.stop();
    try {
      const r = await read();
      assert.equal(r.recovery, true);
      const w = await app.inject({ method: 'POST', url: '/__probe/write' });
      assert.equal(w.statusCode, 503);
      assert.equal(w.json().error.code, 'DB_READ_ONLY');
      assert.match(w.json().error.message, /read-only/);
      assert.ok(Number(w.headers['retry-after']) > 0);
      // Even a client pinned to the primary reads (from the replica).
      assert.equal((await read(`aslo_primary=${Date.now() + 60_000}`)).recovery, true);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json().checks.database.mode, 'read-only');
      assert.match(await ctx.metrics.text(), /aslo_db_read_only\{[^}]*\} 1/);
      const api = await app.inject({ method: 'GET', url: '/api/v1/activities' });
      assert.equal(api.statusCode, 200);
    } finally {
      await cluster.primary.start();
    }
    await until('writes accepted again', async () => (await app.inject({ method: 'POST', url: '/__probe/write' })).statusCode === 200);
    assert.match(await ctx.metrics.text(), /aslo_db_read_only\{[^}]*\} 0/);
  });
});

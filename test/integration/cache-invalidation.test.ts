// The cache: cache-aside reads, invalidation on every committed write (no stale page after a
// write, read through another process), and the store working without Redis.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createTestApp, createTestEnv, TEST_DATABASE, type TestApp, type TestEnv } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { startCliServer } from '../helpers/cli.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { Cache } from '../../src/platform/cache/index.js';
import { isReadOnly, writtenTables } from '../../src/platform/db/replicas.js';
import { freePort } from '../helpers/ports.js';

const REDIS = process.env.ASLO_TEST_REDIS_URL;

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function publish(ctx: AppContext, app: TestApp['app'], bundleId: string, name: string, version = '1', tags?: string): Promise<void> {
  const dir = await tempDir();
  const path = await buildActivity(dir, { bundleId, name, version, summary: `${name} summary`, ...(tags ? { tags } : {}) });
  const res = await app.services.catalog.ingest.ingestPath(path, { status: 'public' });
  assert.ok(['accepted', 'imported'].includes(res.outcome), JSON.stringify(res.errors));
  void ctx;
}

describe('which tables a statement writes', () => {
  it('finds written tables, ignores reads and counter-only updates', () => {
    assert.deepEqual(writtenTables('select * from activities'), []);
    assert.deepEqual(writtenTables('insert into "activity_texts" ("a") values ($1)'), ['activity_texts']);
    assert.deepEqual(writtenTables('update "activities" set "name" = $1 where "id" = $2'), ['activities']);
    assert.deepEqual(writtenTables('update "activities" set "download_count" = download_count + $1 where "id" = $2'), []);
    assert.deepEqual(writtenTables('update activities a set average_daily_users = coalesce(s.avg, 0) from (select 1) s where a.id = s.id'), []);
    assert.deepEqual(writtenTables('insert into jobs (queue) values ($1) on conflict (queue, dedupe_key) do update set run_at = now()'), ['jobs']);
    assert.deepEqual(writtenTables('with x as (delete from "ratings" where id = 1 returning *) select * from x'), ['ratings']);
    assert.deepEqual(writtenTables('create table t (id int)'), ['*']);
  });

  it('tells which statements may run on a replica', () => {
    assert.equal(isReadOnly('select * from activities where id = $1'), true);
    assert.equal(isReadOnly('with x as (select 1) select * from x'), true);
    assert.equal(isReadOnly('select id from jobs where done_at is null for update skip locked'), false);
    assert.equal(isReadOnly(`select pg_notify('aslo_catalog', $1)`), false);
    assert.equal(isReadOnly("select nextval('files_id_seq')"), false);
    assert.equal(isReadOnly('with d as (delete from sessions where id = $1 returning *) select * from d'), false);
    assert.equal(isReadOnly('update activities set name = $1'), false);
    assert.equal(isReadOnly('insert into users (email) values ($1)'), false);
  });
});

describe('cache-aside reads and invalidation in one process', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
    await t.ctx.cache.start();
  });
  after(async () => t?.cleanup());

  it('loads once, then serves from the cache; a committed write invalidates at once', async () => {
    await publish(t.ctx, t.app, 'org.test.Cached', 'Cached One');
    let loads = 0;
    const load = async () => {
      loads++;
      return { n: loads, at: new Date('2020-01-02T03:04:05Z') };
    };
    const a = await t.ctx.cache.getOrLoad('catalog', 'probe', load);
    const b = await t.ctx.cache.getOrLoad('catalog', 'probe', load);
    assert.equal(loads, 1);
    assert.equal(b.n, 1);
    assert.ok(b.at instanceof Date);
    assert.equal(a, b);

    const first = await t.app.inject({ method: 'GET', url: '/api/v1/activities/org.test.Cached' });
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().name, 'Cached One');
    // A write outside any service (as a manual fix would be): the database layer still sees it.
    await t.ctx.db
      .updateTable('activity_texts')
      .set({ name: 'Renamed' })
      .where('activity_id', 'in', t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.Cached'))
      .execute();
    const second = await t.app.inject({ method: 'GET', url: '/api/v1/activities/org.test.Cached' });
    assert.equal(second.json().name, 'Renamed');
    await t.ctx.cache.getOrLoad('catalog', 'probe', load);
    assert.equal(loads, 2, 'the write invalidated the probe too');
  });

  it('does not invalidate on writes that change no page (jobs, counters)', async () => {
    let loads = 0;
    const load = async () => ++loads;
    await t.ctx.cache.getOrLoad('catalog', 'probe2', load);
    await t.ctx.db
      .insertInto('jobs')
      .values({ queue: 'test.noop', payload: '{}', run_at: new Date(), max_attempts: 1, created_at: new Date() } as never)
      .execute();
    await t.ctx.db
      .updateTable('activities')
      .set((eb) => ({ download_count: eb('download_count', '+', 1) }))
      .where('bundle_id', '=', 'org.test.Cached')
      .execute();
    await t.ctx.cache.getOrLoad('catalog', 'probe2', load);
    assert.equal(loads, 1);
    const metrics = await t.ctx.metrics.text();
    assert.match(metrics, /aslo_cache_requests_total\{[^}]*layer="lru"[^}]*result="hit"[^}]*\} [1-9]/);
  });

  it('rolled back transactions invalidate nothing; committed ones invalidate after COMMIT', async () => {
    let loads = 0;
    const load = async () => ++loads;
    await t.ctx.cache.getOrLoad('catalog', 'probe3', load);
    await assert.rejects(
      t.ctx.db.transaction().execute(async (trx) => {
        await trx.updateTable('activity_texts').set({ summary: 'x' }).where('activity_id', '=', -1).execute();
        throw new Error('roll back');
      }),
    );
    await t.ctx.cache.getOrLoad('catalog', 'probe3', load);
    assert.equal(loads, 1);
    await t.ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('activity_texts').set({ summary: 'x' }).where('activity_id', '=', -1).execute();
    });
    await t.ctx.cache.getOrLoad('catalog', 'probe3', load);
    assert.equal(loads, 2);
  });
});

// Several processes: Redis when the run has one, else NOTIFY on PostgreSQL. PGlite is one process.
const shared = REDIS ? 'redis' : TEST_DATABASE === 'postgres' ? 'postgres-notify' : null;

describe(`no stale page across processes (${shared ?? 'skipped'})`, {
  skip: shared ? false : 'needs PostgreSQL (and Redis when ASLO_TEST_REDIS_URL is set)',
}, () => {
  let env: TestEnv;
  let writer: TestApp;
  const servers: { url: string; stop(): Promise<number | null> }[] = [];

  before(async () => {
    const extra: Record<string, string> = REDIS ? { ASLO_CACHE_REDIS_URL: REDIS } : {};
    env = await createTestEnv({ env: extra });
    const ctx = await createContext(env.config, { migrate: true });
    const { build } = await import('../../src/app.js');
    const app = await build(env.config, { context: ctx });
    writer = { ...env, app, ctx, cleanup: async () => {} };
    await publish(ctx, app, 'org.test.Shared', 'Shared Before');
    const procEnv = {
      ASLO_DATA_DIR: env.dataDir,
      ASLO_INSTANCE: env.config.instance,
      ASLO_DATABASE_URL: env.databaseUrl!,
      ASLO_SAMPLE_LOAD_ON_START: 'false',
      ASLO_JOBS_ENABLED: 'false',
      ASLO_SERVER_HOST: '127.0.0.1',
      ...extra,
    };
    for (let i = 0; i < 2; i++) servers.push(await startCliServer(['--port', '0'], procEnv));
  });
  after(async () => {
    for (const s of servers) await s.stop().catch(() => {});
    await writer?.app.close().catch(() => {});
    await writer?.ctx.close().catch(() => {});
    await env?.cleanup();
  });

  it('a write made in one process is seen by the next read in every other', async () => {
    const name = async (url: string) => ((await (await fetch(`${url}/api/v1/activities/org.test.Shared`)).json()) as { name: string }).name;
    for (const s of servers) {
      // Warm both layers, and wait until the process's cache is connected and in use.
      await until('cache in use', async () => {
        await name(s.url);
        const m = await (await fetch(`${s.url}/metrics`)).text();
        return /aslo_cache_requests_total\{[^}]*layer="lru"[^}]*result="hit"[^}]*\} [1-9]/.test(m);
      });
      assert.equal(await name(s.url), 'Shared Before');
    }
    for (let round = 1; round <= 3; round++) {
      await writer.ctx.db
        .updateTable('activity_texts')
        .set({ name: `Shared After ${round}` })
        .where('activity_id', 'in', writer.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.Shared'))
        .execute();
      // The writer goes on only once every process has the invalidation (Redis PUBLISH, or the
      // listeners' acknowledgements of NOTIFY): the very next read through any of them is fresh.
      for (const s of servers) assert.equal(await name(s.url), `Shared After ${round}`, `round ${round} through ${s.url}`);
    }
  });

  it('pages, listings, category counts and feeds are fresh in every process after a write', async () => {
    const text = async (url: string) => {
      const res = await fetch(url);
      assert.equal(res.status, 200, url);
      return res.text();
    };
    const mathCount = (home: string) => Number(/category\/math">Math <span class="n">(\d+)</.exec(home)?.[1] ?? 'NaN');
    const views = async (url: string) => ({
      page: await text(`${url}/en/activity/org.test.Shared`),
      browse: await text(`${url}/en/browse`),
      math: await text(`${url}/en/category/math`),
      home: await text(`${url}/en/`),
      feed: await text(`${url}/en/feeds/new.atom`),
    });
    // Warm every read in both processes (twice: the second is answered from the cache).
    const before = new Map<string, Awaited<ReturnType<typeof views>>>();
    for (const s of servers) {
      await views(s.url);
      before.set(s.url, await views(s.url));
    }
    const mathBefore = mathCount(before.get(servers[0]!.url)!.home);
    assert.ok(Number.isInteger(mathBefore), 'the home page shows the Math category with its count');
    for (const v of before.values()) {
      assert.equal(mathCount(v.home), mathBefore);
      assert.doesNotMatch(v.browse + v.math + v.feed, /Shared Math/);
    }

    // Two writes through the writer process: a rename, and a new activity in the Math category.
    await writer.ctx.db
      .updateTable('activity_texts')
      .set({ name: 'Shared Renamed Page' })
      .where('activity_id', 'in', writer.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.Shared'))
      .execute();
    await publish(writer.ctx, writer.app, 'org.test.SharedMath', 'Shared Math', '1', 'math');

    for (const s of servers) {
      const v = await views(s.url);
      assert.match(v.page, /Shared Renamed Page/, `activity page through ${s.url}`);
      assert.match(v.browse, /Shared Math/, `listing through ${s.url}`);
      assert.match(v.browse, /Shared Renamed Page/, `listing through ${s.url}`);
      assert.match(v.math, /Shared Math/, `category listing through ${s.url}`);
      assert.equal(mathCount(v.home), mathBefore + 1, `category count on the home page through ${s.url}`);
      assert.match(v.feed, /<title>Shared Math<\/title>/, `feed through ${s.url}`);
    }
  });
});

// Redis going away: a Redis of the test's own on a free port, stopped and started again.
const HAVE_REDIS_SERVER = spawnSync('redis-server', ['--version']).status === 0;

describe('Redis gone and back', { skip: HAVE_REDIS_SERVER ? false : 'redis-server is not installed' }, () => {
  let redis: ChildProcess | null = null;
  let port = 0;
  let env: TestEnv;
  let ctx: AppContext;
  let cache: Cache;
  const logs: string[] = [];

  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('redis up', async () => {
      try {
        const { Redis } = await import('ioredis');
        const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => {});
        await c.connect();
        await c.ping();
        c.disconnect();
        return true;
      } catch {
        return false;
      }
    });
  };
  const stopRedis = async () => {
    const r = redis;
    redis = null;
    if (!r || r.exitCode !== null) return;
    await new Promise<void>((res) => {
      r.once('exit', () => res());
      r.kill('SIGKILL');
    });
  };

  before(async () => {
    port = await freePort();
    await startRedis();
    env = await createTestEnv();
    ctx = await createContext(env.config, { migrate: true });
    cache = new Cache({ redisUrl: `redis://127.0.0.1:${port}`, prefix: 'aslo:redisdown:', log: { warn: (m) => logs.push(m), info: (m) => logs.push(m) } });
    await cache.start();
  });
  after(async () => {
    await cache?.close();
    await ctx?.close();
    await env?.cleanup();
    await stopRedis();
  });

  it('keeps serving from the database, logs once, reconnects by itself, and forgets what changed meanwhile', async () => {
    let source = 'v1';
    let loads = 0;
    const load = async () => {
      loads++;
      return source;
    };
    await until('cache ready', () => cache.status().serving);
    assert.equal(await cache.getOrLoad('catalog', 'k', load), 'v1');
    assert.equal(await cache.getOrLoad('catalog', 'k', load), 'v1');
    assert.equal(loads, 1);

    await stopRedis();
    await until('outage noticed', () => !cache.status().serving);
    for (let i = 0; i < 20; i++) assert.equal(await cache.getOrLoad('catalog', 'k', load), 'v1');
    // The write while Redis is away: announced when it comes back.
    source = 'v2';
    await cache.invalidate('catalog');
    assert.equal(await cache.getOrLoad('catalog', 'k', load), 'v2');
    assert.equal(logs.filter((l) => /unreachable/.test(l)).length, 1, `logged once: ${logs.join(' | ')}`);

    await startRedis();
    await until('reconnected', () => cache.status().serving);
    assert.equal(await cache.getOrLoad('catalog', 'k', load), 'v2');
    const before = loads;
    assert.equal(await cache.getOrLoad('catalog', 'k', load), 'v2');
    assert.equal(loads, before, 'cached again');
    assert.ok(logs.some((l) => /reachable again/.test(l)));
  });
});

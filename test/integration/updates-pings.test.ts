// Update pings: counted per activity, day and Sugar series in memory, written in batches, flushed
// on close; aggregates only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { build } from '../../src/app.js';
import { seriesOf, rollupAverageDailyUsers, MemoryPingCounter } from '../../src/updates/pings.js';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';

describe('update ping counting', () => {
  let t: TestApp;
  const ids: Record<string, number> = {};

  before(async () => {
    // A flush interval long enough that only explicit flushes and close write.
    t = await createTestApp({ env: { ASLO_UPDATES_PING_FLUSH_SECONDS: '3600' } });
    const dir = await tempDir();
    for (const bundleId of ['org.ping.One', 'org.ping.Two']) {
      const res = await t.app.services.catalog.ingest.ingestPath(
        await buildActivity(dir, { bundleId, name: bundleId.slice(9), version: '1', exec: 'sugar-activity a.A' }),
        { status: 'public' },
      );
      assert.equal(res.outcome, 'imported');
      ids[bundleId] = res.activityId!;
    }
    await t.app.services.updates.settled();
  });
  after(async () => {
    await t?.cleanup();
  });

  const rows = async () =>
    (
      await t.ctx.db.selectFrom('update_pings').select(['activity_id', 'day', 'app_series', 'count']).orderBy('activity_id').orderBy('app_series').execute()
    ).map((r) => ({
      activity_id: Number(r.activity_id),
      day: String(r.day).slice(0, 10),
      app_series: r.app_series,
      count: Number(r.count),
    }));

  it('normalizes the series the clients send', () => {
    assert.equal(seriesOf('0.118'), '0.118');
    assert.equal(seriesOf('0.117'), '0.118');
    assert.equal(seriesOf('0.99'), '0.100');
    assert.equal(seriesOf('0.100.1'), '0.100');
    assert.equal(seriesOf(null), '');
    assert.equal(seriesOf('abc'), '');
    assert.equal(seriesOf('0.1000000'), '', 'bounded: no unbounded number of series');
    assert.equal(seriesOf('99.2'), '');
  });

  it('counts in memory and writes only when flushed, adding to what is stored', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const hit = (id: string, app?: string, method = 'GET') =>
      t.app.inject({ method, url: `/services/update-aslo.php?id=${id}${app ? `&appVersion=${app}` : ''}` });
    for (let i = 0; i < 5; i++) await hit('org.ping.One', '0.118');
    for (let i = 0; i < 3; i++) await hit('org.ping.One', '0.110');
    await hit('org.ping.One', '0.117');
    await hit('org.ping.Two');
    await hit('org.ping.Two', 'garbage');
    await hit('org.ping.Unknown', '0.118');
    await hit('org.ping.One', '0.118', 'HEAD');
    assert.deepEqual(await rows(), [], 'nothing written per request');
    assert.equal(t.app.services.updates.pings.pending(), 11);
    assert.equal(await t.app.services.updates.pings.flush(), 11);
    const one = ids['org.ping.One']!;
    const two = ids['org.ping.Two']!;
    assert.deepEqual(await rows(), [
      { activity_id: one, day: today, app_series: '0.110', count: 3 },
      { activity_id: one, day: today, app_series: '0.118', count: 6 },
      { activity_id: two, day: today, app_series: '', count: 2 },
    ]);
    for (let i = 0; i < 4; i++) await hit('org.ping.One', '0.118');
    await t.app.services.updates.pings.flush();
    assert.equal((await rows()).find((r) => r.activity_id === one && r.app_series === '0.118')!.count, 10);
    assert.equal(await t.app.services.updates.pings.flush(), 0, 'nothing left to write');
    // No address or device column exists at all.
    const cols = await sql<{
      column_name: string;
    }>`select column_name from information_schema.columns where table_name = 'update_pings' order by column_name`.execute(t.ctx.db);
    assert.deepEqual(
      cols.rows.map((c) => c.column_name),
      ['activity_id', 'app_series', 'count', 'day'],
    );
  });

  it('a graceful close flushes what is left', async () => {
    const second = await build(t.config, { context: t.ctx });
    await second.ready();
    for (let i = 0; i < 7; i++) await second.inject({ url: '/services/update-aslo.php?id=org.ping.Two&appVersion=0.86' });
    await second.close();
    const r = (await rows()).find((x) => x.activity_id === ids['org.ping.Two'] && x.app_series === '0.86');
    assert.equal(r?.count, 7);
  });

  it('a failed write keeps its counts for the next flush; a deleted activity does not spoil the batch', async () => {
    const counter = new MemoryPingCounter(t.ctx.db, { flushSeconds: 0 });
    // A batch against a closed table fails: simulate by renaming the table for a moment.
    counter.count(ids['org.ping.One']!, '0.96');
    counter.count(ids['org.ping.One']!, '0.96');
    await sql`alter table update_pings rename to update_pings_away`.execute(t.ctx.db);
    try {
      assert.equal(await counter.flush(), 0);
      assert.equal(counter.pending(), 2, 'kept for the retry');
    } finally {
      await sql`alter table update_pings_away rename to update_pings`.execute(t.ctx.db);
    }
    counter.count(999_999, '0.96'); // no such activity
    assert.equal(await counter.flush(), 3);
    assert.equal((await rows()).find((x) => x.app_series === '0.96')?.count, 2);
    assert.equal((await rows()).filter((x) => x.activity_id === 999_999).length, 0);
    await counter.close();
  });

  it('rolls the daily counts up into average daily users', async () => {
    const day = (n: number) => new Date(Date.now() - n * 86400_000).toISOString().slice(0, 10);
    const one = ids['org.ping.One']!;
    for (const [n, count] of [
      [1, 70],
      [2, 140],
      [3, 0],
      [9, 1000],
    ] as const) {
      await t.ctx.db
        .insertInto('update_pings')
        .values({ activity_id: one, day: day(n), app_series: '0.118', count })
        .execute();
    }
    await rollupAverageDailyUsers(t.ctx.db, 7);
    const a = await t.ctx.db.selectFrom('activities').select(['bundle_id', 'average_daily_users']).orderBy('bundle_id').execute();
    assert.deepEqual(
      a.map((x) => [x.bundle_id, x.average_daily_users]),
      [
        ['org.ping.One', 30],
        ['org.ping.Two', 0],
      ],
    );
  });
});

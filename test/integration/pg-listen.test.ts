// The LISTEN connection every cross-process notification rides on (src/platform/db/listen.ts):
// delivers its channel's payloads, reports a lost connection and, once it is back, that
// notifications may have been missed; a first connection that fails is retried; close() stops it.
// test-pass: postgres
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgListener } from '../../src/platform/db/listen.js';
import { createPgDatabase, TEST_DATABASE, TEST_PG_URL } from '../helpers/env.js';

const CHANNEL = 'aslo_listen_test';

async function within(ms: number, ok: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return ok();
}

describe('PgListener', { skip: TEST_DATABASE === 'postgres' ? false : 'needs PostgreSQL' }, () => {
  let db: { url: string; drop(): Promise<void> };
  let admin: pg.Client;
  before(async () => {
    db = await createPgDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  });
  after(async () => {
    await admin?.end();
    await db?.drop();
  });

  it('delivers notifications, reconnects after a loss and says so, stops on close', async () => {
    const got: string[] = [];
    const events: string[] = [];
    const listener = new PgListener({
      url: db.url,
      channel: CHANNEL,
      applicationName: 'aslo-listen-test',
      retryMs: { first: 50, max: 200 },
      onNotification: (payload) => got.push(payload),
      onConnected: (afterLoss) => events.push(afterLoss ? 'back' : 'up'),
      onLost: () => events.push('lost'),
    });
    await listener.start();
    assert.ok(listener.connected);
    assert.deepEqual(events, ['up']);
    await admin.query('select pg_notify($1, $2), pg_notify($3, $4)', [CHANNEL, 'one', 'other_channel', 'x']);
    assert.ok(await within(5000, () => got.length === 1));
    assert.deepEqual(got, ['one']);

    const killed = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'aslo-listen-test'`);
    assert.equal(killed.rowCount, 1);
    assert.ok(await within(5000, () => events.includes('back')), `events: ${events.join(' ')}`);
    assert.deepEqual(events, ['up', 'lost', 'back']);
    await admin.query('select pg_notify($1, $2)', [CHANNEL, 'two']);
    assert.ok(await within(5000, () => got.length === 2));

    await listener.close();
    assert.equal(listener.connected, false);
    const left = await admin.query(`select 1 from pg_stat_activity where application_name = 'aslo-listen-test'`);
    assert.equal(left.rowCount, 0);
  });

  it('a first connection that fails throws, then keeps trying and reports the connection it makes', async () => {
    const events: string[] = [];
    // A database that does not exist yet: created once the first attempt has failed.
    const name = `aslo_t_listen_${randomBytes(3).toString('hex')}`;
    const url = new URL(TEST_PG_URL);
    url.pathname = `/${name}`;
    const listener = new PgListener({
      url: url.toString(),
      channel: CHANNEL,
      applicationName: 'aslo-listen-test-late',
      retryMs: { first: 20, max: 100 },
      onNotification: () => {},
      onConnected: (afterLoss) => events.push(afterLoss ? 'back' : 'up'),
    });
    const server = new pg.Client({ connectionString: TEST_PG_URL });
    await server.connect();
    try {
      await assert.rejects(listener.start());
      assert.equal(listener.connected, false);
      await server.query(`create database ${name}`);
      assert.ok(await within(5000, () => listener.connected));
      assert.deepEqual(events, ['back']);
    } finally {
      await listener.close();
      await server.query(`drop database if exists ${name} with (force)`);
      await server.end();
    }
  });
});

// PostgreSQL that goes away and does not come back is fatal; one that comes
// back in time is not. The server is reached through a TCP relay on this machine that the test
// cuts and restores, so "gone" is real: connections reset, new ones refused.
// test-pass: postgres
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { sql } from 'kysely';
import { createPgDatabase, TEST_DATABASE } from '../helpers/env.js';
import { freePort } from '../helpers/ports.js';
import { openDatabase, type DatabaseHandle } from '../../src/platform/db/index.js';

class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  constructor(
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}
  async up(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
  }
  async down(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** Wait for a condition the code under test reaches by itself (bounded, never a fixed sleep). */
async function until(what: string, ok: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PostgreSQL lost for good', { skip: TEST_DATABASE === 'postgres' ? false : 'runs with ASLO_TEST_DATABASE=postgres' }, () => {
  let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;
  let relay: Relay;
  let handle: DatabaseHandle;
  before(async () => {
    pgdb = await createPgDatabase();
    const target = new URL(pgdb.url);
    relay = new Relay(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
    await relay.up();
    const via = new URL(pgdb.url);
    via.hostname = '127.0.0.1';
    via.port = String(relay.port);
    handle = await openDatabase({ url: via.toString(), poolSize: 2, giveUpAfterMs: 1000 });
  });
  after(async () => {
    await handle.close().catch(() => {});
    await relay.down();
    await pgdb.drop();
  });

  it('is not fatal when the server comes back in time, and fatal when it does not', async () => {
    await sql`select 1`.execute(handle.db);
    // Away briefly: queries fail, the database is marked down, and back up with the next success.
    await relay.down();
    await assert.rejects(sql`select 1`.execute(handle.db));
    assert.notEqual(handle.health.downSince, null);
    await relay.up();
    await until('a query succeeds again', () =>
      sql`select 1`.execute(handle.db).then(
        () => true,
        () => false,
      ),
    );
    assert.equal(handle.health.downSince, null);
    assert.equal(handle.health.fatal, null);

    // Away for good: past the limit the database is declared dead.
    let told: Error | null = null;
    handle.health.onFatal((e) => (told = e));
    await relay.down();
    await assert.rejects(sql`select 1`.execute(handle.db));
    await until('the database is declared dead', () => handle.health.fatal !== null);
    assert.match(String((told as Error | null)?.message), /unreachable/);
    // Everything fails at once with DB_FATAL now, readiness included, even with the server back.
    await relay.up();
    await assert.rejects(sql`select 1`.execute(handle.db), (e: { code?: string }) => e.code === 'DB_FATAL');
    await assert.rejects(handle.readiness(), (e: { code?: string }) => e.code === 'DB_FATAL');
  });
});

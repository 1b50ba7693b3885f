// A PostgreSQL connection that dies while the process holds it (a transaction open: the primary
// stopped, restarted, or the backend terminated by an operator) fails that transaction and nothing
// else: the process lives on and the next statements run on a new connection. node-postgres
// emits 'error' on such a client; without a listener that event ended the process (the topology
// test saw a web process exit when the primary stopped). PostgreSQL pass only.
// test-pass: postgres
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { TEST_DATABASE, createPgDatabase } from '../helpers/env.js';
import { openDatabase, type DatabaseHandle } from '../../src/platform/db/index.js';

const skip = TEST_DATABASE !== 'postgres' ? 'runs in the PostgreSQL pass (ASLO_TEST_DATABASE=postgres)' : false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a connection lost while held', { skip }, () => {
  let pgdb: { url: string; drop(): Promise<void> };
  let admin: pg.Client;
  const uncaught: Error[] = [];
  const onUncaught = (err: Error) => uncaught.push(err);

  before(async () => {
    pgdb = await createPgDatabase();
    admin = new pg.Client({ connectionString: pgdb.url });
    await admin.connect();
    // Caught here so that the test reports it (without this listener it would end the run).
    process.on('uncaughtException', onUncaught);
  });
  after(async () => {
    process.off('uncaughtException', onUncaught);
    await admin.end();
    await pgdb.drop();
  });

  /** Terminate the backend of an open transaction between two of its statements, as a server stop does. */
  async function killInsideTransaction(handle: DatabaseHandle): Promise<unknown> {
    try {
      await handle.db.transaction().execute(async (trx) => {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]!.pid;
        await admin.query('select pg_terminate_backend($1)', [pid]);
        // The server has closed the connection; the process sees it while still holding the client.
        for (let i = 0; i < 200; i++) {
          const r = await admin.query('select 1 from pg_stat_activity where pid = $1', [pid]);
          if (r.rowCount === 0) break;
          await sleep(10);
        }
        await sleep(200);
        await sql`select 1`.execute(trx);
      });
    } catch (err) {
      return err;
    }
    return null;
  }

  for (const mode of ['one server', 'with a read replica'] as const) {
    it(`fails the transaction, keeps the process alive and reconnects (${mode})`, async () => {
      const handle = await openDatabase({ url: pgdb.url, replicas: mode === 'one server' ? [] : [pgdb.url], poolSize: 2 });
      try {
        const err = await killInsideTransaction(handle);
        assert.ok(err, 'the transaction failed');
        if (mode === 'with a read replica') assert.equal((err as { code?: string }).code, 'DB_READ_ONLY');
        assert.deepEqual(
          uncaught.map((e) => e.message),
          [],
          'no uncaught error',
        );
        // The store goes on: new statements and transactions on fresh connections.
        await handle.replicas?.check();
        const n = await handle.db.transaction().execute(async (trx) => (await sql<{ n: number }>`select 41 + 1 as n`.execute(trx)).rows[0]!.n);
        assert.equal(n, 42);
      } finally {
        await handle.close();
      }
    });
  }
});

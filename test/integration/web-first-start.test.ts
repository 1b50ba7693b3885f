// The first start of a store, as `npm start` does it: a server started in this process on an
// empty instance loads the sample activities and gathers planner statistics on the embedded
// database (PGlite runs no autovacuum).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { startInProcessServer, type InProcessServer } from '../helpers/server.js';

describe('first start of a server', { timeout: 180_000 }, () => {
  let s: InProcessServer;
  before(async () => {
    s = await startInProcessServer({ sample: true });
  });
  after(async () => s?.stop());

  it('loads the sample activities into the empty catalog', async () => {
    const res = await fetch(`${s.url}/api/v1/activities?per_page=100`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { total: number };
    assert.ok(body.total >= 5, `sample activities: ${body.total}`);
  });

  it('has planner statistics for the catalog tables on the embedded database', async () => {
    if (s.ctx.database.kind !== 'pglite') return; // PostgreSQL's autovacuum does this itself
    const rows = await sql<{ tablename: string; n: number }>`select tablename, count(*)::int as n from pg_stats where schemaname = 'public' and tablename in ('activities', 'versions', 'files', 'activity_texts') group by tablename`.execute(s.ctx.db);
    const stats = Object.fromEntries(rows.rows.map((r) => [r.tablename, r.n]));
    for (const table of ['activities', 'versions', 'files', 'activity_texts']) assert.ok((stats[table] ?? 0) > 0, `no statistics on ${table}`);
  });
});

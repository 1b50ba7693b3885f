// Operations endpoints: Prometheus /metrics (requests by route, fast paths, pools, jobs), /readyz,
// /healthz, and JSON logs carrying the request id (taken from X-Request-Id when well-formed).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createTestEnv, type TestEnv } from '../helpers/env.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { build } from '../../src/app.js';
import { loggerOptions } from '../../src/platform/logging/index.js';
import { enqueue } from '../../src/platform/jobs/index.js';
import type { FastifyInstance } from 'fastify';

describe('metrics, readiness and request ids', () => {
  let env: TestEnv;
  let ctx: AppContext;
  let app: FastifyInstance;
  const lines: Record<string, unknown>[] = [];
  let base = '';

  before(async () => {
    env = await createTestEnv();
    ctx = await createContext(env.config, { migrate: true });
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    // At debug level every request writes one line (src/platform/logging RequestLog).
    app = await build(env.config, { context: ctx, logger: { ...loggerOptions(env.config, 'web'), level: 'debug', stream } as never });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const addr = app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
    await env?.cleanup();
  });

  it('answers /healthz and /readyz with the database and migration checks', async () => {
    const h = await fetch(`${base}/healthz`);
    assert.equal(h.status, 200);
    const r = await fetch(`${base}/readyz`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { status: string; checks: { database: { ok: boolean; mode: string }; migrations: { ok: boolean } } };
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.database.ok, true);
    assert.equal(body.checks.database.mode, 'read-write');
    assert.equal(body.checks.migrations.ok, true);
  });

  it('reports /readyz 503 while a migration is pending', async () => {
    const r0 = await fetch(`${base}/readyz`);
    assert.equal(r0.status, 200);
    // A fresh app on the same database, with one migration record removed: not ready.
    const env2 = await createTestEnv();
    const ctx2 = await createContext(env2.config, { migrate: true });
    try {
      await ctx2.db
        .deleteFrom('aslo_migrations' as never)
        .where('name' as never, '=', '0002_updates' as never)
        .execute();
      const app2 = await build(env2.config, { context: ctx2 });
      try {
        const res = await app2.inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 503);
        const body = res.json() as { checks: { migrations: { ok: boolean; pending: string[] } } };
        assert.deepEqual(body.checks.migrations.pending, ['0002_updates']);
      } finally {
        await app2.close();
      }
    } finally {
      await ctx2.close();
      await env2.cleanup();
    }
  });

  it('counts requests per route pattern, fast paths included, and exports pools and job queues', async () => {
    // Two jobs waiting in a queue no process handles: the queue depth is 2.
    for (const n of [1, 2]) await enqueue(ctx.db, 'test.metrics-depth', { n });
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/api/v1/activities`)).status, 200);
    const up = await fetch(`${base}/services/update-aslo.php?id=org.test.Nothing&appVersion=0.120`);
    assert.equal(up.status, 200);
    await up.arrayBuffer();
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 'NaN');
    assert.ok(count(/aslo_http_requests_total\{method="GET",route="\/api\/v1\/activities",status="200"[^}]*\} (\d+)/) >= 3, 'route pattern counted');
    assert.ok(count(/aslo_http_requests_total\{method="GET",route="\/services\/update-aslo.php",status="200"[^}]*\} (\d+)/) >= 1, 'fast path counted');
    assert.ok(count(/aslo_update_checks_total\{[^}]*\} (\d+)/) >= 1);
    const has = (re: RegExp, what: string) => assert.ok(re.test(text), `${what} in /metrics`);
    has(/aslo_http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/activities"/, 'latency histogram');
    has(/aslo_jobs_dead\{[^}]*\} \d+/, 'dead jobs');
    assert.equal(count(/aslo_jobs_pending\{[^}]*queue="test.metrics-depth"[^}]*\} (\d+)/), 2, 'job queue depth');
    has(/aslo_cache_requests_total\{[^}]*layer="lru"/, 'cache hits and misses');
    has(/aslo_cache_redis_up/, 'cache state');
    has(/aslo_process_resident_memory_bytes/, 'process metrics');
    if (ctx.database.kind === 'postgres') has(/aslo_db_pool_connections\{[^}]*pool="primary"/, 'pool use');
  });

  it('carries the request id: from X-Request-Id when well-formed, into the answer and the log lines', async () => {
    const res = await fetch(`${base}/api/v1/activities/org.test.Missing`, { headers: { 'x-request-id': 'lb-abc123' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-request-id'), 'lb-abc123');
    const own = await fetch(`${base}/api/v1/activities`, { headers: { 'x-request-id': 'bad id with spaces <script>' } });
    const id = own.headers.get('x-request-id') ?? '';
    assert.match(id, /^[0-9a-f]{16}$/);
    const mine = lines.filter((l) => l.reqId === 'lb-abc123');
    assert.deepEqual(
      mine.filter((l) => l.level === 20).map((l) => [l.msg, l.status]),
      [['GET /api/v1/activities/org.test.Missing', 404]],
      'one line for the request, with its id',
    );
    for (const l of mine) {
      assert.equal(l.instance, env.config.instance);
      assert.equal(l.role, 'web');
      assert.equal(typeof l.time, 'string');
    }
  });
});

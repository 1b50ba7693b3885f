// The operations endpoints and hooks of every role: GET /metrics (Prometheus text), GET /readyz
// (can this process serve: database reachable, migrations applied, not shutting down, and what the
// app adds, like the updater's index loaded), request
// metrics for Fastify routes and for the fast paths that answer before Fastify (the updater's
// RDF, published downloads), and the X-Request-Id answer header.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastPathServer } from '../http/fast-path-server.js';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { appliedMigrationNames, MIGRATIONS } from '../db/migrate.js';
import { jobCountsByQueue } from '../jobs/queries.js';
import { REQUEST_ID_HEADER } from '../logging/index.js';
import type { Metrics } from './index.js';
import { READ_ONLY_RETRY_SECONDS, runWithReadScope, type ReadScope } from '../db/replicas.js';

/** The read-your-writes cookie: until this time (ms since epoch), this client reads from the primary. */
export const PRIMARY_COOKIE = 'aslo_primary';

function pinnedUntil(cookieHeader: string | undefined): number {
  if (!cookieHeader) return 0;
  const m = new RegExp(`(?:^|;\\s*)${PRIMARY_COOKIE}=(\\d{1,15})`).exec(cookieHeader);
  return m ? Number(m[1]) : 0;
}

const UPDATE_PATHS = new Set(['/services/update-aslo.php', '/services/update.php']);

/** Where /metrics text comes from: this process, or (under --workers N) every worker added up. */
export type MetricsSource = () => Promise<{ text: string; contentType: string }>;
let clusterSource: MetricsSource | null = null;

/** Installed by a cluster worker so /metrics answers for the whole cluster (src/platform/cluster). */
export function setClusterMetricsSource(source: MetricsSource | null): void {
  clusterSource = source;
}

/** Route label of a request answered before Fastify (bounded set: never the raw URL). */
function fastRoute(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (UPDATE_PATHS.has(path)) return path;
  if (path.startsWith('/repo/')) return '/repo/*';
  if (path.startsWith('/downloads/file/')) return '/downloads/file/*';
  return 'fast-path';
}

function statusOf(code: number): string {
  return String(code);
}

/**
 * Counts and times the requests a fast path answered (Fastify's are measured by the hooks below).
 * The app's server (src/platform/http/fast-path-server.ts) says which requests its fast paths took: most (a
 * redirect, an update check from memory) are answered before the call returns and are recorded at
 * once, without a listener per request; the others when their answer is finished.
 */
export function instrumentServer(server: Pick<FastPathServer, 'onFastAnswer'>, metrics: Metrics): void {
  const record = (req: IncomingMessage, res: ServerResponse, startedAt: number) => {
    const route = fastRoute(req.url ?? '/');
    const method = req.method ?? 'GET';
    metrics.httpRequests.inc({ method, route, status: statusOf(res.statusCode) });
    metrics.httpDuration.observe({ method, route }, (performance.now() - startedAt) / 1000);
    if (UPDATE_PATHS.has(route)) metrics.updateChecks.inc();
  };
  server.onFastAnswer = (req, res, startedAt) => {
    if (res.writableEnded) record(req, res, startedAt);
    else res.once('finish', () => record(req, res, startedAt));
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export interface OpsOptions {
  /** More conditions of /readyz, by name: each says whether it holds (with details for the answer). */
  readiness?: Record<string, () => { ok: boolean } & Record<string, unknown>>;
}

const opsPlugin: FastifyPluginAsync<OpsOptions> = async (app: FastifyInstance, opts: OpsOptions) => {
  const ctx = app.ctx;
  const metrics = ctx.metrics;
  let draining = false;
  let migrationsOk = false;
  app.addHook('onClose', async () => {
    draining = true;
  });

  instrumentServer(app.server as unknown as FastPathServer, metrics);

  app.addHook('onRequest', async (req, reply) => {
    void reply.header(REQUEST_ID_HEADER, req.id);
  });

  // Read routing (src/platform/db/replicas.ts): each request is a scope whose reads may use a
  // replica, unless this client wrote in the last few seconds (cookie) or the request wrote.
  if (ctx.database.replicas) {
    const windowMs = ctx.config.database.readYourWritesSeconds * 1000;
    const scopeOf = new WeakMap<object, ReadScope>();
    app.addHook('onRequest', (req, _reply, done) => {
      const pinned = pinnedUntil(req.headers.cookie) > Date.now();
      const scope: ReadScope = { replicaOk: !pinned, wrote: false };
      scopeOf.set(req, scope);
      runWithReadScope(scope, done);
    });
    app.addHook('onSend', async (req, reply, payload) => {
      if (scopeOf.get(req)?.wrote) {
        const until = Date.now() + windowMs;
        void reply.header('set-cookie', `${PRIMARY_COOKIE}=${until}; Max-Age=${Math.ceil(windowMs / 1000)}; Path=/; HttpOnly; SameSite=Lax`);
      }
      return payload;
    });
  }
  // Every 503 (read-only mode, no database) tells clients and balancers when to come back.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', String(READ_ONLY_RETRY_SECONDS));
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const method = req.method;
    metrics.httpRequests.inc({ method, route, status: statusOf(reply.statusCode) });
    metrics.httpDuration.observe({ method, route }, reply.elapsedTime / 1000);
    if (UPDATE_PATHS.has(route)) metrics.updateChecks.inc();
    // Redirects per mirror are counted by the download service itself (src/downloads/service.ts).
  });

  // Queue depth of the durable jobs (any role can report it: it is one grouped count).
  const unregister = metrics.onCollect(async () => {
    const rows = await withTimeout(jobCountsByQueue(ctx.db), 2000, 'jobs');
    metrics.jobsPending.reset();
    let dead = 0;
    for (const r of rows) {
      metrics.jobsPending.set({ queue: r.queue }, Number(r.pending));
      dead += Number(r.dead);
    }
    metrics.jobsDead.set(dead);
  });
  app.addHook('onClose', async () => {
    unregister();
  });

  app.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const out = clusterSource ? await clusterSource() : { text: await metrics.text(), contentType: metrics.contentType };
    void reply.header('content-type', out.contentType).header('cache-control', 'no-store');
    return out.text;
  });

  app.get('/readyz', { schema: { hide: true }, logLevel: 'warn' }, async (_req, reply) => {
    const checks: Record<string, unknown> = {};
    let ready = !draining;
    if (draining) checks.process = { ok: false, error: 'shutting down' };
    const db = ctx.database;
    try {
      const state = await withTimeout(db.readiness(), 3000, 'database');
      checks.database = { ok: true, ...state };
    } catch (err) {
      ready = false;
      checks.database = { ok: false, error: (err as Error).message };
    }
    if (!migrationsOk) {
      try {
        const done = new Set(await withTimeout(appliedMigrationNames(db.readDb()), 3000, 'migrations'));
        const pending = Object.keys(MIGRATIONS).filter((n) => !done.has(n));
        migrationsOk = pending.length === 0;
        checks.migrations = migrationsOk ? { ok: true } : { ok: false, pending };
        if (!migrationsOk) ready = false;
      } catch (err) {
        ready = false;
        checks.migrations = { ok: false, error: (err as Error).message };
      }
    } else checks.migrations = { ok: true };
    for (const [name, check] of Object.entries(opts.readiness ?? {})) {
      const state = check();
      checks[name] = state;
      if (!state.ok) ready = false;
    }
    void reply.status(ready ? 200 : 503).header('cache-control', 'no-store');
    return { status: ready ? 'ready' : 'not ready', pid: process.pid, checks };
  });
};

export default fp(opsPlugin, { name: 'aslo-ops' });

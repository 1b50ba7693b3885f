// Builds the Fastify application of one instance from its config. Only the server entry point
// (src/server.ts) listens; tests call build() and use app.inject() against the real app.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AsloConfig } from './platform/config.js';
import type { AppContext } from './platform/context.js';
import { answerError, classifyError, errorBody } from './platform/errors.js';
import { boundIntegers, installRequestGuard, MULTIPART_ALLOWANCE_BYTES, PROBLEMS } from './platform/request-guard.js';
import { catalogRoutes } from './catalog/routes.js';
import { downloadRoutes } from './downloads/routes.js';
import { webRoutes } from './web/routes.js';
import { UpdateFastPath } from './updates/fast-path.js';
import { updateRoutes } from './updates/routes.js';
import accountsPlugin from './accounts/plugin.js';
import reviewPlugin from './review/plugin.js';
import { hubRoutes } from './web/hub/index.js';
import { buildRoutes } from './build/routes.js';
import { DownloadFastPath } from './downloads/fast-path.js';
import { fastPathServerFactory } from './platform/http/fast-path-server.js';
import { mirrorAdminRoutes } from './web/mirrors/admin.js';
import { mirrorlistPage } from './web/downloads/mirrorlist.js';
import { downloadStatsRoutes } from './downloads/stats.js';
import { RequestLog, requestIdOf } from './platform/logging/index.js';
import opsPlugin from './platform/metrics/plugin.js';
import securityHeadersPlugin from './web/security-headers.js';
import { compose, type Composition, type Services } from './composition.js';
import { API_TAGS } from './platform/schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    /** Every service of this instance, made once by the composition root (src/composition.ts). */
    services: Services;
    /** Every route of the app with its schema, as registered (the route-walk test tries each). */
    registeredRoutes: RegisteredRoute[];
  }
}

export interface RegisteredRoute {
  method: string;
  url: string;
  schema?: { params?: unknown; querystring?: unknown; body?: unknown };
  handler: unknown;
}

export type { Services } from './composition.js';

export interface BuildOptions {
  /** Reuse an existing context (tests, or a CLI that already opened the database). */
  context?: AppContext;
  /** Close that context when the app closes (the server hands its context over; default: only a context the app created). */
  ownsContext?: boolean;
  logger?: FastifyServerOptions['logger'];
  /** Which part of the store this process serves (aslo serve --role): all (default), web, download, worker. */
  role?: 'all' | 'web' | 'download' | 'worker';
  /**
   * Return before the updater's index is loaded (src/server.ts: the process listens meanwhile;
   * update checks wait for the index and /readyz answers 503 until it is loaded). By default
   * build() returns with the index loaded.
   */
  indexInBackground?: boolean;
}

export async function build(config: AsloConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  // The legacy update check is answered by the HTTP server itself, before Fastify (src/updates/fast-path.ts).
  const updateFastPath = new UpdateFastPath();
  // Published downloads are answered the same way (src/downloads/fast-path.ts).
  const downloadFastPath = new DownloadFastPath();
  const role = opts.role ?? 'all';
  // The largest body any route takes: an upload, with its form around it.
  const maxBodyBytes = config.bundles.maxUploadBytes + MULTIPART_ALLOWANCE_BYTES;
  const app = Fastify({
    serverFactory: fastPathServerFactory([updateFastPath, downloadFastPath], { maxBodyBytes }),
    logger: opts.logger ?? false,
    // One line per request, at debug level, instead of Fastify's two at info (src/platform/logging).
    logController: new RequestLog(),
    trustProxy: config.server.trustedProxies.length > 0 ? config.server.trustedProxies : false,
    // Sugar sends ids unencoded; bundle ids may hold any character but '/'.
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: true },
    // The balancer's X-Request-Id when well-formed, else a new id (src/platform/logging).
    genReqId: requestIdOf,
    // What the router refuses before any hook runs: a path it cannot decode (a malformed
    // percent-escape: the same answer as the request guard's) or a parameter too long.
    frameworkErrors: (err, _req, r) => {
      const reply = r as unknown as FastifyReply;
      const code = (err as { code?: string }).code;
      if (code === 'FST_ERR_BAD_URL') void reply.status(400).send(errorBody(PROBLEMS.encoding.code, 'The address holds a malformed percent-escape.'));
      else if (code === 'FST_ERR_MAX_PARAM_LENGTH') void reply.status(414).send(errorBody('URL_TOO_LONG', 'A part of this address is too long.'));
      else void reply.status(400).send(errorBody('BAD_REQUEST', err.message));
    },
  });
  const registeredRoutes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', registeredRoutes);
  app.addHook('onRoute', (r) => {
    const schema = r.schema as RegisteredRoute['schema'] | undefined;
    if (schema) for (const part of [schema.params, schema.querystring, schema.body]) boundIntegers(part);
    for (const method of [r.method].flat())
      registeredRoutes.push({ method: String(method), url: r.url, schema: r.schema as RegisteredRoute['schema'], handler: r.handler });
  });
  // NUL bytes, invalid UTF-8, oversized and malformed bodies: refused before any route (src/platform/request-guard.ts).
  installRequestGuard(app, { maxBodyBytes });
  // Every connection and service, made once (src/composition.ts). Its close is the first onClose
  // hook, so it runs last (Fastify runs them in reverse): after everything that still uses them.
  const composition = await compose(config, {
    context: opts.context,
    ownsContext: opts.ownsContext,
    // Sessions and rate limits are shared through Redis by the processes that serve requests.
    redis: role !== 'worker',
    log: { info: (m) => app.log.info(m), warn: (m) => app.log.warn(m), warnWithError: (err, m) => app.log.warn({ err }, m) },
  });
  app.addHook('onClose', async () => composition.close());
  const ctx = composition.ctx;
  app.decorate('ctx', ctx);
  app.decorate('services', composition.services);
  decorateServices(app, composition);
  // Built from the database now: the updater's index (roles all and web; or loading after
  // build() returns, indexInBackground), the repo tree with the verified mirrors and download
  // counts (roles all and download, src/downloads).
  try {
    await composition.start(role, { indexInBackground: opts.indexInBackground });
  } catch (err) {
    // No app to close yet: give back what was opened (Redis, and the context when it is ours).
    await composition.close().catch(() => {});
    throw err;
  }
  if (role === 'all' || role === 'web') updateFastPath.service = composition.services.updates;
  if (role === 'all' || role === 'download') downloadFastPath.service = composition.services.downloads;

  // JSON errors for the API, the updater and the operations endpoints; the store and the hub set
  // their own handlers, which answer the same way as pages (src/platform/errors.ts answerError).
  app.setErrorHandler((err, req, reply) => {
    void answerError(err, req, reply);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody('NOT_FOUND', `Nothing at ${req.method} ${req.url.split('?')[0]}.`));
  });

  // Alive unless the database died (src/platform/db/fatal.ts): then the process is on its way out.
  const healthz = async (_req: unknown, reply: FastifyReply) => {
    const fatal = ctx.database.health.fatal;
    if (fatal) return reply.status(503).send({ status: 'fatal', error: { code: 'DB_FATAL', message: fatal.message } });
    return { status: 'ok' };
  };
  if (role === 'worker') {
    // The worker role runs the background jobs (src/server.ts); its port answers only the
    // operations endpoints, for the monitoring, and is never behind the balancer.
    app.get('/healthz', { schema: { hide: true } }, healthz);
    await app.register(opsPlugin);
    return app;
  }

  await app.register(securityHeadersPlugin); // nosniff, CSP, frame denial, HSTS (src/web/security-headers.ts)
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'aslo API', description: 'The Sugar activity library: catalog read API.', version: '1' },
      servers: [{ url: config.server.baseUrl }],
      // The groups of /api/docs (src/platform/schemas.ts); HTML pages and forms are hidden from it.
      tags: [...API_TAGS],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  // Accounts first: sessions, CSRF, rate limits and req.viewer() are used by the routes below.
  await app.register(accountsPlugin);
  await app.register(reviewPlugin);

  app.get('/healthz', { schema: { hide: true } }, healthz);
  // /metrics, /readyz, request metrics and X-Request-Id (src/platform/metrics/plugin.ts). Ready
  // also needs the updater's index loaded, in the roles that answer update checks.
  const updates = role === 'all' || role === 'web' ? composition.services.updates : null;
  await app.register(opsPlugin, { readiness: updates ? { updateIndex: () => updates.readiness() } : {} });

  if (role === 'download') {
    await app.register(downloadRoutes, { mirrorlistPage });
    return app;
  }
  await app.register(catalogRoutes);
  await app.register(updateRoutes);
  await app.register(downloadRoutes, { mirrorlistPage });
  await app.register(mirrorAdminRoutes);
  await app.register(downloadStatsRoutes);
  await app.register(webRoutes);
  await app.register(hubRoutes);
  await app.register(buildRoutes); // publishing from git: source API, release webhooks (src/build/routes.ts)
  return app;
}

/** The services under their own names too (`app.accounts`, `app.review`, ...): the same objects as `app.services`. */
function decorateServices(app: FastifyInstance, c: Composition): void {
  const s = c.services;
  app.decorate('redis', c.redis);
  app.decorate('mailer', c.mailer);
  app.decorate('accounts', s.accounts);
  app.decorate('downloads', s.downloads);
  app.decorate('publishing', s.publishing);
  app.decorate('review', s.review);
  app.decorate('listing', s.listing);
  app.decorate('ratings', s.ratings);
}

// Builds the Fastify application of one instance from its config. Only the server entry point
// (src/server.ts) listens; tests call build() and use app.inject() against the real app.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { AsloConfig } from './platform/config.js';
import { createContext, type AppContext } from './platform/context.js';
import { isAsloError } from './platform/errors.js';
import { catalogRoutes } from './catalog/routes.js';
import { downloadRoutes } from './downloads/routes.js';
import { homeRoutes } from './web/routes.js';
import { CatalogService } from './catalog/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    ctx: AppContext;
    services: Services;
  }
}

export interface Services {
  catalog: CatalogService;
}

export interface BuildOptions {
  /** Reuse an existing context (tests, or a CLI that already opened the database). */
  context?: AppContext;
  logger?: FastifyServerOptions['logger'];
}

export async function build(config: AsloConfig, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const ctx = opts.context ?? (await createContext(config));
  const ownsContext = !opts.context;
  const app = Fastify({
    logger: opts.logger ?? false,
    trustProxy: config.server.trustedProxies.length > 0 ? config.server.trustedProxies : false,
    // Sugar sends ids unencoded; bundle ids may hold any character but '/'.
    routerOptions: { maxParamLength: 500, ignoreTrailingSlash: true },
    genReqId: () => Math.random().toString(36).slice(2, 12),
  });
  app.decorate('ctx', ctx);
  app.decorate('services', { catalog: new CatalogService(ctx) });
  if (ownsContext) app.addHook('onClose', async () => ctx.close());

  app.setErrorHandler((err, req, reply) => {
    if (isAsloError(err)) {
      void reply.status(err.statusCode).send({ error: { code: err.code, message: err.message, details: err.details } });
      return;
    }
    const e = err as { statusCode?: number; code?: string; message: string; validation?: unknown };
    if (e.validation) {
      void reply.status(400).send({ error: { code: 'BAD_REQUEST', message: e.message } });
      return;
    }
    if (e.statusCode && e.statusCode < 500) {
      void reply.status(e.statusCode).send({ error: { code: e.code ?? 'BAD_REQUEST', message: e.message } });
      return;
    }
    req.log.error({ err }, 'unhandled error');
    void reply.status(500).send({ error: { code: 'INTERNAL', message: 'Something went wrong on our side. The error was logged; please try again.' } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: `Nothing at ${req.method} ${req.url.split('?')[0]}.` } });
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'aslo API', description: 'The Sugar activity library: catalog read API.', version: '1' },
      servers: [{ url: config.server.baseUrl }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  await app.register(catalogRoutes);
  await app.register(downloadRoutes);
  await app.register(homeRoutes);
  return app;
}

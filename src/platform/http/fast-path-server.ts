// One node:http server for the app whose request listener first offers each request to the
// fast paths (the updater's RDF answers, the download redirector), then to Fastify. A fast path
// answers from process memory at close to the cost of a bare node:http server.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import { urlProblem } from '../request-guard.js';

export interface FastPath {
  /** True when it answered (or started answering) the request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

/** The server made by fastPathServerFactory: metrics plug in to see what the fast paths answered. */
export interface FastPathServer extends http.Server {
  /** Called for each request a fast path took, with performance.now() at its arrival. */
  onFastAnswer: ((req: IncomingMessage, res: ServerResponse, startedAt: number) => void) | null;
}

/**
 * `maxBodyBytes`: a request that declares a larger body and asks `Expect: 100-continue` is not
 * told to continue (Fastify answers it 413 without reading it, src/platform/request-guard.ts).
 */
export function fastPathServerFactory(paths: FastPath[], opts: { maxBodyBytes?: number } = {}): NonNullable<FastifyServerOptions['serverFactory']> {
  return ((handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions) => {
    const server = http.createServer((req, res) => {
      // A URL with a NUL byte or invalid UTF-8 is no fast path's: Fastify refuses it (400) the
      // same way however it arrives.
      if (urlProblem(req.url ?? '/') !== null) {
        handler(req, res);
        return;
      }
      const observe = server.onFastAnswer;
      const startedAt = observe === null ? 0 : performance.now();
      for (const p of paths) {
        let done = false;
        try {
          done = p.handle(req, res);
        } catch {
          done = res.headersSent;
        }
        if (done) {
          if (observe !== null) observe(req, res, startedAt);
          return;
        }
      }
      handler(req, res);
    }) as FastPathServer;
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const declared = Number(req.headers['content-length']);
      if (!(opts.maxBodyBytes !== undefined && declared > opts.maxBodyBytes)) res.writeContinue();
      server.emit('request', req, res);
    });
    server.onFastAnswer = null;
    if (options.keepAliveTimeout) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout) server.setTimeout(options.connectionTimeout);
    return server;
  }) as unknown as NonNullable<FastifyServerOptions['serverFactory']>;
}

// The update check is the most-called request of the whole store (every laptop, every installed
// activity). When the app listens, its HTTP server answers the two legacy RDF paths itself, from
// the in-memory index, before Fastify's router, hooks and logging run: the same answer as the
// Fastify route (both call UpdateService.answerUpdate), at close to the cost of a bare node:http
// server (bench/update-service). Everything else goes to Fastify unchanged.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyServerOptions } from 'fastify';
import type { UpdateService } from './service.js';
import { UPDATE_PATHS } from './routes.js';

const PATHS = new Set(UPDATE_PATHS);

/** If-None-Match from the raw header list: reading req.headers would build the whole object. */
function ifNoneMatchOf(raw: string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'if-none-match') found = found === undefined ? raw[i + 1] : `${found}, ${raw[i + 1]}`;
  }
  return found;
}

export class UpdateFastPath {
  service: UpdateService | null = null;

  /** True when it answered the request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const service = this.service;
    if (!service) return false;
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!PATHS.has(path)) return false;
    const out = service.answerUpdate(method, url, ifNoneMatchOf(req.rawHeaders));
    res.writeHead(out.status, out.headers);
    res.end(out.body ?? undefined);
    return true;
  }

  /** Fastify's serverFactory: a node:http server that tries the fast path first. */
  serverFactory(): NonNullable<FastifyServerOptions['serverFactory']> {
    return ((handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions) => {
      const server = http.createServer((req, res) => {
        let done = false;
        try {
          done = this.handle(req, res);
        } catch {
          done = false;
        }
        if (!done) handler(req, res);
      });
      // What Fastify sets on the servers it creates itself.
      if (options.keepAliveTimeout) server.keepAliveTimeout = options.keepAliveTimeout;
      if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
      if (options.connectionTimeout) server.setTimeout(options.connectionTimeout);
      return server;
    }) as unknown as NonNullable<FastifyServerOptions['serverFactory']>;
  }
}

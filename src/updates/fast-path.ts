// The update check is the most-called request of the whole store (every laptop, every installed
// activity). When the app listens, its HTTP server answers the two legacy RDF paths itself, from
// the in-memory index, before Fastify's router, hooks and logging run: the same answer as the
// Fastify route (both call UpdateService.answerUpdate), at close to the cost of a bare node:http
// server (bench/update-service). Everything else goes to Fastify unchanged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastPath } from '../platform/http/fast-path-server.js';
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

/** Offered every request first by the app's server (src/platform/http/fast-path-server.ts fastPathServerFactory). */
export class UpdateFastPath implements FastPath {
  service: UpdateService | null = null;

  /** True when it answered the request. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const service = this.service;
    // Until the index is loaded, the route answers (it waits for the index, then 503).
    if (!service?.ready) return false;
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
}

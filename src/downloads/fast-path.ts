// The download service's fast path: published downloads answered by the app's server before
// Fastify (src/platform/http/fast-path-server.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastPath } from '../platform/http/fast-path-server.js';

/** Adapts a download service that may not exist yet (it is built after the server). */
export class DownloadFastPath implements FastPath {
  service: { tryHandle(req: IncomingMessage, res: ServerResponse): boolean } | null = null;
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    return this.service ? this.service.tryHandle(req, res) : false;
  }
}

// How the store's pages are sent: an ETag from the bytes (a revisit costs a 304, not the page),
// Cache-Control by audience, gzip when the client accepts it, and the security headers. Pages
// are the same for every anonymous visitor of one URL, except where the User-Agent decides
// (Sugar-aware download buttons): those say so with Vary.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

export interface SendOptions {
  status?: number;
  /** The page differs by User-Agent (Sugar's browser). */
  varyUserAgent?: boolean;
  /** Seconds a browser or proxy may reuse it; 0 = always revalidate. */
  maxAge?: number;
  /** Personal (a logged-in viewer): never stored by shared caches. */
  personal?: boolean;
  /** Never stored at all, not even by the browser (previews of activities that are not public). */
  noStore?: boolean;
  type?: string;
}

export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export function sendBody(req: FastifyRequest, reply: FastifyReply, body: string, opts: SendOptions = {}): FastifyReply {
  const status = opts.status ?? 200;
  const etag = etagOf(body);
  const vary = ['Accept-Encoding', 'Cookie', ...(opts.varyUserAgent ? ['User-Agent'] : [])].join(', ');
  const maxAge = opts.maxAge ?? 60;
  void reply
    .header('content-type', opts.type ?? 'text/html; charset=utf-8')
    .header(
      'cache-control',
      opts.noStore ? 'private, no-store' : opts.personal ? 'private, no-cache' : status === 200 ? `public, max-age=${maxAge}` : 'public, max-age=30',
    )
    .header('vary', vary)
    .header('x-content-type-options', 'nosniff');
  if ((opts.type ?? 'text/html').startsWith('text/html')) {
    void reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin');
  }
  if (status === 200) {
    void reply.header('etag', etag);
    if (matches(req.headers['if-none-match'] as string | undefined, etag)) return reply.status(304).send();
  }
  void reply.status(status);
  const accepts = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  if (accepts && body.length > 1024 && req.method !== 'HEAD') {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body, { level: 6 }));
  }
  return reply.send(body);
}

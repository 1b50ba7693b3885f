// Security headers on every answer Fastify sends: the store's pages, the hub and admin pages,
// error pages, redirects, the API and its documentation. A route that sets one of these headers
// itself (an SVG icon's stricter CSP, for example) keeps its own value.
//
// - X-Content-Type-Options: nosniff: browsers never guess a type (an upload served as text
//   is never run as a script or page).
// - Referrer-Policy: same-origin: addresses of the store's pages (with their query strings)
//   are not sent to other sites.
// - Content-Security-Policy: pages run scripts only from the store's own files (no inline
//   script, no eval), no plugins, no <base>, forms post only to the store; the API documentation
//   (Swagger UI) also needs inline styles and data: images. Anything that is not a page gets
//   default-src 'none'. Every answer says frame-ancestors 'none' and X-Frame-Options: DENY
//   (older browsers): no other site may frame the store (clickjacking on the hub's forms).
// - Strict-Transport-Security when server.baseUrl is https: browsers keep to https for a year.
//
// Not covered, by decision: the updater's and the redirector's fast paths (src/updates/fast-path.ts,
// src/downloads/fast-path.ts) answer before Fastify with RDF/XML for Sugar and with redirects or
// bundle bytes; they are read by Sugar, not rendered as pages, and carry no forms, so these headers
// would protect nothing there, and those paths stay as cheap as a bare server (docs/accounts-and-review.md).
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { PAGE_CSP } from './http.js';

export const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
export const NON_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
export const HSTS = 'max-age=31536000';

async function securityHeaders(app: FastifyInstance): Promise<void> {
  const https = app.ctx.config.server.baseUrl.startsWith('https:');
  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('x-content-type-options')) void reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('referrer-policy')) void reply.header('referrer-policy', 'same-origin');
    if (!reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'DENY');
    const csp = reply.getHeader('content-security-policy');
    if (csp === undefined) {
      const type = String(reply.getHeader('content-type') ?? '');
      const page = type.startsWith('text/html') || type.startsWith('application/xhtml+xml');
      void reply.header('content-security-policy', !page ? NON_PAGE_CSP : req.url.startsWith('/api/docs') ? DOCS_CSP : PAGE_CSP);
    } else if (!/frame-ancestors/.test(String(csp))) {
      void reply.header('content-security-policy', `${String(csp)}; frame-ancestors 'none'`);
    }
    if (https) void reply.header('strict-transport-security', HSTS);
    return payload;
  });
}

export default fp(securityHeaders, { name: 'aslo-security-headers' });

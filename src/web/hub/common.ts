// What every hub page handler shares: the viewer and a CSRF token for its forms, HTML replies,
// redirects after a POST, and the HTML error page of the hub's routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAsloError } from '../../platform/errors.js';
import type { Viewer } from '../../accounts/access.js';
import { html, page, type SafeHtml } from './layout.js';

export interface PageCtx {
  viewer: Viewer;
  csrf: string;
}

export async function pageCtx(req: FastifyRequest, reply: FastifyReply): Promise<PageCtx> {
  const viewer = await req.viewer();
  const csrf = await reply.generateCsrf();
  return { viewer, csrf };
}

export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'")
    .send(body);
}

/** Only same-site paths are followed after a log-in (no open redirects). */
export function safeNext(next: unknown, fallback = '/developers'): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : fallback;
}

export function redirect(reply: FastifyReply, to: string): FastifyReply {
  return reply.status(303).header('location', to).send();
}

/** For GET pages that need a login: send anonymous visitors to the login page. */
export async function loginOrRedirect(req: FastifyRequest, reply: FastifyReply): Promise<Viewer | undefined> {
  const viewer = await req.viewer();
  if (!viewer) {
    void redirect(reply, `/account/login?next=${encodeURIComponent(req.url)}`);
    return undefined;
  }
  return viewer;
}

export function field(body: unknown, name: string): string {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
}

export function fieldList(body: unknown, name: string): string[] {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  if (Array.isArray(v)) return v.map(String);
  return typeof v === 'string' && v ? [v] : [];
}

const ERROR_TITLES: Record<number, string> = { 400: 'That did not work', 401: 'Log in first', 403: 'Not allowed', 404: 'Not found', 409: 'Conflict', 413: 'Too large', 422: 'Not accepted', 429: 'Too many attempts' };

/** The hub's error handler: the same codes as the API, on an HTML page. */
export function installHtmlErrors(app: FastifyInstance): void {
  app.setErrorHandler(async (err, req, reply) => {
    let status = 500;
    let code = 'INTERNAL';
    let message = 'Something went wrong on our side. The error was logged; please try again.';
    const e = err as { statusCode?: number; code?: string; message: string; validation?: unknown };
    if (isAsloError(err)) {
      status = err.statusCode;
      code = err.code;
      message = err.message;
    } else if (typeof e.code === 'string' && e.code.startsWith('FST_CSRF')) {
      status = 403;
      code = 'CSRF_INVALID';
      message = 'This form has expired or did not come from this site. Go back, reload the page and try again.';
    } else if (e.validation) {
      status = 400;
      code = 'BAD_REQUEST';
      message = e.message;
    } else if (e.statusCode && e.statusCode < 500) {
      status = e.statusCode;
      code = e.code ?? 'BAD_REQUEST';
      message = e.message;
    } else {
      req.log.error({ err }, 'unhandled error');
    }
    if (status === 401 && req.method === 'GET') return redirect(reply, `/account/login?next=${encodeURIComponent(req.url)}`);
    let viewer: Viewer = null;
    try {
      viewer = await req.viewer();
    } catch {
      viewer = null;
    }
    const body: SafeHtml = html`<p>Go back to the previous page to try again, or <a href="/">go home</a>.</p>`;
    return sendPage(reply, page({ title: ERROR_TITLES[status] ?? 'Error', viewer, error: { code, message } }, body), status);
  });
}

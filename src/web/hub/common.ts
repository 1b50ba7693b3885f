// What every hub page handler shares: the viewer, a CSRF token for its forms and the visitor's
// language, HTML replies, redirects after a POST, and the HTML error page of the hub's routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AsloError, answerError, type ErrorPageRenderer } from '../../platform/errors.js';
import { parseId } from '../../platform/request-guard.js';
import type { Viewer } from '../../accounts/access.js';
import { DEFAULT_LOCALE, matchLocale, negotiateLocale, translator, type Translator } from '../i18n.js';
import { LOCALE_COOKIE } from '../context.js';
import { PAGE_CSP } from '../http.js';
import { html, markup, page, type SafeHtml } from './layout.js';

export interface PageCtx {
  viewer: Viewer;
  csrf: string;
  /** The visitor's language. */
  l: Translator;
  /** Where the language menu comes back to. */
  path: string;
}

/**
 * The language of the hub's pages, whose addresses hold no locale: the choice made with the
 * language menu in this browser (the aslo_lang cookie, as the store uses it), else the account's
 * language (its settings page), else Accept-Language, else English.
 */
export function hubLocale(req: FastifyRequest, viewer: Viewer): string {
  return matchLocale(req.cookies?.[LOCALE_COOKIE]) ?? matchLocale(viewer?.locale) ?? negotiateLocale(req.headers['accept-language']) ?? DEFAULT_LOCALE;
}

/** A GET address showing this page again: the page itself, or for a POST without a page of its own, its section. */
function pagePath(req: FastifyRequest): string {
  if (req.method === 'GET') return req.url;
  const path = req.url.split('?')[0] ?? '/';
  const route = req.routeOptions?.url;
  if (route && req.server.hasRoute({ method: 'GET', url: route })) return path;
  return path.startsWith('/account') ? '/account' : path.startsWith('/admin/mirrors') ? '/admin/mirrors' : '/developers';
}

export async function pageCtx(req: FastifyRequest, reply: FastifyReply): Promise<PageCtx> {
  const viewer = await req.viewer();
  const csrf = await reply.generateCsrf();
  return { viewer, csrf, l: translator(hubLocale(req, viewer)), path: pagePath(req) };
}

export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', PAGE_CSP).send(body);
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

/** A numeric id of the path: anything that cannot name a row (not digits, beyond any id) is a 404. */
export function idParam(req: { params: Record<string, string> }, name = 'id'): number {
  const n = parseId(req.params[name]);
  if (n === null) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
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

function errorTitle(l: Translator, status: number): string {
  switch (status) {
    case 400:
      return l.t('That did not work');
    case 401:
      return l.t('Log in first');
    case 403:
      return l.t('Not allowed');
    case 404:
      return l.t('Not found');
    case 409:
      return l.t('Conflict');
    case 413:
      return l.t('Too large');
    case 422:
      return l.t('Not accepted');
    case 429:
      return l.t('Too many attempts');
    default:
      return l.t('Error');
  }
}

/** The hub's error handler: the same codes as the API, on an HTML page in the visitor's language. */
export function installHtmlErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => answerError(err, req, reply, renderHubErrorPage));
}

/** The same answer as the API's (src/platform/errors.ts answerError), as a page in the visitor's language. */
const renderHubErrorPage: ErrorPageRenderer = async (a, req, reply) => {
  const { status, code } = a;
  let viewer: Viewer = null;
  try {
    viewer = await req.viewer();
  } catch {
    viewer = null;
  }
  const l = translator(hubLocale(req, viewer));
  let message = a.log === 'error' ? l.t('Something went wrong on our side. The error was logged; please try again.') : a.message;
  if (code === 'CSRF_INVALID') message = l.t('This form has expired or did not come from this site. Go back, reload the page and try again.');
  if (status === 401 && req.method === 'GET') return redirect(reply, `/account/login?next=${encodeURIComponent(req.url)}`);
  const body: SafeHtml = html`<p>${markup(l.t('Go back to the previous page to try again, or {home}.'), { home: html`<a href="/">${l.t('go home')}</a>` })}</p>`;
  return sendPage(reply, page({ title: errorTitle(l, status), viewer, l, path: pagePath(req), error: { code, message } }, body), status);
};

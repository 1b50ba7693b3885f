// The web store's routes. Every page lives under a locale prefix (/es/activity/<bundle_id>);
// requests without one are redirected by the locale cookie, else Accept-Language. Old-site URLs
// (/<locale>/sugar/addon/<id>, ...) redirect to their new pages. Handlers are thin: the pages
// (src/web/pages/) read through the catalog service.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { answerError, type ErrorPageRenderer } from '../platform/errors.js';
import { LOCALE_TAGS, loadTranslations, matchLocale, translator } from './i18n.js';
import { LOCALE_COOKIE, pageFor, preferredLocale, sendPage, type Localized, type Page } from './context.js';
import { assetRoutes } from './assets.js';
import { html } from './html.js';
import { localePath } from './layout.js';
import { homePage } from './pages/home.js';
import { listingPage } from './pages/listing.js';
import { detailPage, versionsPage } from './pages/detail.js';
import { authorPage, collectionPage, collectionsPage } from './pages/people.js';
import { mediaRoutes } from './media.js';
import { legacyRoutes } from './legacy.js';
import { feedRoutes } from './feeds.js';
import { formQuery, pathParams, type TypedApp } from '../platform/schemas.js';

/** A first path segment that looks like a locale (en, es-ES, pt-BR): old links carry many. */
const LOCALE_SHAPE = /^[a-zA-Z]{2}(?:[-_][a-zA-Z]{2})?$/;

/** A page that reads no query parameter (any sent are kept and ignored). */
const noQuery = formQuery();

/** Paths (without a locale) that are pages: redirected to /<locale><path>. */
const PAGE_PREFIXES = [
  '/browse',
  '/search',
  '/category/*',
  '/tag/*',
  '/activity/*',
  '/author/*',
  '/collections',
  '/collection/*',
  '/feeds/*',
  '/sugar',
  '/sugar/*',
];

function redirect(reply: FastifyReply, to: string, status = 302): FastifyReply {
  return reply
    .status(status)
    .header('location', to)
    .header('cache-control', status === 301 ? 'public, max-age=86400' : 'private, no-cache')
    .header('vary', 'Accept-Language, Cookie')
    .send();
}

/** Only same-site paths are followed (no open redirects). */
function safeRest(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/';
}

export async function webRoutes(app: FastifyInstance): Promise<void> {
  loadTranslations();
  await app.register(assetRoutes);
  await app.register(mediaRoutes);
  await app.register(storePages);
}

async function storePages(app: TypedApp): Promise<void> {
  // The same answer as the API's (src/platform/errors.ts answerError), as a page in the address's language.
  const renderErrorPage: ErrorPageRenderer = async (a, req, reply) => {
    const first = req.url.split(/[/?#]/)[1] ?? '';
    const locale = matchLocale(first) ?? preferredLocale(req);
    const l = translator(locale);
    const message = a.log === 'error' ? l.t('Something went wrong on our side. Please try again in a moment.') : a.message;
    const p = await pageFor(app, req, reply, locale);
    return errorPage(p, a.status, a.code, message);
  };
  app.setErrorHandler((err, req, reply) => answerError(err, req, reply, renderErrorPage));

  app.get('/', { schema: { hide: true } }, async (req, reply) => redirect(reply, localePath(preferredLocale(req), '/')));

  // The language menu: remember the choice in a cookie and go to the same page in that language.
  app.get('/lang/:tag', { schema: { hide: true, params: pathParams('/lang/:tag'), querystring: formQuery('next', 'stay') } }, async (req, reply) => {
    const { tag } = req.params;
    const q = req.query;
    const locale = matchLocale(tag);
    if (!locale) return reply.callNotFound();
    void reply.setCookie(LOCALE_COOKIE, locale, { path: '/', maxAge: 365 * 24 * 3600, sameSite: 'lax', httpOnly: true });
    const rest = safeRest(q.next);
    return redirect(reply, q.stay ? rest : localePath(locale, rest), 303);
  });

  for (const prefix of PAGE_PREFIXES) {
    app.get(prefix, { schema: { hide: true, params: pathParams(prefix) } }, async (req, reply) => redirect(reply, localePath(preferredLocale(req), req.url)));
  }

  // Every localized page goes through here: unsupported or non-canonical locales redirect.
  const localized: Localized = (handler) => async (req, reply) => {
    const params = req.params;
    const raw = params.locale ?? '';
    if (!LOCALE_TAGS.includes(raw)) {
      if (!LOCALE_SHAPE.test(raw)) return reply.callNotFound();
      const target = matchLocale(raw) ?? preferredLocale(req);
      return redirect(reply, '/' + target + (req.url.slice(1 + raw.length) || '/'), 301);
    }
    return handler(await pageFor(app, req, reply, raw), params);
  };
  const page = (path: string, handler: (p: Page, params: Record<string, string>) => Promise<unknown>, querystring = noQuery) =>
    app.get(path, { schema: { hide: true, params: pathParams(path), querystring } }, localized(handler));
  // The filters of the listings (src/web/pages/listing.ts), checked there as the API checks them.
  const listingQuery = formQuery('q', 'sort', 'page', 'tag', 'category', 'runtime', 'sugar', 'language');

  page('/:locale', (p) => homePage(p));
  page('/:locale/browse', (p) => listingPage(p, { kind: 'all' }), listingQuery);
  page('/:locale/search', (p) => listingPage(p, { kind: 'search' }), listingQuery);
  page('/:locale/category/:slug', (p, x) => listingPage(p, { kind: 'category', slug: x.slug! }), listingQuery);
  page('/:locale/tag/:slug', (p, x) => listingPage(p, { kind: 'tag', slug: x.slug! }), listingQuery);
  page('/:locale/activity/:bundle', (p, x) => detailPage(p, x.bundle!));
  page('/:locale/activity/:bundle/versions', (p, x) => versionsPage(p, x.bundle!));
  page('/:locale/author/:id', (p, x) => authorPage(p, x.id!));
  page('/:locale/collections', (p) => collectionsPage(p));
  page('/:locale/collection/:nickname', (p, x) => collectionPage(p, x.nickname!));
  await app.register(legacyRoutes, { localized });
  await app.register(feedRoutes, { localized });
  // Anything else under a locale: a page-shaped 404.
  page('/:locale/*', async (p) => errorPage(p, 404, 'PAGE_NOT_FOUND', p.l.t('There is no page at this address.')));
}

export async function errorPage(p: Page, status: number, code: string, message: string) {
  const { l } = p;
  const title = status === 404 ? l.t('Page not found') : status < 500 ? l.t('Something is wrong with this address') : l.t('Something went wrong');
  // The code stays out of sight (people read the sentence); it is in the markup for support.
  const main = html`<div class="error-page" data-code="${code}"><h1>${title}</h1><p>${message}</p>
<p><a class="btn" href="${localePath(p.locale, '/')}">${l.t('Go to the home page')}</a></p>
<form role="search" method="get" action="${localePath(p.locale, '/search')}"><label for="e-q">${l.t('Or search for an activity:')}</label> <input id="e-q" type="search" name="q"> <button class="btn" type="submit">${l.t('Search')}</button></form></div>`;
  return sendPage(p, { title, main, send: { status, maxAge: 0 } });
}

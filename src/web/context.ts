// What every store page handler shares: the visitor's language and Sugar (if any), the viewer
// when a session cookie is present, and how a page is wrapped in the shell and sent.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Viewer } from '../accounts/access.js';
import { SESSION_COOKIE } from '../accounts/plugin.js';
import { DEFAULT_LOCALE, localeInfo, matchLocale, negotiateLocale, translator, type Translator } from './i18n.js';
import { detectSugar, type SugarClient } from './sugar-ua.js';
import { renderShell, type ShellOptions } from './layout.js';
import { sendBody, type SendOptions } from './http.js';

export const LOCALE_COOKIE = 'aslo_lang';

/** Wraps a page handler: the locale prefix is checked (and redirected when not canonical) first. */
export type Localized = (
  handler: (p: Page, params: Record<string, string>) => Promise<unknown>,
) => (req: FastifyRequest & { params: Record<string, string> }, reply: FastifyReply) => Promise<unknown>;

export interface Page {
  app: FastifyInstance;
  req: FastifyRequest;
  reply: FastifyReply;
  l: Translator;
  locale: string;
  /** The path after the locale prefix, with its query string. */
  rest: string;
  sugar: SugarClient | null;
  viewer: Viewer;
  /** The page used the User-Agent (Sugar detection) to decide what it shows. */
  usedUserAgent: boolean;
}

/** The locale for a request without one in its URL: the cookie, else Accept-Language, else English. */
export function preferredLocale(req: FastifyRequest): string {
  return matchLocale(req.cookies?.[LOCALE_COOKIE]) ?? negotiateLocale(req.headers['accept-language']) ?? DEFAULT_LOCALE;
}

export async function viewerOf(req: FastifyRequest): Promise<Viewer> {
  if (!req.cookies?.[SESSION_COOKIE]) return null;
  try {
    return await req.viewer();
  } catch {
    return null;
  }
}

export async function pageFor(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply, locale: string): Promise<Page> {
  const info = localeInfo(locale) ?? localeInfo(DEFAULT_LOCALE)!;
  const url = req.url;
  const first = url.split(/[/?#]/)[1] ?? '';
  let rest = url.slice(1 + first.length);
  if (!rest.startsWith('/')) rest = '/' + rest;
  return {
    app,
    req,
    reply,
    l: translator(info.tag),
    locale: info.tag,
    rest,
    sugar: detectSugar(req.headers['user-agent']),
    viewer: await viewerOf(req),
    usedUserAgent: false,
  };
}

export type PageOptions = Omit<ShellOptions, 'l' | 'rest' | 'categories' | 'viewer' | 'csrf'> & { send?: SendOptions };

export async function sendPage(p: Page, o: PageOptions): Promise<FastifyReply> {
  const categories = await p.app.services.catalog.categories(p.locale);
  const body = renderShell({ ...o, l: p.l, rest: p.rest, categories, viewer: p.viewer });
  return sendBody(p.req, p.reply, body, { varyUserAgent: p.usedUserAgent, personal: Boolean(p.viewer), ...o.send });
}

// The one page shell of the whole site (store pages, and the hub's pages through
// src/web/hub/layout.ts): header with the logo, search and the language menu, the category bar,
// the main landmark, the footer. Every page is complete HTML that works without JavaScript.
import { html, raw, render, type SafeHtml } from './html.js';
import { LOCALES, type Translator } from './i18n.js';
import { assetUrl } from './assets.js';
import type { Viewer } from '../accounts/access.js';

export interface ShellOptions {
  l: Translator;
  title: string;
  /** The path after the locale prefix ('/activity/x?y=1'), for the language menu and alternates. */
  rest: string;
  main: SafeHtml;
  description?: string;
  /** Categories for the bar under the header. */
  categories?: { slug: string; name: string }[];
  currentCategory?: string;
  /** The text in the search box. */
  query?: string;
  /** Who is logged in: the header's links and account menu follow (siteNav). */
  viewer?: Viewer;
  /** A CSRF token: the account menu then logs out with a button (else it links to the log-out page). */
  csrf?: string;
  /** Extra class on <main> ('hub' for the hub's forms and tables). */
  bodyClass?: string;
  /** Extra <head> content (feed links). */
  head?: SafeHtml;
  /** False for pages whose URL holds no locale (the hub): the menu then only sets the cookie. */
  localized?: boolean;
}

export function localePath(locale: string, rest: string): string {
  return `/${locale}${rest.startsWith('/') ? rest : '/' + rest}`;
}

const LOGO = raw(
  '<svg width="34" height="34" viewBox="0 0 48 48" aria-hidden="true" focusable="false"><path d="M13 21l22 18M35 21L13 39" stroke="#8BFF7A" stroke-width="6" stroke-linecap="round"/><circle cx="24" cy="12" r="6.5" fill="#FF8F00"/></svg>',
);
const MAGNIFIER = raw(
  '<svg width="18" height="18" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><circle cx="8.5" cy="8.5" r="6" fill="none" stroke="currentColor" stroke-width="2.4"/><path d="M13 13l5 5" stroke="currentColor" stroke-width="2.6" stroke-linecap="round"/></svg>',
);
const GLOBE = raw(
  '<svg width="16" height="16" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><circle cx="10" cy="10" r="8.2" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M2 10h16M10 2c-4 4.5-4 11.5 0 16M10 2c4 4.5 4 11.5 0 16" fill="none" stroke="currentColor" stroke-width="1.4"/></svg>',
);

export function languageMenu(l: Translator, rest: string, localized: boolean): SafeHtml {
  const current = LOCALES.find((x) => x.tag === l.locale) ?? LOCALES[0]!;
  const items = LOCALES.map(
    (x) =>
      html`<li><a href="/lang/${x.tag}?next=${encodeURIComponent(rest)}${localized ? '' : '&stay=1'}" lang="${x.tag}" hreflang="${x.tag}"${x.tag === l.locale ? raw(' aria-current="true"') : ''}>${x.name}</a></li>`,
  );
  return html`<details class="lang"><summary aria-label="${l.t('Language')}: ${current.name}">${GLOBE} <span lang="${current.tag}">${current.name}</span></summary><ul>${items}</ul></details>`;
}

const CHEVRON = raw(
  '<svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true" focusable="false"><path d="M1.5 3.5l3.5 3.5 3.5-3.5" fill="none" stroke="currentColor" stroke-width="1.6"/></svg>',
);

/**
 * The one navigation of the header on every page (store, developer hub, editors, admin): the
 * developer hub, the editors' queue for editors, and one account menu holding everything else
 * (account, upload, flagged reviews, the administrators' pages, log out), so the header keeps
 * to one line at 1280 px whatever the role. A disclosure (<details>), no JavaScript.
 */
export function siteNav(l: Translator, viewer: Viewer | undefined, csrf?: string): SafeHtml {
  const editor = viewer && (viewer.role === 'editor' || viewer.role === 'admin');
  const admin = viewer?.role === 'admin';
  const item = (href: string, text: string) => html`<li><a href="${href}">${text}</a></li>`;
  const menu = viewer
    ? html`<li><details class="menu"><summary><bdi>${viewer.displayName}</bdi> ${CHEVRON}</summary><ul>
${item('/account', l.t('Account'))}${item('/developers/upload', l.t('Upload'))}${editor ? item('/editors/flags', l.t('Flagged reviews')) : ''}${admin ? html`${item('/admin/audit', l.t('Audit log'))}${item('/admin/reports', l.t('Abuse reports'))}${item('/admin/users', l.t('Users'))}${item('/admin/mirrors', l.t('Mirrors'))}` : ''}
<li>${csrf ? html`<form method="post" action="/account/logout"><input type="hidden" name="_csrf" value="${csrf}"><button type="submit">${l.t('Log out')}</button></form>` : html`<a href="/account/logout">${l.t('Log out')}</a>`}</li>
</ul></details></li>`
    : html`<li><a href="/account/login">${l.t('Log in')}</a></li>`;
  return html`<nav class="site" aria-label="${l.t('Site')}"><ul>${item('/developers', l.t('Developer hub'))}${editor ? item('/editors/queue', l.t("Editors' queue")) : ''}${menu}</ul></nav>`;
}

export function renderShell(o: ShellOptions): string {
  const { l } = o;
  const localized = o.localized ?? true;
  const home = localized ? localePath(l.locale, '/') : '/';
  const lp = (p: string) => localePath(l.locale, p);
  const alternates = localized ? LOCALES.map((x) => html`<link rel="alternate" hreflang="${x.tag}" href="${localePath(x.tag, o.rest)}">`) : [];
  const cats = o.categories?.length
    ? html`<nav class="cats" aria-label="${l.t('Categories')}"><ul>${o.categories.map(
        (c) => html`<li><a href="${lp(`/category/${c.slug}`)}"${c.slug === o.currentCategory ? raw(' aria-current="page"') : ''}>${c.name}</a></li>`,
      )}<li><a href="${lp('/collections')}">${l.t('Collections')}</a></li></ul></nav>`
    : '';
  const doc = html`<!doctype html>
<html lang="${l.locale}" dir="${l.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · ${l.t('Sugar Activities')}</title>
${o.description ? html`<meta name="description" content="${o.description}">` : ''}
<link rel="stylesheet" href="${assetUrl('style.css')}">
<link rel="icon" href="${assetUrl('favicon.svg')}" type="image/svg+xml">
<link rel="alternate" type="application/atom+xml" href="${localePath(l.locale, '/feeds/updated.atom')}" title="${l.t('Recently updated activities')}">
${alternates}${o.head ?? ''}
</head>
<body>
<a class="skip" href="#main">${l.t('Skip to content')}</a>
<header class="top"><div class="wrap">
<a class="brand" href="${home}">${LOGO}<span>${l.t('Sugar Activities')}</span></a>
<form class="search" role="search" action="${lp('/search')}" method="get"><label class="sr" for="q">${l.t('Search activities')}</label><input id="q" type="search" name="q" value="${o.query ?? ''}" placeholder="${l.t('Search activities')}" maxlength="200"><button type="submit" title="${l.t('Search')}">${MAGNIFIER}<span class="sr">${l.t('Search')}</span></button></form>
${siteNav(l, o.viewer, o.csrf)}
${languageMenu(l, o.rest, localized)}
</div></header>
${cats}
<main id="main" class="wrap${o.bodyClass ? ` ${o.bodyClass}` : ''}">
${o.main}
</main>
<footer class="foot"><div class="wrap">
<p>${l.t('Sugar Activities is the library of learning activities for Sugar, made by Sugar Labs and its community.')}</p>
<nav aria-label="${l.t('More')}"><ul>
<li><a href="${lp('/browse')}">${l.t('All activities')}</a></li>
<li><a href="${lp('/collections')}">${l.t('Collections')}</a></li>
<li><a href="/developers">${l.t('Developer hub')}</a></li>
<li><a href="${localePath(l.locale, '/feeds/updated.atom')}">${l.t('Atom feed')}</a></li>
<li><a href="/api/docs">${l.t('API')}</a></li>
</ul></nav>
</div></footer>
</body>
</html>
`;
  return render(doc);
}

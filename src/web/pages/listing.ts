// Listings: all activities, a category, a tag and search results share one page: a heading,
// filters (a plain GET form), sort tabs, the grid and a pager. Parameters are checked by the
// catalog service; a bad one is a 400 page that says which.
import type { Page } from '../context.js';
import { sendPage } from '../context.js';
import { html, raw } from '../html.js';
import { activityGrid, breadcrumbs, pager, runtimeLabel, sortTabs, withQuery } from '../components.js';
import { localePath } from '../layout.js';
import { RUNTIMES, type ListQuery, type Sort } from '../../catalog/service.js';
import { notFound } from '../../platform/errors.js';

export const PER_PAGE = 24;
export const SUGAR_RELEASES = [
  '0.122',
  '0.120',
  '0.118',
  '0.116',
  '0.114',
  '0.112',
  '0.110',
  '0.108',
  '0.106',
  '0.104',
  '0.102',
  '0.100',
  '0.98',
  '0.96',
  '0.94',
  '0.92',
  '0.90',
  '0.88',
  '0.86',
  '0.84',
  '0.82',
];

/** A language's name in the page's language ('es' is "Spanish" in English, "español" in Spanish). */
const NAMERS = new Map<string, (tag: string) => string>();
function languageNamer(locale: string): (tag: string) => string {
  let namer = NAMERS.get(locale);
  if (!namer) {
    let names: Intl.DisplayNames | null = null;
    try {
      names = new Intl.DisplayNames([locale], { type: 'language' });
    } catch {
      names = null;
    }
    const known = new Map<string, string>();
    namer = (tag) => {
      let name = known.get(tag);
      if (name === undefined) {
        try {
          name = names?.of(tag) ?? tag;
        } catch {
          name = tag;
        }
        known.set(tag, name);
      }
      return name;
    };
    NAMERS.set(locale, namer);
  }
  return namer;
}

export type ListingKind = { kind: 'all' } | { kind: 'category'; slug: string } | { kind: 'tag'; slug: string } | { kind: 'search' };

function sortsFor(kind: ListingKind['kind'], hasQuery: boolean): string[] {
  const base = ['popular', 'updated', 'rated', 'newest', 'name'];
  return kind === 'search' && hasQuery ? ['relevance', ...base] : base;
}

export async function listingPage(p: Page, what: ListingKind) {
  const { l, app } = p;
  const raw0 = { ...(p.req.query as Record<string, unknown>) };
  // The Sugar filter defaults to the visitor's Sugar; "any" shows everything.
  const sugarParam = raw0.sugar;
  if (sugarParam === 'any') delete raw0.sugar;
  else if (sugarParam === undefined && p.sugar) raw0.sugar = p.sugar.version;
  p.usedUserAgent = sugarParam === undefined;
  const hasQuery = typeof raw0.q === 'string' && raw0.q.trim() !== '';
  const sorts = sortsFor(what.kind, hasQuery);
  const defaultSort = what.kind === 'search' && hasQuery ? 'relevance' : 'popular';
  const requestedSort = typeof raw0.sort === 'string' && raw0.sort ? raw0.sort : defaultSort;
  const parsed = app.services.catalog.parseListQuery({ ...raw0, sort: requestedSort === 'relevance' ? undefined : requestedSort, per_page: String(PER_PAGE) });
  const query: ListQuery = {
    ...parsed,
    q: parsed.q?.trim() || undefined,
    lang: p.locale,
    sort: requestedSort === 'relevance' ? ('relevance' as Sort) : parsed.sort,
  };
  let title: string;
  let crumbs: { label: string; href?: string }[] = [{ label: l.t('Home'), href: localePath(p.locale, '/') }];
  let basePath: string;
  let currentCategory: string | undefined;
  if (what.kind === 'category') {
    const cat = await app.services.catalog.category(what.slug, p.locale);
    if (!cat) throw notFound('CATEGORY_NOT_FOUND', l.t('There is no category "{slug}".', { slug: what.slug }));
    query.category = what.slug;
    title = cat.name;
    currentCategory = cat.slug;
    basePath = localePath(p.locale, `/category/${what.slug}`);
  } else if (what.kind === 'tag') {
    const name = await app.services.catalog.tagName(what.slug);
    if (!name) throw notFound('TAG_NOT_FOUND', l.t('No activity has the tag "{slug}".', { slug: what.slug }));
    query.tag = what.slug;
    title = l.t('Tagged “{tag}”', { tag: name });
    basePath = localePath(p.locale, `/tag/${encodeURIComponent(what.slug)}`);
  } else if (what.kind === 'search') {
    title = query.q ? l.t('Results for “{query}”', { query: query.q }) : l.t('Search');
    basePath = localePath(p.locale, '/search');
  } else {
    title = l.t('All activities');
    basePath = localePath(p.locale, '/browse');
  }
  crumbs = [...crumbs, { label: title }];
  const [result, categories, languages] = await Promise.all([
    app.services.catalog.listActivities(query),
    app.services.catalog.categories(p.locale),
    app.services.catalog.textLanguages(),
  ]);
  const languageName = languageNamer(p.locale);

  const keep: Record<string, string | undefined> = {
    q: query.q,
    category: what.kind === 'category' ? undefined : query.category,
    runtime: query.runtime,
    language: query.language,
    sugar: sugarParam === 'any' ? 'any' : query.sugar && query.sugar !== p.sugar?.version ? query.sugar : undefined,
  };
  const selected = (a: string | undefined, b: string) => (a === b ? raw(' selected') : '');
  const filters = html`<aside class="filters" aria-labelledby="filters-h"><h2 id="filters-h">${l.t('Filters')}</h2>
<form method="get" action="${basePath}">
${what.kind === 'search' ? html`<label for="f-q">${l.t('Words')}</label><input id="f-q" type="search" name="q" value="${query.q ?? ''}" maxlength="200">` : ''}
${what.kind !== 'category' ? html`<label for="f-category">${l.t('Category')}</label><select id="f-category" name="category"><option value="">${l.t('All categories')}</option>${categories.map((c) => html`<option value="${c.slug}"${selected(query.category, c.slug)}>${c.name}</option>`)}</select>` : ''}
<label for="f-runtime">${l.t('Runs on')}</label><select id="f-runtime" name="runtime"><option value="">${l.t('Any runtime')}</option>${RUNTIMES.map((r) => html`<option value="${r}"${selected(query.runtime, r)}>${runtimeLabel(l, r)}</option>`)}</select>
<label for="f-language">${l.t('Language')}</label><select id="f-language" name="language"><option value="">${l.t('Any language')}</option>${languages
    .filter((x) => x.locale !== 'und')
    .map((x) => html`<option value="${x.locale}"${selected(query.language, x.locale)}>${languageName(x.locale)} (${l.number(x.count)})</option>`)}</select>
<label for="f-sugar">${l.t('Works with Sugar')}</label><select id="f-sugar" name="sugar"><option value="any">${l.t('Any version')}</option>${SUGAR_RELEASES.map((v) => html`<option value="${v}"${selected(query.sugar, v)}>${v}${p.sugar?.version === v ? ` (${l.t('yours')})` : ''}</option>`)}</select>
${requestedSort !== defaultSort ? html`<input type="hidden" name="sort" value="${requestedSort}">` : ''}
<button class="btn" type="submit">${l.t('Apply')}</button>
</form></aside>`;
  const sortParams = { ...keep, category: keep.category };
  const list = result.items.length
    ? activityGrid(l, result.items, { heading: 'h2' })
    : html`<div class="empty"><p><strong>${l.t('Nothing found.')}</strong></p><p>${query.q ? l.t('Try fewer or other words, or look through the categories.') : l.t('No activity matches these filters yet.')}</p>${query.sugar ? html`<p><a href="${withQuery(basePath, { ...keep, sugar: 'any', sort: requestedSort === defaultSort ? undefined : requestedSort })}">${l.t('Show activities for every Sugar version')}</a></p>` : ''}</div>`;
  const main = html`${breadcrumbs(l, crumbs)}
<div class="layout">${filters}<div>
<div class="list-head"><div><h1>${title}</h1><p class="count" role="status">${l.n('{count} activity', '{count} activities', result.total)}${query.sugar ? html` · ${l.t('for Sugar {version}', { version: query.sugar })}` : ''}</p></div>
${result.total > 1 ? sortTabs(l, basePath, sortParams, requestedSort, sorts) : ''}</div>
${list}
${pager(l, basePath, { ...keep, sort: requestedSort === defaultSort ? undefined : requestedSort }, result.page, PER_PAGE, result.total)}
</div></div>`;
  return sendPage(p, { title, main, currentCategory, query: what.kind === 'search' ? query.q : undefined, send: { maxAge: what.kind === 'search' ? 30 : 60 } });
}

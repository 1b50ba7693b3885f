// Pieces shared by the store's pages: activity cards, icons, ratings, the pager, sort tabs.
import { createHash } from 'node:crypto';
import type { ActivitySummary } from '../catalog/service.js';
import { html, raw, type SafeHtml } from './html.js';
import type { Translator } from './i18n.js';
import { localePath } from './layout.js';
import { assetUrl } from './assets.js';

export function activityPath(locale: string, bundleId: string): string {
  return localePath(locale, `/activity/${encodeURIComponent(bundleId)}`);
}

/** The activity icon URL: versioned by the current version, so it can be cached for a week. */
export function iconPath(a: { bundle_id: string; current_version: string | null; icon_url: string | null }): string {
  if (!a.icon_url) return assetUrl('activity.svg');
  return `/icon/${encodeURIComponent(a.bundle_id)}/${encodeURIComponent(a.current_version ?? '0')}.svg`;
}

// Pairs from Sugar's XO colour palette (stroke, fill): the store shows each activity's icon in
// one pair, chosen from its bundle id, the way Sugar shows it in its owner's colours.
export const XO_COLORS: [string, string][] = [
  ['#00588C', '#5EC4FF'],
  ['#008009', '#8BFF7A'],
  ['#B20008', '#FF8F8F'],
  ['#5E008C', '#D1A3FF'],
  ['#9A5200', '#FFC169'],
  ['#807500', '#F8E800'],
  ['#005FE4', '#BCCEFF'],
  ['#8F00B3', '#F7BCFF'],
  ['#00856D', '#7AFFE6'],
  ['#A50040', '#FF9BC4'],
  ['#4B6900', '#C8FF4F'],
  ['#9C2B00', '#FFAE8F'],
];

export function xoColorsFor(bundleId: string): [string, string] {
  const h = createHash('sha1').update(bundleId).digest();
  return XO_COLORS[h[0]! % XO_COLORS.length]!;
}

export function iconImg(
  a: { bundle_id: string; current_version: string | null; icon_url: string | null },
  size: number,
  opts: { lazy?: boolean; cls?: string } = {},
): SafeHtml {
  return html`<img class="${opts.cls ?? 'icon'}" src="${iconPath(a)}" width="${size}" height="${size}" alt=""${opts.lazy === false ? '' : raw(' loading="lazy"')} decoding="async">`;
}

export function stars(l: Translator, rating: { average: number | null; count: number }): SafeHtml {
  if (!rating.count || rating.average === null) return html`<span>${l.t('Not rated yet')}</span>`;
  const full = Math.round(rating.average);
  const label = l.t('Rated {rating} out of 5', { rating: rating.average.toFixed(1) });
  return html`<span class="stars" role="img" aria-label="${label}" title="${label}">${'★'.repeat(full)}${'☆'.repeat(5 - full)}</span> <span>(${l.number(rating.count)})</span>`;
}

export function sugarRangeText(l: Translator, min: string | null, max: string | null): string {
  if (min && max) return l.t('Sugar {min} to {max}', { min, max });
  if (min) return l.t('Sugar {min} and newer', { min });
  if (max) return l.t('Sugar {max} and older', { max });
  return l.t('Any Sugar version');
}

export function activityCard(l: Translator, a: ActivitySummary, opts: { lazy?: boolean; heading?: 'h2' | 'h3' } = {}): SafeHtml {
  const href = activityPath(l.locale, a.bundle_id);
  const downloads = l.n('{count} download', '{count} downloads', a.downloads);
  const title =
    opts.heading === 'h2' ? html`<h2 class="h3"><a href="${href}"><bdi>${a.name}</bdi></a></h2>` : html`<h3><a href="${href}"><bdi>${a.name}</bdi></a></h3>`;
  return html`<li><article class="card">${iconImg(a, 64, { lazy: opts.lazy })}<div>${title}${a.summary ? html`<p dir="auto">${a.summary}</p>` : ''}<ul class="meta"><li>${stars(l, a.rating)}</li><li>${downloads}</li>${a.kind === 'content' ? html`<li><span class="badge">${l.t('Book')}</span></li>` : ''}</ul></div></article></li>`;
}

export function activityGrid(l: Translator, items: ActivitySummary[], opts: { eager?: number; heading?: 'h2' | 'h3' } = {}): SafeHtml {
  const eager = opts.eager ?? 8;
  return html`<ul class="grid">${items.map((a, i) => activityCard(l, a, { lazy: i >= eager, heading: opts.heading }))}</ul>`;
}

export function withQuery(path: string, params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function pager(
  l: Translator,
  path: string,
  params: Record<string, string | number | undefined | null>,
  page: number,
  perPage: number,
  total: number,
): SafeHtml {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) return html``;
  const prev = page > 1 ? html`<a href="${withQuery(path, { ...params, page: page - 1 === 1 ? undefined : page - 1 })}" rel="prev">${l.t('Previous')}</a>` : '';
  const next = page < pages ? html`<a href="${withQuery(path, { ...params, page: page + 1 })}" rel="next">${l.t('Next')}</a>` : '';
  return html`<nav class="pager" aria-label="${l.t('Pages')}">${prev}<span>${l.t('Page {page} of {pages}', { page: l.number(page), pages: l.number(pages) })}</span>${next}</nav>`;
}

export const SORT_LABELS = (l: Translator) => ({
  relevance: l.t('Best match'),
  popular: l.t('Most popular'),
  updated: l.t('Recently updated'),
  rated: l.t('Top rated'),
  newest: l.t('Newest'),
  name: l.t('Name'),
});

export function sortTabs(l: Translator, path: string, params: Record<string, string | undefined>, current: string, sorts: string[]): SafeHtml {
  const labels = SORT_LABELS(l) as Record<string, string>;
  return html`<nav aria-label="${l.t('Sort by')}"><ul class="sorts">${sorts.map(
    (s) => html`<li><a href="${withQuery(path, { ...params, sort: s })}"${s === current ? raw(' aria-current="true"') : ''}>${labels[s]}</a></li>`,
  )}</ul></nav>`;
}

export function breadcrumbs(l: Translator, items: { label: string; href?: string }[]): SafeHtml {
  return html`<nav class="crumbs" aria-label="${l.t('Breadcrumb')}"><ol>${items.map((i) => html`<li>${i.href ? html`<a href="${i.href}">${i.label}</a>` : html`<span aria-current="page">${i.label}</span>`}</li>`)}</ol></nav>`;
}

export function formatSize(l: Translator, bytes: number): string {
  if (bytes < 1024) return l.t('{n} bytes', { n: l.number(bytes) });
  if (bytes < 1024 * 1024) return l.t('{n} KB', { n: l.number(Math.round(bytes / 1024)) });
  return l.t('{n} MB', { n: new Intl.NumberFormat(l.locale, { maximumFractionDigits: 1 }).format(bytes / (1024 * 1024)) });
}

export function runtimeLabel(l: Translator, runtime: string | null): string {
  switch (runtime) {
    case 'python3':
      return l.t('Python 3');
    case 'python2':
      return l.t('Python 2');
    case 'web':
      return l.t('Web activity');
    default:
      return l.t('Other');
  }
}

/** A bundle id that may wrap after its dots, never inside a word (`org.<wbr>sugarlabs.<wbr>Write`). */
export function bundleIdText(bundleId: string): SafeHtml {
  return html`<code class="bid" dir="ltr">${bundleId.split('.').map((part, i, all) => html`${part}${i < all.length - 1 ? html`.<wbr>` : ''}`)}</code>`;
}

/**
 * A bundle tag as a chip label: the common tags of Sugar activities are translated; any other
 * tag is shown as its developer wrote it (with its own direction).
 */
export function tagLabel(l: Translator, name: string): SafeHtml {
  const known = TAG_NAMES(l)[name.trim().toLowerCase()];
  return known ? html`${known}` : html`<bdi>${name}</bdi>`;
}

const TAG_NAMES = (l: Translator): Record<string, string> => ({
  art: l.p('tag', 'Art'),
  astronomy: l.p('tag', 'Astronomy'),
  biology: l.p('tag', 'Biology'),
  chemistry: l.p('tag', 'Chemistry'),
  counting: l.p('tag', 'Counting'),
  drawing: l.p('tag', 'Drawing'),
  game: l.p('tag', 'Game'),
  games: l.p('tag', 'Games'),
  geography: l.p('tag', 'Geography'),
  history: l.p('tag', 'History'),
  language: l.p('tag', 'Language'),
  logic: l.p('tag', 'Logic'),
  math: l.p('tag', 'Math'),
  maths: l.p('tag', 'Math'),
  music: l.p('tag', 'Music'),
  numbers: l.p('tag', 'Numbers'),
  physics: l.p('tag', 'Physics'),
  programming: l.p('tag', 'Programming'),
  puzzle: l.p('tag', 'Puzzle'),
  reading: l.p('tag', 'Reading'),
  science: l.p('tag', 'Science'),
  tools: l.p('tag', 'Tools'),
  typing: l.p('tag', 'Typing'),
  writing: l.p('tag', 'Writing'),
});

/** Stars for a whole rating (1-5), with the number said in words for screen readers. */
export function ratingStars(l: Translator, rating: number): SafeHtml {
  const label = l.t('{count} of 5 stars', { count: l.number(rating) });
  return html`<span class="stars" role="img" aria-label="${label}" title="${label}">${'★'.repeat(rating)}${'☆'.repeat(5 - rating)}</span>`;
}

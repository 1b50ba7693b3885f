// The activity page and its "all versions" page. Sugar-aware: in Sugar's Browse the download
// button offers the newest version that runs on that Sugar, and versions that do not are marked
// with the reason; other browsers get the newest version and its Sugar range.
import type { Page } from '../context.js';
import { sendPage } from '../context.js';
import { html, raw, type SafeHtml } from '../html.js';
import {
  activityGrid,
  activityPath,
  breadcrumbs,
  bundleIdText,
  formatSize,
  iconImg,
  ratingStars,
  runtimeLabel,
  stars,
  sugarRangeText,
  tagLabel,
} from '../components.js';
import { localePath } from '../layout.js';
import { sanitizeDescription } from '../../bundles/sanitize.js';
import type { ActivityDetail, FileSource, VersionView } from '../../catalog/service.js';
import type { Translator } from '../i18n.js';
import { notFound } from '../../platform/errors.js';
import { slugify } from '../../platform/slug.js';
import { provenanceLine } from '../provenance.js';

const DOWNLOAD_ICON = raw(
  '<svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M10 2v11M5 8.5l5 5 5-5M3 17h14" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round"/></svg>',
);

interface Offer {
  version: VersionView;
  compat: { min: string | null; max: string | null; compatible: boolean | null };
}

function fileHref(p: Page, f: { id: number; file_name: string }): string {
  return `/downloads/file/${f.id}/${encodeURIComponent(f.file_name)}`;
}

/** Each version with its effective Sugar range and (for Sugar's browser) whether it runs. */
function offers(p: Page, versions: VersionView[]): Offer[] {
  return versions.map((v) => ({ version: v, compat: p.app.services.catalog.compatibility(v, p.sugar?.version ?? null) }));
}

function incompatibleReason(l: Translator, o: Offer, sugar: string): string {
  if (o.compat.min && o.compat.max) return l.t('Needs Sugar {min} to {max}; you have {version}.', { min: o.compat.min, max: o.compat.max, version: sugar });
  if (o.compat.min) return l.t('Needs Sugar {min} or newer; you have {version}.', { min: o.compat.min, version: sugar });
  return l.t('Needs Sugar {max} or older; you have {version}.', { max: o.compat.max ?? '', version: sugar });
}

function downloadBox(p: Page, a: ActivityDetail, all: Offer[]): SafeHtml {
  const { l } = p;
  const newest = all[0];
  if (!newest) return html`<div class="get"><p>${l.t('No version can be downloaded right now.')}</p></div>`;
  const sugar = p.sugar?.version;
  const pick = sugar ? all.find((o) => o.compat.compatible) : newest;
  const button = (o: Offer) => {
    const f = o.version.files[0]!;
    return html`<a class="btn" href="${fileHref(p, f)}" type="${f.content_type}" download="${f.file_name}">${DOWNLOAD_ICON}<span>${l.t('Download')}</span></a>
<p>${l.t('Version {version}', { version: o.version.version })} · ${formatSize(l, f.size)} · ${sugarRangeText(l, o.compat.min, o.compat.max)}</p>`;
  };
  if (!sugar) {
    return html`<div class="get">${button(newest)}<p class="note ok">${l.t('To install it, open this page with Browse on your Sugar computer and download it: the activity appears in your Journal and Home view.')}</p></div>`;
  }
  if (!pick) {
    return html`<div class="get"><p class="note" role="note"><strong>${l.t('No version of {name} works with your Sugar {version}.', { name: a.name, version: sugar })}</strong> ${incompatibleReason(l, newest, sugar)}</p>
<p><a href="${fileHref(p, newest.version.files[0]!)}">${l.t('Download version {version} anyway', { version: newest.version.version })}</a></p></div>`;
  }
  const older =
    pick !== newest
      ? html`<p class="note">${l.t('The newest version ({version}) does not work with your Sugar; this is the newest one that does.', { version: newest.version.version })}</p>`
      : '';
  return html`<div class="get">${button(pick)}<p class="note ok">${l.t('Works with your Sugar {version}.', { version: sugar })}</p>${older}</div>`;
}

function versionItem(p: Page, o: Offer, headingLevel: 'h2' | 'h3', sources: Map<number, FileSource>): SafeHtml {
  const { l } = p;
  const v = o.version;
  const off = o.compat.compatible === false;
  const title = html`${l.t('Version {version}', { version: v.version })} <span class="when">${l.date(v.created_at)}</span>${off ? html` <span class="badge warn">${l.t('Not for your Sugar')}</span>` : ''}`;
  return html`<li${off ? raw(' class="off"') : ''}>${headingLevel === 'h2' ? html`<h2 class="h3">${title}</h2>` : html`<h3>${title}</h3>`}
${v.release_notes ? html`<p dir="auto">${v.release_notes}</p>` : ''}
<p class="meta"><span>${sugarRangeText(l, o.compat.min, o.compat.max)}</span><span>${runtimeLabel(l, v.runtime)}</span>${v.licenses.length ? html`<span>${v.licenses.join(', ')}</span>` : ''}</p>
${off && p.sugar ? html`<p class="note">${incompatibleReason(l, o, p.sugar.version)}</p>` : ''}
<p>${v.files.map((f) => html`<a href="${fileHref(p, f)}" type="${f.content_type}">${l.t('Download {file}', { file: f.file_name })}</a> <span class="meta">(${formatSize(l, f.size)})</span> `)}</p>
${v.files[0] ? provenanceLine(l, sources.get(v.files[0].id)) : ''}</li>`;
}

async function load(p: Page, bundleId: string) {
  const catalog = p.app.services.catalog;
  const row = await catalog.activityRow(bundleId);
  // Not public: its authors, editors and administrators see a preview (previewBanner); anyone
  // else gets the same 404 as for an activity that does not exist.
  const hidden = row ? null : await catalog.hiddenAccess(bundleId, p.viewer ?? undefined);
  if (!row && hidden === null) throw notFound('ACTIVITY_NOT_FOUND', p.l.t('There is no public activity "{id}" here.', { id: bundleId }));
  const viewer = row ? undefined : (p.viewer ?? undefined);
  const [a, versions, sources] = await Promise.all([
    catalog.getActivity(bundleId, p.locale, viewer),
    catalog.listVersions(bundleId, viewer),
    catalog.fileSources(row?.id ?? hidden!),
  ]);
  p.usedUserAgent = true;
  return { row: { id: row?.id ?? hidden! }, a, all: offers(p, versions), sources, preview: !row };
}

/** Above a preview: whose page this is and that nobody else sees it; sent with no-store (previewSend). */
function previewBanner(p: Page): SafeHtml {
  const { l } = p;
  return html`<div class="preview-banner" role="note"><strong>${l.t('Preview — not public')}</strong> ${l.t('Only the authors and the editors see this page. It becomes public when the editors approve the activity.')} <a href="/developers">${l.t('Back to the developer hub')}</a></div>`;
}

const previewSend = { send: { personal: true, noStore: true } } as const;

/** How many reviews the activity page shows (the rest are on the ratings page). */
const LATEST_REVIEWS = 3;
/** How many activities "more by" and "similar" show. */
const RELATED = 4;

function ratingsPath(bundleId: string): string {
  return `/ratings/${encodeURIComponent(bundleId)}`;
}

type RatingSummary = Awaited<ReturnType<Page['app']['services']['ratings']['summary']>>;

/** The star summary (average, count, how many of each star) and the newest reviews, with the ways to write one and to report. */
function reviewsSection(p: Page, a: ActivityDetail, r: RatingSummary): SafeHtml {
  const { l } = p;
  const all = ratingsPath(a.bundle_id);
  const bars = [5, 4, 3, 2, 1].map((n) => {
    const count = r.counts[n - 1]!;
    const label = l.n('{stars} stars: {count} rating', '{stars} stars: {count} ratings', count, { stars: l.number(n) });
    return html`<li><span aria-hidden="true">${l.number(n)} ★</span><meter min="0" max="${Math.max(1, r.total)}" value="${count}" aria-label="${label}">${label}</meter><span aria-hidden="true">${l.number(count)}</span></li>`;
  });
  const summary = r.total
    ? html`<div class="rating-sum"><p class="avg"><strong>${l.number(Math.round((a.rating.average ?? 0) * 10) / 10)}</strong> ${stars(l, a.rating)}</p><ul class="bars">${bars}</ul></div>`
    : html`<p>${l.t('No one has rated this activity yet.')}</p>`;
  const items = r.reviews.map(
    (x) =>
      html`<li><article class="review"><p class="who">${ratingStars(l, x.rating)} <bdi>${x.author}</bdi> <span class="when">${l.date(x.updated_at)}</span></p>${x.body ? html`<p dir="auto">${x.body}</p>` : ''}${x.reply_body ? html`<blockquote><p>${l.t('Reply from {who}:', { who: x.replier ?? l.t('the authors') })} <span dir="auto">${x.reply_body}</span></p></blockquote>` : ''}</article></li>`,
  );
  const actions = p.viewer
    ? html`<ul class="actions">${r.viewerIsAuthor ? '' : html`<li><a class="btn" href="${all}#rate">${l.t('Write a review')}</a></li>`}<li><a href="${all}#report">${l.t('Report this activity')}</a></li></ul>`
    : html`<p><a href="/account/login?next=${encodeURIComponent(all + '#rate')}">${l.t('Log in to write a review')}</a></p>`;
  return html`<section aria-labelledby="reviews-h" class="aside-block"><div class="section-head"><h2 id="reviews-h">${l.t('Ratings and reviews')}</h2>${r.total ? html`<a href="${all}">${l.n('All {count} review', 'All {count} reviews', r.total)}</a>` : ''}</div>
${summary}${items.length ? html`<ul class="reviews">${items}</ul>` : ''}${actions}</section>`;
}

/** Screenshots at a readable size; each opens full size (the image itself) without JavaScript. */
function gallery(p: Page, name: string, shots: { id: number; width: number; height: number; caption: string }[]): SafeHtml {
  const { l } = p;
  if (!shots.length) return html``;
  return html`<section aria-labelledby="shots-h"><h2 id="shots-h" class="sr">${l.t('Screenshots')}</h2><ul class="shots">${shots.map((s, i) => {
    const alt = s.caption || l.t('Screenshot {n} of {name}', { n: l.number(i + 1), name });
    return html`<li><figure><a href="/screenshots/${s.id}" title="${l.t('Open full size')}"><img src="/screenshots/${s.id}" width="${s.width}" height="${s.height}" alt="${alt}" loading="lazy" decoding="async"></a>${s.caption ? html`<figcaption dir="auto">${s.caption}</figcaption>` : ''}</figure></li>`;
  })}</ul></section>`;
}

export async function detailPage(p: Page, bundleId: string) {
  const { l, app } = p;
  const { row, a, all, sources, preview } = await load(p, bundleId);
  const sugar = p.sugar?.version ?? null;
  const [{ authors, screenshots: shots, collections }, categories, ratings, { more, similar }] = await Promise.all([
    app.services.catalog.activityExtras(row.id, p.locale),
    app.services.catalog.categories(p.locale),
    app.services.ratings.summary(row.id, p.viewer, LATEST_REVIEWS),
    app.services.catalog.related(row.id, p.locale, sugar, RELATED),
  ]);
  const lp = (path: string) => localePath(p.locale, path);
  const cat = categories.find((c) => a.categories.includes(c.slug));
  const crumbs = breadcrumbs(l, [
    { label: l.t('Home'), href: lp('/') },
    ...(cat ? [{ label: cat.name, href: lp(`/category/${cat.slug}`) }] : []),
    { label: a.name },
  ]);
  const byline = authors.length
    ? html`<p class="byline">${l.t('By')} ${authors.map((u, i) => html`${i ? ', ' : ''}<a href="${lp(`/author/${u.id}`)}"><bdi>${u.name}</bdi></a>`)}</p>`
    : '';
  const current = all[0];
  const shown = p.sugar ? (all.find((o) => o.compat.compatible) ?? current) : current;
  const licenses = shown?.version.licenses ?? [];
  const facts = html`<dl class="facts">
${shown ? html`<dt>${l.t('Version')}</dt><dd>${shown.version.version}</dd><dt>${l.t('Updated')}</dt><dd>${l.date(shown.version.created_at)}</dd><dt>${l.t('Sugar')}</dt><dd>${sugarRangeText(l, shown.compat.min, shown.compat.max)}</dd><dt>${l.t('Runs on')}</dt><dd>${runtimeLabel(l, shown.version.runtime)}</dd>` : ''}
${licenses.length ? html`<dt>${l.t('License')}</dt><dd>${licenses.join(', ')}</dd>` : ''}
<dt>${l.t('Downloads')}</dt><dd>${l.number(a.downloads)}</dd>
${a.average_daily_users ? html`<dt>${l.t('Daily users')}</dt><dd>${l.number(a.average_daily_users)}</dd>` : ''}
<dt>${l.t('Activity ID')}</dt><dd>${bundleIdText(a.bundle_id)}</dd>
${a.homepage_url ? html`<dt>${l.t('Website')}</dt><dd><a href="${a.homepage_url}" rel="nofollow noopener">${new URL(a.homepage_url).host}</a></dd>` : ''}
${a.repository_url ? html`<dt>${l.t('Source code')}</dt><dd><a href="${a.repository_url}" rel="nofollow noopener">${new URL(a.repository_url).host}</a></dd>` : ''}
</dl>`;
  const description = a.description
    ? html`<div dir="auto">${raw(sanitizeDescription(a.description))}</div>`
    : a.summary
      ? html`<p dir="auto">${a.summary}</p>`
      : '';
  const recent = all.slice(0, 3);
  const related = (id: string, title: string, items: typeof more, href?: string) =>
    items.length
      ? html`<section class="section" aria-labelledby="${id}"><div class="section-head"><h2 id="${id}">${title}</h2>${href ? html`<a href="${href}">${l.t('See all')}</a>` : ''}</div>${activityGrid(l, items, { eager: 0 })}</section>`
      : '';
  const main = html`${preview ? previewBanner(p) : ''}${crumbs}
<div class="head">${iconImg({ ...a, icon_url: a.icon_url }, 112, { lazy: false })}<div>
<h1 dir="auto">${a.name}</h1>${a.summary ? html`<p class="summary" dir="auto">${a.summary}</p>` : ''}${byline}
<p class="meta"><span>${stars(l, a.rating)}</span><span>${l.n('{count} download', '{count} downloads', a.downloads)}</span>${a.kind === 'content' ? html`<span class="badge">${l.t('Book')}</span>` : ''}</p>
</div></div>
<div class="detail"><div>
${gallery(p, a.name, shots)}
<section aria-labelledby="about-h" class="prose"><h2 id="about-h">${l.t('About this activity')}</h2>${description}
${a.tags.length ? html`<ul class="tags" aria-label="${l.t('Tags')}">${a.tags.map((t) => html`<li><a href="${lp(`/tag/${encodeURIComponent(slugify(t))}`)}">${tagLabel(l, t)}</a></li>`)}</ul>` : ''}</section>
${reviewsSection(p, a, ratings)}
<section aria-labelledby="versions-h" class="aside-block"><div class="section-head"><h2 id="versions-h">${l.t('Versions')}</h2>${all.length > recent.length ? html`<a href="${lp(`/activity/${encodeURIComponent(a.bundle_id)}/versions`)}">${l.t('All {count} versions', { count: l.number(all.length) })}</a>` : ''}</div>
<ul class="versions">${recent.map((o) => versionItem(p, o, 'h3', sources))}</ul></section>
</div>
<aside aria-label="${l.t('Download')}">${downloadBox(p, a, all)}
<section class="aside-block" aria-labelledby="facts-h"><h2 id="facts-h" class="h3">${l.t('Details')}</h2>${facts}</section>
${collections.length ? html`<section class="aside-block" aria-labelledby="coll-h"><h2 id="coll-h" class="h3">${l.t('In collections')}</h2><ul>${collections.map((c) => html`<li><a href="${lp(`/collection/${encodeURIComponent(c.nickname)}`)}">${c.name}</a></li>`)}</ul></section>` : ''}
</aside></div>
${related('more-h', authors.length === 1 ? l.t('More by {name}', { name: authors[0]!.name }) : l.t('More by these developers'), more, authors.length === 1 ? lp(`/author/${authors[0]!.id}`) : undefined)}
${related('similar-h', l.t('Similar activities'), similar)}`;
  return sendPage(p, { title: a.name, main, description: a.summary ?? undefined, ...(preview ? previewSend : {}) });
}

export async function versionsPage(p: Page, bundleId: string) {
  const { l } = p;
  const { a, all, sources, preview } = await load(p, bundleId);
  const lp = (path: string) => localePath(p.locale, path);
  const main = html`${preview ? previewBanner(p) : ''}${breadcrumbs(l, [{ label: l.t('Home'), href: lp('/') }, { label: a.name, href: activityPath(p.locale, a.bundle_id) }, { label: l.t('Versions') }])}
<div class="head">${iconImg(a, 64, { lazy: false })}<div><h1>${l.t('All versions of {name}', { name: a.name })}</h1>${p.sugar ? html`<p class="byline">${l.t('Versions that do not work with your Sugar {version} are marked.', { version: p.sugar.version })}</p>` : ''}</div></div>
<ul class="versions">${all.map((o) => versionItem(p, o, 'h2', sources))}</ul>`;
  return sendPage(p, { title: l.t('All versions of {name}', { name: a.name }), main, ...(preview ? previewSend : {}) });
}

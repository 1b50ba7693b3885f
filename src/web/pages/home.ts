// The home page: what the store is, featured activities (flagged by the editors or in a listed
// collection), new this month, categories, most popular and recently updated. For Sugar's browser
// the lists, and the category counts, hold what runs on that Sugar.
import type { Page } from '../context.js';
import { sendPage } from '../context.js';
import { html } from '../html.js';
import { activityGrid } from '../components.js';
import { localePath } from '../layout.js';

const SECTION_SIZE = 8;

export async function homePage(p: Page) {
  const { l, app } = p;
  const catalog = app.services.catalog;
  const sugar = p.sugar?.version;
  p.usedUserAgent = true;
  const [featuredList, fresh, popular, updated, categories, total] = await Promise.all([
    catalog.listActivities({ perPage: SECTION_SIZE, sort: 'popular', lang: p.locale, sugar, featured: true, withTotal: false }),
    catalog.newActivities({ perPage: SECTION_SIZE, lang: p.locale, sugar }),
    catalog.listActivities({ perPage: SECTION_SIZE, sort: 'popular', lang: p.locale, sugar, withTotal: false }),
    catalog.listActivities({ perPage: SECTION_SIZE, sort: 'updated', lang: p.locale, sugar, withTotal: false }),
    catalog.categories(p.locale, sugar ?? null),
    catalog.publicCount(),
  ]);
  const featured = featuredList.items;
  const lp = (path: string) => localePath(p.locale, path);
  const section = (id: string, title: string, more: string | null, body: unknown) =>
    html`<section class="section" aria-labelledby="${id}"><div class="section-head"><h2 id="${id}">${title}</h2>${more ? html`<a href="${more}">${l.t('See all')}</a>` : ''}</div>${body}</section>`;
  const main = html`
<div class="hero"><div>
<h1>${l.t('Learning activities for Sugar')}</h1>
<p>${l.t('Free activities for children: games, maths, science, reading, music and more. Download them with Browse on your Sugar laptop.')}</p>
<p class="stats">${l.n('{count} activity in the library', '{count} activities in the library', total)}${p.sugar ? html` · ${l.t('Showing what works with your Sugar {version}', { version: p.sugar.version })}` : ''}</p>
</div></div>
${featured.length ? section('featured', l.t('Featured'), lp('/collections'), activityGrid(l, featured)) : ''}
${section('categories', l.t('Categories'), null, html`<ul class="chips">${categories.map((c) => html`<li><a href="${lp(`/category/${c.slug}`)}">${c.name} <span class="n">${l.number(c.count)}</span></a></li>`)}</ul>`)}
${fresh.items.length ? section('new', l.t('New this month'), lp('/browse?sort=newest'), activityGrid(l, fresh.items, { eager: featured.length ? 0 : 4 })) : ''}
${section('popular', l.t('Most popular'), lp('/browse?sort=popular'), activityGrid(l, popular.items, { eager: featured.length ? 0 : 8 }))}
${section('updated', l.t('Recently updated'), lp('/browse?sort=updated'), activityGrid(l, updated.items, { eager: 0 }))}`;
  return sendPage(p, { title: l.t('Home'), main, description: l.t('Free learning activities for Sugar: games, maths, science, reading and more.') });
}

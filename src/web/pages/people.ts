// Author profiles and collections.
import type { Page } from '../context.js';
import { sendPage } from '../context.js';
import { html } from '../html.js';
import { activityGrid, breadcrumbs } from '../components.js';
import { localePath } from '../layout.js';
import { localizedName } from '../../catalog/locales.js';
import { notFound } from '../../platform/errors.js';

export async function authorPage(p: Page, id: string) {
  const { l, app } = p;
  const found = /^\d{1,12}$/.test(id) ? await app.services.catalog.author(Number(id)) : null;
  if (!found) throw notFound('AUTHOR_NOT_FOUND', l.t('There is no author with the id {id}.', { id }));
  const { user, activityIds } = found;
  const items = await app.services.catalog.summaries(activityIds, p.locale);
  const lp = (path: string) => localePath(p.locale, path);
  const initial = [...user.display_name.trim()][0]?.toUpperCase() ?? '?';
  let homepage: string | null = null;
  try {
    homepage = user.homepage && /^https?:$/.test(new URL(user.homepage).protocol) ? user.homepage : null;
  } catch {
    homepage = null;
  }
  const main = html`${breadcrumbs(l, [{ label: l.t('Home'), href: lp('/') }, { label: user.display_name }])}
<div class="profile"><div class="avatar" aria-hidden="true">${initial}</div><div><h1>${user.display_name}</h1>
<p class="byline">${l.t('Member since {date}', { date: l.date(user.created_at) })}${homepage ? html` · <a href="${homepage}" rel="nofollow noopener">${new URL(homepage).host}</a>` : ''}</p></div></div>
${user.bio ? html`<p class="prose">${user.bio}</p>` : ''}
<section aria-labelledby="acts-h"><h2 id="acts-h">${l.n('{count} activity', '{count} activities', items.length)}</h2>
${items.length ? activityGrid(l, items) : html`<p class="empty">${l.t('No public activities yet.')}</p>`}</section>`;
  return sendPage(p, { title: user.display_name, main });
}

export async function collectionsPage(p: Page) {
  const { l, app } = p;
  const lp = (path: string) => localePath(p.locale, path);
  const rows = await app.services.catalog.listedCollections(p.locale);
  const main = html`${breadcrumbs(l, [{ label: l.t('Home'), href: lp('/') }, { label: l.t('Collections') }])}
<h1>${l.t('Collections')}</h1>
<p>${l.t('Sets of activities chosen by teachers, schools and deployments.')}</p>
${
  rows.length
    ? html`<ul class="coll-list">${rows.map((c) => html`<li><h2 class="h3"><a href="${lp(`/collection/${encodeURIComponent(c.nickname)}`)}">${c.name}</a></h2>${c.description ? html`<p>${c.description}</p>` : ''}<p class="meta">${l.n('{count} activity', '{count} activities', c.count)}</p></li>`)}</ul>`
    : html`<p class="empty">${l.t('There are no collections yet.')}</p>`
}`;
  return sendPage(p, { title: l.t('Collections'), main });
}

export async function collectionPage(p: Page, nickname: string) {
  const { l, app } = p;
  const feed = await app.services.collections.feedEntries(nickname);
  if (!feed) throw notFound('COLLECTION_NOT_FOUND', l.t('There is no collection "{name}".', { name: nickname }));
  const ids = await app.services.catalog.publicOnly(feed.entries.map((e) => e.activityId));
  const items = await app.services.catalog.summaries(ids, p.locale);
  const name = localizedName(feed.collection.names, p.locale, feed.collection.name);
  const lp = (path: string) => localePath(p.locale, path);
  const main = html`${breadcrumbs(l, [{ label: l.t('Home'), href: lp('/') }, { label: l.t('Collections'), href: lp('/collections') }, { label: name }])}
<h1>${name}</h1>
${feed.collection.description ? html`<p class="prose">${feed.collection.description}</p>` : ''}
<p class="count">${l.n('{count} activity', '{count} activities', items.length)}</p>
${items.length ? activityGrid(l, items, { heading: 'h2' }) : html`<p class="empty">${l.t('This collection is empty.')}</p>`}`;
  return sendPage(p, { title: name, main });
}

// Download counts in the hub: an activity's downloads for its authors (and administrators) per
// day, per version's file and per mirror; the administrators' overview of the whole store (per
// day, per mirror, the share the mirrors took, the most downloaded activities). Same service and
// access rules as the API (src/downloads/stats.ts); read-only pages, so no forms to protect.
import { AsloError } from '../../platform/errors.js';
import { requireAdmin } from '../../accounts/access.js';
import { dayRange, MAX_DAYS, type DayCount, type DayRange, type MirrorCount } from '../../downloads/stats.js';
import { html, page, percent, perLocale, table, type SafeHtml, type Translator } from './layout.js';
import { loginOrRedirect, pageCtx, sendPage } from './common.js';
import { formQuery, textParams, type TypedApp } from '../../platform/schemas.js';

const T = perLocale((l) => ({
  overview: l.t('Downloads of the store'),
  intro: l.t(
    'Counted when a download is sent to a mirror or served by this store; a download that is resumed (the rest of a file) is not counted again. Days are UTC; the last few seconds may not be counted yet. At most {count} days at once.',
    { count: MAX_DAYS },
  ),
  from: l.t('From'),
  to: l.t('To'),
  show: l.t('Show'),
  total: l.t('Downloads in these days'),
  allTime: l.t('All downloads ever counted'),
  byDay: l.t('Per day'),
  byFile: l.t('Per version'),
  byMirror: l.t('Per mirror'),
  top: l.t('Most downloaded activities'),
  share: l.t('Served by mirrors'),
  none: l.t('No download in these days.'),
  json: l.t('The same as JSON'),
  back: l.t('Back to the activity'),
}));

function rangeForm(l: Translator, action: string, r: DayRange): SafeHtml {
  return html`<form method="get" action="${action}" aria-label="${l.t('Days')}"><label>${T(l).from} <input type="date" name="from" value="${r.from}"></label> <label>${T(l).to} <input type="date" name="to" value="${r.to}"></label> <button type="submit">${T(l).show}</button></form>`;
}

function dayTable(l: Translator, days: DayCount[]): SafeHtml {
  const num = (n: number) => l.number(n);
  const max = Math.max(1, ...days.map((d) => d.count));
  // Newest first; <meter> draws the bar without styles or scripts.
  return table(
    [l.t('Day'), l.t('Downloads'), l.t('From mirrors'), l.t('From this store'), l.t('Bar')],
    [...days]
      .reverse()
      .map((d) => [
        d.day,
        num(d.count),
        num(d.count - d.origin),
        num(d.origin),
        html`<meter min="0" max="${max}" value="${d.count}" aria-label="${d.day}: ${d.count}">${d.count}</meter>`,
      ]),
  );
}

function mirrorTable(l: Translator, rows: MirrorCount[], total: number): SafeHtml {
  return table(
    [l.t('Served by'), l.t('Downloads'), l.t('Share')],
    rows.map((m) => [m.mirror_id === 0 ? l.t('this store (origin)') : m.name, l.number(m.count), total ? percent(l, (100 * m.count) / total) : '']),
  );
}

function rangeOf(req: { query: { from?: unknown; to?: unknown } }): DayRange {
  return dayRange(req.query);
}

export async function statsPages(app: TypedApp): Promise<void> {
  const stats = app.services.downloadStats;

  app.get(
    '/developers/activities/:id/stats',
    { schema: { hide: true, params: textParams('id'), querystring: formQuery('from', 'to') } },
    async (req, reply) => {
      if (!(await loginOrRedirect(req, reply))) return reply;
      const c = await pageCtx(req, reply);
      const id = Number(req.params.id);
      if (!Number.isSafeInteger(id) || id < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
      const a = await stats.authorize(c.viewer, id);
      const range = rangeOf(req);
      const s = await stats.forActivity(a, range);
      const apiUrl = `/api/v1/activities/${encodeURIComponent(s.bundle_id)}/stats/downloads?from=${s.from}&to=${s.to}`;
      const body = html`<p><code>${s.bundle_id}</code> · <a href="/developers/activities/${s.activity_id}">${T(c.l).back}</a></p>
<p>${T(c.l).intro}</p>
${rangeForm(c.l, `/developers/activities/${s.activity_id}/stats`, range)}
<table><tbody><tr><th scope="row">${T(c.l).total} (${s.from} – ${s.to})</th><td>${c.l.number(s.total)}</td></tr><tr><th scope="row">${T(c.l).allTime}</th><td>${c.l.number(s.all_time)}</td></tr></tbody></table>
${
  s.total === 0
    ? html`<p>${T(c.l).none}</p>`
    : html`<section aria-labelledby="by-file"><h2 id="by-file">${T(c.l).byFile}</h2>${table(
        [c.l.t('Version'), c.l.t('File'), c.l.t('Downloads')],
        s.by_file.map((f) => [f.version, f.file_name, c.l.number(f.count)]),
      )}</section>
<section aria-labelledby="by-mirror"><h2 id="by-mirror">${T(c.l).byMirror}</h2>${mirrorTable(c.l, s.by_mirror, s.total)}</section>
<section aria-labelledby="by-day"><h2 id="by-day">${T(c.l).byDay}</h2>${dayTable(c.l, s.by_day)}</section>`
}
<p><a href="${apiUrl}">${T(c.l).json}</a></p>`;
      return sendPage(reply, page({ title: c.l.t('Downloads: {name}', { name: s.name }), ...c }, body));
    },
  );

  app.get('/admin/stats/downloads', { schema: { hide: true, querystring: formQuery('from', 'to') } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    requireAdmin(c.viewer);
    const range = rangeOf(req);
    const s = await stats.overview(c.viewer, range);
    const body = html`<p>${T(c.l).intro}</p>
${rangeForm(c.l, '/admin/stats/downloads', range)}
<table><tbody><tr><th scope="row">${T(c.l).total} (${s.from} – ${s.to})</th><td>${c.l.number(s.total)}</td></tr><tr><th scope="row">${T(c.l).share}</th><td>${percent(c.l, 100 * s.mirror_share)}</td></tr></tbody></table>
${
  s.total === 0
    ? html`<p>${T(c.l).none}</p>`
    : html`<section aria-labelledby="by-mirror"><h2 id="by-mirror">${T(c.l).byMirror}</h2>${mirrorTable(c.l, s.by_mirror, s.total)}<p><a href="/admin/mirrors">${c.l.t('Mirrors')}</a></p></section>
<section aria-labelledby="top"><h2 id="top">${T(c.l).top}</h2>${table(
        [c.l.t('Activity'), c.l.t('Bundle id'), c.l.t('Downloads')],
        s.top_activities.map((a) => [
          html`<a href="/developers/activities/${a.activity_id}/stats?from=${s.from}&amp;to=${s.to}">${a.name}</a>`,
          html`<code>${a.bundle_id}</code>`,
          c.l.number(a.count),
        ]),
      )}</section>
<section aria-labelledby="by-day"><h2 id="by-day">${T(c.l).byDay}</h2>${dayTable(c.l, s.by_day)}</section>`
}
<p><a href="/api/v1/stats/downloads?from=${s.from}&amp;to=${s.to}">${T(c.l).json}</a></p>`;
    return sendPage(reply, page({ title: T(c.l).overview, ...c }, body));
  });
}

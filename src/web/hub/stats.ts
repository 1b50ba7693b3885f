// Download counts in the hub: an activity's downloads for its authors (and administrators) per
// day, per version's file and per mirror; the administrators' overview of the whole store (per
// day, per mirror, the share the mirrors took, the most downloaded activities). Same service and
// access rules as the API (src/downloads/stats.ts); read-only pages, so no forms to protect.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AsloError } from '../../platform/errors.js';
import { requireAdmin } from '../../accounts/access.js';
import { DownloadStatsService, dayRange, MAX_DAYS, type DayCount, type DayRange, type MirrorCount } from '../../downloads/stats.js';
import { html, page, table, type SafeHtml } from './layout.js';
import { loginOrRedirect, pageCtx, sendPage } from './common.js';

const T = {
  activity: 'Downloads',
  overview: 'Downloads of the store',
  intro: `Counted when a download is sent to a mirror or served by this store; a download that is resumed (the rest of a file) is not counted again. Days are UTC; the last few seconds may not be counted yet. At most ${MAX_DAYS} days at once.`,
  from: 'From',
  to: 'To',
  show: 'Show',
  total: 'Downloads in these days',
  allTime: 'All downloads ever counted',
  byDay: 'Per day',
  byFile: 'Per version',
  byMirror: 'Per mirror',
  top: 'Most downloaded activities',
  share: 'Served by mirrors',
  none: 'No download in these days.',
  json: 'The same as JSON',
  back: 'Back to the activity',
};

function num(n: number): string {
  return n.toLocaleString('en');
}

function rangeForm(action: string, r: DayRange): SafeHtml {
  return html`<form method="get" action="${action}" aria-label="Days"><label>${T.from} <input type="date" name="from" value="${r.from}"></label> <label>${T.to} <input type="date" name="to" value="${r.to}"></label> <button type="submit">${T.show}</button></form>`;
}

function dayTable(days: DayCount[]): SafeHtml {
  const max = Math.max(1, ...days.map((d) => d.count));
  // Newest first; <meter> draws the bar without styles or scripts.
  return table(['Day', 'Downloads', 'From mirrors', 'From this store', 'Bar'], [...days].reverse().map((d) => [d.day, num(d.count), num(d.count - d.origin), num(d.origin), html`<meter min="0" max="${max}" value="${d.count}" aria-label="${d.day}: ${d.count}">${d.count}</meter>`]));
}

function mirrorTable(rows: MirrorCount[], total: number): SafeHtml {
  return table(['Served by', 'Downloads', 'Share'], rows.map((m) => [m.mirror_id === 0 ? 'this store (origin)' : m.name, num(m.count), total ? `${((100 * m.count) / total).toFixed(1)} %` : '']));
}

function rangeOf(req: FastifyRequest): DayRange {
  return dayRange(req.query as Record<string, unknown>);
}

export async function statsPages(app: FastifyInstance): Promise<void> {
  const stats = new DownloadStatsService(app.ctx, (ids) => app.publishing.names(ids));

  app.get('/developers/activities/:id/stats', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const id = Number((req.params as Record<string, string>).id);
    if (!Number.isSafeInteger(id) || id < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
    const a = await stats.authorize(c.viewer, id);
    const range = rangeOf(req);
    const s = await stats.forActivity(a, range);
    const apiUrl = `/api/v1/activities/${encodeURIComponent(s.bundle_id)}/stats/downloads?from=${s.from}&to=${s.to}`;
    const body = html`<p><code>${s.bundle_id}</code> · <a href="/developers/activities/${s.activity_id}">${T.back}</a></p>
<p>${T.intro}</p>
${rangeForm(`/developers/activities/${s.activity_id}/stats`, range)}
<table><tbody><tr><th scope="row">${T.total} (${s.from} – ${s.to})</th><td>${num(s.total)}</td></tr><tr><th scope="row">${T.allTime}</th><td>${num(s.all_time)}</td></tr></tbody></table>
${s.total === 0
      ? html`<p>${T.none}</p>`
      : html`<section aria-labelledby="by-file"><h2 id="by-file">${T.byFile}</h2>${table(['Version', 'File', 'Downloads'], s.by_file.map((f) => [f.version, f.file_name, num(f.count)]))}</section>
<section aria-labelledby="by-mirror"><h2 id="by-mirror">${T.byMirror}</h2>${mirrorTable(s.by_mirror, s.total)}</section>
<section aria-labelledby="by-day"><h2 id="by-day">${T.byDay}</h2>${dayTable(s.by_day)}</section>`}
<p><a href="${apiUrl}">${T.json}</a></p>`;
    return sendPage(reply, page({ title: `${T.activity}: ${s.name}`, viewer: c.viewer, csrf: c.csrf }, body));
  });

  app.get('/admin/stats/downloads', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    requireAdmin(c.viewer);
    const range = rangeOf(req);
    const s = await stats.overview(c.viewer, range);
    const body = html`<p>${T.intro}</p>
${rangeForm('/admin/stats/downloads', range)}
<table><tbody><tr><th scope="row">${T.total} (${s.from} – ${s.to})</th><td>${num(s.total)}</td></tr><tr><th scope="row">${T.share}</th><td>${(100 * s.mirror_share).toFixed(1)} %</td></tr></tbody></table>
${s.total === 0
      ? html`<p>${T.none}</p>`
      : html`<section aria-labelledby="by-mirror"><h2 id="by-mirror">${T.byMirror}</h2>${mirrorTable(s.by_mirror, s.total)}<p><a href="/admin/mirrors">Mirrors</a></p></section>
<section aria-labelledby="top"><h2 id="top">${T.top}</h2>${table(['Activity', 'Bundle id', 'Downloads'], s.top_activities.map((a) => [html`<a href="/developers/activities/${a.activity_id}/stats?from=${s.from}&amp;to=${s.to}">${a.name}</a>`, html`<code>${a.bundle_id}</code>`, num(a.count)]))}</section>
<section aria-labelledby="by-day"><h2 id="by-day">${T.byDay}</h2>${dayTable(s.by_day)}</section>`}
<p><a href="/api/v1/stats/downloads?from=${s.from}&amp;to=${s.to}">${T.json}</a></p>`;
    return sendPage(reply, page({ title: T.overview, viewer: c.viewer, csrf: c.csrf }, body));
  });
}

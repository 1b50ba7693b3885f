// Ratings and reviews of an activity (list, rate, reply, flag), the editors' flag queue, abuse
// reports (anyone) and the administrators' report queue.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AsloError } from '../../platform/errors.js';
import { authorRole } from '../../accounts/access.js';
import { FLAG_REASONS, MODERATIONS, REPORT_REASONS } from '../../ratings/service.js';
import { html, input, page, postForm, submit, table, textarea, waited, when } from './layout.js';
import { field, loginOrRedirect, pageCtx, redirect, sendPage } from './common.js';

const T = {
  reviews: 'Reviews',
  average: 'Average',
  none: 'No reviews yet.',
  rate: 'Rate this activity',
  rating: 'Rating (1-5)',
  review: 'Your review (optional)',
  save: 'Save',
  loginToRate: 'Log in to rate and review.',
  reply: 'Reply (once)',
  flag: 'Flag',
  reason: 'Reason',
  message: 'Message',
  report: 'Report this activity',
  reportIntro: 'Tell the administrators what is wrong with this activity (malware, inappropriate content, copyright...). Logging in is not needed.',
  reported: 'Thank you: the administrators will look at your report.',
  saved: 'Saved.',
  flags: 'Flagged reviews',
  noFlags: 'No flagged review.',
  moderate: 'Decide',
  comment: 'Comment (required)',
  reports: 'Abuse reports',
  noReports: 'No open report.',
  resolve: 'Resolve',
  resolution: 'What was done (required)',
};

function idParam(req: FastifyRequest, name = 'id'): number {
  const n = Number((req.params as Record<string, string>)[name]);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

export async function ratingPages(app: FastifyInstance): Promise<void> {
  const csrf = app.csrfProtection;
  const ratings = app.ratings;

  app.get('/ratings/:bundle_id', async (req, reply) => {
    const c = await pageCtx(req, reply);
    const bundleId = (req.params as { bundle_id: string }).bundle_id;
    const { activity, reviews } = await ratings.list(bundleId);
    const author = c.viewer ? (await authorRole(app.ctx.db, activity.id, c.viewer.userId)) !== null : false;
    const mine = c.viewer ? reviews.find((r) => r.user_id === c.viewer!.userId) : undefined;
    const enc = encodeURIComponent(bundleId);
    const items = reviews.map(
      (r) => html`<article><h3>${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)} <span>${r.author}</span></h3><p><small>${when(r.updated_at)}</small></p>${r.body ? html`<p>${r.body}</p>` : ''}
${r.reply_body ? html`<blockquote><p>${r.replier ?? 'The authors'}: ${r.reply_body}</p></blockquote>` : author ? postForm(`/ratings/review/${r.id}/reply`, c.csrf, html`${textarea('body', T.reply, { required: true, rows: 2 })}${submit(T.reply)}`) : ''}
${c.viewer && c.viewer.userId !== r.user_id ? html`<details><summary>${T.flag}</summary>${postForm(`/ratings/review/${r.id}/flag`, c.csrf, html`<p><label>${T.reason} <select name="reason">${FLAG_REASONS.map((x) => html`<option>${x}</option>`)}</select></label></p>${input('message', T.message)}${submit(T.flag)}`)}</details>` : ''}</article>`,
    );
    const body = html`
<p>${T.average}: ${activity.rating_average ?? '–'} (${activity.rating_count})</p>
${c.viewer && !author ? html`<section aria-labelledby="rate"><h2 id="rate">${T.rate}</h2>${postForm(`/ratings/${enc}`, c.csrf, html`<p><label>${T.rating} <select name="rating">${[5, 4, 3, 2, 1].map((n) => html`<option${mine?.rating === n ? html` selected` : ''}>${n}</option>`)}</select></label></p>${textarea('body', T.review, { value: mine?.body ?? '' })}${submit(T.save)}`)}</section>` : c.viewer ? '' : html`<p><a href="/account/login?next=${encodeURIComponent(req.url)}">${T.loginToRate}</a></p>`}
<section aria-labelledby="list"><h2 id="list">${T.reviews}</h2>${items.length ? items : html`<p>${T.none}</p>`}</section>
<section aria-labelledby="report"><h2 id="report">${T.report}</h2><p>${T.reportIntro}</p>${postForm(`/report/${enc}`, c.csrf, html`<p><label>${T.reason} <select name="reason">${REPORT_REASONS.map((x) => html`<option>${x}</option>`)}</select></label></p>${textarea('message', T.message, { required: true })}${submit(T.report)}`)}</section>`;
    const done = (req.query as Record<string, unknown>).done;
    return sendPage(reply, page({ title: `${T.reviews}: ${bundleId}`, viewer: c.viewer, csrf: c.csrf, notice: done === 'reported' ? T.reported : done === 'saved' ? T.saved : null }, body));
  });

  const back = (bundleId: string, done = 'saved') => `/ratings/${encodeURIComponent(bundleId)}?done=${done}`;
  const bundleOfReview = async (id: number) => (await app.ctx.db.selectFrom('reviews as r').innerJoin('activities as a', 'a.id', 'r.activity_id').select('a.bundle_id').where('r.id', '=', id).executeTakeFirst())?.bundle_id;

  app.post('/ratings/:bundle_id', { preHandler: csrf }, async (req, reply) => {
    const bundleId = (req.params as { bundle_id: string }).bundle_id;
    await ratings.rate(await req.viewer(), bundleId, field(req.body, 'rating'), field(req.body, 'body'));
    return redirect(reply, back(bundleId));
  });
  app.post('/ratings/review/:id/reply', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await ratings.reply(await req.viewer(), id, field(req.body, 'body'));
    return redirect(reply, back((await bundleOfReview(id)) ?? ''));
  });
  app.post('/ratings/review/:id/flag', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await ratings.flag(await req.viewer(), id, field(req.body, 'reason'), field(req.body, 'message'));
    return redirect(reply, back((await bundleOfReview(id)) ?? ''));
  });
  app.post('/report/:bundle_id', { preHandler: [csrf, ...app.limits.report] }, async (req, reply) => {
    const bundleId = (req.params as { bundle_id: string }).bundle_id;
    await ratings.report(await req.viewer(), bundleId, field(req.body, 'reason'), field(req.body, 'message'), req.ip);
    return redirect(reply, back(bundleId, 'reported'));
  });

  app.get('/editors/flags', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const q = await ratings.flagQueue(c.viewer);
    const rows = q.map((r) => [
      html`<a href="/ratings/${encodeURIComponent(r.bundle_id)}">${r.bundle_id}</a>`,
      `${r.rating}/5 ${r.author}`,
      r.body ?? '',
      `${r.flag_count}: ${r.reasons ?? ''}`,
      r.since ? waited(new Date(r.since as unknown as string)) : '',
      postForm(`/editors/flags/${r.id}`, c.csrf, html`<select name="action" aria-label="${T.moderate}">${MODERATIONS.map((m) => html`<option>${m}</option>`)}</select> <input name="comment" required aria-label="${T.comment}" placeholder="${T.comment}"> <button type="submit">${T.moderate}</button>`),
    ]);
    return sendPage(reply, page({ title: T.flags, viewer: c.viewer, csrf: c.csrf }, rows.length ? table(['Activity', 'Review', 'Text', 'Flags', 'Waiting', ''], rows) : html`<p>${T.noFlags}</p>`));
  });
  app.post('/editors/flags/:id', { preHandler: csrf }, async (req, reply) => {
    await ratings.moderate(await req.viewer(), idParam(req), field(req.body, 'action'), field(req.body, 'comment'));
    return redirect(reply, '/editors/flags');
  });

  app.get('/admin/reports', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const q = await ratings.reportQueue(c.viewer);
    const rows = q.map((r) => [
      html`<a href="/developers/activities/${r.activity_id}">${r.bundle_id}</a> (${r.status})`,
      r.reason,
      r.message,
      r.reporter ?? `anonymous ${r.reporter_address ?? ''}`,
      when(r.created_at),
      postForm(`/admin/reports/${r.id}/resolve`, c.csrf, html`<input name="resolution" required aria-label="${T.resolution}" placeholder="${T.resolution}"> <button type="submit">${T.resolve}</button>`),
    ]);
    return sendPage(reply, page({ title: T.reports, viewer: c.viewer, csrf: c.csrf }, rows.length ? table(['Activity', T.reason, T.message, 'From', 'When', ''], rows) : html`<p>${T.noReports}</p>`));
  });
  app.post('/admin/reports/:id/resolve', { preHandler: csrf }, async (req, reply) => {
    await ratings.resolveReport(await req.viewer(), idParam(req), field(req.body, 'resolution'));
    return redirect(reply, '/admin/reports');
  });
}

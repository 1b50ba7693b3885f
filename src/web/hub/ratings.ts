// Ratings and reviews of an activity (list, rate, reply, flag), the editors' flag queue, abuse
// reports (anyone) and the administrators' report queue.
import { AsloError } from '../../platform/errors.js';
import { FLAG_REASONS, MODERATIONS, REPORT_REASONS } from '../../ratings/service.js';
import { html, input, page, perLocale, postForm, submit, table, textarea, waited, when } from './layout.js';
import { moderationName, reasonName, statusName } from './words.js';
import { field, loginOrRedirect, pageCtx, redirect, sendPage } from './common.js';
import { formBody, formQuery, textParams, type TypedApp } from '../../platform/schemas.js';

const T = perLocale((l) => ({
  reviews: l.t('Reviews'),
  none: l.t('No reviews yet.'),
  rate: l.t('Rate this activity'),
  rating: l.t('Rating (1-5)'),
  review: l.t('Your review (optional)'),
  save: l.t('Save'),
  loginToRate: l.t('Log in to rate and review.'),
  reply: l.t('Reply (once)'),
  flag: l.t('Flag'),
  reason: l.t('Reason'),
  message: l.t('Message'),
  report: l.t('Report this activity'),
  reportIntro: l.t('Tell the administrators what is wrong with this activity (malware, inappropriate content, copyright...). Logging in is not needed.'),
  reported: l.t('Thank you: the administrators will look at your report.'),
  saved: l.t('Saved.'),
  flags: l.t('Flagged reviews'),
  noFlags: l.t('No flagged review.'),
  moderate: l.t('Decide'),
  comment: l.t('Comment (required)'),
  reports: l.t('Abuse reports'),
  noReports: l.t('No open report.'),
  resolve: l.t('Resolve'),
  resolution: l.t('What was done (required)'),
}));

function idParam(req: { params: Record<string, string> }, name = 'id'): number {
  const n = Number(req.params[name]);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

export async function ratingPages(app: TypedApp): Promise<void> {
  const csrf = app.csrfProtection;
  const ratings = app.ratings;

  app.get('/ratings/:bundle_id', { schema: { hide: true, params: textParams('bundle_id'), querystring: formQuery('done') } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    const bundleId = req.params.bundle_id;
    const { activity, reviews, viewerIsAuthor: author } = await ratings.reviewsPage(c.viewer, bundleId);
    const { name } = await app.services.catalog.getActivity(bundleId, c.l.locale);
    const mine = c.viewer ? reviews.find((r) => r.user_id === c.viewer!.userId) : undefined;
    const enc = encodeURIComponent(bundleId);
    const items = reviews.map(
      (
        r,
      ) => html`<article><h3>${'★'.repeat(r.rating)}${'☆'.repeat(5 - r.rating)} <span class="sr">${c.l.t('{count} of 5 stars', { count: r.rating })}</span> <bdi>${r.author}</bdi></h3><p><small>${when(r.updated_at)}</small></p>${r.body ? html`<p dir="auto">${r.body}</p>` : ''}
${r.reply_body ? html`<blockquote dir="auto"><p>${c.l.t('{who}: {text}', { who: r.replier ?? c.l.t('The authors'), text: r.reply_body })}</p></blockquote>` : author ? postForm(`/ratings/review/${r.id}/reply`, c.csrf, html`${textarea('body', T(c.l).reply, { required: true, rows: 2 })}${submit(T(c.l).reply)}`) : ''}
${c.viewer && c.viewer.userId !== r.user_id ? html`<details><summary>${T(c.l).flag}</summary>${postForm(`/ratings/review/${r.id}/flag`, c.csrf, html`<p><label>${T(c.l).reason} <select name="reason">${FLAG_REASONS.map((x) => html`<option value="${x}">${reasonName(c.l, x)}</option>`)}</select></label></p>${input('message', T(c.l).message)}${submit(T(c.l).flag)}`)}</details>` : ''}</article>`,
    );
    const body = html`
<p><a href="/${c.l.locale}/activity/${enc}">${c.l.t('Back to {name}', { name })}</a></p>
<p>${c.l.t('Average: {average} ({ratings})', { average: activity.rating_average === null || activity.rating_average === undefined ? '–' : c.l.number(Number(activity.rating_average)), ratings: c.l.n('{count} rating', '{count} ratings', Number(activity.rating_count)) })}</p>
${c.viewer && !author ? html`<section aria-labelledby="rate"><h2 id="rate">${T(c.l).rate}</h2>${postForm(`/ratings/${enc}`, c.csrf, html`<p><label>${T(c.l).rating} <select name="rating" required><option value="">${c.l.t('Choose a rating')}</option>${[5, 4, 3, 2, 1].map((n) => html`<option value="${n}"${mine?.rating === n ? html` selected` : ''}>${c.l.t('{count} of 5 stars', { count: c.l.number(n) })}</option>`)}</select></label></p>${textarea('body', T(c.l).review, { value: mine?.body ?? '' })}${submit(T(c.l).save)}`)}</section>` : c.viewer ? '' : html`<p><a href="/account/login?next=${encodeURIComponent(req.url)}">${T(c.l).loginToRate}</a></p>`}
<section aria-labelledby="list"><h2 id="list">${T(c.l).reviews}</h2>${items.length ? items : html`<p>${T(c.l).none}</p>`}</section>
<section aria-labelledby="report"><h2 id="report">${T(c.l).report}</h2><p>${T(c.l).reportIntro}</p>${postForm(`/report/${enc}`, c.csrf, html`<p><label>${T(c.l).reason} <select name="reason">${REPORT_REASONS.map((x) => html`<option value="${x}">${reasonName(c.l, x)}</option>`)}</select></label></p>${textarea('message', T(c.l).message, { required: true })}${submit(T(c.l).report)}`)}</section>`;
    const done = req.query.done;
    return sendPage(
      reply,
      page({ title: c.l.t('Reviews: {name}', { name }), ...c, notice: done === 'reported' ? T(c.l).reported : done === 'saved' ? T(c.l).saved : null }, body),
    );
  });

  const back = (bundleId: string, done = 'saved') => `/ratings/${encodeURIComponent(bundleId)}?done=${done}`;

  app.post(
    '/ratings/:bundle_id',
    { preHandler: csrf, schema: { hide: true, params: textParams('bundle_id'), body: formBody('rating', 'body') } },
    async (req, reply) => {
      const bundleId = req.params.bundle_id;
      await ratings.rate(await req.viewer(), bundleId, field(req.body, 'rating'), field(req.body, 'body'));
      return redirect(reply, back(bundleId));
    },
  );
  app.post('/ratings/review/:id/reply', { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('body') } }, async (req, reply) => {
    const id = idParam(req);
    await ratings.reply(await req.viewer(), id, field(req.body, 'body'));
    return redirect(reply, back(await ratings.bundleIdOfReview(id)));
  });
  app.post(
    '/ratings/review/:id/flag',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('reason', 'message') } },
    async (req, reply) => {
      const id = idParam(req);
      await ratings.flag(await req.viewer(), id, field(req.body, 'reason'), field(req.body, 'message'));
      return redirect(reply, back(await ratings.bundleIdOfReview(id)));
    },
  );
  app.post(
    '/report/:bundle_id',
    { preHandler: [csrf, ...app.limits.report], schema: { hide: true, params: textParams('bundle_id'), body: formBody('reason', 'message') } },
    async (req, reply) => {
      const bundleId = req.params.bundle_id;
      await ratings.report(await req.viewer(), bundleId, field(req.body, 'reason'), field(req.body, 'message'), req.ip);
      return redirect(reply, back(bundleId, 'reported'));
    },
  );

  app.get('/editors/flags', { schema: { hide: true } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const q = await ratings.flagQueue(c.viewer);
    const rows = q.map((r) => [
      html`<a href="/ratings/${encodeURIComponent(r.bundle_id)}">${r.bundle_id}</a>`,
      `${c.l.t('{count}/5', { count: r.rating })} ${r.author}`,
      r.body ?? '',
      `${c.l.number(Number(r.flag_count))}: ${(r.reasons ?? '')
        .split(', ')
        .filter(Boolean)
        .map((x) => reasonName(c.l, x))
        .join(', ')}`,
      r.since ? waited(c.l, new Date(r.since as unknown as string)) : '',
      postForm(
        `/editors/flags/${r.id}`,
        c.csrf,
        html`<select name="action" aria-label="${T(c.l).moderate}">${MODERATIONS.map((m) => html`<option value="${m}">${moderationName(c.l, m)}</option>`)}</select> <input name="comment" required aria-label="${T(c.l).comment}" placeholder="${T(c.l).comment}"> <button type="submit">${T(c.l).moderate}</button>`,
      ),
    ]);
    return sendPage(
      reply,
      page(
        { title: T(c.l).flags, ...c },
        rows.length ? table([c.l.t('Activity'), c.l.t('Rating'), c.l.t('Text'), c.l.t('Flags'), c.l.t('Waiting'), ''], rows) : html`<p>${T(c.l).noFlags}</p>`,
      ),
    );
  });
  app.post(
    '/editors/flags/:id',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('action', 'comment') } },
    async (req, reply) => {
      await ratings.moderate(await req.viewer(), idParam(req), field(req.body, 'action'), field(req.body, 'comment'));
      return redirect(reply, '/editors/flags');
    },
  );

  app.get('/admin/reports', { schema: { hide: true } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const q = await ratings.reportQueue(c.viewer);
    const rows = q.map((r) => [
      html`<a href="/developers/activities/${r.activity_id}">${r.bundle_id}</a> (${statusName(c.l, r.status)})`,
      reasonName(c.l, r.reason),
      r.message,
      r.reporter ?? c.l.t('anonymous {address}', { address: r.reporter_address ?? '' }),
      when(r.created_at),
      postForm(
        `/admin/reports/${r.id}/resolve`,
        c.csrf,
        html`<input name="resolution" required aria-label="${T(c.l).resolution}" placeholder="${T(c.l).resolution}"> <button type="submit">${T(c.l).resolve}</button>`,
      ),
    ]);
    return sendPage(
      reply,
      page(
        { title: T(c.l).reports, ...c },
        rows.length
          ? table([c.l.t('Activity'), T(c.l).reason, T(c.l).message, c.l.t('Reported by'), c.l.t('When'), ''], rows)
          : html`<p>${T(c.l).noReports}</p>`,
      ),
    );
  });
  app.post(
    '/admin/reports/:id/resolve',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('resolution') } },
    async (req, reply) => {
      await ratings.resolveReport(await req.viewer(), idParam(req), field(req.body, 'resolution'));
      return redirect(reply, '/admin/reports');
    },
  );
}

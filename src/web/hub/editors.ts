// The editors' queue and review pages, flagged user reviews, and the administrators' audit log
// and abuse-report queue.
import { AsloError } from '../../platform/errors.js';
import type { AuditQuery } from '../../platform/audit/index.js';
import { parseId } from '../../platform/request-guard.js';
import { DECISIONS, type TargetKind } from '../../review/service.js';
import { CONFIRM_PARAM, CONFIRM_VALUE } from '../../review/downloads.js';
import { html, markup, page, perLocale, postForm, submit, table, textarea, waited, when, type SafeHtml, type Translator } from './layout.js';
import type { BundleDiff, FileChange } from '../../review/bundle-diff.js';
import { decisionName, reviewActionName, roleName, statusName } from './words.js';
import { field, fieldList, loginOrRedirect, pageCtx, redirect, sendPage } from './common.js';
import { issueList } from './developers.js';
import { formBody, formQuery, textParams, type TypedApp } from '../../platform/schemas.js';

const T = perLocale((l) => ({
  queue: l.t("Editors' queue"),
  nominated: l.t('Nominated activities'),
  pending: l.t('Pending versions'),
  empty: l.t('Nothing waits for review.'),
  waiting: l.t('Waiting'),
  own: l.t('your activity: another editor reviews it'),
  adminOnly: l.t('an administrator decides'),
  metadata: l.t('Metadata'),
  files: l.t('Files in the bundle'),
  warnings: l.t('Validator warnings'),
  noWarnings: l.t('No warnings.'),
  firstVersion: l.t('This is the first version.'),
  added: l.t('Added'),
  removed: l.t('Removed'),
  changed: l.t('Changed size'),
  changedContent: l.t('Changed'),
  modes: l.t('Permission changes'),
  nowExec: l.t('now executable'),
  noLongerExec: l.t('no longer executable'),
  decision: l.t('Decision'),
  comment: l.t('Comment to the authors (required)'),
  decide: l.t('Record decision'),
  decided: l.t('The decision is recorded and the authors were told by mail.'),
  history: l.t('History'),
  underReview: l.t('Versions under review'),
  covers: l.t('Your decision covers exactly these versions. A version uploaded after this page was shown waits in the queue for its own review.'),
  noneAwaiting: l.t('No version awaits review.'),
  isNew: l.t('new'),
  versionsCol: l.t('Versions'),
  audit: l.t('Audit log'),
  filter: l.t('Filter'),
}));

/** The comparison of two stored bundles (src/review/bundle-diff.ts): files, modes, activity.info lines. */
function bundleDiffView(l: Translator, d: BundleDiff): SafeHtml {
  const size = (n: number | null) => (n === null ? '–' : l.n('{count} byte', '{count} bytes', n));
  const files = (title: string, id: string, list: FileChange[]) =>
    html`<h3 id="${id}">${title} (${l.number(list.length)})</h3>${
      list.length
        ? table(
            [l.t('Path'), l.t('Before'), l.t('After')],
            list.map((f) => [html`<code>${f.path}</code>`, size(f.before), size(f.after)]),
          )
        : html`<p>${l.t('None.')}</p>`
    }`;
  return html`<p>${l.n('{count} file unchanged.', '{count} files unchanged.', d.unchanged)}</p>
${files(T(l).added, 'diff-added', d.added)}${files(T(l).removed, 'diff-removed', d.removed)}${files(T(l).changedContent, 'diff-changed', d.changed)}
<h3 id="diff-modes">${T(l).modes} (${l.number(d.modes.length)})</h3>${
    d.modes.length
      ? table(
          [l.t('Path'), l.t('Before'), l.t('After'), ''],
          d.modes.map((m) => [
            html`<code>${m.path}</code>`,
            html`<code>${m.before}</code>`,
            html`<code>${m.after}</code>`,
            m.exec ? html`<strong>${m.after[2] === 'x' ? T(l).nowExec : T(l).noLongerExec}</strong>` : '',
          ]),
        )
      : html`<p>${l.t('None.')}</p>`
  }
${d.texts.map((t) => html`<h3>${l.t('Changes in {file}', { file: t.path })}</h3><pre class="diff" dir="ltr" tabindex="0" aria-label="${l.t('Changes in {file}', { file: t.path })}">${t.lines.map((x) => html`<span class="${x.op === '+' ? 'add' : x.op === '-' ? 'del' : 'same'}">${x.op} ${x.text}</span>`)}</pre>`)}`;
}

function kindParam(req: { params: { kind: string } }): TargetKind {
  const k = req.params.kind;
  if (k !== 'activity' && k !== 'file') throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return k;
}

function idParam(req: { params: { id: string } }): number {
  const n = Number(req.params.id);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

/** The audit log's filters from a query string: each a single string (a key given twice counts once), dates that parse, a page number that is one. */
function auditQuery(query: unknown): AuditQuery {
  const s = (name: string) => field(query, name) || undefined;
  const date = (v: string | undefined) => (v && !Number.isNaN(Date.parse(v)) ? new Date(v) : undefined);
  return {
    action: s('action'),
    actor: s('actor'),
    targetType: s('target_type'),
    targetId: s('target_id'),
    since: date(s('since')),
    until: date(s('until')),
    page: parseId(s('page')) ?? 1,
  };
}

export async function editorPages(app: TypedApp): Promise<void> {
  const csrf = app.csrfProtection;

  app.get('/editors/queue', { schema: { hide: true, querystring: formQuery('done') } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const q = await app.review.queue(c.viewer);
    const note = (x: { own: boolean; admin_review: boolean }) => (x.own ? ` (${T(c.l).own})` : x.admin_review ? ` (${T(c.l).adminOnly})` : '');
    const body = html`
<section aria-labelledby="nominated"><h2 id="nominated">${T(c.l).nominated} (${q.nominated.length})</h2>
${
  q.nominated.length
    ? table(
        [c.l.t('Activity'), T(c.l).waiting, T(c.l).versionsCol, c.l.t('Message')],
        q.nominated.map((x) => [
          html`<a href="/editors/review/activity/${x.id}">${x.bundle_id}</a>${note(x)}`,
          html`<span title="${when(x.since)}">${waited(c.l, x.since)}</span>`,
          html`${c.l.n('{count} awaiting review', '{count} awaiting review', x.awaiting)}${x.undecided ? html` · <strong class="badge">${x.last_decision_at ? c.l.n('{count} new since the last decision', '{count} new since the last decision', x.undecided) : c.l.n('{count} never reviewed', '{count} never reviewed', x.undecided)}</strong>` : ''}${x.last_decision_at ? html`<br><small>${c.l.t('Last decision: {when}', { when: when(x.last_decision_at) })}</small>` : ''}`,
          html`<bdi>${x.nomination_message ?? ''}</bdi>`,
        ]),
      )
    : html`<p>${T(c.l).empty}</p>`
}</section>
<section aria-labelledby="pending"><h2 id="pending">${T(c.l).pending} (${q.pending.length})</h2>
${
  q.pending.length
    ? table(
        [c.l.t('Activity'), c.l.t('Version'), T(c.l).waiting, c.l.t('Release notes')],
        q.pending.map((x) => [
          html`<a href="/editors/review/file/${x.id}">${x.bundle_id}</a>${note(x)}`,
          html`${x.version}${x.new ? html` <strong class="badge">${T(c.l).isNew}</strong>` : ''}`,
          html`<span title="${when(x.since)}">${waited(c.l, x.since)}</span>`,
          html`<bdi>${x.release_notes ?? ''}</bdi>`,
        ]),
      )
    : html`<p>${T(c.l).empty}</p>`
}</section>`;
    return sendPage(reply, page({ title: T(c.l).queue, ...c, notice: req.query.done === 'decided' ? T(c.l).decided : null }, body));
  });

  app.get('/editors/review/:kind/:id', { schema: { hide: true, params: textParams('kind', 'id') } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const kind = kindParam(req);
    const r = await app.review.reviewPage(c.viewer, kind, idParam(req));
    const m = r.metadata as Record<string, unknown>;
    const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    const metaRows = ['bundle_id', 'name', 'version', 'summary', 'exec', 'runtime', 'license', 'tags', 'url', 'repository', 'max_participants'].map((k) => [
      k,
      html`<bdi>${show(m[k])}</bdi>`,
    ]);
    const body = html`
<p><code>${r.activity.bundle_id}</code> · ${c.l.t('activity {status}', { status: statusName(c.l, r.activity.status) })} · ${c.l.t('version {version} ({status})', { version: r.version.version, status: statusName(c.l, r.version.file_status) })} · <a href="/downloads/file/${r.version.file_id}/${r.version.file_name}?${CONFIRM_PARAM}=${CONFIRM_VALUE}">${r.version.file_name}</a> (${c.l.n('{count} byte', '{count} bytes', Number(r.version.size))}, sha256 <code>${r.version.sha256}</code>)</p>
<p>${c.l.t('Authors: {names}', { names: r.authors.map((a) => `${a.display_name} (${roleName(c.l, a.role)})`).join(', ') })}</p>
${r.activity.nomination_message && kind === 'activity' ? html`<blockquote dir="auto">${r.activity.nomination_message}</blockquote>` : ''}
<section aria-labelledby="meta"><h2 id="meta">${T(c.l).metadata}</h2>${table([c.l.t('Key'), c.l.t('Value')], metaRows)}</section>
<section aria-labelledby="warn"><h2 id="warn">${T(c.l).warnings}</h2>${r.warnings.length ? issueList(r.warnings, c.l.locale) : html`<p>${T(c.l).noWarnings}</p>`}</section>
<section aria-labelledby="diff"><h2 id="diff">${r.previous ? c.l.t('Changes since version {version}', { version: r.previous.version }) : T(c.l).firstVersion}</h2>
${
  r.metadataDiff.length
    ? table(
        [c.l.t('Key'), c.l.t('Before'), c.l.t('After')],
        r.metadataDiff.map((d) => [d.key, html`<bdi>${d.before}</bdi>`, html`<bdi>${d.after}</bdi>`]),
      )
    : ''
}
${r.bundleDiff ? bundleDiffView(c.l, r.bundleDiff) : r.fileDiff ? html`<dl><dt>${T(c.l).added} (${r.fileDiff.added.length})</dt><dd>${r.fileDiff.added.join(', ')}</dd><dt>${T(c.l).removed} (${r.fileDiff.removed.length})</dt><dd>${r.fileDiff.removed.join(', ')}</dd><dt>${T(c.l).changed} (${r.fileDiff.changed.length})</dt><dd>${r.fileDiff.changed.map((x) => `${x.path} (${x.before} → ${x.after})`).join(', ')}</dd></dl>` : ''}</section>
<section aria-labelledby="files"><h2 id="files">${T(c.l).files} (${r.files.length})</h2><details><summary>${c.l.n('{count} file', '{count} files', r.files.length)}</summary>${table(
      [c.l.t('Path'), c.l.t('Size')],
      r.files.map((f) => [f.path, f.size]),
    )}</details></section>
<section aria-labelledby="under-review"><h2 id="under-review">${T(c.l).underReview}</h2>${
      r.underReview.length
        ? html`<p>${T(c.l).covers}</p>${table(
            [c.l.t('Version'), c.l.t('Status'), c.l.t('File'), c.l.t('Uploaded')],
            r.underReview.map((v) => [
              html`${v.version}${v.new ? html` <strong class="badge">${T(c.l).isNew}</strong>` : ''}`,
              statusName(c.l, v.status),
              v.file_name,
              when(v.uploaded_at),
            ]),
          )}`
        : html`<p>${T(c.l).noneAwaiting}</p>`
    }</section>
<section aria-labelledby="decision"><h2 id="decision">${T(c.l).decision}</h2>${postForm(`/editors/review/${kind}/${idParam(req)}`, c.csrf, html`${r.underReview.map((v) => html`<input type="hidden" name="versions" value="${v.version}">`)}<fieldset><legend>${T(c.l).decision}</legend>${DECISIONS.map((d) => html`<label><input type="radio" name="action" value="${d}" required> ${decisionName(c.l, d)}</label><br>`)}</fieldset>${textarea('comment', T(c.l).comment, { required: true, rows: 5 })}${submit(T(c.l).decide)}`)}</section>
<section aria-labelledby="hist"><h2 id="hist">${T(c.l).history}</h2><ol>${r.history.map((h) => html`<li>${markup(h.version ? c.l.t('{action} ({version}) by {who}, {when}: {comment}') : c.l.t('{action} by {who}, {when}: {comment}'), { action: reviewActionName(c.l, h.action), version: h.version ?? '', who: html`<bdi>${h.actor ?? c.l.t('someone')}</bdi>`, when: html`<bdi>${when(h.created_at)}</bdi>`, comment: html`<bdi>${h.comment}</bdi>` })}</li>`)}</ol></section>`;
    return sendPage(reply, page({ title: c.l.t('Review: {name} {version}', { name: show(m.name), version: r.version.version }), ...c }, body));
  });

  app.post(
    '/editors/review/:kind/:id',
    { preHandler: csrf, schema: { hide: true, params: textParams('kind', 'id'), body: formBody('action', 'comment', 'versions') } },
    async (req, reply) => {
      // The form carries the versions the page showed: the decision covers exactly those.
      await app.review.decide(
        await req.viewer(),
        kindParam(req),
        idParam(req),
        field(req.body, 'action'),
        field(req.body, 'comment'),
        fieldList(req.body, 'versions'),
      );
      return redirect(reply, '/editors/queue?done=decided');
    },
  );

  app.get(
    '/admin/audit',
    { schema: { hide: true, querystring: formQuery('action', 'actor', 'target_type', 'target_id', 'since', 'until', 'page') } },
    async (req, reply) => {
      if (!(await loginOrRedirect(req, reply))) return reply;
      const c = await pageCtx(req, reply);
      const res = await app.review.auditLog(c.viewer, auditQuery(req.query));
      const rows = res.items.map((e) => [
        when(e.at),
        e.actor_label ?? '',
        e.actor_address ?? '',
        e.action,
        `${e.target_type} ${e.target_id ?? ''}`,
        e.reason ?? '',
        JSON.stringify(e.details),
      ]);
      const fieldIn = (name: string, label: string) => html`<label>${label} <input name="${name}" value="${field(req.query, name)}" size="14"></label> `;
      const body = html`<form method="get" action="/admin/audit" aria-label="${T(c.l).filter}">${fieldIn('action', c.l.t('Action (prefix with *)'))}${fieldIn('actor', c.l.t('Actor'))}${fieldIn('target_type', c.l.t('Target type'))}${fieldIn('target_id', c.l.t('Target'))}${fieldIn('since', c.l.t('Since'))}${fieldIn('until', c.l.t('Until'))}<button type="submit">${T(c.l).filter}</button></form>
<p>${c.l.n('{count} entry, page {page}.', '{count} entries, page {page}.', res.total, { page: c.l.number(res.page) })}</p>${table([c.l.t('When'), c.l.t('Who'), c.l.t('Address'), c.l.t('What'), c.l.t('Target'), c.l.t('Why'), c.l.t('Details')], rows)}`;
      return sendPage(reply, page({ title: T(c.l).audit, ...c }, body));
    },
  );

  // JSON for scripts (session only; admins).
  app.get(
    '/admin/audit.json',
    { schema: { hide: true, querystring: formQuery('action', 'actor', 'target_type', 'target_id', 'since', 'until', 'page') } },
    async (req) => {
      const { since: _since, until: _until, ...q } = auditQuery(req.query);
      return app.review.auditLog(await req.viewer(), q);
    },
  );
}

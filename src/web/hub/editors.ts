// The editors' queue and review pages, flagged user reviews, and the administrators' audit log
// and abuse-report queue.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AsloError } from '../../platform/errors.js';
import { requireAdmin } from '../../accounts/access.js';
import { listAudit } from '../../review/audit.js';
import { DECISIONS, type TargetKind } from '../../review/service.js';
import { CONFIRM_PARAM, CONFIRM_VALUE } from '../../review/downloads.js';
import { html, page, postForm, submit, table, textarea, waited, when } from './layout.js';
import { field, loginOrRedirect, pageCtx, redirect, sendPage } from './common.js';
import { issueList } from './developers.js';
import { issueLanguage } from '../../review/publishing.js';

const T = {
  queue: "Editors' queue",
  nominated: 'Nominated activities',
  pending: 'Pending versions',
  empty: 'Nothing waits for review.',
  waiting: 'Waiting',
  own: 'your activity: another editor reviews it',
  adminOnly: 'an administrator decides',
  review: 'Review',
  metadata: 'Metadata',
  files: 'Files in the bundle',
  warnings: 'Validator warnings',
  noWarnings: 'No warnings.',
  changes: 'Changes since version',
  firstVersion: 'This is the first version.',
  added: 'Added',
  removed: 'Removed',
  changed: 'Changed size',
  decision: 'Decision',
  comment: 'Comment to the authors (required)',
  decide: 'Record decision',
  decided: 'The decision is recorded and the authors were told by mail.',
  history: 'History',
  actions: { approve: 'Approve (make public)', return: 'Return to the sandbox', escalate: 'Ask for an administrator review', disable: 'Disable' } as Record<string, string>,
  audit: 'Audit log',
  filter: 'Filter',
};

function kindParam(req: FastifyRequest): TargetKind {
  const k = (req.params as Record<string, string>).kind;
  if (k !== 'activity' && k !== 'file') throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return k;
}

function idParam(req: FastifyRequest): number {
  const n = Number((req.params as Record<string, string>).id);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

export async function editorPages(app: FastifyInstance): Promise<void> {
  const csrf = app.csrfProtection;

  app.get('/editors/queue', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const q = await app.review.queue(c.viewer);
    const note = (x: { own: boolean; admin_review: boolean }) => (x.own ? ` (${T.own})` : x.admin_review ? ` (${T.adminOnly})` : '');
    const body = html`
<section aria-labelledby="nominated"><h2 id="nominated">${T.nominated} (${q.nominated.length})</h2>
${q.nominated.length ? table(['Activity', T.waiting, 'Message'], q.nominated.map((x) => [html`<a href="/editors/review/activity/${x.id}">${x.bundle_id}</a>${note(x)}`, waited(x.since), x.nomination_message ?? ''])) : html`<p>${T.empty}</p>`}</section>
<section aria-labelledby="pending"><h2 id="pending">${T.pending} (${q.pending.length})</h2>
${q.pending.length ? table(['Activity', 'Version', T.waiting], q.pending.map((x) => [html`<a href="/editors/review/file/${x.id}">${x.bundle_id}</a>${note(x)}`, x.version, waited(x.since)])) : html`<p>${T.empty}</p>`}</section>`;
    return sendPage(reply, page({ title: T.queue, viewer: c.viewer, csrf: c.csrf, notice: (req.query as Record<string, unknown>).done === 'decided' ? T.decided : null }, body));
  });

  app.get('/editors/review/:kind/:id', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const kind = kindParam(req);
    const r = await app.review.reviewPage(c.viewer, kind, idParam(req));
    const m = r.metadata as Record<string, unknown>;
    const show = (v: unknown) => (Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    const metaRows = ['bundle_id', 'name', 'version', 'summary', 'exec', 'runtime', 'license', 'tags', 'url', 'repository', 'max_participants'].map((k) => [k, show(m[k])]);
    const body = html`
<p><code>${r.activity.bundle_id}</code> · activity ${r.activity.status} · version ${r.version.version} (${r.version.file_status}) · <a href="/downloads/file/${r.version.file_id}/${r.version.file_name}?${CONFIRM_PARAM}=${CONFIRM_VALUE}">${r.version.file_name}</a> (${r.version.size} bytes, sha256 <code>${r.version.sha256}</code>)</p>
<p>Authors: ${r.authors.map((a) => `${a.display_name} (${a.role})`).join(', ')}</p>
${r.activity.nomination_message && kind === 'activity' ? html`<blockquote>${r.activity.nomination_message}</blockquote>` : ''}
<section aria-labelledby="meta"><h2 id="meta">${T.metadata}</h2>${table(['Key', 'Value'], metaRows)}</section>
<section aria-labelledby="warn"><h2 id="warn">${T.warnings}</h2>${r.warnings.length ? issueList(r.warnings, issueLanguage(c.viewer, req.headers['accept-language'])) : html`<p>${T.noWarnings}</p>`}</section>
<section aria-labelledby="diff"><h2 id="diff">${r.previous ? `${T.changes} ${r.previous.version}` : T.firstVersion}</h2>
${r.metadataDiff.length ? table(['Key', 'Before', 'After'], r.metadataDiff.map((d) => [d.key, d.before, d.after])) : ''}
${r.fileDiff ? html`<dl><dt>${T.added} (${r.fileDiff.added.length})</dt><dd>${r.fileDiff.added.join(', ')}</dd><dt>${T.removed} (${r.fileDiff.removed.length})</dt><dd>${r.fileDiff.removed.join(', ')}</dd><dt>${T.changed} (${r.fileDiff.changed.length})</dt><dd>${r.fileDiff.changed.map((x) => `${x.path} (${x.before} → ${x.after})`).join(', ')}</dd></dl>` : ''}</section>
<section aria-labelledby="files"><h2 id="files">${T.files} (${r.files.length})</h2><details><summary>${r.files.length} files</summary>${table(['Path', 'Size'], r.files.map((f) => [f.path, f.size]))}</details></section>
<section aria-labelledby="decision"><h2 id="decision">${T.decision}</h2>${postForm(`/editors/review/${kind}/${idParam(req)}`, c.csrf, html`<fieldset><legend>${T.decision}</legend>${DECISIONS.map((d) => html`<label><input type="radio" name="action" value="${d}" required> ${T.actions[d]}</label><br>`)}</fieldset>${textarea('comment', T.comment, { required: true, rows: 5 })}${submit(T.decide)}`)}</section>
<section aria-labelledby="hist"><h2 id="hist">${T.history}</h2><ol>${r.history.map((h) => html`<li>${h.action}${h.version ? ` (${h.version})` : ''} by ${h.actor ?? 'someone'}, ${when(h.created_at)}: ${h.comment}</li>`)}</ol></section>`;
    return sendPage(reply, page({ title: `${T.review}: ${show(m.name)} ${r.version.version}`, viewer: c.viewer, csrf: c.csrf }, body));
  });

  app.post('/editors/review/:kind/:id', { preHandler: csrf }, async (req, reply) => {
    await app.review.decide(await req.viewer(), kindParam(req), idParam(req), field(req.body, 'action'), field(req.body, 'comment'));
    return redirect(reply, '/editors/queue?done=decided');
  });

  app.get('/admin/audit', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    requireAdmin(c.viewer);
    const q = req.query as Record<string, string | undefined>;
    const date = (s: string | undefined) => (s && !Number.isNaN(Date.parse(s)) ? new Date(s) : undefined);
    const res = await listAudit(app.ctx.db, { action: q.action || undefined, actor: q.actor || undefined, targetType: q.target_type || undefined, targetId: q.target_id || undefined, since: date(q.since), until: date(q.until), page: Number(q.page) || 1 });
    const rows = res.items.map((e) => [when(e.at), e.actor_label ?? '', e.actor_address ?? '', e.action, `${e.target_type} ${e.target_id ?? ''}`, e.reason ?? '', JSON.stringify(e.details)]);
    const fieldIn = (name: string, label: string) => html`<label>${label} <input name="${name}" value="${q[name] ?? ''}" size="14"></label> `;
    const body = html`<form method="get" action="/admin/audit" aria-label="${T.filter}">${fieldIn('action', 'Action (prefix with *)')}${fieldIn('actor', 'Actor')}${fieldIn('target_type', 'Target type')}${fieldIn('target_id', 'Target')}${fieldIn('since', 'Since')}${fieldIn('until', 'Until')}<button type="submit">${T.filter}</button></form>
<p>${res.total} entries, page ${res.page}.</p>${table(['When', 'Who', 'From', 'What', 'Target', 'Why', 'Details'], rows)}`;
    return sendPage(reply, page({ title: T.audit, viewer: c.viewer, csrf: c.csrf }, body));
  });

  // JSON for scripts (session only; admins).
  app.get('/admin/audit.json', async (req) => {
    requireAdmin(await req.viewer());
    const q = req.query as Record<string, string | undefined>;
    return listAudit(app.ctx.db, { action: q.action || undefined, actor: q.actor || undefined, targetType: q.target_type || undefined, targetId: q.target_id || undefined, page: Number(q.page) || 1 });
  });

}

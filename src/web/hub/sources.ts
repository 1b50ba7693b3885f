// The hub's part of publishing from git (docs/building.md): the activity's source repository
// (authors), "check now" (a build run as a job in the worker), the recent builds with their
// logs, and the legacy id (administrators).
import { AsloError } from '../../platform/errors.js';
import { isAdmin, type Actor } from '../../accounts/access.js';
import type { SourceService } from '../../build/service.js';
import { html, input, postForm, submit, when, type SafeHtml } from './layout.js';
import { field, redirect, type PageCtx } from './common.js';
import { formBody, textParams, type TypedApp } from '../../platform/schemas.js';

type Builds = Awaited<ReturnType<SourceService['recentBuilds']>>;

function buildLine(c: PageCtx, b: Builds[number]): string {
  const l = c.l;
  if (b.state === 'queued') return l.t('Waiting to be built');
  if (b.state === 'running') return l.t('Building');
  if (b.outcome === 'built') return l.t('Built version {version} from {ref}', { version: b.version ?? '', ref: b.tag ?? 'HEAD' });
  if (b.outcome === 'unchanged') return l.t('Nothing new to build');
  return l.t('Refused: {codes}', { codes: b.codes.join(', ') });
}

/** The section of the activity's hub page; the builds are loaded by the caller. */
export function sourceSection(
  c: PageCtx,
  a: { id: number; source_url: string | null; legacy_id: number | null; source_hook_secret: string | null },
  actor: Actor,
  builds: Builds,
  baseUrl: string,
): SafeHtml {
  const l = c.l;
  return html`<section aria-labelledby="source"><h2 id="source">${l.t('Source repository')}</h2>
<p>${l.t('The store can build new versions itself from the newest tag of this git repository, without running anything from it.')}</p>
${postForm(`/developers/activities/${a.id}/source`, c.csrf, html`${input('source_url', l.t('Repository URL (https://)'), { value: a.source_url ?? '' })}${submit(l.t('Save'))}`)}
${a.source_url ? postForm(`/developers/activities/${a.id}/source/check`, c.csrf, submit(l.t('Check now'))) : ''}
${a.source_url && a.source_hook_secret ? html`<p>${l.t('Release on tag: add a webhook (push or tag events, JSON) at your forge with the URL for it and this secret.')}</p><ul>${(['github', 'gitlab', 'gitea'] as const).map((f) => html`<li><code>${baseUrl}/api/v1/hooks/${f}</code></li>`)}</ul><p><code>${a.source_hook_secret}</code></p>` : ''}
${builds.length ? html`<ol class="builds">${builds.map((b) => html`<li><strong>${buildLine(c, b)}</strong> <small>${when(b.created_at)}</small>${b.log ? html`<pre>${b.log}</pre>` : ''}</li>`)}</ol>` : ''}
${isAdmin(actor) ? postForm(`/admin/activities/${a.id}/legacy-id`, c.csrf, html`${input('legacy_id', l.t('Legacy id (the number in links to the old store)'), { value: a.legacy_id === null ? '' : String(a.legacy_id) })}${input('reason', l.t('Reason'), { required: true })}${submit(l.t('Set the legacy id'))}`) : ''}
</section>`;
}

function idParam(req: { params: { id: string } }): number {
  const n = Number(req.params.id);
  if (!Number.isSafeInteger(n) || n <= 0) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

export async function sourcePages(app: TypedApp): Promise<void> {
  const csrf = app.csrfProtection;
  const back = (id: number, done = 'saved') => `/developers/activities/${id}?done=${done}#source`;
  app.post(
    '/developers/activities/:id/source',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('source_url') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.services.sources.setSourceOf(await req.viewer(), id, field(req.body, 'source_url'));
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/developers/activities/:id/source/check',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody() } },
    async (req, reply) => {
      const id = idParam(req);
      await app.services.sources.checkSourceOf(await req.viewer(), id);
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/admin/activities/:id/legacy-id',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('legacy_id', 'reason') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.services.sources.setLegacyId(await req.viewer(), id, field(req.body, 'legacy_id'), field(req.body, 'reason'));
      return redirect(reply, back(id));
    },
  );
}

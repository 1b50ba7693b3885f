// The developer hub: your activities, uploads (new activity or new version), and one
// activity's page: status and nomination, versions (Sugar range, release notes), listing
// texts, links, tags and categories, screenshots, authors and ownership, review history;
// administrators also mark activities trusted and reassign abandoned ones.
import multipart from '@fastify/multipart';
import { AsloError } from '../../platform/errors.js';
import { isAdmin, isEditor, requireActor } from '../../accounts/access.js';
import { checkMultipartCsrf } from '../../accounts/plugin.js';
import { readUploadRequest, uploadStatus } from '../../review/api.js';
import type { UploadIssue } from '../../review/publishing.js';
import { issueLocaleDir, localizeIssue } from '../../bundles/index.js';
import { CONFIRM_PARAM, CONFIRM_VALUE } from '../../review/downloads.js';
import { html, input, markup, page, perLocale, postForm, submit, table, textarea, when, type SafeHtml, type Translator } from './layout.js';
import { reviewActionName, roleName, statusName } from './words.js';
import { sugarRangeText } from '../components.js';
import { localizedName } from '../../catalog/locales.js';
import { field, fieldList, loginOrRedirect, pageCtx, redirect, sendPage, type PageCtx } from './common.js';
import { sourceSection } from './sources.js';
import { formBody, formQuery, textParams, type TypedApp } from '../../platform/schemas.js';

const T = perLocale((l) => ({
  hub: l.t('Developer hub'),
  intro: l.t('Your activities, in every status. Upload a bundle to create an activity or add a version.'),
  none: l.t('You have no activity yet.'),
  upload: l.t('Upload a bundle'),
  uploadIntro: l.t(
    'A new bundle id creates a new activity (it starts in the sandbox); a bundle id of one of your activities adds a version. From the command line: aslo publish FILE.xo --server URL with ASLO_TOKEN.',
  ),
  file: l.t('Bundle (.xo or .xol)'),
  sugarMin: l.t('Lowest Sugar version (optional)'),
  sugarMax: l.t('Highest Sugar version (optional)'),
  releaseNotes: l.t('Release notes (optional)'),
  uploadButton: l.t('Upload'),
  uploaded: l.t('Uploaded'),
  rejected: l.t('Upload rejected'),
  errors: l.t('Errors'),
  warnings: l.t('Warnings'),
  status: l.t('Status'),
  nominate: l.t('Nominate for review'),
  nominateIntro: l.t('When the activity is ready, ask the editors to review it. Tell them what it does and how to try it.'),
  message: l.t('Message to the editors'),
  nominated: l.t('The activity is nominated: the editors will review it. You will get a mail with their decision.'),
  versions: l.t('Versions'),
  save: l.t('Save'),
  listing: l.t('Listing'),
  listingIntro: l.t(
    'Texts typed here replace those of the bundle for the chosen locale (leave the locale empty for the default). Descriptions keep paragraphs and lists only.',
  ),
  locale: l.t('Locale (empty: default)'),
  name: l.t('Name'),
  summary: l.t('Summary'),
  description: l.t('Description'),
  homepage: l.t('Homepage'),
  support: l.t('Support link'),
  tags: l.t('Tags (comma-separated)'),
  categories: l.t('Categories'),
  saved: l.t('Saved.'),
  screenshots: l.t('Screenshots'),
  screenshotFile: l.t('Image (PNG, JPEG or WebP, at least 200x150)'),
  caption: l.t('Caption'),
  addScreenshot: l.t('Add screenshot'),
  delete: l.t('Delete'),
  authors: l.t('Authors'),
  addAuthor: l.t('Add an author'),
  email: l.t('E-mail address'),
  role: l.t('Role'),
  remove: l.t('Remove'),
  makeOwner: l.t('Make owner (you become developer)'),
  history: l.t('Review history'),
  noHistory: l.t('No review yet.'),
  admin: l.t('Administration'),
  trusted: l.t('Trusted: new versions are public at once'),
  reason: l.t('Reason'),
  setTrusted: l.t('Set'),
  reassign: l.t('Give this activity to another account'),
  replace: l.t('Remove the current authors'),
  reassignButton: l.t('Reassign'),
  enable: l.t('Enable this activity again'),
  enableTo: l.t('Status after enabling'),
  enablePrevious: l.t('The status it had before it was disabled'),
  comment: l.t('Comment to the authors (required)'),
  enableButton: l.t('Enable'),
  enabled: l.t('The activity is enabled again; its authors were told by mail.'),
  publishTitle: l.t('Publish your activity'),
  publishIntro: l.t('Anyone can publish a Sugar activity here. It takes three steps; the editors check every new activity before children see it.'),
  step1: l.t('Create an account'),
  step1Text: l.t('Register with your e-mail address and confirm it from the mail we send.'),
  step2: l.t('Upload your bundle'),
  step2Text: l.t(
    'Upload the .xo file made by "python3 setup.py dist_xo". We read its name, version, icon and Sugar versions, and tell you at once what to fix. The activity starts in the sandbox: only you and the editors see it, on a preview of its page.',
  ),
  step3: l.t('Nominate it for review'),
  step3Text: l.t(
    'When it is ready, nominate it with a message to the editors. They try it and approve it, or tell you what to change. You get a mail either way.',
  ),
  cliTitle: l.t('From the command line or a script'),
  cliText: l.t('Create an API token with the "publish" scope in your account settings, then upload with the aslo command or the HTTP API:'),
  apiDocs: l.t('The API is described at {link}.'),
  startRegister: l.t('Create an account'),
  startLogin: l.t('Log in'),
  haveAccount: l.t('Already registered?'),
  readTitle: l.t('What we read from your bundle'),
  noWarnings: l.t('No warnings: the bundle follows every rule we check.'),
  uploadAnother: l.t('Upload another bundle'),
  nextTitle: l.t('Next step'),
  nextSandbox: l.t(
    'Check the preview of its page and complete the listing (texts, categories, screenshots), then nominate it: the editors review it and make it public.',
  ),
  nextPending: l.t('This version waits for an editor; it becomes public when they approve it. Nothing else to do.'),
  nextNominated: l.t('The activity is nominated: the editors will review this version with it.'),
  nextPublic: l.t('This version is public now.'),
  openListing: l.t('Complete the listing'),
  preview: l.t('Preview of its page'),
  prefilled: l.t('Filled in from the bundle. What you save here is shown instead of the bundle’s texts, also for later versions.'),
  sugarRange: l.t('Sugar versions'),
  fromUploader: l.t('as you set them'),
  fromRuntime: l.t('from its runtime'),
  icon: l.t('Icon'),
}));

/** The store's page of an activity (a preview while it is not public), in the visitor's language. */
function storePath(c: PageCtx, bundleId: string): string {
  return `/${c.l.locale}/activity/${encodeURIComponent(bundleId)}`;
}

/** The logged-out developer hub: publishing in three steps, and the same from a script. */
function howToPublish(c: PageCtx, baseUrl: string): SafeHtml {
  const t = T(c.l);
  return html`<p>${t.publishIntro}</p>
<ol class="steps">
<li><h2 class="h3">${t.step1}</h2><p>${t.step1Text}</p><p><a class="btn" href="/account/register">${t.startRegister}</a> ${t.haveAccount} <a href="/account/login?next=%2Fdevelopers">${t.startLogin}</a></p></li>
<li><h2 class="h3">${t.step2}</h2><p>${t.step2Text}</p></li>
<li><h2 class="h3">${t.step3}</h2><p>${t.step3Text}</p></li>
</ol>
<section aria-labelledby="cli"><h2 id="cli">${t.cliTitle}</h2><p>${t.cliText}</p>
<pre dir="ltr" tabindex="0"><code>export ASLO_TOKEN=…
aslo publish MyActivity-1.xo --server ${baseUrl}

curl -H "Authorization: Bearer $ASLO_TOKEN" \\
     -H "Content-Type: application/octet-stream" \\
     --data-binary @MyActivity-1.xo "${baseUrl}/api/v1/uploads?filename=MyActivity-1.xo"</code></pre>
<p>${markup(t.apiDocs, { link: html`<a href="/api/docs">/api/docs</a>` })}</p></section>`;
}

type DeveloperView = Awaited<ReturnType<TypedApp['publishing']['developerView']>>;

/** What was read from the uploaded bundle: name, version, icon, Sugar range, summary, license. */
function uploadSummary(
  c: PageCtx,
  v: DeveloperView,
  r: { version: string | null; bundle_id: string | null; activity_status: string | null; file_status: string | null },
): SafeHtml {
  const t = T(c.l);
  const ver = v.versions.find((x) => x.version === r.version) ?? v.versions[0];
  const text = v.texts.find((x) => x.origin !== 'developer' && x.locale === 'und') ?? v.texts[0];
  const range = ver ? sugarRangeText(c.l, ver.sugar_min, ver.sugar_max) : '';
  return html`<section aria-labelledby="read"><h2 id="read">${t.readTitle}</h2>
<div class="upload-read"><img src="/icon/${v.activity.bundle_id}/${r.version ?? '0'}.svg" width="64" height="64" alt="${t.icon}">
<dl class="facts">
<dt>${t.name}</dt><dd><bdi>${v.name}</bdi></dd>
${text?.summary ? html`<dt>${t.summary}</dt><dd dir="auto">${text.summary}</dd>` : ''}
<dt>${c.l.t('Bundle id')}</dt><dd><code>${v.activity.bundle_id}</code></dd>
<dt>${c.l.t('Version')}</dt><dd>${r.version ?? ''}</dd>
<dt>${t.sugarRange}</dt><dd>${range}${ver && (ver.sugar_min || ver.sugar_max) ? ` (${ver.sugar_range_origin === 'runtime' ? t.fromRuntime : t.fromUploader})` : ''}</dd>
<dt>${t.status}</dt><dd>${markup(c.l.t('activity {activity}, this version {file}'), { activity: html`<strong>${statusName(c.l, r.activity_status ?? '')}</strong>`, file: html`<strong>${statusName(c.l, r.file_status ?? '')}</strong>` })}</dd>
</dl></div></section>`;
}

/** The one thing to do next after an upload, with its form or link. */
function nextStep(c: PageCtx, v: DeveloperView): SafeHtml {
  const t = T(c.l);
  const a = v.activity;
  const author = v.myRole !== null;
  const links = html`<p><a href="/developers/activities/${a.id}">${c.l.t('Open the activity')}</a> · <a href="${storePath(c, a.bundle_id)}">${a.status === 'public' ? c.l.t('Public page') : t.preview}</a> · <a href="/developers/activities/${a.id}#listing">${t.openListing}</a></p>`;
  if (a.status === 'sandbox' && author) {
    return html`<section aria-labelledby="next"><h2 id="next">${t.nextTitle}: ${t.nominate}</h2><p>${t.nextSandbox}</p>${links}${postForm(`/developers/activities/${a.id}/nominate`, c.csrf, html`${textarea('message', t.message, { required: true, hint: t.nominateIntro })}${submit(t.nominate)}`, { label: t.nominate })}</section>`;
  }
  const say = a.status === 'nominated' ? t.nextNominated : a.status === 'public' && v.versions[0]?.file_status === 'public' ? t.nextPublic : t.nextPending;
  return html`<section aria-labelledby="next"><h2 id="next">${t.nextTitle}</h2><p>${say}</p>${links}</section>`;
}

function notice(req: { query: { done?: unknown } }, l: Translator): string | null {
  const d = req.query.done;
  const t = T(l);
  const notices: Record<string, string> = { nominated: t.nominated, saved: t.saved, enabled: t.enabled };
  return typeof d === 'string' ? (notices[d] ?? null) : null;
}

function idParam(req: { params: Record<string, string> }, name = 'id'): number {
  const n = Number(req.params[name]);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

/** Validation errors or warnings, each in the developer's language where translated, with its code, file and line. */
export function issueList(list: UploadIssue[], lang: string): SafeHtml {
  const attrs = lang === 'en' ? html`` : html` lang="${lang}" dir="${issueLocaleDir(lang)}"`;
  return html`<ul>${list.map((i) => html`<li><code>${i.code}</code> <span${attrs}>${localizeIssue(i, lang)}</span>${i.file ? html` <small>(<code>${i.file}${i.line ? `:${i.line}` : ''}</code>)</small>` : ''}</li>`)}</ul>`;
}

function uploadForm(c: PageCtx, action = '/developers/upload'): SafeHtml {
  return postForm(
    action,
    c.csrf,
    html`${input('file', T(c.l).file, { type: 'file', required: true, extra: 'accept=".xo,.xol"' })}${input('sugar_min', T(c.l).sugarMin)}${input('sugar_max', T(c.l).sugarMax)}${textarea('release_notes', T(c.l).releaseNotes, { rows: 3 })}${submit(T(c.l).uploadButton)}`,
    { multipart: true, label: T(c.l).upload },
  );
}

export async function developerPages(app: TypedApp): Promise<void> {
  const csrf = app.csrfProtection;
  // Uploads are streamed: multipart is parsed by the handler, not buffered.
  await app.register(multipart, { limits: { fileSize: app.ctx.config.bundles.maxUploadBytes * 2, files: 1, fields: 10, fieldSize: 64 * 1024 } });

  app.get('/developers', { schema: { hide: true } }, async (req, reply) => {
    const c = await pageCtx(req, reply);
    if (!c.viewer) return sendPage(reply, page({ title: T(c.l).publishTitle, ...c }, howToPublish(c, app.ctx.config.server.baseUrl)));
    const mine = await app.publishing.myActivities(c.viewer);
    const rows = mine.map((a) => [
      html`<a href="/developers/activities/${a.id}">${a.name}</a>`,
      html`<code>${a.bundle_id}</code>`,
      statusName(c.l, a.status),
      roleName(c.l, a.role),
    ]);
    const body = html`<p>${T(c.l).intro}</p><p><a href="/developers/upload">${T(c.l).upload}</a></p>${mine.length ? table([T(c.l).name, c.l.t('Bundle id'), T(c.l).status, T(c.l).role], rows) : html`<p>${T(c.l).none}</p>`}`;
    return sendPage(reply, page({ title: T(c.l).hub, ...c }, body));
  });

  app.get('/developers/upload', { schema: { hide: true } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    return sendPage(reply, page({ title: T(c.l).upload, ...c }, html`<p>${T(c.l).uploadIntro}</p>${uploadForm(c)}`));
  });

  // Multipart forms: the CSRF token is their first field, checked in the handler before the file is read.
  app.post(
    '/developers/upload',
    { preHandler: app.limits.upload, schema: { hide: true, body: formBody('file', 'sugar_min', 'sugar_max', 'release_notes') } },
    async (req, reply) => {
      const viewer = await req.viewer();
      app.publishing.checkCanUpload(viewer);
      const { source, opts } = await readUploadRequest(req, (fields) => checkMultipartCsrf(app, req, reply, fields));
      const r = await app.publishing.upload(viewer, source, opts);
      const c = await pageCtx(req, reply);
      // Validation messages in the page's language (bundles.po has the same languages).
      const lang = c.l.locale;
      const activityId = r.hub_url ? Number(/\/developers\/activities\/(\d+)/.exec(r.hub_url)?.[1]) : NaN;
      const read = r.ok && Number.isSafeInteger(activityId) ? await app.publishing.developerView(viewer, activityId) : null;
      const body = html`
${r.ok && r.outcome === 'unchanged' ? html`<p>${c.l.t('This exact file is on the store already.')}</p>` : ''}
${read ? uploadSummary(c, read, r) : ''}
${r.errors.length ? html`<section aria-labelledby="errors"><h2 id="errors">${T(c.l).errors} (${r.errors.length})</h2>${issueList(r.errors, lang)}</section>` : ''}
${r.warnings.length ? html`<section aria-labelledby="warnings"><h2 id="warnings">${T(c.l).warnings} (${r.warnings.length})</h2>${issueList(r.warnings, lang)}</section>` : r.ok ? html`<p>${T(c.l).noWarnings}</p>` : ''}
${read ? nextStep(c, read) : ''}
<h2>${read ? T(c.l).uploadAnother : T(c.l).upload}</h2>${uploadForm(c)}`;
      return sendPage(reply, page({ title: r.ok ? T(c.l).uploaded : T(c.l).rejected, ...c }, body), uploadStatus(r));
    },
  );

  app.get('/developers/activities/:id', { schema: { hide: true, params: textParams('id'), querystring: formQuery('done') } }, async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const id = idParam(req);
    const v = await app.publishing.developerView(c.viewer, id);
    const a = v.activity;
    const actor = requireActor(c.viewer);
    const owner = v.myRole === 'owner';
    const author = v.myRole !== null;
    const devText = v.texts.find((t) => t.origin === 'developer' && t.locale === 'und');
    // The listing form starts from the bundle's own texts until the developer saves their own.
    const bundleText = v.texts.find((t) => t.origin !== 'developer' && t.locale === 'und') ?? v.texts.find((t) => t.origin !== 'developer');
    const shown = devText ?? bundleText;
    // No category chosen yet: those named by the bundle's tags are ticked.
    const tagSlugs = new Set(v.tags.map((t) => t.slug));
    const ticked = (slug: string) => (v.categories.length ? v.categories.includes(slug) : tagSlugs.has(slug));
    const builds = author || isAdmin(actor) ? await app.services.sources.recentBuilds(actor, a.id) : [];
    const versionRows = v.versions.map((x) => [
      x.version,
      statusName(c.l, x.file_status) + (x.admin_review ? ` (${c.l.t('administrator review asked')})` : ''),
      html`<a href="/downloads/file/${x.file_id}/${x.file_name}${x.file_status === 'public' && a.status === 'public' ? '' : `?${CONFIRM_PARAM}=${CONFIRM_VALUE}`}">${x.file_name}</a>`,
      when(x.created_at),
      author || isAdmin(actor)
        ? postForm(
            `/developers/activities/${a.id}/versions/${x.id}`,
            c.csrf,
            html`<label>${c.l.t('lowest')} <input name="sugar_min" size="6" value="${x.sugar_min ?? ''}"></label> <label>${c.l.t('highest')} <input name="sugar_max" size="6" value="${x.sugar_max ?? ''}"></label> <label>${T(c.l).releaseNotes} <textarea name="release_notes" rows="2" cols="30">${x.release_notes ?? ''}</textarea></label> <button type="submit">${T(c.l).save}</button>`,
          )
        : html`${x.sugar_min ?? ''}–${x.sugar_max ?? ''}`,
    ]);
    const body = html`
<p><code>${a.bundle_id}</code> · ${markup(c.l.t('Status: {status}'), { status: html`<strong>${statusName(c.l, a.status)}</strong>` })}${a.trusted ? ` · ${c.l.t('trusted')}` : ''}${a.admin_review ? ` · ${c.l.t('waiting for an administrator')}` : ''}${author || isAdmin(actor) ? html` · <a href="/developers/activities/${a.id}/stats">${c.l.t('Downloads')}</a>` : ''} · <a href="${storePath(c, a.bundle_id)}">${a.status === 'public' ? c.l.t('Public page') : T(c.l).preview}</a></p>
${author && a.status === 'sandbox' ? html`<section aria-labelledby="nominate"><h2 id="nominate">${T(c.l).nominate}</h2><p>${T(c.l).nominateIntro}</p>${postForm(`/developers/activities/${a.id}/nominate`, c.csrf, html`${textarea('message', T(c.l).message, { required: true })}${submit(T(c.l).nominate)}`)}</section>` : ''}
<section aria-labelledby="versions"><h2 id="versions">${T(c.l).versions}</h2>${table([c.l.t('Version'), T(c.l).status, c.l.t('File'), c.l.t('Uploaded'), c.l.t('Sugar range, notes')], versionRows)}${author ? html`<h3>${T(c.l).upload}</h3>${uploadForm(c)}` : ''}</section>
<section aria-labelledby="history"><h2 id="history">${T(c.l).history}</h2>${v.history.length ? html`<ol>${v.history.map((h) => html`<li>${markup(h.version ? c.l.t('{action} (version {version}) by {who}, {when}: {from} → {to}') : c.l.t('{action} by {who}, {when}: {from} → {to}'), { action: html`<strong>${reviewActionName(c.l, h.action)}</strong>`, version: h.version ?? '', who: html`<bdi>${h.actor ?? c.l.t('someone')}</bdi>`, when: html`<bdi>${when(h.created_at)}</bdi>`, from: statusName(c.l, h.from_status), to: statusName(c.l, h.to_status) })}<blockquote dir="auto">${h.comment}</blockquote></li>`)}</ol>` : html`<p>${T(c.l).noHistory}</p>`}</section>
${
  author || isAdmin(actor)
    ? html`<section aria-labelledby="listing"><h2 id="listing">${T(c.l).listing}</h2><p>${T(c.l).listingIntro}</p>${postForm(`/developers/activities/${a.id}/listing`, c.csrf, html`${input('locale', T(c.l).locale)}${devText ? '' : html`<p class="notice">${T(c.l).prefilled}</p>`}${input('name', T(c.l).name, { value: shown?.name ?? '' })}${input('summary', T(c.l).summary, { value: shown?.summary ?? '' })}${textarea('description', T(c.l).description, { value: shown?.description ?? '', rows: 6 })}${input('homepage_url', T(c.l).homepage, { type: 'url', value: a.homepage_url ?? '' })}${input('support_url', T(c.l).support, { type: 'url', value: a.support_url ?? '' })}${input('tags', T(c.l).tags, { value: v.tags.map((t) => t.name).join(', ') })}<fieldset><legend>${T(c.l).categories}</legend>${v.allCategories.map((cat) => html`<label><input type="checkbox" name="categories" value="${cat.slug}"${ticked(cat.slug) ? html` checked` : ''}> ${localizedName(cat.names as Record<string, string>, c.l.locale, cat.slug)}</label> `)}</fieldset>${submit(T(c.l).save)}`)}</section>
<section aria-labelledby="screenshots"><h2 id="screenshots">${T(c.l).screenshots}</h2><ul>${v.screenshots.map((s) => html`<li><img src="/screenshots/${s.id}" alt="${(s.captions as Record<string, string>).und ?? ''}" width="${Math.round(s.width / 4)}" height="${Math.round(s.height / 4)}"> ${postForm(`/developers/activities/${a.id}/screenshots/${s.id}/delete`, c.csrf, html`<button type="submit">${T(c.l).delete}</button>`)}</li>`)}</ul>${postForm(`/developers/activities/${a.id}/screenshots`, c.csrf, html`${input('screenshot', T(c.l).screenshotFile, { type: 'file', required: true, extra: 'accept="image/png,image/jpeg,image/webp"' })}${input('caption', T(c.l).caption)}${submit(T(c.l).addScreenshot)}`, { multipart: true })}</section>`
    : ''
}
${author || isAdmin(actor) ? sourceSection(c, a, actor, builds, app.ctx.config.server.baseUrl) : ''}
<section aria-labelledby="authors"><h2 id="authors">${T(c.l).authors}</h2>${table(
      [T(c.l).name, T(c.l).role, ''],
      v.authors.map((u) => [
        u.display_name,
        roleName(c.l, u.role),
        owner || u.id === actor.userId
          ? html`${postForm(`/developers/activities/${a.id}/authors/${u.id}/remove`, c.csrf, html`<button type="submit">${T(c.l).remove}</button>`)}${owner && u.id !== actor.userId ? postForm(`/developers/activities/${a.id}/authors/${u.id}/transfer`, c.csrf, html`<button type="submit">${T(c.l).makeOwner}</button>`) : ''}`
          : '',
      ]),
    )}
${owner ? postForm(`/developers/activities/${a.id}/authors`, c.csrf, html`${input('email', T(c.l).email, { type: 'email', required: true })}<p><label>${T(c.l).role} <select name="role"><option value="developer">${roleName(c.l, 'developer')}</option><option value="owner">${roleName(c.l, 'owner')}</option></select></label></p>${submit(T(c.l).addAuthor)}`, { label: T(c.l).addAuthor }) : ''}</section>
${isAdmin(actor) ? html`<section aria-labelledby="admin"><h2 id="admin">${T(c.l).admin}</h2>${a.status === 'disabled' ? html`<h3>${T(c.l).enable}</h3>${postForm(`/admin/activities/${a.id}/enable`, c.csrf, html`<fieldset><legend>${T(c.l).enableTo}</legend><label><input type="radio" name="to" value="" checked> ${T(c.l).enablePrevious}</label><br><label><input type="radio" name="to" value="sandbox"> ${statusName(c.l, 'sandbox')}</label><br><label><input type="radio" name="to" value="public"> ${statusName(c.l, 'public')}</label></fieldset>${textarea('comment', T(c.l).comment, { required: true, rows: 3 })}${submit(T(c.l).enableButton)}`)}` : ''}${postForm(`/admin/activities/${a.id}/trusted`, c.csrf, html`<p><label><input type="checkbox" name="trusted" value="1"${a.trusted ? html` checked` : ''}> ${T(c.l).trusted}</label></p>${input('reason', T(c.l).reason, { required: true })}${submit(T(c.l).setTrusted)}`)}<h3>${T(c.l).reassign}</h3>${postForm(`/admin/activities/${a.id}/reassign`, c.csrf, html`${input('email', T(c.l).email, { type: 'email', required: true })}<p><label><input type="checkbox" name="replace" value="1"> ${T(c.l).replace}</label></p>${input('reason', T(c.l).reason, { required: true })}${submit(T(c.l).reassignButton)}`)}</section>` : ''}
${isEditor(actor) && !author ? html`<p><a href="/editors/review/activity/${a.id}">${c.l.t('Review page')}</a></p>` : ''}`;
    return sendPage(reply, page({ title: v.name, ...c, notice: notice(req, c.l) }, body));
  });

  const back = (id: number, done = 'saved') => `/developers/activities/${id}?done=${done}`;

  app.post(
    '/developers/activities/:id/nominate',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('message') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.review.nominate(await req.viewer(), id, field(req.body, 'message'));
      return redirect(reply, back(id, 'nominated'));
    },
  );
  app.post(
    '/developers/activities/:id/listing',
    {
      preHandler: csrf,
      schema: {
        hide: true,
        params: textParams('id'),
        body: formBody('locale', 'name', 'summary', 'description', 'homepage_url', 'support_url', 'tags', 'categories'),
      },
    },
    async (req, reply) => {
      const id = idParam(req);
      const b = req.body;
      await app.listing.update(await req.viewer(), id, {
        locale: field(b, 'locale'),
        name: field(b, 'name'),
        summary: field(b, 'summary'),
        description: field(b, 'description'),
        homepage_url: field(b, 'homepage_url'),
        support_url: field(b, 'support_url'),
        tags: field(b, 'tags'),
        categories: fieldList(b, 'categories'),
      });
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/developers/activities/:id/versions/:vid',
    { preHandler: csrf, schema: { hide: true, params: textParams('id', 'vid'), body: formBody('sugar_min', 'sugar_max', 'release_notes') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.listing.updateVersion(await req.viewer(), id, idParam(req, 'vid'), {
        sugar_min: field(req.body, 'sugar_min'),
        sugar_max: field(req.body, 'sugar_max'),
        release_notes: field(req.body, 'release_notes'),
      });
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/developers/activities/:id/screenshots',
    { schema: { hide: true, params: textParams('id'), body: formBody('screenshot', 'caption') } },
    async (req, reply) => {
      const id = idParam(req);
      const viewer = await req.viewer();
      requireActor(viewer);
      if (!req.isMultipart()) throw new AsloError('UPLOAD_NO_FILE', 'Send the image in a multipart form field named "screenshot".', { statusCode: 415 });
      const part = await req.file();
      if (!part) throw new AsloError('UPLOAD_NO_FILE', 'Choose an image file.');
      await checkMultipartCsrf(app, req, reply, part.fields as Record<string, unknown>).catch((err: unknown) => {
        part.file.resume();
        throw err;
      });
      const caption = (part.fields.caption as { value?: string } | undefined)?.value ?? null;
      await app.listing.addScreenshot(viewer, id, part.file, caption);
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/developers/activities/:id/screenshots/:sid/delete',
    { preHandler: csrf, schema: { hide: true, params: textParams('id', 'sid'), body: formBody() } },
    async (req, reply) => {
      const id = idParam(req);
      await app.listing.deleteScreenshot(await req.viewer(), id, idParam(req, 'sid'));
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/developers/activities/:id/authors',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('role', 'email') } },
    async (req, reply) => {
      const id = idParam(req);
      const role = field(req.body, 'role') === 'owner' ? 'owner' : 'developer';
      await app.publishing.addAuthor(await req.viewer(), id, field(req.body, 'email'), role);
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/developers/activities/:id/authors/:uid/remove',
    { preHandler: csrf, schema: { hide: true, params: textParams('id', 'uid'), body: formBody() } },
    async (req, reply) => {
      const id = idParam(req);
      const viewer = await req.viewer();
      const uid = idParam(req, 'uid');
      await app.publishing.removeAuthor(viewer, id, uid);
      return redirect(reply, viewer && viewer.userId === uid ? '/developers' : back(id));
    },
  );
  app.post(
    '/developers/activities/:id/authors/:uid/transfer',
    { preHandler: csrf, schema: { hide: true, params: textParams('id', 'uid'), body: formBody() } },
    async (req, reply) => {
      const id = idParam(req);
      await app.publishing.transferOwnership(await req.viewer(), id, idParam(req, 'uid'));
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/admin/activities/:id/trusted',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('trusted', 'reason') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.publishing.setTrusted(await req.viewer(), id, field(req.body, 'trusted') === '1', field(req.body, 'reason'));
      return redirect(reply, back(id));
    },
  );
  app.post(
    '/admin/activities/:id/enable',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('comment', 'to') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.review.enable(await req.viewer(), id, field(req.body, 'comment'), field(req.body, 'to') || null);
      return redirect(reply, back(id, 'enabled'));
    },
  );
  app.post(
    '/admin/activities/:id/reassign',
    { preHandler: csrf, schema: { hide: true, params: textParams('id'), body: formBody('email', 'reason', 'replace') } },
    async (req, reply) => {
      const id = idParam(req);
      await app.publishing.reassign(await req.viewer(), id, field(req.body, 'email'), field(req.body, 'reason'), field(req.body, 'replace') === '1');
      return redirect(reply, back(id));
    },
  );

  app.get('/screenshots/:id', { schema: { hide: true, params: textParams('id') } }, async (req, reply) => {
    const s = await app.listing.screenshot(() => req.viewer(), idParam(req));
    return reply
      .type(s.content_type)
      .header('cache-control', s.public ? 'public, max-age=86400' : 'private, no-store')
      .header('x-content-type-options', 'nosniff')
      .send(app.ctx.files.read(s.storage_key));
  });
}

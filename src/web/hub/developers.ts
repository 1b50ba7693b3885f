// The developer hub: your activities, uploads (new activity or new version), and one
// activity's page: status and nomination, versions (Sugar range, release notes), listing
// texts, links, tags and categories, screenshots, authors and ownership, review history;
// administrators also mark activities trusted and reassign abandoned ones.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { AsloError } from '../../platform/errors.js';
import { isAdmin, isEditor, requireActor } from '../../accounts/access.js';
import { readUploadRequest, uploadStatus } from '../../review/api.js';
import { issueLanguage, type UploadIssue } from '../../review/publishing.js';
import { issueLocaleDir, localizeIssue } from '../../bundles/index.js';
import { CONFIRM_PARAM, CONFIRM_VALUE } from '../../review/downloads.js';
import { html, input, page, postForm, submit, table, textarea, when, type SafeHtml } from './layout.js';
import { field, fieldList, loginOrRedirect, pageCtx, redirect, sendPage, type PageCtx } from './common.js';

const T = {
  hub: 'Developer hub',
  intro: 'Your activities, in every status. Upload a bundle to create an activity or add a version.',
  none: 'You have no activity yet.',
  upload: 'Upload a bundle',
  uploadIntro: 'A new bundle id creates a new activity (it starts in the sandbox); a bundle id of one of your activities adds a version. From the command line: aslo publish FILE.xo --server URL with ASLO_TOKEN.',
  file: 'Bundle (.xo or .xol)',
  sugarMin: 'Lowest Sugar version (optional)',
  sugarMax: 'Highest Sugar version (optional)',
  releaseNotes: 'Release notes (optional)',
  uploadButton: 'Upload',
  uploaded: 'Uploaded',
  rejected: 'Upload rejected',
  errors: 'Errors',
  warnings: 'Warnings',
  status: 'Status',
  nominate: 'Nominate for review',
  nominateIntro: 'When the activity is ready, ask the editors to review it. Tell them what it does and how to try it.',
  message: 'Message to the editors',
  nominated: 'The activity is nominated: the editors will review it. You will get a mail with their decision.',
  versions: 'Versions',
  save: 'Save',
  listing: 'Listing',
  listingIntro: 'Texts typed here replace those of the bundle for the chosen locale (leave the locale empty for the default). Descriptions keep paragraphs and lists only.',
  locale: 'Locale (empty: default)',
  name: 'Name',
  summary: 'Summary',
  description: 'Description',
  homepage: 'Homepage',
  support: 'Support link',
  tags: 'Tags (comma-separated)',
  categories: 'Categories',
  saved: 'Saved.',
  screenshots: 'Screenshots',
  screenshotFile: 'Image (PNG, JPEG or WebP, at least 200x150)',
  caption: 'Caption',
  addScreenshot: 'Add screenshot',
  delete: 'Delete',
  authors: 'Authors',
  addAuthor: 'Add an author',
  email: 'E-mail address',
  role: 'Role',
  remove: 'Remove',
  makeOwner: 'Make owner (you become developer)',
  history: 'Review history',
  noHistory: 'No review yet.',
  admin: 'Administration',
  trusted: 'Trusted: new versions are public at once',
  reason: 'Reason',
  setTrusted: 'Set',
  reassign: 'Give this activity to another account',
  replace: 'Remove the current authors',
  reassignButton: 'Reassign',
  enable: 'Enable this activity again',
  enableTo: 'Status after enabling',
  enablePrevious: 'The status it had before it was disabled',
  comment: 'Comment to the authors (required)',
  enableButton: 'Enable',
  enabled: 'The activity is enabled again; its authors were told by mail.',
};

const NOTICES: Record<string, string> = { nominated: T.nominated, saved: T.saved, enabled: T.enabled };

function notice(req: FastifyRequest): string | null {
  const d = (req.query as Record<string, unknown>)?.done;
  return typeof d === 'string' ? NOTICES[d] ?? null : null;
}

function idParam(req: FastifyRequest, name = 'id'): number {
  const n = Number((req.params as Record<string, string>)[name]);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('NOT_FOUND', 'No such page.', { statusCode: 404 });
  return n;
}

/** Validation errors or warnings, each in the developer's language where translated, with its code, file and line. */
export function issueList(list: UploadIssue[], lang: string): SafeHtml {
  const attrs = lang === 'en' ? html`` : html` lang="${lang}" dir="${issueLocaleDir(lang)}"`;
  return html`<ul>${list.map((i) => html`<li><code>${i.code}</code> <span${attrs}>${localizeIssue(i, lang)}</span>${i.file ? html` <small>(<code>${i.file}${i.line ? `:${i.line}` : ''}</code>)</small>` : ''}</li>`)}</ul>`;
}

function uploadForm(c: PageCtx, action = '/developers/upload'): SafeHtml {
  return postForm(action, c.csrf, html`${input('file', T.file, { type: 'file', required: true, extra: 'accept=".xo,.xol"' })}${input('sugar_min', T.sugarMin)}${input('sugar_max', T.sugarMax)}${textarea('release_notes', T.releaseNotes, { rows: 3 })}${submit(T.uploadButton)}`, { multipart: true, label: T.upload });
}

export async function developerPages(app: FastifyInstance): Promise<void> {
  const csrf = app.csrfProtection;
  // Uploads are streamed: multipart is parsed by the handler, not buffered.
  await app.register(multipart, { limits: { fileSize: app.ctx.config.bundles.maxUploadBytes * 2, files: 1, fields: 10, fieldSize: 64 * 1024 } });

  app.get('/developers', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const mine = await app.publishing.myActivities(c.viewer);
    const rows = mine.map((a) => [html`<a href="/developers/activities/${a.id}">${a.name}</a>`, html`<code>${a.bundle_id}</code>`, a.status, a.role]);
    const body = html`<p>${T.intro}</p><p><a href="/developers/upload">${T.upload}</a></p>${mine.length ? table([T.name, 'Bundle id', T.status, T.role], rows) : html`<p>${T.none}</p>`}`;
    return sendPage(reply, page({ title: T.hub, viewer: c.viewer, csrf: c.csrf }, body));
  });

  app.get('/developers/upload', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    return sendPage(reply, page({ title: T.upload, viewer: c.viewer, csrf: c.csrf }, html`<p>${T.uploadIntro}</p>${uploadForm(c)}`));
  });

  app.post('/developers/upload', { preHandler: [csrf, ...app.limits.upload] }, async (req, reply) => {
    const viewer = await req.viewer();
    app.publishing.checkCanUpload(viewer);
    const { source, opts } = await readUploadRequest(req);
    const r = await app.publishing.upload(viewer, source, opts);
    const c = await pageCtx(req, reply);
    const lang = issueLanguage(viewer, req.headers['accept-language']);
    const body = html`
${r.ok ? html`<p>${r.outcome === 'unchanged' ? 'This exact file is on the store already.' : ''} <code>${r.bundle_id}</code> ${r.version}: ${T.status} activity <strong>${r.activity_status}</strong>, this version <strong>${r.file_status}</strong>. ${r.hub_url ? html`<a href="${new URL(r.hub_url).pathname}">Open the activity</a>` : ''}</p>` : ''}
${r.errors.length ? html`<section aria-labelledby="errors"><h2 id="errors">${T.errors} (${r.errors.length})</h2>${issueList(r.errors, lang)}</section>` : ''}
${r.warnings.length ? html`<section aria-labelledby="warnings"><h2 id="warnings">${T.warnings} (${r.warnings.length})</h2>${issueList(r.warnings, lang)}</section>` : ''}
<h2>${T.upload}</h2>${uploadForm(c)}`;
    return sendPage(reply, page({ title: r.ok ? T.uploaded : T.rejected, viewer: c.viewer, csrf: c.csrf }, body), uploadStatus(r));
  });

  app.get('/developers/activities/:id', async (req, reply) => {
    if (!(await loginOrRedirect(req, reply))) return reply;
    const c = await pageCtx(req, reply);
    const id = idParam(req);
    const v = await app.publishing.developerView(c.viewer, id);
    const a = v.activity;
    const actor = requireActor(c.viewer);
    const owner = v.myRole === 'owner';
    const author = v.myRole !== null;
    const devText = v.texts.find((t) => t.origin === 'developer' && t.locale === 'und');
    const versionRows = v.versions.map((x) => [
      x.version,
      x.file_status + (x.admin_review ? ' (admin review asked)' : ''),
      html`<a href="/downloads/file/${x.file_id}/${x.file_name}${x.file_status === 'public' && a.status === 'public' ? '' : `?${CONFIRM_PARAM}=${CONFIRM_VALUE}`}">${x.file_name}</a>`,
      when(x.created_at),
      author || isAdmin(actor)
        ? postForm(`/developers/activities/${a.id}/versions/${x.id}`, c.csrf, html`<label>min <input name="sugar_min" size="6" value="${x.sugar_min ?? ''}"></label> <label>max <input name="sugar_max" size="6" value="${x.sugar_max ?? ''}"></label> <label>${T.releaseNotes} <textarea name="release_notes" rows="2" cols="30">${x.release_notes ?? ''}</textarea></label> <button type="submit">${T.save}</button>`)
        : html`${x.sugar_min ?? ''}–${x.sugar_max ?? ''}`,
    ]);
    const body = html`
<p><code>${a.bundle_id}</code> · ${T.status}: <strong>${a.status}</strong>${a.trusted ? ' · trusted' : ''}${a.admin_review ? ' · waiting for an administrator' : ''}${author || isAdmin(actor) ? html` · <a href="/developers/activities/${a.id}/stats">Downloads</a>` : ''}</p>
${author && a.status === 'sandbox' ? html`<section aria-labelledby="nominate"><h2 id="nominate">${T.nominate}</h2><p>${T.nominateIntro}</p>${postForm(`/developers/activities/${a.id}/nominate`, c.csrf, html`${textarea('message', T.message, { required: true })}${submit(T.nominate)}`)}</section>` : ''}
<section aria-labelledby="versions"><h2 id="versions">${T.versions}</h2>${table(['Version', T.status, 'File', 'Uploaded', 'Sugar range, notes'], versionRows)}${author ? html`<h3>${T.upload}</h3>${uploadForm(c)}` : ''}</section>
<section aria-labelledby="history"><h2 id="history">${T.history}</h2>${v.history.length ? html`<ol>${v.history.map((h) => html`<li><strong>${h.action}</strong>${h.version ? ` (version ${h.version})` : ''} by ${h.actor ?? 'someone'}, ${when(h.created_at)}: ${h.from_status} → ${h.to_status}<blockquote>${h.comment}</blockquote></li>`)}</ol>` : html`<p>${T.noHistory}</p>`}</section>
${author || isAdmin(actor) ? html`<section aria-labelledby="listing"><h2 id="listing">${T.listing}</h2><p>${T.listingIntro}</p>${postForm(`/developers/activities/${a.id}/listing`, c.csrf, html`${input('locale', T.locale)}${input('name', T.name, { value: devText?.name ?? '' })}${input('summary', T.summary, { value: devText?.summary ?? '' })}${textarea('description', T.description, { value: devText?.description ?? '', rows: 6 })}${input('homepage_url', T.homepage, { type: 'url', value: a.homepage_url ?? '' })}${input('support_url', T.support, { type: 'url', value: a.support_url ?? '' })}${input('tags', T.tags, { value: v.tags.map((t) => t.name).join(', ') })}<fieldset><legend>${T.categories}</legend>${v.allCategories.map((cat) => html`<label><input type="checkbox" name="categories" value="${cat.slug}"${v.categories.includes(cat.slug) ? html` checked` : ''}> ${(cat.names as Record<string, string>).en ?? cat.slug}</label> `)}</fieldset>${submit(T.save)}`)}</section>
<section aria-labelledby="screenshots"><h2 id="screenshots">${T.screenshots}</h2><ul>${v.screenshots.map((s) => html`<li><img src="/screenshots/${s.id}" alt="${(s.captions as Record<string, string>).und ?? ''}" width="${Math.round(s.width / 4)}" height="${Math.round(s.height / 4)}"> ${postForm(`/developers/activities/${a.id}/screenshots/${s.id}/delete`, c.csrf, html`<button type="submit">${T.delete}</button>`)}</li>`)}</ul>${postForm(`/developers/activities/${a.id}/screenshots`, c.csrf, html`${input('screenshot', T.screenshotFile, { type: 'file', required: true, extra: 'accept="image/png,image/jpeg,image/webp"' })}${input('caption', T.caption)}${submit(T.addScreenshot)}`, { multipart: true })}</section>` : ''}
<section aria-labelledby="authors"><h2 id="authors">${T.authors}</h2>${table([T.name, T.role, ''], v.authors.map((u) => [u.display_name, u.role, owner || u.id === actor.userId ? html`${postForm(`/developers/activities/${a.id}/authors/${u.id}/remove`, c.csrf, html`<button type="submit">${T.remove}</button>`)}${owner && u.id !== actor.userId ? postForm(`/developers/activities/${a.id}/authors/${u.id}/transfer`, c.csrf, html`<button type="submit">${T.makeOwner}</button>`) : ''}` : '']))}
${owner ? postForm(`/developers/activities/${a.id}/authors`, c.csrf, html`${input('email', T.email, { type: 'email', required: true })}<p><label>${T.role} <select name="role"><option>developer</option><option>owner</option></select></label></p>${submit(T.addAuthor)}`, { label: T.addAuthor }) : ''}</section>
${isAdmin(actor) ? html`<section aria-labelledby="admin"><h2 id="admin">${T.admin}</h2>${a.status === 'disabled' ? html`<h3>${T.enable}</h3>${postForm(`/admin/activities/${a.id}/enable`, c.csrf, html`<fieldset><legend>${T.enableTo}</legend><label><input type="radio" name="to" value="" checked> ${T.enablePrevious}</label><br><label><input type="radio" name="to" value="sandbox"> sandbox</label><br><label><input type="radio" name="to" value="public"> public</label></fieldset>${textarea('comment', T.comment, { required: true, rows: 3 })}${submit(T.enableButton)}`)}` : ''}${postForm(`/admin/activities/${a.id}/trusted`, c.csrf, html`<p><label><input type="checkbox" name="trusted" value="1"${a.trusted ? html` checked` : ''}> ${T.trusted}</label></p>${input('reason', T.reason, { required: true })}${submit(T.setTrusted)}`)}<h3>${T.reassign}</h3>${postForm(`/admin/activities/${a.id}/reassign`, c.csrf, html`${input('email', T.email, { type: 'email', required: true })}<p><label><input type="checkbox" name="replace" value="1"> ${T.replace}</label></p>${input('reason', T.reason, { required: true })}${submit(T.reassignButton)}`)}</section>` : ''}
${isEditor(actor) && !author ? html`<p><a href="/editors/review/activity/${a.id}">Review page</a></p>` : ''}`;
    return sendPage(reply, page({ title: v.name, viewer: c.viewer, csrf: c.csrf, notice: notice(req) }, body));
  });

  const back = (id: number, done = 'saved') => `/developers/activities/${id}?done=${done}`;

  app.post('/developers/activities/:id/nominate', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.review.nominate(await req.viewer(), id, field(req.body, 'message'));
    return redirect(reply, back(id, 'nominated'));
  });
  app.post('/developers/activities/:id/listing', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    const b = req.body;
    await app.listing.update(await req.viewer(), id, { locale: field(b, 'locale'), name: field(b, 'name'), summary: field(b, 'summary'), description: field(b, 'description'), homepage_url: field(b, 'homepage_url'), support_url: field(b, 'support_url'), tags: field(b, 'tags'), categories: fieldList(b, 'categories') });
    return redirect(reply, back(id));
  });
  app.post('/developers/activities/:id/versions/:vid', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.listing.updateVersion(await req.viewer(), id, idParam(req, 'vid'), { sugar_min: field(req.body, 'sugar_min'), sugar_max: field(req.body, 'sugar_max'), release_notes: field(req.body, 'release_notes') });
    return redirect(reply, back(id));
  });
  app.post('/developers/activities/:id/screenshots', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    const viewer = await req.viewer();
    requireActor(viewer);
    if (!req.isMultipart()) throw new AsloError('UPLOAD_NO_FILE', 'Send the image in a multipart form field named "screenshot".', { statusCode: 415 });
    const part = await req.file();
    if (!part) throw new AsloError('UPLOAD_NO_FILE', 'Choose an image file.');
    const caption = (part.fields.caption as { value?: string } | undefined)?.value ?? null;
    await app.listing.addScreenshot(viewer, id, part.file, caption);
    return redirect(reply, back(id));
  });
  app.post('/developers/activities/:id/screenshots/:sid/delete', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.listing.deleteScreenshot(await req.viewer(), id, idParam(req, 'sid'));
    return redirect(reply, back(id));
  });
  app.post('/developers/activities/:id/authors', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    const role = field(req.body, 'role') === 'owner' ? 'owner' : 'developer';
    await app.publishing.addAuthor(await req.viewer(), id, field(req.body, 'email'), role);
    return redirect(reply, back(id));
  });
  app.post('/developers/activities/:id/authors/:uid/remove', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    const viewer = await req.viewer();
    const uid = idParam(req, 'uid');
    await app.publishing.removeAuthor(viewer, id, uid);
    return redirect(reply, viewer && viewer.userId === uid ? '/developers' : back(id));
  });
  app.post('/developers/activities/:id/authors/:uid/transfer', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.publishing.transferOwnership(await req.viewer(), id, idParam(req, 'uid'));
    return redirect(reply, back(id));
  });
  app.post('/admin/activities/:id/trusted', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.publishing.setTrusted(await req.viewer(), id, field(req.body, 'trusted') === '1', field(req.body, 'reason'));
    return redirect(reply, back(id));
  });
  app.post('/admin/activities/:id/enable', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.review.enable(await req.viewer(), id, field(req.body, 'comment'), field(req.body, 'to') || null);
    return redirect(reply, back(id, 'enabled'));
  });
  app.post('/admin/activities/:id/reassign', { preHandler: csrf }, async (req, reply) => {
    const id = idParam(req);
    await app.publishing.reassign(await req.viewer(), id, field(req.body, 'email'), field(req.body, 'reason'), field(req.body, 'replace') === '1');
    return redirect(reply, back(id));
  });

  app.get('/screenshots/:id', async (req, reply) => {
    const s = await app.listing.screenshot(() => req.viewer(), idParam(req));
    return reply
      .type(s.content_type)
      .header('cache-control', s.public ? 'public, max-age=86400' : 'private, no-store')
      .header('x-content-type-options', 'nosniff')
      .send(app.ctx.files.read(s.storage_key));
  });
}


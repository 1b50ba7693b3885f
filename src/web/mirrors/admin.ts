// The administrators' mirror page (/admin/mirrors): every mirror with its state, the health of
// its HTTP and HTTPS sides, how many published files were verified on it (pending, failed),
// weight, location and restrictions; forms to add, edit, enable, disable and remove mirrors.
// Everything goes through the same registry as `aslo mirror ...` (src/mirrors/registry.ts):
// the same validation and error codes, the audit log, and the redirector and verifier learn of
// each change at once. Administrators only; every form carries a CSRF token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AsloError, isAsloError } from '../../platform/errors.js';
import { requireAdmin, type Actor } from '../../accounts/access.js';
import { html, page, perLocale, postForm, submit, when, type SafeHtml, type Translator } from '../hub/layout.js';
import { field, installHtmlErrors, loginOrRedirect, pageCtx, redirect, sendPage, type PageCtx } from '../hub/common.js';
import { CONTINENTS } from '../../geo/continents.js';
import type { MirrorInput, MirrorView } from '../../mirrors/registry.js';
import { formBody, formQuery, textParams, type TypedApp } from '../../platform/schemas.js';

const T = perLocale((l) => ({
  title: l.t('Mirrors'),
  intro: l.t(
    'Downloads of published files are redirected to these mirrors, but only for files verified on them (a HEAD for the size and a hashed piece). Mirrors copy the repo tree with rsync.',
  ),
  none: l.t('No mirror yet: every download is served by this store.'),
  add: l.t('Add a mirror'),
  addIntro: l.t(
    "Country, continent, AS number and coordinates are looked up in the geo database from the mirror's host when left empty. Every published file is checked on the new mirror before any client is sent there.",
  ),
  edit: l.t('Change this mirror'),
  editIntro: l.t('Changing a base URL drops what was verified: every file is checked again. Empty fields are cleared.'),
  save: l.t('Save'),
  enable: l.t('Enable'),
  disable: l.t('Disable'),
  remove: l.t('Remove this mirror'),
  removeConfirm: l.t("Type the mirror's name to confirm"),
  removeButton: l.t('Remove'),
  notHeld: l.t('Files not verified on it'),
  allHeld: l.t('Every published file is verified on it.'),
  back: l.t('All mirrors'),
}));

function notice(req: FastifyRequest, l: Translator): string | null {
  const d = (req.query as Record<string, unknown> | undefined)?.done;
  const notices: Record<string, string> = {
    added: l.t('The mirror is added. Its files are being verified; clients are sent there once they are.'),
    saved: l.t('Saved.'),
    enabled: l.t('The mirror is enabled: clients are sent there again for the files verified on it.'),
    disabled: l.t('The mirror is disabled: no client is sent there any more.'),
    removed: l.t('The mirror is removed.'),
  };
  return typeof d === 'string' ? (notices[d] ?? null) : null;
}

function idParam(req: { params: { id: string } }): number {
  const n = Number(req.params.id);
  if (!Number.isSafeInteger(n) || n < 1) throw new AsloError('MIRROR_NOT_FOUND', 'No such mirror.', { statusCode: 404 });
  return n;
}

function health(l: Translator, url: string | null, ok: boolean | null, error: string | null, checked: Date | string | null): SafeHtml | string {
  if (!url) return '—';
  if (ok === null) return l.t('not checked yet');
  return ok
    ? html`${l.t('up')} <small>(${when(checked)})</small>`
    : html`<strong>${l.t('down')}</strong>: ${error ?? l.t('failed check')} <small>(${when(checked)})</small>`;
}

function restrictions(l: Translator, m: MirrorView): string {
  const r = [
    m.country_only ? l.t('{place} only', { place: m.country ?? '?' }) : null,
    m.continent_only ? l.t('{place} only', { place: m.continent ?? '?' }) : null,
    m.as_only ? l.t('{place} only', { place: `AS${m.asn ?? '?'}` }) : null,
    m.max_file_size ? l.n('files up to {count} byte', 'files up to {count} bytes', Number(m.max_file_size)) : null,
  ].filter(Boolean);
  return r.length ? r.join(', ') : l.t('none');
}

function fileStateName(l: Translator, s: string): string {
  switch (s) {
    case 'pending':
      return l.t('pending');
    case 'verified':
      return l.t('verified');
    case 'failed':
      return l.t('failed');
    default:
      return s;
  }
}

function stateName(l: Translator, enabled: boolean): SafeHtml | string {
  return enabled ? l.p('mirror', 'enabled') : html`<strong>${l.p('mirror', 'disabled')}</strong>`;
}

/** The form's values as registry input. On add, empty fields are "not given" (the geo database fills them); on edit they clear. */
function inputOf(body: unknown, adding: boolean): MirrorInput {
  const f = (name: string): string | undefined => {
    const v = field(body, name);
    return adding && v.trim() === '' ? undefined : v;
  };
  const input: MirrorInput = {
    name: field(body, 'name'),
    httpUrl: f('http_url'),
    httpsUrl: f('https_url'),
    rsyncUrl: f('rsync_url'),
    operator: f('operator'),
    contact: f('contact'),
    country: f('country'),
    continent: f('continent'),
    asn: f('asn'),
    latitude: f('latitude'),
    longitude: f('longitude'),
    weight: f('weight'),
    maxFileSize: f('max_file_size'),
    countryOnly: field(body, 'country_only') === '1',
    continentOnly: field(body, 'continent_only') === '1',
    asOnly: field(body, 'as_only') === '1',
  };
  // Editing: an empty continent follows the country (or is cleared with it).
  if (!adding && input.continent?.trim() === '') input.continent = input.country?.trim() ? undefined : null;
  const prefixes = f('prefixes');
  if (prefixes !== undefined) input.prefixes = prefixes.split(/[\s,]+/).filter(Boolean);
  if (adding) input.enabled = field(body, 'disabled') !== '1';
  for (const k of Object.keys(input) as (keyof MirrorInput)[]) if (input[k] === undefined) delete input[k];
  return input;
}

type FormValues = Record<string, string>;

/** The registry's field names in its errors, as the form's input names. */
const FIELD_OF: Record<string, string> = {
  httpUrl: 'http_url',
  'HTTP URL': 'http_url',
  'HTTPS URL': 'https_url',
  'rsync URL': 'rsync_url',
  'AS number': 'asn',
  'largest file size': 'max_file_size',
};

function valuesOf(m: MirrorView | null): FormValues {
  if (!m) return { weight: '100' };
  const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return {
    name: m.name,
    http_url: s(m.http_url),
    https_url: s(m.https_url),
    rsync_url: s(m.rsync_url),
    operator: s(m.operator),
    contact: s(m.contact),
    country: s(m.country),
    continent: s(m.continent),
    asn: s(m.asn),
    prefixes: m.prefixes.join('\n'),
    latitude: s(m.latitude),
    longitude: s(m.longitude),
    weight: s(m.weight),
    max_file_size: s(m.max_file_size),
    country_only: m.country_only ? '1' : '',
    continent_only: m.continent_only ? '1' : '',
    as_only: m.as_only ? '1' : '',
  };
}

function valuesFromBody(body: unknown): FormValues {
  const out: FormValues = {};
  for (const k of [
    'name',
    'http_url',
    'https_url',
    'rsync_url',
    'operator',
    'contact',
    'country',
    'continent',
    'asn',
    'prefixes',
    'latitude',
    'longitude',
    'weight',
    'max_file_size',
    'country_only',
    'continent_only',
    'as_only',
    'disabled',
  ])
    out[k] = field(body, k);
  return out;
}

function mirrorForm(c: PageCtx, action: string, v: FormValues, adding: boolean, invalid: string | null): SafeHtml {
  const { l } = c;
  const id = (name: string) => `m-${name}`;
  const text = (name: string, label: string, opts: { type?: string; hint?: string; required?: boolean; size?: number } = {}) =>
    html`<p><label for="${id(name)}">${label}</label><br><input id="${id(name)}" name="${name}" type="${opts.type ?? 'text'}" value="${v[name] ?? ''}"${opts.size ? html` size="${opts.size}"` : ''}${opts.required ? html` required` : ''}${invalid === name ? html` aria-invalid="true"` : ''}>${opts.hint ? html`<br><small>${opts.hint}</small>` : ''}</p>`;
  const check = (name: string, label: string) =>
    html`<label><input type="checkbox" name="${name}" value="1"${v[name] === '1' ? html` checked` : ''}> ${label}</label><br>`;
  return postForm(
    action,
    c.csrf,
    html`${text('name', l.t('Name (lowercase letters, digits, dots, hyphens)'), { required: true })}
${text('http_url', l.t('HTTP base URL of the tree'), { hint: l.t("Like http://mirror.example.org/sugar (the tree's top, where TRACE is).") })}
${text('https_url', l.t('HTTPS base URL of the tree'))}
${text('rsync_url', l.t('rsync URL it syncs into (optional)'))}
${text('operator', l.t('Operator'))}
${text('contact', l.t('Contact (mail address)'))}
<fieldset><legend>${l.t('Location')}</legend>
${text('country', l.t('Country (ISO code, like DE)'), { size: 4 })}
<p><label for="${id('continent')}">${l.t('Continent')}</label><br><select id="${id('continent')}" name="continent"><option value="">${l.t('from the country')}</option>${CONTINENTS.map((x) => html`<option value="${x}"${v.continent === x ? html` selected` : ''}>${x}</option>`)}</select></p>
${text('asn', l.t('AS number'), { size: 12 })}
<p><label for="${id('prefixes')}">${l.t('Network prefixes (one a line, IPv4 and IPv6)')}</label><br><textarea id="${id('prefixes')}" name="prefixes" rows="3" cols="40"${invalid === 'prefixes' ? html` aria-invalid="true"` : ''}>${v.prefixes ?? ''}</textarea></p>
${text('latitude', l.t('Latitude'), { size: 10 })}${text('longitude', l.t('Longitude'), { size: 10 })}
</fieldset>
<fieldset><legend>${l.t('Share and restrictions')}</legend>
${text('weight', l.t('Weight (share of the traffic relative to the others; 0 sends nobody)'), { size: 8 })}
${text('max_file_size', l.t('Largest file it takes, in bytes (empty: any)'), { size: 14 })}
${check('country_only', l.t('Serve clients of its country only'))}${check('continent_only', l.t('Serve clients of its continent only'))}${check('as_only', l.t('Serve clients of its AS only'))}
${adding ? check('disabled', l.t('Add it disabled')) : ''}
</fieldset>
${submit(adding ? T(c.l).add : T(c.l).save)}`,
    { label: adding ? T(c.l).add : T(c.l).edit },
  );
}

function listTable(c: PageCtx, mirrors: MirrorView[]): SafeHtml {
  const { l } = c;
  if (mirrors.length === 0) return html`<p>${T(l).none}</p>`;
  return html`<table><thead><tr><th scope="col">${l.t('Mirror')}</th><th scope="col">${l.t('State')}</th><th scope="col">HTTP</th><th scope="col">HTTPS</th><th scope="col">${l.t('Files verified')}</th><th scope="col">${l.t('Weight')}</th><th scope="col">${l.t('Location')}</th><th scope="col">${l.t('Restrictions')}</th><th scope="col">${l.t('Action')}</th></tr></thead><tbody>
${mirrors.map(
  (m) => html`<tr><th scope="row"><a href="/admin/mirrors/${m.id}">${m.name}</a>${m.operator ? html`<br><small>${m.operator}</small>` : ''}</th>
<td>${stateName(l, m.enabled)}</td>
<td>${health(l, m.http_url, m.http_ok, m.http_error, m.http_checked_at)}</td>
<td>${health(l, m.https_url, m.https_ok, m.https_error, m.https_checked_at)}</td>
<td>${l.number(m.stats.verified)}${m.stats.pending || m.stats.failed ? html`<br><small>${l.t('{pending} pending, {failed} failed', { pending: l.number(m.stats.pending), failed: l.number(m.stats.failed) })}</small>` : ''}</td>
<td>${m.weight}</td>
<td>${m.country ?? '?'} / ${m.continent ?? '?'}${m.asn ? html`<br><small>AS${m.asn}</small>` : ''}</td>
<td>${restrictions(l, m)}</td>
<td>${postForm(`/admin/mirrors/${m.id}/${m.enabled ? 'disable' : 'enable'}`, c.csrf, html`<button type="submit">${m.enabled ? T(c.l).disable : T(c.l).enable}</button>`)}</td></tr>`,
)}
</tbody></table>`;
}

/** The fields of the add and edit forms (valuesFromBody keeps what was typed when a form is refused). */
const mirrorFormFields = formBody(
  'name',
  'http_url',
  'https_url',
  'rsync_url',
  'operator',
  'contact',
  'country',
  'continent',
  'asn',
  'prefixes',
  'latitude',
  'longitude',
  'weight',
  'max_file_size',
  'country_only',
  'continent_only',
  'as_only',
  'disabled',
);
const mirrorParams = textParams('id');

export async function mirrorAdminRoutes(app: TypedApp): Promise<void> {
  installHtmlErrors(app);
  const csrf = app.csrfProtection;
  const registry = app.services.mirrors;
  const by = (actor: Actor) => ({ actor });

  /** For GET pages: anonymous visitors go to the login page, others must be administrators. */
  const adminPage = async (req: FastifyRequest, reply: FastifyReply): Promise<PageCtx | null> => {
    if (!(await loginOrRedirect(req, reply))) return null;
    const c = await pageCtx(req, reply);
    requireAdmin(c.viewer);
    return c;
  };

  const listPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    c: PageCtx,
    form: { values: FormValues; error: { code: string; message: string; field?: string } } | null,
  ) => {
    const mirrors = await registry.list();
    const body = html`<p>${T(c.l).intro}</p>
<p><a href="/admin/stats/downloads">${c.l.t('Downloads per mirror and per day')}</a></p>
${listTable(c, mirrors)}
<section aria-labelledby="add"><h2 id="add">${T(c.l).add}</h2><p>${T(c.l).addIntro}</p>${mirrorForm(c, '/admin/mirrors', form?.values ?? valuesOf(null), true, form?.error.field ?? null)}</section>`;
    return sendPage(
      reply,
      page(
        { title: T(c.l).title, ...c, notice: form ? null : notice(req, c.l), error: form ? { code: form.error.code, message: form.error.message } : null },
        body,
      ),
      form ? 400 : 200,
    );
  };

  const mirrorPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    c: PageCtx,
    m: MirrorView,
    form: { values: FormValues; error: { code: string; message: string; field?: string } } | null,
  ) => {
    const problems = await registry.problems(m.id, 50);
    const body = html`<p><a href="/admin/mirrors">${T(c.l).back}</a></p>
<table><tbody>
<tr><th scope="row">${c.l.t('State')}</th><td>${stateName(c.l, m.enabled)} ${postForm(`/admin/mirrors/${m.id}/${m.enabled ? 'disable' : 'enable'}`, c.csrf, html`<button type="submit">${m.enabled ? T(c.l).disable : T(c.l).enable}</button>`)}</td></tr>
<tr><th scope="row">HTTP</th><td>${m.http_url ?? ''} ${health(c.l, m.http_url, m.http_ok, m.http_error, m.http_checked_at)}</td></tr>
<tr><th scope="row">HTTPS</th><td>${m.https_url ?? ''} ${health(c.l, m.https_url, m.https_ok, m.https_error, m.https_checked_at)}</td></tr>
<tr><th scope="row">${c.l.t('Files')}</th><td>${c.l.t('{verified} verified, {pending} pending, {failed} failed', { verified: c.l.number(m.stats.verified), pending: c.l.number(m.stats.pending), failed: c.l.number(m.stats.failed) })}</td></tr>
<tr><th scope="row">${c.l.t('Restrictions')}</th><td>${restrictions(c.l, m)}</td></tr>
<tr><th scope="row">${c.l.p('mirror', 'Added')}</th><td>${c.l.t('{added}; changed {changed}', { added: when(m.created_at), changed: when(m.updated_at) })}</td></tr>
</tbody></table>
<section aria-labelledby="problems"><h2 id="problems">${T(c.l).notHeld}</h2>${
      problems.length
        ? html`<table><thead><tr><th scope="col">${c.l.t('File')}</th><th scope="col">${c.l.t('State')}</th><th scope="col">${c.l.t('Checks')}</th><th scope="col">${c.l.t('Last error')}</th><th scope="col">${c.l.t('Next check')}</th></tr></thead><tbody>${problems.map((p) => html`<tr><td>${p.repo_path}</td><td>${fileStateName(c.l, p.state)}</td><td>${p.attempts}</td><td>${p.last_error ?? c.l.t('not checked yet')}</td><td>${when(p.next_check_at)}</td></tr>`)}</tbody></table>`
        : html`<p>${T(c.l).allHeld}</p>`
    }</section>
<section aria-labelledby="edit"><h2 id="edit">${T(c.l).edit}</h2><p>${T(c.l).editIntro}</p>${mirrorForm(c, `/admin/mirrors/${m.id}`, form?.values ?? valuesOf(m), false, form?.error.field ?? null)}</section>
<section aria-labelledby="remove"><h2 id="remove">${T(c.l).remove}</h2>${postForm(`/admin/mirrors/${m.id}/remove`, c.csrf, html`<p><label for="m-confirm">${T(c.l).removeConfirm}</label><br><input id="m-confirm" name="confirm" required></p>${submit(T(c.l).removeButton)}`, { label: T(c.l).remove })}</section>`;
    return sendPage(
      reply,
      page(
        {
          title: c.l.t('Mirror: {name}', { name: m.name }),
          ...c,
          notice: form ? null : notice(req, c.l),
          error: form ? { code: form.error.code, message: form.error.message } : null,
        },
        body,
      ),
      form ? 400 : 200,
    );
  };

  /** Validation errors show the form again with what was typed; anything else goes to the error page. */
  const formError = (err: unknown) => {
    if (isAsloError(err) && (err.statusCode === 400 || err.statusCode === 409)) {
      const f = (err.details as { field?: string } | undefined)?.field;
      const fieldName = f ? (FIELD_OF[f] ?? f) : undefined;
      return { code: err.code, message: err.message, field: fieldName };
    }
    throw err;
  };

  app.get('/admin/mirrors', { schema: { hide: true, querystring: formQuery('done') } }, async (req, reply) => {
    const c = await adminPage(req, reply);
    if (!c) return reply;
    return listPage(req, reply, c, null);
  });

  app.get('/admin/mirrors/:id', { schema: { hide: true, params: mirrorParams, querystring: formQuery('done') } }, async (req, reply) => {
    const c = await adminPage(req, reply);
    if (!c) return reply;
    return mirrorPage(req, reply, c, await registry.get(idParam(req)), null);
  });

  app.post('/admin/mirrors', { preHandler: csrf, schema: { hide: true, body: mirrorFormFields } }, async (req, reply) => {
    const actor = requireAdmin(await req.viewer());
    try {
      const m = await registry.add(inputOf(req.body, true), by(actor));
      return redirect(reply, `/admin/mirrors/${m.id}?done=added`);
    } catch (err) {
      const error = formError(err);
      return listPage(req, reply, await pageCtx(req, reply), { values: valuesFromBody(req.body), error });
    }
  });

  app.post('/admin/mirrors/:id', { preHandler: csrf, schema: { hide: true, params: mirrorParams, body: mirrorFormFields } }, async (req, reply) => {
    const actor = requireAdmin(await req.viewer());
    const id = idParam(req);
    try {
      await registry.edit(id, inputOf(req.body, false), by(actor));
      return redirect(reply, `/admin/mirrors/${id}?done=saved`);
    } catch (err) {
      const error = formError(err);
      return mirrorPage(req, reply, await pageCtx(req, reply), await registry.get(id), { values: valuesFromBody(req.body), error });
    }
  });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(`/admin/mirrors/:id/${verb}`, { preHandler: csrf, schema: { hide: true, params: mirrorParams, body: formBody() } }, async (req, reply) => {
      const actor = requireAdmin(await req.viewer());
      const m = await registry.setEnabled(idParam(req), enabled, by(actor));
      return redirect(reply, `/admin/mirrors/${m.id}?done=${enabled ? 'enabled' : 'disabled'}`);
    });
  }

  app.post('/admin/mirrors/:id/remove', { preHandler: csrf, schema: { hide: true, params: mirrorParams, body: formBody('confirm') } }, async (req, reply) => {
    const actor = requireAdmin(await req.viewer());
    const m = await registry.get(idParam(req));
    if (field(req.body, 'confirm').trim().toLowerCase() !== m.name) {
      throw new AsloError('MIRROR_REMOVE_UNCONFIRMED', `Type the mirror's name (${m.name}) to remove it.`, { statusCode: 400, details: { field: 'confirm' } });
    }
    await registry.remove(m.id, by(actor));
    return redirect(reply, '/admin/mirrors?done=removed');
  });
}

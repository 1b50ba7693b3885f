// The one small layout of the server-rendered hub pages (accounts, developer hub, editors'
// queue, administration): plain semantic HTML, every value escaped by the `html` template tag
// unless it is itself the result of `html` (or marked with `raw`). The markup around the
// content is the web store's shell; pages only call page(), html, form helpers.
import type { Viewer } from '../../accounts/access.js';

// One set of template primitives for the whole site (src/web/html.ts), so fragments made here
// and in the store's pages are the same SafeHtml.
import { SafeHtml, esc, raw, html } from '../html.js';
import { renderShell } from '../layout.js';
import { translator } from '../i18n.js';
export { SafeHtml, esc, raw, html };

export interface PageOptions {
  title: string;
  viewer: Viewer;
  /** CSRF token for the log-out button in the header. */
  csrf?: string;
  /** A message shown above the content (after an action). */
  notice?: string | null;
  /** An error shown above the content. */
  error?: { code: string; message: string } | null;
}

const NAV = {
  store: 'Activities',
  developers: 'Developer hub',
  upload: 'Upload',
  queue: "Editors' queue",
  flags: 'Flagged reviews',
  audit: 'Audit log',
  reports: 'Abuse reports',
  users: 'Users',
  account: 'Account',
  login: 'Log in',
  register: 'Register',
  logout: 'Log out',
};

export function page(opts: PageOptions, body: SafeHtml): string {
  const v = opts.viewer;
  const nav = html`<nav aria-label="Site"><ul>
<li><a href="/">${NAV.store}</a></li>
${v ? html`<li><a href="/developers">${NAV.developers}</a></li><li><a href="/developers/upload">${NAV.upload}</a></li>` : ''}
${v && (v.role === 'editor' || v.role === 'admin') ? html`<li><a href="/editors/queue">${NAV.queue}</a></li><li><a href="/editors/flags">${NAV.flags}</a></li>` : ''}
${v && v.role === 'admin' ? html`<li><a href="/admin/audit">${NAV.audit}</a></li><li><a href="/admin/reports">${NAV.reports}</a></li><li><a href="/admin/users">${NAV.users}</a></li><li><a href="/admin/mirrors">Mirrors</a></li>` : ''}
${v
    ? html`<li><a href="/account">${NAV.account}</a> (${v.displayName})</li>${opts.csrf ? html`<li><form method="post" action="/account/logout"><input type="hidden" name="_csrf" value="${opts.csrf}"><button type="submit">${NAV.logout}</button></form></li>` : ''}`
    : html`<li><a href="/account/login">${NAV.login}</a></li><li><a href="/account/register">${NAV.register}</a></li>`}
</ul></nav>`;
  const notice = opts.notice ? html`<p role="status" class="notice">${opts.notice}</p>` : '';
  const error = opts.error ? html`<p role="alert" class="error"><strong>${opts.error.message}</strong> <code>${opts.error.code}</code></p>` : '';
  // The store's shell (src/web/layout.ts): same header, stylesheet and footer as the store.
  return renderShell({
    l: translator('en'),
    title: opts.title,
    rest: '/',
    localized: false,
    bodyClass: 'hub',
    nav: html`<div class="hubnav">${nav}</div>`,
    main: html`<h1>${opts.title}</h1>
${notice}${error}
${body}`,
  });
}

// --- form helpers ------------------------------------------------------------------------------

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

export function postForm(action: string, csrf: string, inner: SafeHtml, opts: { multipart?: boolean; label?: string } = {}): SafeHtml {
  // Multipart bodies are streamed, so their CSRF token travels in the query string.
  if (opts.multipart) {
    const sep = action.includes('?') ? '&' : '?';
    return html`<form method="post" action="${action}${sep}_csrf=${encodeURIComponent(csrf)}" enctype="multipart/form-data"${opts.label ? html` aria-label="${opts.label}"` : ''}>${inner}</form>`;
  }
  return html`<form method="post" action="${action}"${opts.label ? html` aria-label="${opts.label}"` : ''}>${csrfField(csrf)}${inner}</form>`;
}

export function input(name: string, label: string, opts: { type?: string; value?: string | null; required?: boolean; autocomplete?: string; hint?: string; extra?: string } = {}): SafeHtml {
  const id = `f-${name}`;
  return html`<p><label for="${id}">${label}</label><br><input id="${id}" name="${name}" type="${opts.type ?? 'text'}"${opts.value ? html` value="${opts.value}"` : ''}${opts.required ? raw(' required') : ''}${opts.autocomplete ? html` autocomplete="${opts.autocomplete}"` : ''}${opts.extra ? raw(' ' + opts.extra) : ''}>${opts.hint ? html`<br><small>${opts.hint}</small>` : ''}</p>`;
}

export function textarea(name: string, label: string, opts: { value?: string | null; required?: boolean; rows?: number; hint?: string } = {}): SafeHtml {
  const id = `f-${name}`;
  return html`<p><label for="${id}">${label}</label><br><textarea id="${id}" name="${name}" rows="${opts.rows ?? 4}" cols="70"${opts.required ? raw(' required') : ''}>${opts.value ?? ''}</textarea>${opts.hint ? html`<br><small>${opts.hint}</small>` : ''}</p>`;
}

export function submit(label: string): SafeHtml {
  return html`<p><button type="submit">${label}</button></p>`;
}

export function table(head: string[], rows: unknown[][]): SafeHtml {
  return html`<table><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

export function when(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  return date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function waited(since: Date): string {
  const ms = Date.now() - since.getTime();
  const h = Math.floor(ms / 3600_000);
  if (h < 1) return `${Math.max(1, Math.floor(ms / 60_000))} min`;
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

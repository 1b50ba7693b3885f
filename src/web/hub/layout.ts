// The one small layout of the server-rendered hub pages (accounts, developer hub, editors'
// queue, administration): plain semantic HTML, every value escaped by the `html` template tag
// unless it is itself the result of `html` (or marked with `raw`). The markup around the
// content is the web store's shell; pages only call page(), html, form helpers. Every string is
// a gettext message of the store's catalogs (l.t('...'), docs/web.md), in the visitor's
// language (pageCtx in common.ts chooses it).
import type { Viewer } from '../../accounts/access.js';

// One set of template primitives for the whole site (src/web/html.ts), so fragments made here
// and in the store's pages are the same SafeHtml.
import { SafeHtml, esc, raw, html, render } from '../html.js';
import { renderShell } from '../layout.js';
import { translator, type Translator } from '../i18n.js';
export { SafeHtml, esc, raw, html };
export type { Translator };

export interface PageOptions {
  title: string;
  viewer: Viewer;
  /** CSRF token for the log-out button in the header. */
  csrf?: string;
  /** A message shown above the content (after an action). */
  notice?: string | null;
  /** An error shown above the content. */
  error?: { code: string; message: string } | null;
  /** The visitor's language (default English). */
  l?: Translator;
  /** This page's address, for the language menu to come back to (default /). */
  path?: string;
}

export function page(opts: PageOptions, body: SafeHtml): string {
  const v = opts.viewer;
  const l = opts.l ?? translator('en');
  const notice = opts.notice ? html`<p role="status" class="notice">${opts.notice}</p>` : '';
  const error = opts.error ? html`<p role="alert" class="error"><strong>${opts.error.message}</strong> <code>${opts.error.code}</code></p>` : '';
  // The store's shell (src/web/layout.ts): same header, stylesheet, footer and language menu as
  // the store; the hub's addresses hold no locale, so the menu only sets the cookie and comes back.
  return renderShell({
    l,
    title: opts.title,
    rest: opts.path ?? '/',
    localized: false,
    bodyClass: 'hub',
    viewer: v,
    csrf: opts.csrf,
    main: html`<h1>${opts.title}</h1>
${notice}${error}
${body}`,
  });
}

/**
 * A translated message with markup in its placeholders: the message text is escaped, then each
 * {name} is replaced by its value (escaped unless it is html`` output), so translators move
 * links and emphasis around with the words: markup(l.t('Open {link}'), { link: html`<a ...>` }).
 */
export function markup(text: string, params: Record<string, unknown>): SafeHtml {
  return raw(esc(text).replace(/\{(\w+)\}/g, (all, k: string) => (k in params ? render(params[k]) : all)));
}

// --- form helpers ------------------------------------------------------------------------------

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

export function postForm(action: string, csrf: string, inner: SafeHtml, opts: { multipart?: boolean; label?: string } = {}): SafeHtml {
  // The CSRF token is always a field, never in the URL (logs, history, Referer). Multipart
  // bodies are streamed, so there it must come first: the handler reads it before the file.
  if (opts.multipart) {
    return html`<form method="post" action="${action}" enctype="multipart/form-data"${opts.label ? html` aria-label="${opts.label}"` : ''}>${csrfField(csrf)}${inner}</form>`;
  }
  return html`<form method="post" action="${action}"${opts.label ? html` aria-label="${opts.label}"` : ''}>${csrfField(csrf)}${inner}</form>`;
}

export function input(
  name: string,
  label: string,
  opts: { type?: string; value?: string | null; required?: boolean; autocomplete?: string; hint?: string; extra?: string } = {},
): SafeHtml {
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

/** A table that stacks on phones: each row becomes a card and each cell shows its column's name (data-label, style.css). */
export function table(head: string[], rows: unknown[][]): SafeHtml {
  return html`<table class="stack"><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c, i) => (head[i] ? html`<td data-label="${head[i]}">${c}</td>` : html`<td>${c}</td>`))}</tr>`)}</tbody></table>`;
}

export function when(d: Date | string | null | undefined): string {
  if (!d) return '';
  const date = typeof d === 'string' ? new Date(d) : d;
  return date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function waited(l: Translator, since: Date): string {
  const ms = Date.now() - since.getTime();
  const h = Math.floor(ms / 3600_000);
  if (h < 1) return l.n('{count} min', '{count} min', Math.max(1, Math.floor(ms / 60_000)));
  if (h < 48) return l.n('{count} h', '{count} h', h);
  return l.n('{count} day', '{count} days', Math.floor(h / 24));
}

/** A share as a percentage with one decimal, in the visitor's number format ('36.8 %'). */
export function percent(l: Translator, value: number): string {
  return `${new Intl.NumberFormat(l.locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value)} %`;
}

/** A table of translated strings built once per language: const T = perLocale((l) => ({ ... })). */
export function perLocale<R>(make: (l: Translator) => R): (l: Translator) => R {
  const made = new WeakMap<Translator, R>();
  return (l) => {
    let r = made.get(l);
    if (r === undefined) made.set(l, (r = make(l)));
    return r;
  };
}

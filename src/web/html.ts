// The template approach of every server-rendered page: tagged template literals. `html`
// escapes every interpolated value unless it is itself the result of `html` (or marked with
// `raw`), so markup is safe by default and there is no template language to learn, no build
// step and no runtime dependency. Arrays of fragments are joined; null/undefined/false render
// as nothing, so `${cond && html`...`}` works.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Mark trusted markup (already escaped or sanitized) so `html` does not escape it again. */
export function raw(s: string): SafeHtml {
  return new SafeHtml(s);
}

export function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return esc(v);
}

/** Template tag: interpolated values are escaped; nested html`` fragments and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Join fragments with a separator (itself escaped unless SafeHtml). */
export function join(items: unknown[], sep: unknown = ''): SafeHtml {
  return raw(items.map(render).join(render(sep)));
}

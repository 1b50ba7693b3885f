// Interface translations: gettext PO catalogs in locales/<file>.po, parsed once at start with
// gettext-parser. English is the source language (the msgids); scripts/extract-strings.ts
// collects every t('...') and n('...', '...', count) call under src/web into locales/aslo.pot
// and merges it into each PO file (docs/web.md). Placeholders are written {name} and filled
// from the params object; the result is plain text: templates escape it like any value.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { po } from 'gettext-parser';
import { acceptLanguageTags } from '../bundles/i18n.js';

export interface LocaleInfo {
  /** BCP 47 tag, as used in URLs (/pt-BR/...). */
  tag: string;
  /** The language's own name, for the language switcher. */
  name: string;
  dir: 'ltr' | 'rtl';
  /** PO file name in locales/, null for the source language. */
  po: string | null;
}

export const LOCALES: LocaleInfo[] = [
  { tag: 'en', name: 'English', dir: 'ltr', po: null },
  { tag: 'es', name: 'Español', dir: 'ltr', po: 'es.po' },
  { tag: 'fr', name: 'Français', dir: 'ltr', po: 'fr.po' },
  { tag: 'pt-BR', name: 'Português (Brasil)', dir: 'ltr', po: 'pt_BR.po' },
  { tag: 'ar', name: 'العربية', dir: 'rtl', po: 'ar.po' },
];
export const DEFAULT_LOCALE = 'en';
export const LOCALE_TAGS = LOCALES.map((l) => l.tag);

export const LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url));

export type Params = Record<string, string | number>;

export interface Translator {
  locale: string;
  dir: 'ltr' | 'rtl';
  /** Translate a message; {name} placeholders are filled from params. */
  t(msgid: string, params?: Params): string;
  /** Translate a message with a plural form chosen by count ({count} is filled in too). */
  n(singular: string, plural: string, count: number, params?: Params): string;
  /**
   * Translate a message in a context (gettext's msgctxt): the same English words used in two
   * senses, which other languages say differently ('disabled' of a mirror, of an activity).
   */
  p(context: string, msgid: string, params?: Params): string;
  number(n: number): string;
  date(d: Date | string): string;
}

interface Catalog {
  messages: Map<string, string[]>;
  plural: (n: number) => number;
}

const PLURAL_SAFE = /^[n0-9\s%<>=!&|?:()]+$/;

/** The `plural=` expression of a Plural-Forms header as a function (only gettext's C subset is accepted). */
export function pluralFunction(header: string | undefined): (n: number) => number {
  const m = /plural\s*=\s*([^;]+);?/.exec(header ?? '');
  const expr = m?.[1]?.trim();
  if (!expr || !PLURAL_SAFE.test(expr)) return (n) => (n === 1 ? 0 : 1);
  // Safe: PLURAL_SAFE admits only n, digits, operators and parentheses (a PO header's plural rule).
  const f = new Function('n', `return Number(${expr});`) as (n: number) => number;
  return (n) => f(n);
}

/** The catalog key of a message in a context, as gettext writes it (context EOT msgid). */
export function contextKey(context: string, msgid: string): string {
  return context ? `${context}\u0004${msgid}` : msgid;
}

function loadCatalog(file: string): Catalog {
  const parsed = po.parse(readFileSync(file));
  const messages = new Map<string, string[]>();
  for (const [context, table] of Object.entries(parsed.translations)) {
    for (const [id, entry] of Object.entries(table)) {
      if (!id || entry.comments?.flag?.includes('fuzzy')) continue;
      if (entry.msgstr.some((s) => s)) messages.set(contextKey(context, id), entry.msgstr);
    }
  }
  return { messages, plural: pluralFunction(parsed.headers['Plural-Forms'] ?? parsed.headers['plural-forms']) };
}

function fill(s: string, params: Params | undefined): string {
  if (!params) return s;
  return s.replace(/\{(\w+)\}/g, (all, k: string) => (k in params ? String(params[k]) : all));
}

const translators = new Map<string, Translator>();

function makeTranslator(info: LocaleInfo, catalog: Catalog | null): Translator {
  const numberFormat = new Intl.NumberFormat(info.tag);
  const dateFormat = new Intl.DateTimeFormat(info.tag, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  return {
    locale: info.tag,
    dir: info.dir,
    t(msgid, params) {
      const found = catalog?.messages.get(msgid)?.[0];
      return fill(found || msgid, params);
    },
    p(context, msgid, params) {
      const found = catalog?.messages.get(contextKey(context, msgid))?.[0];
      return fill(found || msgid, params);
    },
    n(singular, plural, count, params) {
      const forms = catalog?.messages.get(singular);
      const idx = catalog ? catalog.plural(count) : count === 1 ? 0 : 1;
      const chosen = forms?.[idx] || (count === 1 ? singular : plural);
      return fill(chosen, { count: numberFormat.format(count), ...params });
    },
    number: (n) => numberFormat.format(n),
    date: (d) => dateFormat.format(typeof d === 'string' ? new Date(d) : d),
  };
}

/** Load every catalog (at start; a missing PO file leaves that locale in English). */
export function loadTranslations(dir = LOCALES_DIR): void {
  translators.clear();
  for (const info of LOCALES) {
    const path = info.po ? join(dir, info.po) : null;
    const catalog = path && existsSync(path) ? loadCatalog(path) : null;
    translators.set(info.tag, makeTranslator(info, catalog));
  }
}

export function translator(tag: string): Translator {
  if (translators.size === 0) loadTranslations();
  return translators.get(tag) ?? translators.get(DEFAULT_LOCALE)!;
}

export function localeInfo(tag: string): LocaleInfo | undefined {
  return LOCALES.find((l) => l.tag === tag);
}

/**
 * The supported interface locale for any tag: exact ('pt-BR'), case-insensitive ('pt-br'),
 * by language ('es-UY' -> 'es', 'pt' / 'pt-PT' -> 'pt-BR', 'en-US' -> 'en'); null when none.
 */
export function matchLocale(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const tag = raw.trim().replace(/_/g, '-').toLowerCase();
  if (!/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(tag)) return null;
  const exact = LOCALES.find((l) => l.tag.toLowerCase() === tag);
  if (exact) return exact.tag;
  const lang = tag.split('-')[0];
  const byLang = LOCALES.find((l) => l.tag.split('-')[0]!.toLowerCase() === lang);
  return byLang?.tag ?? null;
}

/** The best supported locale for an Accept-Language header (quality order), or null. */
export function negotiateLocale(header: string | undefined): string | null {
  for (const tag of acceptLanguageTags(header)) {
    const m = matchLocale(tag);
    if (m) return m;
  }
  return null;
}

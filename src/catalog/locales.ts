// Locale tags: bundles name their translation folders like gettext (pt_BR, zh_CN, be@latin);
// the web speaks BCP 47 (pt-BR). We store BCP 47-ish tags and fall back es-UY -> es -> the
// activity.info text, which is stored under 'und' (language undetermined: it is often English,
// not always).
export const UNDETERMINED = 'und';

/** 'pt_BR' -> 'pt-BR', 'es' -> 'es', 'sr@latin' -> 'sr-Latn'; null when it is not a locale tag. */
export function normalizeLocale(raw: string): string | null {
  const s = raw.trim();
  const m = /^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{2}|\d{3}|[a-zA-Z]{4}))?(?:@([a-zA-Z]+))?$/.exec(s);
  if (!m) return null;
  let tag = m[1]!.toLowerCase();
  if (m[2]) tag += '-' + (m[2].length === 4 ? m[2][0]!.toUpperCase() + m[2].slice(1).toLowerCase() : m[2].toUpperCase());
  if (m[3]) {
    const script = m[3].toLowerCase() === 'latin' ? 'Latn' : m[3].toLowerCase() === 'cyrillic' ? 'Cyrl' : null;
    if (script) tag += '-' + script;
  }
  return tag;
}

/** The lookup chain for a requested locale: 'es-UY' -> ['es-UY', 'es', 'und']. */
export function localeChain(requested: string | null | undefined): string[] {
  const chain: string[] = [];
  const tag = requested ? normalizeLocale(requested) : null;
  if (tag) {
    chain.push(tag);
    const parts = tag.split('-');
    for (let i = parts.length - 1; i > 0; i--) {
      const shorter = parts.slice(0, i).join('-');
      if (!chain.includes(shorter)) chain.push(shorter);
    }
  }
  chain.push(UNDETERMINED);
  return chain;
}

/** Pick the best locale from an Accept-Language header among the tags we could serve. */
export function fromAcceptLanguage(header: string | undefined): string | null {
  if (!header) return null;
  const items = header
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: (tag ?? '').trim(), q: q ? Number(q.slice(2)) : 1 };
    })
    .filter((x) => x.tag && x.tag !== '*' && Number.isFinite(x.q) && x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const item of items) {
    const tag = normalizeLocale(item.tag);
    if (tag) return tag;
  }
  return null;
}

export interface TextRow {
  locale: string;
  origin: 'bundle' | 'developer';
  name: string | null;
  summary: string | null;
  description: string | null;
}

export interface LocalizedTexts {
  name: string;
  summary: string | null;
  description: string | null;
  /** The locale the name was found in. */
  locale: string;
}

/** Resolve each field along the chain; a developer's override beats the bundle's text. */
export function resolveTexts(rows: TextRow[], chain: string[], fallbackName: string): LocalizedTexts {
  const pick = (field: 'name' | 'summary' | 'description'): { value: string | null; locale: string } => {
    for (const locale of chain) {
      for (const origin of ['developer', 'bundle'] as const) {
        const row = rows.find((r) => r.locale === locale && r.origin === origin);
        const v = row?.[field];
        if (v) return { value: v, locale };
      }
    }
    return { value: null, locale: UNDETERMINED };
  };
  const name = pick('name');
  return {
    name: name.value ?? fallbackName,
    summary: pick('summary').value,
    description: pick('description').value,
    locale: name.locale,
  };
}

/** A name from a per-locale map (categories, collections, captions): the locale's chain, then English, then the fallback. */
export function localizedName(names: Record<string, string>, locale: string, fallback: string): string {
  for (const tag of localeChain(locale)) if (names[tag]) return names[tag]!;
  return names.en ?? fallback;
}

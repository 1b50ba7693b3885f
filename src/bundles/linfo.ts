// locale/<lang>/activity.linfo: translated name, summary and tags (section [Activity]).
//
// What Sugar does (ActivityBundle._parse_linfo): it reads only the file of the user's language,
// with configparser, and catches ParsingError (which includes MissingSectionHeaderError): such a
// file is silently ignored. Other failures are NOT caught and make the activity fail to load for
// users of that language: invalid UTF-8, a duplicate key or section (strict mode), and an
// interpolation error in name/summary/tags (e.g. "100% Matemáticas" with a bare %). We therefore
// report the ignorable problems as warnings (and skip the file, as Sugar does) and the fatal ones
// as errors (LINFO_FATAL_IN_SUGAR).
//
// Locale folder names: Sugar looks files up by the gettext names it derives from the user's
// locale (`es`, `pt_BR`, `sr@latin`, `zh_CN`...). Folders that cannot match any such name
// (`SkyTimeEnglish`, `templates`, `en-US`) are never read by Sugar: we skip them with a warning.
// Keys of `locales` are the folder names verbatim (pt_BR stays pt_BR), since that is the name
// Sugar matches on.

import { IssueList } from './errors.js';
import { getInterpolated, getRaw } from './ini.js';
import { loadInfoFile, splitList } from './infofile.js';

export interface LocalizedMetadata {
  name?: string;
  summary?: string;
  tags?: string[];
}

/** gettext locale names: language (2-3 letters), optional _TERRITORY, optional @modifier. */
const LOCALE_DIR_RE = /^[a-z]{2,3}(?:_[A-Z]{2}|_[0-9]{3})?(?:@[a-zA-Z0-9]+)?$/;

export function isLocaleDirName(name: string): boolean {
  return LOCALE_DIR_RE.test(name);
}

/** Returns the translations, or null when Sugar would not use the file. */
export function parseLinfo(buf: Uint8Array, file: string, lang: string, issues: IssueList): LocalizedMetadata | null {
  const fatal = (message: string, line: number | null) => {
    issues.add(
      'LINFO_FATAL_IN_SUGAR',
      `${message}. Sugar does not catch this error: for users whose language is "${lang}" the activity fails to load`,
      file,
      line,
      { lang, detail: message },
    );
    return null;
  };
  const ignored = (message: string, line: number | null) => {
    issues.add('LINFO_PARSE_ERROR', `${message}. Sugar ignores this translation file`, file, line);
    return null;
  };

  const { doc, problems } = loadInfoFile(buf);
  const first = problems[0];
  if (first?.kind === 'encoding') return fatal(first.message, first.line);
  // configparser raises MissingSectionHeaderError (a ParsingError, caught by Sugar) as soon as it
  // meets it, before any later duplicate could be seen. A BOM causes exactly that error in Sugar.
  if (first && (first.kind === 'bom' || first.kind === 'missing-section-header')) return ignored(first.message, first.line);
  const dup = problems.find((p) => p.kind === 'duplicate-option' || p.kind === 'duplicate-section');
  if (dup) return fatal(dup.message, dup.line);
  if (first) return ignored(first.message, first.line);
  if (!doc) return null;

  if (!doc.sections.has('Activity')) {
    issues.add('LINFO_NO_SECTION', 'there is no [Activity] section, so Sugar finds no translation in this file', file, null);
    return null;
  }
  const out: LocalizedMetadata = {};
  for (const key of ['name', 'summary', 'tags'] as const) {
    const r = getInterpolated(doc, 'Activity', key);
    if (!r) continue;
    if (!r.ok) return fatal(r.message, getRaw(doc, 'Activity', key)?.line ?? null);
    if (key === 'tags') out.tags = splitList(r.value);
    else out[key] = r.value;
  }
  return out;
}

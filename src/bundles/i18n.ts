// Translations of issue messages, so developers read validation errors and warnings in their
// language. Issues keep their English `message` (tools and logs rely on it); a translation is
// looked up by the issue's key (its code, or `code.variant` when one code has several messages)
// and filled with the issue's `params`.
//
// Catalogs are gettext PO files, like the web store's (src/web/i18n.ts): one per language,
// locales/<lang>/bundles.po (lang as in the store's file names: es, fr, pt_BR, ar), parsed with
// gettext-parser. Each entry has the key as msgctxt, the English template below as msgid and the
// translation as msgstr; {name} placeholders are filled from `params`. An entry whose msgid is not
// the current English template is stale and ignored (the English message is shown), as is a fuzzy
// or empty one, so changing a template here never shows an outdated translation.
// test/integration/hub-validation-i18n.test.ts checks every catalog against this table.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { po } from 'gettext-parser';
import type { BundleIssue, IssueParams } from './errors.js';

export const ISSUE_LOCALES_DIR = fileURLToPath(new URL('../../locales/', import.meta.url));
export const ISSUE_CATALOG_FILE = 'bundles.po';
export const SOURCE_LOCALE = 'en';

const INI_LINE_HINT = 'every line must be "key = value", a [section] header, a comment (# or ;) or an indented continuation of the previous value';
const STRICT = "Python's configparser (strict mode, as Sugar uses it) refuses the whole file";

/** The English templates (the catalogs' msgids) by key: `CODE` or `CODE.variant`; `*.variant` fits any code. */
export const ISSUE_MESSAGES: Readonly<Record<string, string>> = {
  // --- the zip and its layout ---
  BUNDLE_NOT_FOUND: 'cannot read the bundle file: {detail}',
  BUNDLE_NOT_ZIP: 'the file is not a zip archive; a Sugar bundle (.xo/.xol) is a zip file made by "python setup.py dist_xo" or any zip tool',
  'BUNDLE_NOT_ZIP.empty': 'the file is empty (0 bytes); upload the .xo/.xol file itself',
  'BUNDLE_ZIP_CORRUPT.truncated': 'the zip is truncated or damaged ({detail}); upload the file again or rebuild it',
  'BUNDLE_ZIP_CORRUPT.directory': "the zip's central directory is damaged ({detail}); rebuild the bundle",
  'BUNDLE_ZIP_CORRUPT.entry': '{name} cannot be decompressed ({detail}); rebuild the bundle',
  'BUNDLE_ZIP_CORRUPT.header': '{name}: bad local file header ({detail}); rebuild the bundle',
  BUNDLE_ZIP_EMPTY: 'the zip archive contains no files',
  'BUNDLE_ZIP_EMPTY.mimetype': 'the zip archive contains no files besides "mimetype"',
  BUNDLE_ZIP_TOO_MANY_ENTRIES: 'the zip has {count} entries; at most {max} are allowed',
  BUNDLE_ZIP_TOO_LARGE: 'the bundle unpacks to {size} bytes; at most {max} are allowed',
  BUNDLE_ZIP_ENTRY_TOO_LARGE: '{name} is {size} bytes uncompressed; at most {max} per file',
  BUNDLE_ZIP_RATIO: '{name} compresses {ratio}:1, more than {max}:1 (zip bomb?)',
  'BUNDLE_ZIP_RATIO.total': 'the bundle as a whole compresses {ratio}:1, more than {max}:1 (zip bomb?)',
  BUNDLE_ZIP_SIZE_MISMATCH: '{name} is stored uncompressed but declares two different sizes; the archive is damaged or hostile',
  'BUNDLE_ZIP_SIZE_MISMATCH.inflated': '{name} inflates to a different size than the zip declares ({detail}); the archive is damaged or hostile',
  BUNDLE_ZIP_CRC_MISMATCH: '{name} fails its CRC-32 check; the archive is damaged, upload it again',
  BUNDLE_ZIP_ENCRYPTED: 'the zip uses strong encryption; bundles must not be encrypted',
  'BUNDLE_ZIP_ENCRYPTED.entry': '{name} is encrypted; bundles must not be password-protected',
  BUNDLE_ZIP_UNSUPPORTED_COMPRESSION: '{name} uses compression method {method}; only "stored" (0) and "deflate" (8) are accepted',
  BUNDLE_ZIP_TRAVERSAL: '"{name}": the name contains a ".." segment, which would unpack outside the bundle folder',
  BUNDLE_ZIP_ABSOLUTE_PATH: '"{name}": the name is an absolute path; every file must be stored relative to the bundle root folder',
  BUNDLE_ZIP_BACKSLASH: '"{name}": the name contains a backslash; zip names must use "/" (re-create the zip on Linux or with a tool that writes "/")',
  'BUNDLE_ZIP_BAD_NAME.utf8': '"{name}": the name is flagged as UTF-8 but is not valid UTF-8; re-create the zip with a current zip tool',
  'BUNDLE_ZIP_BAD_NAME.control': '"{name}": the name contains control characters',
  'BUNDLE_ZIP_BAD_NAME.segment': '"{name}": the name has an empty or "." path segment',
  BUNDLE_ZIP_SYMLINK: '{name} is a symbolic link; bundles must contain regular files only (store the target file instead)',
  BUNDLE_ZIP_SPECIAL_FILE: '{name} is a device, FIFO or socket; bundles must contain regular files only',
  BUNDLE_ZIP_DUPLICATE: '{name} appears more than once in the zip; tools disagree on which copy wins',
  BUNDLE_ZIP_CASE_DUPLICATE: '{name} and {other} differ only in letter case; they collide when unpacked on a case-insensitive file system',
  BUNDLE_ZIP_OVERLAP: '{name} overlaps the data of {other} (a zip-bomb technique)',
  'BUNDLE_ZIP_OVERLAP.shared': '{name} shares its data with another entry (overlapping entries are a zip-bomb technique)',
  BUNDLE_ZIP_NAME_MISMATCH: '{name}: the local file header names a different file ("{other}"); tools would unpack different files',
  BUNDLE_ROOT_MULTIPLE: '{name} is outside the root folder "{root}/"; all files must be inside one top-level folder',
  BUNDLE_ROOT_NOT_DIR: '"{root}" is a file, but it must be the folder holding the whole bundle',
  BUNDLE_ROOT_DOT: 'the root folder "{root}" starts with "."; Sugar refuses hidden root folders',
  BUNDLE_ROOT_SUFFIX: 'the root folder "{root}" must end in ".activity" (e.g. MyActivity.activity/); Sugar refuses other names',
  BUNDLE_MISSING_INFO: '{path} is missing; every bundle needs it',
  'BUNDLE_MISSING_INFO.near': '{path} is missing (found {near}: names are case-sensitive); every bundle needs it',
  'BUNDLE_KIND_MISMATCH.content':
    'the file is named {ext} but holds a content bundle (library/library.info); it is treated as .xol. Sugar picks the installer by extension, so rename it',
  'BUNDLE_KIND_MISMATCH.activity':
    'the file is named {ext} but holds an activity (activity/activity.info); it is treated as .xo. Sugar picks the installer by extension, so rename it',
  '*.more': '…and {count} more entries with the same problem',

  // --- activity.info / library.info ---
  INFO_TOO_LARGE: '{path} is {size} bytes; at most {max} are read',
  INFO_ENCODING: 'byte {byte} (line {line}) is not valid UTF-8; Sugar reads this file as UTF-8 and fails on it. Save the file as UTF-8',
  INFO_BOM: 'the file starts with a UTF-8 byte-order mark (BOM); Sugar then cannot find the first [section] header and fails. Save it as UTF-8 without BOM',
  INFO_MISSING_SECTION_HEADER:
    'line {line} comes before any [section] header; the file must start with a [section] header line (comments and blank lines may come first)',
  INFO_PARSE_ERROR: `line {line} is neither a [section] header nor a "key = value" line; ${INI_LINE_HINT}`,
  'INFO_PARSE_ERROR.no-key': `line {line} has a value but no key before "{delimiter}"; ${INI_LINE_HINT}`,
  'INFO_PARSE_ERROR.line-ending':
    'line {line} contains a carriage return not followed by a line feed (old Mac line ending); Sugar reads such files inconsistently. Save the file with LF or CRLF line endings',
  INFO_DUPLICATE_SECTION: `section [{section}] appears twice; ${STRICT}: merge the two sections`,
  INFO_DUPLICATE_KEY: `key "{key}" appears twice in section [{section}]; ${STRICT}: keep only one`,
  INFO_INTERPOLATION_SYNTAX: `{detail}. Sugar reads "{key}" through Python's configparser interpolation, which raises here, so Sugar fails to load the bundle`,
  INFO_INTERPOLATION_MISSING: `{detail}. Sugar reads "{key}" through Python's configparser interpolation, which raises here, so Sugar fails to load the bundle`,
  INFO_INTERPOLATION_DEPTH: `{detail}. Sugar reads "{key}" through Python's configparser interpolation, which raises here, so Sugar fails to load the bundle`,
  INFO_INTERPOLATION_IGNORED: '{detail}. Sugar does not read "{key}", so it still loads the bundle; the raw value is used here',
  'INFO_INTERPOLATION_IGNORED.unread':
    '{detail}. Sugar does not read "{key}", so it still loads the bundle, but any tool reading it through configparser fails',
  INFO_NO_SECTION: 'there is no [{section}] section; Sugar refuses the bundle',
  'INFO_NO_SECTION.found': 'there is no [{section}] section (found [{found}]: section names are case- and space-sensitive); Sugar refuses the bundle',
  INFO_MISSING_NAME: 'there is no name key (the display name); Sugar refuses the bundle',
  INFO_EMPTY_NAME: 'name is empty; give the bundle a display name',
  INFO_MISSING_BUNDLE_ID: 'there is no bundle_id key (e.g. bundle_id = org.sugarlabs.MyActivity); Sugar refuses the bundle',
  'INFO_BAD_BUNDLE_ID.empty': '{key} is empty; use a reverse-DNS id like org.sugarlabs.MyActivity',
  'INFO_BAD_BUNDLE_ID.whitespace': '{key} "{id}" contains whitespace, which Sugar refuses; use a reverse-DNS id like org.sugarlabs.MyActivity',
  'INFO_BAD_BUNDLE_ID.slash': '{key} "{id}" contains a slash; the id is used as a folder name',
  'INFO_BAD_BUNDLE_ID.control': '{key} "{id}" contains control characters',
  'INFO_BAD_BUNDLE_ID.long': '{key} "{id}" is longer than 255 bytes',
  INFO_BUNDLE_ID_STYLE: '{key} "{id}" is not a reverse-DNS name (like org.sugarlabs.MyActivity); Sugar accepts it, but it can never be changed later',
  INFO_BUNDLE_ID_NON_ASCII: '{key} "{id}" contains non-ASCII characters; some tools and file systems mishandle them',
  INFO_BUNDLE_ID_CONFLICT: 'bundle_id "{bundle_id}" and the legacy service_name "{service_name}" differ; Sugar uses bundle_id. Remove service_name',
  'INFO_LEGACY_KEY.service_name': 'service_name is deprecated; rename it to bundle_id (Sugar still reads it)',
  'INFO_LEGACY_KEY.class': 'class is deprecated; write exec = sugar-activity <module.Class> instead (Sugar still reads it)',
  INFO_MISSING_EXEC: 'there is no exec key (e.g. exec = sugar-activity3 activity.MyActivity, or sugar-activity-web); Sugar refuses the bundle',
  INFO_EMPTY_EXEC: 'exec is empty; Sugar would have nothing to start',
  INFO_BAD_VERSION:
    '{key} "{value}" is not a valid Sugar version: numbers separated by dots (1, 1.2, 1.2.3) without leading zeros, optionally followed by a suffix like -peru. Sugar refuses the bundle',
  INFO_NO_VERSION: 'there is no {key}; Sugar assumes 0. Add {key} = 1',
  INFO_BAD_MAX_PARTICIPANTS: 'max_participants "{value}" is not an integer; Sugar refuses the bundle',
  INFO_ODD_MAX_PARTICIPANTS: 'max_participants is negative ({value}); use 1 for an activity that cannot be shared',
  INFO_NO_ICON: 'there is no icon key; Sugar shows a generic icon. Add icon = <name> for the file activity/<name>.svg',
  INFO_NO_LICENSE: 'there is no license key; add e.g. license = GPL-3.0-or-later',
  VERSION_NOT_PORTABLE: '{key} "{value}" is not a plain integer; Sugar older than 0.92 cannot read such versions',
  VERSION_SUFFIX_GTK2: '{key} "{value}" has the suffix "{suffix}"; the old GTK2 toolkit only accepts "-" followed by letters',
  ICON_MISSING: 'the icon file {path} is not in the bundle; Sugar shows a generic icon. Add it or fix the icon key',
  CONTENT_MISSING_GLOBAL_NAME: 'there is no global_name key (the id, e.g. org.laptop.MyLibrary); Sugar refuses the bundle',
  CONTENT_MISSING_START_PAGE: 'the start page "{start}" (activity_start, default index.html) is not a file in the bundle; Sugar refuses the bundle',
  LINFO_FATAL_IN_SUGAR: '{detail}. Sugar does not catch this error: for users whose language is "{lang}" the activity fails to load',

  // --- the store's checks when it takes an upload (src/catalog/ingest.ts, src/review/publishing.ts) ---
  INGEST_CONFLICT: 'Another upload of this activity version finished at the same moment. Check the catalog, then retry if it is missing.',
  INGEST_BAD_SUGAR_RANGE: '{key} "{value}" is not a Sugar version (like 0.112).',
  'INGEST_BAD_SUGAR_RANGE.empty': 'The Sugar range {min}-{max} is empty: the minimum is above the maximum.',
  'INGEST_KIND_MISMATCH.activity': '{bundle_id} is an existing activity bundle; this upload is a content bundle.',
  'INGEST_KIND_MISMATCH.content': '{bundle_id} is an existing content bundle; this upload is an activity bundle.',
  INGEST_NOT_AUTHOR: "The bundle id {bundle_id} belongs to another activity's authors. Only they can publish versions of it; use your own bundle_id.",
  INGEST_ACTIVITY_DISABLED:
    '{bundle_id} was disabled by the editors, so it takes no new versions. Its review history tells why; reply to the editors before uploading again.',
  INGEST_VERSION_EXISTS:
    '{bundle_id} already has version {existing}, and this different file has the same version number ({version}). Raise activity_version in activity/activity.info and build the bundle again.',
  'BUNDLE_ID_UNSAFE_CHARACTERS.bidi':
    'The bundle id contains bidirectional control characters ({characters}), which make it display as something else. Use a plain reverse-DNS id like org.sugarlabs.MyActivity.',
  'BUNDLE_ID_UNSAFE_CHARACTERS.invisible':
    'The bundle id contains invisible characters ({characters}). Use a plain reverse-DNS id like org.sugarlabs.MyActivity.',
  'BUNDLE_ID_UNSAFE_CHARACTERS.feed':
    'The bundle id {bundle_id} contains characters that Sugar misreads in update feeds ({characters}), so laptops would never find its updates. Use letters, digits, dots, hyphens and underscores.',
  BUNDLE_ID_MIXED_SCRIPT:
    'The part "{label}" of the bundle id {bundle_id} mixes letters of different scripts (like a Cyrillic "а" among Latin letters), so it can pass for another id. Write each part in one script.',
  BUNDLE_ID_CONFUSABLE:
    "The bundle id {bundle_id} looks the same as the id of another author's activity (ignoring case and look-alike characters), so people could take one for the other. Choose a clearly different bundle_id.",
  NAME_BIDI_OVERRIDE:
    'The activity name in {where} contains bidirectional embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069), which make it display as something else. Remove them.',
  UPLOAD_TOO_LARGE: 'The file is larger than the upload size limit.',
  TOKEN_IN_BUNDLE_REVOKED: 'An API token was found in this file and has been revoked; its owner was told by mail. Never put tokens in a bundle.',
};

/** Languages written right to left (for a `dir` attribute around a translated message). */
const RTL = new Set(['ar', 'fa', 'he', 'ur', 'yi']);

interface Catalog {
  /** BCP 47 tag ('es', 'pt-BR'). */
  tag: string;
  messages: Map<string, string>;
  /** Entries whose msgid is not the current English template (ignored). */
  stale: string[];
}

const catalogs = new Map<string, Catalog>();
let loaded = false;

/** Catalog folder name (gettext style, es / pt_BR) to BCP 47 tag (es / pt-BR). */
export function tagOfCatalogDir(name: string): string | null {
  const m = /^([a-z]{2,3})(?:_([A-Z]{2}))?$/.exec(name);
  return m ? (m[2] ? `${m[1]}-${m[2]}` : m[1]!) : null;
}

function parseCatalog(tag: string, file: string): Catalog {
  const parsed = po.parse(readFileSync(file));
  const messages = new Map<string, string>();
  const stale: string[] = [];
  for (const [ctx, entries] of Object.entries(parsed.translations)) {
    if (!ctx) continue;
    for (const entry of Object.values(entries)) {
      if (!entry.msgid || entry.comments?.flag?.includes('fuzzy') || !entry.msgstr[0]) continue;
      if (ISSUE_MESSAGES[ctx] !== entry.msgid) {
        stale.push(ctx);
        continue;
      }
      messages.set(ctx, entry.msgstr[0]);
    }
  }
  return { tag, messages, stale };
}

/** Read every locales/<lang>/bundles.po (once at start; again to pick up edits). */
export function loadIssueCatalogs(dir = ISSUE_LOCALES_DIR): void {
  catalogs.clear();
  loaded = true;
  if (!existsSync(dir)) return;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    const tag = tagOfCatalogDir(d.name);
    const file = join(dir, d.name, ISSUE_CATALOG_FILE);
    if (tag && existsSync(file)) catalogs.set(tag, parseCatalog(tag, file));
  }
}

function ensureLoaded(): void {
  if (!loaded) loadIssueCatalogs();
}

/** The languages issue messages can be shown in: English and every catalog. */
export function issueLocales(): string[] {
  ensureLoaded();
  return [SOURCE_LOCALE, ...[...catalogs.keys()].sort()];
}

/** What a catalog holds (for checks): its translated keys and its stale ones. */
export function issueCatalog(tag: string): { messages: ReadonlyMap<string, string>; stale: readonly string[] } | null {
  ensureLoaded();
  return catalogs.get(tag) ?? null;
}

/**
 * The supported language for a tag, or null: exact ('pt-BR'), any case or separator ('pt_br'),
 * then by language ('es-UY' -> 'es', 'pt' -> 'pt-BR', 'en-GB' -> 'en').
 */
export function matchIssueLocale(raw: string | null | undefined): string | null {
  if (!raw) return null;
  const tag = raw.trim().split('.')[0]!.split('@')[0]!.replace(/_/g, '-').toLowerCase();
  if (!/^[a-z]{2,3}(-[a-z0-9]{1,8})*$/.test(tag)) return null;
  const all = issueLocales();
  const exact = all.find((t) => t.toLowerCase() === tag);
  if (exact) return exact;
  const lang = tag.split('-')[0];
  return all.find((t) => t.split('-')[0]!.toLowerCase() === lang) ?? null;
}

/** Accept-Language entries in preference order (quality, then position), without '*' and q=0. */
export function acceptLanguageTags(header: string | null | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((part, i) => {
      const [tag, ...ps] = part.trim().split(';');
      const q = ps.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: (tag ?? '').trim(), q: q ? Number(q.slice(2)) : 1, i };
    })
    .filter((x) => x.tag && x.tag !== '*' && Number.isFinite(x.q) && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((x) => x.tag);
}

/**
 * The language to show issues in: the first of `preferred` (e.g. the account's locale) that is
 * supported, else the best supported language of the Accept-Language header, else English.
 */
export function chooseIssueLocale(preferred: (string | null | undefined)[], acceptLanguage?: string | null): string {
  for (const p of [...preferred, ...acceptLanguageTags(acceptLanguage)]) {
    const m = matchIssueLocale(p);
    if (m) return m;
  }
  return SOURCE_LOCALE;
}

export function issueLocaleDir(tag: string): 'ltr' | 'rtl' {
  return RTL.has(tag.split('-')[0]!.toLowerCase()) ? 'rtl' : 'ltr';
}

/** The key of an issue's message in the catalogs. */
export function issueKey(issue: Pick<BundleIssue, 'code' | 'params'>): string {
  const v = issue.params?.variant;
  return v ? `${issue.code}.${v}` : issue.code;
}

function fill(template: string, params: IssueParams): string | null {
  let missing = false;
  const out = template.replace(/\{(\w+)\}/g, (_all, k: string) => {
    if (!(k in params)) {
      missing = true;
      return '';
    }
    return String(params[k]);
  });
  return missing ? null : out;
}

/**
 * The issue's message in `locale` (a tag from chooseIssueLocale): the translation filled with its
 * params, or the English message when there is no (current) translation or a parameter is missing.
 */
export function localizeIssue(issue: Pick<BundleIssue, 'code' | 'message' | 'params'>, locale: string): string {
  if (locale === SOURCE_LOCALE) return issue.message;
  ensureLoaded();
  const cat = catalogs.get(locale);
  if (!cat) return issue.message;
  const variant = issue.params?.variant;
  const template = cat.messages.get(issueKey(issue)) ?? (variant ? cat.messages.get(`*.${variant}`) : undefined);
  if (!template) return issue.message;
  return fill(template, issue.params ?? {}) ?? issue.message;
}

/** Issues with `message_localized` added (the English `message` is kept as it is). */
export function localizeIssues<T extends Pick<BundleIssue, 'code' | 'message' | 'params'>>(
  issues: readonly T[],
  locale: string,
): (T & { message_localized: string })[] {
  return issues.map((i) => ({ ...i, message_localized: localizeIssue(i, locale) }));
}

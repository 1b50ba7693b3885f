// inspectBundle(): the whole check of one uploaded .xo/.xol file, in the order Sugar itself
// would fail, then the extra safety checks. Orchestration only; the rules live in the other
// files of this folder.

import { extname } from 'node:path';
import { IssueList } from './errors.js';
import type { BundleIssue } from './errors.js';
import { parseActivityInfo } from './info.js';
import type { ActivityInfo } from './info.js';
import { parseLibraryInfo } from './content.js';
import type { LibraryInfo } from './content.js';
import { isLocaleDirName, parseLinfo } from './linfo.js';
import type { LocalizedMetadata } from './linfo.js';
import { renderIcon } from './icon.js';
import { sanitizeDescription } from './sanitize.js';
import { decodeUtf8 } from './text.js';
import { runtimeFromExec } from './runtime.js';
import type { Runtime } from './runtime.js';
import { normalizeSugarVersion, parseSugarVersion, sugarVersionSortKey } from './version.js';
import { DEFAULT_LIMITS, openBundleZip, readEntry, verifyEntries, ZipEntryError } from './zip.js';
import type { BundleLimits, BundleZip, ZipEntryInfo } from './zip.js';

export interface BundleFile {
  /** Path relative to the root folder (files only; directories and `mimetype` are omitted). */
  path: string;
  size: number;
  compressed_size: number;
}

export interface BundleMetadata {
  bundle_id: string;
  name: string;
  /** As written in the info file (configparser-stripped, interpolated). "0" when absent. */
  version: string;
  /** Numeric parts with trailing zero parts dropped, suffix removed: "1.2.0-peru" -> "1.2". */
  version_normalized: string;
  /** Sorts (byte order) exactly like Sugar's NormalizedVersion comparison; see version.ts. */
  version_sort_key: string;
  exec: string | null;
  runtime: Runtime;
  /** Icon name as declared (activity: basename of activity/<icon>.svg; content: file under library/). */
  icon: string | null;
  /** Sanitized SVG with colours resolved, safe to serve as image/svg+xml; null if absent/unusable. */
  icon_svg: string | null;
  license: string[];
  summary: string | null;
  /** Sanitized to p/ul/ol/li, text escaped. */
  description: string | null;
  tags: string[];
  mime_types: string[];
  max_participants: number | null;
  url: string | null;
  repository: string | null;
  /** Translations by locale folder name (verbatim, e.g. pt_BR); see linfo.ts. */
  locales: Record<string, LocalizedMetadata>;
  root: string;
  /** Content bundles: the start page, relative to the root. */
  activity_start?: string;
  /** Content bundles: the `locale` key of library.info. */
  content_locale?: string | null;
  files: BundleFile[];
  /** NEWS at the root, if present and readable as UTF-8. */
  news?: string | null;
}

export interface InspectResult {
  ok: boolean;
  kind: 'activity' | 'content';
  metadata: BundleMetadata | null;
  errors: BundleIssue[];
  warnings: BundleIssue[];
}

export interface InspectOptions {
  limits?: Partial<BundleLimits>;
  /** The name the file was uploaded as; its extension (.xo/.xol) is a hint. Defaults to `path`. */
  fileName?: string;
  /**
   * Inflate every entry to check sizes and CRCs (default true), so a bundle that Sugar's unzip
   * would fail on is refused at upload. Costs one decompression pass; set false for a quick look.
   */
  verifyData?: boolean;
}

/** Read caps for the files we load into memory. Bigger ones are refused or skipped. */
export const READ_CAPS = {
  info: 256 * 1024,
  linfo: 64 * 1024,
  icon: 1024 * 1024,
  news: 256 * 1024,
  /** At most this many linfo files are read (more is certainly not a real bundle). */
  linfoCount: 1000,
};

const ACTIVITY_INFO = 'activity/activity.info';
const LIBRARY_INFO = 'library/library.info';

export async function inspectBundle(path: string, opts: InspectOptions = {}): Promise<InspectResult> {
  const limits = resolveLimits(opts.limits);
  const issues = new IssueList();
  const ext = extname(opts.fileName ?? path).toLowerCase();
  let kind: InspectResult['kind'] = ext === '.xol' ? 'content' : 'activity';
  const result = (metadata: BundleMetadata | null): InspectResult => ({
    ok: !issues.hasErrors,
    kind,
    metadata,
    errors: issues.errors,
    warnings: issues.warnings,
  });

  const bz = await openBundleZip(path, limits, issues);
  if (!bz) return result(null);
  try {
    const root = bz.root;
    if (root === null) return result(null);
    const at = (rel: string) => bz.byName.get(`${root}/${rel}`);
    const hasActivity = at(ACTIVITY_INFO) !== undefined;
    const hasLibrary = at(LIBRARY_INFO) !== undefined;
    if (hasActivity) kind = 'activity';
    else if (hasLibrary) kind = 'content';
    if ((ext === '.xo' && kind === 'content') || (ext === '.xol' && kind === 'activity' && hasActivity)) {
      issues.add(
        'BUNDLE_KIND_MISMATCH',
        `the file is named ${ext} but holds ${kind === 'content' ? 'a content bundle (library/library.info)' : 'an activity (activity/activity.info)'}; it is treated as ${kind === 'content' ? '.xol' : '.xo'}. Sugar picks the installer by extension, so rename it`,
        null,
        null,
        { variant: kind, ext },
      );
    }
    if (kind === 'activity' && !(root.endsWith('.activity') && root.length > '.activity'.length)) {
      issues.add(
        'BUNDLE_ROOT_SUFFIX',
        `the root folder "${root}" must end in ".activity" (e.g. MyActivity.activity/); Sugar refuses other names`,
        bz.entries[0]?.name ?? null,
        null,
        { root },
      );
    }
    const infoRel = kind === 'activity' ? ACTIVITY_INFO : LIBRARY_INFO;
    const infoEntry = at(infoRel);
    if (!infoEntry || infoEntry.isDirectory) {
      const near = [...bz.byName.keys()].find((k) => k.toLowerCase() === `${root}/${infoRel}`.toLowerCase());
      issues.add(
        'BUNDLE_MISSING_INFO',
        `${root}/${infoRel} is missing${near ? ` (found ${near}: names are case-sensitive)` : ''}; every ${kind === 'activity' ? 'activity' : 'content'} bundle needs it`,
        `${root}/${infoRel}`,
        null,
        near ? { variant: 'near', path: `${root}/${infoRel}`, near } : { path: `${root}/${infoRel}` },
      );
      return result(null);
    }

    const read = new Set<ZipEntryInfo>();
    const load = async (info: ZipEntryInfo): Promise<Buffer | null> => {
      read.add(info);
      try {
        return await readEntry(bz, info);
      } catch (e) {
        if (e instanceof ZipEntryError) {
          issues.add(e.code, e.message, info.name, null, e.params);
          return null;
        }
        throw e;
      }
    };

    if (infoEntry.size > READ_CAPS.info) {
      issues.add('INFO_TOO_LARGE', `${infoRel} is ${infoEntry.size} bytes; at most ${READ_CAPS.info} are read`, infoEntry.name, null, {
        path: infoRel,
        size: infoEntry.size,
        max: READ_CAPS.info,
      });
      return result(null);
    }
    const infoBuf = await load(infoEntry);
    if (!infoBuf) return result(null);

    let metadata: BundleMetadata | null;
    if (kind === 'activity') {
      const info = parseActivityInfo(infoBuf, infoEntry.name, issues);
      metadata = info && (await activityMetadata(bz, root, info, issues, load));
    } else {
      const info = parseLibraryInfo(infoBuf, infoEntry.name, issues);
      metadata = info && (await contentMetadata(bz, root, info, issues, load));
    }
    if (metadata) metadata.news = await readNews(bz, root, issues, load);

    // Inflating everything is pointless (and the work is what a bomb wants) once the declared
    // sizes are already over the limits.
    const oversized = issues.errors.some((e) => e.code === 'BUNDLE_ZIP_TOO_LARGE' || e.code === 'BUNDLE_ZIP_RATIO');
    if (opts.verifyData !== false && !oversized) await verifyEntries(bz, issues, read);
    return result(metadata);
  } finally {
    bz.close();
  }
}

type Loader = (info: ZipEntryInfo) => Promise<Buffer | null>;

/** Defaults for every limit not given as a positive number (an `undefined` must not mean "no limit"). */
function resolveLimits(given: Partial<BundleLimits> | undefined): BundleLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(out) as (keyof BundleLimits)[]) {
    const v = given?.[key];
    if (typeof v === 'number' && v > 0) out[key] = v;
  }
  return out;
}

function versionFields(version: string) {
  const v = parseSugarVersion(version).valid ? version : '0';
  return { version, version_normalized: normalizeSugarVersion(v), version_sort_key: sugarVersionSortKey(v) };
}

function fileList(bz: BundleZip, root: string): BundleFile[] {
  const prefix = `${root}/`;
  return bz.entries
    .filter((e) => !e.isDirectory)
    .map((e) => ({ path: e.name.startsWith(prefix) ? e.name.slice(prefix.length) : e.name, size: e.size, compressed_size: e.compressedSize }));
}

/** A relative path inside the bundle that cannot escape it. */
function isSafeRelative(p: string): boolean {
  return p !== '' && !p.startsWith('/') && !p.includes('\\') && !/[\x00-\x1f]/.test(p) && !p.split('/').some((s) => s === '..' || s === '');
}

async function activityMetadata(bz: BundleZip, root: string, info: ActivityInfo, issues: IssueList, load: Loader): Promise<BundleMetadata> {
  return {
    bundle_id: info.bundle_id ?? '',
    name: info.name ?? '',
    ...versionFields(info.version),
    exec: info.exec,
    runtime: runtimeFromExec(info.exec),
    icon: info.icon,
    icon_svg: info.icon === null ? null : await loadIcon(bz, root, `activity/${info.icon}.svg`, info.icon, issues, load),
    license: info.license,
    summary: info.summary,
    description: info.description === null ? null : sanitizeDescription(info.description),
    tags: info.tags,
    mime_types: info.mime_types,
    max_participants: info.max_participants,
    url: info.url,
    repository: info.repository,
    locales: await loadLocales(bz, root, issues, load),
    root,
    files: fileList(bz, root),
  };
}

async function contentMetadata(bz: BundleZip, root: string, info: LibraryInfo, issues: IssueList, load: Loader): Promise<BundleMetadata> {
  let iconSvg: string | null = null;
  if (info.icon !== null && info.icon !== '') {
    // Sugar: library/<icon>, with ".svg" appended when the name has no extension.
    const hasExt = extname(info.icon) !== '';
    const rel = `library/${info.icon}${hasExt ? '' : '.svg'}`;
    if (rel.toLowerCase().endsWith('.svg')) iconSvg = await loadIcon(bz, root, rel, info.icon, issues, load);
    else if (!bz.byName.has(`${root}/${rel}`))
      issues.add('ICON_MISSING', `the icon file ${rel} is not in the bundle; Sugar shows a generic icon`, `${root}/${rel}`, null, { path: rel });
    else issues.add('ICON_NOT_SVG', `the icon ${rel} is not an SVG; it is not shown on the web site`, `${root}/${rel}`);
  }
  const start = info.activity_start;
  const startEntry = bz.byName.get(`${root}/${start}`);
  if (!isSafeRelative(start) || !startEntry || startEntry.isDirectory) {
    issues.add(
      'CONTENT_MISSING_START_PAGE',
      `the start page ${JSON.stringify(start)} (activity_start, default index.html) is not a file in the bundle; Sugar refuses the bundle`,
      `${root}/${LIBRARY_INFO}`,
      null,
      { start },
    );
  }
  return {
    bundle_id: info.bundle_id ?? '',
    name: info.name ?? '',
    ...versionFields(info.version),
    exec: null,
    runtime: 'other',
    icon: info.icon,
    icon_svg: iconSvg,
    license: info.license,
    summary: info.summary,
    description: null,
    tags: info.tags,
    mime_types: [],
    max_participants: null,
    url: info.url,
    repository: null,
    locales: {},
    root,
    activity_start: start,
    content_locale: info.locale,
    files: fileList(bz, root),
  };
}

async function loadIcon(bz: BundleZip, root: string, rel: string, declared: string, issues: IssueList, load: Loader): Promise<string | null> {
  const name = `${root}/${rel}`;
  if (!isSafeRelative(rel)) {
    issues.add('ICON_BAD_NAME', `icon ${JSON.stringify(declared)} does not name a file inside the bundle`, null);
    return null;
  }
  const entry = bz.byName.get(name);
  if (!entry || entry.isDirectory) {
    issues.add('ICON_MISSING', `the icon file ${rel} is not in the bundle; Sugar shows a generic icon. Add it or fix the icon key`, name, null, { path: rel });
    return null;
  }
  if (entry.size > READ_CAPS.icon) {
    issues.add('ICON_TOO_LARGE', `the icon ${rel} is ${entry.size} bytes; icons over ${READ_CAPS.icon} bytes are not shown on the web site`, name);
    return null;
  }
  const buf = await load(entry);
  if (!buf) return null;
  const text = decodeUtf8(buf);
  if (!text.ok) {
    issues.add('ICON_INVALID_SVG', `the icon ${rel} is not UTF-8 text (line ${text.line}); it is not shown on the web site`, name, text.line);
    return null;
  }
  const r = renderIcon(text.text.replace(/^\uFEFF/, ''));
  if (r.svg === null) {
    issues.add('ICON_INVALID_SVG', `the icon ${rel} cannot be used: ${r.error}`, name);
    return null;
  }
  if (r.removed.length > 0) {
    issues.add('ICON_UNSAFE_CONTENT', `removed from the icon ${rel} for the web site: ${r.removed.join('; ')}`, name);
  }
  return r.svg;
}

async function loadLocales(bz: BundleZip, root: string, issues: IssueList, load: Loader): Promise<Record<string, LocalizedMetadata>> {
  const locales: Record<string, LocalizedMetadata> = {};
  const candidates = bz.entries
    .map((e) => ({ e, parts: e.name.split('/') }))
    .filter(({ e, parts }) => !e.isDirectory && parts.length === 4 && parts[0] === root && parts[1] === 'locale' && parts[3] === 'activity.linfo')
    .sort((a, b) => (a.parts[2] < b.parts[2] ? -1 : a.parts[2] > b.parts[2] ? 1 : 0));
  let count = 0;
  for (const { e, parts } of candidates) {
    const lang = parts[2];
    if (!isLocaleDirName(lang)) {
      issues.add(
        'LINFO_UNKNOWN_LOCALE',
        `locale folder "${lang}" is not a gettext locale name (like es, pt_BR, sr@latin), so Sugar never reads it; the file is ignored`,
        e.name,
      );
      continue;
    }
    if (++count > READ_CAPS.linfoCount) {
      issues.add('LINFO_TOO_MANY', `more than ${READ_CAPS.linfoCount} activity.linfo files; the rest are ignored`, null);
      break;
    }
    if (e.size > READ_CAPS.linfo) {
      issues.add('LINFO_TOO_LARGE', `${e.name} is ${e.size} bytes; linfo files over ${READ_CAPS.linfo} bytes are ignored`, e.name);
      continue;
    }
    const buf = await load(e);
    if (!buf) continue;
    const parsed = parseLinfo(buf, e.name, lang, issues);
    if (parsed) locales[lang] = parsed;
  }
  return locales;
}

async function readNews(bz: BundleZip, root: string, issues: IssueList, load: Loader): Promise<string | null> {
  const entry = bz.byName.get(`${root}/NEWS`);
  if (!entry || entry.isDirectory) return null;
  if (entry.size > READ_CAPS.news) {
    issues.add('NEWS_TOO_LARGE', `NEWS is ${entry.size} bytes; only files up to ${READ_CAPS.news} bytes are shown`, entry.name);
    return null;
  }
  const buf = await load(entry);
  if (!buf) return null;
  const text = decodeUtf8(buf);
  if (!text.ok) {
    issues.add('NEWS_ENCODING', `NEWS is not valid UTF-8 (line ${text.line}); it is not shown`, entry.name, text.line);
    return null;
  }
  return text.text;
}

// activity/activity.info: the key rules of Sugar's ActivityBundle._parse_info
// (sugar3/bundle/activitybundle.py), applied to a document read like configparser reads it.
// Keys Sugar reads go through interpolation as errors-are-fatal (see SectionReader).

import { IssueList } from './errors.js';
import type { IniDocument } from './ini.js';
import { isPyWhitespace, pyStrip } from './ini.js';
import { INI_PROBLEM_CODES, INI_PROBLEM_HINTS, loadInfoFile, SectionReader, splitList } from './infofile.js';
import { isGtk2Suffix, parseSugarVersion } from './version.js';

export interface ActivityInfo {
  bundle_id: string | null;
  name: string | null;
  version: string;
  exec: string | null;
  icon: string | null;
  license: string[];
  summary: string | null;
  /** Raw description (HTML subset, not yet sanitized). */
  description: string | null;
  tags: string[];
  mime_types: string[];
  max_participants: number | null;
  url: string | null;
  repository: string | null;
}

export const ACTIVITY_SECTION = 'Activity';

/** Reports the reader problems of an info file with the INFO_* codes. */
export function reportInfoProblems(problems: ReturnType<typeof loadInfoFile>['problems'], file: string, issues: IssueList): void {
  for (const p of problems) issues.add(INI_PROBLEM_CODES[p.kind], `${p.message}${INI_PROBLEM_HINTS[p.kind]}`, file, p.line, p.params);
}

/** The params of an INFO_NO_SECTION issue: the section, and a near miss when there is one. */
export function sectionParams(doc: IniDocument, wanted: string): { section: string; variant?: string; found?: string } {
  for (const name of doc.sections.keys()) {
    if (name.trim().toLowerCase() === wanted.toLowerCase()) return { variant: 'found', section: wanted, found: name };
  }
  return { section: wanted };
}

/** Looks for a section whose name differs only in case or spaces, to give a useful hint. */
export function sectionHint(doc: IniDocument, wanted: string): string {
  for (const name of doc.sections.keys()) {
    if (name.trim().toLowerCase() === wanted.toLowerCase()) return ` (found [${name}]: section names are case- and space-sensitive)`;
  }
  return '';
}

/**
 * Checks a bundle id. Sugar itself only refuses a space; we also refuse other whitespace,
 * slashes, control characters and ids longer than 255 bytes, because the id becomes a folder
 * name (~/.sugar/default/<bundle_id>) and a URL segment. Odd but harmless ids (no dot, hyphens,
 * non-ASCII letters) are accepted with a warning.
 */
export function checkBundleId(id: string, file: string, line: number | null, issues: IssueList, key: string): boolean {
  const bad = (why: string, variant: string) => {
    issues.add('INFO_BAD_BUNDLE_ID', `${key} ${JSON.stringify(id)} ${why}`, file, line, { variant, key, id });
    return false;
  };
  if (id === '') return bad('is empty; use a reverse-DNS id like org.sugarlabs.MyActivity', 'empty');
  if ([...id].some(isPyWhitespace)) return bad('contains whitespace, which Sugar refuses; use a reverse-DNS id like org.sugarlabs.MyActivity', 'whitespace');
  if (/[/\\]/.test(id)) return bad('contains a slash; the id is used as a folder name', 'slash');
  if (/[\x00-\x1f\x7f]/.test(id)) return bad('contains control characters', 'control');
  if (Buffer.byteLength(id, 'utf8') > 255) return bad('is longer than 255 bytes', 'long');
  if (!/^[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)+$/u.test(id)) {
    issues.add(
      'INFO_BUNDLE_ID_STYLE',
      `${key} ${JSON.stringify(id)} is not a reverse-DNS name (like org.sugarlabs.MyActivity); Sugar accepts it, but it can never be changed later`,
      file,
      line,
      { key, id },
    );
  }
  if (/[^\x00-\x7f]/.test(id)) {
    issues.add(
      'INFO_BUNDLE_ID_NON_ASCII',
      `${key} ${JSON.stringify(id)} contains non-ASCII characters; some tools and file systems mishandle them`,
      file,
      line,
      { key, id },
    );
  }
  return true;
}

/** Validates a version value and adds the portability warnings; returns it if valid. */
export function checkVersion(value: string, key: string, file: string, line: number | null, issues: IssueList): boolean {
  const v = parseSugarVersion(value);
  if (!v.valid) {
    issues.add('INFO_BAD_VERSION', `${key} ${JSON.stringify(value)} is not a valid Sugar version: ${v.reason}. Sugar refuses the bundle`, file, line, {
      key,
      value,
      reason: v.reason ?? '',
    });
    return false;
  }
  if (!v.portable) {
    issues.add('VERSION_NOT_PORTABLE', `${key} ${JSON.stringify(value)} is not a plain integer; Sugar older than 0.92 cannot read such versions`, file, line, {
      key,
      value,
    });
  }
  if (!isGtk2Suffix(v.suffix)) {
    issues.add(
      'VERSION_SUFFIX_GTK2',
      `${key} ${JSON.stringify(value)} has the suffix ${JSON.stringify(v.suffix)}; the old GTK2 toolkit only accepts "-" followed by letters`,
      file,
      line,
      { key, value, suffix: v.suffix ?? '' },
    );
  }
  return true;
}

/** Python's int() on a string: optional sign, digits with single underscores, whitespace around. */
export function parsePythonInt(s: string): number | null {
  const t = pyStrip(s);
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return null;
  const n = Number(t.replace(/_/g, ''));
  return Number.isSafeInteger(n) ? n : null;
}

function uniq(xs: string[]): string[] {
  return [...new Set(xs)];
}

export function parseActivityInfo(buf: Uint8Array, file: string, issues: IssueList): ActivityInfo | null {
  const loaded = loadInfoFile(buf);
  reportInfoProblems(loaded.problems, file, issues);
  if (!loaded.doc) return null;
  const doc = loaded.doc;

  const info: ActivityInfo = {
    bundle_id: null,
    name: null,
    version: '0',
    exec: null,
    icon: null,
    license: [],
    summary: null,
    description: null,
    tags: [],
    mime_types: [],
    max_participants: null,
    url: null,
    repository: null,
  };
  if (!doc.sections.has(ACTIVITY_SECTION)) {
    issues.add(
      'INFO_NO_SECTION',
      `there is no [${ACTIVITY_SECTION}] section${sectionHint(doc, ACTIVITY_SECTION)}; Sugar reads every key from it and refuses the bundle`,
      file,
      null,
      sectionParams(doc, ACTIVITY_SECTION),
    );
    return info;
  }
  const r = new SectionReader(doc, ACTIVITY_SECTION, file, issues);

  // bundle_id, or the pre-0.86 service_name
  if (r.has('bundle_id')) {
    info.bundle_id = r.get('bundle_id', true) ?? null;
    if (r.has('service_name')) {
      const legacy = r.get('service_name', false);
      if (legacy !== undefined && info.bundle_id !== null && legacy !== info.bundle_id) {
        issues.add(
          'INFO_BUNDLE_ID_CONFLICT',
          `bundle_id ${JSON.stringify(info.bundle_id)} and the legacy service_name ${JSON.stringify(legacy)} differ; Sugar uses bundle_id. Remove service_name`,
          file,
          r.line('service_name'),
          { bundle_id: info.bundle_id, service_name: legacy },
        );
      }
    }
  } else if (r.has('service_name')) {
    info.bundle_id = r.get('service_name', true) ?? null;
    issues.add('INFO_LEGACY_KEY', 'service_name is deprecated; rename it to bundle_id (Sugar still reads it)', file, r.line('service_name'), {
      variant: 'service_name',
    });
  } else {
    issues.add('INFO_MISSING_BUNDLE_ID', 'there is no bundle_id key (e.g. bundle_id = org.sugarlabs.MyActivity); Sugar refuses the bundle', file, null);
  }
  if (info.bundle_id !== null) {
    const key = r.has('bundle_id') ? 'bundle_id' : 'service_name';
    if (!checkBundleId(info.bundle_id, file, r.line(key), issues, key)) info.bundle_id = null;
  }

  if (r.has('name')) {
    info.name = r.get('name', true) ?? null;
    if (info.name === '') {
      issues.add('INFO_EMPTY_NAME', 'name is empty; give the activity a display name', file, r.line('name'));
      info.name = null;
    }
  } else {
    issues.add('INFO_MISSING_NAME', 'there is no name key (the display name); Sugar refuses the bundle', file, null);
  }

  // exec, or the pre-0.86 class (which means "sugar-activity <class>")
  if (r.has('exec')) {
    info.exec = r.get('exec', true) ?? null;
  } else if (r.has('class')) {
    const cls = r.get('class', true);
    if (cls !== undefined) info.exec = `sugar-activity ${cls}`;
    issues.add('INFO_LEGACY_KEY', 'class is deprecated; write exec = sugar-activity <module.Class> instead (Sugar still reads it)', file, r.line('class'), {
      variant: 'class',
    });
  } else {
    issues.add(
      'INFO_MISSING_EXEC',
      'there is no exec key (e.g. exec = sugar-activity3 activity.MyActivity, or sugar-activity-web); Sugar refuses the bundle',
      file,
      null,
    );
  }
  if (info.exec !== null && pyStrip(info.exec) === '') {
    issues.add('INFO_EMPTY_EXEC', 'exec is empty; Sugar would have nothing to start', file, r.line(r.has('exec') ? 'exec' : 'class'));
    info.exec = null;
  }

  info.mime_types = splitList(r.get('mime_types', true));
  r.get('show_launcher', true);
  r.get('single_instance', true);
  // Sugar reads only `tags`; older bundles say category/categories, which we keep as tags too.
  info.tags = uniq([...splitList(r.get('tags', true)), ...splitList(r.get('categories', false)), ...splitList(r.get('category', false))]);

  if (r.has('icon')) info.icon = r.get('icon', true) ?? null;
  else issues.add('INFO_NO_ICON', 'there is no icon key; Sugar shows a generic icon. Add icon = <name> for the file activity/<name>.svg', file, null);

  if (r.has('activity_version')) {
    const v = r.get('activity_version', true);
    if (v !== undefined && checkVersion(v, 'activity_version', file, r.line('activity_version'), issues)) info.version = v;
  } else {
    issues.add('INFO_NO_VERSION', 'there is no activity_version; Sugar assumes 0. Add activity_version = 1', file, null, { key: 'activity_version' });
  }

  info.summary = r.get('summary', true) ?? null;
  info.description = r.get('description', true) ?? null;

  if (r.has('max_participants')) {
    const raw = r.get('max_participants', true);
    if (raw !== undefined) {
      const n = parsePythonInt(raw);
      if (n === null) {
        issues.add(
          'INFO_BAD_MAX_PARTICIPANTS',
          `max_participants ${JSON.stringify(raw)} is not an integer; Sugar refuses the bundle`,
          file,
          r.line('max_participants'),
          { value: raw },
        );
      } else {
        info.max_participants = n;
        if (n < 0) {
          issues.add(
            'INFO_ODD_MAX_PARTICIPANTS',
            `max_participants is negative (${n}); use 1 for an activity that cannot be shared`,
            file,
            r.line('max_participants'),
            { value: n },
          );
        }
      }
    }
  }

  if (r.has('license')) info.license = splitList(r.get('license', false));
  else issues.add('INFO_NO_LICENSE', 'there is no license key; add e.g. license = GPL-3.0-or-later', file, null);

  // Not read by Sugar; `homepage`/`website` are what 0sugar-style and some hand-written files use.
  info.url = r.get('url', false) ?? r.get('homepage', false) ?? r.get('website', false) ?? null;
  info.repository = r.get('repository', false) ?? null;

  r.checkRemaining();
  return info;
}

// library/library.info of a content bundle (.xol), section [Library], following Sugar's
// ContentBundle (sugar3/bundle/contentbundle.py):
//  * name and global_name are required; global_name is the bundle id;
//  * library_version follows the version rules (default 0);
//  * activity_start (default index.html) is a path relative to the bundle root and must exist;
//  * icon is a file under library/, ".svg" appended when it has no extension;
//  * locale is informational;
//  * quirk kept from Sugar: when global_name is given AND bundle_class is too, Sugar uses
//    bundle_class as the id (the compatibility code tests the wrong condition). We do the same,
//    with a warning.
// Sugar reads library.info with Python 2's ConfigParser, which tolerates duplicate keys; we apply
// the same strict reader as for activity.info (a duplicate is refused), which is safer and what
// every current tool expects.

import { IssueList } from './errors.js';
import { ACTIVITY_SECTION, checkBundleId, checkVersion, reportInfoProblems, sectionHint, sectionParams } from './info.js';
import { loadInfoFile, SectionReader, splitList } from './infofile.js';

export interface LibraryInfo {
  bundle_id: string | null;
  name: string | null;
  version: string;
  icon: string | null;
  activity_start: string;
  locale: string | null;
  license: string[];
  summary: string | null;
  tags: string[];
  url: string | null;
}

export const LIBRARY_SECTION = 'Library';

export function parseLibraryInfo(buf: Uint8Array, file: string, issues: IssueList): LibraryInfo | null {
  const loaded = loadInfoFile(buf);
  reportInfoProblems(loaded.problems, file, issues);
  if (!loaded.doc) return null;
  const doc = loaded.doc;
  const info: LibraryInfo = {
    bundle_id: null,
    name: null,
    version: '0',
    icon: null,
    activity_start: 'index.html',
    locale: null,
    license: [],
    summary: null,
    tags: [],
    url: null,
  };
  if (!doc.sections.has(LIBRARY_SECTION)) {
    const also = doc.sections.has(ACTIVITY_SECTION) ? ' (this looks like an activity.info)' : '';
    issues.add(
      'INFO_NO_SECTION',
      `there is no [${LIBRARY_SECTION}] section${sectionHint(doc, LIBRARY_SECTION)}${also}; Sugar refuses the bundle`,
      file,
      null,
      sectionParams(doc, LIBRARY_SECTION),
    );
    return info;
  }
  const r = new SectionReader(doc, LIBRARY_SECTION, file, issues);

  if (r.has('name')) {
    info.name = r.get('name', true) ?? null;
    if (info.name === '') {
      issues.add('INFO_EMPTY_NAME', 'name is empty; give the content bundle a display name', file, r.line('name'));
      info.name = null;
    }
  } else {
    issues.add('INFO_MISSING_NAME', 'there is no name key; Sugar refuses the bundle', file, null);
  }

  if (r.has('library_version')) {
    const v = r.get('library_version', true);
    if (v !== undefined && checkVersion(v, 'library_version', file, r.line('library_version'), issues)) info.version = v;
  } else {
    issues.add('INFO_NO_VERSION', 'there is no library_version; Sugar assumes 0. Add library_version = 1', file, null, { key: 'library_version' });
  }

  info.locale = r.get('locale', true) ?? null;
  const globalName = r.get('global_name', true);
  if (r.has('icon')) info.icon = r.get('icon', true) ?? null;
  let idKey = 'global_name';
  if (globalName !== undefined && r.has('bundle_class')) {
    const cls = r.get('bundle_class', true);
    if (cls !== undefined) {
      info.bundle_id = cls;
      idKey = 'bundle_class';
      issues.add(
        'CONTENT_BUNDLE_CLASS',
        `bundle_class ${JSON.stringify(cls)} is present, so Sugar uses it as the id instead of global_name; remove bundle_class`,
        file,
        r.line('bundle_class'),
      );
    }
  } else if (globalName !== undefined) {
    info.bundle_id = globalName;
  }
  if (r.has('activity_start')) info.activity_start = r.get('activity_start', true) ?? info.activity_start;
  if (!r.has('global_name')) {
    issues.add('CONTENT_MISSING_GLOBAL_NAME', 'there is no global_name key (the id, e.g. org.laptop.MyLibrary); Sugar refuses the bundle', file, null);
  }
  if (info.bundle_id !== null && !checkBundleId(info.bundle_id, file, r.line(idKey), issues, idKey)) info.bundle_id = null;

  info.license = splitList(r.get('license', false));
  info.summary = r.get('summary', false) ?? r.get('long_name', false) ?? null;
  info.tags = [...new Set([...splitList(r.get('tags', false)), ...splitList(r.get('category', false)), ...splitList(r.get('categories', false))])];
  info.url = r.get('url', false) ?? null;
  r.checkRemaining();
  return info;
}

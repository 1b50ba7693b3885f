// Shared plumbing for the three INI-format files (activity.info, library.info, activity.linfo):
// bytes -> text exactly as Sugar decodes them, then the configparser-compatible reader, then
// interpolated key access that reports failures as issues.

import type { IssueCode, IssueParams } from './errors.js';
import { IssueList } from './errors.js';
import type { IniDocument, IniErrorKind } from './ini.js';
import { getInterpolated, getRaw, hasOption, optionNames, parseIni, pyStrip } from './ini.js';
import { decodeUtf8, hasUtf8Bom } from './text.js';

export type InfoProblemKind = 'encoding' | 'bom' | 'line-ending' | IniErrorKind;

export interface InfoProblem {
  kind: InfoProblemKind;
  line: number | null;
  message: string;
  params?: IssueParams;
}

export interface LoadedInfo {
  /** Null only when the bytes are not UTF-8 (nothing trustworthy can be read then). */
  doc: IniDocument | null;
  problems: InfoProblem[];
}

/**
 * Sugar reads these files as UTF-8 text (Python's 'utf-8' codec: invalid bytes are an error and a
 * BOM is kept as U+FEFF, which then makes configparser fail with MissingSectionHeaderError on
 * line 1). We report a BOM with its own problem kind because "remove the BOM" is the fix; the
 * document is still parsed without it so partial metadata can be shown.
 */
export function loadInfoFile(buf: Uint8Array): LoadedInfo {
  const problems: InfoProblem[] = [];
  const decoded = decodeUtf8(buf);
  if (!decoded.ok) {
    problems.push({
      kind: 'encoding',
      line: decoded.line,
      message: `byte ${decoded.byteOffset} (line ${decoded.line}) is not valid UTF-8; Sugar reads this file as UTF-8 and fails on it. Save the file as UTF-8`,
      params: { byte: decoded.byteOffset, line: decoded.line },
    });
    return { doc: null, problems };
  }
  let text = decoded.text;
  if (hasUtf8Bom(buf)) {
    problems.push({
      kind: 'bom',
      line: 1,
      message: 'the file starts with a UTF-8 byte-order mark (BOM); Sugar then cannot find the first [section] header and fails. Save it as UTF-8 without BOM',
    });
    text = text.slice(1);
  }
  // A lone CR (old Mac line ending) is not a line break for configparser's read_string(), but it
  // is one for Python's text-mode open(), which Sugar uses on installed bundles: the same file
  // would read differently before and after installation, so it is refused.
  const cr = /\r(?!\n)/.exec(text);
  if (cr) {
    const line = text.slice(0, cr.index).split('\n').length;
    problems.push({
      kind: 'line-ending',
      line,
      message: `line ${line} contains a carriage return not followed by a line feed (old Mac line ending); Sugar reads such files inconsistently. Save the file with LF or CRLF line endings`,
      params: { variant: 'line-ending', line },
    });
  }
  const doc = parseIni(text);
  for (const e of doc.errors) problems.push({ kind: e.kind, line: e.line, message: e.message, ...(e.params ? { params: e.params } : {}) });
  return { doc, problems };
}

export const INI_PROBLEM_CODES: Record<InfoProblemKind, IssueCode> = {
  encoding: 'INFO_ENCODING',
  bom: 'INFO_BOM',
  'line-ending': 'INFO_PARSE_ERROR',
  'missing-section-header': 'INFO_MISSING_SECTION_HEADER',
  parse: 'INFO_PARSE_ERROR',
  'duplicate-section': 'INFO_DUPLICATE_SECTION',
  'duplicate-option': 'INFO_DUPLICATE_KEY',
};

/** Explains, per problem kind, what Sugar does with such a file (appended to messages). */
export const INI_PROBLEM_HINTS: Record<InfoProblemKind, string> = {
  encoding: '',
  bom: '',
  'line-ending': '',
  'missing-section-header': '; the file must start with a [section] header line (comments and blank lines may come first)',
  parse: '; every line must be "key = value", a [section] header, a comment (# or ;) or an indented continuation of the previous value',
  'duplicate-section': "; Python's configparser (strict mode, as Sugar uses it) refuses the whole file: merge the two sections",
  'duplicate-option': "; Python's configparser (strict mode, as Sugar uses it) refuses the whole file: keep only one",
};

/**
 * Interpolated access to one section. `get(key, true)` is for keys Sugar itself reads: an
 * interpolation failure there is an error, because Sugar's ConfigParser.get() raises and the
 * bundle fails to load. Other keys fall back to their raw value with a warning.
 */
export class SectionReader {
  private reported = new Set<string>();

  constructor(
    readonly doc: IniDocument,
    readonly section: string,
    readonly file: string,
    private issues: IssueList,
  ) {}

  has(key: string): boolean {
    return hasOption(this.doc, this.section, key);
  }

  line(key: string): number | null {
    return getRaw(this.doc, this.section, key)?.line ?? null;
  }

  get(key: string, sugarReads: boolean): string | undefined {
    if (!this.has(key)) return undefined;
    const r = getInterpolated(this.doc, this.section, key)!;
    if (r.ok) return r.value;
    this.reported.add(key);
    if (sugarReads) {
      const code: IssueCode =
        r.kind === 'missing' ? 'INFO_INTERPOLATION_MISSING' : r.kind === 'depth' ? 'INFO_INTERPOLATION_DEPTH' : 'INFO_INTERPOLATION_SYNTAX';
      this.issues.add(
        code,
        `${r.message}. Sugar reads "${key}" through Python's configparser interpolation, which raises here, so Sugar fails to load the bundle`,
        this.file,
        this.line(key),
        { key, detail: r.message },
      );
      return undefined;
    }
    this.issues.add(
      'INFO_INTERPOLATION_IGNORED',
      `${r.message}. Sugar does not read "${key}", so it still loads the bundle; the raw value is used here`,
      this.file,
      this.line(key),
      { key, detail: r.message },
    );
    return getRaw(this.doc, this.section, key)!.value;
  }

  /** Warns about interpolation failures in keys nobody has read (any future reader would fail). */
  checkRemaining(): void {
    for (const key of optionNames(this.doc, this.section)) {
      if (this.reported.has(key)) continue;
      const r = getInterpolated(this.doc, this.section, key);
      if (r && !r.ok) {
        this.reported.add(key);
        this.issues.add(
          'INFO_INTERPOLATION_IGNORED',
          `${r.message}. Sugar does not read "${key}", so it still loads the bundle, but any tool reading it through configparser fails`,
          this.file,
          this.line(key),
          { variant: 'unread', key, detail: r.message },
        );
      }
    }
  }
}

/** Splits a `;`-separated list like Sugar (strip ';' at both ends, split, strip), dropping empties. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(';')
    .map((x) => pyStrip(x))
    .filter((x) => x.length > 0);
}

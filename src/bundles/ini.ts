// A reader for activity.info / library.info / activity.linfo that behaves like the one Sugar
// uses: Python 3's configparser.ConfigParser() with its defaults (strict=True,
// BasicInterpolation, delimiters '=' and ':', comment_prefixes '#' and ';', no inline comments,
// empty_lines_in_values=True, allow_no_value=False, default_section 'DEFAULT', keys lowercased).
//
// Differences from Python are only in error reporting: Python stops at the first duplicate
// section/key or missing section header, we keep going and report every problem we can find so a
// developer can fix them all in one go. Whether a file is accepted is identical.
//
// Written from the behaviour of configparser (checked against CPython 3.11), not from its code.

/** Python's str.isspace() set, which is also what `\s`, str.strip() and `\S` use in configparser. */
const PY_WS = '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
const pyWsSet = new Set(PY_WS);

export function isPyWhitespace(ch: string): boolean {
  return pyWsSet.has(ch);
}

/** Python's str.strip() (JS trim() differs: it strips U+FEFF and keeps U+0085, U+001C-U+001F). */
export function pyStrip(s: string): string {
  return pyRstrip(pyLstrip(s));
}

export function pyLstrip(s: string): string {
  let i = 0;
  while (i < s.length && pyWsSet.has(s[i])) i++;
  return s.slice(i);
}

export function pyRstrip(s: string): string {
  let j = s.length;
  while (j > 0 && pyWsSet.has(s[j - 1])) j--;
  return s.slice(0, j);
}

export type IniErrorKind = 'missing-section-header' | 'parse' | 'duplicate-section' | 'duplicate-option';

export interface IniError {
  kind: IniErrorKind;
  line: number;
  message: string;
  /** The variable parts of `message` (see BundleIssue.params). */
  params?: Record<string, string | number>;
}

export interface IniValue {
  /** The raw (not yet interpolated) value: continuation lines joined with '\n', right-stripped. */
  value: string;
  /** Line of the `key = value` line. */
  line: number;
}

export interface IniDocument {
  /** Sections in file order, excluding DEFAULT. Section names are case-sensitive and verbatim. */
  sections: Map<string, Map<string, IniValue>>;
  /** Options of the [DEFAULT] section(s); visible from every section. */
  defaults: Map<string, IniValue>;
  errors: IniError[];
}

export const DEFAULT_SECTION = 'DEFAULT';

// Python's `.` matches anything but '\n'; our lines never contain '\n', so [^\n] is "any".
const SECTION_RE = /^\[([^\n]+)\]/;

function optionKey(name: string): string {
  // configparser's optionxform is str.lower(); JS toLowerCase agrees with it (both apply the
  // final-sigma rule), so keys compare the same way.
  return name.toLowerCase();
}

/** Splits on '\n' only, like iterating an io.StringIO: a lone '\r' does not end a line. */
function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function isCommentLine(line: string): boolean {
  const s = pyStrip(line);
  return s.startsWith('#') || s.startsWith(';');
}

function firstNonSpace(line: string): number {
  for (let i = 0; i < line.length; i++) if (!pyWsSet.has(line[i])) return i;
  return 0;
}

export function parseIni(text: string): IniDocument {
  const doc: IniDocument = { sections: new Map(), defaults: new Map(), errors: [] };
  // Values are collected as lists of lines and joined at the end, as configparser does.
  const pending = new Map<Map<string, IniValue>, Map<string, string[]>>();
  const seen = new Set<string>(); // "section\0option", for strict mode
  let missingHeaderReported = false;
  let cursect: Map<string, IniValue> | null = null;
  let sectname: string | null = null;
  let optname: string | null = null;
  let indentLevel = 0;

  const lines = splitLines(text);
  for (let idx = 0; idx < lines.length; idx++) {
    const lineno = idx + 1;
    const line = lines[idx];
    const comment = isCommentLine(line);
    const value = comment ? '' : pyStrip(line);
    if (!value) {
      // A blank line belongs to the current value (it is kept only if more continuation lines
      // follow, because the joined value is right-stripped). Comment lines are dropped entirely
      // and do not end a multi-line value either.
      if (!comment && cursect && optname) pending.get(cursect)?.get(optname)?.push('');
      continue;
    }
    const indent = firstNonSpace(line);
    if (cursect && optname && indent > indentLevel) {
      pending.get(cursect)?.get(optname)?.push(value);
      continue;
    }
    indentLevel = indent;
    const sm = SECTION_RE.exec(value);
    if (sm) {
      sectname = sm[1];
      if (sectname === DEFAULT_SECTION) {
        // [DEFAULT] may appear several times; its keys still must not repeat.
        cursect = doc.defaults;
      } else if (doc.sections.has(sectname)) {
        doc.errors.push({
          kind: 'duplicate-section',
          line: lineno,
          message: `section [${sectname}] appears twice`,
          params: { section: sectname },
        });
        cursect = doc.sections.get(sectname)!;
      } else {
        cursect = new Map();
        doc.sections.set(sectname, cursect);
      }
      if (!pending.has(cursect)) pending.set(cursect, new Map());
      optname = null;
      continue;
    }
    if (!cursect) {
      // Python stops at the first such line; report only that one (the rest would be noise).
      if (!missingHeaderReported)
        doc.errors.push({
          kind: 'missing-section-header',
          line: lineno,
          message: `line ${lineno} comes before any [section] header`,
          params: { line: lineno },
        });
      missingHeaderReported = true;
      continue;
    }
    const delim = value.search(/[=:]/);
    if (delim < 0) {
      // configparser collects these and raises one ParsingError at the end of the file; the
      // current option stays current, so following indented lines still continue it.
      doc.errors.push({
        kind: 'parse',
        line: lineno,
        message: `line ${lineno} is neither a [section] header nor a "key = value" line`,
        params: { line: lineno },
      });
      continue;
    }
    const name = optionKey(pyRstrip(value.slice(0, delim)));
    const optval = pyStrip(value.slice(delim + 1));
    if (!name) {
      doc.errors.push({
        kind: 'parse',
        line: lineno,
        message: `line ${lineno} has a value but no key before "${value[delim]}"`,
        params: { variant: 'no-key', line: lineno, delimiter: value[delim]! },
      });
    }
    const seenKey = `${sectname}\u0000${name}`;
    if (seen.has(seenKey)) {
      doc.errors.push({
        kind: 'duplicate-option',
        line: lineno,
        message: `key "${name}" appears twice in section [${sectname}]`,
        params: { key: name, section: sectname ?? '' },
      });
    }
    seen.add(seenKey);
    optname = name;
    // On a duplicate the later value wins here (Python would have stopped reading); it only
    // matters for the partial metadata returned alongside the error.
    cursect.set(name, { value: '', line: lineno });
    pending.get(cursect)!.set(name, [optval]);
  }

  for (const [sect, opts] of pending) {
    for (const [name, parts] of opts) {
      const v = sect.get(name);
      if (v) v.value = pyRstrip(parts.join('\n'));
    }
  }
  // A key with an empty name is only kept by Python to report the error; nobody can read it.
  for (const sect of [doc.defaults, ...doc.sections.values()]) sect.delete('');
  return doc;
}

// ---------------------------------------------------------------------------------------------
// BasicInterpolation, evaluated lazily per key exactly like ConfigParser.get(): '%%' is a literal
// '%', '%(name)s' is the value of `name` looked up in the same section then in DEFAULT (raw
// value, itself interpolated if it contains '%'), at most 10 levels deep. Any other '%' is a
// syntax error. Only keys somebody actually reads are interpolated, so a bad '%' in a key Sugar
// never reads does not break Sugar.

export type InterpolationErrorKind = 'syntax' | 'missing' | 'depth';

export type InterpolationResult = { ok: true; value: string } | { ok: false; kind: InterpolationErrorKind; message: string };

const MAX_INTERPOLATION_DEPTH = 10;
const KEY_REF_RE = /^%\(([^)]+)\)s/;

class InterpolationFailure extends Error {
  constructor(
    readonly kind: InterpolationErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** True when `option` is visible in `section` (the section itself or DEFAULT), like has_option. */
export function hasOption(doc: IniDocument, section: string, option: string): boolean {
  const key = optionKey(option);
  if (section === DEFAULT_SECTION) return doc.defaults.has(key);
  const sect = doc.sections.get(section);
  if (!sect) return false;
  return sect.has(key) || doc.defaults.has(key);
}

export function getRaw(doc: IniDocument, section: string, option: string): IniValue | undefined {
  const key = optionKey(option);
  if (section === DEFAULT_SECTION) return doc.defaults.get(key);
  const sect = doc.sections.get(section);
  if (!sect) return undefined; // Python: NoSectionError
  return sect.get(key) ?? doc.defaults.get(key);
}

/** All option names visible from `section` (section first, then DEFAULT), like items(). */
export function optionNames(doc: IniDocument, section: string): string[] {
  const names = new Set<string>();
  const sect = doc.sections.get(section);
  if (sect) for (const k of sect.keys()) names.add(k);
  for (const k of doc.defaults.keys()) names.add(k);
  return [...names];
}

/** ConfigParser.get(section, option): the interpolated value, or why it fails. */
export function getInterpolated(doc: IniDocument, section: string, option: string): InterpolationResult | undefined {
  const raw = getRaw(doc, section, option);
  if (!raw) return undefined;
  const out: string[] = [];
  try {
    interpolateInto(doc, section, optionKey(option), raw.value, out, 1);
  } catch (e) {
    if (e instanceof InterpolationFailure) return { ok: false, kind: e.kind, message: e.message };
    throw e;
  }
  return { ok: true, value: out.join('') };
}

function interpolateInto(doc: IniDocument, section: string, option: string, rest: string, out: string[], depth: number): void {
  if (depth > MAX_INTERPOLATION_DEPTH) {
    throw new InterpolationFailure(
      'depth',
      `"${option}": %(...)s references nest deeper than ${MAX_INTERPOLATION_DEPTH} levels (a key probably refers to itself)`,
    );
  }
  while (rest) {
    const p = rest.indexOf('%');
    if (p < 0) {
      out.push(rest);
      return;
    }
    if (p > 0) {
      out.push(rest.slice(0, p));
      rest = rest.slice(p);
    }
    const c = rest.slice(1, 2);
    if (c === '%') {
      out.push('%');
      rest = rest.slice(2);
    } else if (c === '(') {
      const m = KEY_REF_RE.exec(rest);
      if (!m) {
        throw new InterpolationFailure(
          'syntax',
          `"${option}": bad reference ${JSON.stringify(rest.slice(0, 40))}; write %(name)s to insert another key, or %% for a literal %`,
        );
      }
      const ref = optionKey(m[1]);
      rest = rest.slice(m[0].length);
      const target = getRaw(doc, section, ref);
      if (!target) {
        throw new InterpolationFailure('missing', `"${option}" refers to %(${m[1]})s but there is no key "${ref}" in [${section}] or [DEFAULT]`);
      }
      if (target.value.includes('%')) interpolateInto(doc, section, option, target.value, out, depth + 1);
      else out.push(target.value);
    } else {
      throw new InterpolationFailure(
        'syntax',
        `"${option}": a "%" must be followed by "%" or "(" (found ${JSON.stringify(rest.slice(0, 20))}); write %% for a literal percent sign`,
      );
    }
  }
}

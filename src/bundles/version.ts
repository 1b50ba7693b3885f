// Sugar version numbers, as Sugar's own NormalizedVersion (sugar3/bundle/bundleversion.py) reads
// them. The same rules apply to activity_version, library_version and Sugar's own version
// string (so 0.100 > 0.98).
//
// Syntax: `N(.N)*` optionally followed by a suffix made of `-` or `~`, ONE arbitrary character,
// then ASCII letters only. That odd "one arbitrary character" is really what Sugar's regex says
// (`[-~].[a-zA-Z]*`), so `1.2-1` and `1~~` are valid while `1.2.3-rc1` is not. No numeric segment
// may have a leading zero (`0` alone is fine).
//
// Comparison: the numeric parts as integer lists, with trailing zero parts dropped (1.0 == 1);
// the suffix is ignored. Never compare versions as floats: 1.10 > 1.9 and 0.100 > 0.98.
//
// Deliberate differences from Python (documented in README.md):
//  * only ASCII digits are accepted (Python's \d also matches e.g. Arabic-Indic digits);
//  * a segment may have at most 15 digits, so every part fits a JS number exactly;
//  * no trailing newline is tolerated (Python's `$` would allow one; configparser values never
//    end with one anyway).

export interface ParsedSugarVersion {
  valid: boolean;
  /** Numeric parts with trailing zero parts dropped (the first part is always kept). */
  parts: number[];
  /** The `-…`/`~…` suffix as written, or null. */
  suffix: string | null;
  /** True for a plain integer, the only form every Sugar (including < 0.92) can read. */
  portable: boolean;
  /** Why the version is invalid (null when valid). */
  reason: string | null;
}

// `u` so that `[^\n]` matches one code point like Python's `.` does.
const VERSION_RE = /^(\d+)((?:\.\d+)*)([-~][^\n][a-zA-Z]*)?$/u;
const MAX_SEGMENT_DIGITS = 15;

export function parseSugarVersion(s: string): ParsedSugarVersion {
  const invalid = (reason: string): ParsedSugarVersion => ({ valid: false, parts: [], suffix: null, portable: false, reason });
  if (typeof s !== 'string') return invalid('not a string');
  const m = VERSION_RE.exec(s);
  if (!m) {
    return invalid('a Sugar version is numbers separated by dots (1, 1.2, 1.2.3), optionally followed by a suffix like -peru; no other characters');
  }
  const segments = [m[1], ...(m[2] ? m[2].slice(1).split('.') : [])];
  for (const seg of segments) {
    if (seg.length > 1 && seg[0] === '0') return invalid(`segment "${seg}" has a leading zero`);
    if (seg.length > MAX_SEGMENT_DIGITS) return invalid(`segment "${seg}" is longer than ${MAX_SEGMENT_DIGITS} digits`);
  }
  const parts = segments.map((x) => Number(x));
  // Sugar drops trailing zeros of the extra segments only; the first segment always stays.
  while (parts.length > 1 && parts[parts.length - 1] === 0) parts.pop();
  const suffix = m[3] ?? null;
  return { valid: true, parts, suffix, portable: segments.length === 1 && suffix === null, reason: null };
}

/** True when the suffix is one the old GTK2 toolkit (sugar-toolkit) accepts: `-` then letters. */
export function isGtk2Suffix(suffix: string | null): boolean {
  return suffix === null || /^-[a-zA-Z]*$/.test(suffix);
}

function mustParse(s: string): ParsedSugarVersion {
  const p = parseSugarVersion(s);
  if (!p.valid) throw new Error(`invalid Sugar version ${JSON.stringify(s)}: ${p.reason}`);
  return p;
}

/** The comparable form: parts joined by dots, suffix removed ("1.2.0-peru" -> "1.2"). */
export function normalizeSugarVersion(s: string): string {
  return mustParse(s).parts.join('.');
}

/** Compares like Sugar's NormalizedVersion: negative, 0 or positive. Throws on invalid input. */
export function compareSugarVersions(a: string, b: string): number {
  const pa = mustParse(a).parts;
  const pb = mustParse(b).parts;
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  }
  // Python list comparison: a proper prefix sorts first.
  return pa.length === pb.length ? 0 : pa.length < pb.length ? -1 : 1;
}

/**
 * A string whose byte-order (and JS `<`) order is exactly compareSugarVersions order; equal
 * versions (1.0 and 1) get the same key. Store it in a column and ORDER BY it (use COLLATE "C"
 * in PostgreSQL to be safe, although the key only uses [A-Z0-9] so most collations agree).
 *
 * Each part is written as <length of its digit count, as a letter A=1 digit, B=2...><digit
 * count><digits>: a longer number always sorts after a shorter one, equal lengths compare digit
 * by digit. The encoding is self-delimiting, so a version that is a prefix of another (1 vs 1.5)
 * sorts first, as in Python. Example: "1.10" -> "A11A210", "1.9" -> "A11A19".
 */
export function sugarVersionSortKey(s: string): string {
  return mustParse(s)
    .parts.map((n) => {
      const digits = String(n);
      const count = String(digits.length);
      return String.fromCharCode(0x40 + count.length) + count + digits;
    })
    .join('');
}

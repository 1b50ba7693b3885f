// A PO file reader that accepts and refuses what GNU msgfmt 0.21 (without -c) accepts and
// refuses, working on bytes so that the strings keep the bytes of the file's own charset, as
// msgfmt keeps them in the .mo file. See docs/building.md ("Translations").
//
// Grammar: an entry is  [msgctxt S+] msgid S+ (msgstr S+ | msgid_plural S+ (msgstr[0] S+)(msgstr[1] S+)...)
// with S a double-quoted C string. `#~` lines hold obsolete entries (parsed, checked for
// duplicates, dropped); `#,` lines hold flags (`fuzzy`); other `#` lines are comments.
import { isUtf8 } from 'node:buffer';
import { BuildError } from './errors.js';

export interface PoEntry {
  context: Buffer | null;
  id: Buffer;
  idPlural: Buffer | null;
  /** One string for a singular entry, one per plural form otherwise. */
  strs: Buffer[];
  fuzzy: boolean;
  obsolete: boolean;
  /** 1-based line of the msgid keyword. */
  line: number;
}

export interface PoFile {
  entries: PoEntry[];
  /** The header entry's msgstr (msgid ""), or null when there is none. */
  header: Buffer | null;
  /** The charset named by the header's Content-Type, verbatim, or null. */
  charset: string | null;
}

/** Charsets whose second byte of a double-byte character can be `\` or `"` (msgfmt knows them too). */
const DOUBLE_BYTE_LEADS: Record<string, (b: number) => boolean> = {
  big5: (b) => b >= 0x81 && b <= 0xfe,
  'big5-hkscs': (b) => b >= 0x81 && b <= 0xfe,
  cp950: (b) => b >= 0x81 && b <= 0xfe,
  gbk: (b) => b >= 0x81 && b <= 0xfe,
  cp936: (b) => b >= 0x81 && b <= 0xfe,
  gb18030: (b) => b >= 0x81 && b <= 0xfe,
  shift_jis: (b) => (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc),
  sjis: (b) => (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc),
  cp932: (b) => (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc),
  johab: (b) => (b >= 0x84 && b <= 0xd3) || (b >= 0xd8 && b <= 0xde) || (b >= 0xe0 && b <= 0xf9),
};

interface Token {
  kind: 'keyword' | 'string' | 'flags' | 'eof';
  /** keyword name (msgid, msgstr, msgstr[N], ...), or the decoded string bytes. */
  word?: string;
  index?: number;
  bytes?: Buffer;
  line: number;
  col: number;
  obsolete: boolean;
  fuzzy?: boolean;
}

function fail(file: string, line: number, col: number | null, message: string): never {
  throw new BuildError('BUILD_PO_INVALID', `${file}:${line}${col ? `:${col}` : ''}: ${message}`, { file, line, col });
}

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0c || b === 0x0b;

/** The simple escapes: \n \t \b \r \f \v \a \\ \" (-1: not one). */
const SIMPLE_ESCAPES = (() => {
  const t = new Int16Array(256).fill(-1);
  const pairs: [string, number][] = [
    ['n', 0x0a],
    ['t', 0x09],
    ['b', 0x08],
    ['r', 0x0d],
    ['f', 0x0c],
    ['v', 0x0b],
    ['a', 0x07],
    ['\\', 0x5c],
    ['"', 0x22],
  ];
  for (const [c, v] of pairs) t[c.charCodeAt(0)] = v;
  return t;
})();

const isWordByte = (b: number) => (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x5f;

function tokenize(buf: Buffer, file: string, lead: ((b: number) => boolean) | null): Token[] {
  const tokens: Token[] = [];
  // A string's bytes are never more than its source's: one scratch buffer serves every string.
  const scratch = Buffer.allocUnsafe(buf.length);
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let obsoleteLine = false;
  while (i < buf.length) {
    const b = buf[i];
    if (b === 0x0a) {
      i++;
      line++;
      lineStart = i;
      obsoleteLine = false;
      continue;
    }
    if (isSpace(b)) {
      i++;
      continue;
    }
    const col = i - lineStart + 1;
    if (b === 0x23 /* # */) {
      const next = buf[i + 1];
      if (next === 0x7e /* ~ */ && buf[i + 2] !== 0x7c /* | */) {
        // Obsolete entry: the rest of the line is lexed as entry tokens.
        obsoleteLine = true;
        i += 2;
        continue;
      }
      let end = buf.indexOf(0x0a, i);
      if (end < 0) end = buf.length;
      if (next === 0x2c /* , */ && !obsoleteLine) {
        const flags = buf
          .subarray(i + 2, end)
          .toString('latin1')
          .split(',')
          .map((f) => f.trim());
        tokens.push({ kind: 'flags', fuzzy: flags.includes('fuzzy'), line, col, obsolete: false });
      }
      i = end;
      continue;
    }
    if (b === 0x22 /* " */) {
      let n = 0;
      i++;
      // Most strings have no escape: their bytes are a view of the file's.
      let q = i;
      while (q < buf.length) {
        const d = buf[q];
        if (d === 0x22 || d === 0x5c || d === 0x0a || (lead && d >= 0x80)) break;
        q++;
      }
      if (buf[q] === 0x22) {
        tokens.push({ kind: 'string', bytes: buf.subarray(i, q), line, col, obsolete: obsoleteLine });
        i = q + 1;
        continue;
      }
      for (;;) {
        if (i >= buf.length) fail(file, line, i - lineStart + 1, 'end-of-file within string');
        const c = buf[i];
        if (c === 0x0a) fail(file, line, null, 'end-of-line within string');
        if (c === 0x22) {
          i++;
          break;
        }
        if (lead && c >= 0x80 && lead(c) && i + 1 < buf.length && buf[i + 1] !== 0x0a) {
          scratch[n++] = c;
          scratch[n++] = buf[i + 1];
          i += 2;
          continue;
        }
        if (c !== 0x5c /* \ */) {
          // A run of plain bytes, copied at once.
          let k = i + 1;
          while (k < buf.length) {
            const d = buf[k];
            if (d === 0x22 || d === 0x5c || d === 0x0a || (lead && d >= 0x80)) break;
            k++;
          }
          if (k - i > 8) buf.copy(scratch, n, i, k);
          else for (let x = i; x < k; x++) scratch[x - i + n] = buf[x];
          n += k - i;
          i = k;
          continue;
        }
        const e = buf[i + 1];
        if (e !== undefined && SIMPLE_ESCAPES[e] >= 0) {
          scratch[n++] = SIMPLE_ESCAPES[e];
          i += 2;
        } else if (e !== undefined && e >= 0x30 && e <= 0x37) {
          let v = 0;
          let k = i + 1;
          for (let n = 0; n < 3 && buf[k] >= 0x30 && buf[k] <= 0x37; n++, k++) v = v * 8 + (buf[k] - 0x30);
          scratch[n++] = v & 0xff;
          i = k;
        } else if (e === 0x78 /* x */ && isHex(buf[i + 2])) {
          let v = 0;
          let k = i + 2;
          while (isHex(buf[k])) (v = (v * 16 + hexValue(buf[k])) & 0xff), k++;
          scratch[n++] = v;
          i = k;
        } else {
          fail(file, line, i - lineStart + 2, 'invalid control sequence');
        }
      }
      tokens.push({ kind: 'string', bytes: Buffer.from(scratch.subarray(0, n)), line, col, obsolete: obsoleteLine });
      continue;
    }
    // A keyword: letters, digits, underscores and a [N] index.
    let j = i;
    while (j < buf.length && isWordByte(buf[j])) j++;
    const word = buf.subarray(i, j).toString('latin1');
    if (word === '') fail(file, line, col, 'syntax error');
    if (word === 'msgstr' && buf[j] === 0x5b /* [ */) {
      let k = j + 1;
      while (isSpace(buf[k])) k++;
      let digits = '';
      while (buf[k] >= 0x30 && buf[k] <= 0x39) digits += String.fromCharCode(buf[k++]);
      while (isSpace(buf[k])) k++;
      if (digits === '' || buf[k] !== 0x5d) fail(file, line, col, 'syntax error');
      tokens.push({ kind: 'keyword', word: 'msgstr[]', index: Number(digits), line, col, obsolete: obsoleteLine });
      i = k + 1;
      continue;
    }
    if (!['msgctxt', 'msgid', 'msgid_plural', 'msgstr'].includes(word)) fail(file, line, col, `keyword "${word}" unknown`);
    tokens.push({ kind: 'keyword', word, line, col, obsolete: obsoleteLine });
    i = j;
  }
  tokens.push({ kind: 'eof', line, col: 1, obsolete: false });
  return tokens;
}

function isHex(b: number | undefined): boolean {
  return b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66));
}

function hexValue(b: number): number {
  return b <= 0x39 ? b - 0x30 : (b | 0x20) - 0x61 + 10;
}

/** msgfmt keeps strings as C strings: everything from the first NUL byte on is lost. */
function cString(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}

function parseTokens(tokens: Token[], file: string): PoEntry[] {
  const entries: PoEntry[] = [];
  let p = 0;
  let fuzzy = false;
  const strings = (): Buffer => {
    const parts: Buffer[] = [];
    while (tokens[p].kind === 'string') parts.push(tokens[p++].bytes!);
    return cString(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  };
  const expectStrings = (after: Token): Buffer => {
    if (tokens[p].kind !== 'string') fail(file, tokens[p].line, tokens[p].col, `syntax error (a string must follow ${after.word})`);
    return strings();
  };
  for (;;) {
    const t = tokens[p];
    if (t.kind === 'eof') break;
    if (t.kind === 'flags') {
      fuzzy = fuzzy || !!t.fuzzy;
      p++;
      continue;
    }
    if (t.kind === 'string') fail(file, t.line, t.col, 'syntax error (a string outside an entry)');
    let context: Buffer | null = null;
    if (t.word === 'msgctxt') {
      p++;
      context = expectStrings(t);
    }
    const idTok = tokens[p];
    if (idTok.kind !== 'keyword' || idTok.word !== 'msgid') fail(file, idTok.line, idTok.col, 'syntax error (msgid expected)');
    p++;
    const id = expectStrings(idTok);
    let idPlural: Buffer | null = null;
    const strs: Buffer[] = [];
    const next = tokens[p];
    if (next.kind === 'keyword' && next.word === 'msgid_plural') {
      p++;
      idPlural = expectStrings(next);
      while (tokens[p].kind === 'keyword' && tokens[p].word === 'msgstr[]') {
        const s = tokens[p];
        if (s.index !== strs.length) fail(file, s.line, null, strs.length === 0 ? 'first plural form has nonzero index' : 'plural form has wrong index');
        p++;
        strs.push(expectStrings(s));
      }
      if (strs.length === 0) fail(file, tokens[p].line, tokens[p].col, 'syntax error (msgstr[0] expected)');
    } else if (next.kind === 'keyword' && next.word === 'msgstr') {
      p++;
      strs.push(expectStrings(next));
    } else if (next.kind === 'keyword' && next.word === 'msgstr[]') {
      fail(file, idTok.line, null, "missing 'msgid_plural' section");
    } else {
      fail(file, next.line, next.col, 'syntax error (msgstr expected)');
    }
    for (const part of [context, id, idPlural, ...strs]) {
      if (part && part.includes(0x04)) fail(file, idTok.line, null, 'context separator <EOT> within string');
    }
    entries.push({ context, id, idPlural, strs, fuzzy, obsolete: idTok.obsolete, line: idTok.line });
    fuzzy = false;
  }
  return entries;
}

/** The charset named in a PO/MO header (`Content-Type: ...; charset=X`), or null. */
export function headerCharset(header: Buffer | null): string | null {
  if (!header) return null;
  const m = /charset=([^\s;]*)/i.exec(header.toString('latin1'));
  return m && m[1] !== '' ? m[1] : null;
}

/**
 * Reads a PO file. Throws BUILD_PO_INVALID (with file and line) where msgfmt fails: syntax
 * errors, bad escapes, plural indexes out of order, `\4` in a string, duplicate definitions
 * (obsolete and fuzzy entries included, as msgfmt counts them), a UTF-8 BOM, and bytes that are
 * not valid in the declared charset.
 */
export function parsePo(buf: Buffer, file: string): PoFile {
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) fail(file, 1, 2, 'syntax error (a UTF-8 byte order mark)');
  let entries = parseTokens(tokenize(buf, file, null), file);
  const headerEntry = entries.find((e) => e.context === null && e.id.length === 0 && !e.obsolete) ?? null;
  const header = headerEntry ? headerEntry.strs[0] : null;
  const charset = headerCharset(header);
  const lead = charset ? DOUBLE_BYTE_LEADS[charset.toLowerCase()] : undefined;
  if (lead) entries = parseTokens(tokenize(buf, file, lead), file);

  const seen = new Map<string, number>();
  for (const e of entries) {
    const key = `${e.context === null ? '' : `${e.context.toString('latin1')}\u0004`}${e.id.toString('latin1')}`;
    const first = seen.get(key);
    if (first !== undefined) fail(file, e.line, null, `duplicate message definition (first defined on line ${first})`);
    seen.set(key, e.line);
  }
  if (charset) checkCharset(entries, charset, file);
  return { entries, header, charset };
}

/** Charsets msgfmt converts through (and so validates); unknown names are taken as they are. */
function checkCharset(entries: PoEntry[], charset: string, file: string): void {
  const name = charset.toLowerCase();
  let valid: ((b: Buffer) => boolean) | null = null;
  if (name === 'ascii' || name === 'us-ascii' || name === 'ansi_x3.4-1968') valid = (b) => b.every((x) => x < 0x80);
  else if (name === 'utf-8' || name === 'utf8') valid = (b) => isUtf8(b);
  if (!valid) return;
  for (const e of entries) {
    for (const part of [e.context, e.id, e.idPlural, ...e.strs]) {
      if (part && !valid(part)) fail(file, e.line, null, `invalid multibyte sequence (not ${charset})`);
    }
  }
}

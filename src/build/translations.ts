// po/<lang>.po -> locale/<lang>/LC_MESSAGES/<bundle_id>.mo and locale/<lang>/activity.linfo, as
// Sugar's bundle builder makes them (msgfmt, then Python's gettext to look up the activity's
// name and summary). Nothing of the repository is run: the PO file is read by po.ts and the .mo
// written by mo.ts.
import { BuildError } from './errors.js';
import { moMessages, writeMo, type MoMessage } from './mo.js';
import { evaluatePlural, pluralExpression } from './plural.js';
import { headerCharset, parsePo } from './po.js';

export interface BuildWarning {
  code: string;
  message: string;
  file: string | null;
}

export interface CompiledLanguage {
  lang: string;
  mo: Buffer;
  linfo: Buffer;
}

/** Decodes bytes as Python's `str(b, charset)` would; null when Python would fail (or we cannot tell). */
export function decodeAs(bytes: Buffer, charset: string): string | null {
  const name = charset.trim().toLowerCase().replace(/_/g, '-');
  if (name === 'ascii' || name === 'us-ascii' || name === 'ansi-x3.4-1968' || name === '646') {
    return bytes.every((b) => b < 0x80) ? bytes.toString('latin1') : null;
  }
  if (name === 'latin-1' || name === 'latin1' || name === 'iso-8859-1' || name === 'iso8859-1' || name === 'l1') return bytes.toString('latin1');
  let decoder = decoders.get(name);
  if (decoder === undefined) {
    try {
      decoder = new TextDecoder(name, { fatal: true, ignoreBOM: true });
    } catch {
      decoder = null;
    }
    decoders.set(name, decoder);
  }
  if (!decoder) return null;
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

const decoders = new Map<string, TextDecoder | null>();

interface Lookup {
  /** Python's gettext(text), or null when the catalog cannot say (charset). */
  gettext(text: string): string | null;
}

/**
 * Python's GNUTranslations over the .mo messages: keys and values decoded with the header's
 * charset (ASCII when there is none); gettext(t) returns the singular translation of t, else
 * form plural(1) of a plural entry whose msgid is t, else t.
 */
function catalogLookup(messages: MoMessage[], charset: string, pluralIndex: number): Lookup {
  // Keys are compared as bytes when the text can be encoded in the charset here (UTF-8, ASCII,
  // Latin-1: nearly every catalog), else decoded one by one.
  const name = charset.trim().toLowerCase().replace(/_/g, '-');
  const encoding: BufferEncoding | null =
    name === 'utf-8' || name === 'utf8' ? 'utf8' : ['ascii', 'us-ascii', 'latin-1', 'latin1', 'iso-8859-1', 'iso8859-1', 'l1'].includes(name) ? 'latin1' : null;
  const keyOf = (bytes: Buffer) => (encoding ? bytes.toString('latin1') : decodeAs(bytes, charset));
  const textKey = (text: string) => {
    if (!encoding) return text;
    if (encoding === 'latin1' && /[^\x00-\xff]/.test(text)) return null;
    return Buffer.from(text, encoding).toString('latin1');
  };
  const formsOf = (value: Buffer): Buffer[] => {
    const forms: Buffer[] = [];
    let start = 0;
    for (let i = 0; i <= value.length; i++) {
      if (i === value.length || value[i] === 0) {
        forms.push(value.subarray(start, i));
        start = i + 1;
      }
    }
    return forms;
  };
  const found = (hit: Buffer | undefined, text: string) => (hit === undefined ? text : decodeAs(hit, charset));
  if (encoding) {
    // The two texts looked up (name, summary) are compared as bytes with the keys: no map of
    // the whole catalog.
    return {
      gettext(text) {
        const key = textKey(text);
        if (key === null) return text;
        const target = Buffer.from(key, 'latin1');
        // A plural entry with that msgid: the last one, as Python's catalog keeps it.
        let pluralHit: Buffer | undefined;
        for (const m of messages) {
          if (m.key.length === target.length && m.key.equals(target)) return found(m.value, text);
          if (m.key.length > target.length && m.key[target.length] === 0 && m.key.subarray(0, target.length).equals(target))
            pluralHit = formsOf(m.value)[pluralIndex];
        }
        return found(pluralHit, text);
      },
    };
  }
  const singular = new Map<string, Buffer>();
  const plural = new Map<string, Buffer[]>();
  for (const m of messages) {
    const nul = m.key.indexOf(0);
    if (nul < 0) {
      const k = keyOf(m.key);
      if (k !== null) singular.set(k, m.value);
    } else {
      const k = keyOf(m.key.subarray(0, nul));
      if (k === null) continue;
      plural.set(k, formsOf(m.value));
    }
  }
  return {
    gettext(text) {
      const key = textKey(text);
      if (key === null) return text;
      return found(singular.get(key) ?? plural.get(key)?.[pluralIndex], text);
    },
  };
}

export interface TranslationInput {
  /** po/<lang>.po files: language (file name minus .po) and bytes. */
  poFiles: { lang: string; path: string; bytes: Buffer }[];
  /** activity.info's untranslated name, and summary (null when the key is absent). */
  name: string;
  summary: string | null;
}

/**
 * Compiles every language. Throws BUILD_PO_INVALID where msgfmt fails and BUILD_PO_CHARSET when
 * the name or summary translation cannot be decoded. A PO file with nothing to compile gives no
 * language (msgfmt writes no file; the real builder then crashes) and a warning.
 */
export function compileTranslations(input: TranslationInput, warnings: BuildWarning[]): CompiledLanguage[] {
  const out: CompiledLanguage[] = [];
  for (const po of input.poFiles) {
    const parsed = parsePo(po.bytes, po.path);
    const messages = moMessages(parsed);
    const mo = writeMo(messages);
    if (!mo) {
      warnings.push({
        code: 'BUILD_PO_EMPTY',
        message: `${po.path} has no translated entry and no header: msgfmt writes no catalog (the real builder crashes); language ${po.lang} left out`,
        file: po.path,
      });
      continue;
    }
    let charset = headerCharset(parsed.header) ?? 'ascii';
    if (decodeAs(Buffer.alloc(0), charset) === null) {
      warnings.push({
        code: 'BUILD_PO_CHARSET_UNKNOWN',
        message: `${po.path} declares charset ${JSON.stringify(charset)}, which Python cannot decode (the real builder crashes); its name and summary are read as ASCII`,
        file: po.path,
      });
      charset = 'ascii';
    }
    const headerText = parsed.header ? (decodeAs(parsed.header, 'utf-8') ?? parsed.header.toString('latin1')) : '';
    const expression = pluralExpression(headerText);
    let pluralIndex = 0;
    if (expression !== null) {
      const v = evaluatePlural(expression, 1);
      if (v === null) {
        warnings.push({
          code: 'BUILD_PLURAL_FORMS_INVALID',
          message: `${po.path}: Plural-Forms expression ${JSON.stringify(expression.trim())} is not valid (the real builder crashes); plural(1) taken as 0`,
          file: po.path,
        });
      } else pluralIndex = v;
    }
    const cat = catalogLookup(messages, charset, pluralIndex);
    const name = cat.gettext(input.name);
    const summary = input.summary === null ? '' : cat.gettext(input.summary);
    if (name === null || summary === null) {
      throw new BuildError(
        'BUILD_PO_CHARSET',
        `${po.path}: the translation of the activity's ${name === null ? 'name' : 'summary'} is not valid ${charset}${parsed.charset ? '' : ' (the header declares no charset)'}`,
        { file: po.path },
      );
    }
    const linfo = `[Activity]\nname = ${name}\nsummary = ${summary.replace(/\n/g, '')}\n`;
    out.push({ lang: po.lang, mo, linfo: Buffer.from(linfo, 'utf8') });
  }
  return out;
}

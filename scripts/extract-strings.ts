// The extraction step of the interface translations (docs/web.md):
//   npx tsx scripts/extract-strings.ts           collect every t('...') and n('...', '...', count)
//                                                of the page code (src/web, the hub in src/web/hub,
//                                                and any other module that renders pages through
//                                                the hub's layout or the translator, should one
//                                                appear) into locales/aslo.pot, and merge it
//                                                into each locales/<lang>.po (new messages get an
//                                                empty translation, gone ones become obsolete #~)
//   npx tsx scripts/extract-strings.ts --check   change nothing; exit 1 when the template is out of
//                                                date or a PO file lacks a translation (the test
//                                                suite runs this)
// Messages must be string literals (one quote style, no template literals), so they can be
// found without running the code; a t( call with anything else is reported as an error.
// p('context', 'message') is a message in a context (gettext's msgctxt), for English words used
// in two senses that other languages tell apart.
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { po, type GetTextTranslation, type GetTextTranslations } from 'gettext-parser';
import { LOCALES, contextKey } from '../src/web/i18n.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const WEB = join(SRC, 'web');
/** Page code outside src/web: modules that import the hub's layout or the translator. */
const PAGE_IMPORT = /from '[./]*\/web\/(hub\/layout|hub\/common|i18n|layout)\.js'/;
const LOCALES_DIR = join(ROOT, 'locales');
const POT = join(LOCALES_DIR, 'aslo.pot');

export interface Message {
  /** gettext's msgctxt, for p('context', 'message'); empty for t() and n(). */
  context?: string;
  msgid: string;
  plural?: string;
  refs: string[];
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return walk(p);
    return name.endsWith('.ts') ? [p] : [];
  });
}

// A plain string literal in single or double quotes (the formatter picks the quotes that need
// fewer escapes), captured with its quotes.
const STR = String.raw`('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")`;
const CALL = new RegExp(String.raw`\b(t|n|p)\(\s*` + `(?:${STR}(?:\\s*,\\s*${STR})?)?`, 'g');

function unquote(quoted: string): string {
  const s = quoted.slice(1, -1);
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** The files whose messages are extracted: everything under src/web, and page code elsewhere. */
export function pageSources(): string[] {
  const web = walk(WEB);
  const others = walk(SRC).filter((f) => !f.startsWith(WEB + '/') && PAGE_IMPORT.test(readFileSync(f, 'utf8')));
  return [...web.sort(), ...others.sort()];
}

/** Every message of the page code, in first-seen order, with file:line references. */
export function extract(): { messages: Message[]; errors: string[] } {
  const byId = new Map<string, Message>();
  const errors: string[] = [];
  for (const file of pageSources()) {
    // Comment lines are blanked (same length, so line numbers in errors stay right).
    const text = readFileSync(file, 'utf8').replace(/^[ \t]*(\/\/|\*|\/\*).*$/gm, (c) => ' '.repeat(c.length));
    const rel = relative(ROOT, file);
    for (const m of text.matchAll(CALL)) {
      const line = text.slice(0, m.index!).split('\n').length;
      const [, fn, a, b] = m;
      if (a === undefined) {
        // t( / n( followed by something else: a definition, a variable, or a mistake.
        const next = text.slice(m.index! + m[0].length).trimStart()[0];
        if (next === '`') errors.push(`${rel}:${line}: ${fn}() takes its message as a plain string literal, not a template`);
        continue;
      }
      if ((fn === 'n' || fn === 'p') && b === undefined) {
        errors.push(`${rel}:${line}: ${fn}() needs two string literals (${fn === 'n' ? 'singular, plural' : 'context, message'})`);
        continue;
      }
      const context = fn === 'p' ? unquote(a) : '';
      const msgid = fn === 'p' ? unquote(b!) : unquote(a);
      const key = contextKey(context, msgid);
      const entry = byId.get(key) ?? { ...(context ? { context } : {}), msgid, refs: [] };
      if (fn === 'n') entry.plural = unquote(b!);
      if (!entry.refs.includes(rel)) entry.refs.push(rel);
      byId.set(key, entry);
    }
  }
  return { messages: [...byId.values()], errors };
}

function header(lang: string | null, pluralForms: string): Record<string, string> {
  return {
    'Project-Id-Version': 'aslo',
    'Content-Type': 'text/plain; charset=UTF-8',
    'Content-Transfer-Encoding': '8bit',
    ...(lang ? { Language: lang } : {}),
    'Plural-Forms': pluralForms,
  };
}

function potTable(messages: Message[]): GetTextTranslations {
  const translations: Record<string, Record<string, GetTextTranslation>> = { '': { '': { msgid: '', msgstr: [''] } } };
  for (const m of messages) {
    const ctx = m.context ?? '';
    (translations[ctx] ??= {})[m.msgid] = {
      ...(ctx ? { msgctxt: ctx } : {}),
      msgid: m.msgid,
      ...(m.plural ? { msgid_plural: m.plural } : {}),
      msgstr: m.plural ? ['', ''] : [''],
      comments: { reference: m.refs.join('\n') },
    };
  }
  return { charset: 'utf-8', headers: header(null, 'nplurals=2; plural=(n != 1);'), translations };
}

function nplurals(table: GetTextTranslations): number {
  const m = /nplurals\s*=\s*(\d+)/.exec(table.headers['Plural-Forms'] ?? '');
  return m ? Number(m[1]) : 2;
}

/** Merge the template into one PO table: keep translations, add new messages, obsolete the rest. */
export function merge(existing: GetTextTranslations, messages: Message[]): { table: GetTextTranslations; missing: string[] } {
  const np = nplurals(existing);
  const translations: Record<string, Record<string, GetTextTranslation>> = { '': { '': existing.translations['']?.[''] ?? { msgid: '', msgstr: [''] } } };
  const missing: string[] = [];
  for (const m of messages) {
    const ctx = m.context ?? '';
    const prev = existing.translations[ctx]?.[m.msgid] ?? existing.obsolete?.[ctx]?.[m.msgid];
    const msgstr = prev && (m.plural ? prev.msgid_plural : !prev.msgid_plural) ? prev.msgstr : m.plural ? Array(np).fill('') : [''];
    if (msgstr.some((s) => !s)) missing.push(ctx ? `${ctx}: ${m.msgid}` : m.msgid);
    (translations[ctx] ??= {})[m.msgid] = {
      ...(ctx ? { msgctxt: ctx } : {}),
      msgid: m.msgid,
      ...(m.plural ? { msgid_plural: m.plural } : {}),
      msgstr,
      comments: { ...(prev?.comments?.translator ? { translator: prev.comments.translator } : {}), reference: m.refs.join('\n') },
    };
  }
  const obsolete: Record<string, Record<string, GetTextTranslation>> = {};
  for (const [ctx, table] of Object.entries(existing.translations)) {
    for (const [id, entry] of Object.entries(table)) {
      if (id && !translations[ctx]?.[id] && entry.msgstr.some((s) => s)) (obsolete[ctx] ??= {})[id] = { ...entry, comments: {} };
    }
  }
  return { table: { charset: 'utf-8', headers: existing.headers, translations, ...(Object.keys(obsolete).length ? { obsolete } : {}) }, missing };
}

function compile(table: GetTextTranslations): string {
  return po.compile(table, { foldLength: 0, sort: false }).toString('utf8') + '\n';
}

function main(): void {
  const check = process.argv.includes('--check');
  const { messages, errors } = extract();
  const problems = [...errors];
  const pot = compile(potTable(messages));
  if (check) {
    const current = existsSync(POT) ? readFileSync(POT, 'utf8') : '';
    if (current !== pot) problems.push(`locales/aslo.pot is out of date: run "npx tsx scripts/extract-strings.ts"`);
  } else writeFileSync(POT, pot);
  for (const info of LOCALES) {
    if (!info.po) continue;
    const file = join(LOCALES_DIR, info.po);
    const existing = existsSync(file)
      ? po.parse(readFileSync(file))
      : { charset: 'utf-8', headers: header(info.tag, 'nplurals=2; plural=(n != 1);'), translations: { '': {} } };
    const { table, missing } = merge(existing, messages);
    for (const id of missing) problems.push(`locales/${info.po}: no translation for ${JSON.stringify(id)}`);
    const text = compile(table);
    if (check) {
      if (!existsSync(file) || readFileSync(file, 'utf8') !== text)
        problems.push(`locales/${info.po} is not merged with the template: run "npx tsx scripts/extract-strings.ts"`);
    } else writeFileSync(file, text);
  }
  console.log(`${messages.length} messages, ${LOCALES.filter((l) => l.po).length} catalogs`);
  if (problems.length) {
    for (const p of problems) console.error(p);
    if (check || errors.length) process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

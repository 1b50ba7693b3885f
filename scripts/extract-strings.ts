// The extraction step of the interface translations (docs/web.md):
//   npx tsx scripts/extract-strings.ts           collect every t('...') and n('...', '...', count)
//                                                under src/web into locales/aslo.pot, and merge it
//                                                into each locales/<lang>.po (new messages get an
//                                                empty translation, gone ones become obsolete #~)
//   npx tsx scripts/extract-strings.ts --check   change nothing; exit 1 when the template is out of
//                                                date or a PO file lacks a translation (the test
//                                                suite runs this)
// Messages must be string literals (one quote style, no template literals), so they can be
// found without running the code; a t( call with anything else is reported as an error.
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { po, type GetTextTranslation, type GetTextTranslations } from 'gettext-parser';
import { LOCALES } from '../src/web/i18n.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src', 'web');
const LOCALES_DIR = join(ROOT, 'locales');
const POT = join(LOCALES_DIR, 'aslo.pot');

export interface Message {
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

const STR = String.raw`'((?:[^'\\]|\\.)*)'`;
const CALL = new RegExp(String.raw`\b(t|n)\(\s*` + `(?:${STR}(?:\\s*,\\s*${STR})?)?`, 'g');

function unquote(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Every message in src/web, in first-seen order, with file:line references. */
export function extract(): { messages: Message[]; errors: string[] } {
  const byId = new Map<string, Message>();
  const errors: string[] = [];
  // The hub (src/web/hub) keeps its own English strings for now.
  for (const file of walk(SRC).filter((f) => !f.includes(`${join('web', 'hub')}`)).sort()) {
    // Comment lines are blanked (same length, so line numbers in errors stay right).
    const text = readFileSync(file, 'utf8').replace(/^[ \t]*(\/\/|\*|\/\*).*$/gm, (c) => ' '.repeat(c.length));
    const rel = relative(ROOT, file);
    for (const m of text.matchAll(CALL)) {
      const line = text.slice(0, m.index!).split('\n').length;
      const [, fn, a, b] = m;
      if (a === undefined) {
        // t( / n( followed by something else: a definition, a variable, or a mistake.
        const next = text.slice(m.index! + m[0].length).trimStart()[0];
        if (next === '"' || next === '`') errors.push(`${rel}:${line}: ${fn}() takes its message in single quotes, as a plain string literal`);
        continue;
      }
      if (fn === 'n' && b === undefined) {
        errors.push(`${rel}:${line}: n() needs two string literals (singular, plural)`);
        continue;
      }
      const msgid = unquote(a);
      const entry = byId.get(msgid) ?? { msgid, refs: [] };
      if (fn === 'n') entry.plural = unquote(b!);
      if (!entry.refs.includes(rel)) entry.refs.push(rel);
      byId.set(msgid, entry);
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
  const translations: Record<string, GetTextTranslation> = { '': { msgid: '', msgstr: [''] } };
  for (const m of messages) {
    translations[m.msgid] = { msgid: m.msgid, ...(m.plural ? { msgid_plural: m.plural } : {}), msgstr: m.plural ? ['', ''] : [''], comments: { reference: m.refs.join('\n') } };
  }
  return { charset: 'utf-8', headers: header(null, 'nplurals=2; plural=(n != 1);'), translations: { '': translations } };
}

function nplurals(table: GetTextTranslations): number {
  const m = /nplurals\s*=\s*(\d+)/.exec(table.headers['Plural-Forms'] ?? '');
  return m ? Number(m[1]) : 2;
}

/** Merge the template into one PO table: keep translations, add new messages, obsolete the rest. */
export function merge(existing: GetTextTranslations, messages: Message[]): { table: GetTextTranslations; missing: string[] } {
  const old = existing.translations[''] ?? {};
  const np = nplurals(existing);
  const translations: Record<string, GetTextTranslation> = { '': old[''] ?? { msgid: '', msgstr: [''] } };
  const missing: string[] = [];
  for (const m of messages) {
    const prev = old[m.msgid] ?? existing.obsolete?.['']?.[m.msgid];
    const msgstr = prev && (m.plural ? prev.msgid_plural : !prev.msgid_plural) ? prev.msgstr : m.plural ? Array(np).fill('') : [''];
    if (msgstr.some((s) => !s)) missing.push(m.msgid);
    translations[m.msgid] = { msgid: m.msgid, ...(m.plural ? { msgid_plural: m.plural } : {}), msgstr, comments: { ...(prev?.comments?.translator ? { translator: prev.comments.translator } : {}), reference: m.refs.join('\n') } };
  }
  const obsolete: Record<string, GetTextTranslation> = {};
  for (const [id, entry] of Object.entries(old)) if (id && !translations[id] && entry.msgstr.some((s) => s)) obsolete[id] = { ...entry, comments: {} };
  return { table: { charset: 'utf-8', headers: existing.headers, translations: { '': translations }, ...(Object.keys(obsolete).length ? { obsolete: { '': obsolete } } : {}) }, missing };
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
    const existing = existsSync(file) ? po.parse(readFileSync(file)) : { charset: 'utf-8', headers: header(info.tag, 'nplurals=2; plural=(n != 1);'), translations: { '': {} } };
    const { table, missing } = merge(existing, messages);
    for (const id of missing) problems.push(`locales/${info.po}: no translation for ${JSON.stringify(id)}`);
    const text = compile(table);
    if (check) {
      if (!existsSync(file) || readFileSync(file, 'utf8') !== text) problems.push(`locales/${info.po} is not merged with the template: run "npx tsx scripts/extract-strings.ts"`);
    } else writeFileSync(file, text);
  }
  console.log(`${messages.length} messages, ${LOCALES.filter((l) => l.po).length} catalogs`);
  if (problems.length) {
    for (const p of problems) console.error(p);
    if (check || errors.length) process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

// The source builder's gettext part: PO reading and .mo writing compared with what GNU msgfmt 0.21
// wrote for the same files (test/fixtures/build/po, committed bytes: msgfmt is not needed here),
// the refusals msgfmt makes, the linfo files Python's gettext would produce, and the plural
// expression evaluator.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/bundle-builder.js';
import { parsePo } from '../../src/build/po.js';
import { compileMo, hashKey, hashTableSize } from '../../src/build/mo.js';
import { evaluatePlural, pluralExpression } from '../../src/build/plural.js';
import { compileTranslations, decodeAs, type BuildWarning } from '../../src/build/translations.js';
import { BuildError } from '../../src/build/errors.js';

const PO_DIR = join(REPO_ROOT, 'test', 'fixtures', 'build', 'po');
const poNames = readdirSync(PO_DIR)
  .filter((f) => f.endsWith('.po'))
  .sort();

function compile(name: string): Buffer | null {
  return compileMo(parsePo(readFileSync(join(PO_DIR, name)), name));
}

describe(".mo files equal msgfmt's bytes", () => {
  for (const name of poNames.filter((n) => existsSync(join(PO_DIR, n.replace(/\.po$/, '.mo'))))) {
    test(name, () => {
      const expected = readFileSync(join(PO_DIR, name.replace(/\.po$/, '.mo')));
      const mine = compile(name);
      assert.ok(mine, 'a catalog was written');
      assert.equal(mine.toString('hex'), expected.toString('hex'));
    });
  }
  test('the fixtures cover plurals, contexts, fuzzy entries, a non-UTF-8 charset and a 200-entry hash table', () => {
    const mixed = readFileSync(join(PO_DIR, 'mixed.po'), 'utf8');
    for (const s of ['msgid_plural', 'msgctxt', '#, fuzzy', '#~']) assert.ok(mixed.includes(s), s);
    assert.match(readFileSync(join(PO_DIR, 'latin1.po'), 'latin1'), /charset=ISO-8859-1/);
    assert.equal(readFileSync(join(PO_DIR, 'gen3.mo')).readUInt32LE(20), 223);
  });
});

describe('what msgfmt refuses is refused, with the line', () => {
  const cases: Record<string, RegExp> = {
    'dup.po': /dup\.po:4: duplicate message definition/,
    'obsfuzzy.po': /obsfuzzy\.po:3: duplicate message definition/,
    'syntax.po': /syntax\.po:2: end-of-line within string/,
    'bom.po': /bom\.po:1:2: syntax error/,
    'badutf8.po': /badutf8\.po:5: invalid multibyte sequence/,
    'plural_idx.po': /plural_idx\.po:5: first plural form has nonzero index/,
    'hexb.po': /hexb\.po:2:10: invalid control sequence/,
    'hex1.po': /context separator <EOT> within string/,
  };
  for (const [name, message] of Object.entries(cases)) {
    test(name, () => {
      assert.equal(existsSync(join(PO_DIR, name.replace(/\.po$/, '.mo'))), false, 'msgfmt wrote nothing');
      assert.throws(
        () => compile(name),
        (err: unknown) => err instanceof BuildError && err.code === 'BUILD_PO_INVALID' && message.test(err.message),
      );
    });
  }
  test('a file with nothing left to write gives no catalog, as msgfmt writes no file', () => {
    assert.equal(compile('onlyfuzzy.po'), null);
  });
});

describe('hash table', () => {
  test('sizes follow GNU next_prime(4n/3) with its test that rejects 3', () => {
    assert.deepEqual([0, 1, 2, 3, 5, 6].map(hashTableSize), [3, 3, 5, 5, 7, 11]);
  });
  test('PJW hash of the key up to its first NUL', () => {
    assert.equal(hashKey(Buffer.from('a')), 97n);
    assert.equal(hashKey(Buffer.from('file\0files')), hashKey(Buffer.from('file')));
  });
});

describe('linfo files as the builder writes them', () => {
  const po = (body: string, charset = 'UTF-8') =>
    Buffer.from(`msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=${charset}\\n"\n"Plural-Forms: nplurals=2; plural=n != 1;\\n"\n\n${body}`, 'utf8');
  const build = (bytes: Buffer, name: string, summary: string | null) => {
    const warnings: BuildWarning[] = [];
    const [l] = compileTranslations({ poFiles: [{ lang: 'es', path: 'po/es.po', bytes }], name, summary }, warnings);
    return { linfo: l?.linfo.toString('utf8'), warnings };
  };
  test('name and summary translated; newlines removed from the summary only', () => {
    const r = build(po('msgid "Paint"\nmsgstr "Pintar"\n\nmsgid "Draw"\nmsgstr "Dibujar\\ncosas"\n'), 'Paint', 'Draw');
    assert.equal(r.linfo, '[Activity]\nname = Pintar\nsummary = Dibujarcosas\n');
  });
  test('untranslated, fuzzy and context-only entries fall back to the English text', () => {
    const r = build(po('#, fuzzy\nmsgid "Paint"\nmsgstr "Pintar"\n\nmsgctxt "x"\nmsgid "Draw"\nmsgstr "Dibujar"\n'), 'Paint', 'Draw');
    assert.equal(r.linfo, '[Activity]\nname = Paint\nsummary = Draw\n');
  });
  test('no summary key gives "summary = "; an empty summary gives the header glued into one line', () => {
    assert.equal(build(po('msgid "Paint"\nmsgstr "Pintar"\n'), 'Paint', null).linfo, '[Activity]\nname = Pintar\nsummary = \n');
    assert.equal(
      build(po('msgid "Paint"\nmsgstr "Pintar"\n'), 'Paint', '').linfo,
      '[Activity]\nname = Pintar\nsummary = Content-Type: text/plain; charset=UTF-8Plural-Forms: nplurals=2; plural=n != 1;\n',
    );
  });
  test("a plural entry answers a plain lookup with form plural(1), as Python's gettext does", () => {
    const r = build(po('msgid "Paint"\nmsgid_plural "Paints"\nmsgstr[0] "Pintura"\nmsgstr[1] "Pinturas"\n'), 'Paint', null);
    assert.equal(r.linfo, '[Activity]\nname = Pintura\nsummary = \n');
  });
  test('a Latin-1 catalog keeps its bytes in the .mo and gives a UTF-8 linfo', () => {
    const bytes = Buffer.from('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=ISO-8859-1\\n"\n\nmsgid "Paint"\nmsgstr "P\xe9inture"\n', 'latin1');
    const warnings: BuildWarning[] = [];
    const [l] = compileTranslations({ poFiles: [{ lang: 'fr', path: 'po/fr.po', bytes }], name: 'Paint', summary: null }, warnings);
    assert.ok(l.mo.includes(Buffer.from('P\xe9inture', 'latin1')));
    assert.equal(l.linfo.toString('utf8'), '[Activity]\nname = Péinture\nsummary = \n');
  });
  test('non-ASCII translation without a charset is refused (Python cannot decode it)', () => {
    const bytes = Buffer.from('msgid "Paint"\nmsgstr "Pintá"\n', 'utf8');
    assert.throws(
      () => compileTranslations({ poFiles: [{ lang: 'es', path: 'po/es.po', bytes }], name: 'Paint', summary: null }, []),
      (e: unknown) => e instanceof BuildError && e.code === 'BUILD_PO_CHARSET',
    );
  });
  test('charset=CHARSET with ASCII text builds, with a warning', () => {
    const r = build(po('msgid "Paint"\nmsgstr "Pintar"\n', 'CHARSET'), 'Paint', null);
    assert.equal(r.linfo, '[Activity]\nname = Pintar\nsummary = \n');
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['BUILD_PO_CHARSET_UNKNOWN'],
    );
  });
  test('a PO file with nothing to compile is left out with a warning', () => {
    const warnings: BuildWarning[] = [];
    const out = compileTranslations(
      { poFiles: [{ lang: 'es', path: 'po/es.po', bytes: Buffer.from('#, fuzzy\nmsgid "a"\nmsgstr "b"\n') }], name: 'a', summary: null },
      warnings,
    );
    assert.equal(out.length, 0);
    assert.deepEqual(
      warnings.map((w) => w.code),
      ['BUILD_PO_EMPTY'],
    );
  });
});

describe('plural expressions and charsets', () => {
  test("evaluates C expressions like Python's c2py", () => {
    const ru = '(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)';
    assert.deepEqual(
      [1, 2, 5, 11, 21, 22].map((n) => evaluatePlural(ru, n)),
      [0, 1, 2, 2, 0, 1],
    );
    assert.equal(evaluatePlural('n != 1', 1), 0);
    assert.equal(evaluatePlural('0', 1), 0);
    assert.equal(evaluatePlural('n==0 ? 0 : n==1 ? 1 : 2', 1), 1);
    assert.equal(evaluatePlural('n !!= ', 1), null);
    assert.equal(evaluatePlural('n / 0', 1), null);
    assert.equal(pluralExpression('Content-Type: x\nPlural-Forms: nplurals=2; plural=(n > 1);\n'), '(n > 1)');
  });
  test("decodes as Python's codecs do for ASCII and Latin-1", () => {
    assert.equal(decodeAs(Buffer.from([0x80]), 'ISO-8859-1'), '\u0080');
    assert.equal(decodeAs(Buffer.from([0xe9]), 'ascii'), null);
    assert.equal(decodeAs(Buffer.from('é'), 'utf-8'), 'é');
    assert.equal(decodeAs(Buffer.from('x'), 'CHARSET'), null);
  });
});

// The INI reader against Python's configparser. Every expected value below was produced by
// CPython 3.11's configparser.ConfigParser() (the reader Sugar uses) on the same text; the tests
// themselves do not need Python.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getInterpolated, hasOption, parseIni, pyStrip } from '../../src/bundles/ini.js';
import type { IniDocument, IniErrorKind } from '../../src/bundles/ini.js';

type PyError = 'MissingSectionHeaderError' | 'ParsingError' | 'DuplicateOptionError' | 'DuplicateSectionError';
type Case = [
  name: string,
  text: string,
  expected: { sections: Record<string, Record<string, string>>; defaults?: Record<string, string> } | { error: PyError },
];

const PY_TO_KIND: Record<PyError, IniErrorKind> = {
  MissingSectionHeaderError: 'missing-section-header',
  ParsingError: 'parse',
  DuplicateOptionError: 'duplicate-option',
  DuplicateSectionError: 'duplicate-section',
};

const CASES: Case[] = [
  ['basic', '[Activity]\nname = Foo\nbundle_id=org.x.Foo\n', { sections: { Activity: { name: 'Foo', bundle_id: 'org.x.Foo' } } }],
  ['first "=" or ":" is the delimiter', '[A]\nurl = http://x:80/\nk: v = w\n', { sections: { A: { url: 'http://x:80/', k: 'v = w' } } }],
  ['keys are lowercased', '[A]\nName = X\n', { sections: { A: { name: 'X' } } }],
  ['inline comments are NOT stripped', '[A]\nname = Foo # bar ; baz\n', { sections: { A: { name: 'Foo # bar ; baz' } } }],
  ['full-line # and ; comments, even indented', '[A]\n# c\n  ; c2\nname = x\n', { sections: { A: { name: 'x' } } }],
  ['comments and blank lines before the first section', '# hi\n\n; x\n[A]\nk=v\n', { sections: { A: { k: 'v' } } }],
  ['a key before any section', 'k = v\n[A]\n', { error: 'MissingSectionHeaderError' }],
  ['a line without delimiter', '[A]\nfoo\n', { error: 'ParsingError' }],
  ['an empty key', '[A]\n= v\n', { error: 'ParsingError' }],
  ['duplicate key (case-insensitive)', '[A]\nk=1\nK=2\n', { error: 'DuplicateOptionError' }],
  ['duplicate section', '[A]\n[A]\n', { error: 'DuplicateSectionError' }],
  ['[DEFAULT] may repeat', '[DEFAULT]\na=1\n[DEFAULT]\nb=2\n[A]\n', { sections: { A: {} }, defaults: { a: '1', b: '2' } }],
  ['but its keys may not', '[DEFAULT]\na=1\n[DEFAULT]\na=2\n', { error: 'DuplicateOptionError' }],
  [
    'continuation keeps inner blank lines, drops trailing ones',
    '[A]\nd = one\n  two\n\n  three\n\n\nk = v\n',
    { sections: { A: { d: 'one\ntwo\n\nthree', k: 'v' } } },
  ],
  ['continuation after an empty first value', '[A]\nd =\n  one\n', { sections: { A: { d: '\none' } } }],
  ['comment lines inside a value are dropped', '[A]\nd = one\n  # not part\n  two\n', { sections: { A: { d: 'one\ntwo' } } }],
  ['tab indentation and a whitespace-only line', '[A]\nd = a\n\tb\n\t\nk = v\n', { sections: { A: { d: 'a\nb', k: 'v' } } }],
  ['CRLF line endings', '[A]\r\nname = x\r\n  y\r\n', { sections: { A: { name: 'x\ny' } } }],
  ['a lone CR does not end a line', '[A]\nname = x\ry\n', { sections: { A: { name: 'x\ry' } } }],
  ['no final newline', '[A]\nk = v', { sections: { A: { k: 'v' } } }],
  ['text after the header ] is ignored', '[A] junk\nk=v\n', { sections: { A: { k: 'v' } } }],
  ['spaces in a header are part of the name', '[ A ]\nk=v\n', { sections: { ' A ': { k: 'v' } } }],
  ['the header takes up to the last ]', '[A]]\nk=v\n', { sections: { 'A]': { k: 'v' } } }],
  ['[] is not a header (first line)', '[]\n', { error: 'MissingSectionHeaderError' }],
  ['[] is not a header (later)', '[A]\n[]\n', { error: 'ParsingError' }],
  ['an indented key right after a header', '[A]\n  k = v\n', { sections: { A: { k: 'v' } } }],
  ['a deeper-indented key line continues the previous value', '[A]\nk = v\n  j = w\n', { sections: { A: { k: 'v\nj = w' } } }],
  ['Unicode whitespace (NBSP) is stripped', '[A]\nk = v\u00a0\n', { sections: { A: { k: 'v' } } }],
  ['U+001C is whitespace for Python', '[A]\nk = v\x1c\n', { sections: { A: { k: 'v' } } }],
  ['a BOM is not whitespace', '[A]\nk = \ufeffv\n', { sections: { A: { k: '\ufeffv' } } }],
  ['blanks around the delimiter', '[A]\nk   =   v  \n', { sections: { A: { k: 'v' } } }],
  ['keys may contain spaces', '[A]\nmy key = v\n', { sections: { A: { 'my key': 'v' } } }],
  ['a bad line fails the file even inside a value', '[A]\nk = v\nbad\n  more\n', { error: 'ParsingError' }],
  ['blank line before the next section', '[A]\nk = v\n\n[B]\nj = w\n', { sections: { A: { k: 'v' }, B: { j: 'w' } } }],
  ['empty value', '[A]\nmime_types =\n', { sections: { A: { mime_types: '' } } }],
  ['empty file', '', { sections: {} }],
  ['only comments', '# a\n; b\n', { sections: {} }],
  ['dedent ends a continuation', '[A]\n  k = v\n    c\n  j = w\n', { sections: { A: { k: 'v\nc', j: 'w' } } }],
  ['UTF-8 text', '[A]\nname = Ecológica\n', { sections: { A: { name: 'Ecológica' } } }],
];

function rawSections(doc: IniDocument) {
  const sections: Record<string, Record<string, string>> = {};
  for (const [name, opts] of doc.sections) sections[name] = Object.fromEntries([...opts].map(([k, v]) => [k, v.value]));
  return { sections, defaults: Object.fromEntries([...doc.defaults].map(([k, v]) => [k, v.value])) };
}

describe('INI reader = Python configparser', () => {
  for (const [name, text, expected] of CASES) {
    test(name, () => {
      const doc = parseIni(text);
      if ('error' in expected) {
        assert.ok(
          doc.errors.some((e) => e.kind === PY_TO_KIND[expected.error]),
          `expected ${expected.error}, got ${JSON.stringify(doc.errors)}`,
        );
      } else {
        assert.deepEqual(doc.errors, []);
        assert.deepEqual(rawSections(doc), { sections: expected.sections, defaults: expected.defaults ?? {} });
      }
    });
  }

  test('errors carry the line number', () => {
    const doc = parseIni('[Activity]\nname = a\nexec = x\n\nexec = y\n');
    assert.deepEqual(
      doc.errors.map((e) => [e.kind, e.line]),
      [['duplicate-option', 5]],
    );
  });

  test('values remember the line of their key', () => {
    const doc = parseIni('# c\n[A]\n\nk = v\n  more\nj = w\n');
    assert.equal(doc.sections.get('A')!.get('k')!.line, 4);
    assert.equal(doc.sections.get('A')!.get('j')!.line, 6);
  });

  test('has_option sees DEFAULT keys, not missing sections', () => {
    const doc = parseIni('[DEFAULT]\nd = 1\n[A]\nk = v\n');
    assert.equal(hasOption(doc, 'A', 'd'), true);
    assert.equal(hasOption(doc, 'A', 'K'), true);
    assert.equal(hasOption(doc, 'B', 'd'), false);
  });

  test('pyStrip strips what Python strips, not what JS trims', () => {
    assert.equal(pyStrip('\x85 a \u3000'), 'a');
    assert.equal(pyStrip('\ufeffa'), '\ufeffa');
  });
});

// [name, extra lines appended to BASE, key to get from [A], expected]
const BASE = '[DEFAULT]\ncomponent = TamTam\nx = %(y)s\nshadow = from-default\n[A]\ny = 1\nshadow = from-section\n';
const chain = (n: number) => `v = %(d1)s\n${Array.from({ length: n - 1 }, (_, i) => `d${i + 1} = %(d${i + 2})s`).join('\n')}\nd${n} = end`;
type InterpCase = [string, string, string, { value: string } | { error: 'syntax' | 'missing' | 'depth' }];
const INTERPOLATION: InterpCase[] = [
  ['%% is a literal %', 'v = 100%%', 'v', { value: '100%' }],
  ['reference in the same section', 'v = %(y)s!', 'v', { value: '1!' }],
  ['reference to DEFAULT', 'v = org.laptop.%(component)s', 'v', { value: 'org.laptop.TamTam' }],
  ['references are case-insensitive', 'v = %(COMPONENT)s', 'v', { value: 'TamTam' }],
  ['a DEFAULT value resolves against the section read', '', 'x', { value: '1' }],
  ['the section shadows DEFAULT', 'v = %(shadow)s', 'v', { value: 'from-section' }],
  ['chained references', 'v = %(c1)s\nc1 = %(c2)s\nc2 = %(c3)s\nc3 = end%%', 'v', { value: 'end%' }],
  ['10 levels are fine', chain(10), 'v', { value: 'end' }],
  ['11 levels are too deep', chain(11), 'v', { error: 'depth' }],
  ['a key referring to itself', 'v = %(v)s', 'v', { error: 'depth' }],
  ['a missing reference', 'v = %(nope)s', 'v', { error: 'missing' }],
  ['a bare %', 'v = 100% sure', 'v', { error: 'syntax' }],
  ['a trailing %', 'v = 100%', 'v', { error: 'syntax' }],
  ['%d is not a reference', 'v = %d', 'v', { error: 'syntax' }],
  ['%(name) without s', 'v = %(y)', 'v', { error: 'syntax' }],
  ['references in multi-line values', 'v = a\n  %(y)s', 'v', { value: 'a\n1' }],
];

describe('BasicInterpolation = Python configparser', () => {
  for (const [name, extra, key, expected] of INTERPOLATION) {
    test(name, () => {
      const doc = parseIni(`${BASE}${extra}\n`);
      assert.deepEqual(doc.errors, []);
      const r = getInterpolated(doc, 'A', key)!;
      if ('value' in expected) assert.deepEqual(r, { ok: true, value: expected.value });
      else {
        assert.equal(r.ok, false);
        if (!r.ok) assert.equal(r.kind, expected.error);
      }
    });
  }
});

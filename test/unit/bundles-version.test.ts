// Sugar version numbers. Validity and parts were checked against sugar3's NormalizedVersion
// regex and rules in Python.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareSugarVersions, isGtk2Suffix, normalizeSugarVersion, parseSugarVersion, runtimeFromExec, sugarVersionSortKey } from '../../src/bundles/index.js';

// [input, parts (null = invalid), suffix, portable, GTK2-compatible suffix]
const PARSE: [string, number[] | null, string | null, boolean, boolean][] = [
  ['1', [1], null, true, true],
  ['1.2', [1, 2], null, false, true],
  ['1.2.3', [1, 2, 3], null, false, true],
  ['1.2.3-peru', [1, 2, 3], '-peru', false, true],
  ['1.2.3~dfsg', [1, 2, 3], '~dfsg', false, false],
  ['1.2.3-Peru', [1, 2, 3], '-Peru', false, true],
  ['3-rc', [3], '-rc', false, true],
  ['0', [0], null, true, true],
  ['0.0', [0], null, false, true],
  ['1.0', [1], null, false, true],
  ['1.0.0', [1], null, false, true],
  ['10.0.0.0', [10], null, false, true],
  ['0.100', [0, 100], null, false, true],
  // Sugar's regex allows ONE arbitrary character after - or ~, then letters only.
  ['1-1', [1], '-1', false, false],
  ['1~~', [1], '~~', false, false],
  ['1- a', [1], '- a', false, false],
  ['1-😀', [1], '-😀', false, false],
  ['1.2.3-p', [1, 2, 3], '-p', false, true],
  // invalid for Sugar
  ['1.2peru', null, null, false, false],
  ['1.2.', null, null, false, false],
  ['1.02', null, null, false, false],
  ['00', null, null, false, false],
  ['1.2.3-rc1', null, null, false, false],
  ['1.2-ab1', null, null, false, false],
  ['1.2-', null, null, false, false],
  ['1-', null, null, false, false],
  ['-1', null, null, false, false],
  ['1..2', null, null, false, false],
  ['.1', null, null, false, false],
  ['1 ', null, null, false, false],
  ['v1', null, null, false, false],
  ['', null, null, false, false],
  ['1.5e3', null, null, false, false],
  // Deliberately stricter than Python (documented in README.md): Python's \d accepts other
  // scripts' digits and its $ tolerates one trailing newline; segments are capped at 15 digits.
  ['١', null, null, false, false],
  ['1\n', null, null, false, false],
  ['1234567890123456', null, null, false, false],
];

describe('parseSugarVersion', () => {
  for (const [input, parts, suffix, portable, gtk2] of PARSE) {
    test(JSON.stringify(input), () => {
      const v = parseSugarVersion(input);
      if (parts === null) {
        assert.equal(v.valid, false);
        assert.ok(v.reason);
        return;
      }
      assert.deepEqual({ valid: v.valid, parts: v.parts, suffix: v.suffix, portable: v.portable }, { valid: true, parts, suffix, portable });
      assert.equal(isGtk2Suffix(v.suffix), gtk2);
    });
  }
});

// [a, b, expected sign of compare(a, b)]
const COMPARE: [string, string, -1 | 0 | 1][] = [
  ['1.10', '1.9', 1],
  ['0.100', '0.98', 1],
  ['2', '1.999', 1],
  ['1.0', '1', 0],
  ['1.0.0', '1', 0],
  ['1.2-peru', '1.2', 0],
  ['1.2~dfsg', '1.2-peru', 0],
  ['1', '1.0.1', -1],
  ['1.5', '1.10', -1],
  ['9', '10', -1],
  ['99', '100', -1],
  ['208', '99', 1],
  ['0', '0.0.0', 0],
  ['0.0.1', '0', 1],
  ['1.2.3', '1.2.10', -1],
  ['123456789012345', '99999999999999', 1],
  ['1.999999999', '2', -1],
  ['6.2', '6.10', -1],
];

describe('compareSugarVersions and sugarVersionSortKey agree', () => {
  for (const [a, b, expected] of COMPARE) {
    test(`${a} vs ${b}`, () => {
      assert.equal(Math.sign(compareSugarVersions(a, b)), expected);
      assert.equal(Math.sign(compareSugarVersions(b, a)), expected === 0 ? 0 : -expected);
      const ka = sugarVersionSortKey(a);
      const kb = sugarVersionSortKey(b);
      const byteOrder = Buffer.compare(Buffer.from(ka), Buffer.from(kb));
      assert.equal(Math.sign(byteOrder), expected, `keys ${ka} / ${kb}`);
      assert.equal(ka < kb ? -1 : ka > kb ? 1 : 0, expected);
    });
  }

  test('sorting a shuffled list by key equals sorting by comparison', () => {
    const versions = ['1', '1.0.1', '1.2', '1.10', '1.9', '2', '0.98', '0.100', '10', '9.9.9', '1.2.3-peru', '0', '100', '1.999', '3~beta'];
    const byCompare = [...versions].sort(compareSugarVersions).map(normalizeSugarVersion);
    const byKey = [...versions].sort((x, y) => (sugarVersionSortKey(x) < sugarVersionSortKey(y) ? -1 : 1)).map(normalizeSugarVersion);
    assert.deepEqual(byKey, byCompare);
  });

  test('keys are plain ASCII letters and digits', () => {
    for (const v of ['0', '1.2.3', '123456789012345.1']) assert.match(sugarVersionSortKey(v), /^[A-Z0-9]+$/);
  });

  test('invalid versions throw', () => {
    assert.throws(() => compareSugarVersions('1.02', '1'), /invalid Sugar version/);
    assert.throws(() => sugarVersionSortKey('1.2peru'), /invalid Sugar version/);
  });

  test('normalized form', () => {
    assert.equal(normalizeSugarVersion('1.2.0-peru'), '1.2');
    assert.equal(normalizeSugarVersion('0.0'), '0');
    assert.equal(normalizeSugarVersion('10.0.1'), '10.0.1');
  });
});

describe('runtimeFromExec', () => {
  const CASES: [string | null, string][] = [
    ['sugar-activity3 activity.HelloWorld', 'python3'],
    ['sugar-activity3', 'python3'],
    ['sugar-activity-web', 'web'],
    ['sugar-activity activity.Old -s', 'python2'],
    ['sugar-activity ConstellationsFlashCards.ConstellationsFlashCards', 'python2'], // from legacy `class`
    ['/usr/bin/sugar-activity3 x.Y', 'python3'],
    ['./sugar-activity x.Y', 'other'],
    ['./firefox-activity.py', 'other'],
    ['EtoysBasedActivityStart.sh', 'other'],
    ['sweetmail.mailactivity', 'other'],
    ['activity/activity activity.StoryBuilderActivity', 'other'],
    ['python3 main.py', 'other'],
    [null, 'other'],
  ];
  for (const [exec, runtime] of CASES) {
    test(String(exec), () => assert.equal(runtimeFromExec(exec), runtime));
  }
});

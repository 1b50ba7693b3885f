// What decides the updater's answer before the index is consulted, without a database: the range a
// version is served with (src/catalog/compat.ts: the runtime table, an uploader's range narrowed
// to its runtime's row, ranges from configuration) and the updater's request as Sugar writes it
// (src/updates/query.ts: the id taken as written, appVersion, experimental, If-None-Match).
// test/unit/updates-index.test.ts checks the index's answer built on these.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sugarVersionSortKey, type Runtime } from '../../src/bundles/index.js';
import {
  DEFAULT_RUNTIME_RANGES,
  defaultRangeFor,
  effectiveRange,
  formatRangeSpec,
  parseRangeSpec,
  rangeContains,
  runtimeRangesFromConfig,
} from '../../src/catalog/compat.js';
import { etagMatches, parseUpdateQuery } from '../../src/updates/query.js';

const key = sugarVersionSortKey;

/** Whether a Sugar of this version is inside the range served for (stored, runtime). */
function serves(stored: { min: string | null; max: string | null; origin: 'uploader' | 'runtime' }, runtime: Runtime, sugar: string): boolean {
  const r = effectiveRange(stored, runtime);
  return r.satisfiable && rangeContains(r, key(sugar));
}

describe('range specs (updates.runtimeRanges)', () => {
  it('reads MIN-MAX with either side open, spaces allowed', () => {
    assert.deepEqual(parseRangeSpec('0.82-0.116'), { min: '0.82', max: '0.116' });
    assert.deepEqual(parseRangeSpec('0.116-'), { min: '0.116', max: null });
    assert.deepEqual(parseRangeSpec('-0.116'), { min: null, max: '0.116' });
    assert.deepEqual(parseRangeSpec(' 0.82 - 0.116 '), { min: '0.82', max: '0.116' });
    assert.deepEqual(parseRangeSpec(''), { min: null, max: null });
    assert.deepEqual(parseRangeSpec('-'), { min: null, max: null });
  });

  it('refuses what is not a range, a side that is not a Sugar version, and an empty range', () => {
    assert.throws(() => parseRangeSpec('0.82'), /is not a range/);
    assert.throws(() => parseRangeSpec('0.82-0.100-0.2'), /is not a range/);
    assert.throws(() => parseRangeSpec('abc-0.1'), /"abc" .* is not a Sugar version/);
    // By Sugar's order 0.116 is above 0.82 (not by decimals): this one is empty.
    assert.throws(() => parseRangeSpec('0.116-0.82'), /is empty/);
    assert.doesNotThrow(() => parseRangeSpec('0.98-0.100'));
  });

  it('writes a range back in the form it reads', () => {
    for (const spec of ['0.82-0.116', '0.116-', '-0.116', '-']) assert.equal(formatRangeSpec(parseRangeSpec(spec)), spec);
  });

  it('replaces only the runtimes configuration names, and names the key of a bad one', () => {
    assert.deepEqual(runtimeRangesFromConfig(undefined), DEFAULT_RUNTIME_RANGES);
    const t = runtimeRangesFromConfig({ web: '0.110-', python2: '-' });
    assert.deepEqual(t.web, { min: '0.110', max: null });
    assert.deepEqual(t.python2, { min: null, max: null });
    assert.deepEqual(t.python3, DEFAULT_RUNTIME_RANGES.python3);
    assert.deepEqual(t.other, DEFAULT_RUNTIME_RANGES.other);
    assert.throws(() => runtimeRangesFromConfig({ python3: '0.120-0.116' }), /^Error: updates\.runtimeRanges\.python3: .*is empty/);
    // The defaults themselves are never changed by a deployment's table.
    assert.deepEqual(DEFAULT_RUNTIME_RANGES.web, { min: '0.100', max: null });
  });

  it("gives each runtime its row as the default range (a copy), unknown runtimes the 'other' row", () => {
    assert.deepEqual(defaultRangeFor('python2'), { min: '0.82', max: '0.116' });
    assert.deepEqual(defaultRangeFor('python3'), { min: '0.116', max: null });
    assert.deepEqual(defaultRangeFor('web'), { min: '0.100', max: null });
    assert.deepEqual(defaultRangeFor('other'), { min: '0.82', max: null });
    assert.deepEqual(defaultRangeFor('lisp' as Runtime), { min: '0.82', max: null });
    const copy = defaultRangeFor('python2');
    copy.max = '0.200';
    assert.equal(DEFAULT_RUNTIME_RANGES.python2.max, '0.116');
  });
});

describe('the range a version is served with', () => {
  it('follows the runtime table as configured now when the range came from the runtime', () => {
    // Stored at ingest from an older table: the stored bounds no longer count.
    const r = effectiveRange({ min: '0.90', max: '0.94', origin: 'runtime' }, 'web');
    assert.deepEqual([r.min, r.max, r.satisfiable], ['0.100', null, true]);
    const custom = effectiveRange({ min: '0.82', max: '0.116', origin: 'runtime' }, 'python2', {
      ...DEFAULT_RUNTIME_RANGES,
      python2: { min: '0.82', max: '0.120' },
    });
    assert.equal(custom.max, '0.120');
  });

  it("narrows an uploader's range to the runtime's row on both sides, never widens it", () => {
    const wide = effectiveRange({ min: '0.70', max: '0.200', origin: 'uploader' }, 'python2');
    assert.deepEqual([wide.min, wide.max], ['0.82', '0.116']);
    const narrow = effectiveRange({ min: '0.100', max: '0.110', origin: 'uploader' }, 'python2');
    assert.deepEqual([narrow.min, narrow.max], ['0.100', '0.110']);
    const open = effectiveRange({ min: '0.118', max: null, origin: 'uploader' }, 'python3');
    assert.deepEqual([open.min, open.max], ['0.118', null]);
    const other = effectiveRange({ min: null, max: null, origin: 'uploader' }, 'other');
    assert.deepEqual([other.min, other.max], ['0.82', null]);
  });

  it("ignores an uploader's bound that is not a Sugar version", () => {
    const r = effectiveRange({ min: 'junk', max: '0.1.x', origin: 'uploader' }, 'python3');
    assert.deepEqual([r.min, r.max, r.satisfiable], ['0.116', null, true]);
  });

  it('is unsatisfiable when the uploader and the runtime share no Sugar release', () => {
    const r = effectiveRange({ min: '0.120', max: null, origin: 'uploader' }, 'python2');
    assert.equal(r.satisfiable, false);
    const py3old = effectiveRange({ min: '0.100', max: '0.112', origin: 'uploader' }, 'python3');
    assert.equal(py3old.satisfiable, false);
    // A range of one release is still a range.
    const one = effectiveRange({ min: '0.116', max: '0.116', origin: 'uploader' }, 'python2');
    assert.equal(one.satisfiable, true);
    assert.ok(rangeContains(one, key('0.116')));
  });

  it('holds its bounds, compares by Sugar order, and is open where a side is missing', () => {
    const r = effectiveRange({ min: '0.98', max: '0.110', origin: 'uploader' }, 'other');
    for (const s of ['0.98', '0.100', '0.104', '0.110']) assert.ok(rangeContains(r, key(s)), s);
    for (const s of ['0.96', '0.112', '0.120', '1.0']) assert.ok(!rangeContains(r, key(s)), s);
    assert.ok(rangeContains({ minKey: null, maxKey: null }, key('0.82')));
    assert.ok(rangeContains({ minKey: key('0.100'), maxKey: null }, key('2.0')));
    assert.ok(!rangeContains({ minKey: null, maxKey: key('0.100') }, key('0.102')));
  });

  it('serves every runtime to the Sugar releases that can run it', () => {
    const fromRuntime = { min: null, max: null, origin: 'runtime' as const };
    const cases: [Runtime, string, boolean][] = [
      ['python2', '0.80', false],
      ['python2', '0.82', true],
      ['python2', '0.116', true],
      ['python2', '0.118', false],
      ['python3', '0.114', false],
      ['python3', '0.116', true],
      ['python3', '0.130', true],
      ['web', '0.98', false],
      ['web', '0.100', true],
      ['web', '0.120', true],
      ['other', '0.80', false],
      ['other', '0.82', true],
      ['other', '0.120', true],
    ];
    for (const [runtime, sugar, want] of cases) assert.equal(serves(fromRuntime, runtime, sugar), want, `${runtime} on Sugar ${sugar}`);
  });
});

describe("the updater's request", () => {
  it('takes the id as Sugar writes it (unencoded, a + stays a +), decoding only %-escapes', () => {
    assert.deepEqual(parseUpdateQuery('/services/update-aslo.php?id=org.laptop.Chat&appVersion=0.116'), {
      id: 'org.laptop.Chat',
      appVersion: '0.116',
      experimental: false,
    });
    assert.equal(parseUpdateQuery('/u?id=org.x.A+B').id, 'org.x.A+B');
    assert.equal(parseUpdateQuery('/u?id=org.x.%C3%9Cber').id, 'org.x.Über');
    // A malformed escape leaves the value as written.
    assert.equal(parseUpdateQuery('/u?id=org.x.100%zz').id, 'org.x.100%zz');
  });

  it('keeps the first of a repeated key and ignores keys it does not know', () => {
    const q = parseUpdateQuery('/u?reqVersion=2&id=first&appID=x&id=second&appVersion=0.110&appVersion=0.120&version=9');
    assert.deepEqual(q, { id: 'first', appVersion: '0.110', experimental: false });
  });

  it('reads an empty or missing id and appVersion as absent, and trims appVersion', () => {
    assert.deepEqual(parseUpdateQuery('/u'), { id: null, appVersion: null, experimental: false });
    assert.deepEqual(parseUpdateQuery('/u?'), { id: null, appVersion: null, experimental: false });
    assert.deepEqual(parseUpdateQuery('/u?id=&appVersion='), { id: null, appVersion: null, experimental: false });
    assert.deepEqual(parseUpdateQuery('/u?id&appVersion'), { id: null, appVersion: null, experimental: false });
    assert.equal(parseUpdateQuery('/u?id=a&appVersion=%200.116%20').appVersion, '0.116');
    assert.equal(parseUpdateQuery('/u?&&id=a&&').id, 'a');
  });

  it('asks for experimental versions with 1, true, yes or on (any case), nothing else', () => {
    for (const v of ['1', 'true', 'TRUE', 'yes', 'On', '%20yes%20']) assert.equal(parseUpdateQuery(`/u?id=a&experimental=${v}`).experimental, true, v);
    for (const v of ['', '0', 'false', 'no', 'off', '2', 'y']) assert.equal(parseUpdateQuery(`/u?id=a&experimental=${v}`).experimental, false, v);
    assert.equal(parseUpdateQuery('/u?id=a&experimental=0&experimental=1').experimental, false);
  });

  it('finds the ETag in If-None-Match (a 304), weak or strong, alone, in a list or as *', () => {
    const etag = '"abc123"';
    assert.equal(etagMatches(undefined, etag), false);
    assert.equal(etagMatches('', etag), false);
    assert.equal(etagMatches(etag, etag), true);
    assert.equal(etagMatches(`W/${etag}`, etag), true);
    assert.equal(etagMatches(`"other", ${etag}`, etag), true);
    assert.equal(etagMatches(['"other"', `W/${etag}`], etag), true);
    assert.equal(etagMatches(' * ', etag), true);
    assert.equal(etagMatches('"other", "abc1234"', etag), false);
    assert.equal(etagMatches('abc123', etag), false);
  });
});

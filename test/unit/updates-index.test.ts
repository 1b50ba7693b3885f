// The update index's answer to the Sugar updater (src/updates/update-index.ts) without a
// database, for every compatibility case of the protocol (shared docs, sugar-protocols.md §2):
// only a release whose Sugar range contains appVersion is offered, the newest such by Sugar's
// version order; Python 2 activities never go to Sugar after 0.116, Python 3 ones never to Sugar
// before 0.116, web ones never before 0.100; an uploader's range narrows the runtime's, never widens
// it; unknown ids, bad parameters and "nothing compatible" get the empty RDF root.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sugarVersionSortKey, type Runtime } from '../../src/bundles/index.js';
import { DEFAULT_RUNTIME_RANGES, type RuntimeRangeTable } from '../../src/catalog/compat.js';
import type { Db } from '../../src/platform/db/index.js';
import type { FileStatus } from '../../src/platform/db/schema.js';
import { EMPTY_RDF } from '../../src/updates/rdf.js';
import { assembleActivities, UpdateIndex, type IxActivityRow, type IxVersionRow } from '../../src/updates/update-index.js';

interface V {
  version: string;
  runtime?: Runtime;
  min?: string | null;
  max?: string | null;
  /** 'uploader' when the bundle named its range, 'runtime' when the range came from its runtime. */
  origin?: 'uploader' | 'runtime';
  file?: FileStatus;
  notes?: string | null;
  size?: number;
}

let nextId = 1;

function rows(activityId: number, versions: V[]): IxVersionRow[] {
  return versions.map((v) => {
    const id = nextId++;
    return {
      versionId: id,
      activityId,
      version: v.version,
      sortKey: sugarVersionSortKey(v.version),
      sugarMin: v.min ?? null,
      sugarMax: v.max ?? null,
      origin: v.origin ?? (v.min || v.max ? 'uploader' : 'runtime'),
      runtime: v.runtime ?? 'other',
      notes: v.notes ?? null,
      createdAt: new Date('2026-03-01T00:00:00Z'),
      fileId: 1000 + id,
      fileName: `A-${v.version}.xo`,
      repoPath: `org.test.A/A-${v.version}.xo`,
      size: v.size ?? 10_240,
      sha256: 'ab'.repeat(32),
      fileStatus: v.file ?? 'public',
    };
  });
}

const urls = {
  updateLink: (v: { fileName: string }) => `http://store.test/repo/${v.fileName}`,
  updateInfoUrl: (v: { version: string }, a: { bundleId: string }) => `http://store.test/activities/${a.bundleId}/versions/${v.version}`,
};

/** An index holding these activities (bundle id -> versions), as rebuild() would from the database. */
function indexOf(activities: Record<string, V[] | { status: string; versions: V[] }>, ranges: RuntimeRangeTable = DEFAULT_RUNTIME_RANGES): UpdateIndex {
  const acts: IxActivityRow[] = [];
  const vrows: IxVersionRow[] = [];
  let id = 1;
  for (const [bundleId, spec] of Object.entries(activities)) {
    const { status, versions } = Array.isArray(spec) ? { status: 'public', versions: spec } : spec;
    acts.push({ id, bundle_id: bundleId, kind: 'activity', status });
    vrows.push(...rows(id, versions));
    id++;
  }
  const index = new UpdateIndex(null as unknown as Db, ranges, urls);
  index.install(assembleActivities(acts, vrows, [], ranges), []);
  return index;
}

/** The version offered (null: the empty answer), and the RDF's fields. */
function offer(index: UpdateIndex, bundleId: string, appVersion: string | null, experimental = false) {
  const { rdf } = index.answer(bundleId, appVersion, experimental);
  const text = rdf.body.toString('utf8');
  if (rdf === EMPTY_RDF) {
    assert.doesNotMatch(text, /RDF:Description/);
    return null;
  }
  const field = (name: string) => new RegExp(`<em:${name}>([^<]*)</em:${name}>`).exec(text)?.[1] ?? null;
  return {
    version: field('version'),
    min: field('minVersion'),
    max: field('maxVersion'),
    link: field('updateLink'),
    size: field('updateSize'),
    info: field('updateInfoURL'),
    hash: field('updateHash'),
  };
}

const version = (index: UpdateIndex, id: string, appVersion: string | null, experimental = false) =>
  offer(index, id, appVersion, experimental)?.version ?? null;

describe('the update index: ranges', () => {
  const ix = indexOf({ 'org.test.A': [{ version: '5', min: '0.100', max: '0.110' }] });

  it('offers a version to a Sugar inside its range, bounds included', () => {
    for (const sugar of ['0.100', '0.102', '0.110']) assert.equal(version(ix, 'org.test.A', sugar), '5', sugar);
  });

  it('offers nothing to a Sugar below or above the range', () => {
    for (const sugar of ['0.98', '0.88', '0.112', '0.120', '1.0']) assert.equal(version(ix, 'org.test.A', sugar), null, sugar);
  });

  it('compares Sugar versions by number, not as decimals (0.100 is after 0.98)', () => {
    const open = indexOf({ 'org.test.A': [{ version: '1', min: '0.98' }] });
    assert.equal(version(open, 'org.test.A', '0.100'), '1');
    assert.equal(version(open, 'org.test.A', '0.96'), null);
  });

  it('offers the newest version to a request without appVersion', () => {
    const many = indexOf({ 'org.test.A': [{ version: '2', max: '0.88' }, { version: '3', min: '0.120' }, { version: '1' }] });
    assert.equal(version(many, 'org.test.A', null), '3');
  });

  it('answers with the empty root for unknown ids and for an appVersion that is not a Sugar version', () => {
    assert.equal(offer(ix, 'org.test.Missing', '0.100'), null);
    assert.equal(offer(ix, 'org.test.Missing', null), null);
    assert.equal(ix.answer('org.test.Missing', null, false).activity, null);
    for (const bad of ['', 'abc', '0.100; drop', '1..2', 'x'.repeat(50)]) assert.equal(offer(ix, 'org.test.A', bad), null, bad);
    assert.equal(ix.answer('org.test.A', 'abc', false).activity?.bundleId, 'org.test.A');
  });
});

describe('the update index: several versions', () => {
  const ix = indexOf({
    'org.test.A': [
      { version: '9', min: '0.86', max: '0.98' },
      { version: '10', min: '0.100', max: '0.110' },
      { version: '10.1', min: '0.100', max: '0.106' },
      { version: '12', min: '0.112' },
    ],
  });

  it('offers the newest version whose range holds the Sugar (10 after 9, 10.1 after 10)', () => {
    assert.equal(version(ix, 'org.test.A', '0.88'), '9');
    assert.equal(version(ix, 'org.test.A', '0.98'), '9');
    assert.equal(version(ix, 'org.test.A', '0.104'), '10.1');
    assert.equal(version(ix, 'org.test.A', '0.108'), '10');
    assert.equal(version(ix, 'org.test.A', '0.116'), '12');
    assert.equal(version(ix, 'org.test.A', '0.84'), null);
  });

  it('states the offered range and the download in the RDF (size in KiB, sha256 hash)', () => {
    const o = offer(ix, 'org.test.A', '0.108')!;
    assert.deepEqual(o, {
      version: '10',
      min: '0.100',
      max: '0.110',
      link: 'http://store.test/repo/A-10.xo',
      size: '10',
      info: null,
      hash: `sha256:${'ab'.repeat(32)}`,
    });
  });
});

describe('the update index: runtimes', () => {
  const ix = indexOf({
    'org.test.Py2': [{ version: '1', runtime: 'python2' }],
    'org.test.Py3': [{ version: '1', runtime: 'python3' }],
    'org.test.Web': [{ version: '1', runtime: 'web' }],
    'org.test.Other': [{ version: '1', runtime: 'other' }],
  });

  it('offers Python 2 activities up to Sugar 0.116, never after', () => {
    for (const s of ['0.82', '0.88', '0.110', '0.116']) assert.equal(version(ix, 'org.test.Py2', s), '1', s);
    for (const s of ['0.118', '0.120', '0.122']) assert.equal(version(ix, 'org.test.Py2', s), null, s);
    assert.equal(version(ix, 'org.test.Py2', '0.80'), null);
  });

  it('offers Python 3 activities from Sugar 0.116 on, never before', () => {
    for (const s of ['0.116', '0.118', '0.122', '1.0']) assert.equal(version(ix, 'org.test.Py3', s), '1', s);
    for (const s of ['0.112', '0.114', '0.100', '0.88']) assert.equal(version(ix, 'org.test.Py3', s), null, s);
  });

  it('offers web activities from Sugar 0.100 on, and other bundles from 0.82 on', () => {
    assert.equal(version(ix, 'org.test.Web', '0.98'), null);
    assert.equal(version(ix, 'org.test.Web', '0.100'), '1');
    assert.equal(version(ix, 'org.test.Other', '0.82'), '1');
    assert.equal(version(ix, 'org.test.Other', '0.80'), null);
    assert.equal(version(ix, 'org.test.Other', '0.122'), '1');
  });

  it("states the runtime's range in the RDF when the uploader gave none (open top: *)", () => {
    assert.deepEqual([offer(ix, 'org.test.Py2', '0.88')!.min, offer(ix, 'org.test.Py2', '0.88')!.max], ['0.82', '0.116']);
    assert.deepEqual([offer(ix, 'org.test.Py3', '0.118')!.min, offer(ix, 'org.test.Py3', '0.118')!.max], ['0.116', '*']);
  });

  it("narrows an uploader's range to its runtime's, never widens it", () => {
    const narrowed = indexOf({
      'org.test.Py3Wide': [{ version: '2', runtime: 'python3', min: '0.100', max: '0.130' }],
      'org.test.Py2Wide': [{ version: '2', runtime: 'python2', min: '0.86', max: '0.122' }],
      'org.test.Py2Narrow': [{ version: '2', runtime: 'python2', min: '0.100', max: '0.110' }],
      'org.test.Py3Old': [{ version: '2', runtime: 'python3', min: '0.100', max: '0.112' }],
    });
    assert.equal(version(narrowed, 'org.test.Py3Wide', '0.114'), null);
    const wide = offer(narrowed, 'org.test.Py3Wide', '0.116')!;
    assert.deepEqual([wide.version, wide.min, wide.max], ['2', '0.116', '0.130']);
    assert.equal(version(narrowed, 'org.test.Py3Wide', '0.132'), null);
    assert.equal(version(narrowed, 'org.test.Py2Wide', '0.118'), null);
    assert.equal(offer(narrowed, 'org.test.Py2Wide', '0.116')!.max, '0.116');
    assert.equal(version(narrowed, 'org.test.Py2Narrow', '0.112'), null);
    assert.equal(version(narrowed, 'org.test.Py2Narrow', '0.98'), null);
    assert.equal(version(narrowed, 'org.test.Py2Narrow', '0.104'), '2');
    // A Python 3 activity for Sugar up to 0.112 can run nowhere: it is never offered.
    for (const s of [null, '0.100', '0.112', '0.116']) assert.equal(version(narrowed, 'org.test.Py3Old', s), null, String(s));
  });

  it("follows a deployment's own runtime table", () => {
    const table: RuntimeRangeTable = { ...DEFAULT_RUNTIME_RANGES, python2: { min: '0.82', max: '0.120' } };
    const custom = indexOf({ 'org.test.Py2': [{ version: '1', runtime: 'python2' }] }, table);
    assert.equal(version(custom, 'org.test.Py2', '0.120'), '1');
    assert.equal(version(custom, 'org.test.Py2', '0.122'), null);
  });

  it('offers a Python 2 release to old Sugar and the Python 3 port to new Sugar, from one activity', () => {
    const port = indexOf({
      'org.test.Port': [
        { version: '30', runtime: 'python2' },
        { version: '31', runtime: 'python3' },
      ],
    });
    assert.equal(version(port, 'org.test.Port', '0.110'), '30');
    assert.equal(version(port, 'org.test.Port', '0.116'), '31');
    assert.equal(version(port, 'org.test.Port', '0.120'), '31');
    assert.equal(version(port, 'org.test.Port', null), '31');
  });
});

describe('the update index: file and activity status', () => {
  const ix = indexOf({
    'org.test.A': [{ version: '1' }, { version: '2', file: 'sandbox' }, { version: '3', file: 'pending' }],
    'org.test.Hidden': { status: 'sandbox', versions: [{ version: '1' }] },
  });

  it('offers only public files of public activities, and the others to experimental=1', () => {
    assert.equal(version(ix, 'org.test.A', '0.118'), '1');
    assert.equal(version(ix, 'org.test.A', '0.118', true), '3');
    assert.equal(version(ix, 'org.test.Hidden', '0.118'), null);
    assert.equal(version(ix, 'org.test.Hidden', '0.118', true), '1');
  });

  it("offers a version's newest public file; experimental sees that same file", () => {
    const [first, second, third] = rows(1, [{ version: '1' }, { version: '1' }, { version: '1', file: 'sandbox' }]);
    second!.versionId = first!.versionId;
    third!.versionId = first!.versionId;
    second!.fileName = 'A-1-rebuilt.xo';
    const index = new UpdateIndex(null as unknown as Db, DEFAULT_RUNTIME_RANGES, urls);
    index.install(
      assembleActivities([{ id: 1, bundle_id: 'org.test.R', kind: 'activity', status: 'public' }], [first!, second!, third!], [], DEFAULT_RUNTIME_RANGES),
      [],
    );
    assert.equal(offer(index, 'org.test.R', '0.118')!.link, 'http://store.test/repo/A-1-rebuilt.xo');
    assert.equal(offer(index, 'org.test.R', '0.118', true)!.link, 'http://store.test/repo/A-1-rebuilt.xo');
    assert.equal(index.activity('org.test.R')!.pub.length, 1);
  });

  it('names the release notes page only when the version has notes', () => {
    const notes = indexOf({ 'org.test.N': [{ version: '1', notes: 'Fixed the chat.' }], 'org.test.Blank': [{ version: '1', notes: '   ' }] });
    assert.equal(offer(notes, 'org.test.N', null)!.info, 'http://store.test/activities/org.test.N/versions/1');
    assert.equal(offer(notes, 'org.test.Blank', null)!.info, null);
  });
});

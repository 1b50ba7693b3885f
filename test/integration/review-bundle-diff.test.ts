// The review page's comparison of two versions, read from the stored bundles themselves: files
// added, removed and changed (same size, other content included) with their sizes, permission and
// executable-bit changes, and the line diff of activity.info; the review page shows it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { activityFiles, tempDir } from '../helpers/activities.js';
import { buildBundle } from '../helpers/bundle-builder.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { diffBundleFiles, diffLines, modeString } from '../../src/review/bundle-diff.js';

const ROOT = 'Diffy.activity';

/** Version 1 and 2 of one activity: v2 adds, removes, rewrites and re-modes files. */
async function twoVersions(dir: string): Promise<[string, string]> {
  const base = (version: string, summary: string) => activityFiles({ bundleId: 'org.test.Diffy', name: 'Diffy', version, summary });
  const v1 = {
    ...base('1', 'Compare versions'),
    [`${ROOT}/old-notes.txt`]: 'gone in version 2\n',
    [`${ROOT}/data/level.txt`]: 'level one',
    [`${ROOT}/bin/run.sh`]: '#!/bin/sh\nexec python3 activity.py\n',
    [`${ROOT}/tool.py`]: 'print("tool")\n',
  };
  const v2 = {
    ...base('2', 'Compare two versions'),
    [`${ROOT}/data/level.txt`]: 'level two', // same size, other bytes
    [`${ROOT}/bin/run.sh`]: '#!/bin/sh\nexec python3 activity.py\n',
    [`${ROOT}/tool.py`]: 'print("tool")\n',
    [`${ROOT}/icons/new.svg`]: '<svg xmlns="http://www.w3.org/2000/svg"/>',
  };
  const p1 = await buildBundle(v1, join(dir, 'diffy-1.xo'), { modes: { [`${ROOT}/bin/run.sh`]: 0o100755, [`${ROOT}/tool.py`]: 0o100644 } });
  const p2 = await buildBundle(v2, join(dir, 'diffy-2.xo'), { modes: { [`${ROOT}/bin/run.sh`]: 0o100644, [`${ROOT}/tool.py`]: 0o100755 } });
  return [p1, p2];
}

describe('what changed between two versions (review diff)', () => {
  let t: TestApp;
  let dir: string;
  let editor: Person;
  let v1: string;
  let v2: string;
  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    editor = await person(t.app, { role: 'editor' });
    [v1, v2] = await twoVersions(dir);
  });
  after(async () => t.cleanup());

  it('finds added, removed and changed files with their sizes, from the zips themselves', async () => {
    const d = (await diffBundleFiles(v1, v2))!;
    assert.deepEqual(d.added, [{ path: 'icons/new.svg', before: null, after: 41 }]);
    assert.deepEqual(d.removed, [{ path: 'old-notes.txt', before: 18, after: null }]);
    const changed = d.changed.map((c) => c.path);
    assert.ok(changed.includes('activity/activity.info'), 'activity.info changed');
    assert.ok(changed.includes('activity.py'), 'activity.py changed');
    const level = d.changed.find((c) => c.path === 'data/level.txt');
    assert.deepEqual(level, { path: 'data/level.txt', before: 9, after: 9 }, 'same size, other content: changed by its checksum');
    assert.ok(!changed.includes('tool.py') && !changed.includes('bin/run.sh'), 'same bytes: not changed');
    assert.equal(d.unchanged, 3); // icon, run.sh, tool.py
  });

  it('reports permission changes and whether the executable bit was set or cleared', async () => {
    const d = (await diffBundleFiles(v1, v2))!;
    assert.deepEqual(d.modes, [
      { path: 'bin/run.sh', before: 'rwxr-xr-x', after: 'rw-r--r--', exec: true },
      { path: 'tool.py', before: 'rw-r--r--', after: 'rwxr-xr-x', exec: true },
    ]);
    assert.equal(modeString(0o640), 'rw-r-----');
    assert.equal(modeString(null), '?');
  });

  it('diffs activity.info line by line', async () => {
    const d = (await diffBundleFiles(v1, v2))!;
    const info = d.texts.find((x) => x.path === 'activity/activity.info');
    assert.ok(info, 'activity.info is compared');
    const changes = info.lines.filter((l) => l.op !== ' ').map((l) => `${l.op}${l.text}`);
    assert.deepEqual(
      changes.sort(),
      ['+activity_version = 2', '+summary = Compare two versions', '-activity_version = 1', '-summary = Compare versions'].sort(),
    );
    assert.ok(
      info.lines.some((l) => l.op === ' ' && l.text === 'bundle_id = org.test.Diffy'),
      'unchanged lines are kept for context',
    );
    assert.deepEqual(
      diffLines('x = 1\n', 'x = 2\n').map((l) => l.op),
      ['-', '+'],
      'the old line before the new one',
    );
    assert.deepEqual(diffLines('a\nb\nc\n', 'a\nc\nd\n'), [
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: ' ', text: 'c' },
      { op: '+', text: 'd' },
    ]);
  });

  it('is null when a bundle file is missing', async () => {
    assert.equal(await diffBundleFiles(v1, join(dir, 'missing.xo')), null);
  });

  it('is computed for the review page from the stored bundles and shown on it', async () => {
    const dev = await person(t.app);
    const up = async (path: string) => {
      const res = await apiUpload(t.app, dev.token, await readFile(path), path.split('/').pop()!);
      assert.ok(res.statusCode < 300, res.body);
    };
    await up(v1);
    const a = await t.app.publishing.activityByBundleId('org.test.Diffy');
    const nom = await t.app.inject({
      method: 'POST',
      url: '/api/v1/developer/activities/org.test.Diffy/nominate',
      payload: { message: 'First version.' },
      headers: { authorization: `Bearer ${dev.token}` },
    });
    assert.equal(nom.statusCode, 200, nom.body);
    await t.app.review.decide(editor.actor, 'activity', a.id, 'approve', 'ok', ['1']);
    await up(v2);
    const q = await t.app.review.queue(editor.actor);
    const pend = q.pending.find((x) => x.bundle_id === 'org.test.Diffy')!;
    const page = await t.app.review.reviewPage(editor.actor, 'file', pend.id);
    assert.equal(page.previous?.version, '1');
    const d = page.bundleDiff!;
    assert.deepEqual(
      d.added.map((f) => f.path),
      ['icons/new.svg'],
    );
    assert.deepEqual(
      d.removed.map((f) => f.path),
      ['old-notes.txt'],
    );
    assert.equal(d.modes.length, 2);

    const html = (await editor.browser.get(`/editors/review/file/${pend.id}`)).body;
    assert.match(html, /Changes since version 1/);
    assert.match(html, /<code>icons\/new\.svg<\/code>/);
    assert.match(html, /<code>old-notes\.txt<\/code>/);
    assert.match(html, /now executable/);
    assert.match(html, /no longer executable/);
    assert.match(html, /<span class="add">\+ summary = Compare two versions<\/span>/);
    assert.match(html, /<span class="del">- summary = Compare versions<\/span>/);
  });
});

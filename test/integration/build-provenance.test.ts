// The activity page says where each version's bundle came from: "Built from <repository> at
// <tag> (<commit>)" (linked to that exact source on a forge) for bundles the store built from
// git, "Uploaded by the developer" for uploaded ones, in every interface language.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity } from '../helpers/activities.js';
import { activityInfo, gitIn, makeRepo, writeFiles, TEST_ICON } from '../helpers/git-repo.js';
import { importGit } from '../../src/build/import.js';
import { sourceLink } from '../../src/web/provenance.js';

const files = (version: string) => ({
  'activity/activity.info': activityInfo({ name: 'Prov Test', bundleId: 'org.test.Provenance', version }),
  'activity/activity-test.svg': TEST_ICON,
  'main.py': `# ${version}\n`,
});

test('links to the exact source on each kind of forge; none for local paths', () => {
  const c = '0123456789abcdef0123456789abcdef01234567';
  assert.equal(sourceLink('https://github.com/sugarlabs/paint-activity.git', c), `https://github.com/sugarlabs/paint-activity/tree/${c}`);
  assert.equal(sourceLink('https://gitlab.com/sugar/paint', c), `https://gitlab.com/sugar/paint/-/tree/${c}`);
  assert.equal(sourceLink('https://codeberg.org/sugar/paint', c), `https://codeberg.org/sugar/paint/src/commit/${c}`);
  assert.equal(sourceLink('https://user:secret@git.example.org/paint/', c), 'https://git.example.org/paint');
  assert.equal(sourceLink('/srv/repos/paint-activity', c), null);
  assert.equal(sourceLink('git://example.org/paint', c), null);
});

describe('provenance on the activity page', () => {
  let t: TestApp;
  let work = '';
  let repo = '';
  let commit = '';
  before(async () => {
    t = await createTestApp();
    work = await mkdtemp(join(tmpdir(), 'aslo-provenance-'));
    // Version 1 uploaded by its developer, version 2 built by the store from a tag.
    const uploaded = await buildActivity(work, { bundleId: 'org.test.Provenance', name: 'Prov Test', version: '1' });
    const up = await t.app.services.catalog.ingest.ingestPath(uploaded, { status: 'public' });
    assert.equal(up.outcome, 'imported', JSON.stringify(up.errors));
    repo = join(work, 'prov-activity');
    makeRepo(repo, files('1'));
    writeFiles(repo, files('2'));
    gitIn(repo, ['commit', '-q', '-am', 'two']);
    gitIn(repo, ['tag', 'v2']);
    commit = gitIn(repo, ['rev-parse', 'HEAD']).trim();
    const r = await importGit(t.ctx, { repositories: [repo], status: 'public' });
    assert.equal(r.built, 1, JSON.stringify(r.rows));
  });
  after(async () => {
    await t?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('built and uploaded versions say so, on the page and the versions page', async () => {
    for (const url of ['/en/activity/org.test.Provenance', '/en/activity/org.test.Provenance/versions']) {
      const res = await t.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      const item = (v: string) => {
        const at = res.body.indexOf(`>Version ${v} <span class="when">`);
        assert.ok(at > 0, `${url}: version ${v}`);
        return res.body.slice(at, res.body.indexOf('</li>', at));
      };
      const v2 = item('2');
      const v1 = item('1');
      assert.ok(v2.includes(`Built from ${repo} at v2 (${commit.slice(0, 12)})`), v2);
      assert.ok(v2.includes(`title="${commit}"`));
      assert.ok(v1.includes('Uploaded by the developer'), v1);
      assert.ok(!v1.includes('Built from'));
    }
  });

  test('a repository on a forge links to the commit there', async () => {
    await t.ctx.db.updateTable('built_sources').set({ repository: 'https://github.com/example/prov-activity' }).where('commit_sha', '=', commit).execute();
    const res = await t.app.inject({ method: 'GET', url: '/en/activity/org.test.Provenance' });
    assert.ok(
      res.body.includes(
        `<a href="https://github.com/example/prov-activity/tree/${commit}" rel="nofollow noopener" title="${commit}">Built from https://github.com/example/prov-activity at v2 (${commit.slice(0, 12)})</a>`,
      ),
      res.body,
    );
  });

  test('translated', async () => {
    const expect: Record<string, [string, string]> = {
      es: ['Compilado desde', 'Subido por el desarrollador'],
      fr: ['Construit depuis', 'Envoyé par le développeur'],
      'pt-BR': ['Construído a partir de', 'Enviado pelo desenvolvedor'],
      ar: ['بُني من', 'رفعه المطوِّر'],
    };
    for (const [locale, [built, uploaded]] of Object.entries(expect)) {
      const res = await t.app.inject({ method: 'GET', url: `/${locale}/activity/org.test.Provenance` });
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes(built), locale);
      assert.ok(res.body.includes(uploaded), locale);
    }
  });
});

// Full-text search: every language's texts, accents and case ignored, prefixes, small typos
// corrected, ranked, combined with the category, runtime and Sugar filters, and kept current by
// the database when texts and tags change. Runs the same on PGlite and PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { loadSampleContent } from '../../src/build/samples.js';

describe('catalog search', () => {
  let t: TestApp;
  const search = async (q: string, extra: Record<string, string> = {}) => {
    const query = t.app.services.catalog.parseListQuery({ q, sort: 'relevance', ...extra });
    const res = await t.app.services.catalog.listActivities({ ...query, lang: extra.lang ?? 'en' });
    return res.items.map((i) => i.bundle_id.split('.').pop());
  };

  before(async () => {
    t = await createTestApp();
    await loadSampleContent(t.ctx);
    const dir = await tempDir();
    const path = await buildActivity(dir, {
      bundleId: 'org.test.StarChart',
      name: 'Star Chart',
      version: '1',
      exec: 'sugar-activity chart.Chart',
      summary: 'Name the constellations of the southern sky.',
      tags: 'Astronomy',
      locales: { es: { name: 'Mapa estelar', summary: 'Nombra las constelaciones del cielo austral.' } },
    });
    assert.equal((await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' })).outcome, 'imported');
  });
  after(async () => t?.cleanup());

  it('finds names, summaries and tags, in any language', async () => {
    assert.deepEqual(await search('pendulum'), ['PendulumLab']);
    assert.deepEqual(await search('garden'), ['WordGarden']);
    assert.deepEqual(await search('péndulo'), ['PendulumLab'], 'Spanish name');
    assert.deepEqual(await search('jardin de mots'), ['WordGarden'], 'French name');
    assert.deepEqual(await search('النجوم'), ['CountingStars'], 'Arabic name');
    assert.deepEqual(await search('physics'), ['PendulumLab'], 'tag');
    assert.deepEqual(await search('coastlines'), ['TideAtlas'], 'summary');
    assert.deepEqual(await search('grouping tens'), ['CountingStars'], 'description');
  });

  it('ignores accents and case', async () => {
    assert.deepEqual(await search('PENDULO'), ['PendulumLab']);
    assert.deepEqual(await search('laboratório'), ['PendulumLab']);
    assert.deepEqual(await search('Mélangeur'), ['ColorMixer']);
    assert.deepEqual(await search('melangeur'), ['ColorMixer']);
  });

  it('matches prefixes and corrects small typos', async () => {
    assert.deepEqual(await search('pend'), ['PendulumLab']);
    assert.deepEqual(await search('pendlum'), ['PendulumLab']);
    assert.deepEqual(await search('colr mixr'), ['ColorMixer']);
    assert.ok((await search('cuonting')).includes('CountingStars'));
    assert.equal((await search('estrelas'))[0], 'CountingStars', 'a typo of estrellas');
    assert.deepEqual(await search('xylophone'), []);
  });

  it('ranks what matches the words as typed, and names, first', async () => {
    const stars = await search('star');
    assert.equal(stars[0], 'StarChart', JSON.stringify(stars));
    assert.ok(stars.includes('CountingStars'));
    const sky = await search('sky');
    assert.deepEqual(new Set(sky), new Set(['CountingStars', 'StarChart']));
  });

  it('combines with category, runtime and Sugar filters', async () => {
    assert.deepEqual(await search('star', { category: 'math' }), ['CountingStars']);
    assert.deepEqual(await search('star', { runtime: 'python2' }), ['StarChart']);
    assert.deepEqual(await search('star', { sugar: '0.112' }), ['StarChart']);
    assert.deepEqual(await search('star', { sugar: '0.120' }), ['CountingStars']);
  });

  it('stays current when texts and tags change', async () => {
    const a = await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.aslo.sample.WordGarden').executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('activity_texts')
      .values({ activity_id: a.id, locale: 'es', origin: 'developer', name: 'Huerto de palabras', summary: null, description: null, updated_at: new Date() })
      .execute();
    assert.deepEqual(await search('huerto'), ['WordGarden']);
    await t.ctx.db
      .updateTable('activity_texts')
      .set({ name: 'Vergel de palabras' })
      .where('activity_id', '=', a.id)
      .where('origin', '=', 'developer')
      .execute();
    assert.deepEqual(await search('huerto'), []);
    assert.deepEqual(await search('vergel'), ['WordGarden']);
    await t.ctx.db.deleteFrom('activity_texts').where('activity_id', '=', a.id).where('origin', '=', 'developer').execute();
    assert.deepEqual(await search('vergel'), []);
  });

  it('odd input is harmless', async () => {
    for (const q of ["'", '&|!():*', 'a', "o'brien", '\\', '   ', 'a & b | c']) {
      await search(q);
    }
    assert.deepEqual(await search('org.aslo.sample.TideAtlas'), ['TideAtlas']);
  });

  it('the search page shows results ranked, with the relevance sort first', async () => {
    const res = await t.app.inject({ url: '/es/search?q=estrelas' });
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes('Contar estrellas'));
    assert.match(res.body, /Más relevantes/);
  });
});

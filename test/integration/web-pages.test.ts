// The web store against the real app: pages in every language, the locale redirect, listings,
// search, the activity page (Sugar-aware), legacy URLs, downloads, feeds, authors, collections,
// caching headers and the translation catalogs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { XMLParser } from 'fast-xml-parser';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { loadSampleContent } from '../../src/build/samples.js';
import { extract, merge } from '../../scripts/extract-strings.js';
import { po } from 'gettext-parser';
import { LOCALES, LOCALES_DIR, pluralFunction } from '../../src/web/i18n.js';
import { detectSugar } from '../../src/web/sugar-ua.js';
import { join } from 'node:path';

const SUGAR_0112 = 'Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/40 Safari/537.36 SugarLabs/0.112';
const SUGAR_0120 = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Sugar Labs/0.120';

describe('web store pages', () => {
  let t: TestApp;
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  before(async () => {
    t = await createTestApp();
    await loadSampleContent(t.ctx);
    // An activity with a Python 2 version and a newer Python 3 one: Sugar 0.112 can run only the first.
    const dir = await tempDir();
    for (const [version, exec] of [
      ['1', 'sugar-activity old.Old'],
      ['2', 'sugar-activity3 new.New'],
    ] as const) {
      const path = await buildActivity(dir, {
        bundleId: 'org.test.Bridge',
        name: 'Bridge Builder',
        version,
        exec,
        summary: 'Build bridges that hold.',
        tags: 'Physics;Game',
        payload: version,
      });
      const res = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public', releaseNotes: `Notes for ${version}` });
      assert.equal(res.outcome, 'imported', JSON.stringify(res.errors));
    }
    await t.ctx.db.updateTable('activities').set({ legacy_id: 4031, featured: true }).where('bundle_id', '=', 'org.test.Bridge').execute();
  });
  after(async () => t?.cleanup());

  describe('locales', () => {
    it('redirects / by the cookie, else Accept-Language, else English', async () => {
      assert.equal((await get('/', { 'accept-language': 'fr-CA,fr;q=0.9,en;q=0.5' })).headers.location, '/fr/');
      assert.equal((await get('/', { 'accept-language': 'pt-PT' })).headers.location, '/pt-BR/');
      assert.equal((await get('/', { 'accept-language': 'de, ar;q=0.5' })).headers.location, '/ar/');
      assert.equal((await get('/', { 'accept-language': 'de' })).headers.location, '/en/');
      assert.equal((await get('/', {})).headers.location, '/en/');
      assert.equal((await get('/', { 'accept-language': 'fr', cookie: 'aslo_lang=es' })).headers.location, '/es/');
      const page = await get('/activity/org.aslo.sample.CountingStars', { 'accept-language': 'es-UY' });
      assert.equal(page.statusCode, 302);
      assert.equal(page.headers.location, '/es/activity/org.aslo.sample.CountingStars');
    });

    it('the language menu remembers the choice and keeps the page', async () => {
      const res = await get('/lang/ar?next=%2Fbrowse%3Fsort%3Dnewest');
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/ar/browse?sort=newest');
      assert.match(String(res.headers['set-cookie']), /aslo_lang=ar/);
      assert.equal((await get('/lang/fr?next=https://evil.example/')).headers.location, '/fr/');
      assert.equal((await get('/lang/es?next=%2Fdevelopers&stay=1')).headers.location, '/developers');
    });

    it('old and regional locale prefixes go to the supported one', async () => {
      assert.equal((await get('/en-US/')).headers.location, '/en/');
      assert.equal((await get('/es-ES/sugar/addon/4031')).headers.location, '/es/sugar/addon/4031');
      assert.equal((await get('/de/browse', { 'accept-language': 'fr' })).headers.location, '/fr/browse');
    });

    for (const [locale, dir, home, name] of [
      ['en', 'ltr', 'Learning activities for Sugar', 'Counting Stars'],
      ['es', 'ltr', 'Actividades educativas para Sugar', 'Contar estrellas'],
      ['fr', 'ltr', 'Activités éducatives pour Sugar', 'Compter les étoiles'],
      ['pt-BR', 'ltr', 'Atividades educativas para o Sugar', 'Contando estrelas'],
      ['ar', 'rtl', 'أنشطة تعليمية لبيئة Sugar', 'عدّ النجوم'],
    ] as const) {
      it(`home page in ${locale}`, async () => {
        const res = await get(`/${locale}/`);
        assert.equal(res.statusCode, 200);
        assert.match(res.headers['content-type'] as string, /text\/html/);
        assert.match(res.body, new RegExp(`<html lang="${locale}" dir="${dir}">`));
        assert.ok(res.body.includes(home), 'translated heading');
        assert.ok(res.body.includes(name), 'activity name in the language');
        assert.match(res.body, /<main id="main"/);
        assert.ok(res.body.includes('Bridge Builder'), 'featured');
        for (const other of LOCALES) assert.ok(res.body.includes(`hreflang="${other.tag}" href="/${other.tag}/"`));
      });
    }
  });

  describe('listings and search', () => {
    it('browses every activity with each sort', async () => {
      for (const sort of ['popular', 'updated', 'rated', 'newest', 'name']) {
        const res = await get(`/en/browse?sort=${sort}`);
        assert.equal(res.statusCode, 200, sort);
        assert.match(res.body, /6 activities/);
      }
      const bad = await get('/en/browse?sort=cheapest');
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /BAD_PARAMETER/);
      assert.match(bad.body, /<html lang="en"/);
    });

    it('files activities in categories from their tags', async () => {
      const math = await get('/es/category/math');
      assert.equal(math.statusCode, 200);
      assert.match(math.body, /<h1>Matemáticas<\/h1>/);
      assert.ok(math.body.includes('Contar estrellas'));
      assert.ok(!math.body.includes('Jardín de palabras'));
      const science = await get('/en/category/science');
      assert.ok(science.body.includes('Pendulum Lab') && science.body.includes('Color Mixer') && science.body.includes('Bridge Builder'));
      const games = await get('/en/category/games');
      assert.ok(games.body.includes('Bridge Builder'));
      assert.equal((await get('/en/category/astrology')).statusCode, 404);
    });

    it('lists by tag', async () => {
      const res = await get('/fr/tag/reading');
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes('Jardin de mots'));
      assert.equal((await get('/fr/tag/nope')).statusCode, 404);
    });

    it('searches names and summaries', async () => {
      const res = await get('/en/search?q=pendulum');
      assert.equal(res.statusCode, 200);
      assert.ok(res.body.includes('Pendulum Lab'));
      assert.ok(!res.body.includes('Word Garden'));
      const none = await get('/en/search?q=zzzzqqq');
      assert.match(none.body, /Nothing found/);
    });

    it('shows Sugar users what runs on their Sugar, with a way to see everything', async () => {
      const res = await get('/en/browse', { 'user-agent': SUGAR_0112 });
      assert.match(res.body, /for Sugar 0\.112/);
      assert.ok(res.body.includes('Pendulum Lab'), 'python 2 activity runs on 0.112');
      assert.ok(!res.body.includes('Counting Stars'), 'python 3 activity does not');
      assert.match(String(res.headers.vary), /User-Agent/);
      const all = await get('/en/browse?sugar=any', { 'user-agent': SUGAR_0112 });
      assert.ok(all.body.includes('Counting Stars'));
    });
  });

  describe('activity page', () => {
    it('shows icon, texts, versions and the download', async () => {
      const res = await get('/es/activity/org.aslo.sample.CountingStars');
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /<h1 dir="auto">Contar estrellas<\/h1>/);
      assert.match(res.body, /<img class="icon" src="\/icon\/org\.aslo\.sample\.CountingStars\/4\.svg" width="112" height="112" alt=""/);
      assert.match(res.body, /Versión 4/);
      assert.match(res.body, /Versión 3/);
      assert.match(res.body, /<li>Grouping in tens<\/li>/, 'sanitized description');
      assert.match(res.body, /href="\/downloads\/file\/\d+\/counting_stars-4\.xo"/);
      assert.match(res.body, /Sugar 0\.116 o posterior/);
      const icon = await get('/icon/org.aslo.sample.CountingStars/4.svg');
      assert.equal(icon.statusCode, 200);
      assert.match(icon.headers['content-type'] as string, /image\/svg\+xml/);
      assert.ok(!/#010101/i.test(icon.body), 'Sugar colours applied');
    });

    it('offers Sugar 0.112 the newest version it can run, and says why the newer one is not for it', async () => {
      const res = await get('/en/activity/org.test.Bridge', { 'user-agent': SUGAR_0112 });
      assert.match(res.body, /Works with your Sugar 0\.112/);
      assert.match(res.body, /The newest version \(2\) does not work with your Sugar/);
      const button = /<a class="btn" href="([^"]+)"/.exec(res.body)![1]!;
      assert.match(button, /bridge_builder-1\.xo$/);
      assert.match(res.body, /Not for your Sugar/);
      assert.match(res.body, /Needs Sugar 0\.116 or newer; you have 0\.112/);
      assert.match(String(res.headers.vary), /User-Agent/);
    });

    it('offers other browsers the newest version with its range', async () => {
      const res = await get('/en/activity/org.test.Bridge');
      const button = /<a class="btn" href="([^"]+)"/.exec(res.body)![1]!;
      assert.match(button, /bridge_builder-2\.xo$/);
      assert.match(res.body, /Sugar 0\.116 and newer/);
      assert.doesNotMatch(res.body, /Not for your Sugar/);
    });

    it('explains when nothing runs on the visitor’s Sugar', async () => {
      const res = await get('/en/activity/org.aslo.sample.PendulumLab', { 'user-agent': SUGAR_0120 });
      assert.match(res.body, /No version of Pendulum Lab works with your Sugar 0\.120/);
      assert.match(res.body, /Needs Sugar 0\.82 to 0\.116; you have 0\.120/);
    });

    it('shows screenshots, sized, with their caption in the language', async () => {
      const a = await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.aslo.sample.ColorMixer').executeTakeFirstOrThrow();
      const shot = await t.ctx.db
        .insertInto('screenshots')
        .values({
          activity_id: a.id,
          position: 0,
          storage_key: 'f'.repeat(64),
          content_type: 'image/png',
          width: 600,
          height: 450,
          captions: JSON.stringify({ es: 'Mezclando luz', und: 'Mixing light' }),
          created_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const es = await get('/es/activity/org.aslo.sample.ColorMixer');
      assert.ok(
        es.body.includes(`<img src="/screenshots/${shot.id}" width="600" height="450" alt="Mezclando luz" loading="lazy"`),
        es.body.slice(es.body.indexOf('shots'), es.body.indexOf('shots') + 400),
      );
      const fr = await get('/fr/activity/org.aslo.sample.ColorMixer');
      assert.ok(fr.body.includes('alt="Mixing light"'));
    });

    it('lists every version', async () => {
      const res = await get('/pt-BR/activity/org.test.Bridge/versions');
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /Notes for 1/);
      assert.match(res.body, /Notes for 2/);
    });

    it('a missing activity is a translated 404 page', async () => {
      const res = await get('/fr/activity/org.nope.Nothing');
      assert.equal(res.statusCode, 404);
      assert.match(res.body, /Page introuvable/);
      assert.match(res.body, /ACTIVITY_NOT_FOUND/);
      const other = await get('/ar/no/such/page');
      assert.equal(other.statusCode, 404);
      assert.match(other.body, /dir="rtl"/);
      // Non-page paths keep the API's JSON 404.
      const api = await get('/api/v9/nothing');
      assert.equal(api.statusCode, 404);
      assert.match(api.headers['content-type'] as string, /json/);
    });
  });

  describe('Sugar detection', () => {
    it('reads SugarLabs/, Sugar Labs/ and OLPC/ tokens', () => {
      assert.deepEqual(detectSugar(SUGAR_0112), { version: '0.112', via: 'sugarlabs' });
      assert.deepEqual(detectSugar(SUGAR_0120), { version: '0.120', via: 'sugarlabs' });
      assert.deepEqual(detectSugar('Mozilla/5.0 (X11; U; Linux i686; en-US; rv:1.9) Gecko/2008 OLPC/0.4.6-20081208'), { version: '0.82', via: 'olpc' });
      assert.equal(detectSugar('Mozilla/5.0 (X11; Linux x86_64) Chrome/120 Safari/537.36'), null);
      assert.equal(detectSugar(undefined), null);
    });
  });

  describe('old URLs and downloads', () => {
    it('redirects old activity and version URLs by legacy id or bundle id', async () => {
      assert.equal((await get('/es/sugar/addon/4031')).headers.location, '/es/activity/org.test.Bridge');
      assert.equal((await get('/fr/sugar/addon/org.aslo.sample.WordGarden')).headers.location, '/fr/activity/org.aslo.sample.WordGarden');
      assert.equal((await get('/en/sugar/addons/versions/4031')).headers.location, '/en/activity/org.test.Bridge/versions');
      assert.equal((await get('/sugar/addon/4031', { 'accept-language': 'pt-BR' })).headers.location, '/pt-BR/sugar/addon/4031');
      assert.equal((await get('/en/sugar/addon/999999')).statusCode, 404);
    });

    it('serves downloads through old file URLs and /downloads/latest', async () => {
      const file = await t.ctx.db
        .selectFrom('files as f')
        .innerJoin('versions as v', 'v.id', 'f.version_id')
        .innerJoin('activities as a', 'a.id', 'v.activity_id')
        .select(['f.id', 'f.file_name', 'f.storage_key', 'v.version'])
        .where('a.bundle_id', '=', 'org.test.Bridge')
        .where('v.version', '=', '1')
        .executeTakeFirstOrThrow();
      await t.ctx.db.updateTable('files').set({ legacy_id: 27001 }).where('id', '=', file.id).execute();
      const old = await get(`/en-US/sugar/downloads/file/27001/bridge.xo`);
      assert.equal(old.statusCode, 301);
      const viaLocale = await get(String(old.headers.location));
      assert.equal(viaLocale.headers.location, `/downloads/file/${file.id}/${file.file_name}`);

      const latest = await get('/downloads/latest/4031');
      assert.equal(latest.statusCode, 302);
      assert.match(String(latest.headers.location), /bridge_builder-2\.xo$/);
      const forSugar = await get('/downloads/latest/org.test.Bridge', { 'user-agent': SUGAR_0112 });
      assert.equal(forSugar.headers.location, `/downloads/file/${file.id}/${file.file_name}`);

      const dl = await get(String(forSugar.headers.location));
      assert.equal(dl.statusCode, 200);
      assert.equal(dl.headers['content-type'], 'application/vnd.olpc-sugar');
      assert.equal(dl.headers['accept-ranges'], 'bytes');
      const bytes = await readFile(t.ctx.files.pathOf(file.storage_key));
      assert.equal(Number(dl.headers['content-length']), bytes.length);
      assert.ok(dl.rawPayload.equals(bytes));
      assert.equal((await get('/downloads/latest/no.such.Activity')).statusCode, 404);
    });
  });

  describe('feeds, authors, collections', () => {
    it('Atom feeds of new and updated activities, in the visitor’s language', async () => {
      const parser = new XMLParser({ ignoreAttributes: false });
      for (const kind of ['new', 'updated']) {
        const res = await get(`/es/feeds/${kind}.atom`);
        assert.equal(res.statusCode, 200);
        assert.match(res.headers['content-type'] as string, /application\/atom\+xml/);
        const doc = parser.parse(res.body);
        assert.equal(doc.feed['@_xml:lang'], 'es');
        const entries = doc.feed.entry as { title: string; link: { '@_rel': string; '@_href': string }[] }[];
        assert.equal(entries.length, 6);
        assert.ok(entries.some((e) => String(e.title).startsWith('Contar estrellas')));
        const links = entries[0]!.link;
        assert.ok(links.some((l) => l['@_rel'] === 'enclosure' && /^http:\/\/store\.test\/downloads\/file\//.test(l['@_href'])));
      }
    });

    it('author profile lists their public activities', async () => {
      const user = await t.app.accounts.createUser({ email: 'maria@example.org', displayName: 'María Pérez', password: 'correct horse battery staple' });
      const act = await t.ctx.db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.Bridge').executeTakeFirstOrThrow();
      await t.ctx.db.insertInto('activity_authors').values({ activity_id: act.id, user_id: user.id, role: 'owner', created_at: new Date() }).execute();
      const detail = await get('/en/activity/org.test.Bridge');
      assert.match(detail.body, new RegExp(`By <a href="/en/author/${user.id}"><bdi>María Pérez</bdi></a>`));
      const res = await get(`/en/author/${user.id}`);
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /<h1>María Pérez<\/h1>/);
      assert.ok(res.body.includes('Bridge Builder'));
      assert.equal((await get('/en/author/99999')).statusCode, 404);
    });

    it('collections list and page', async () => {
      await t.app.services.collections.create('school-set', { name: 'School set', description: 'What our school uses.', names: { es: 'Set escolar' } });
      await t.app.services.collections.add('school-set', 'org.aslo.sample.TideAtlas');
      await t.app.services.collections.add('school-set', 'org.test.Bridge');
      const list = await get('/es/collections');
      assert.match(list.body, /Set escolar/);
      const page = await get('/es/collection/school-set');
      assert.equal(page.statusCode, 200);
      assert.ok(page.body.includes('Tide Atlas') && page.body.includes('Bridge Builder'));
      assert.match(page.body, /2 actividades/);
      assert.equal((await get('/es/collection/nope')).statusCode, 404);
    });
  });

  describe('caching and assets', () => {
    it('pages carry an ETag and answer 304 to a revisit', async () => {
      const res = await get('/en/browse');
      assert.ok(res.headers.etag);
      assert.match(String(res.headers['cache-control']), /public, max-age=\d+/);
      const again = await get('/en/browse', { 'if-none-match': String(res.headers.etag) });
      assert.equal(again.statusCode, 304);
      assert.equal(again.body, '');
    });

    it('assets have fingerprinted names and a year of immutable caching', async () => {
      const home = await get('/en/');
      const css = /href="(\/assets\/style\.[0-9a-f]{10}\.css)"/.exec(home.body)![1]!;
      const res = await get(css, { 'accept-encoding': 'gzip' });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(res.headers['content-encoding'], 'gzip');
      assert.equal((await get('/assets/style.0000000000.css')).headers['cache-control'], 'public, max-age=86400');
      assert.equal((await get('/assets/nothing.css')).statusCode, 404);
    });

    it('hub pages use the same shell and stylesheet', async () => {
      const res = await get('/account/login');
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /href="\/assets\/style\.[0-9a-f]{10}\.css"/);
      assert.match(res.body, /class="top"/);
    });
  });
});

describe('translations', () => {
  it('every interface string is extracted and translated in every catalog', async () => {
    const { messages, errors } = extract();
    assert.deepEqual(errors, []);
    assert.ok(messages.length > 50);
    for (const info of LOCALES.filter((l) => l.po)) {
      const table = po.parse(await readFile(join(LOCALES_DIR, info.po!)));
      const { missing } = merge(table, messages);
      assert.deepEqual(missing, [], `${info.po} lacks translations (run npx tsx scripts/extract-strings.ts and translate)`);
    }
  });

  it('plural rules come from the catalogs', () => {
    const ar = pluralFunction('nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5);');
    assert.deepEqual([0, 1, 2, 5, 11, 100].map(ar), [0, 1, 2, 3, 4, 5]);
    assert.equal(pluralFunction('nplurals=2; plural=(n > 1);')(1), 0);
    assert.equal(pluralFunction('plural=alert(1)')(5), 1, 'unsafe expressions are refused');
  });
});

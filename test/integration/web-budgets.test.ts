// The store's budgets (issue: light and accessible), checked on full pages: a catalog of 120
// generated activities with many versions and translations plus the samples, so listings fill
// their 24 cards and the activity page lists long version histories.
//   every page's HTML under 60 KB gzipped; CSS under 20 KB; JavaScript under 30 KB (there is
//   none); no external fonts, scripts, stylesheets or images; every image sized, and lazy below
//   the first screen; ETag and Cache-Control on pages and assets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { loadSampleContent } from '../../src/build/samples.js';
import { generateCatalog } from '../../tools/catalog-generator/generate.js';
import { assets } from '../../src/web/assets.js';

export const BUDGETS = { htmlGzip: 60 * 1024, css: 20 * 1024, js: 30 * 1024 };

/** Resources a page loads (not links it navigates to). */
export function loadedResources(body: string): string[] {
  const out: string[] = [];
  for (const m of body.matchAll(/<(img|script|iframe|source|video|audio)\b[^>]*\ssrc="([^"]*)"/g)) out.push(m[2]!);
  for (const m of body.matchAll(/<link\b[^>]*>/g)) {
    const tag = m[0];
    if (/rel="(stylesheet|icon|preload|modulepreload|manifest)"/.test(tag)) out.push(/href="([^"]*)"/.exec(tag)?.[1] ?? '');
  }
  for (const m of body.matchAll(/url\(\s*['"]?([^'")]+)/g)) out.push(m[1]!);
  for (const m of body.matchAll(/@import\s+['"]?([^'";]+)/g)) out.push(m[1]!);
  return out;
}

describe('web budgets', () => {
  let t: TestApp;
  let pages: string[];

  before(async () => {
    t = await createTestApp();
    await loadSampleContent(t.ctx);
    await generateCatalog(t.ctx, { activities: 120, versions: 12, locales: 6, files: false });
    const someone = await t.ctx.db
      .selectFrom('activities as a')
      .innerJoin('activity_authors as aa', 'aa.activity_id', 'a.id')
      .select(['a.bundle_id', 'aa.user_id'])
      .where('a.status', '=', 'public')
      .orderBy('a.id')
      .limit(1)
      .executeTakeFirstOrThrow();
    await t.app.services.collections.create('big', { name: 'Big set' });
    const ids = await t.ctx.db.selectFrom('activities').select('bundle_id').where('status', '=', 'public').limit(40).execute();
    for (const r of ids) await t.app.services.collections.add('big', r.bundle_id);
    const detail = `/activity/${encodeURIComponent(someone.bundle_id)}`;
    pages = [
      '/',
      '/browse',
      '/browse?sort=newest&page=2',
      '/category/games',
      '/search?q=math',
      '/search?q=zzz',
      detail,
      `${detail}/versions`,
      '/activity/org.aslo.sample.CountingStars',
      `/author/${someone.user_id}`,
      '/collections',
      '/collection/big',
      '/no/such/page',
    ];
  });
  after(async () => t?.cleanup());

  it('every page is under 60 KB gzipped and loads nothing from elsewhere', async () => {
    const report: string[] = [];
    for (const locale of ['en', 'ar']) {
      for (const path of pages) {
        const url = `/${locale}${path === '/' ? '/' : path}`;
        const res = await t.app.inject({ url });
        assert.ok([200, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
        const gz = gzipSync(res.body).length;
        report.push(`${url} ${res.body.length} B, ${gz} B gzipped`);
        assert.ok(gz < BUDGETS.htmlGzip, `${url} is ${gz} bytes gzipped`);
        for (const r of loadedResources(res.body)) {
          assert.ok(r.startsWith('/') && !r.startsWith('//'), `${url} loads ${r} from elsewhere`);
        }
        assert.doesNotMatch(res.body, /<script\b[^>]*>[^<]+<\/script>/, `${url}: inline script`);
        assert.doesNotMatch(res.body, /\sstyle="/, `${url}: inline styles (the CSP forbids them)`);
        for (const img of res.body.match(/<img\b[^>]*>/g) ?? []) {
          assert.match(img, /\swidth="\d+"/, `${url}: ${img} has no width`);
          assert.match(img, /\sheight="\d+"/, `${url}: ${img} has no height`);
          assert.match(img, /\salt="/, `${url}: ${img} has no alt`);
        }
        const imgs = res.body.match(/<img\b[^>]*>/g) ?? [];
        if (imgs.length > 12)
          assert.ok(
            imgs.slice(12).every((i) => /loading="lazy"/.test(i)),
            `${url}: images below the first screen load lazily`,
          );
        if (res.statusCode === 200) {
          assert.ok(res.headers.etag, `${url}: ETag`);
          assert.match(String(res.headers['cache-control']), /max-age=\d+/, `${url}: Cache-Control`);
        }
      }
    }
    console.log(report.join('\n'));
  });

  it('CSS under 20 KB, JavaScript under 30 KB, no web fonts, all fingerprinted and cached for a year', async () => {
    let css = 0;
    let js = 0;
    for (const a of assets().values()) {
      if (a.type.startsWith('text/css')) css += a.body.length;
      if (a.type.startsWith('text/javascript')) js += a.body.length;
      assert.match(a.url, /\.[0-9a-f]{10}\.\w+$/);
      const res = await t.app.inject({ url: a.url });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.ok(res.headers.etag);
      assert.equal((await t.app.inject({ url: a.url, headers: { 'if-none-match': String(res.headers.etag) } })).statusCode, 304);
      if (a.type.startsWith('text/css')) {
        const text = a.body.toString('utf8');
        assert.doesNotMatch(text, /@font-face|@import|url\(\s*['"]?(https?:)?\/\//, 'no web fonts or outside resources');
      }
    }
    console.log(`css ${css} B, js ${js} B`);
    assert.ok(css > 0 && css < BUDGETS.css, `CSS is ${css} bytes`);
    assert.ok(js < BUDGETS.js, `JavaScript is ${js} bytes`);
  });
});

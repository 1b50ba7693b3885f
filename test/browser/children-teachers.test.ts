// Children and teachers in a real browser (Debian's Chromium through playwright-core) against a
// server started in this process with the sample activities. A child, in Sugar's Browse
// (User-Agent with SugarLabs/0.120), finds an activity by category and by a misspelt search, reads
// its reviews and downloads it; in English, Spanish, Arabic and on a 375 px phone. A teacher logs
// in (a wrong password first: the form comes back with a sentence and the address), writes a
// review and flags another one, then reports the activity. Every step asserts what the page
// says, runs axe-core and saves a screenshot to test-output/screenshots/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startInProcessServer, type InProcessServer } from '../helpers/server.js';
import { checkA11y, shot, SHOTS } from '../helpers/axe.js';

const XO = { width: 1200, height: 900 };
const PHONE = { width: 375, height: 812 };
const BROWSE_0120 = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15 SugarLabs/0.120';
const PASSWORD = 'correct horse battery staple';
const STARS = 'org.aslo.sample.CountingStars';

/** What the child sees in each language: the activity's name, a misspelt search and what the page says. */
const WALKS = [
  {
    locale: 'en',
    name: 'Counting Stars',
    typo: 'countng strs',
    reviews: 'Ratings and reviews',
    works: 'Works with your Sugar 0.120.',
    viewport: XO,
    label: 'xo-en',
  },
  {
    locale: 'es',
    name: 'Contar estrellas',
    typo: 'estrelas contar',
    reviews: 'Valoraciones y reseñas',
    works: 'Funciona con tu Sugar 0.120.',
    viewport: XO,
    label: 'xo-es',
  },
  { locale: 'ar', name: 'عدّ النجوم', typo: 'countng', reviews: 'التقييمات والمراجعات', works: null, viewport: XO, label: 'xo-ar' },
  {
    locale: 'en',
    name: 'Counting Stars',
    typo: 'countng',
    reviews: 'Ratings and reviews',
    works: 'Works with your Sugar 0.120.',
    viewport: PHONE,
    label: 'phone375-en',
  },
] as const;

async function noSidewaysScroll(page: Page, label: string): Promise<void> {
  const w = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
  assert.ok(w.scroll <= w.view + 1, `${label}: the page scrolls sideways (${w.scroll} > ${w.view})`);
}

describe('children and teachers in Chromium', { timeout: 600_000 }, () => {
  let s: InProcessServer;
  let browser: Browser;

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    s = await startInProcessServer({ sample: true });
    const app = s.server.app;
    await app.accounts.createUser({ email: 'tess@example.org', displayName: 'Tess Teacher', password: PASSWORD });
    const omar = await app.accounts.createUser({ email: 'omar@example.org', displayName: 'عمر', password: PASSWORD });
    const session = await app.accounts.login('omar@example.org', PASSWORD, { address: '127.0.0.1', userAgent: null });
    const viewer = await app.accounts.viewerFromSession(session.token, '127.0.0.1');
    assert.equal(viewer?.userId, omar.id);
    await app.ratings.rate(viewer, STARS, 4, 'Good for counting practice. الأطفال أحبوها.');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await s?.stop();
  });

  for (const w of WALKS) {
    it(`a child in Browse (${w.label}) finds an activity by category and by a misspelt search, reads reviews and downloads it`, async () => {
      // Browse sends the system's language (the hub's pages, which hold no locale in their address, follow it).
      const ctx = await browser.newContext({
        viewport: w.viewport,
        userAgent: BROWSE_0120,
        locale: w.locale,
        acceptDownloads: true,
        isMobile: w.viewport === PHONE,
      });
      const page = await ctx.newPage();
      await page.goto(`${s.url}/${w.locale}/`);
      assert.equal(await page.getAttribute('html', 'lang'), w.locale);
      assert.equal(await page.getAttribute('html', 'dir'), w.locale === 'ar' ? 'rtl' : 'ltr');
      await noSidewaysScroll(page, `${w.label} home`);
      await checkA11y(page, `${w.label} home`);
      await shot(page, `ct-${w.label}-1-home`);

      // By category: the chip's count is what the category page lists for this Sugar.
      const chip = page
        .locator(`#categories + ul a[href="/${w.locale}/category/math"], section[aria-labelledby="categories"] a[href="/${w.locale}/category/math"]`)
        .first();
      const count = Number((await chip.locator('.n').textContent())?.replace(/[^\d٠-٩]/g, '').replace(/[٠-٩]/g, (d) => String('٠١٢٣٤٥٦٧٨٩'.indexOf(d))));
      await Promise.all([page.waitForURL(new RegExp(`/${w.locale}/category/math$`)), chip.click()]);
      assert.equal(await page.locator('.card').count(), count, 'the category shows as many activities as its chip says');
      assert.ok(await page.locator('.card').getByRole('link', { name: w.name }).isVisible());
      await noSidewaysScroll(page, `${w.label} category`);
      await checkA11y(page, `${w.label} category`);
      await shot(page, `ct-${w.label}-2-category`);

      // By a misspelt search.
      if (w.viewport === PHONE) await page.goto(`${s.url}/${w.locale}/`);
      await page.locator('#q').fill(w.typo);
      await Promise.all([page.waitForURL(new RegExp(`/${w.locale}/search\\?q=`)), page.keyboard.press('Enter')]);
      const hit = page.locator('.card').getByRole('link', { name: w.name });
      assert.ok(await hit.isVisible(), `"${w.typo}" finds ${w.name}`);
      await checkA11y(page, `${w.label} search`);
      await shot(page, `ct-${w.label}-3-search`);

      // The activity page: its reviews, the developer's mixed text with its own direction.
      await Promise.all([page.waitForURL(new RegExp(`/activity/${STARS.replace(/\./g, '\\.')}$`)), hit.click()]);
      assert.equal(await page.locator('h1').textContent(), w.name);
      assert.equal(await page.locator('#reviews-h').textContent(), w.reviews);
      const review = page.locator('.reviews .review').first();
      assert.match((await review.textContent()) ?? '', /Good for counting practice\. الأطفال أحبوها\./);
      assert.equal(await review.locator('p[dir="auto"]').count(), 1);
      assert.match((await page.locator('.bid').innerHTML()) ?? '', /^org\.<wbr>aslo\.<wbr>sample\.<wbr>CountingStars$/);
      await noSidewaysScroll(page, `${w.label} activity`);
      await checkA11y(page, `${w.label} activity`);
      await shot(page, `ct-${w.label}-4-activity`, { fullPage: true });

      // Screenshots open full size without JavaScript: a plain link to the image.
      const shotLink = page.locator('.shots a').first();
      const full = await ctx.request.get(`${s.url}${await shotLink.getAttribute('href')}`);
      assert.equal(full.status(), 200);
      assert.match(full.headers()['content-type'] ?? '', /^image\//);
      assert.equal(await page.locator('.shots img').first().getAttribute('loading'), 'lazy');

      // Download as Browse does: Sugar's content type and the exact bytes.
      if (w.works) assert.equal((await page.locator('.get .note.ok').textContent())?.trim(), w.works);
      const button = page.locator('.get a.btn');
      const href = (await button.getAttribute('href'))!;
      const meta = (await (await fetch(`${s.url}/api/v1/files/${/\/downloads\/file\/(\d+)\//.exec(href)![1]}`)).json()) as { sha256: string; size: number };
      const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
      assert.equal(download.suggestedFilename(), 'counting_stars-4.xo');
      const bytes = await readFile((await download.path())!);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), meta.sha256);

      // All the reviews, on the ratings page titled with the activity's name.
      await Promise.all([page.waitForURL(/\/ratings\//), page.locator(`a[href="/ratings/${STARS}"]`).first().click()]);
      assert.match(await page.title(), new RegExp(w.name));
      assert.match((await page.locator('main').textContent()) ?? '', /Good for counting practice/);
      await checkA11y(page, `${w.label} ratings page`);
      await shot(page, `ct-${w.label}-5-reviews`);
      await ctx.close();
    });
  }

  it('a teacher logs in (a wrong password first), writes a review, flags another and reports the activity', async () => {
    for (const viewport of [XO, PHONE]) {
      const ctx = await browser.newContext({ viewport, locale: 'en-US' });
      const page = await ctx.newPage();
      const label = viewport === XO ? 'xo-en' : 'phone375-en';
      await page.goto(`${s.url}/en/activity/${STARS}`);
      await Promise.all([page.waitForURL(/\/account\/login/), page.getByRole('link', { name: 'Log in to write a review' }).click()]);
      await page.locator('#f-email').fill('tess@example.org');
      await page.locator('#f-password').fill('not my password');
      await Promise.all([page.waitForLoadState('load'), page.locator('main form button[type="submit"]').click()]);
      assert.equal(await page.locator('[role="alert"]').textContent(), 'The e-mail address or the password is wrong. Check them and try again.');
      assert.equal(await page.locator('#f-email').inputValue(), 'tess@example.org', 'the address is kept');
      assert.doesNotMatch((await page.locator('main').textContent()) ?? '', /LOGIN_FAILED/);
      await checkA11y(page, `${label} failed login`);
      await shot(page, `ct-${label}-teacher-1-login-failed`);
      await page.locator('#f-password').fill(PASSWORD);
      await Promise.all([page.waitForURL(/\/ratings\//), page.locator('main form button[type="submit"]').click()]);

      // Back on the activity page, logged in: "Write a review" and "Report".
      await page.goto(`${s.url}/en/activity/${STARS}`);
      assert.ok(await page.getByRole('link', { name: 'Report this activity' }).isVisible());
      await Promise.all([page.waitForURL(/\/ratings\/.*#rate$/), page.getByRole('link', { name: 'Write a review' }).click()]);
      const menu = page.locator('select[name="rating"]');
      if (viewport === XO) assert.equal(await menu.inputValue(), '', 'no rating is chosen for the teacher');
      await menu.selectOption('5');
      await page.locator('#f-body').fill(viewport === XO ? 'We use it every week in class.' : 'Still our favourite.');
      await checkA11y(page, `${label} write a review`);
      await shot(page, `ct-${label}-teacher-2-write`);
      await Promise.all([page.waitForURL(/done=saved/), page.locator('section[aria-labelledby="rate"] button[type="submit"]').click()]);
      assert.match((await page.locator('main').textContent()) ?? '', /Saved\./);

      // Flag the other review (once is enough: the second pass finds it flagged already).
      if (viewport === XO) {
        const other = page.locator('article').filter({ hasText: 'Good for counting practice' });
        await other.locator('summary').click();
        await other.locator('select[name="reason"]').selectOption('off-topic');
        await other.locator('input[name="message"]').fill('Half of it is not about the activity.');
        await Promise.all([page.waitForURL(/done=saved/), other.locator('button[type="submit"]').click()]);
      }

      // Report the activity.
      await page.locator('section[aria-labelledby="report"] select[name="reason"]').selectOption('broken');
      await page.locator('section[aria-labelledby="report"] textarea[name="message"]').fill('It does not start on our laptops.');
      await Promise.all([page.waitForURL(/done=reported/), page.locator('section[aria-labelledby="report"] button[type="submit"]').click()]);
      assert.match((await page.locator('main').textContent()) ?? '', /the administrators will look at your report/);
      await checkA11y(page, `${label} reported`);
      await shot(page, `ct-${label}-teacher-3-reported`);

      // Similar activities (shared category and tags) under the page, with their own headings.
      if (viewport === XO) {
        await page.goto(`${s.url}/en/activity/org.aslo.sample.ColorMixer`);
        const similar = page.locator('section[aria-labelledby="similar-h"]');
        assert.equal(await similar.locator('h2').textContent(), 'Similar activities');
        assert.ok(await similar.getByRole('link', { name: 'Pendulum Lab' }).isVisible());
        await checkA11y(page, `${label} similar activities`);
        await similar.scrollIntoViewIfNeeded();
        await shot(page, `ct-${label}-teacher-similar`);
      }

      // The activity page shows the teacher's review among the latest.
      await page.goto(`${s.url}/en/activity/${STARS}`);
      assert.match((await page.locator('.reviews').textContent()) ?? '', viewport === XO ? /We use it every week in class\./ : /Still our favourite\./);
      await shot(page, `ct-${label}-teacher-4-activity`, { fullPage: true });
      await ctx.close();
    }
    const db = s.ctx.db;
    const flags = await db.selectFrom('review_flags').select(['reason']).execute();
    assert.deepEqual(
      flags.map((f) => f.reason),
      ['off-topic'],
    );
    const reports = await db.selectFrom('abuse_reports').select(['reason']).execute();
    assert.equal(reports.length, 2);
  });
});

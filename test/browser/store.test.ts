// The web store in a real browser: Debian's Chromium driven by playwright-core against
// `aslo serve` with the sample activities. Browse, search, open an activity and download it
// (content type and exact bytes), switch language (right-to-left too), use it without JavaScript,
// on a phone and with the keyboard; axe-core finds no serious accessibility problems.
// Screenshots of the main pages are written to test-output/screenshots/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchChromium, startStoreServer, type StoreServer } from '../helpers/chromium.js';
import { checkA11y, shot, SHOTS } from '../helpers/axe.js';
import { loadConfig } from '../../src/platform/config.js';
import { readOutbox } from '../../src/mail/mailer.js';

const XO = { width: 1200, height: 900 };
const PHONE = { width: 390, height: 844 };

describe('the store in Chromium', { timeout: 300_000 }, () => {
  let server: StoreServer;
  let browser: Browser;
  let xo: BrowserContext;

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    browser = await launchChromium();
    server = await startStoreServer();
    xo = await browser.newContext({ viewport: XO, locale: 'en-US', acceptDownloads: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens the home page in the visitor’s language and browses a category', async () => {
    const page = await xo.newPage();
    await page.goto(`${server.url}/`);
    assert.equal(new URL(page.url()).pathname, '/en/');
    assert.equal(await page.locator('h1').textContent(), 'Learning activities for Sugar');
    await checkA11y(page, 'home');
    await shot(page, 'xo-en-home');
    await page.locator('nav.cats').getByRole('link', { name: 'Science' }).click();
    await page.waitForURL(/\/en\/category\/science$/);
    assert.equal(await page.locator('h1').textContent(), 'Science');
    assert.equal(await page.locator('.card').count(), 2);
    await checkA11y(page, 'category');
    await shot(page, 'xo-en-category');
    await page.close();
  });

  it('searches with a typo and opens the activity', async () => {
    const page = await xo.newPage();
    await page.goto(`${server.url}/en/`);
    await page.getByRole('searchbox', { name: 'Search activities' }).fill('pendlum');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/en\/search\?q=pendlum/);
    assert.match((await page.locator('h1').textContent()) ?? '', /pendlum/);
    await checkA11y(page, 'search');
    await shot(page, 'xo-en-search');
    await page.getByRole('link', { name: 'Pendulum Lab' }).click();
    await page.waitForURL(/\/en\/activity\/org\.aslo\.sample\.PendulumLab$/);
    assert.equal(await page.locator('h1').textContent(), 'Pendulum Lab');
    await page.close();
  });

  it('downloads an activity: Sugar’s content type and the exact bytes', async () => {
    const page = await xo.newPage();
    await page.goto(`${server.url}/en/activity/org.aslo.sample.CountingStars`);
    await checkA11y(page, 'activity');
    await shot(page, 'xo-en-activity');
    const button = page.locator('.get a.btn');
    const href = (await button.getAttribute('href'))!;
    assert.match(href, /^\/downloads\/file\/\d+\/counting_stars-4\.xo$/);
    const fileId = /\/downloads\/file\/(\d+)\//.exec(href)![1];
    const meta = (await (await fetch(`${server.url}/api/v1/files/${fileId}`)).json()) as { sha256: string; size: number };
    const direct = await xo.request.get(`${server.url}${href}`);
    assert.equal(direct.headers()['content-type'], 'application/vnd.olpc-sugar');
    assert.equal(Number(direct.headers()['content-length']), meta.size);
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    assert.equal(download.suggestedFilename(), 'counting_stars-4.xo');
    const bytes = await readFile((await download.path())!);
    assert.equal(bytes.length, meta.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), meta.sha256);
    await page.close();
  });

  it('switches language, right-to-left included, and remembers it', async () => {
    const page = await xo.newPage();
    await page.goto(`${server.url}/en/activity/org.aslo.sample.WordGarden`);
    await page.locator('details.lang summary').click();
    await page.getByRole('link', { name: 'Español' }).click();
    await page.waitForURL(/\/es\/activity\/org\.aslo\.sample\.WordGarden$/);
    assert.equal(await page.locator('h1').textContent(), 'Jardín de palabras');
    assert.equal(await page.getAttribute('html', 'lang'), 'es');
    await shot(page, 'xo-es-activity');
    await page.locator('details.lang summary').click();
    await page.getByRole('link', { name: 'العربية' }).click();
    await page.waitForURL(/\/ar\/activity\//);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    assert.equal(await page.locator('h1').textContent(), 'حديقة الكلمات');
    // The header's start is on the right in a right-to-left page.
    const brand = (await page.locator('.brand').boundingBox())!;
    assert.ok(brand.x > XO.width / 2, 'logo on the right');
    await checkA11y(page, 'activity (ar)');
    await shot(page, 'xo-ar-activity');
    await page.goto(`${server.url}/`);
    assert.equal(new URL(page.url()).pathname, '/ar/', 'the choice is remembered');
    await checkA11y(page, 'home (ar)');
    await shot(page, 'xo-ar-home');
    await page.close();
  });

  it('works without JavaScript', async () => {
    const ctx = await browser.newContext({ viewport: XO, javaScriptEnabled: false, locale: 'fr-FR' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/`);
    assert.equal(new URL(page.url()).pathname, '/fr/');
    await page.getByRole('searchbox', { name: 'Rechercher des activités' }).fill('couleurs');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/fr\/search/);
    assert.ok(await page.getByRole('link', { name: 'Mélangeur de couleurs' }).isVisible());
    await page.selectOption('#f-runtime', 'python2');
    await page.getByRole('button', { name: 'Appliquer' }).click();
    await page.waitForURL(/runtime=python2/);
    assert.match((await page.locator('.count').textContent()) ?? '', /0 activité/);
    await page.goto(`${server.url}/fr/browse`);
    await page.getByRole('link', { name: 'Les plus récentes' }).click();
    await page.waitForURL(/sort=newest/);
    await shot(page, 'xo-fr-browse-nojs');
    await ctx.close();
  });

  it('fits a phone and is usable with the keyboard', async () => {
    const ctx = await browser.newContext({ viewport: PHONE, locale: 'en', isMobile: true, hasTouch: true });
    const page = await ctx.newPage();
    for (const path of ['/en/', '/en/browse', '/en/activity/org.aslo.sample.ColorMixer', '/en/search?q=star']) {
      await page.goto(`${server.url}${path}`);
      const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth }));
      assert.ok(widths.scroll <= widths.view + 1, `${path}: the page scrolls sideways (${widths.scroll} > ${widths.view})`);
      await checkA11y(page, `phone ${path}`);
    }
    await shot(page, 'phone-en-search');
    await page.goto(`${server.url}/en/`);
    await shot(page, 'phone-en-home');
    await page.goto(`${server.url}/en/activity/org.aslo.sample.ColorMixer`);
    await shot(page, 'phone-en-activity');
    await ctx.close();

    const kb = await xo.newPage();
    await kb.goto(`${server.url}/en/`);
    await kb.keyboard.press('Tab');
    assert.equal(await kb.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await kb.keyboard.press('Enter');
    await kb.waitForURL(/#main$/); // the fragment navigation may land a moment after the key press
    // Tab through to the first activity card and open it with Enter.
    let found = false;
    for (let i = 0; i < 60 && !found; i++) {
      await kb.keyboard.press('Tab');
      found = await kb.evaluate(() => Boolean(document.activeElement?.closest('.card')));
    }
    assert.ok(found, 'a card is reachable with Tab');
    await kb.keyboard.press('Enter');
    await kb.waitForURL(/\/en\/activity\//);
    await kb.close();
  });

  it('offers Sugar’s browser what runs on its Sugar', async () => {
    const ctx = await browser.newContext({ viewport: XO, userAgent: 'Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.36 (KHTML, like Gecko) SugarLabs/0.112' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/en/activity/org.aslo.sample.PendulumLab`);
    assert.ok(await page.getByText('Works with your Sugar 0.112.').isVisible());
    await page.goto(`${server.url}/en/activity/org.aslo.sample.CountingStars`);
    assert.ok(await page.getByText('No version of Counting Stars works with your Sugar 0.112.').isVisible());
    await checkA11y(page, 'activity for Sugar 0.112');
    await shot(page, 'xo-en-activity-sugar0112');
    await ctx.close();
  });

  it('registers, confirms the address, logs in and opens the developer hub, in the store’s look', async () => {
    const ctx = await browser.newContext({ viewport: XO, locale: 'en' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/account/register`);
    assert.ok(await page.locator('header.top .brand').isVisible());
    const email = `dev-${Date.now()}@example.org`;
    await page.getByLabel('E-mail address').fill(email);
    await page.locator('#f-display_name').fill('Ada Developer');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.locator('main form button[type="submit"]').click();
    await page.waitForLoadState('load');
    const outbox = loadConfig({ dataDir: server.dataDir, instance: 'default', env: {}, writeDefaults: false }).storage.outboxDir;
    const mail = readOutbox(outbox)
      .reverse()
      .find((m) => m.to === email);
    assert.ok(mail, 'a verification mail was written to the outbox');
    const link = mail.text.match(/https?:\/\/\S+\/account\/verify\S*/)![0];
    await page.goto(`${server.url}${new URL(link).pathname}${new URL(link).search}`);
    await page.locator('main form button[type="submit"]').click();
    await page.waitForLoadState('load');
    await page.goto(`${server.url}/account/login`);
    await checkA11y(page, 'hub: log in');
    await shot(page, 'xo-hub-login');
    await page.getByLabel('E-mail address').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.locator('main form button[type="submit"]').click();
    await page.waitForLoadState('load');
    await page.goto(`${server.url}/developers`);
    assert.equal(new URL(page.url()).pathname, '/developers');
    assert.ok(await page.locator('header.top').getByText('Ada Developer').isVisible());
    await checkA11y(page, 'hub: developer hub');
    await shot(page, 'xo-hub-developers');
    await ctx.close();
  });
});

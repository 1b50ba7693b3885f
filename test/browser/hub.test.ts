// The developer hub and the editors' queue in a real browser: a server started in this process
// (startServer, as `aslo serve` runs it), people and roles made through its accounts service;
// a developer logs in, uploads a bundle through the hub's form and nominates it; an editor opens
// the queue, approves with a comment; the activity is then public in the store. axe-core finds
// no serious problem on the queue and review pages (English and Arabic); screenshots are
// written to test-output/screenshots/.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startInProcessServer, type InProcessServer } from '../helpers/server.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { checkA11y, shot, SHOTS } from '../helpers/axe.js';

const XO = { width: 1200, height: 900 };
const PHONE = { width: 390, height: 844 };
const PASSWORD = 'correct horse battery staple';
const BUNDLE = 'org.example.KiteFlyer';

async function logIn(page: Page, base: string, email: string): Promise<void> {
  await page.goto(`${base}/account/login`);
  await page.locator('#f-email').fill(email);
  await page.locator('#f-password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/account/login')), page.locator('main form button[type="submit"]').click()]);
}

describe('the developer hub and the editors’ queue in Chromium', { timeout: 300_000 }, () => {
  let s: InProcessServer;
  let browser: Browser;
  let dev: BrowserContext;
  let editor: BrowserContext;
  let bundlePath: string;

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    s = await startInProcessServer({ sample: true });
    // People and roles straight through the running app's accounts service (what `aslo user add`
    // and `aslo user role` do).
    await s.server.app.accounts.createUser({ email: 'ada@example.org', displayName: 'Ada Developer', password: PASSWORD });
    await s.server.app.accounts.createUser({ email: 'ed@example.org', displayName: 'Ed Editor', password: PASSWORD, role: 'editor' });
    bundlePath = await buildActivity(await tempDir(), {
      bundleId: BUNDLE,
      name: 'Kite Flyer',
      version: '3',
      summary: 'Fly a kite over the hills and learn about wind.',
      tags: 'Science;Physics',
      license: 'GPL-3.0-or-later',
    });
    browser = await launchChromium();
    dev = await browser.newContext({ viewport: XO, locale: 'en-US' });
    editor = await browser.newContext({ viewport: XO, locale: 'en-US' });
  });
  after(async () => {
    await browser?.close();
    await s?.stop();
  });

  it('a developer uploads a bundle through the hub form and nominates it', async () => {
    const page = await dev.newPage();
    await logIn(page, s.url, 'ada@example.org');
    await page.goto(`${s.url}/developers/upload`);
    await checkA11y(page, 'hub: upload');
    await page.locator('#f-file').setInputFiles(bundlePath);
    await page.locator('#f-release_notes').fill('Stronger wind, bigger kites.');
    await Promise.all([page.waitForLoadState('load'), page.locator('main form[aria-label="Upload a bundle"] button[type="submit"]').first().click()]);
    assert.equal(await page.locator('h1').textContent(), 'Uploaded');
    assert.match((await page.locator('section[aria-labelledby="read"] dl').textContent()) ?? '', /activity sandbox, this version sandbox/);
    await checkA11y(page, 'hub: upload result');
    await shot(page, 'xo-hub-upload-result');

    await Promise.all([page.waitForURL(/\/developers\/activities\/\d+$/), page.getByRole('link', { name: 'Open the activity' }).click()]);
    assert.equal(await page.locator('h1').textContent(), 'Kite Flyer');
    await page.locator('#f-message').fill('A kite simulator for windy afternoons: open it, drag the kite up.');
    await Promise.all([page.waitForURL(/done=nominated/), page.getByRole('button', { name: 'Nominate for review' }).click()]);
    assert.match((await page.locator('main [role="status"]').textContent()) ?? '', /The activity is nominated/);
    assert.match((await page.locator('main').textContent()) ?? '', /Status: nominated/);
    await checkA11y(page, 'hub: activity page');
    await shot(page, 'xo-hub-activity', { fullPage: true });
    await page.close();
  });

  it('an editor opens the queue, reviews and approves with a comment', async () => {
    const page = await editor.newPage();
    await logIn(page, s.url, 'ed@example.org');
    await page.goto(`${s.url}/editors/queue`);
    assert.equal(await page.locator('h1').textContent(), 'Editors’ queue'.replace('’', "'"));
    const link = page.locator('#nominated ~ table a, section[aria-labelledby="nominated"] a', { hasText: BUNDLE });
    assert.equal(await link.count(), 1, 'the nominated activity is in the queue');
    await checkA11y(page, 'editors: queue');
    await shot(page, 'xo-editors-queue');

    await Promise.all([page.waitForURL(/\/editors\/review\/activity\/\d+$/), link.click()]);
    assert.match((await page.locator('h1').textContent()) ?? '', /^Review: Kite Flyer 3$/);
    assert.ok(
      await page.locator('main blockquote', { hasText: 'A kite simulator for windy afternoons' }).first().isVisible(),
      'the nomination message is shown',
    );
    await checkA11y(page, 'editors: review page');
    await shot(page, 'xo-editors-review', { fullPage: true });

    await page.getByLabel('Approve (make public)').check();
    await page.locator('#f-comment').fill('Flies well on 0.118. Approved.');
    await Promise.all([page.waitForURL(/\/editors\/queue\?done=decided$/), page.getByRole('button', { name: 'Record decision' }).click()]);
    assert.match((await page.locator('main [role="status"]').textContent()) ?? '', /The decision is recorded/);
    assert.equal(await page.locator('section[aria-labelledby="nominated"] a', { hasText: BUNDLE }).count(), 0, 'no longer waiting');
    await checkA11y(page, 'editors: queue after the decision');
    await page.close();
  });

  it('the approved activity is public in the store', async () => {
    const visitor = await browser.newContext({ viewport: XO, locale: 'en-US' });
    const page = await visitor.newPage();
    await page.goto(`${s.url}/en/search?q=kite`);
    const card = page.locator('main a', { hasText: 'Kite Flyer' }).first();
    assert.ok(await card.isVisible(), 'found by search');
    await Promise.all([page.waitForURL(new RegExp(`/en/activity/${BUNDLE.replace(/\./g, '\\.')}$`)), card.click()]);
    assert.equal(await page.locator('h1').textContent(), 'Kite Flyer');
    assert.ok(await page.getByText('Fly a kite over the hills and learn about wind.').first().isVisible());
    assert.ok(
      await page
        .getByRole('link', { name: /^Download/ })
        .first()
        .isVisible(),
    );
    await shot(page, 'xo-en-activity-approved');
    await visitor.close();
    // The developer's hub page says so too, with the editor's comment in the history.
    const devPage = await dev.newPage();
    await devPage.goto(`${s.url}/developers`);
    await devPage.getByRole('link', { name: 'Kite Flyer' }).click();
    assert.match((await devPage.locator('main').textContent()) ?? '', /Status: public/);
    assert.ok(await devPage.getByText('Flies well on 0.118. Approved.').isVisible());
    await devPage.close();
  });

  it('the queue and review pages in Arabic, right to left, and on a phone', async () => {
    // A new version of the now public activity waits in the queue as a pending version.
    const devPage = await dev.newPage();
    await devPage.goto(`${s.url}/developers/upload`);
    await devPage.locator('#f-file').setInputFiles(
      await buildActivity(await tempDir(), {
        bundleId: BUNDLE,
        name: 'Kite Flyer',
        version: '4',
        summary: 'Fly a kite over the hills and learn about wind.',
        license: 'GPL-3.0-or-later',
        payload: 'gusts',
      }),
    );
    await Promise.all([devPage.waitForLoadState('load'), devPage.locator('main form[aria-label="Upload a bundle"] button[type="submit"]').first().click()]);
    assert.match((await devPage.locator('section[aria-labelledby="read"] dl').textContent()) ?? '', /this version pending/);
    await devPage.close();

    const page = await editor.newPage();
    await page.goto(`${s.url}/lang/ar?next=${encodeURIComponent('/editors/queue')}&stay=1`);
    assert.equal(new URL(page.url()).pathname, '/editors/queue');
    assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
    assert.equal(await page.locator('h1').textContent(), 'قائمة انتظار المحررين');
    assert.equal(await page.locator('section[aria-labelledby="pending"] a', { hasText: BUNDLE }).count(), 1);
    await checkA11y(page, 'editors: queue in Arabic');
    await shot(page, 'xo-ar-editors-queue');
    await Promise.all([page.waitForURL(/\/editors\/review\/file\/\d+$/), page.locator('section[aria-labelledby="pending"] a', { hasText: BUNDLE }).click()]);
    const reviewUrl = page.url();
    assert.equal(await page.locator('html').getAttribute('lang'), 'ar');
    assert.equal(await page.locator('#diff').textContent(), 'التغييرات منذ الإصدار 3');
    await checkA11y(page, 'editors: review page in Arabic');
    await shot(page, 'xo-ar-editors-review', { fullPage: true });
    await page.close();

    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-US', isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await logIn(small, s.url, 'ed@example.org');
    await small.goto(reviewUrl);
    await shot(small, 'phone-editors-review', { fullPage: true });
    const overflow = await small.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the review page fits a phone (overflows by ${overflow}px)`);
    await checkA11y(small, 'editors: review page on a phone');
    await phone.close();
  });
});

// A developer's path from the first visit to public, and an editor's review, in Chromium: the
// logged-out developer hub explains publishing; a developer registers through the form, confirms
// the address from the mail, uploads, reads what the store took from the bundle, previews the
// activity's page (a 404 for anyone else), nominates; an editor logs in, lands on the queue,
// reviews the version against the one before with the bundle diff, approves. Every step asserts
// what the page says, runs axe-core and saves a screenshot; at 1280 px and 375 px, and in Arabic.
// One header on every page: it never wraps at 1280 px, and hub pages fit a 375 px phone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startInProcessServer, type InProcessServer } from '../helpers/server.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { checkA11y, shot, SHOTS } from '../helpers/axe.js';
import { linkInMail } from '../helpers/browser.js';

const WIDE = { width: 1280, height: 900 };
const PHONE = { width: 375, height: 812 };
const PASSWORD = 'correct horse battery staple';
const BUNDLE = 'org.example.MoonPhases';
const DEV = 'lin@example.org';
const EDITOR = 'eve@example.org';

async function logIn(page: Page, base: string, email: string): Promise<void> {
  await page.goto(`${base}/account/login`);
  await page.locator('#f-email').fill(email);
  await page.locator('#f-password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/account/login')), page.locator('main form button[type="submit"]').click()]);
}

/** The header stays one line: its height is that of one row of its items. */
async function headerHeight(page: Page): Promise<number> {
  return page.locator('header.top .wrap').evaluate((e) => e.getBoundingClientRect().height);
}

/** How far the page is wider than the window (0 when nothing scrolls sideways). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The elements reaching past the window's right edge, for the failure message. */
async function wideElements(page: Page): Promise<string> {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1)
      .slice(-4)
      .map(
        (e) =>
          `${e.tagName.toLowerCase()}${e.className ? `.${String(e.className).replace(/\s+/g, '.')}` : ''} (${Math.round(e.getBoundingClientRect().right)} px)`,
      )
      .join(', ');
  });
}

describe('from the first visit to public, and the editor’s review, in Chromium', { timeout: 400_000 }, () => {
  let s: InProcessServer;
  let browser: Browser;
  let dev: BrowserContext;
  let editor: BrowserContext;
  let v1: string;
  let v2: string;
  let activityUrl: string;

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    s = await startInProcessServer({ sample: true });
    await s.server.app.accounts.createUser({ email: EDITOR, displayName: 'Eve Editor', password: PASSWORD, role: 'editor' });
    const dir = await tempDir();
    const base = { bundleId: BUNDLE, name: 'Moon Phases', summary: 'Watch the moon wax and wane over a month.', tags: 'Science', license: 'GPL-3.0-or-later' };
    v1 = await buildActivity(dir, { ...base, version: '1' });
    v2 = await buildActivity(dir, { ...base, version: '2', summary: 'Watch the moon wax and wane, with eclipses.', payload: 'eclipses = True' });
    browser = await launchChromium();
    dev = await browser.newContext({ viewport: WIDE, locale: 'en-US' });
    editor = await browser.newContext({ viewport: WIDE, locale: 'en-US' });
  });
  after(async () => {
    await browser?.close();
    await s?.stop();
  });

  it('the logged-out developer hub explains publishing in three steps, with the command line', async () => {
    const page = await dev.newPage();
    await page.goto(`${s.url}/developers`);
    assert.equal(new URL(page.url()).pathname, '/developers', 'no redirect to the login page');
    assert.equal(await page.locator('h1').textContent(), 'Publish your activity');
    assert.deepEqual(await page.locator('ol.steps h2').allTextContents(), ['Create an account', 'Upload your bundle', 'Nominate it for review']);
    const cli = (await page.locator('pre').textContent()) ?? '';
    assert.match(cli, /aslo publish MyActivity-1\.xo --server/);
    assert.match(cli, /Bearer \$ASLO_TOKEN" \\\n/, 'the curl example continues its lines');
    assert.match(cli, /\/api\/v1\/uploads\?filename=MyActivity-1\.xo"/, 'the upload address of the API');
    assert.ok(await page.getByRole('link', { name: '/api/docs' }).isVisible());
    await checkA11y(page, 'hub: logged out');
    await shot(page, 'w1280-hub-logged-out', { fullPage: true });
    await page.close();
  });

  it('a developer registers, confirms the address and uploads: the result says what was read and what comes next', async () => {
    const page = await dev.newPage();
    await page.goto(`${s.url}/developers`);
    await Promise.all([page.waitForURL(/\/account\/register$/), page.locator('ol.steps a', { hasText: 'Create an account' }).click()]);
    await page.locator('#f-email').fill(DEV);
    await page.locator('#f-display_name').fill('Lin Developer');
    await page.locator('#f-password').fill(PASSWORD);
    await Promise.all([page.waitForURL(/\/account\/login\?done=registered/), page.locator('main form button[type="submit"]').click()]);
    await page.goto(s.url + linkInMail(s.ctx, DEV, '/account/verify'));
    await Promise.all([page.waitForLoadState('load'), page.locator('main form button[type="submit"]').click()]);
    await logIn(page, s.url, DEV);
    assert.equal(new URL(page.url()).pathname, '/developers', 'developers land on the hub');

    await page.goto(`${s.url}/developers/upload`);
    await page.locator('#f-file').setInputFiles(v1);
    await Promise.all([page.waitForLoadState('load'), page.locator('main form[aria-label="Upload a bundle"] button[type="submit"]').first().click()]);
    assert.equal(await page.locator('h1').textContent(), 'Uploaded');
    const read = page.locator('section[aria-labelledby="read"]');
    assert.equal(await read.locator('h2').textContent(), 'What we read from your bundle');
    const facts = (await read.locator('dt, dd').allTextContents()).join(' ').replace(/\s+/g, ' ');
    for (const want of [
      'Moon Phases',
      'Watch the moon wax and wane over a month.',
      BUNDLE,
      'Version 1',
      'Sugar versions',
      'activity sandbox, this version sandbox',
    ])
      assert.ok(facts.includes(want), `the result shows ${want}: ${facts}`);
    assert.equal(await read.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), true, 'the icon is shown');
    assert.match((await page.locator('#next').textContent()) ?? '', /Next step: Nominate for review/);
    await checkA11y(page, 'hub: upload result');
    await shot(page, 'w1280-hub-upload-result', { fullPage: true });
    assert.ok((await headerHeight(page)) < 80, 'the header keeps to one line at 1280 px when logged in');

    // The listing starts from the bundle's texts.
    await page.goto(`${s.url}/developers`);
    await Promise.all([page.waitForURL(/\/developers\/activities\/\d+$/), page.getByRole('link', { name: 'Moon Phases' }).click()]);
    activityUrl = page.url();
    assert.equal(await page.locator('#f-name').inputValue(), 'Moon Phases');
    assert.equal(await page.locator('#f-summary').inputValue(), 'Watch the moon wax and wane over a month.');
    await page.close();
  });

  it('the activity’s page is previewed by its author, never shown to anyone else', async () => {
    const page = await dev.newPage();
    await page.goto(activityUrl);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes(`/activity/${BUNDLE}`)),
      page.getByRole('link', { name: 'Preview of its page' }).click(),
    ]);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['cache-control'], 'private, no-store');
    assert.match((await page.locator('.preview-banner').textContent()) ?? '', /Preview — not public/);
    assert.equal(await page.locator('h1').textContent(), 'Moon Phases');
    await checkA11y(page, 'store: preview of a sandbox activity');
    await shot(page, 'w1280-preview');
    const previewUrl = page.url();
    await page.close();

    const stranger = await browser.newContext({ viewport: WIDE, locale: 'en-US' });
    const other = await stranger.newPage();
    const r = await other.goto(previewUrl);
    assert.equal(r?.status(), 404);
    assert.equal(await other.locator('.preview-banner').count(), 0);
    await stranger.close();
  });

  it('the developer nominates from the hub; the hub fits a phone', async () => {
    const page = await dev.newPage();
    await page.goto(activityUrl);
    await page.locator('#f-message').fill('Moon phases for the science class: open it and drag the days slider.');
    await Promise.all([page.waitForURL(/done=nominated/), page.getByRole('button', { name: 'Nominate for review' }).click()]);
    assert.match((await page.locator('main [role="status"]').textContent()) ?? '', /The activity is nominated/);
    await checkA11y(page, 'hub: nominated');
    await shot(page, 'w1280-hub-nominated', { fullPage: true });
    await page.close();

    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-US', isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await logIn(small, s.url, DEV);
    await small.goto(activityUrl);
    assert.ok((await overflow(small)) <= 1, `the activity's hub page fits 375 px: ${await wideElements(small)}`);
    const label = await small
      .locator('table.stack td[data-label]')
      .first()
      .evaluate((td) => getComputedStyle(td, '::before').content);
    assert.notEqual(label, 'none', 'table cells are labelled with their column on a phone');
    await checkA11y(small, 'hub: activity page at 375 px');
    await shot(small, 'w375-hub-activity', { fullPage: true });
    await phone.close();
  });

  it('an editor logs in, lands on the queue with the nomination’s age and message, approves', async () => {
    const page = await editor.newPage();
    await logIn(page, s.url, EDITOR);
    assert.equal(new URL(page.url()).pathname, '/editors/queue', 'editors land on their queue');
    const row = page.locator('section[aria-labelledby="nominated"] tr', { hasText: BUNDLE });
    assert.equal(await row.count(), 1);
    const text = (await row.locator('td').allTextContents()).join(' ').replace(/\s+/g, ' ');
    assert.match(text, /\d+ min/, 'the age of the nomination');
    assert.match(text, /1 awaiting review · 1 never reviewed/);
    assert.match(text, /Moon phases for the science class/, 'the developer’s message');
    assert.ok((await headerHeight(page)) < 80, 'the header keeps to one line for an editor at 1280 px');
    await checkA11y(page, 'editors: queue');
    await shot(page, 'w1280-editors-queue');
    await Promise.all([page.waitForURL(/\/editors\/review\/activity\/\d+$/), row.locator('a').first().click()]);
    assert.equal(await page.locator('#diff').textContent(), 'This is the first version.');
    await page.getByLabel('Approve (make public)').check();
    await page.locator('#f-comment').fill('Accurate phases. Approved.');
    await Promise.all([page.waitForURL(/\/editors\/queue\?done=decided$/), page.getByRole('button', { name: 'Record decision' }).click()]);
    await page.close();
  });

  it('a new version is reviewed against the approved one with the bundle diff, in English and Arabic, and approved', async () => {
    const up = await dev.newPage();
    await up.goto(`${s.url}/developers/upload`);
    await up.locator('#f-file').setInputFiles(v2);
    await Promise.all([up.waitForLoadState('load'), up.locator('main form[aria-label="Upload a bundle"] button[type="submit"]').first().click()]);
    assert.match((await up.locator('section[aria-labelledby="next"]').textContent()) ?? '', /waits for an editor/);
    await up.close();

    const page = await editor.newPage();
    await page.goto(`${s.url}/editors/queue`);
    const link = page.locator('section[aria-labelledby="pending"] a', { hasText: BUNDLE });
    await Promise.all([page.waitForURL(/\/editors\/review\/file\/\d+$/), link.click()]);
    const reviewUrl = page.url();
    assert.equal(await page.locator('#diff').textContent(), 'Changes since version 1');
    const changed = await page.locator('h3#diff-changed + table code').allTextContents();
    assert.deepEqual(changed.sort(), ['activity.py', 'activity/activity.info']);
    const info = await page.locator('pre.diff .add').allTextContents();
    assert.ok(info.includes('+ summary = Watch the moon wax and wane, with eclipses.'), info.join('|'));
    assert.ok((await page.locator('pre.diff .del').allTextContents()).includes('- activity_version = 1'));
    await checkA11y(page, 'editors: review with the diff');
    await shot(page, 'w1280-editors-review-diff', { fullPage: true });

    // The same page in Arabic, right to left; the diff itself stays left to right.
    await page.goto(`${s.url}/lang/ar?next=${encodeURIComponent(new URL(reviewUrl).pathname)}&stay=1`);
    assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
    assert.equal(await page.locator('pre.diff').getAttribute('dir'), 'ltr');
    await checkA11y(page, 'editors: review in Arabic');
    await shot(page, 'w1280-ar-editors-review-diff', { fullPage: true });
    await page.goto(`${s.url}/lang/en?next=${encodeURIComponent(new URL(reviewUrl).pathname)}&stay=1`);

    const phone = await browser.newContext({ viewport: PHONE, locale: 'en-US', isMobile: true, hasTouch: true });
    const small = await phone.newPage();
    await logIn(small, s.url, EDITOR);
    await small.goto(reviewUrl);
    await shot(small, 'w375-editors-review-diff', { fullPage: true });
    assert.ok((await overflow(small)) <= 1, `the review page fits 375 px: ${await wideElements(small)}`);
    await checkA11y(small, 'editors: review at 375 px');
    await phone.close();

    await page.getByLabel('Approve (make public)').check();
    await page.locator('#f-comment').fill('Eclipses look right.');
    await Promise.all([page.waitForURL(/\/editors\/queue\?done=decided$/), page.getByRole('button', { name: 'Record decision' }).click()]);
    assert.match((await page.locator('main [role="status"]').textContent()) ?? '', /The decision is recorded/);
    await page.close();

    const visitor = await browser.newContext({ viewport: WIDE, locale: 'en-US' });
    const pub = await visitor.newPage();
    const r = await pub.goto(`${s.url}/en/activity/${BUNDLE}`);
    assert.equal(r?.status(), 200);
    assert.equal(await pub.locator('.preview-banner').count(), 0);
    assert.ok(await pub.getByText('Watch the moon wax and wane, with eclipses.').first().isVisible());
    await visitor.close();
  });

  it('one header on store, hub, editor and admin pages: one line at 1280 px, fitting 375 px', async () => {
    await s.server.app.accounts.createUser({ email: 'ada@example.org', displayName: 'Ada Administrator-Lovelace', password: PASSWORD, role: 'admin' });
    for (const viewport of [WIDE, PHONE]) {
      const ctx = await browser.newContext({ viewport, locale: 'en-US' });
      const page = await ctx.newPage();
      await logIn(page, s.url, 'ada@example.org');
      for (const path of ['/en/', `/en/activity/${BUNDLE}`, '/developers', '/editors/queue', '/admin/audit', '/account']) {
        await page.goto(s.url + path);
        const nav = page.locator('header.top nav.site');
        assert.deepEqual(await nav.locator(':scope > ul > li > a').allTextContents(), ['Developer hub', "Editors' queue"], `${path}: the same links`);
        assert.equal(((await nav.locator('summary').textContent()) ?? '').trim(), 'Ada Administrator-Lovelace');
        await shot(page, `w${viewport.width}-header-admin${path.replace(/[^a-z]+/g, '-')}`);
        if (viewport === WIDE) assert.ok((await headerHeight(page)) < 80, `${path}: the header wraps at 1280 px (${await headerHeight(page)} px)`);
        else assert.ok((await overflow(page)) <= 1, `${path} at 375 px: ${await wideElements(page)}`);
      }
      await page.locator('header.top nav.site summary').click();
      assert.ok(await page.getByRole('link', { name: 'Audit log' }).isVisible(), 'the account menu opens');
      await checkA11y(page, `header menu open at ${viewport.width} px`);
      await shot(page, `w${viewport.width}-header-menu-admin`);
      await ctx.close();
    }
  });
});

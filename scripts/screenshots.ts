// Screenshots of the store's main pages, for people to look at: the real server with the sample
// activities, Chromium at the XO's 1200x900 and at a phone's 390x844, in several languages.
//   npx tsx scripts/screenshots.ts [outDir]     (default: screenshots/, git-ignored)
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { launchChromium, startStoreServer } from '../test/helpers/chromium.js';

const out = process.argv[2] ?? 'screenshots';
const PAGES: [string, string][] = [
  ['home', '/'],
  ['browse', '/browse'],
  ['category', '/category/science'],
  ['search', '/search?q=estrellas'],
  ['detail', '/activity/org.aslo.sample.CountingStars'],
  ['versions', '/activity/org.aslo.sample.PendulumLab/versions'],
  ['notfound', '/activity/does.not.exist'],
];
const VIEWPORTS = { xo: { width: 1200, height: 900 }, phone: { width: 390, height: 844 } } as const;
const LOCALES = (process.env.LOCALES ?? 'en,es,ar').split(',');

await mkdir(out, { recursive: true });
const server = await startStoreServer();
const browser = await launchChromium();
try {
  for (const [vpName, viewport] of Object.entries(VIEWPORTS)) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const page = await context.newPage();
    for (const locale of LOCALES) {
      for (const [name, path] of PAGES) {
        await page.goto(`${server.url}/${locale}${path}`, { waitUntil: 'load' });
        const file = join(out, `${vpName}-${locale}-${name}.png`);
        await page.screenshot({ path: file, fullPage: process.env.FULL === '1' });
        console.log(file);
      }
    }
    if (process.env.SUGAR !== '0') {
      await context.close();
      const sugar = await browser.newContext({
        viewport,
        userAgent: 'Mozilla/5.0 (X11; Linux i686) AppleWebKit/537.36 (KHTML, like Gecko) SugarLabs/0.112',
        deviceScaleFactor: 1,
      });
      const sp = await sugar.newPage();
      for (const path of ['/activity/org.aslo.sample.CountingStars', '/activity/org.aslo.sample.PendulumLab']) {
        await sp.goto(`${server.url}/en${path}`, { waitUntil: 'load' });
        const file = join(out, `${vpName}-en-sugar0112-${path.split('.').pop()}.png`);
        await sp.screenshot({ path: file });
        console.log(file);
      }
      await sugar.close();
    } else await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
}

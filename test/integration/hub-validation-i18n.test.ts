// Validation errors and warnings in the developer's language: the catalogs
// (locales/<lang>/bundles.po) against the English templates, the params every issue carries, and
// the three paths a developer sees them on: the API upload (message_localized next to the English
// message), the hub's upload page and `aslo publish`. The language is the account's, then the
// browser's Accept-Language.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildBundle, buildRawZip, type RawZipEntry } from '../helpers/bundle-builder.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { apiUpload, person, type Person } from '../helpers/people.js';
import { runCli } from '../helpers/cli.js';
import {
  ERROR_CODES,
  ISSUE_MESSAGES,
  WARNING_CODES,
  chooseIssueLocale,
  inspectBundle,
  issueCatalog,
  issueKey,
  issueLocales,
  localizeIssue,
  type BundleIssue,
} from '../../src/bundles/index.js';

const LANGS = ['es', 'fr', 'pt-BR', 'ar'];
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
const INGEST_CODES = [
  'INGEST_CONFLICT',
  'INGEST_BAD_SUGAR_RANGE',
  'INGEST_KIND_MISMATCH',
  'INGEST_NOT_AUTHOR',
  'INGEST_ACTIVITY_DISABLED',
  'INGEST_VERSION_EXISTS',
];

describe('validation messages: catalogs', () => {
  it('has a current translation of every message in es, fr, pt-BR and ar, with the same placeholders', () => {
    assert.deepEqual(issueLocales(), ['en', 'ar', 'es', 'fr', 'pt-BR']);
    for (const lang of LANGS) {
      const cat = issueCatalog(lang)!;
      assert.ok(cat, lang);
      assert.deepEqual(cat.stale, [], `${lang}: entries whose msgid is not the current English template`);
      const missing = Object.keys(ISSUE_MESSAGES).filter((k) => !cat.messages.has(k));
      assert.deepEqual(missing, [], `${lang}: untranslated`);
      for (const [key, english] of Object.entries(ISSUE_MESSAGES)) {
        assert.deepEqual([...new Set(placeholders(cat.messages.get(key)!))], [...new Set(placeholders(english))], `${lang} ${key}`);
      }
    }
  });

  it('covers every error code, the INFO_, BUNDLE_ and VERSION_ warnings, ICON_MISSING and the ingest codes', () => {
    const keyed = new Set(Object.keys(ISSUE_MESSAGES).map((k) => k.split('.')[0]));
    const wanted = [
      ...ERROR_CODES,
      ...WARNING_CODES.filter((c) => /^(INFO_|BUNDLE_|VERSION_)/.test(c) || c === 'ICON_MISSING'),
      ...INGEST_CODES,
      'UPLOAD_TOO_LARGE',
      'TOKEN_IN_BUNDLE_REVOKED',
    ];
    assert.deepEqual(
      wanted.filter((c) => !keyed.has(c)),
      [],
    );
  });

  it('chooses the account language first, then Accept-Language, else English', () => {
    assert.equal(chooseIssueLocale(['fr'], 'es'), 'fr');
    assert.equal(chooseIssueLocale(['en'], 'es'), 'en');
    assert.equal(chooseIssueLocale([null], 'de-DE, pt;q=0.8, es;q=0.9'), 'es');
    assert.equal(chooseIssueLocale([undefined], 'pt-PT'), 'pt-BR');
    assert.equal(chooseIssueLocale(['de'], 'ar-EG'), 'ar');
    assert.equal(chooseIssueLocale([null], 'de, *;q=0.5'), 'en');
    assert.equal(chooseIssueLocale([], undefined), 'en');
  });

  it('falls back to the English message when a translation or a parameter is missing', () => {
    const issue = { code: 'INFO_NO_VERSION', message: 'english', params: {} };
    assert.equal(localizeIssue(issue, 'es'), 'english', 'no {key} param');
    assert.equal(localizeIssue({ code: 'ICON_NOT_SVG', message: 'english' }, 'es'), 'english', 'not translated');
    assert.equal(localizeIssue({ code: 'INFO_NO_VERSION', message: 'english', params: { key: 'activity_version' } }, 'zz'), 'english', 'unknown language');
    assert.match(
      localizeIssue({ code: 'INFO_NO_VERSION', message: 'english', params: { key: 'activity_version' } }, 'es'),
      /^no hay activity_version; Sugar supone 0/,
    );
  });
});

describe('validation messages: every issue carries its params', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const INFO = (body: string) => `[Activity]\n${body}`;
  const GOOD =
    'name = Good\nbundle_id = org.test.i18n.Good\nexec = sugar-activity3 activity.Good\nactivity_version = 1\nicon = good\nlicense = GPL-3.0-or-later\n';
  const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="55" height="55"><rect x="5" y="5" width="45" height="45"/></svg>';
  const raw = (extra: RawZipEntry[], info = INFO(GOOD)): Buffer =>
    buildRawZip([
      { name: 'Good.activity/activity/activity.info', data: info },
      { name: 'Good.activity/activity/good.svg', data: SVG },
      { name: 'Good.activity/activity.py', data: 'print(1)\n' },
      ...extra,
    ]);
  const infoOnly = (info: string | Buffer, root = 'Good.activity'): Buffer =>
    buildRawZip([
      { name: `${root}/activity/activity.info`, data: info },
      { name: `${root}/activity.py`, data: 'x' },
    ]);

  // Bundles that between them raise most of the translated codes and variants.
  const CASES: [string, Buffer, string?, Partial<{ maxEntries: number; maxUncompressedBytes: number; maxEntryBytes: number }>?][] = [
    ['empty zip', buildRawZip([])],
    ['only mimetype', buildRawZip([{ name: 'mimetype', data: 'application/vnd.olpc-sugar' }])],
    ['too many entries', raw([{ name: 'Good.activity/more', data: 'x' }]), undefined, { maxEntries: 2 }],
    ['too large', raw([{ name: 'Good.activity/big', data: Buffer.alloc(4000, 1) }]), undefined, { maxUncompressedBytes: 3000, maxEntryBytes: 2000 }],
    [
      'odd names',
      raw([
        { name: Buffer.from([0x47, 0x6f, 0x6f, 0x64, 0x2e, 0x61, 0x63, 0x74, 0x69, 0x76, 0x69, 0x74, 0x79, 0x2f, 0xff, 0xfe]), data: 'x' },
        { name: 'Good.activity/ctl\x01', data: 'x' },
        { name: 'Good.activity/stored-lie', data: 'abcdef', declaredSize: 3 },
      ]),
    ],
    ['many traversals', raw(Array.from({ length: 25 }, (_, i) => ({ name: `Good.activity/../evil${i}`, data: 'x' })))],
    ['huge info', infoOnly(INFO(`${GOOD}description = ${'x'.repeat(300 * 1024)}\n`))],
    ['long id', infoOnly(INFO(`name = I\nbundle_id = org.${'x'.repeat(300)}.Long\nexec = x\n`))],
    ['interpolation everywhere', infoOnly(INFO(`${GOOD.replace('license = GPL-3.0-or-later', 'license = 100%')}summary = %(summary)s\n`))],
    [
      'fatal linfo',
      buildRawZip([
        { name: 'Good.activity/activity/activity.info', data: INFO(GOOD) },
        { name: 'Good.activity/activity/good.svg', data: SVG },
        { name: 'Good.activity/locale/es/activity.linfo', data: Buffer.from([0x5b, 0x41, 0xff, 0x5d]) },
      ]),
    ],
    ['empty file', Buffer.alloc(0)],
    ['not a zip', Buffer.from('plain text, not a zip')],
    ['truncated', raw([]).subarray(0, 200)],
    [
      'hostile entries',
      raw([
        { name: 'Good.activity/../evil', data: 'x' },
        { name: '/abs', data: 'x' },
        { name: 'Good.activity\\win', data: 'x' },
        { name: 'Good.activity/a//b', data: 'x' },
        { name: 'Good.activity/link', data: '/etc/passwd', unixMode: 0o120777 },
        { name: 'Good.activity/fifo', data: '', unixMode: 0o010644 },
        { name: 'Good.activity/lie', data: Buffer.alloc(5000, 7), method: 8, declaredSize: 100 },
        { name: 'Good.activity/crc', data: 'abc', declaredCrc: 12345 },
        { name: 'Good.activity/again', data: 'x', sameDataAs: 2 },
        { name: 'Good.activity/secret', data: 'xxxxxxxxxxxxyyyy', flags: 0x801, declaredSize: 4 },
        { name: 'Good.activity/odd', data: 'x', method: 12 },
        { name: 'Good.activity/Case.txt', data: 'x' },
        { name: 'Good.activity/case.txt', data: 'y' },
        { name: 'Good.activity/dup', data: 'x' },
        { name: 'Good.activity/dup', data: 'y' },
        { name: 'Good.activity/named', data: 'x', localName: 'Good.activity/other' },
        { name: 'Other.activity/x', data: 'x' },
      ]),
    ],
    ['zip bomb', raw([{ name: 'Good.activity/zeros', data: Buffer.alloc(10 * 1024 * 1024), method: 8 }])],
    [
      'root problems',
      buildRawZip([
        { name: '.Hidden/activity/activity.info', data: INFO(GOOD) },
        { name: '.Hidden', data: 'x' },
      ]),
    ],
    ['bad root suffix', infoOnly(INFO(GOOD), 'Good')],
    ['no info', buildRawZip([{ name: 'Good.activity/activity.py', data: 'x' }])],
    ['info with a wrong case', buildRawZip([{ name: 'Good.activity/activity/Activity.info', data: INFO(GOOD) }])],
    ['not UTF-8', infoOnly(Buffer.concat([Buffer.from('[Activity]\nname = '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]))],
    ['BOM', infoOnly(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(INFO(GOOD))]))],
    [
      'parse errors',
      infoOnly(`# header first\nname = x\n[Activity]\n${GOOD}this line has no delimiter\n= no key\nname = twice\n[Activity]\nsummary = x\r more\n`),
    ],
    ['interpolation', infoOnly(INFO(`${GOOD}summary = 100%\ndescription = %(missing)s\nloop = %(loop)s\nodd = 50% off\n`))],
    ['no section', infoOnly('[activity]\nname = x\n')],
    ['no section at all', infoOnly('[Other]\nname = x\n')],
    ['missing keys', infoOnly(INFO('summary = nothing else\n'))],
    ['empty keys', infoOnly(INFO('name =\nbundle_id =\nexec =\nactivity_version = 1.a\n'))],
    [
      'legacy keys',
      infoOnly(INFO('name = L\nservice_name = org.test.i18n.Legacy\nclass = legacy.Legacy\nactivity_version = 1.2\nicon = gone\nmax_participants = many\n')),
    ],
    [
      'odd values',
      infoOnly(INFO('name = O\nbundle_id = odd\nservice_name = org.other.Id\nexec = x\nactivity_version = 3-1\nmax_participants = -1\nlicense = MIT\n')),
    ],
    ['bad ids', infoOnly(INFO('name = I\nbundle_id = org.test/slash\nexec = x\n'))],
    ['spaced id', infoOnly(INFO('name = I\nbundle_id = org.test space\nexec = x\n'))],
    ['non-ASCII id', infoOnly(INFO('name = I\nbundle_id = org.tést.Ñ\nexec = x\n'))],
    ['kind mismatch', infoOnly(INFO(GOOD)), 'Good.xol'],
    ['content bundle', buildRawZip([{ name: 'Lib/library/library.info', data: '[Library]\nname = Lib\nlibrary_version = 1\n' }])],
    ['content without section', buildRawZip([{ name: 'Lib/library/library.info', data: '[Activity]\nname = Lib\n' }]), 'Lib.xol'],
  ];

  it('gives every translated issue the params its translation needs, in every language', async () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const [what, bytes, name, limits] of CASES) {
      const path = join(dir, `${what.replace(/\W+/g, '-')}.${name?.endsWith('.xol') ? 'xol' : 'xo'}`);
      await writeFile(path, bytes);
      const r = await inspectBundle(path, { fileName: name ?? 'x.xo', limits });
      for (const issue of [...r.errors, ...r.warnings] as BundleIssue[]) {
        const key = issueKey(issue);
        const translated = key in ISSUE_MESSAGES || (issue.params?.variant && `*.${issue.params.variant}` in ISSUE_MESSAGES);
        if (!translated) continue;
        seen.add(key in ISSUE_MESSAGES ? key : `*.${issue.params!.variant}`);
        for (const lang of LANGS) {
          const text = localizeIssue(issue, lang);
          if (text === issue.message) problems.push(`${what}: ${key} in ${lang} fell back to English (params ${JSON.stringify(issue.params ?? {})})`);
          if (/\{\w+\}/.test(text)) problems.push(`${what}: ${key} in ${lang} kept a placeholder: ${text}`);
        }
      }
    }
    assert.deepEqual(problems, []);
    // The corpus above reaches most of the table; the rest is covered by the catalog checks.
    assert.ok(seen.size >= 70, `only ${seen.size} keys seen: ${[...seen].sort().join(' ')}`);
  });
});

describe('validation messages: the developer sees them in their language', () => {
  let t: TestApp;
  let dir: string;
  let dev: Person;
  let broken: Buffer;
  const INFO_PATH = 'Broken.activity/activity/activity.info';

  before(async () => {
    t = await createTestApp();
    dir = await tempDir();
    dev = await person(t.app);
    // Line 3 is not "key = value" (an error); line 6 has a version Sugar cannot read (an error); no license (a warning).
    const info =
      '[Activity]\nname = Broken\nthis line is wrong\nbundle_id = org.test.i18n.Broken\nexec = sugar-activity3 activity.Broken\nactivity_version = 1.a\nicon = broken\n';
    broken = await readFile(
      await buildBundle({ [INFO_PATH]: info, 'Broken.activity/activity/broken.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>' }, join(dir, 'Broken.xo')),
    );
  });
  after(async () => {
    await t.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  type Issue = { code: string; message: string; message_localized: string; file: string | null; line: number | null; params?: Record<string, unknown> };
  const byCode = (list: Issue[], code: string) => list.find((i) => i.code === code)!;

  it('answers the API upload in Spanish with Accept-Language: es, keeping the English message, file and line', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/uploads?filename=Broken.xo',
      payload: broken,
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${dev.token}`, 'accept-language': 'es-UY,es;q=0.9,en;q=0.5' },
    });
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.headers['content-language'], 'es');
    const body = res.json() as { locale: string; errors: Issue[]; warnings: Issue[] };
    assert.equal(body.locale, 'es');
    const parse = byCode(body.errors, 'INFO_PARSE_ERROR');
    assert.equal(parse.file, INFO_PATH);
    assert.equal(parse.line, 3);
    assert.match(parse.message, /^line 3 is neither a \[section\] header/);
    assert.match(parse.message_localized, /^la línea 3 no es ni una cabecera \[sección\] ni una línea "clave = valor"/);
    assert.deepEqual(parse.params, { line: 3 });
    const version = byCode(body.errors, 'INFO_BAD_VERSION');
    assert.equal(version.line, 6);
    assert.match(version.message_localized, /^activity_version "1\.a" no es una versión de Sugar válida/);
    assert.match(byCode(body.warnings, 'INFO_NO_LICENSE').message_localized, /^no hay ninguna clave license/);

    // Without a language, message_localized is the English message.
    const en = await apiUpload(t.app, dev.token, broken, 'Broken.xo');
    const enBody = en.json() as { locale: string; errors: Issue[] };
    assert.equal(enBody.locale, 'en');
    assert.equal(byCode(enBody.errors, 'INFO_PARSE_ERROR').message_localized, byCode(enBody.errors, 'INFO_PARSE_ERROR').message);
  });

  it('localizes the ingest checks too (INGEST_NOT_AUTHOR), and the NDJSON result', async () => {
    const owner = await person(t.app);
    const first = await apiUpload(
      t.app,
      owner.token,
      await readFile(await buildActivity(dir, { bundleId: 'org.test.i18n.Taken', name: 'Taken', version: '1' })),
      'Taken.xo',
    );
    assert.equal(first.statusCode, 201, first.body);
    const again = await readFile(await buildActivity(dir, { bundleId: 'org.test.i18n.Taken', name: 'Taken', version: '2' }));
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/uploads?filename=Taken.xo',
      payload: again,
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${dev.token}`, accept: 'application/x-ndjson', 'accept-language': 'pt-BR' },
    });
    const result = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .at(-1) as { event: string; status: number; locale: string; errors: Issue[] };
    assert.equal(result.event, 'result');
    assert.equal(result.status, 403);
    assert.equal(result.locale, 'pt-BR');
    assert.equal(result.errors[0]!.code, 'INGEST_NOT_AUTHOR');
    assert.equal(
      result.errors[0]!.message_localized,
      'O identificador de pacote org.test.i18n.Taken pertence aos autores de outra atividade. Só eles podem publicar versões dela; use o seu próprio bundle_id.',
    );
  });

  it("shows the hub upload result in the language of the account, before the browser's", async () => {
    await dev.browser.get('/developers/upload');
    const es = await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'Broken.xo', data: broken });
    assert.equal(es.statusCode, 422);
    assert.doesNotMatch(es.body, /la línea 3/, 'no language asked for: English');
    assert.match(es.body, /line 3 is neither a \[section\] header/);

    // The account's language (set on the account page) wins over the browser's.
    await dev.browser.get('/account');
    const saved = await dev.browser.post('/account/locale', { locale: 'ar' });
    assert.equal(saved.statusCode, 303, saved.body);
    assert.match((await dev.browser.get('/account')).body, /<option value="ar" lang="ar" selected>/);
    await dev.browser.get('/developers/upload');
    const ar = await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'Broken.xo', data: broken });
    assert.match(ar.body, /<code>INFO_PARSE_ERROR<\/code> <span lang="ar" dir="rtl">السطر 3 ليس ترويسة \[قسم\]/);
    assert.ok(ar.body.includes(`<small>(<code>${INFO_PATH}:3</code>)</small>`), 'file and line');

    // Tokens carry the account's language too; "browser's choice" clears it.
    const api = await t.app.inject({
      method: 'POST',
      url: '/api/v1/uploads?filename=Broken.xo',
      payload: broken,
      headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${dev.token}`, 'accept-language': 'es' },
    });
    assert.equal(api.json().locale, 'ar');
    await dev.browser.get('/account');
    assert.equal((await dev.browser.post('/account/locale', { locale: '' })).statusCode, 303);
    assert.equal((await dev.browser.post('/account/locale', { locale: 'not a language!' })).statusCode, 400);
    const user = await t.ctx.db.selectFrom('users').select('locale').where('id', '=', dev.id).executeTakeFirstOrThrow();
    assert.equal(user.locale, null);

    await dev.browser.get('/developers/upload');
    const fr = await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'Broken.xo', data: broken });
    assert.equal(fr.statusCode, 422);
    // The browser asks nothing here: English again.
    assert.doesNotMatch(fr.body, /dir="rtl">/);
  });

  it("shows the hub upload result in the browser's language (Accept-Language: es)", async () => {
    const p = await person(t.app);
    await p.browser.get('/developers/upload');
    const csrf = p.browser.lastCsrf!;
    const boundary = '----i18n' + Date.now();
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Broken.xo"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      broken,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await t.app.inject({
      method: 'POST',
      url: '/developers/upload',
      payload,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        cookie: [...p.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        'accept-language': 'es',
      },
    });
    assert.equal(res.statusCode, 422, res.body.slice(0, 500));
    assert.match(res.body, /<code>INFO_PARSE_ERROR<\/code> <span lang="es" dir="ltr">la línea 3 no es ni una cabecera \[sección\]/);
    assert.ok(res.body.includes(`<small>(<code>${INFO_PATH}:3</code>)</small>`));
    assert.match(res.body, /activity_version &quot;1\.a&quot; no es una versión de Sugar válida/);
  });

  it("prints the server's translated messages in aslo publish (--lang, or LANG)", async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const file = join(dir, 'Broken.xo');
    const fr = await runCli(['publish', file, '--server', address, '--lang', 'fr'], {
      ASLO_TOKEN: dev.token,
      LANGUAGE: '',
      LC_ALL: '',
      LC_MESSAGES: '',
      LANG: '',
    });
    assert.equal(fr.code, 1, fr.stderr + fr.stdout);
    assert.match(
      fr.stdout,
      /error {3}INFO_PARSE_ERROR: la ligne 3 n’est ni un en-tête \[section\] ni une ligne « clé = valeur ».* \(Broken\.activity\/activity\/activity\.info:3\)/,
    );
    const es = await runCli(['publish', file, '--server', address], { ASLO_TOKEN: dev.token, LANGUAGE: '', LC_ALL: '', LC_MESSAGES: '', LANG: 'es_UY.UTF-8' });
    assert.match(
      es.stdout,
      /error {3}INFO_BAD_VERSION: activity_version "1\.a" no es una versión de Sugar válida.* \(Broken\.activity\/activity\/activity\.info:6\)/,
    );
    const c = await runCli(['publish', file, '--server', address], { ASLO_TOKEN: dev.token, LANGUAGE: '', LC_ALL: 'C', LC_MESSAGES: '', LANG: '' });
    assert.match(c.stdout, /error {3}INFO_PARSE_ERROR: line 3 is neither/);
  });
});

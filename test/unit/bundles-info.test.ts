// activity.info key rules, linfo files, content bundles and the metadata produced, on small
// synthetic bundles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from '../helpers/bundle-builder.js';
import { inspectBundle, ERROR_CODES, WARNING_CODES } from '../../src/bundles/index.js';
import type { InspectResult } from '../../src/bundles/index.js';

const ICON =
  '<?xml version="1.0" ?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [<!ENTITY stroke_color "#010101"><!ENTITY fill_color "#FFFFFF">]>' +
  '<svg xmlns="http://www.w3.org/2000/svg" width="55" height="55"><rect x="5" y="5" width="45" height="45" stroke="&stroke_color;" fill="&fill_color;"/></svg>';
const INFO_LINES = {
  name: 'name = Good Thing',
  bundle_id: 'bundle_id = org.sugarlabs.GoodThing',
  exec: 'exec = sugar-activity3 activity.GoodThing',
  activity_version: 'activity_version = 3',
  icon: 'icon = good',
  license: 'license = GPL-3.0-or-later',
};
type Key = keyof typeof INFO_LINES;

/** activity.info text: the valid defaults, minus `drop`, plus `extra` lines. */
function info(extra: string[] = [], drop: Key[] = []): string {
  const lines = (Object.keys(INFO_LINES) as Key[]).filter((k) => !drop.includes(k)).map((k) => INFO_LINES[k]);
  return ['[Activity]', ...lines, ...extra, ''].join('\n');
}

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aslo-bundles-info-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inspectFiles(files: Record<string, string | Buffer>, fileName = 'GoodThing.xo'): Promise<InspectResult> {
  const p = join(dir, `b${++n}-${fileName}`);
  await buildBundle(files, p);
  return inspectBundle(p, { fileName });
}
/** An activity with the given activity.info (string or bytes) plus an icon and extra files. */
function inspectInfo(infoText: string | Buffer, extra: Record<string, string | Buffer> = {}): Promise<InspectResult> {
  return inspectFiles({
    'GoodThing.activity/activity/activity.info': infoText,
    'GoodThing.activity/activity/good.svg': ICON,
    'GoodThing.activity/activity.py': 'pass\n',
    ...extra,
  });
}
const errorCodes = (r: InspectResult) => r.errors.map((e) => e.code);
const warningCodes = (r: InspectResult) => r.warnings.map((e) => e.code);

describe('a valid activity', () => {
  test('produces the metadata', async () => {
    const r = await inspectInfo(
      info([
        'summary = Does good things',
        'description:',
        '    <p>First <b>bold</b> paragraph.</p>',
        '    <script>alert(1)</script>',
        '    <ul><li onclick="x()">one</li></ul>',
        'tags = Games; Maths ;;',
        'category = games',
        'mime_types = text/plain;image/png;',
        'max_participants = 4',
        'url = https://example.org/good',
        'repository = https://github.com/example/good',
      ]),
      {
        'GoodThing.activity/NEWS': '3\n\n* Better.\n',
        'GoodThing.activity/locale/pt_BR/activity.linfo': '[Activity]\nname = Coisa Boa\nsummary = Faz coisas boas\n',
      },
    );
    assert.deepEqual(r.errors, []);
    assert.equal(r.ok, true);
    assert.equal(r.kind, 'activity');
    const m = r.metadata!;
    assert.equal(m.bundle_id, 'org.sugarlabs.GoodThing');
    assert.equal(m.name, 'Good Thing');
    assert.equal(m.version, '3');
    assert.equal(m.version_normalized, '3');
    assert.equal(m.exec, 'sugar-activity3 activity.GoodThing');
    assert.equal(m.runtime, 'python3');
    assert.equal(m.icon, 'good');
    assert.match(m.icon_svg!, /stroke="#010101" fill="#FFFFFF"/);
    assert.deepEqual(m.license, ['GPL-3.0-or-later']);
    assert.equal(m.summary, 'Does good things');
    assert.equal(m.description, '<p>First bold paragraph.</p>\n\n<ul><li>one</li></ul>');
    assert.deepEqual(m.tags, ['Games', 'Maths', 'games']);
    assert.deepEqual(m.mime_types, ['text/plain', 'image/png']);
    assert.equal(m.max_participants, 4);
    assert.equal(m.url, 'https://example.org/good');
    assert.equal(m.repository, 'https://github.com/example/good');
    assert.deepEqual(m.locales, { pt_BR: { name: 'Coisa Boa', summary: 'Faz coisas boas' } });
    assert.equal(m.root, 'GoodThing.activity');
    assert.equal(m.news, '3\n\n* Better.\n');
    assert.deepEqual(m.files.map((f) => f.path).sort(), ['NEWS', 'activity.py', 'activity/activity.info', 'activity/good.svg', 'locale/pt_BR/activity.linfo']);
    assert.ok(m.files.every((f) => f.size > 0 && f.compressed_size > 0));
  });

  test('legacy service_name and class are read like Sugar does', async () => {
    const r = await inspectInfo(info(['service_name = org.sugarlabs.Old', 'class = oldactivity.Old'], ['bundle_id', 'exec']));
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.metadata!.bundle_id, 'org.sugarlabs.Old');
    assert.equal(r.metadata!.exec, 'sugar-activity oldactivity.Old');
    assert.equal(r.metadata!.runtime, 'python2');
    assert.deepEqual(warningCodes(r).filter((c) => c === 'INFO_LEGACY_KEY').length, 2);
  });

  test('interpolation and a [DEFAULT] section (the tamtam layout)', async () => {
    const text =
      '[DEFAULT]\ncomponent = Good\n[Activity]\nname = %(component)s\nbundle_id = org.sugarlabs.%(component)s\nexec = sugar-activity3 x.%(component)s\nversion = 12\nactivity_version = %(version)s\nicon = good\nlicense = MIT\nsummary = 100%% good\n';
    const r = await inspectInfo(text);
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.metadata!.name, 'Good');
    assert.equal(r.metadata!.bundle_id, 'org.sugarlabs.Good');
    assert.equal(r.metadata!.version, '12');
    assert.equal(r.metadata!.summary, '100% good');
  });

  test('CRLF, no final newline, comments and aligned keys', async () => {
    const text =
      '# comment\r\n[Activity]\r\nname      = Good\r\n; another\r\nbundle_id = org.sugarlabs.Good\r\nexec      = sugar-activity-web\r\nicon=good\r\nactivity_version = 2';
    const r = await inspectInfo(text);
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.metadata!.runtime, 'web');
    assert.equal(r.metadata!.version, '2');
  });

  test('warnings: no license, no version, odd ids, non-portable versions', async () => {
    let r = await inspectInfo(info([], ['license', 'activity_version']));
    assert.equal(r.ok, true);
    assert.equal(r.metadata!.version, '0');
    assert.deepEqual(warningCodes(r).sort(), ['INFO_NO_LICENSE', 'INFO_NO_VERSION']);
    r = await inspectInfo(info(['bundle_id = bounce', 'activity_version = 1.2.3~dfsg'], ['bundle_id', 'activity_version']));
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.deepEqual(warningCodes(r).sort(), ['INFO_BUNDLE_ID_STYLE', 'VERSION_NOT_PORTABLE', 'VERSION_SUFFIX_GTK2']);
    assert.equal(r.metadata!.version_normalized, '1.2.3');
  });

  test('bundle_id wins over a different service_name', async () => {
    const r = await inspectInfo(info(['service_name = org.sugarlabs.Other']));
    assert.equal(r.ok, true);
    assert.equal(r.metadata!.bundle_id, 'org.sugarlabs.GoodThing');
    assert.ok(warningCodes(r).includes('INFO_BUNDLE_ID_CONFLICT'));
  });

  test('max_participants follows Python int()', async () => {
    const r = await inspectInfo(info(['max_participants =  +1_0 ']));
    assert.equal(r.metadata!.max_participants, 10);
  });

  test('a bare % in a key Sugar never reads is only a warning', async () => {
    const r = await inspectInfo(info(['website = http://example.org/100%']));
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.deepEqual(warningCodes(r), ['INFO_INTERPOLATION_IGNORED']);
  });

  test('an icon name with a space', async () => {
    const r = await inspectInfo(info(['icon = computer happy'], ['icon']), { 'GoodThing.activity/activity/computer happy.svg': ICON });
    assert.equal(r.metadata!.icon, 'computer happy');
    assert.ok(r.metadata!.icon_svg);
  });

  test('a missing icon file is only a warning', async () => {
    const r = await inspectInfo(info(['icon = nothere'], ['icon']));
    assert.equal(r.ok, true);
    assert.equal(r.metadata!.icon_svg, null);
    assert.deepEqual(warningCodes(r), ['ICON_MISSING']);
  });

  test('an unusable or unsafe icon is a warning; the unsafe parts are removed', async () => {
    let r = await inspectInfo(info(), { 'GoodThing.activity/activity/good.svg': 'not svg at all' });
    assert.equal(r.ok, true);
    assert.deepEqual(warningCodes(r), ['ICON_INVALID_SVG']);
    r = await inspectInfo(info(), {
      'GoodThing.activity/activity/good.svg': '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect/></svg>',
    });
    assert.equal(r.ok, true);
    assert.deepEqual(warningCodes(r), ['ICON_UNSAFE_CONTENT']);
    assert.equal(r.metadata!.icon_svg, '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><rect/></svg>');
  });
});

describe('activity.info problems Sugar refuses', () => {
  // [name, activity.info content, expected error codes]
  const CASES: [string, string | Buffer, string[]][] = [
    ['invalid UTF-8', Buffer.concat([Buffer.from(info()), Buffer.from('summary = caf\xe9\n', 'latin1')]), ['INFO_ENCODING']],
    ['a UTF-8 BOM', `\ufeff${info()}`, ['INFO_BOM']],
    ['a duplicate key', info(['exec = sugar-activity other.Other']), ['INFO_DUPLICATE_KEY']],
    ['a duplicate key differing in case', info(['NAME = Other']), ['INFO_DUPLICATE_KEY']],
    ['a duplicate section', `${info()}[Activity]\nsummary = x\n`, ['INFO_DUPLICATE_SECTION']],
    ['a key before the first section', `name = x\n${info()}`, ['INFO_MISSING_SECTION_HEADER']],
    ['a line that is not key = value', info(['this line has no delimiter']), ['INFO_PARSE_ERROR']],
    ['old Mac line endings (lone CR)', info().replace(/\n/g, '\r'), ['INFO_PARSE_ERROR', 'INFO_MISSING_NAME', 'INFO_MISSING_BUNDLE_ID', 'INFO_MISSING_EXEC']],
    ['no [Activity] section', info().replace('[Activity]', '[activity]'), ['INFO_NO_SECTION']],
    ['a bare % in a key Sugar reads', info(['summary = 100% fun']), ['INFO_INTERPOLATION_SYNTAX']],
    ['a reference to a missing key', info(['summary = %(nothing)s']), ['INFO_INTERPOLATION_MISSING']],
    ['a self-reference', info(['summary = %(summary)s']), ['INFO_INTERPOLATION_DEPTH']],
    ['no name', info([], ['name']), ['INFO_MISSING_NAME']],
    ['an empty name', info(['name ='], ['name']), ['INFO_EMPTY_NAME']],
    ['no bundle_id', info([], ['bundle_id']), ['INFO_MISSING_BUNDLE_ID']],
    ['a bundle_id with a space', info(['bundle_id = org.sugarlabs.Good Thing'], ['bundle_id']), ['INFO_BAD_BUNDLE_ID']],
    ['a bundle_id with a slash', info(['bundle_id = org.sugarlabs/Good'], ['bundle_id']), ['INFO_BAD_BUNDLE_ID']],
    ['an empty bundle_id', info(['bundle_id ='], ['bundle_id']), ['INFO_BAD_BUNDLE_ID']],
    ['no exec', info([], ['exec']), ['INFO_MISSING_EXEC']],
    ['an empty exec', info(['exec = '], ['exec']), ['INFO_EMPTY_EXEC']],
    ['a bad version', info(['activity_version = 1.2peru'], ['activity_version']), ['INFO_BAD_VERSION']],
    ['a version with a leading zero', info(['activity_version = 1.02'], ['activity_version']), ['INFO_BAD_VERSION']],
    ['a version with rc1', info(['activity_version = 1.2.3-rc1'], ['activity_version']), ['INFO_BAD_VERSION']],
    ['a non-integer max_participants', info(['max_participants = two']), ['INFO_BAD_MAX_PARTICIPANTS']],
    ['a decimal max_participants', info(['max_participants = 2.5']), ['INFO_BAD_MAX_PARTICIPANTS']],
  ];
  for (const [name, text, expected] of CASES) {
    test(name, async () => {
      const r = await inspectInfo(text);
      assert.equal(r.ok, false);
      assert.deepEqual([...new Set(errorCodes(r))].sort(), [...expected].sort(), JSON.stringify(r.errors, null, 1));
      for (const e of r.errors) {
        assert.equal(e.file, 'GoodThing.activity/activity/activity.info');
        assert.ok(e.message.length > 20);
      }
    });
  }

  test('errors point at the line', async () => {
    const r = await inspectInfo(info(['summary = x', 'exec = other']));
    assert.deepEqual(
      r.errors.map((e) => [e.code, e.line]),
      [['INFO_DUPLICATE_KEY', 9]],
    );
    const enc = await inspectInfo(Buffer.from('[Activity]\nname = a\nsummary = \xff\n', 'latin1'));
    assert.equal(enc.errors[0].line, 3);
  });

  test('the bare-% message says Sugar fails to load the bundle', async () => {
    const r = await inspectInfo(info(['summary = 100% fun']));
    assert.match(r.errors[0].message, /Sugar fails to load the bundle/);
    assert.match(r.errors[0].message, /%%/);
  });

  test('metadata is still filled as far as possible when refused', async () => {
    const r = await inspectInfo(info(['activity_version = 1.02'], ['activity_version']));
    assert.equal(r.ok, false);
    assert.equal(r.metadata!.bundle_id, 'org.sugarlabs.GoodThing');
    assert.equal(r.metadata!.version, '0');
  });
});

describe('activity.linfo', () => {
  const linfo = (files: Record<string, string | Buffer>) =>
    inspectInfo(info(), Object.fromEntries(Object.entries(files).map(([lang, t]) => [`GoodThing.activity/locale/${lang}/activity.linfo`, t])));

  test('valid translations, keyed by folder name', async () => {
    const r = await linfo({
      es: '[Activity]\nname = Cosa Buena\ntags = juegos;matemáticas\n',
      pt_BR: '[Activity]\nname = Coisa Boa\n',
      'sr@latin': '[Activity]\nname = Dobra stvar\n',
    });
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.deepEqual(r.metadata!.locales, {
      es: { name: 'Cosa Buena', tags: ['juegos', 'matemáticas'] },
      pt_BR: { name: 'Coisa Boa' },
      'sr@latin': { name: 'Dobra stvar' },
    });
  });

  test('a linfo Sugar catches (ParsingError) is skipped with a warning', async () => {
    const r = await linfo({ es: '[Activity]\nname = Cosa\nno delimiter here\n', fr: 'name = Chose\n', de: '\ufeff[Activity]\nname = Ding\n' });
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.deepEqual(r.metadata!.locales, {});
    assert.deepEqual(warningCodes(r), ['LINFO_PARSE_ERROR', 'LINFO_PARSE_ERROR', 'LINFO_PARSE_ERROR']);
  });

  test('a linfo without [Activity] is skipped with a warning', async () => {
    const r = await linfo({ es: '[Actividad]\nname = Cosa\n' });
    assert.equal(r.ok, true);
    assert.deepEqual(warningCodes(r), ['LINFO_NO_SECTION']);
  });

  test('odd locale folders are skipped with a warning', async () => {
    const r = await linfo({ SkyTimeEnglish: '[Activity]\nname = x\n', templates: '[Activity]\nname = x\n', 'en-US': '[Activity]\nname = x\n' });
    assert.equal(r.ok, true);
    assert.deepEqual(r.metadata!.locales, {});
    assert.deepEqual(warningCodes(r), ['LINFO_UNKNOWN_LOCALE', 'LINFO_UNKNOWN_LOCALE', 'LINFO_UNKNOWN_LOCALE']);
  });

  // Sugar does not catch these: the activity fails to load for users of that language.
  const FATAL: [string, string | Buffer][] = [
    ['duplicate key', '[Activity]\nname = a\nname = b\n'],
    ['invalid UTF-8', Buffer.from('[Activity]\nname = caf\xe9\n', 'latin1')],
    ['bare % in the name', '[Activity]\nname = 100% Matemáticas\n'],
  ];
  for (const [name, text] of FATAL) {
    test(`a linfo Sugar cannot survive: ${name}`, async () => {
      const r = await linfo({ es: text });
      assert.equal(r.ok, false);
      assert.deepEqual(errorCodes(r), ['LINFO_FATAL_IN_SUGAR']);
      assert.equal(r.errors[0].file, 'GoodThing.activity/locale/es/activity.linfo');
      assert.match(r.errors[0].message, /users whose language is "es"/);
    });
  }
});

describe('content bundles (.xol)', () => {
  const LIB =
    '[Library]\nname = Nature\nglobal_name = org.laptop.Nature\nlibrary_version = 2\nlocale = en\nicon = nature\nactivity_start = start/index.html\nlicense = CC-BY-4.0\ncategory = images\n';
  const content = (libInfo: string, extra: Record<string, string> = {}, fileName = 'Nature.xol') =>
    inspectFiles({ 'Nature/library/library.info': libInfo, 'Nature/library/nature.svg': ICON, 'Nature/start/index.html': '<p>hi</p>', ...extra }, fileName);

  test('a valid content bundle', async () => {
    const r = await content(LIB);
    assert.deepEqual(r.errors, []);
    assert.equal(r.kind, 'content');
    const m = r.metadata!;
    assert.equal(m.bundle_id, 'org.laptop.Nature');
    assert.equal(m.name, 'Nature');
    assert.equal(m.version, '2');
    assert.equal(m.activity_start, 'start/index.html');
    assert.equal(m.content_locale, 'en');
    assert.equal(m.runtime, 'other');
    assert.equal(m.exec, null);
    assert.ok(m.icon_svg);
    assert.deepEqual(m.tags, ['images']);
    assert.equal(m.root, 'Nature');
  });

  test('the start page must exist', async () => {
    const r = await content(LIB.replace('start/index.html', 'missing.html'));
    assert.deepEqual(errorCodes(r), ['CONTENT_MISSING_START_PAGE']);
  });

  test('the default start page is index.html', async () => {
    const r = await content(LIB.replace('activity_start = start/index.html\n', ''), { 'Nature/index.html': 'x' });
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.metadata!.activity_start, 'index.html');
  });

  test('name and global_name are required', async () => {
    const r = await content(LIB.replace('global_name = org.laptop.Nature\n', '').replace('name = Nature\n', ''));
    assert.deepEqual(errorCodes(r).sort(), ['CONTENT_MISSING_GLOBAL_NAME', 'INFO_MISSING_NAME']);
  });

  test('Sugar quirk: bundle_class next to global_name becomes the id', async () => {
    const r = await content(`${LIB}bundle_class = org.laptop.Old\n`);
    assert.equal(r.metadata!.bundle_id, 'org.laptop.Old');
    assert.ok(warningCodes(r).includes('CONTENT_BUNDLE_CLASS'));
  });

  test('a non-SVG icon is a warning', async () => {
    const r = await content(LIB.replace('icon = nature', 'icon = pic.jpg'), { 'Nature/library/pic.jpg': 'JPEG' });
    assert.equal(r.ok, true);
    assert.deepEqual(warningCodes(r), ['ICON_NOT_SVG']);
  });

  test('the file extension is only a hint', async () => {
    let r = await content(LIB, {}, 'Nature.xo');
    assert.equal(r.kind, 'content');
    assert.equal(r.ok, true);
    assert.deepEqual(warningCodes(r), ['BUNDLE_KIND_MISMATCH']);
    r = await inspectFiles({ 'GoodThing.activity/activity/activity.info': info(), 'GoodThing.activity/activity/good.svg': ICON }, 'GoodThing.xol');
    assert.equal(r.kind, 'activity');
    assert.deepEqual(warningCodes(r), ['BUNDLE_KIND_MISMATCH']);
  });

  test('a .xol without library.info', async () => {
    const r = await inspectFiles({ 'Nature/index.html': 'x' }, 'Nature.xol');
    assert.equal(r.kind, 'content');
    assert.deepEqual(errorCodes(r), ['BUNDLE_MISSING_INFO']);
    assert.equal(r.errors[0].file, 'Nature/library/library.info');
  });
});

test('every issue code is listed in src/bundles/README.md', async () => {
  const { readFile } = await import('node:fs/promises');
  const readme = await readFile(new URL('../../src/bundles/README.md', import.meta.url), 'utf8');
  for (const code of [...ERROR_CODES, ...WARNING_CODES]) assert.ok(readme.includes(`\`${code}\``), `${code} is not documented`);
});

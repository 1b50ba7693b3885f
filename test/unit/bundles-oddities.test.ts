// The project's own bundles for every oddity real activities show (the shared corpus README lists
// them: interpolation, legacy keys, odd ids and versions, line endings, icons, linfo folders,
// content bundles...). Each folder under test/fixtures/oddities was written for these tests to
// exercise one rule of Sugar's reading; the expected outcomes are Sugar's (configparser in strict
// mode, then the key rules of the protocol doc). These run on a lone clone; the shared corpus test
// (bundles-corpus.test.ts) checks the same rules on real activities when the corpus is present.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { buildBundleFromCorpusFolder, REPO_ROOT } from '../helpers/bundle-builder.js';
import { inspectBundle, type InspectResult } from '../../src/bundles/index.js';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures', 'oddities');
const results = new Map<string, { result: InspectResult; root: string }>();
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'aslo-oddities-'));
  for (const f of readdirSync(FIXTURES).sort()) {
    const isContent = existsSync(join(FIXTURES, f, 'library', 'library.info'));
    const out = join(work, `${f}.${isContent ? 'xol' : 'xo'}`);
    const built = await buildBundleFromCorpusFolder(join(FIXTURES, f), out);
    results.set(f, { result: await inspectBundle(out), root: built.root });
  }
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const warnings = (r: InspectResult) => r.warnings.map((w) => w.code);

function accepted(folder: string): InspectResult {
  const entry = results.get(folder);
  assert.ok(entry, `fixture ${folder} was not built`);
  assert.equal(entry.result.ok, true, `${folder}: ${JSON.stringify(entry.result.errors)}`);
  return entry.result;
}

describe("oddities of real activity metadata, on the project's own bundles", () => {
  test('every fixture but the duplicate key is accepted; icons come out as well-formed SVG', () => {
    assert.ok(results.size >= 17);
    for (const [f, { result }] of results) {
      if (f === 'duplicate-key') continue;
      assert.equal(result.ok, true, `${f}: ${JSON.stringify(result.errors)}`);
      const svg = result.metadata!.icon_svg;
      if (svg !== null) {
        assert.equal(XMLValidator.validate(svg), true, f);
        assert.match(svg, /^<svg\b[^>]*\sxmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      }
    }
  });

  test('[DEFAULT] section and %(...)s interpolation; icon file missing is a warning', () => {
    const r = accepted('default-interpolation');
    const m = r.metadata!;
    assert.equal(m.bundle_id, 'org.example.DrumCircle');
    assert.equal(m.name, 'DrumCircle');
    assert.equal(m.version, '12');
    assert.equal(m.exec, 'sugar-activity DrumCircle.DrumCircle -s');
    assert.equal(m.runtime, 'python2');
    assert.equal(m.icon_svg, null);
    assert.ok(warnings(r).includes('ICON_MISSING'));
    assert.equal(m.description, 'A circle of drums\nfor Sugar, with a second line.');
  });

  test('bundle_id and a different service_name: bundle_id wins, with a warning; legacy class', () => {
    const r = accepted('bundle-id-conflict');
    assert.equal(r.metadata!.bundle_id, 'org.example.Clicker');
    assert.ok(warnings(r).includes('INFO_BUNDLE_ID_CONFLICT'));
    assert.ok(warnings(r).includes('INFO_LEGACY_KEY'));
    assert.equal(r.metadata!.exec, 'sugar-activity activity.ClickerActivity');
  });

  test('service_name only and class only (pre-0.86 bundles)', () => {
    const r = accepted('legacy-keys');
    assert.equal(r.metadata!.bundle_id, 'org.example.Flashcards');
    assert.equal(r.metadata!.exec, 'sugar-activity Flashcards.FlashcardsActivity');
    assert.equal(warnings(r).filter((c) => c === 'INFO_LEGACY_KEY').length, 2);
  });

  test('non-ASCII bundle id (accepted with a warning), CRLF, no final newline, web runtime', () => {
    const r = accepted('non-ascii-id');
    const m = r.metadata!;
    assert.equal(m.bundle_id, 'org.example.Canapé');
    assert.ok(warnings(r).includes('INFO_BUNDLE_ID_NON_ASCII'));
    assert.equal(m.runtime, 'web');
    assert.deepEqual(m.license, ['AGPLv3+']);
    assert.equal(results.get('non-ascii-id')!.root, 'Canapé.activity');
  });

  test('id without a dot; trailing blank after the version; aligned keys', () => {
    const r = accepted('no-dot-id');
    assert.equal(r.metadata!.bundle_id, 'bounce');
    assert.equal(r.metadata!.version, '7');
    assert.ok(warnings(r).includes('INFO_BUNDLE_ID_STYLE'));
  });

  test('"1.0" is valid, equal to 1, not portable to Sugar < 0.92', () => {
    const r = accepted('version-one-point-zero');
    assert.equal(r.metadata!.version, '1.0');
    assert.equal(r.metadata!.version_normalized, '1');
    assert.ok(warnings(r).includes('VERSION_NOT_PORTABLE'));
  });

  test('three-part version and an accented name keep their form', () => {
    const r = accepted('three-part-version');
    assert.equal(r.metadata!.version, '1.1.1');
    assert.equal(results.get('three-part-version')!.root, 'Ecológico.activity');
    assert.equal(r.metadata!.summary, 'Aprender sobre el ambiente');
  });

  test('linfo in folders that are not locale names: skipped with one warning each', () => {
    const r = accepted('odd-linfo-folders');
    assert.deepEqual(r.metadata!.locales, {});
    assert.equal(warnings(r).filter((c) => c === 'LINFO_UNKNOWN_LOCALE').length, 3);
  });

  test('multi-line `description:` with tabs and a whitespace-only line', () => {
    const r = accepted('multiline-description');
    assert.equal(r.metadata!.description, '<p>Moonlight shows the phases.</p>\n\n<p>You can also see eclipses.</p>');
    assert.equal(r.metadata!.runtime, 'web');
  });

  test('HTML description with p/ul/li is kept; linfo per language, en-US skipped', () => {
    const r = accepted('html-description');
    const m = r.metadata!;
    assert.match(m.description!, /<ul>\s*<li>Bookmark \(save\) a page<\/li>/);
    assert.equal(m.max_participants, 100);
    assert.deepEqual(Object.keys(m.locales).sort(), ['ar', 'be@latin', 'es', 'fr', 'pt_BR']);
    assert.equal(m.locales.es!.name, 'Navegar');
    assert.equal(m.locales.ar!.name, 'تصفح');
    assert.ok(warnings(r).includes('LINFO_UNKNOWN_LOCALE'));
  });

  test('content bundle: [Library], global_name, icon with an extension (absent)', () => {
    const r = accepted('content-bundle');
    assert.equal(r.kind, 'content');
    const m = r.metadata!;
    assert.equal(m.bundle_id, 'org.example.forest-images');
    assert.equal(m.name, 'ForestImages');
    assert.equal(m.version, '8');
    assert.equal(m.activity_start, 'index.en.html');
    assert.equal(m.runtime, 'other');
    assert.deepEqual(m.license, ['CC-BY-SA 4.0']);
    assert.ok(warnings(r).includes('ICON_MISSING'));
  });

  test('icon served with entity colours resolved and no DTD', () => {
    const svg = accepted('icon-entities').metadata!.icon_svg!;
    assert.ok(!svg.includes('&stroke_color;') && !svg.includes('<!DOCTYPE') && !svg.includes('<!ENTITY'));
    assert.match(svg, /stroke="#010101"/);
    assert.match(svg, /fill="#FFFFFF"/);
  });

  test('two blanks after "=" are stripped; an empty mime_types is no types', () => {
    const r = accepted('double-blank');
    assert.equal(r.metadata!.version, '61');
    assert.deepEqual(r.metadata!.mime_types, []);
  });

  test("a duplicate key is refused, as Sugar's strict configparser refuses it", () => {
    const r = results.get('duplicate-key')!.result;
    assert.equal(r.ok, false);
    assert.deepEqual([...new Set(r.errors.map((e) => e.code))], ['INFO_DUPLICATE_KEY']);
  });

  test('icon names with a space and with a dot find their files', () => {
    const space = accepted('icon-with-space');
    assert.equal(space.metadata!.icon, 'computer happy');
    assert.notEqual(space.metadata!.icon_svg, null);
    const dot = accepted('icon-with-dot');
    assert.equal(dot.metadata!.icon, 'theory.activity');
    assert.notEqual(dot.metadata!.icon_svg, null);
  });

  test('0sugar vocabulary, misspelt keys and extra sections do not disturb the classic keys', () => {
    const r = accepted('zerosugar-keys');
    const m = r.metadata!;
    assert.equal(m.bundle_id, 'org.example.Blocks');
    assert.equal(m.version, '17');
    assert.equal(m.url, 'https://blocks.example.org');
  });
});

// The corpus test: a bundle is built for EVERY folder of the shared metadata corpus (real
// activity.info / linfo / icons from 161 public activities) and inspected. Each one must either
// be accepted with the fields Sugar itself reads (checked against corpus-expected.json, produced
// by Python's own configparser; see test/fixtures/bundles/corpus_expected.py), or be rejected for
// a reason Sugar itself rejects it for, listed below. A new corpus folder that is neither
// accepted nor listed fails the test.
//
// The corpus lives beside the repository (../shared/corpus, or $ASLO_CORPUS_DIR) and is not part of
// it: on a lone clone these tests are not registered and one line says so. The project's own
// bundles for the same oddities (bundles-oddities.test.ts) run either way.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundleFromCorpusFolder, corpusDir, listCorpusFolders, REPO_ROOT } from '../helpers/bundle-builder.js';
import { XMLValidator } from 'fast-xml-parser';
import { compareSugarVersions, inspectBundle, sugarVersionSortKey } from '../../src/bundles/index.js';
import type { InspectResult } from '../../src/bundles/index.js';

/** Folders Sugar itself refuses, with the codes we must report and why. */
const EXPECTED_REJECTIONS: Record<string, { codes: string[]; reason: string }> = {
  FundacionZamoraTeran__Megamente: {
    codes: ['INFO_DUPLICATE_KEY'],
    reason:
      '`exec` is given twice in [Activity] (line 10). Sugar reads activity.info with configparser in strict mode, ' +
      'which raises DuplicateOptionError, so Sugar cannot load the bundle at all.',
  },
};

/** Python configparser's exception -> the code we must report for it. */
const PYTHON_ERROR_CODES: Record<string, string> = {
  DuplicateOptionError: 'INFO_DUPLICATE_KEY',
  DuplicateSectionError: 'INFO_DUPLICATE_SECTION',
  MissingSectionHeaderError: 'INFO_MISSING_SECTION_HEADER',
  ParsingError: 'INFO_PARSE_ERROR',
  InterpolationSyntaxError: 'INFO_INTERPOLATION_SYNTAX',
  InterpolationMissingOptionError: 'INFO_INTERPOLATION_MISSING',
  InterpolationDepthError: 'INFO_INTERPOLATION_DEPTH',
};

interface Expected {
  error?: string;
  kind?: 'activity' | 'content';
  bundle_id?: string;
  name?: string;
  version?: string;
  version_valid?: boolean;
  exec?: string | null;
  runtime?: string;
  icon?: string | null;
  summary?: string | null;
  tags?: string[];
  mime_types?: string[];
  max_participants?: number | null;
  license?: string[];
  url?: string | null;
  repository?: string | null;
  activity_start?: string;
  locales?: Record<string, { name?: string; summary?: string; tags?: string[] }>;
}

const expected: Record<string, Expected> = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'bundles', 'corpus-expected.json'), 'utf8'));

const CORPUS = corpusDir();
const HAVE_CORPUS = existsSync(CORPUS);
if (!HAVE_CORPUS) {
  console.log(`shared corpus not found at ${CORPUS}: its tests are not run (set ASLO_CORPUS_DIR to run them)`);
}
const results = new Map<string, { result: InspectResult; root: string; kind: string }>();
let folders: string[] = [];
let work = '';

if (HAVE_CORPUS)
  before(async () => {
    folders = await listCorpusFolders(CORPUS);
    work = await mkdtemp(join(tmpdir(), 'aslo-bundles-corpus-'));
    for (const f of folders) {
      const isContent = existsSync(join(CORPUS, f, 'library', 'library.info'));
      const out = join(work, `${f}.${isContent ? 'xol' : 'xo'}`);
      const built = await buildBundleFromCorpusFolder(join(CORPUS, f), out);
      results.set(f, { result: await inspectBundle(out), root: built.root, kind: built.kind });
    }
  });

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

const codes = (r: InspectResult) => r.errors.map((e) => e.code);
const warningCodes = (r: InspectResult) => r.warnings.map((e) => e.code);

if (HAVE_CORPUS)
  describe('shared corpus', () => {
    test('every folder is accepted, or rejected for a reason Sugar rejects it for', () => {
      assert.ok(folders.length > 0, 'the corpus is empty');
      const unexplained: string[] = [];
      for (const f of folders) {
        const { result } = results.get(f)!;
        const rejection = EXPECTED_REJECTIONS[f];
        if (rejection) {
          assert.equal(result.ok, false, `${f} is in EXPECTED_REJECTIONS but was accepted; remove it from the table`);
          assert.deepEqual([...new Set(codes(result))].sort(), [...rejection.codes].sort(), `${f}: ${rejection.reason}`);
        } else if (!result.ok) {
          unexplained.push(`${f}: ${result.errors.map((e) => `${e.code} ${e.message}`).join(' | ')}`);
        }
      }
      assert.deepEqual(unexplained, [], 'rejected corpus folders that are not in EXPECTED_REJECTIONS');
      const accepted = folders.filter((f) => results.get(f)!.result.ok).length;
      // Reported so the numbers show up in the test log.
      console.log(`corpus: ${folders.length} folders, ${accepted} accepted, ${folders.length - accepted} rejected as Sugar would`);
    });

    test('Python configparser and Sugar reject the same folders', () => {
      for (const f of folders) {
        const exp = expected[f];
        if (!exp) continue; // new folder: covered by the test above
        const { result } = results.get(f)!;
        if (exp.error) {
          assert.equal(result.ok, false, `${f}: Python raises ${exp.error}`);
          assert.ok(
            codes(result).includes(PYTHON_ERROR_CODES[exp.error]),
            `${f}: expected ${PYTHON_ERROR_CODES[exp.error]} for ${exp.error}, got ${codes(result)}`,
          );
        } else if (exp.version_valid === false) {
          assert.ok(codes(result).includes('INFO_BAD_VERSION'), `${f}: version ${exp.version} is invalid for Sugar`);
        }
      }
    });

    test('accepted folders carry the fields Python configparser reads', async (t) => {
      for (const f of folders) {
        const exp = expected[f];
        const { result, root, kind } = results.get(f)!;
        if (!result.ok) continue;
        await t.test(f, () => {
          const m = result.metadata!;
          assert.ok(m, 'metadata');
          assert.equal(result.kind, kind);
          assert.equal(m.root, root);
          assert.ok(m.bundle_id.length > 0);
          // The sort key must agree with the comparison for every real version.
          assert.equal(sugarVersionSortKey(m.version), m.version_sort_key);
          assert.equal(compareSugarVersions(m.version, m.version_normalized), 0);
          // Every icon we produce must be well-formed XML in the SVG namespace.
          if (m.icon_svg !== null) {
            assert.equal(XMLValidator.validate(m.icon_svg), true);
            assert.match(m.icon_svg, /^<svg\b[^>]*\sxmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
          }
          if (!exp) return; // new folder, not in corpus-expected.json yet: acceptance is enough
          assert.equal(result.kind, exp.kind);
          assert.equal(m.bundle_id, exp.bundle_id);
          assert.equal(m.name, exp.name);
          assert.equal(m.version, exp.version);
          assert.equal(m.icon, exp.icon);
          assert.deepEqual(m.license, exp.license);
          if (exp.kind === 'content') {
            assert.equal(m.activity_start, exp.activity_start);
            assert.equal(m.runtime, 'other');
            return;
          }
          assert.equal(m.exec, exp.exec);
          assert.equal(m.runtime, exp.runtime);
          assert.equal(m.summary, exp.summary);
          assert.deepEqual(m.tags, exp.tags);
          assert.deepEqual(m.mime_types, exp.mime_types);
          assert.equal(m.max_participants, exp.max_participants);
          assert.equal(m.url, exp.url);
          assert.equal(m.repository, exp.repository);
          assert.deepEqual(m.locales, exp.locales);
          assert.ok(m.files.some((x) => x.path === 'activity/activity.info'));
          assert.ok(m.files.some((x) => x.path === 'activity.py'));
        });
      }
    });

    // Hand-checked cases, one per oddity the corpus README lists.
    const spot: [string, string, (r: InspectResult) => void][] = [
      [
        'sugarlabs__tamtam',
        '[DEFAULT] section and %(...)s interpolation; icon file missing (warning only)',
        (r) => {
          const m = r.metadata!;
          assert.equal(m.bundle_id, 'org.laptop.TamTamSuite');
          assert.equal(m.name, 'TamTamSuite');
          assert.equal(m.version, '66');
          assert.equal(m.exec, 'sugar-activity TamTamSuite.TamTamSuite -s');
          assert.equal(m.runtime, 'python2');
          assert.equal(m.icon, 'TamTamSuite');
          assert.equal(m.icon_svg, null);
          assert.ok(warningCodes(r).includes('ICON_MISSING'));
          assert.equal(
            m.description,
            'TamTam is a suite of four music and sound related activities\nfor Sugar. TamTam is written in python with some C functions for\nspeed-critical services. The audio engine for TamTam is Csound.',
          );
          assert.equal(m.url, 'http://wiki.sugarlabs.org/go/Activities/TamTam'); // from 0sugar-style `homepage`
        },
      ],
      [
        'sugar-activities__4295-activity',
        'bundle_id and a different service_name: bundle_id wins, with a warning',
        (r) => {
          assert.equal(r.metadata!.bundle_id, 'net.netii.kumuolpc.ClicPlayer');
          assert.ok(warningCodes(r).includes('INFO_BUNDLE_ID_CONFLICT'));
          assert.equal(r.metadata!.exec, 'sugar-activity activity.ClicPlayerActivity'); // legacy `class`
        },
      ],
      [
        'llaske__Canope.activity',
        'non-ASCII bundle id is accepted with a warning',
        (r) => {
          assert.equal(r.metadata!.bundle_id, 'org.olpcfrance.Canopé');
          assert.ok(warningCodes(r).includes('INFO_BUNDLE_ID_NON_ASCII'));
        },
      ],
      [
        'Daksh__bounce',
        'id without a dot; trailing blank after the version',
        (r) => {
          assert.equal(r.metadata!.bundle_id, 'bounce');
          assert.equal(r.metadata!.version, '7');
          assert.ok(warningCodes(r).includes('INFO_BUNDLE_ID_STYLE'));
        },
      ],
      [
        'sugarlabs__reflect',
        '"1.0" is valid, equal to 1, not portable to Sugar < 0.92; CRLF line endings',
        (r) => {
          const m = r.metadata!;
          assert.equal(m.version, '1.0');
          assert.equal(m.version_normalized, '1');
          assert.equal(m.version_sort_key, sugarVersionSortKey('1'));
          assert.ok(warningCodes(r).includes('VERSION_NOT_PORTABLE'));
        },
      ],
      [
        'FundacionZamoraTeran__Ecologica',
        'three-part version and accented name',
        (r) => {
          assert.equal(r.metadata!.version, '1.1.1');
          assert.equal(r.metadata!.root, 'Ecológica.activity');
        },
      ],
      [
        'FOSSRIT__SkyTime',
        'linfo in folders that are not locale names: skipped with warnings',
        (r) => {
          assert.deepEqual(r.metadata!.locales, {});
          assert.equal(warningCodes(r).filter((c) => c === 'LINFO_UNKNOWN_LOCALE').length, 3);
        },
      ],
      [
        'sugarlabs__moon-activity',
        'multi-line `description:` with tabs and a whitespace-only line',
        (r) => {
          const d = r.metadata!.description!;
          assert.match(d, /^<p>Moon-activity is a Moon phase viewer.<\/p>\n<p>You can also/);
          assert.equal(r.metadata!.runtime, 'web');
        },
      ],
      [
        'sugarlabs__browse-activity',
        'HTML description with p/ul/li is kept',
        (r) => {
          assert.match(r.metadata!.description!, /<ul>\s*<li>Bookmark \(save\)/);
          assert.equal(r.metadata!.max_participants, 100);
          assert.ok(Object.keys(r.metadata!.locales).length > 50);
        },
      ],
      [
        'sugar-activities__4075-activity',
        'the content bundle: [Library], global_name, icon with an extension (absent)',
        (r) => {
          assert.equal(r.kind, 'content');
          const m = r.metadata!;
          assert.equal(m.bundle_id, 'org.laptop.wp-nature-images');
          assert.equal(m.name, 'NatureImages');
          assert.equal(m.version, '8');
          assert.equal(m.activity_start, 'index.en.html');
          assert.equal(m.content_locale, 'en');
          assert.deepEqual(m.license, ['PD and CC-SA 2.0 and GFDL']);
          assert.ok(warningCodes(r).includes('ICON_MISSING'));
        },
      ],
      [
        'sugarlabs__chat',
        'icon served with colours resolved and no DTD',
        (r) => {
          const svg = r.metadata!.icon_svg!;
          assert.ok(svg.startsWith('<svg'));
          assert.ok(!svg.includes('&stroke_color;') && !svg.includes('<!DOCTYPE') && !svg.includes('<!ENTITY'));
          assert.match(svg, /stroke="#010101"/);
        },
      ],
      [
        'sugar-activities__4430-activity',
        'two blanks after "=": the value is stripped',
        (r) => {
          assert.equal(r.metadata!.version, '61');
        },
      ],
    ];
    for (const [folder, why, check] of spot) {
      test(`${folder}: ${why}`, (t) => {
        const entry = results.get(folder);
        if (!entry) {
          t.skip(`${folder} is not in this corpus`);
          return;
        }
        assert.equal(entry.result.ok, true, JSON.stringify(entry.result.errors));
        check(entry.result);
      });
    }
  });

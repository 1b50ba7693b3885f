// Hostile and broken archives: each must be refused with its own code, built here byte by byte
// (buildRawZip) because no zip tool writes them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle, buildRawZip, writeRawZip } from '../helpers/bundle-builder.js';
import type { RawZipEntry } from '../helpers/bundle-builder.js';
import { DEFAULT_LIMITS, inspectBundle } from '../../src/bundles/index.js';
import type { BundleLimits, InspectResult } from '../../src/bundles/index.js';

const INFO =
  '[Activity]\nname = Good\nbundle_id = org.sugarlabs.Good\nexec = sugar-activity3 activity.Good\nactivity_version = 1\nicon = good\nlicense = MIT\n';
const ICON = '<svg xmlns="http://www.w3.org/2000/svg" width="55" height="55"><rect width="10" height="10"/></svg>';
const good = (extra: RawZipEntry[] = []): RawZipEntry[] => [
  { name: 'Good.activity/activity/activity.info', data: INFO },
  { name: 'Good.activity/activity/good.svg', data: ICON },
  { name: 'Good.activity/activity.py', data: 'print(1)\n', method: 8 },
  ...extra,
];

let dir = '';
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aslo-bundles-zip-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function inspectRaw(entries: RawZipEntry[], limits?: Partial<BundleLimits>): Promise<InspectResult> {
  const p = await writeRawZip(entries, join(dir, `t${++n}.xo`));
  return inspectBundle(p, { limits });
}
async function inspectBytes(bytes: Buffer | string): Promise<InspectResult> {
  const p = join(dir, `t${++n}.xo`);
  await writeFile(p, bytes);
  return inspectBundle(p);
}
const codes = (r: InspectResult) => [...new Set(r.errors.map((e) => e.code))].sort();
const warnings = (r: InspectResult) => r.warnings.map((e) => e.code);

describe('zip structure', () => {
  test('a hand-built valid bundle is accepted (sanity check of the raw builder)', async () => {
    const r = await inspectRaw(good());
    assert.deepEqual(r.errors, []);
    assert.equal(r.ok, true);
    assert.equal(r.metadata!.bundle_id, 'org.sugarlabs.Good');
    assert.deepEqual(
      r.metadata!.files.map((f) => f.path),
      ['activity/activity.info', 'activity/good.svg', 'activity.py'],
    );
  });

  // [name, entries, expected error codes, limits]
  const HOSTILE: [string, RawZipEntry[], string[], Partial<BundleLimits>?][] = [
    ['path traversal', good([{ name: 'Good.activity/../../evil.sh', data: 'x' }]), ['BUNDLE_ZIP_TRAVERSAL']],
    ['absolute path', good([{ name: '/etc/cron.d/evil', data: 'x' }]), ['BUNDLE_ZIP_ABSOLUTE_PATH']],
    ['drive letter', good([{ name: 'C:/evil', data: 'x' }]), ['BUNDLE_ZIP_ABSOLUTE_PATH']],
    ['backslashes', good([{ name: 'Good.activity\\..\\evil', data: 'x' }]), ['BUNDLE_ZIP_BACKSLASH']],
    ['control character', good([{ name: 'Good.activity/a\u0001b', data: 'x' }]), ['BUNDLE_ZIP_BAD_NAME']],
    ['"." segment', good([{ name: 'Good.activity/./x', data: 'x' }]), ['BUNDLE_ZIP_BAD_NAME']],
    ['empty segment', good([{ name: 'Good.activity//x', data: 'x' }]), ['BUNDLE_ZIP_BAD_NAME']],
    [
      'name flagged UTF-8 that is not',
      good([{ name: Buffer.from([0x47, 0x6f, 0x6f, 0x64, 0x2e, 0x61, 0x63, 0x74, 0x69, 0x76, 0x69, 0x74, 0x79, 0x2f, 0xff, 0xfe]), data: 'x' }]),
      ['BUNDLE_ZIP_BAD_NAME'],
    ],
    ['symlink', good([{ name: 'Good.activity/link', data: '/etc/passwd', unixMode: 0o120777 }]), ['BUNDLE_ZIP_SYMLINK']],
    ['FIFO', good([{ name: 'Good.activity/fifo', data: '', unixMode: 0o010644 }]), ['BUNDLE_ZIP_SPECIAL_FILE']],
    ['duplicate names', good([{ name: 'Good.activity/activity.py', data: 'other' }]), ['BUNDLE_ZIP_DUPLICATE']],
    ['file and folder with the same name', good([{ name: 'Good.activity/activity.py/', data: '' }]), ['BUNDLE_ZIP_DUPLICATE']],
    // A traditionally encrypted stored entry carries a 12-byte header before its 4 bytes of data.
    ['encrypted entry', good([{ name: 'Good.activity/secret', data: 'xxxxxxxxxxxxyyyy', flags: 0x801, declaredSize: 4 }]), ['BUNDLE_ZIP_ENCRYPTED']],
    ['unsupported compression (bzip2)', good([{ name: 'Good.activity/b', data: 'x', method: 12 }]), ['BUNDLE_ZIP_UNSUPPORTED_COMPRESSION']],
    ['zip bomb by ratio', good([{ name: 'Good.activity/zeros', data: Buffer.alloc(10 * 1024 * 1024), method: 8 }]), ['BUNDLE_ZIP_RATIO']],
    ['zip bomb by total size', good([{ name: 'Good.activity/big', data: Buffer.alloc(2000, 1) }]), ['BUNDLE_ZIP_TOO_LARGE'], { maxUncompressedBytes: 1500 }],
    ['one entry too large', good([{ name: 'Good.activity/big', data: Buffer.alloc(2000, 1) }]), ['BUNDLE_ZIP_ENTRY_TOO_LARGE'], { maxEntryBytes: 1000 }],
    [
      'too many entries',
      good([
        { name: 'Good.activity/a', data: '1' },
        { name: 'Good.activity/b', data: '2' },
      ]),
      ['BUNDLE_ZIP_TOO_MANY_ENTRIES'],
      { maxEntries: 4 },
    ],
    [
      'deflated data larger than declared',
      good([{ name: 'Good.activity/lie', data: Buffer.alloc(5000, 7), method: 8, declaredSize: 100 }]),
      ['BUNDLE_ZIP_SIZE_MISMATCH'],
    ],
    ['deflated data smaller than declared', good([{ name: 'Good.activity/lie', data: 'short', method: 8, declaredSize: 100 }]), ['BUNDLE_ZIP_SIZE_MISMATCH']],
    ['stored entry with two sizes', good([{ name: 'Good.activity/lie', data: 'abc', declaredSize: 10 }]), ['BUNDLE_ZIP_SIZE_MISMATCH']],
    ['bad CRC', good([{ name: 'Good.activity/crc', data: 'abc', declaredCrc: 12345 }]), ['BUNDLE_ZIP_CRC_MISMATCH']],
    ['bad CRC in activity.info itself', [{ name: 'Good.activity/activity/activity.info', data: INFO, declaredCrc: 1 }], ['BUNDLE_ZIP_CRC_MISMATCH']],
    ['local header names another file', good([{ name: 'Good.activity/a', localName: 'Good.activity/b', data: 'x' }]), ['BUNDLE_ZIP_NAME_MISMATCH']],
    ['overlapping entries', good([{ name: 'Good.activity/again', data: 'x', sameDataAs: 2 }]), ['BUNDLE_ZIP_OVERLAP']],
    ['files outside the root', good([{ name: 'Other.activity/x', data: 'x' }]), ['BUNDLE_ROOT_MULTIPLE']],
    ['a root-level file', good([{ name: 'README', data: 'x' }]), ['BUNDLE_ROOT_MULTIPLE']],
    ['a prefix-sharing second root (Sugar only checks the string prefix)', good([{ name: 'Good.activityX/x', data: 'x' }]), ['BUNDLE_ROOT_MULTIPLE']],
    ['mimetype not first', good([{ name: 'mimetype', data: 'application/vnd.olpc-sugar' }]), ['BUNDLE_ROOT_MULTIPLE']],
    ['root is a file', [{ name: 'Good.activity', data: 'x' }, ...good()], ['BUNDLE_ROOT_NOT_DIR']],
    ['root without .activity', [{ name: 'Good/activity/activity.info', data: INFO }], ['BUNDLE_ROOT_SUFFIX']],
    ['hidden root', [{ name: '.Good.activity/activity/activity.info', data: INFO }], ['BUNDLE_ROOT_DOT']],
    ['no activity.info', [{ name: 'Good.activity/activity.py', data: 'x' }], ['BUNDLE_MISSING_INFO']],
    ['activity.info in the wrong case', [{ name: 'Good.activity/Activity/activity.info', data: INFO }], ['BUNDLE_MISSING_INFO']],
    ['only a mimetype entry', [{ name: 'mimetype', data: 'application/vnd.olpc-sugar' }], ['BUNDLE_ZIP_EMPTY']],
  ];
  for (const [name, entries, expected, limits] of HOSTILE) {
    test(`refuses: ${name}`, async () => {
      const r = await inspectRaw(entries, limits);
      assert.equal(r.ok, false);
      assert.deepEqual(codes(r), [...expected].sort(), JSON.stringify(r.errors, null, 1));
      for (const e of r.errors) assert.ok(e.message.length > 20, `message should explain: ${e.message}`);
    });
  }

  test('error messages name the offending entry', async () => {
    const r = await inspectRaw(good([{ name: 'Good.activity/../../evil.sh', data: 'x' }]));
    assert.equal(r.errors[0].file, 'Good.activity/../../evil.sh');
  });

  test('a flood of bad entries is summarized, not listed 5000 times', async () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ name: `Good.activity/../x${i}`, data: '' }));
    const r = await inspectRaw(good(many));
    assert.ok(r.errors.length <= 22, `${r.errors.length} errors`);
    assert.match(r.errors[r.errors.length - 1].message, /and 80 more/);
  });

  test('case-folded duplicates are only a warning', async () => {
    const r = await inspectRaw(
      good([
        { name: 'Good.activity/README', data: 'a' },
        { name: 'Good.activity/readme', data: 'b' },
      ]),
    );
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.ok(warnings(r).includes('BUNDLE_ZIP_CASE_DUPLICATE'));
  });

  test('a first entry named mimetype is skipped, as Sugar does', async () => {
    const r = await inspectRaw([{ name: 'mimetype', data: 'application/vnd.olpc-sugar' }, ...good()]);
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.metadata!.root, 'Good.activity');
    assert.ok(!r.metadata!.files.some((f) => f.path === 'mimetype'));
  });

  test('small, highly compressible files are fine (ratio is only checked from 1 MiB)', async () => {
    const r = await inspectRaw(good([{ name: 'Good.activity/blank.txt', data: Buffer.alloc(500 * 1024), method: 8 }]));
    assert.equal(r.ok, true, JSON.stringify(r.errors));
  });

  test('verifyData: false skips the full decompression pass', async () => {
    const p = await writeRawZip(good([{ name: 'Good.activity/crc', data: 'abc', declaredCrc: 1 }]), join(dir, 'nocheck.xo'));
    assert.equal((await inspectBundle(p, { verifyData: false })).ok, true);
    assert.equal((await inspectBundle(p)).ok, false);
  });
});

test('default limits', () => {
  assert.deepEqual(DEFAULT_LIMITS, { maxEntries: 20000, maxUncompressedBytes: 2 * 1024 ** 3, maxCompressionRatio: 200, maxEntryBytes: 1024 ** 3 });
});

describe('not a usable file', () => {
  test('not a zip', async () => {
    assert.deepEqual(codes(await inspectBytes('[Activity]\nname = not a zip\n')), ['BUNDLE_NOT_ZIP']);
  });
  test('an empty file', async () => {
    assert.deepEqual(codes(await inspectBytes(Buffer.alloc(0))), ['BUNDLE_NOT_ZIP']);
  });
  test('an empty zip', async () => {
    assert.deepEqual(codes(await inspectBytes(buildRawZip([]))), ['BUNDLE_ZIP_EMPTY']);
  });
  test('a truncated zip', async () => {
    const full = buildRawZip(good());
    assert.deepEqual(codes(await inspectBytes(full.subarray(0, full.length - 30))), ['BUNDLE_ZIP_CORRUPT']);
  });
  test('a damaged central directory', async () => {
    const full = Buffer.from(buildRawZip(good()));
    const cd = full.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    full[cd + 2] = 0x09; // break the first central directory signature
    assert.deepEqual(codes(await inspectBytes(full)), ['BUNDLE_ZIP_CORRUPT']);
  });
  test('a missing file', async () => {
    const r = await inspectBundle(join(dir, 'does-not-exist.xo'));
    assert.deepEqual(codes(r), ['BUNDLE_NOT_FOUND']);
    assert.equal(r.metadata, null);
  });
  test('a zip made by a normal tool (yazl) with a mimetype entry', async () => {
    const p = join(dir, 'yazl.xo');
    await buildBundle({ 'Good.activity/activity/activity.info': INFO, 'Good.activity/activity/good.svg': ICON }, p, { mimetype: 'application/vnd.olpc-sugar' });
    const r = await inspectBundle(p);
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal((await readFile(p)).subarray(30, 38).toString(), 'mimetype');
  });
});

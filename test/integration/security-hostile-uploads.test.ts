// Hostile uploads through the web form and the API: each is refused with a clear, coded error
// naming the problem, and nothing is stored: no row, no file in the store, no temporary file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildRawZip, type RawZipEntry } from '../helpers/bundle-builder.js';
import { apiUpload, person, type Person } from '../helpers/people.js';

const INFO =
  '[Activity]\nname = Good\nbundle_id = org.test.hostile.Good\nexec = sugar-activity3 activity.Good\nactivity_version = 1\nicon = good\nlicense = GPL-3.0-or-later\n';
const SVG = '<?xml version="1.0" ?><svg xmlns="http://www.w3.org/2000/svg" width="55" height="55"><rect x="5" y="5" width="45" height="45"/></svg>';
function good(extra: RawZipEntry[] = []): RawZipEntry[] {
  return [
    { name: 'Good.activity/activity/activity.info', data: INFO },
    { name: 'Good.activity/activity/good.svg', data: SVG },
    { name: 'Good.activity/activity.py', data: 'print(1)\n' },
    ...extra,
  ];
}

// [what, bytes, expected error code]
const HOSTILE: [string, Buffer, string][] = [
  ['not a zip at all', Buffer.from('[Activity]\nname = plain text\n'), 'BUNDLE_NOT_ZIP'],
  ['path traversal', buildRawZip(good([{ name: 'Good.activity/../../evil.sh', data: 'rm -rf /' }])), 'BUNDLE_ZIP_TRAVERSAL'],
  ['absolute path', buildRawZip(good([{ name: '/etc/cron.d/evil', data: 'x' }])), 'BUNDLE_ZIP_ABSOLUTE_PATH'],
  ['symlink', buildRawZip(good([{ name: 'Good.activity/link', data: '/etc/passwd', unixMode: 0o120777 }])), 'BUNDLE_ZIP_SYMLINK'],
  ['zip bomb (compression ratio)', buildRawZip(good([{ name: 'Good.activity/zeros', data: Buffer.alloc(10 * 1024 * 1024), method: 8 }])), 'BUNDLE_ZIP_RATIO'],
  ['lying sizes', buildRawZip(good([{ name: 'Good.activity/lie', data: Buffer.alloc(5000, 7), method: 8, declaredSize: 100 }])), 'BUNDLE_ZIP_SIZE_MISMATCH'],
  ['bad CRC', buildRawZip(good([{ name: 'Good.activity/crc', data: 'abc', declaredCrc: 12345 }])), 'BUNDLE_ZIP_CRC_MISMATCH'],
  ['overlapping entries', buildRawZip(good([{ name: 'Good.activity/again', data: 'x', sameDataAs: 2 }])), 'BUNDLE_ZIP_OVERLAP'],
  ['encrypted entry', buildRawZip(good([{ name: 'Good.activity/secret', data: 'xxxxxxxxxxxxyyyy', flags: 0x801, declaredSize: 4 }])), 'BUNDLE_ZIP_ENCRYPTED'],
  ['two roots', buildRawZip(good([{ name: 'Other.activity/x', data: 'x' }])), 'BUNDLE_ROOT_MULTIPLE'],
  ['no activity.info', buildRawZip([{ name: 'Good.activity/activity.py', data: 'x' }]), 'BUNDLE_MISSING_INFO'],
  ['truncated archive', buildRawZip(good()).subarray(0, 200), 'BUNDLE_ZIP_CORRUPT'],
  ['larger than the upload limit', Buffer.concat([buildRawZip(good()), Buffer.alloc(300 * 1024, 1)]), 'UPLOAD_TOO_LARGE'],
];

async function storedFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        await walk(p);
        if ((await readdir(p).catch(() => null)) === null) out.push(p);
      } catch {
        out.push(p);
      }
    }
  };
  await walk(root);
  return out.sort();
}

describe('hostile uploads', () => {
  let t: TestApp;
  let dev: Person;
  before(async () => {
    t = await createTestApp({
      env: { ASLO_BUNDLES_MAX_UPLOAD_BYTES: String(256 * 1024), ASLO_RATE_LIMITS_UPLOAD_PER_ADDRESS: '1000', ASLO_RATE_LIMITS_UPLOAD_PER_ACCOUNT: '1000' },
    });
    dev = await person(t.app);
  });
  after(async () => {
    await t.cleanup();
  });

  const snapshot = async () => ({
    files: await storedFiles(t.ctx.config.storage.filesDir),
    rows: await Promise.all(
      (['activities', 'versions', 'files', 'activity_authors'] as const).map(async (tb) =>
        Number(
          (
            await t.ctx.db
              .selectFrom(tb)
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        ),
      ),
    ),
  });

  it('the control: the good bundle the hostile ones are built from is accepted', async () => {
    const res = await apiUpload(t.app, dev.token, buildRawZip(good()), 'Good.xo');
    assert.equal(res.statusCode, 201, res.body);
  });

  for (const [what, bytes, code] of HOSTILE) {
    it(`refuses ${what} through the API and the web form, storing nothing`, async () => {
      const before = await snapshot();
      const api = await apiUpload(t.app, dev.token, bytes, 'Evil.xo');
      assert.ok([413, 422].includes(api.statusCode), `${api.statusCode} ${api.body}`);
      const r = api.json();
      assert.equal(r.ok, false);
      assert.ok(
        r.errors.some((e: { code: string }) => e.code === code),
        JSON.stringify(r.errors),
      );
      assert.ok(
        r.errors.every((e: { message: string }) => e.message.length > 10),
        'every error says what is wrong',
      );

      await dev.browser.get('/developers/upload');
      const web = await dev.browser.postMultipart('/developers/upload', {}, { field: 'file', name: 'Evil.xo', data: bytes });
      assert.ok([413, 422].includes(web.statusCode), String(web.statusCode));
      assert.match(web.body, /Upload rejected/);
      assert.ok(web.body.includes(code), `the page names ${code}`);
      assert.deepEqual(await snapshot(), before, 'nothing stored');
    });
  }
});

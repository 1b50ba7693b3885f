// `aslo dev generate`: a synthetic catalog, checked through the real read API and download route,
// and read back with the bundle library to prove the bundles and the rows say the same thing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectBundle, parseSugarVersion } from '../../src/bundles/index.js';
import { defaultRangeFor } from '../../src/catalog/compat.js';
import { generateCatalog, generatedPrefix, planActivity, userCountFor, type PlannedActivity } from '../../tools/catalog-generator/generate.js';
import { normalizeLocale } from '../../src/catalog/locales.js';
import { AsloError } from '../../src/platform/errors.js';
import { createCliEnv, runCli } from '../helpers/cli.js';
import { createTestApp, type TestApp } from '../helpers/env.js';

const OPTS = { activities: 30, versions: 3, seed: 4242, locales: 8 };

/** Sugar's order, computed here from the parsed parts (not from the stored sort keys). */
function compareSugar(a: string, b: string): number {
  const pa = parseSugarVersion(a).parts;
  const pb = parseSugarVersion(b).parts;
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return pa.length - pb.length;
}

function plans(opts = OPTS): PlannedActivity[] {
  return Array.from({ length: opts.activities }, (_, i) =>
    planActivity(opts.seed, i, { versions: opts.versions, locales: opts.locales, users: userCountFor(opts.activities) }),
  );
}

interface VersionsBody {
  versions: {
    version: string;
    runtime: string;
    exec: string;
    licenses: string[];
    sugar: { min: string | null; max: string | null; origin: string };
    files: { id: number; sha256: string; size: number; file_name: string; download_url: string }[];
  }[];
}

async function catalogOf(t: TestApp): Promise<{ bundleId: string; versions: { version: string; sha256: string }[] }[]> {
  const list = await t.app.inject({ method: 'GET', url: '/api/v1/activities?per_page=100&sort=name' });
  assert.equal(list.statusCode, 200);
  const out = [];
  for (const item of list.json().items as { bundle_id: string }[]) {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/activities/${item.bundle_id}/versions` });
    const body = res.json() as VersionsBody;
    out.push({ bundleId: item.bundle_id, versions: body.versions.map((v) => ({ version: v.version, sha256: v.files[0]!.sha256 })) });
  }
  return out;
}

describe('aslo dev generate', () => {
  let t: TestApp;
  let other: TestApp;
  const expected = plans();
  const progress: [number, number][] = [];

  before(async () => {
    t = await createTestApp();
    other = await createTestApp();
    const result = await generateCatalog(t.ctx, { ...OPTS, batchSize: 7, onProgress: (d, n) => progress.push([d, n]) });
    assert.deepEqual(result, { activities: 30, versions: 90, files: 90 });
  });

  after(async () => {
    await t?.cleanup();
    await other?.cleanup();
  });

  it('reports progress batch by batch up to the total', () => {
    assert.deepEqual(progress[0], [0, 30]);
    assert.deepEqual(progress[progress.length - 1], [30, 30]);
    assert.ok(progress.length >= 5, 'five batches of at most 7');
  });

  it('lists every generated activity as public, with its name, summary, tags and current version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/activities?per_page=100&sort=name' });
    assert.equal(res.statusCode, 200);
    const body = res.json() as {
      total: number;
      items: { bundle_id: string; name: string; summary: string; tags: string[]; current_version: string; runtime: string; locale: string }[];
    };
    assert.equal(body.total, 30);
    const byId = new Map(expected.map((p) => [p.bundleId, p]));
    for (const item of body.items) {
      assert.ok(item.bundle_id.startsWith(generatedPrefix(OPTS.seed)), item.bundle_id);
      assert.match(item.bundle_id, /^org\.example\.generated\.s4242\.[A-Za-z][A-Za-z0-9]*$/);
      const p = byId.get(item.bundle_id)!;
      assert.ok(p, `planned ${item.bundle_id}`);
      const newest = [...p.versions].sort((a, b) => compareSugar(b.version, a.version))[0]!;
      assert.equal(item.name, p.name);
      assert.equal(item.summary, p.summary);
      assert.equal(item.locale, 'und');
      assert.deepEqual(item.tags, [...p.tags].sort());
      assert.equal(item.current_version, newest.version);
      assert.equal(item.runtime, newest.runtime);
    }
  });

  it('serves versions newest first in Sugar order, each with its Sugar range and one public .xo', async () => {
    let orderDiffersFromText = false;
    for (const p of expected) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/activities/${p.bundleId}/versions` });
      assert.equal(res.statusCode, 200);
      const body = res.json() as VersionsBody;
      const want = [...p.versions].sort((a, b) => compareSugar(b.version, a.version));
      assert.deepEqual(
        body.versions.map((v) => v.version),
        want.map((v) => v.version),
        p.bundleId,
      );
      const textual = [...p.versions]
        .map((v) => v.version)
        .sort()
        .reverse();
      if (textual.join() !== want.map((v) => v.version).join()) orderDiffersFromText = true;
      for (const [i, v] of body.versions.entries()) {
        const range = defaultRangeFor(want[i]!.runtime);
        assert.equal(v.runtime, want[i]!.runtime);
        assert.equal(v.exec, want[i]!.exec);
        assert.deepEqual(v.licenses, p.licenses);
        assert.deepEqual(v.sugar, { min: range.min, max: range.max, origin: 'runtime' });
        assert.equal(v.files.length, 1);
        assert.match(v.files[0]!.sha256, /^[0-9a-f]{64}$/);
        assert.match(v.files[0]!.file_name, /\.xo$/);
        assert.ok(v.files[0]!.size > 0);
      }
    }
    assert.ok(orderDiffersFromText, 'some activity has versions that sort differently as text (9 < 10, 1.9 < 1.10)');
  });

  it('mixes runtimes, version styles and locales like a real catalog', () => {
    const versions = expected.flatMap((p) => p.versions);
    const runtimes = new Set(versions.map((v) => v.runtime));
    for (const r of ['python2', 'python3', 'web']) assert.ok(runtimes.has(r as never), `some ${r} versions`);
    assert.ok(
      versions.some((v) => /^\d+$/.test(v.version)),
      'plain integer versions',
    );
    assert.ok(
      versions.some((v) => /^\d+\.\d+/.test(v.version)),
      'dotted versions',
    );
    assert.ok(
      versions.some((v) => /[-~]/.test(v.version)),
      'versions with a suffix',
    );
    for (const v of versions) assert.ok(parseSugarVersion(v.version).valid, v.version);
    const withLocales = expected.filter((p) => Object.keys(p.locales).length >= 4);
    assert.ok(withLocales.length >= 10, 'most activities are translated');
  });

  it('answers in every generated locale (?lang= and Accept-Language)', async () => {
    const translated = expected.filter((p) => Object.keys(p.locales).length > 0).slice(0, 3);
    assert.ok(translated.length > 0);
    for (const p of translated) {
      for (const [raw, text] of Object.entries(p.locales)) {
        const lang = normalizeLocale(raw)!;
        const res = await t.app.inject({ method: 'GET', url: `/api/v1/activities/${p.bundleId}?lang=${encodeURIComponent(lang)}` });
        assert.equal(res.statusCode, 200);
        const body = res.json() as { name: string; summary: string; locale: string; description: string };
        assert.equal(body.name, text.name, `${p.bundleId} ${raw}`);
        assert.equal(body.summary, text.summary, `${p.bundleId} ${raw}`);
        assert.equal(body.locale, lang);
        // Descriptions are only in activity.info: the fallback text.
        assert.equal(body.description, p.description);
      }
    }
    const [p] = translated;
    const [raw, text] = Object.entries(p!.locales)[0]!;
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/activities/${p!.bundleId}`,
      headers: { 'accept-language': `${normalizeLocale(raw)};q=0.9, xx;q=0.1` },
    });
    assert.equal(res.json().name, text.name);
  });

  it('stores real bundles: downloads match the rows, and the bundle library reads them back to the same metadata', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aslo-generated-'));
    try {
      for (const p of expected) {
        const body = (await t.app.inject({ method: 'GET', url: `/api/v1/activities/${p.bundleId}/versions` })).json() as VersionsBody;
        for (const v of body.versions) {
          const f = v.files[0]!;
          const dl = await t.app.inject({ method: 'GET', url: new URL(f.download_url).pathname });
          assert.equal(dl.statusCode, 200);
          assert.equal(dl.headers['content-type'], 'application/vnd.olpc-sugar');
          assert.equal(dl.rawPayload.length, f.size);
          assert.equal(createHash('sha256').update(dl.rawPayload).digest('hex'), f.sha256);
          const path = join(dir, f.file_name);
          await writeFile(path, dl.rawPayload);
          const inspected = await inspectBundle(path);
          assert.equal(inspected.ok, true, JSON.stringify(inspected.errors));
          assert.deepEqual(inspected.errors, []);
          // Only the portability warnings that dotted and suffixed versions deserve.
          for (const w of inspected.warnings)
            assert.ok(['VERSION_NOT_PORTABLE', 'VERSION_SUFFIX_GTK2'].includes(w.code), `${f.file_name}: ${JSON.stringify(w)}`);
          if (/^\d+$/.test(v.version)) assert.deepEqual(inspected.warnings, []);
          const m = inspected.metadata!;
          assert.equal(m.bundle_id, p.bundleId);
          assert.equal(m.version, v.version);
          assert.equal(m.name, p.name);
          assert.equal(m.runtime, v.runtime);
          assert.deepEqual(m.locales, p.locales);
          // The version row holds exactly what ingest would have stored for this bundle.
          const row = await t.ctx.db
            .selectFrom('versions as v')
            .innerJoin('files as f', 'f.version_id', 'v.id')
            .select(['v.metadata', 'v.icon_svg', 'v.sort_key', 'v.version_normalized', 'f.sha1', 'f.md5', 'f.piece_hashes', 'f.piece_length', 'f.validation'])
            .where('f.sha256', '=', f.sha256)
            .executeTakeFirstOrThrow();
          const { icon_svg: iconSvg, ...rest } = m;
          assert.deepEqual(row.metadata, JSON.parse(JSON.stringify(rest)));
          assert.equal(row.icon_svg, iconSvg);
          assert.deepEqual(row.validation, { warnings: inspected.warnings, generated: true });
          assert.equal(row.sort_key, m.version_sort_key);
          assert.equal(row.version_normalized, m.version_normalized);
          assert.equal(row.sha1, createHash('sha1').update(dl.rawPayload).digest('hex'));
          assert.equal(row.md5, createHash('md5').update(dl.rawPayload).digest('hex'));
          assert.equal(Buffer.from(row.piece_hashes).length, 32 * Math.ceil(f.size / row.piece_length));
        }
        const icon = await t.app.inject({ method: 'GET', url: `/api/v1/activities/${p.bundleId}/icon.svg` });
        assert.equal(icon.statusCode, 200);
        assert.doesNotMatch(icon.body, /&stroke_color;|&fill_color;/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives authors to every activity', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/activities/${expected[0]!.bundleId}` });
    const body = res.json() as { authors: { name: string; role: string }[] };
    assert.ok(body.authors.length >= 1);
    assert.equal(body.authors[0]!.role, 'owner');
  });

  it('makes the same catalog, byte for byte, from the same seed', async () => {
    const result = await generateCatalog(other.ctx, OPTS);
    assert.deepEqual(result, { activities: 30, versions: 90, files: 90 });
    const a = await catalogOf(t);
    const b = await catalogOf(other);
    assert.equal(a.length, 30);
    assert.deepEqual(b, a);
  });

  it('makes a different catalog from another seed, beside the first', async () => {
    await generateCatalog(other.ctx, { ...OPTS, seed: 7, activities: 5 });
    const all = await catalogOf(other);
    assert.equal(all.length, 35);
    const seven = all.filter((x) => x.bundleId.startsWith(generatedPrefix(7)));
    assert.equal(seven.length, 5);
    const shas = new Set((await catalogOf(t)).flatMap((x) => x.versions.map((v) => v.sha256)));
    for (const x of seven) for (const v of x.versions) assert.ok(!shas.has(v.sha256));
  });

  it('refuses to generate a seed twice, unless asked to replace it', async () => {
    await assert.rejects(
      generateCatalog(other.ctx, { ...OPTS, seed: 7, activities: 5 }),
      (err: unknown) => err instanceof AsloError && err.code === 'GENERATE_EXISTS',
    );
    const again = await generateCatalog(other.ctx, { ...OPTS, seed: 7, activities: 4, replace: true });
    assert.equal(again.activities, 4);
    const all = await catalogOf(other);
    assert.equal(all.filter((x) => x.bundleId.startsWith(generatedPrefix(7))).length, 4);
    assert.equal(all.length, 34);
  });

  it('can write rows only (files: false)', async () => {
    const result = await generateCatalog(other.ctx, { activities: 3, versions: 2, seed: 8, files: false });
    assert.deepEqual(result, { activities: 3, versions: 6, files: 6 });
    const [first] = plans({ activities: 3, versions: 2, seed: 8, locales: 20 });
    const body = (await other.app.inject({ method: 'GET', url: `/api/v1/activities/${first!.bundleId}/versions` })).json() as VersionsBody;
    assert.equal(body.versions.length, 2);
    assert.equal(await other.ctx.files.has(body.versions[0]!.files[0]!.sha256), false);
  });

  it('rejects counts out of range', async () => {
    for (const bad of [
      { activities: 0, versions: 1 },
      { activities: 1, versions: 0 },
      { activities: 1.5, versions: 1 },
      { activities: 1, versions: 1, locales: 1000 },
    ]) {
      await assert.rejects(generateCatalog(other.ctx, bad), (err: unknown) => err instanceof AsloError && err.code === 'GENERATE_BAD_OPTION');
    }
  });
});

describe('aslo dev generate (the command)', () => {
  let dir: string;
  let env: Record<string, string>;
  let cleanup = async () => {};

  before(async () => {
    ({ dir, env, cleanup } = await createCliEnv('aslo-generate-cli-'));
  });
  after(() => cleanup());

  it('generates with progress on stderr and a summary on stdout; a second run of the seed needs --replace', async () => {
    const args = ['dev', 'generate', '--activities', '4', '--versions', '2', '--seed', '9', '--locales', '3'];
    const first = await runCli(args, env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Generated 4 activities, 8 versions and 8 files in .* \(seed 9\)/);
    assert.match(first.stdout, /org\.example\.generated\.s9\./);
    assert.match(first.stderr, /generated 4\/4 activities/);
    const again = await runCli(args, env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /GENERATE_EXISTS/);
    const replaced = await runCli([...args, '--replace', '--no-files'], env);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.match(replaced.stdout, /no bundle files were written/);
  });

  it('exits 2 on bad counts', async () => {
    for (const bad of [
      ['--activities', '0', '--versions', '1'],
      ['--activities', 'ten', '--versions', '1'],
      ['--activities', '2'],
      ['--activities', '2', '--versions', '2', '--locales', '999'],
    ]) {
      const r = await runCli(['dev', 'generate', ...bad], env);
      assert.equal(r.code, 2, `${bad.join(' ')}: ${r.stderr}`);
    }
  });
});

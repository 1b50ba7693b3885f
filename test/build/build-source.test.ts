// `aslo build` and buildFromGit on repositories the tests make: the builder's file selection and
// translations against committed expected output, byte-identical rebuilds in different
// environments, --verify, odd layouts, remote sources (file://, git daemon, git http-backend, a
// server that asks for credentials) and limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { serveGitHttp } from '../helpers/git-http.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { REPO_ROOT } from '../helpers/bundle-builder.js';
import { ASLO_BIN } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { activityInfo, gitIn, makeRepo, TEST_ICON, type RepoFile } from '../helpers/git-repo.js';
import { buildFromGit, verifyBundle, BuildError, PROVENANCE_FILE } from '../../src/build/index.js';
import { readZipRecords } from '../../src/build/zip.js';
import { inspectBundle } from '../../src/bundles/index.js';

const FIX = join(REPO_ROOT, 'test', 'fixtures', 'build');
const PO = join(FIX, 'repos', 'paint-po');
const EXPECTED = join(FIX, 'expected', 'paint');
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'aslo-build-'));
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

let counter = 0;
const dir = (name: string) => join(work, `${name}-${++counter}`);

function paintFiles(): Record<string, RepoFile> {
  return {
    '.gitignore': 'build/\n*.log\n',
    MANIFEST: 'paint.py\n',
    'activity/activity.info': activityInfo({ name: 'Paint  Pro', bundleId: 'org.example.PaintPro', version: '7', summary: 'Draw pictures' }),
    'activity/activity-test.svg': TEST_ICON,
    'backup.bak': 'old\n',
    'cache.pyc': Buffer.from([0x42, 0x0d]),
    'bin/run.sh': { content: '#!/bin/sh\nexec python3 paint.py\n', mode: 0o755 },
    'dist/old.xo': 'not a zip\n',
    docs: { symlink: 'sub' },
    'icons/current.svg': { symlink: '../activity/activity-test.svg' },
    'lib/__init__.py': '',
    'lib/tool.py': 'def tool():\n    return 1\n',
    'notes~': 'editor backup\n',
    'paint.py': 'from sugar3.activity import activity\n\n\nclass TestActivity(activity.Activity):\n    pass\n',
    'po/PaintPro.pot': readFileSync(join(PO, 'PaintPro.pot')),
    'po/de.po': readFileSync(join(PO, 'de.po')),
    'po/es.po': readFileSync(join(PO, 'es.po')),
    'po/fr.po': readFileSync(join(PO, 'fr.po')),
    'po/pseudo.po': readFileSync(join(PO, 'pseudo.po')),
    'po/pt-BR.po': readFileSync(join(PO, 'pt-BR.po')),
    'screenshots/one.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    'setup.py': '#!/usr/bin/env python3\nfrom sugar3.activity import bundlebuilder\n\nbundlebuilder.start()\n',
    'sub/.gitignore': '*.tmp\n',
    'sub/MANIFEST': 'readme.txt\n',
    'sub/dist/keep.txt': 'kept: only the top-level dist/ is left out\n',
    'sub/readme.txt': 'hello\n',
    'Ünïcode.txt': 'non-ASCII name\n',
  };
}

function makePaint(path: string, order: 'as-given' | 'reversed' = 'as-given'): string {
  return makeRepo(path, paintFiles(), {
    tag: 'v7',
    order,
    untracked: { 'untracked.txt': 'not committed\n', 'build/out.txt': 'ignored\n', 'x.log': 'ignored\n' },
  });
}

/** Entry name -> uncompressed bytes (or null for a directory), in zip order. */
function unzip(bytes: Buffer): Map<string, Buffer | null> {
  const out = new Map<string, Buffer | null>();
  for (const r of readZipRecords(bytes)!) {
    const method = r.local.readUInt16LE(8);
    const data = r.local.subarray(30 + r.local.readUInt16LE(26) + r.local.readUInt16LE(28));
    out.set(r.name, r.name.endsWith('/') ? null : method === 8 ? inflateRawSync(data) : Buffer.from(data));
  }
  return out;
}

describe('the paint fixture repository', () => {
  let built: Awaited<ReturnType<typeof buildFromGit>>;
  let entries: Map<string, Buffer | null>;
  let repo = '';
  let commit = '';

  before(async () => {
    repo = dir('paint');
    commit = makePaint(repo);
    built = await buildFromGit({ source: repo, ref: 'v7', outDir: dir('out') });
    entries = unzip(await readFile(built.path));
  });

  test("file name, root folder and entry list are the builder's", () => {
    assert.equal(built.fileName, 'PaintPro-7.xo');
    assert.equal(built.kind, 'activity');
    const expected = readFileSync(join(EXPECTED, 'entries.txt'), 'utf8').trim().split('\n');
    assert.deepEqual([...entries.keys()], expected);
    assert.deepEqual(built.entries, expected);
  });

  test("every .mo equals msgfmt's, every linfo the documented lookup, activity.info the committed bytes", () => {
    for (const lang of ['de', 'es', 'fr', 'pt-BR']) {
      assert.equal(
        entries.get(`PaintPro.activity/locale/${lang}/LC_MESSAGES/org.example.PaintPro.mo`)!.toString('hex'),
        readFileSync(join(EXPECTED, `${lang}.mo`)).toString('hex'),
        lang,
      );
      assert.equal(
        entries.get(`PaintPro.activity/locale/${lang}/activity.linfo`)!.toString('utf8'),
        readFileSync(join(EXPECTED, `${lang}.linfo`), 'utf8'),
        lang,
      );
    }
    assert.ok(entries.get('PaintPro.activity/activity/activity.info')!.equals(Buffer.from(paintFiles()['activity/activity.info'] as string)));
    assert.ok(entries.get('PaintPro.activity/po/pseudo.po')!.equals(readFileSync(join(PO, 'pseudo.po'))));
  });

  test('symlinks: to a file gives its bytes and mode, to a folder gives a folder entry', async () => {
    assert.equal(entries.get('PaintPro.activity/icons/current.svg')!.toString('utf8'), TEST_ICON);
    assert.equal(entries.get('PaintPro.activity/docs/'), null);
    const records = readZipRecords(await readFile(built.path))!;
    const attr = (name: string) => records.find((r) => r.name === name)!.central.readUInt32LE(38);
    assert.equal(attr('PaintPro.activity/bin/run.sh') >>> 16, 0o100755);
    assert.equal(attr('PaintPro.activity/paint.py') >>> 16, 0o100644);
    assert.equal(attr('PaintPro.activity/docs/'), ((0o40755 << 16) | 0x10) >>> 0);
  });

  test("the source record names the repository, commit and tag; times are the commit's", async () => {
    const record = JSON.parse(entries.get(`PaintPro.activity/${PROVENANCE_FILE}`)!.toString('utf8'));
    assert.deepEqual(record, { builder: 'aslo-build/1', repository: repo, commit, tag: 'v7', committed_at: '2024-05-17T10:20:31Z' });
    assert.deepEqual(built.source, record);
    for (const r of readZipRecords(await readFile(built.path))!) {
      assert.equal(r.central.readUInt16LE(14), ((2024 - 1980) << 9) | (5 << 5) | 17, r.name);
      assert.equal(r.central.readUInt16LE(12), (10 << 11) | (20 << 5) | 15, r.name);
    }
  });

  test("the store's validator accepts it, with the translated names", async () => {
    const r = await inspectBundle(built.path);
    assert.equal(r.ok, true, JSON.stringify(r.errors));
    assert.equal(r.metadata!.bundle_id, 'org.example.PaintPro');
    assert.equal(r.metadata!.locales.es.name, 'Pintura Pro');
    assert.equal(r.metadata!.locales.fr.summary, "Dessine des images à l'écran");
    assert.equal(built.metadata.version, '7');
    assert.ok(built.log.some((l) => l.includes('translations: 4 language(s)')));
    assert.deepEqual(built.warnings, []);
  });

  test('--verify: the bundle matches its source; a changed byte names the entry', async () => {
    const ok = await runAslo(['build', '--verify', built.path, '--quiet']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /bytes match/);
    const bytes = await readFile(built.path);
    const records = readZipRecords(bytes)!;
    const victim = records.find((r) => r.name === 'PaintPro.activity/paint.py')!;
    const at = bytes.indexOf(victim.local) + victim.local.length - 1;
    const tampered = Buffer.from(bytes);
    tampered[at] ^= 0xff;
    const path = join(dir('tampered'), 'PaintPro-7.xo');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(path, '..'), { recursive: true }).then(() => fs.writeFile(path, tampered)));
    const bad = await runAslo(['build', '--verify', path, '--quiet']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /MISMATCH .* first differing entry PaintPro\.activity\/paint\.py/);
  });

  test('--verify after the tag moved rebuilds the recorded commit and says so', async () => {
    const clone = dir('moved');
    gitIn(work, ['clone', '-q', repo, clone]);
    const out = dir('out');
    const first = await buildFromGit({ source: clone, ref: 'v7', outDir: out });
    gitIn(clone, ['commit', '-q', '--allow-empty', '-m', 'later']);
    gitIn(clone, ['tag', '-f', '-a', '-m', 'moved', 'v7']);
    const v = await verifyBundle(first.path);
    assert.equal(v.match, true);
    assert.ok(
      v.warnings.some((w) => w.includes('now points at')),
      v.warnings.join(),
    );
  });
});

describe('the metro fixture repository', () => {
  const METRO_PO = join(FIX, 'repos', 'metro-po');
  const METRO = join(FIX, 'expected', 'metro');
  const R = 'MétroVille.activity';

  test("entries, .mo, linfo and activity.info bytes are the documented rules' output", async () => {
    const repo = dir('metro');
    const info = activityInfo({ name: 'Métro  Ville', bundleId: 'org.example.MetroVille', version: '3.1-beta', summary: null });
    makeRepo(repo, {
      '.gitattributes': '*.py text eol=lf\n',
      'activity/activity.info': info,
      'activity/activity-test.svg': TEST_ICON,
      'locale/ar/activity.linfo': '[Activity]\nname = stale\n',
      'locale/de/LC_MESSAGES/org.example.MetroVille.mo': 'stale',
      'metro.py': 'pass\n',
      'po/ar.po': readFileSync(join(METRO_PO, 'ar.po')),
      'po/metro.pot': 'msgid ""\nmsgstr ""\n',
      'po/ru.po': readFileSync(join(METRO_PO, 'ru.po')),
      'po/sr@latin.po': readFileSync(join(METRO_PO, 'sr@latin.po')),
      'setup.py': "#!/usr/bin/env python\nfrom sugar.activity import bundlebuilder\nbundlebuilder.start('Metro')\n",
    });
    const r = await buildFromGit({ source: repo, outDir: dir('out') });
    assert.equal(r.fileName, 'MétroVille-3.1-beta.xo');
    const entries = unzip(await readFile(r.path));
    assert.deepEqual([...entries.keys()], readFileSync(join(METRO, 'entries.txt'), 'utf8').trim().split('\n'));
    for (const lang of ['ar', 'ru', 'sr@latin']) {
      assert.equal(
        entries.get(`${R}/locale/${lang}/LC_MESSAGES/org.example.MetroVille.mo`)!.toString('hex'),
        readFileSync(join(METRO, `${lang}.mo`)).toString('hex'),
        lang,
      );
      assert.equal(entries.get(`${R}/locale/${lang}/activity.linfo`)!.toString('utf8'), readFileSync(join(METRO, `${lang}.linfo`), 'utf8'), lang);
    }
    assert.equal(entries.get(`${R}/activity/activity.info`)!.toString('utf8'), info);
    assert.deepEqual(r.warnings.map((w) => w.code).sort(), ['BUILD_GITATTRIBUTES', 'BUILD_TRACKED_LOCALE']);
    const flags = readZipRecords(await readFile(r.path))!.map((rec) => rec.central.readUInt16LE(8));
    assert.ok(
      flags.every((f) => f === 0x800),
      'every name is non-ASCII (root folder), so every entry has the UTF-8 flag',
    );
    assert.equal(r.metadata.locales.ar.name, 'مدينة المترو');
  });
});

function runAslo(
  args: string[],
  opts: { env?: Record<string, string>; umask?: string; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const cmd = opts.umask ? 'sh' : process.execPath;
    const argv = opts.umask ? ['-c', `umask ${opts.umask} && exec "$0" "$@"`, process.execPath, ASLO_BIN, ...args] : [ASLO_BIN, ...args];
    const child = spawn(cmd, argv, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('reproducible', () => {
  test('two clones made in different file orders, built with different umasks and time zones, give the same bytes', async () => {
    const a = dir('machine-a');
    const b = dir('machine-b');
    makePaint(a, 'as-given');
    makePaint(b, 'reversed');
    const outA = dir('out-a');
    const outB = dir('out-b');
    const url = 'https://example.org/paint.git';
    const ra = await runAslo(['build', a, '--ref', 'v7', '--out', outA, '--source-url', url, '--quiet'], {
      umask: '022',
      env: { TZ: 'UTC', LANG: 'C' },
      cwd: a,
    });
    const rb = await runAslo(['build', b, '--ref', 'v7', '--out', outB, '--source-url', url, '--quiet'], {
      umask: '077',
      env: { TZ: 'Pacific/Kiritimati', LANG: 'es_UY.UTF-8' },
      cwd: b,
    });
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const bytesA = await readFile(join(outA, 'PaintPro-7.xo'));
    const bytesB = await readFile(join(outB, 'PaintPro-7.xo'));
    assert.ok(bytesA.equals(bytesB), 'identical bytes');
    // Verify reads the commit from a local copy while comparing with the recorded URL.
    const v = await runAslo(['build', '--verify', join(outA, 'PaintPro-7.xo'), b, '--quiet']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });
});

describe('odd layouts', () => {
  const base = (
    extra: Record<string, RepoFile> = {},
    info = activityInfo({ name: 'Odd', bundleId: 'org.example.Odd', version: '2' }),
  ): Record<string, RepoFile> => ({
    'activity/activity.info': info,
    'activity/activity-test.svg': TEST_ICON,
    'odd.py': 'pass\n',
    ...extra,
  });
  const build = async (files: Record<string, RepoFile>, opts: Parameters<typeof makeRepo>[2] = {}) => {
    const repo = dir('odd');
    makeRepo(repo, files, opts);
    return buildFromGit({ source: repo, outDir: dir('out') });
  };
  const refused = async (files: Record<string, RepoFile>, code: string) => {
    await assert.rejects(build(files), (err: unknown) => err instanceof BuildError && err.code === code);
  };

  test('tracked locale/ with po/: the tracked files are left out, the generated ones shipped once', async () => {
    const r = await build(
      base({
        'po/es.po': 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Odd"\nmsgstr "Raro"\n',
        'locale/es/activity.linfo': '[Activity]\nname = Stale\n',
        'locale/es/LC_MESSAGES/org.example.Odd.mo': 'stale',
        'locale/de/activity.linfo': '[Activity]\nname = Nothing behind me\n',
      }),
    );
    const names = r.entries.filter((e) => e.includes('/locale/'));
    assert.deepEqual(names, ['Odd.activity/locale/es/activity.linfo', 'Odd.activity/locale/es/LC_MESSAGES/org.example.Odd.mo']);
    assert.equal(
      unzip(await readFile(r.path))
        .get('Odd.activity/locale/es/activity.linfo')!
        .toString(),
      '[Activity]\nname = Raro\nsummary = A test activity\n',
    );
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['BUILD_TRACKED_LOCALE'],
    );
  });

  test('tracked locale/ without po/: shipped once, as committed', async () => {
    const r = await build(base({ 'locale/es/activity.linfo': '[Activity]\nname = Raro\n' }));
    assert.deepEqual(
      r.entries.filter((e) => e.includes('/locale/')),
      ['Odd.activity/locale/es/activity.linfo'],
    );
    assert.equal(r.metadata.locales.es.name, 'Raro');
  });

  test('untracked and ignored files are never shipped', async () => {
    const r = await build(base({ '.gitignore': '*.tmp\n' }), { untracked: { 'scratch.txt': 'x', 'a.tmp': 'x' } });
    assert.deepEqual(r.entries, [
      'Odd.activity/activity/activity-test.svg',
      'Odd.activity/activity/activity.info',
      'Odd.activity/odd.py',
      `Odd.activity/${PROVENANCE_FILE}`,
    ]);
  });

  test('a setup.py that does more than start the builder gets a warning (it is never run)', async () => {
    const marker = join(work, 'setup-ran');
    const r = await build(
      base({ 'setup.py': `import os\nopen(${JSON.stringify(marker)}, 'w').write('ran')\nfrom sugar3.activity import bundlebuilder\nbundlebuilder.start()\n` }),
    );
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['BUILD_SETUP_PY_CUSTOM'],
    );
    assert.match(r.warnings[0].message, /line 2: open\(/);
    assert.equal(existsSync(marker), false);
  });

  test('symlinks out of the repository, dangling ones and submodules are refused with codes', async () => {
    await refused(base({ passwd: { symlink: '/etc/passwd' } }), 'BUILD_SYMLINK_OUTSIDE');
    await refused(base({ 'up.txt': { symlink: '../../outside.txt' } }), 'BUILD_SYMLINK_OUTSIDE');
    await refused(base({ 'gone.txt': { symlink: 'nothing-here.txt' } }), 'BUILD_SYMLINK_DANGLING');
    await refused(base({ 'loop-a': { symlink: 'loop-b' }, 'loop-b': { symlink: 'loop-a' } }), 'BUILD_SYMLINK_DANGLING');
    const repo = dir('submodule');
    makeRepo(repo, base());
    gitIn(repo, ['update-index', '--add', '--cacheinfo', `160000,${gitIn(repo, ['rev-parse', 'HEAD']).trim()},vendor/lib`]);
    gitIn(repo, ['commit', '-q', '-m', 'submodule']);
    await assert.rejects(buildFromGit({ source: repo, outDir: dir('out') }), (e: unknown) => e instanceof BuildError && e.code === 'BUILD_SUBMODULE');
  });

  test('a file name with surrounding white space, a broken PO file and a bad activity.info are refused', async () => {
    await refused(base({ ' lead.txt': 'x' }), 'BUILD_PATH_WHITESPACE');
    await refused(base({ 'po/es.po': 'msgid "a"\nmsgstr "b\n' }), 'BUILD_PO_INVALID');
    await refused(base({}, '[Activity]\nname = Odd\nexec = x\n'), 'BUILD_INFO_INVALID');
    await refused({ README: 'no activity here\n' }, 'BUILD_NO_INFO');
    await refused(base({ [PROVENANCE_FILE]: '{}' }), 'BUILD_PROVENANCE_CONFLICT');
    await refused(base({ 'po/.po': 'msgid "a"\nmsgstr "b"\n' }), 'BUILD_PO_BAD_NAME');
  });

  test('a content bundle (library/library.info) builds to .xol', async () => {
    const oddity = join(REPO_ROOT, 'test', 'fixtures', 'oddities', 'content-bundle', 'library', 'library.info');
    const r = await build({
      'library/library.info': readFileSync(oddity),
      'library/pictures.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
      'index.en.html': '<!doctype html><title>Forest</title>\n',
      'locale/en/captions.txt': 'a forest\n',
    });
    assert.equal(r.kind, 'content');
    assert.equal(r.fileName, 'ForestImages-8.xol');
    assert.ok(r.entries.every((e) => e.startsWith('ForestImages/')));
    assert.equal(r.metadata.bundle_id, 'org.example.forest-images');
    assert.ok(r.entries.includes('ForestImages/locale/en/captions.txt'));
    assert.deepEqual(r.warnings, [], "a content bundle's locale/ is content");
  });
});

describe('remote sources', () => {
  let daemon: ChildProcess | null = null;
  let server: Server | null = null;
  after(() => {
    daemon?.kill('SIGTERM');
    server?.close();
  });

  test('file:// URL: shallow fetch of a tag into a temporary repository', async () => {
    const repo = dir('remote');
    const commit = makePaint(repo);
    const r = await buildFromGit({ source: `file://${repo}`, ref: 'v7', outDir: dir('out') });
    assert.equal(r.source.commit, commit);
    assert.equal(r.source.repository, `file://${repo}`);
    const local = await buildFromGit({ source: repo, ref: 'v7', outDir: dir('out'), sourceUrl: `file://${repo}` });
    assert.ok((await readFile(r.path)).equals(await readFile(local.path)), 'fetched and local builds are identical');
    await assert.rejects(
      buildFromGit({ source: `file://${repo}`, ref: 'v8', outDir: dir('out') }),
      (e: unknown) => e instanceof BuildError && e.code === 'BUILD_REF_NOT_FOUND',
    );
  });

  test('git:// from git daemon on loopback, by tag and by default branch', async () => {
    const base = dir('daemon');
    const repo = join(base, 'paint.git');
    makePaint(repo);
    writeFileSync(join(repo, '.git', 'git-daemon-export-ok'), '');
    const port = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', `--base-path=${base}`, '--export-all', `--port=${port}`, '--listen=127.0.0.1', base], { stdio: 'ignore' });
    const url = `git://127.0.0.1:${port}/paint.git`;
    let r: Awaited<ReturnType<typeof buildFromGit>> | null = null;
    for (let i = 0; i < 50 && !r; i++) {
      r = await buildFromGit({ source: url, ref: 'v7', outDir: dir('out') }).catch(async (e) => {
        if (!(e instanceof BuildError) || e.code !== 'BUILD_GIT_UNREACHABLE') throw e;
        await new Promise((res) => setTimeout(res, 100));
        return null;
      });
    }
    assert.ok(r);
    assert.equal(r.source.tag, 'v7');
    const head = await buildFromGit({ source: url, outDir: dir('out') });
    assert.equal(head.source.tag, null);
    assert.equal(head.source.commit, r.source.commit);
  });

  test('http:// from git http-backend on loopback (smart HTTP, as forges serve): by tag, by branch, shallow', async () => {
    const root = dir('http');
    const repo = join(root, 'paint-activity.git');
    const commit = makePaint(repo);
    const http = await serveGitHttp(root);
    try {
      const url = `${http.base}/paint-activity.git`;
      const r = await buildFromGit({ source: url, ref: 'v7', outDir: dir('out') });
      assert.deepEqual([r.source.repository, r.source.commit, r.source.tag], [url, commit, 'v7']);
      const local = await buildFromGit({ source: repo, ref: 'v7', outDir: dir('out'), sourceUrl: url });
      assert.ok((await readFile(r.path)).equals(await readFile(local.path)), 'fetched over HTTP and local builds are identical');
      const branch = await buildFromGit({ source: url, ref: 'main', outDir: dir('out') });
      assert.deepEqual([branch.source.commit, branch.source.tag], [commit, null]);
      assert.ok(http.requests.some((q) => q.startsWith('GET /paint-activity.git/info/refs?service=git-upload-pack')));
      assert.ok(http.requests.some((q) => q === 'POST /paint-activity.git/git-upload-pack'));
      await assert.rejects(
        buildFromGit({ source: `${http.base}/missing.git`, outDir: dir('out'), limits: { timeoutMs: 20_000 } }),
        (e: unknown) => e instanceof BuildError && e.code === 'BUILD_GIT_UNREACHABLE',
      );
    } finally {
      await http.close();
    }
  });

  test('a server that asks for credentials fails at once with BUILD_GIT_AUTH_REQUIRED', async () => {
    server = createServer((_req, res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="private"' });
      res.end('authentication required\n');
    });
    await new Promise<void>((res) => server!.listen(0, '127.0.0.1', () => res()));
    const port = (server.address() as { port: number }).port;
    await assert.rejects(
      buildFromGit({ source: `http://127.0.0.1:${port}/private.git`, outDir: dir('out'), limits: { timeoutMs: 20_000 } }),
      (e: unknown) => e instanceof BuildError && e.code === 'BUILD_GIT_AUTH_REQUIRED',
    );
  });

  test('a server that never answers is stopped at the time limit with BUILD_GIT_TIMEOUT', async () => {
    const { createServer: createTcpServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createTcpServer((sock) => void sockets.push(sock));
    await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()));
    const port = (silent.address() as { port: number }).port;
    try {
      await assert.rejects(
        buildFromGit({ source: `http://127.0.0.1:${port}/slow.git`, outDir: dir('out'), limits: { timeoutMs: 1500 } }),
        (e: unknown) => e instanceof BuildError && e.code === 'BUILD_GIT_TIMEOUT',
      );
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });

  test('other transports are refused; limits give codes', async () => {
    for (const s of ['ssh://git@example.org/x.git', 'git@example.org:x.git', 'ext::sh -c touch% /tmp/pwned']) {
      await assert.rejects(
        buildFromGit({ source: s, outDir: dir('out') }),
        (e: unknown) => e instanceof BuildError && e.code === 'BUILD_SOURCE_UNSUPPORTED',
        s,
      );
    }
    const repo = dir('big');
    makeRepo(repo, {
      'activity/activity.info': activityInfo({ name: 'Big', bundleId: 'org.example.Big', version: '1' }),
      'data.bin': Buffer.alloc(200_000, 7),
    });
    await assert.rejects(
      buildFromGit({ source: repo, outDir: dir('out'), limits: { maxBytes: 100_000 } }),
      (e: unknown) => e instanceof BuildError && e.code === 'BUILD_GIT_TOO_LARGE',
    );
    await assert.rejects(
      buildFromGit({ source: `file://${repo}`, outDir: dir('out'), limits: { maxBytes: 100_000 } }),
      (e: unknown) => e instanceof BuildError && e.code === 'BUILD_GIT_TOO_LARGE',
    );
    await assert.rejects(
      buildFromGit({ source: join(work, 'no-such-repo'), outDir: dir('out') }),
      (e: unknown) => e instanceof BuildError && e.code === 'BUILD_SOURCE_NOT_FOUND',
    );
  });
});

describe('the command line', () => {
  test('builds into --out and prints the path; --json gives the metadata; usage errors exit 2', async () => {
    const repo = dir('cli');
    makePaint(repo);
    const out = dir('out');
    const r = await runAslo(['build', repo, '--ref', 'v7', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), join(out, 'PaintPro-7.xo'));
    assert.match(r.stderr, /translations: 4 language\(s\)/);
    const j = await runAslo(['build', repo, '--out', out, '--json']);
    assert.equal(j.code, 0, j.stderr);
    const parsed = JSON.parse(j.stdout);
    assert.equal(parsed.bundle_id, 'org.example.PaintPro');
    assert.equal(parsed.source.tag, null);
    assert.equal((await runAslo(['build'])).code, 2);
    const bad = await runAslo(['build', repo, '--ref', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /BUILD_REF_NOT_FOUND/);
    const notOurs = await runAslo(['build', '--verify', join(REPO_ROOT, 'package.json')]);
    assert.equal(notOurs.code, 1);
    assert.match(notOurs.stderr, /BUILD_VERIFY_UNREADABLE/);
  });
});

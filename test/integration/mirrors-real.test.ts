// The download server against real mirrors and real clients: three loopback HTTP mirrors synced
// from the repo tree with real rsync; a new file is served by the origin until verified, then
// redirected; a mirror with stale or corrupted bytes is never chosen for that file; a mirror that
// goes down stops receiving redirects within one health check; shares over 100,000 simulated
// clients follow the weights (chi-square test, fixed seed); a resuming client gets the same
// mirror and is counted once; aria2c downloads through the .meta4 from several mirrors and checks
// the hash; curl follows the redirect and gets the exact bytes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, writeFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { prng, rsync, run, startMirror, type TestMirror } from '../helpers/mirrors.js';
import { createDownloadWorker, type DownloadWorker } from '../../src/downloads/worker.js';
import { MirrorRegistry } from '../../src/mirrors/registry.js';
import { parseIp, v4Text } from '../../src/geo/ip.js';
import { freePort } from '../helpers/ports.js';

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const GB_CLIENT = '81.2.69.142'; // GB in the GeoLite2 data
const US_CLIENT = '8.8.8.8';

/** These tests need real tools: a missing one fails the test (it is never skipped). */
function need(bin: string, pkg: string): void {
  assert.ok(has(bin), `${bin} is not installed: install the Debian package ${pkg} (.ci/run does)`);
}

describe('mirrors: real rsync mirrors, real clients', () => {
  let t: TestApp;
  let worker: DownloadWorker;
  let reg: MirrorRegistry;
  let dir: string;
  const mirrors: TestMirror[] = [];
  const ids: Record<string, number> = {};
  let big: { id: number; repoPath: string; sha256: string; bytes: Buffer };
  let origin: string;

  const fileOf = async (id: number) => {
    const f = await t.ctx.db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return { id, repoPath: f.repo_path!, sha256: f.sha256, bytes: await readFile(t.ctx.files.pathOf(f.storage_key)) };
  };
  const get = (url: string, client: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url, headers: { 'x-forwarded-for': client, ...headers } });
  /** Make every pending check due and run the verifier, then let the index see the result. */
  const verifyNow = async () => {
    await t.ctx.db.updateTable('mirror_files').set({ next_check_at: new Date() }).where('state', '<>', 'verified').execute();
    await worker.checker.sweep();
    await t.app.downloads.index.refreshNow();
  };
  const mirrorOf = (location: string | undefined) => mirrors.findIndex((m) => location?.startsWith(m.url + '/'));

  before(async () => {
    need('rsync', 'rsync');
    // The origin's own URLs (in metalinks) must name this loopback server: clients never resolve names.
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    t = await createTestApp({ env: { ASLO_MIRRORS_VERIFY_BACKOFF_SECONDS: '3600', ASLO_DOWNLOADS_COUNT_FLUSH_SECONDS: '0', ASLO_DOWNLOADS_BASE_URL: origin } });
    await t.app.downloads.geo.load();
    worker = createDownloadWorker(t.ctx);
    reg = new MirrorRegistry(t.ctx);
    dir = await tempDir();
    for (let i = 0; i < 3; i++) mirrors.push(await startMirror(undefined, { bytesPerSecond: 8 * 1024 * 1024, host: `127.0.0.${i + 2}` }));
    // No location: every client is in the "anywhere" bucket, except where a test says otherwise.
    ids.m1 = (
      await reg.add({ name: 'm1', httpUrl: mirrors[0]!.url, weight: 100, country: null, continent: null, asn: null, latitude: null, longitude: null })
    ).id;
    ids.m2 = (
      await reg.add({ name: 'm2', httpUrl: mirrors[1]!.url, weight: 200, country: null, continent: null, asn: null, latitude: null, longitude: null })
    ).id;
    ids.m3 = (
      await reg.add({ name: 'm3', httpUrl: mirrors[2]!.url, weight: 100, country: null, continent: null, asn: null, latitude: null, longitude: null })
    ).id;
    // A file of many pieces (about 6 MB) so that aria2c splits it over several mirrors.
    const path = await buildActivity(dir, {
      bundleId: 'org.test.mirrored',
      name: 'Mirrored',
      version: '1',
      payload: randomBytes(6_000_000).toString('base64'),
    });
    const r = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' });
    assert.equal(r.outcome, 'imported');
    await worker.runner.drain();
    await worker.checker.sweep();
    await t.app.downloads.index.refreshNow();
    big = await fileOf(r.fileId!);
    await t.app.listen({ port, host: '127.0.0.1' });
  });
  after(async () => {
    await t?.cleanup();
    for (const m of mirrors) await m.stop();
    for (const m of mirrors) await rm(m.root, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a new file from the origin until a mirror is verified to hold it, then redirects', async () => {
    const before = await get(`/repo/${big.repoPath}`, US_CLIENT);
    assert.equal(before.statusCode, 200);
    assert.ok(before.rawPayload.equals(big.bytes));
    const rows = await t.ctx.db.selectFrom('mirror_files').selectAll().where('file_id', '=', big.id).execute();
    assert.equal(rows.length, 3);
    assert.ok(
      rows.every((r) => r.state === 'pending' && /404/.test(r.last_error ?? '')),
      JSON.stringify(rows),
    );

    await rsync(t.config.storage.repoDir, mirrors[0]!.root);
    await rsync(t.config.storage.repoDir, mirrors[1]!.root);
    // m3 gets the tree too, then its copy of the file goes bad (same size, other bytes).
    await rsync(t.config.storage.repoDir, mirrors[2]!.root);
    const fh = await open(join(mirrors[2]!.root, big.repoPath), 'r+');
    for (let p = 0; p * 262144 < big.bytes.length; p++) await fh.write(Buffer.from('corrupted!'), 0, 10, p * 262144 + 100);
    await fh.close();
    await verifyNow();
    const states = Object.fromEntries(
      (await t.ctx.db.selectFrom('mirror_files').select(['mirror_id', 'state', 'last_error']).where('file_id', '=', big.id).execute()).map((r) => [
        r.mirror_id,
        r,
      ]),
    );
    assert.equal(states[ids.m1!]!.state, 'verified');
    assert.equal(states[ids.m2!]!.state, 'verified');
    assert.equal(states[ids.m3!]!.state, 'failed');
    assert.match(states[ids.m3!]!.last_error!, /other bytes/);

    const res = await get(`/repo/${big.repoPath}`, US_CLIENT);
    assert.equal(res.statusCode, 302);
    assert.ok(mirrorOf(res.headers.location as string) in { 0: 1, 1: 1 }, String(res.headers.location));
    const b64 = Buffer.from(big.sha256, 'hex').toString('base64');
    assert.equal(res.headers['repr-digest'], `sha-256=:${b64}:`);
    assert.equal(res.headers['digest'], `SHA-256=${b64}`);
    const links = ([] as string[]).concat(res.headers.link as string | string[]).join(', ');
    assert.match(links, /rel=duplicate; pri=1/);
    assert.match(links, /rel=duplicate; pri=2/);
    assert.ok(links.includes(`<${origin}/repo/${big.repoPath}.meta4>; rel=describedby; type="application/metalink4+xml"`));
    // The app's own download URL redirects the same way.
    assert.equal((await get(`/downloads/file/${big.id}/x.xo`, US_CLIENT)).statusCode, 302);
  });

  it('never sends anyone to the mirror with corrupted bytes', async () => {
    const rand = prng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 300; i++) {
      const ip = v4Text(Math.floor(rand() * 0xdfffffff) + 0x01000000);
      const res = await get(`/repo/${big.repoPath}`, ip);
      assert.equal(res.statusCode, 302);
      seen.add(mirrorOf(res.headers.location as string));
    }
    assert.deepEqual([...seen].sort(), [0, 1]);
  });

  it('a client resuming a download gets the same mirror, and is counted once', async () => {
    const first = await get(`/repo/${big.repoPath}`, GB_CLIENT);
    for (let i = 0; i < 5; i++) {
      const again = await get(`/repo/${big.repoPath}`, GB_CLIENT, { range: `bytes=${100_000 * (i + 1)}-` });
      assert.equal(again.headers.location, first.headers.location);
    }
    // Another address of the same /24 network: the same mirror too.
    const neighbour = await get(`/repo/${big.repoPath}`, '81.2.69.7', { range: 'bytes=5-' });
    assert.equal(neighbour.headers.location, first.headers.location);
    await t.app.downloads.counter.flush();
    const m = mirrorOf(first.headers.location as string);
    const mirrorId = m === 0 ? ids.m1 : ids.m2;
    const counts = await t.ctx.db.selectFrom('download_counts').selectAll().where('file_id', '=', big.id).execute();
    const total = counts.reduce((n, c) => n + Number(c.count), 0);
    // Earlier tests: 1 origin download + 2 redirects + 300 redirects; this test: 1 new download.
    assert.equal(total, 1 + 2 + 300 + 1);
    assert.equal(counts.find((c) => c.mirror_id === 0)?.count, 1);
    assert.ok(counts.some((c) => c.mirror_id === mirrorId));
    assert.ok(!counts.some((c) => c.mirror_id === ids.m3));
  });

  it('prefers the closest bucket: same prefix, then same country', async () => {
    await reg.edit('m1', { prefixes: ['203.0.113.0/24'] });
    await reg.edit('m2', { country: 'GB' });
    await t.app.downloads.index.refreshNow();
    for (let i = 0; i < 10; i++) {
      assert.equal(mirrorOf((await get(`/repo/${big.repoPath}`, `203.0.113.${i + 1}`)).headers.location as string), 0);
    }
    assert.equal(mirrorOf((await get(`/repo/${big.repoPath}`, GB_CLIENT)).headers.location as string), 1);
    // Restricted to its country: a US client is never sent there.
    await reg.edit('m2', { countryOnly: true });
    await t.app.downloads.index.refreshNow();
    for (let i = 0; i < 20; i++) assert.equal(mirrorOf((await get(`/repo/${big.repoPath}`, `8.8.${i}.8`)).headers.location as string), 0);
    await reg.edit('m2', { countryOnly: false, country: null, continent: null });
    await reg.edit('m1', { prefixes: [] });
    await t.app.downloads.index.refreshNow();
  });

  it('the mirror list explains every choice; admins see the excluded mirrors', async () => {
    const page = await get(`/repo/${big.repoPath}.mirrorlist`, US_CLIENT);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(big.sha256));
    assert.match(page.body, /m1|m2/);
    assert.doesNotMatch(page.body, /Excluded mirrors/);
    const forbidden = await get(`/repo/${big.repoPath}.mirrorlist?fromip=1.2.3.4`, US_CLIENT);
    assert.equal(forbidden.statusCode, 403);
  });

  it('aria2c downloads through the .meta4 from several mirrors and checks the hash', async () => {
    need('aria2c', 'aria2');
    for (const m of mirrors) m.requests.length = 0;
    const out = await tempDir('aslo-aria2-');
    const r = await run(
      'aria2c',
      [
        '--no-conf',
        '--dir',
        out,
        '--split=3',
        '--min-split-size=1M',
        '--max-connection-per-server=1',
        '--uri-selector=inorder',
        '--allow-overwrite=true',
        '--check-integrity=true',
        '--summary-interval=0',
        '--console-log-level=warn',
        '--header',
        `X-Forwarded-For: ${US_CLIENT}`,
        `${origin}/repo/${big.repoPath}.meta4`,
      ],
      120_000,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const name = big.repoPath.split('/')[1]!;
    const got = await readFile(join(out, name));
    assert.equal(createHash('sha256').update(got).digest('hex'), big.sha256);
    const used = mirrors.map((m) => m.requests.filter((q) => q.method === 'GET' && q.path.endsWith(name)).length);
    assert.ok(used[0]! > 0 && used[1]! > 0, `requests per mirror: ${used.join(', ')} ${r.stdout} ${JSON.stringify(mirrors.map((m) => m.requests))}`);
    assert.equal(used[2], 0, 'the mirror with corrupted bytes is not in the metalink');
    await rm(out, { recursive: true, force: true });
  });

  it('curl follows the redirect and gets the exact bytes', async () => {
    need('curl', 'curl');
    const out = join(await tempDir('aslo-curl-'), 'f.xo');
    const r = await run('curl', [
      '-sS',
      '-L',
      '-o',
      out,
      '-w',
      '%{url_effective} %{http_code}',
      '-H',
      `X-Forwarded-For: ${US_CLIENT}`,
      `${origin}/repo/${big.repoPath}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      mirrors.slice(0, 2).some((m) => r.stdout.startsWith(m.url)),
      r.stdout,
    );
    assert.ok((await readFile(out)).equals(big.bytes));
  });

  it('a mirror that goes down stops receiving redirects within one health check, and comes back', async () => {
    await mirrors[0]!.stop();
    await worker.checker.healthRound();
    await t.app.downloads.index.refreshNow();
    const m1 = await reg.get('m1');
    assert.equal(m1.http_ok, false);
    const rand = prng(11);
    for (let i = 0; i < 100; i++) {
      const res = await get(`/repo/${big.repoPath}`, v4Text(Math.floor(rand() * 0xdfffffff) + 0x01000000));
      assert.equal(mirrorOf(res.headers.location as string), 1);
    }
    // Both good mirrors down: the origin serves, never a 5xx.
    await mirrors[1]!.stop();
    await worker.checker.healthRound();
    await t.app.downloads.index.refreshNow();
    const res = await get(`/repo/${big.repoPath}`, US_CLIENT);
    assert.equal(res.statusCode, 200);
    assert.ok(res.rawPayload.equals(big.bytes));
    await mirrors[0]!.start();
    await mirrors[1]!.start();
    await worker.checker.healthRound();
    await t.app.downloads.index.refreshNow();
    assert.equal((await get(`/repo/${big.repoPath}`, US_CLIENT)).statusCode, 302);
  });

  it('a verified mirror caught with a wrong size loses the file and gets its other files rechecked', async () => {
    const original = await readFile(join(mirrors[1]!.root, big.repoPath));
    await writeFile(join(mirrors[1]!.root, big.repoPath), original.subarray(0, original.length - 1));
    await worker.checker.healthRound(); // picks a random verified file: the only one
    const row = await t.ctx.db.selectFrom('mirror_files').selectAll().where('mirror_id', '=', ids.m2!).where('file_id', '=', big.id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'failed');
    await t.app.downloads.index.refreshNow();
    for (let i = 0; i < 20; i++) assert.equal(mirrorOf((await get(`/repo/${big.repoPath}`, `8.8.${i}.1`)).headers.location as string), 0);
    // Fixed by the next rsync: verified again on its next check.
    await rsync(t.config.storage.repoDir, mirrors[1]!.root, { checksum: true });
    await verifyNow();
    assert.equal(
      (await t.ctx.db.selectFrom('mirror_files').select('state').where('mirror_id', '=', ids.m2!).where('file_id', '=', big.id).executeTakeFirstOrThrow())
        .state,
      'verified',
    );
  });

  it('shares over 100,000 simulated clients follow the weights (chi-square, fixed seed)', async () => {
    // All three mirrors good for this test: m3 gets the right bytes back.
    await rsync(t.config.storage.repoDir, mirrors[2]!.root, { checksum: true });
    await verifyNow();
    await worker.checker.healthRound(); // m2 answered a wrong size last round: up again now
    // MirrorBrain's example: scores 100/200/10 gave it 25/73/2 % instead of 32/65/3 %.
    await reg.edit('m1', { weight: 100 });
    await reg.edit('m2', { weight: 200 });
    await reg.edit('m3', { weight: 10 });
    await t.app.downloads.index.refreshNow();
    const file = t.app.downloads.index.byId.get(big.id)!;
    const weights = [100, 200, 10];
    const counts = [0, 0, 0];
    const rand = prng(20260601);
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const ip = parseIp(v4Text(Math.floor(rand() * 0xffffffff) >>> 0))!;
      const d = t.app.downloads.decide(file, ip, 'http', { limit: 1 });
      assert.equal(d.kind, 'redirect');
      counts[[ids.m1, ids.m2, ids.m3].indexOf(d.ranked[0]!.mirror.id)]!++;
    }
    const total = weights.reduce((a, b) => a + b, 0);
    const chi2 = counts.reduce((s, c, i) => {
      const e = (N * weights[i]!) / total;
      return s + (c - e) ** 2 / e;
    }, 0);
    // 2 degrees of freedom: P(chi2 > 13.816) = 0.001.
    assert.ok(
      chi2 < 13.816,
      `chi-square ${chi2.toFixed(2)} for counts ${counts.join('/')} (expected ${weights.map((w) => ((N * w) / total).toFixed(0)).join('/')}) ${JSON.stringify(await t.ctx.db.selectFrom('mirror_files').selectAll().execute())} ${JSON.stringify([...t.app.downloads.index.mirrors.values()].map((m) => [m.name, m.httpOk, m.weight]))}`,
    );
  });
  it('a mirror found without a file it was verified to hold gets no clients until its files are checked again', async () => {
    const state = async (mirror: number) =>
      await t.ctx.db
        .selectFrom('mirror_files')
        .select(['state', 'last_error'])
        .where('mirror_id', '=', mirror)
        .where('file_id', '=', big.id)
        .executeTakeFirstOrThrow();
    await rm(join(mirrors[0]!.root, big.repoPath));
    await worker.checker.healthRound(); // samples its verified files: the one it holds
    assert.equal((await state(ids.m1!)).state, 'failed');
    const m1 = await reg.get('m1');
    assert.equal(m1.http_ok, false);
    assert.match(m1.http_error ?? '', /re-verifying/);
    await t.app.downloads.index.idle();
    for (let i = 0; i < 30; i++) assert.notEqual(mirrorOf((await get(`/repo/${big.repoPath}`, `8.8.${i}.3`)).headers.location as string), 0);
    // The next sync brings it back; verified again, then up at the next round.
    await rsync(t.config.storage.repoDir, mirrors[0]!.root);
    await verifyNow();
    assert.equal((await state(ids.m1!)).state, 'verified');
    await worker.checker.healthRound();
    assert.equal((await reg.get('m1')).http_ok, true);
  });

  it('a new file is checked on a mirror as soon as its TRACE shows it synced, not at the next backoff step', async () => {
    await worker.checker.healthRound(); // every mirror's current TRACE is known
    const path = await buildActivity(dir, { bundleId: 'org.test.mirrored.late', name: 'Late', version: '1', payload: randomBytes(20_000).toString('base64') });
    const r = await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' });
    await worker.runner.drain(); // published, checked at once everywhere: not there yet
    await worker.checker.sweep();
    const row = async () =>
      t.ctx.db.selectFrom('mirror_files').selectAll().where('mirror_id', '=', ids.m1!).where('file_id', '=', r.fileId!).executeTakeFirstOrThrow();
    assert.equal((await row()).state, 'pending');
    assert.ok(new Date((await row()).next_check_at!).getTime() > Date.now() + 3000_000, 'next try an hour later (backoff of this test)');
    await rsync(t.config.storage.repoDir, mirrors[0]!.root); // writes a new TRACE
    await worker.checker.healthRound();
    await worker.checker.sweep();
    assert.equal((await row()).state, 'verified');
    await t.app.downloads.index.idle();
    const res = await get(`/repo/${(await fileOf(r.fileId!)).repoPath}`, US_CLIENT);
    assert.equal(res.statusCode, 302);
    assert.equal(mirrorOf(res.headers.location as string), 0);
  });
});

// The legacy update endpoints (/services/update-aslo.php, /services/update.php), read the way
// Sugar reads them, for every branch of the protocol and across Sugar 0.82..0.122.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { compareSugarVersions } from '../../src/bundles/index.js';
import { createTestApp, type TestApp } from '../helpers/env.js';
import { buildActivity, tempDir } from '../helpers/activities.js';
import { readRdfLikeSugar } from '../helpers/updates-client.js';
import { SUGAR_APP_GUID as SUGAR_GUID } from '../../src/updates/rdf.js';
import { publishFile } from '../../src/downloads/repo.js';

// Every Sugar series the updater has met, as clients send them (even-rounded), plus odd ones
// (clients that did not round) and a few off-table values.
const SUGARS: string[] = [];
for (let minor = 82; minor <= 122; minor += 2) SUGARS.push(`0.${minor}`);
SUGARS.push('0.99', '0.113', '0.115', '0.117', '0.121', '0.80', '1.0', '0.124');

// Default runtime ranges (config defaults): python2 0.82-0.116, python3 0.116-, web 0.100-.
const RUNTIME_RANGE = { python2: ['0.82', '0.116'], python3: ['0.116', null], web: ['0.100', null] } as const;
const EXEC = { python2: 'sugar-activity act.Act', python3: 'sugar-activity3 act.Act', web: 'sugar-activity-web' } as const;

interface FixtureVersion {
  version: string;
  runtime: keyof typeof EXEC;
  min?: string;
  max?: string;
  notes?: string;
  status?: 'public' | 'pending';
}
interface Fixture {
  bundleId: string;
  name: string;
  versions: FixtureVersion[];
}

const FIXTURES: Fixture[] = [
  {
    bundleId: 'org.test.PyTwo',
    name: 'Py Two',
    versions: [
      { version: '5', runtime: 'python2' },
      { version: '6', runtime: 'python2', notes: 'Faster & smaller <b>beads</b>.' },
    ],
  },
  {
    bundleId: 'org.test.PyThree',
    name: 'Py Three',
    versions: [
      { version: '7', runtime: 'python3' },
      { version: '8', runtime: 'python3' },
    ],
  },
  // A port: Python 2 up to 10, Python 3 from 11. Old Sugars must keep getting 10.
  {
    bundleId: 'org.test.Ported',
    name: 'Ported',
    versions: [
      { version: '9', runtime: 'python2' },
      { version: '10', runtime: 'python2' },
      { version: '11', runtime: 'python3' },
    ],
  },
  // Version strings Sugar orders differently from floats and strings.
  {
    bundleId: 'org.test.Strings',
    name: 'Strings',
    versions: [
      { version: '1.9', runtime: 'python2', min: '0.82', max: '0.98' },
      { version: '1.10', runtime: 'python2', min: '0.82', max: '0.98' },
      { version: '1.10.1-peru', runtime: 'python2', min: '0.100', max: '0.110' },
      { version: '2~dfsg', runtime: 'python2', min: '0.112' },
      { version: '10', runtime: 'python3', min: '0.82' },
    ],
  },
  // Uploader ranges narrower than the runtime's.
  {
    bundleId: 'org.test.Narrow',
    name: 'Narrow',
    versions: [
      { version: '3', runtime: 'python2', min: '0.96', max: '0.104' },
      { version: '4', runtime: 'python2', min: '0.106', max: '0.110' },
    ],
  },
  {
    bundleId: 'org.test.Web',
    name: 'Web One',
    versions: [
      { version: '1.0', runtime: 'web' },
      { version: '2', runtime: 'web', min: '0.110' },
    ],
  },
  // A public activity whose newest version waits for review (pending): only experimental sees it.
  {
    bundleId: 'org.test.Pending',
    name: 'Pending',
    versions: [
      { version: '1', runtime: 'python3' },
      { version: '2', runtime: 'python3', status: 'pending' },
    ],
  },
];

function keyMax(a: string | null, b: string | null, dir: 1 | -1): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareSugarVersions(a, b) * dir >= 0 ? a : b;
}

/** The oracle: the range a version must be served with (uploader's within the runtime's). */
function effective(v: FixtureVersion): [string | null, string | null] {
  const [rmin, rmax] = RUNTIME_RANGE[v.runtime];
  if (v.min === undefined && v.max === undefined) return [rmin, rmax];
  return [keyMax(v.min ?? null, rmin, 1), keyMax(v.max ?? null, rmax, -1)];
}

function expected(f: Fixture, sugar: string | null, experimental = false): FixtureVersion | null {
  const candidates = f.versions
    .filter((v) => experimental || (v.status ?? 'public') === 'public')
    .filter((v) => {
      if (sugar === null) return true;
      const [min, max] = effective(v);
      if (min !== null && max !== null && compareSugarVersions(min, max) > 0) return false;
      return (min === null || compareSugarVersions(min, sugar) <= 0) && (max === null || compareSugarVersions(sugar, max) <= 0);
    })
    .sort((a, b) => compareSugarVersions(b.version, a.version));
  return candidates[0] ?? null;
}

describe('legacy update RDF', () => {
  let t: TestApp;
  const files = new Map<string, { size: number; sha256: string }>();

  before(async () => {
    t = await createTestApp();
    const dir = await tempDir();
    for (const f of FIXTURES) {
      for (const v of f.versions) {
        const path = await buildActivity(dir, {
          bundleId: f.bundleId,
          name: f.name,
          version: v.version,
          exec: EXEC[v.runtime],
          payload: `${f.bundleId} ${v.version}`,
        });
        const res = await t.app.services.catalog.ingest.ingestPath(path, {
          status: v.status === 'pending' ? undefined : 'public',
          sugarMin: v.min ?? null,
          sugarMax: v.max ?? null,
          releaseNotes: v.notes ?? null,
        });
        assert.equal(res.outcome, 'imported', `${f.bundleId} ${v.version}: ${JSON.stringify(res.errors)}`);
        if (v.status === 'pending') assert.equal(res.fileStatus, 'pending');
        const bytes = await readFile(path);
        files.set(`${f.bundleId} ${v.version}`, { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      }
    }
    await t.app.services.updates.settled();
  });
  after(async () => {
    await t?.cleanup();
  });

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  for (const f of FIXTURES) {
    it(`${f.bundleId}: the newest compatible version for every Sugar from 0.82 to 0.122`, async () => {
      for (const sugar of SUGARS) {
        const res = await get(`/services/update-aslo.php?id=${f.bundleId}&appVersion=${sugar}`);
        assert.equal(res.statusCode, 200);
        const r = readRdfLikeSugar(res.body);
        const want = expected(f, sugar);
        if (!want) {
          assert.equal(r.update, false, `${f.bundleId} @ ${sugar}: expected no update, got ${r.version}`);
          continue;
        }
        assert.equal(r.update, true, `${f.bundleId} @ ${sugar}: expected ${want.version}`);
        assert.equal(r.version, want.version, `${f.bundleId} @ ${sugar}`);
        const file = files.get(`${f.bundleId} ${want.version}`)!;
        assert.equal(r.sizeKiB, Math.ceil(file.size / 1024), 'size in KiB, rounded up');
        assert.ok(r.size! >= file.size && r.size! - file.size < 1024);
        assert.equal(r.hash, `sha256:${file.sha256}`);
        assert.equal(r.appId, SUGAR_GUID);
        const [min, max] = effective(want);
        assert.equal(r.minVersion, min ?? '0.82');
        assert.equal(r.maxVersion, max ?? '*');
        assert.match(new URL(r.link!).pathname, /\.xo$/, 'the last path segment ends in .xo');
        assert.equal(r.infoUrl !== null, Boolean(want.notes), 'updateInfoURL only with release notes');
      }
    });
  }

  it('never offers a Python 3 version to a Python-2-only Sugar, nor a Python 2 one to a Python-3-only Sugar', async () => {
    for (const sugar of SUGARS) {
      for (const f of FIXTURES) {
        const r = readRdfLikeSugar((await get(`/services/update-aslo.php?id=${f.bundleId}&appVersion=${sugar}`)).body);
        if (!r.update) continue;
        const v = f.versions.find((x) => x.version === r.version)!;
        if (v.runtime === 'python3') assert.ok(compareSugarVersions(sugar, '0.116') >= 0, `${f.bundleId} ${v.version} (Python 3) offered to ${sugar}`);
        if (v.runtime === 'python2') assert.ok(compareSugarVersions(sugar, '0.116') <= 0, `${f.bundleId} ${v.version} (Python 2) offered to ${sugar}`);
      }
    }
  });

  it('without appVersion: the newest public version', async () => {
    for (const f of FIXTURES) {
      const r = readRdfLikeSugar((await get(`/services/update-aslo.php?id=${f.bundleId}`)).body);
      assert.equal(r.version, expected(f, null)!.version, f.bundleId);
    }
  });

  it('experimental=1 also offers versions waiting for review, with a download URL that works', async () => {
    const f = FIXTURES.find((x) => x.bundleId === 'org.test.Pending')!;
    const normal = readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Pending&appVersion=0.118')).body);
    assert.equal(normal.version, '1');
    const exp = readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Pending&appVersion=0.118&experimental=1')).body);
    assert.equal(exp.version, expected(f, '0.118', true)!.version);
    assert.equal(exp.version, '2');
    const dl = await t.app.inject({ method: 'GET', url: new URL(exp.link!).pathname });
    assert.equal(dl.statusCode, 200);
    assert.equal(createHash('sha256').update(dl.rawPayload).digest('hex'), files.get('org.test.Pending 2')!.sha256);
    const head = await t.app.inject({ method: 'HEAD', url: new URL(exp.link!).pathname });
    assert.equal(head.statusCode, 200);
    assert.equal(Number(head.headers['content-length']), files.get('org.test.Pending 2')!.size);
    const ranged = await t.app.inject({ method: 'GET', url: new URL(exp.link!).pathname, headers: { range: 'bytes=0-9' } });
    assert.equal(ranged.statusCode, 206);
    assert.equal(ranged.rawPayload.length, 10);
    // experimental=0 is the normal answer.
    const zero = readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Pending&appVersion=0.118&experimental=0')).body);
    assert.equal(zero.version, '1');
  });

  it('every updateLink and updateInfoURL answers (no URL that would 404)', async () => {
    for (const f of FIXTURES) {
      for (const sugar of ['0.86', '0.100', '0.116', '0.122']) {
        const r = readRdfLikeSugar((await get(`/services/update-aslo.php?id=${f.bundleId}&appVersion=${sugar}`)).body);
        if (!r.update) continue;
        const u = new URL(r.link!);
        assert.equal(u.origin, 'http://store.test');
        const dl = await t.app.inject({ method: 'HEAD', url: u.pathname });
        assert.equal(dl.statusCode, 200, r.link);
        assert.equal(Number(dl.headers['content-length']), files.get(`${f.bundleId} ${r.version}`)!.size);
        if (r.infoUrl) {
          const info = await t.app.inject({ method: 'GET', url: new URL(r.infoUrl).pathname });
          assert.equal(info.statusCode, 200);
          assert.match(info.body, /Faster &amp; smaller &lt;b&gt;beads&lt;\/b&gt;\./);
        }
      }
    }
  });

  it('the response: headers, no surrounding whitespace, ETag and 304, HEAD', async () => {
    const res = await get('/services/update-aslo.php?id=org.test.PyThree&appVersion=0.118');
    assert.equal(res.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'public, max-age=3600');
    const etag = res.headers.etag as string;
    assert.match(etag, /^"[^"]+"$/);
    assert.equal(Number(res.headers['content-length']), Buffer.byteLength(res.body));
    assert.ok(res.body.startsWith('<?xml'), 'no whitespace before the XML declaration');
    const again = await get('/services/update-aslo.php?id=org.test.PyThree&appVersion=0.118', { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const weak = await get('/services/update-aslo.php?id=org.test.PyThree&appVersion=0.118', { 'if-none-match': `"x", W/${etag}` });
    assert.equal(weak.statusCode, 304);
    const other = await get('/services/update-aslo.php?id=org.test.PyThree&appVersion=0.100', { 'if-none-match': etag });
    assert.equal(other.statusCode, 200);
    const head = await t.app.inject({ method: 'HEAD', url: '/services/update-aslo.php?id=org.test.PyThree&appVersion=0.118' });
    assert.equal(head.statusCode, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers.etag, etag);
    assert.equal(head.headers['content-type'], 'text/xml; charset=utf-8');
  });

  it('update.php answers exactly like update-aslo.php', async () => {
    for (const q of ['id=org.test.Ported&appVersion=0.110', 'id=org.test.Ported&appVersion=0.118', 'id=nope', '']) {
      const a = await get(`/services/update-aslo.php?${q}`);
      const b = await get(`/services/update.php?${q}`);
      assert.equal(b.statusCode, 200);
      assert.equal(b.body, a.body);
      assert.equal(b.headers.etag, a.headers.etag);
    }
  });

  it('unknown ids, nothing compatible and bad input of any kind: 200 with an empty RDF root', async () => {
    const cases = [
      '/services/update-aslo.php',
      '/services/update-aslo.php?',
      '/services/update-aslo.php?id=',
      '/services/update-aslo.php?id=org.test.Unknown&appVersion=0.118',
      '/services/update-aslo.php?id=org.test.PyTwo&appVersion=0.118',
      '/services/update-aslo.php?id=org.test.PyThree&appVersion=0.82',
      '/services/update-aslo.php?id=org.test.PyThree&appVersion=abc',
      '/services/update-aslo.php?id=org.test.PyThree&appVersion=0.118.',
      '/services/update-aslo.php?id=org.test.PyThree&appVersion=0.0118',
      `/services/update-aslo.php?id=org.test.PyThree&appVersion=${'9'.repeat(500)}`,
      '/services/update-aslo.php?id=<script>&appVersion=0.118',
      `/services/update-aslo.php?id=${'x'.repeat(5000)}`,
      '/services/update-aslo.php?appVersion=0.118',
      '/services/update-aslo.php?id[]=org.test.PyThree',
    ];
    for (const url of cases) {
      const res = await get(url);
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/xml; charset=utf-8', url);
      const r = readRdfLikeSugar(res.body);
      assert.equal(r.update, false, url);
    }
    // A NUL byte or bytes that are not UTF-8 are refused like anywhere else in the store (no
    // Sugar sends them): 400 with the request guard's code.
    for (const [url, code] of [
      ['/services/update-aslo.php?id=org.test.PyThree%00', 'REQUEST_NUL_BYTE'],
      ['/services/update-aslo.php?id=%E0%A4%A&appVersion=%ZZ', 'REQUEST_BAD_ENCODING'],
    ]) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.code, code, url);
    }
  });

  it('ignores unknown parameters and reads ids as sent (unencoded, or %-encoded)', async () => {
    const plain = readRdfLikeSugar(
      (
        await get(
          '/services/update-aslo.php?reqVersion=1&id=org.test.PyThree&version=7&maxAppVersion=0.118&appID={3ca105e0-2280-4897-99a0-c277d1b733d2}&appVersion=0.118&appOS=Linux',
        )
      ).body,
    );
    assert.equal(plain.version, '8');
    const encoded = readRdfLikeSugar((await get('/services/update-aslo.php?id=org%2Etest%2EPyThree&appVersion=0%2E118')).body);
    assert.equal(encoded.version, '8');
    const first = readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.PyThree&id=org.test.PyTwo&appVersion=0.118')).body);
    assert.equal(first.version, '8', 'the first id wins');
  });

  it('once a file is published in the repo tree, the link names its tree path, and it answers', async () => {
    const f = await t.ctx.db
      .selectFrom('files as f')
      .innerJoin('versions as v', 'v.id', 'f.version_id')
      .innerJoin('activities as a', 'a.id', 'v.activity_id')
      .select(['f.id', 'v.activity_id', 'f.file_name'])
      .where('a.bundle_id', '=', 'org.test.Ported')
      .where('v.version', '=', '11')
      .executeTakeFirstOrThrow();
    const res = await publishFile(t.ctx, f.id);
    assert.ok(res.repoPath, JSON.stringify(res));
    await t.app.services.updates.settled();
    const r = readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Ported&appVersion=0.118')).body);
    assert.equal(r.version, '11');
    assert.equal(r.link, `http://store.test/repo/${f.activity_id}/${encodeURIComponent(f.file_name)}`);
    assert.match(new URL(r.link!).pathname, /\.xo$/);
    const head = await t.app.inject({ method: 'HEAD', url: new URL(r.link!).pathname });
    assert.ok(head.statusCode === 200 || head.statusCode === 302, `HEAD ${r.link}: ${head.statusCode}`);
    if (head.statusCode === 200) assert.equal(Number(head.headers['content-length']), files.get('org.test.Ported 11')!.size);
    // Older Sugars still get the Python 2 version (app download URL or, once published, its tree path).
    assert.match(
      readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Ported&appVersion=0.110')).body).link!,
      /\/(downloads\/file|repo)\/\d+\/.+\.xo$/,
    );
  });

  it('a disabled activity and a withdrawn file disappear from the answers', async () => {
    const db = t.ctx.db;
    const web = await db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.Web').executeTakeFirstOrThrow();
    await db.updateTable('activities').set({ status: 'disabled' }).where('id', '=', web.id).execute();
    await t.app.services.updates.changed([web.id]);
    await t.app.services.updates.settled();
    assert.equal(readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Web&appVersion=0.118')).body).update, false);
    assert.equal(readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.Web&appVersion=0.118&experimental=1')).body).update, false);

    const py3 = await db.selectFrom('activities').select('id').where('bundle_id', '=', 'org.test.PyThree').executeTakeFirstOrThrow();
    const v8 = await db.selectFrom('versions').select('id').where('activity_id', '=', py3.id).where('version', '=', '8').executeTakeFirstOrThrow();
    await db.updateTable('files').set({ status: 'disabled' }).where('version_id', '=', v8.id).execute();
    await t.app.services.updates.changed([py3.id]);
    await t.app.services.updates.settled();
    assert.equal(readRdfLikeSugar((await get('/services/update-aslo.php?id=org.test.PyThree&appVersion=0.118')).body).version, '7');
  });
});

describe('the fast path over real HTTP', () => {
  let t: TestApp;
  let base: string;
  before(async () => {
    t = await createTestApp();
    const dir = await tempDir();
    const path = await buildActivity(dir, { bundleId: 'org.test.Fast', name: 'Fast', version: '3', exec: EXEC.python3 });
    assert.equal((await t.app.services.catalog.ingest.ingestPath(path, { status: 'public' })).outcome, 'imported');
    await t.app.services.updates.settled();
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    await t?.cleanup();
  });

  it('answers byte for byte what the Fastify route answers, GET and HEAD, and 304', async () => {
    // Refused the same way whichever way the request arrives.
    for (const q of ['id=%E0%A4%A', 'id=x%00']) {
      const viaHttp = await fetch(`${base}/services/update-aslo.php?${q}`);
      const viaInject = await t.app.inject({ url: `/services/update-aslo.php?${q}` });
      assert.equal(viaHttp.status, 400, q);
      assert.equal(viaInject.statusCode, 400, q);
      assert.equal(await viaHttp.text(), viaInject.body, q);
    }
    for (const q of ['id=org.test.Fast&appVersion=0.118', 'id=org.test.Fast&appVersion=0.110', 'id=unknown']) {
      for (const path of ['/services/update-aslo.php', '/services/update.php']) {
        const viaHttp = await fetch(`${base}${path}?${q}`);
        const viaInject = await t.app.inject({ url: `${path}?${q}` });
        assert.equal(viaHttp.status, 200);
        const body = await viaHttp.text();
        assert.equal(body, viaInject.body);
        assert.equal(viaHttp.headers.get('etag'), viaInject.headers.etag);
        assert.equal(viaHttp.headers.get('content-type'), 'text/xml; charset=utf-8');
        assert.equal(viaHttp.headers.get('cache-control'), 'public, max-age=3600');
        const head = await fetch(`${base}${path}?${q}`, { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(await head.text(), '');
        assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(body)));
        const cached = await fetch(`${base}${path}?${q}`, { headers: { 'if-none-match': viaHttp.headers.get('etag')! } });
        assert.equal(cached.status, 304);
      }
    }
    const r = readRdfLikeSugar(await (await fetch(`${base}/services/update-aslo.php?id=org.test.Fast&appVersion=0.118`)).text());
    assert.equal(r.version, '3');
    const dl = await fetch(r.link!.replace('http://store.test', base));
    assert.equal(dl.status, 200);
    // Everything else still goes through Fastify.
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/services/update-aslo.php/extra`)).status, 404);
  });
});

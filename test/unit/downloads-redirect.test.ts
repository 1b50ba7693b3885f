// The redirector without a database: a file's entry and plan in the download index
// (src/downloads/file-index.ts) and the fast redirect built from them (src/downloads/redirect.ts),
// which must answer exactly as rankMirrors() ranks (src/mirrors/select.ts), with RFC 6249 Link
// headers (rel=duplicate; pri=N; geo=cc), the describedby metalink and the digests.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import type { AsloConfig } from '../../src/platform/config.js';
import type { GeoInfo, GeoService } from '../../src/geo/index.js';
import { networkHash, parseCidr, parseIp, ProxyList, type ParsedIp } from '../../src/geo/ip.js';
import type { MirrorInfo } from '../../src/mirrors/model.js';
import { rankMirrors } from '../../src/mirrors/select.js';
import { indexedFileOf, MirrorSlots, planOf, type DownloadIndex, type FileRow, type IndexedFile } from '../../src/downloads/file-index.js';
import { FastRedirector } from '../../src/downloads/redirect.js';
import type { DownloadCounter } from '../../src/downloads/counter.js';

const config = {
  downloads: { baseUrl: 'http://dl.test', originThresholdBytes: 4096, linkAlternatives: 2, linkHeaderMaxBytes: 1024 },
} as unknown as AsloConfig;

function mirror(id: number, o: Partial<MirrorInfo> = {}): MirrorInfo {
  return {
    id,
    name: `m${id}`,
    httpUrl: `http://m${id}.example/s`,
    httpsUrl: `https://m${id}.example/s`,
    country: null,
    continent: null,
    asn: null,
    prefixes: [],
    latitude: null,
    longitude: null,
    weight: 100,
    countryOnly: false,
    continentOnly: false,
    asOnly: false,
    maxFileSize: null,
    enabled: true,
    httpOk: true,
    httpsOk: true,
    httpError: null,
    httpsError: null,
    ...o,
  };
}

const SHA = createHash('sha256').update('bytes').digest('hex');

function row(o: Partial<FileRow> = {}): FileRow {
  return {
    id: 7,
    size: 100_000,
    sha256: SHA,
    sha1: null,
    md5: null,
    file_name: 'Chat-86.xo',
    repo_path: 'org.laptop.Chat/Chat 86.xo',
    storage_key: 'k',
    created_at: new Date('2026-01-01T00:00:00Z'),
    published_at: new Date('2026-01-02T00:00:00Z'),
    piece_length: 262144,
    piece_hashes: new Uint8Array(32),
    status: 'public',
    activity_status: 'public',
    activity_id: 3,
    ...o,
  };
}

describe('the download index entry of a file', () => {
  it('holds only public files of public activities that are published in the repo tree', () => {
    assert.ok(indexedFileOf(row(), config));
    assert.equal(indexedFileOf(row({ status: 'sandbox' }), config), null);
    assert.equal(indexedFileOf(row({ activity_status: 'disabled' }), config), null);
    assert.equal(indexedFileOf(row({ repo_path: null }), config), null);
    assert.equal(indexedFileOf(row({ published_at: null }), config), null);
  });

  it('precomputes the request path and the header values', () => {
    const f = indexedFileOf(row({ size: '100000' }), config)!;
    const b64 = Buffer.from(SHA, 'hex').toString('base64');
    assert.equal(f.size, 100_000);
    assert.equal(f.requestPath, '/repo/org.laptop.Chat/Chat%2086.xo');
    assert.equal(f.etag, `"${SHA}"`);
    assert.equal(f.reprDigest, `sha-256=:${b64}:`);
    assert.equal(f.legacyDigest, `SHA-256=${b64}`);
    assert.equal(f.describedBy, '<http://dl.test/repo/org.laptop.Chat/Chat%2086.xo.meta4>; rel=describedby; type="application/metalink4+xml"');
    assert.equal(f.plan, null);
  });
});

describe("a file's plan", () => {
  const slots = new MirrorSlots();
  slots.set(
    new Map([
      [1, mirror(1)],
      [2, mirror(2, { httpsUrl: null })],
      [3, mirror(3, { httpUrl: null })],
    ]),
  );
  const f = indexedFileOf(row(), config)!;

  it('lists the mirrors verified to hold the file, with its URL on each of their bases', () => {
    const plan = planOf(f, new Set([1, 2, 3]), slots)!;
    assert.equal(plan.n, 3);
    assert.deepEqual(
      [...plan.slots].map((s) => slots.mirror[s]!.id),
      [1, 2, 3],
    );
    assert.deepEqual(plan.http, ['http://m1.example/s/org.laptop.Chat/Chat%2086.xo', 'http://m2.example/s/org.laptop.Chat/Chat%2086.xo', null]);
    assert.deepEqual(plan.https, ['https://m1.example/s/org.laptop.Chat/Chat%2086.xo', null, 'https://m3.example/s/org.laptop.Chat/Chat%2086.xo']);
  });

  it('skips evidence of unknown mirrors and is empty (null) without any', () => {
    const plan = planOf(f, new Set([9, 2]), slots)!;
    assert.equal(plan.n, 1);
    assert.equal(slots.mirror[plan.slots[0]!]!.id, 2);
    assert.equal(planOf(f, new Set([9]), slots), null);
    assert.equal(planOf(f, new Set(), slots), null);
    assert.equal(planOf(f, undefined, slots), null);
  });

  it('drops a removed mirror from the slots, and reports mirrors whose base URLs changed', () => {
    const s = new MirrorSlots();
    s.set(
      new Map([
        [1, mirror(1)],
        [2, mirror(2)],
      ]),
    );
    const { dropped, added } = s.set(
      new Map([
        [1, mirror(1, { httpUrl: 'http://elsewhere.example' })],
        [4, mirror(4)],
      ]),
    );
    assert.deepEqual([...dropped].sort(), [1, 2]);
    assert.deepEqual([...added], [4]);
    assert.deepEqual(planOf(f, new Set([1, 2, 4]), s)!.http, [
      'http://elsewhere.example/org.laptop.Chat/Chat%2086.xo',
      'http://m4.example/s/org.laptop.Chat/Chat%2086.xo',
    ]);
  });
});

/** A redirector over these mirrors, with a fixed geo table (address -> location). */
function setup(mirrors: MirrorInfo[], geo: Record<string, Partial<GeoInfo>> = {}, opts: { proxies?: string[]; fileSize?: number } = {}) {
  const slots = new MirrorSlots();
  slots.set(new Map(mirrors.map((m) => [m.id, m])));
  const file = indexedFileOf(row({ size: opts.fileSize ?? 100_000 }), config)!;
  const verified = new Set(mirrors.map((m) => m.id));
  file.plan = planOf(file, verified, slots);
  const index = { slots, healthy: true } as unknown as DownloadIndex;
  const counted: [number, number][] = [];
  const counter = { count: (fileId: number, mirrorId: number) => counted.push([fileId, mirrorId]) } as unknown as DownloadCounter;
  const locate = (ip: ParsedIp): GeoInfo => ({ country: null, continent: null, latitude: null, longitude: null, asn: null, ...geo[ip.text] });
  const geoService = { ready: {}, lookup: locate } as unknown as GeoService;
  const redirector = new FastRedirector({ config, index, geo: geoService, proxies: new ProxyList(opts.proxies ?? []), counter, cacheReady: null });
  function request(peer: string, headers: [string, string][] = [], method = 'GET') {
    const raw = headers.flat();
    const req = {
      method,
      rawHeaders: raw,
      headers: Object.fromEntries(headers.map(([k, v]) => [k.toLowerCase(), v])),
      socket: { remoteAddress: peer },
    } as unknown as IncomingMessage;
    let status = 0;
    let sent: Record<string, unknown> = {};
    const res = {
      writeHead(s: number, h: unknown[]) {
        status = s;
        sent = {};
        for (let i = 0; i < h.length; i += 2) sent[h[i] as string] = h[i + 1];
      },
      end() {},
    } as unknown as ServerResponse;
    const answered = redirector.redirect(req, res, file);
    return { answered, status, headers: sent as { location?: string; link?: string[]; 'repr-digest'?: string; digest?: string } };
  }
  /** What rankMirrors() ranks for a client at this address. */
  function expected(address: string, scheme: 'http' | 'https') {
    const ip = parseIp(address)!;
    const g = locate(ip);
    const c = { ip, netHash: networkHash(ip), country: g.country, continent: g.continent, asn: g.asn };
    return rankMirrors(mirrors, file, c, scheme, verified).ranked;
  }
  return { file, request, expected, counted };
}

describe('the fast redirect', () => {
  const mirrors = [
    mirror(1, { country: 'BR', continent: 'SA' }),
    mirror(2, { country: 'DE', continent: 'EU', weight: 300 }),
    mirror(3, { country: 'US', continent: 'NA', httpsUrl: null }),
    mirror(4, { country: 'FR', continent: 'EU', countryOnly: true }),
    mirror(5, { asn: 64500, httpUrl: null }),
    mirror(6, { prefixes: [parseCidr('192.0.2.128/25')!], weight: 1 }),
  ];
  const geo: Record<string, Partial<GeoInfo>> = {
    '198.51.100.7': { country: 'BR', continent: 'SA' },
    '198.51.101.8': { country: 'FR', continent: 'EU' },
    '203.0.113.5': { country: 'KE', continent: 'AF', asn: 64500 },
    '192.0.2.200': { country: 'JP', continent: 'AS' },
    '192.0.2.10': { country: 'JP', continent: 'AS' },
    '2001:db8::1': { country: 'DE', continent: 'EU' },
  };

  it('sends a client where rankMirrors() ranks first, with the next ones as Link alternatives', () => {
    const t = setup(mirrors, geo);
    const clients = [...Object.keys(geo), ...Array.from({ length: 30 }, (_, i) => `100.64.${i}.9`)];
    for (const address of clients) {
      const want = t.expected(address, 'http');
      const got = t.request(address);
      assert.equal(got.answered, true, address);
      assert.equal(got.status, 302);
      assert.equal(got.headers.location, want[0]!.url, address);
      // linkAlternatives 2: the chosen mirror and two more, pri 1..3, then the metalink.
      const links = got.headers.link!;
      const dup = links.slice(0, -1);
      assert.deepEqual(
        dup.map((l) => /^<([^>]+)>/.exec(l)![1]),
        want.slice(0, 3).map((r) => r.url),
        address,
      );
      for (const [i, l] of dup.entries()) assert.match(l, new RegExp(`; rel=duplicate; pri=${i + 1}`));
      assert.equal(links.at(-1), t.file.describedBy);
      assert.equal(got.headers['repr-digest'], t.file.reprDigest);
      assert.equal(got.headers.digest, t.file.legacyDigest);
    }
  });

  it('prefers the nearest mirror: same network prefix, same AS, same country', () => {
    const t = setup(mirrors, geo);
    assert.match(t.request('192.0.2.200').headers.location!, /^http:\/\/m6\.example\//);
    // Outside the /25 (same /24): no longer the prefix bucket.
    assert.doesNotMatch(t.request('192.0.2.10').headers.location!, /m6\.example/);
    // AS 64500's mirror has only HTTPS: a plain-HTTP client goes there over HTTPS.
    assert.match(t.request('203.0.113.5').headers.location!, /^https:\/\/m5\.example\/s\/org\.laptop\.Chat\/Chat%2086\.xo$/);
    assert.match(t.request('198.51.100.7').headers.location!, /^http:\/\/m1\.example\//);
    // The French-only mirror serves the French client, and its Link carries geo=fr.
    const fr = t.request('198.51.101.8');
    assert.match(fr.headers.location!, /^http:\/\/m4\.example\//);
    assert.match(fr.headers.link![0]!, /; geo=fr$/);
  });

  it('never offers a country-only mirror to other clients', () => {
    const t = setup(mirrors, geo);
    for (let i = 0; i < 40; i++) {
      const got = t.request(`100.65.${i}.1`);
      for (const l of got.headers.link!) assert.doesNotMatch(l, /m4\.example/);
    }
  });

  it('keeps HTTPS clients on HTTPS (X-Forwarded-Proto from a trusted proxy)', () => {
    const t = setup(mirrors, geo, { proxies: ['127.0.0.1'] });
    for (let i = 0; i < 20; i++) {
      const address = `100.66.${i}.1`;
      const got = t.request('127.0.0.1', [
        ['X-Forwarded-For', address],
        ['X-Forwarded-Proto', 'https'],
      ]);
      assert.equal(got.headers.location, t.expected(address, 'https')[0]!.url);
      assert.match(got.headers.location!, /^https:/);
      for (const l of got.headers.link!.slice(0, -1)) assert.doesNotMatch(l, /^<http:/);
    }
    // From an untrusted peer the header is ignored: plain HTTP, the peer's own address.
    const direct = t.request('100.67.0.1', [
      ['X-Forwarded-For', '198.51.100.7'],
      ['X-Forwarded-Proto', 'https'],
    ]);
    assert.equal(direct.headers.location, t.expected('100.67.0.1', 'http')[0]!.url);
  });

  it('counts a GET that starts a download, not a HEAD nor a later range', () => {
    const t = setup(mirrors, geo);
    t.request('198.51.100.7');
    t.request('198.51.100.7', [], 'HEAD');
    t.request('198.51.100.7', [['Range', 'bytes=5000-']]);
    assert.deepEqual(t.counted, [[7, 1]]);
  });

  it('leaves the answer to the origin for small files, metalink requests and files on no mirror', () => {
    assert.equal(setup(mirrors, geo, { fileSize: 4095 }).request('198.51.100.7').answered, false);
    assert.equal(setup(mirrors, geo).request('198.51.100.7', [['Accept', 'application/metalink4+xml']]).answered, false);
    assert.equal(setup([], geo).request('198.51.100.7').answered, false);
    // Only a country-only mirror elsewhere: nobody may serve this client.
    assert.equal(setup([mirror(4, { country: 'FR', countryOnly: true })], geo).request('198.51.100.7').answered, false);
  });

  it('looks a client network (/24) up once: the first address seen stands for it', () => {
    const t = setup(mirrors, {
      '100.70.1.1': { country: 'BR', continent: 'SA' },
      '100.70.1.2': { country: 'FR', continent: 'EU' },
      '100.70.2.2': { country: 'FR', continent: 'EU' },
    });
    assert.match(t.request('100.70.1.1').headers.location!, /m1\.example/);
    assert.match(t.request('100.70.1.2').headers.location!, /m1\.example/);
    assert.match(t.request('100.70.2.2').headers.location!, /m4\.example/);
  });

  it('answers an IPv6 client as rankMirrors() does', () => {
    const t = setup(mirrors, geo);
    assert.equal(t.request('2001:db8::1').headers.location, t.expected('2001:db8::1', 'http')[0]!.url);
    assert.match(t.request('2001:db8::1').headers.location!, /m2\.example/);
  });
});

// Mirror selection (src/mirrors/select.ts) without a database: which mirrors may serve a client,
// the proximity buckets, and the weighted rendezvous ranking inside a bucket (proportional to the
// weights, sticky per client network and file, minimal movement when the mirror set changes;
// docs/downloads.md and the shared design notes on downloads and mirrors).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, parseIp, type Cidr } from '../../src/geo/ip.js';
import type { MirrorInfo } from '../../src/mirrors/model.js';
import { bucketOf, exclusion, rankMirrors, rendezvousScore, rendezvousUniform, schemeBase, type ClientInfo } from '../../src/mirrors/select.js';

function mirror(id: number, o: Partial<MirrorInfo> = {}): MirrorInfo {
  return {
    id,
    name: `m${id}`,
    httpUrl: `http://m${id}.example/sugar`,
    httpsUrl: `https://m${id}.example/sugar`,
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

function client(o: Partial<ClientInfo> = {}): ClientInfo {
  return { ip: null, netHash: 12345, country: null, continent: null, asn: null, ...o };
}

const cidr = (s: string): Cidr => parseCidr(s)!;
const FILE = { id: 42, size: 1000, repoPath: 'org.laptop.Chat/Chat-86.xo' };
const all = (ms: MirrorInfo[]) => new Set(ms.map((m) => m.id));

/** The mirror each of `n` client networks is sent to, for one file. */
function winners(ms: MirrorInfo[], n: number, fileId = FILE.id): number[] {
  const out: number[] = [];
  for (let net = 0; net < n; net++) {
    const { ranked } = rankMirrors(ms, { ...FILE, id: fileId }, client({ netHash: (net * 2654435761) >>> 0 }), 'http', all(ms));
    out.push(ranked[0]!.mirror.id);
  }
  return out;
}

describe('rendezvous hashing', () => {
  it('draws a uniform number strictly between 0 and 1, the same for the same (network, file, mirror)', () => {
    let sum = 0;
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      const u = rendezvousUniform((i * 7919) >>> 0, i % 97, i % 13);
      assert.ok(u > 0 && u < 1, String(u));
      sum += u;
    }
    // The mean of N uniforms is 0.5 within a few standard errors (1/sqrt(12 N) = 0.002).
    assert.ok(Math.abs(sum / N - 0.5) < 0.01, String(sum / N));
    assert.equal(rendezvousUniform(0xdeadbeef, 7, 3), rendezvousUniform(0xdeadbeef, 7, 3));
    assert.notEqual(rendezvousUniform(0xdeadbeef, 7, 3), rendezvousUniform(0xdeadbeef, 7, 4));
    assert.notEqual(rendezvousUniform(0xdeadbeef, 7, 3), rendezvousUniform(0xdeadbeef, 8, 3));
    assert.notEqual(rendezvousUniform(0xdeadbeef, 7, 3), rendezvousUniform(0xdeadbeee, 7, 3));
  });

  it('scores -weight/ln(u): twice the weight, twice the score; weight 0 never wins', () => {
    const u = rendezvousUniform(99, 5, 2);
    assert.equal(rendezvousScore(1, 99, 5, 2), -1 / Math.log(u));
    assert.equal(rendezvousScore(200, 99, 5, 2), 2 * rendezvousScore(100, 99, 5, 2));
    assert.equal(rendezvousScore(0, 99, 5, 2), -Infinity);
  });

  it('sends each mirror a share of client networks proportional to its weight', () => {
    const ms = [mirror(1, { weight: 10 }), mirror(2, { weight: 20 }), mirror(3, { weight: 70 })];
    const N = 20_000;
    const got = winners(ms, N);
    const share = (id: number) => got.filter((x) => x === id).length / N;
    // Expected 10 %, 20 %, 70 %; the standard error is at most 0.0035, allow about 5 of them.
    assert.ok(Math.abs(share(1) - 0.1) < 0.018, `m1 ${share(1)}`);
    assert.ok(Math.abs(share(2) - 0.2) < 0.018, `m2 ${share(2)}`);
    assert.ok(Math.abs(share(3) - 0.7) < 0.018, `m3 ${share(3)}`);
  });

  it('always sends one client network to the same mirror for the same file, and spreads files', () => {
    const ms = [mirror(1), mirror(2), mirror(3), mirror(4)];
    const c = client({ netHash: 0x0a0b0c00 });
    const first = rankMirrors(ms, FILE, c, 'http', all(ms)).ranked.map((r) => r.mirror.id);
    for (let i = 0; i < 5; i++)
      assert.deepEqual(
        rankMirrors(ms, FILE, c, 'http', all(ms)).ranked.map((r) => r.mirror.id),
        first,
      );
    // The order mirrors are listed in does not matter.
    assert.deepEqual(
      rankMirrors([...ms].reverse(), FILE, c, 'http', all(ms)).ranked.map((r) => r.mirror.id),
      first,
    );
    // One network's files do not all go to one mirror.
    const perFile = new Set<number>();
    for (let fileId = 1; fileId <= 40; fileId++) perFile.add(rankMirrors(ms, { ...FILE, id: fileId }, c, 'http', all(ms)).ranked[0]!.mirror.id);
    assert.equal(perFile.size, 4);
  });

  it('moves only the clients of a removed mirror, and only towards an added one', () => {
    const three = [mirror(1), mirror(2), mirror(3)];
    const before = winners(three, 3000);
    const after = winners(three.slice(0, 2), 3000);
    for (let i = 0; i < before.length; i++) if (before[i] !== 3) assert.equal(after[i], before[i], `network ${i} moved`);
    const four = [...three, mirror(4)];
    const grown = winners(four, 3000);
    let moved = 0;
    for (let i = 0; i < before.length; i++) {
      if (grown[i] !== before[i]) {
        assert.equal(grown[i], 4, `network ${i} moved between old mirrors`);
        moved++;
      }
    }
    // The newcomer (a quarter of the weight) takes about a quarter of the networks.
    assert.ok(Math.abs(moved / 3000 - 0.25) < 0.04, String(moved / 3000));
  });
});

describe('proximity buckets', () => {
  const ip = parseIp('203.0.113.9')!;
  const c = client({ ip, country: 'BR', continent: 'SA', asn: 64500 });

  it('puts a mirror in the nearest bucket that matches: prefix, AS, country, continent, anywhere', () => {
    assert.equal(bucketOf(mirror(1, { prefixes: [cidr('203.0.113.0/24')], asn: 1, country: 'DE' }), c), 'prefix');
    assert.equal(bucketOf(mirror(1, { prefixes: [cidr('198.51.100.0/24')], asn: 64500, country: 'DE' }), c), 'as');
    assert.equal(bucketOf(mirror(1, { asn: 64501, country: 'BR', continent: 'SA' }), c), 'country');
    assert.equal(bucketOf(mirror(1, { country: 'AR', continent: 'SA' }), c), 'continent');
    assert.equal(bucketOf(mirror(1, { country: 'DE', continent: 'EU' }), c), 'anywhere');
    // A client whose location is unknown matches nothing but "anywhere".
    assert.equal(bucketOf(mirror(1, { asn: 64500, country: 'BR', continent: 'SA' }), client()), 'anywhere');
  });

  it('prefers the nearest non-empty bucket whatever the weights, then ranks by score inside it', () => {
    const ms = [
      mirror(1, { weight: 1000, country: 'DE', continent: 'EU' }),
      mirror(2, { weight: 1, country: 'AR', continent: 'SA' }),
      mirror(3, { weight: 1, country: 'BR', continent: 'SA' }),
      mirror(4, { weight: 1, asn: 64500 }),
      mirror(5, { weight: 1, prefixes: [cidr('203.0.113.0/24')] }),
    ];
    const { ranked } = rankMirrors(ms, FILE, c, 'http', all(ms));
    assert.deepEqual(
      ranked.map((r) => [r.mirror.id, r.bucket]),
      [
        [5, 'prefix'],
        [4, 'as'],
        [3, 'country'],
        [2, 'continent'],
        [1, 'anywhere'],
      ],
    );
    // Two in the same bucket: the higher score first.
    const two = [mirror(6, { country: 'BR' }), mirror(7, { country: 'BR' })];
    const r2 = rankMirrors(two, FILE, c, 'http', all(two)).ranked;
    assert.equal(r2.length, 2);
    assert.ok(r2[0]!.score >= r2[1]!.score);
    assert.deepEqual(new Set(r2.map((r) => r.bucket)), new Set(['country']));
  });

  it('keeps the best `limit` in the same order as the full ranking', () => {
    const ms = Array.from({ length: 12 }, (_, i) => mirror(i + 1, { country: i % 3 === 0 ? 'BR' : 'DE' }));
    const full = rankMirrors(ms, FILE, c, 'http', all(ms)).ranked.map((r) => r.mirror.id);
    assert.equal(full.length, 12);
    // The four Brazilian mirrors (ids 1, 4, 7, 10) come first.
    assert.deepEqual(new Set(full.slice(0, 4)), new Set([1, 4, 7, 10]));
    assert.deepEqual(
      rankMirrors(ms, FILE, c, 'http', all(ms), { limit: 3 }).ranked.map((r) => r.mirror.id),
      full.slice(0, 3),
    );
  });
});

describe('which mirrors may serve', () => {
  const c = client({ country: 'BR', continent: 'SA', asn: 64500 });
  const verified = new Set([1]);

  it('excludes disabled, unverified, weightless and too-small mirrors', () => {
    assert.equal(exclusion(mirror(1), FILE, c, 'http', verified), null);
    assert.equal(exclusion(mirror(1, { enabled: false }), FILE, c, 'http', verified), 'disabled');
    assert.match(exclusion(mirror(2), FILE, c, 'http', verified)!, /not verified/);
    assert.match(exclusion(mirror(1), FILE, c, 'http', undefined)!, /not verified/);
    assert.equal(exclusion(mirror(1, { weight: 0 }), FILE, c, 'http', verified), 'weight 0');
    assert.match(exclusion(mirror(1, { maxFileSize: 999 }), FILE, c, 'http', verified)!, /larger than its limit \(999 bytes\)/);
    assert.equal(exclusion(mirror(1, { maxFileSize: 1000 }), FILE, c, 'http', verified), null);
  });

  it('keeps country-, continent- and AS-only mirrors for their own clients', () => {
    assert.equal(exclusion(mirror(1, { countryOnly: true, country: 'BR' }), FILE, c, 'http', verified), null);
    assert.match(exclusion(mirror(1, { countryOnly: true, country: 'AR' }), FILE, c, 'http', verified)!, /serves AR only/);
    assert.match(exclusion(mirror(1, { countryOnly: true, country: 'BR' }), FILE, client(), 'http', verified)!, /serves BR only/);
    assert.equal(exclusion(mirror(1, { continentOnly: true, continent: 'SA' }), FILE, c, 'http', verified), null);
    assert.match(exclusion(mirror(1, { continentOnly: true, continent: 'EU' }), FILE, c, 'http', verified)!, /serves EU only/);
    assert.equal(exclusion(mirror(1, { asOnly: true, asn: 64500 }), FILE, c, 'http', verified), null);
    assert.match(exclusion(mirror(1, { asOnly: true, asn: 64501 }), FILE, c, 'http', verified)!, /serves AS64501 only/);
  });

  it('never sends an HTTPS client to plain HTTP; a plain-HTTP client may go to HTTPS', () => {
    assert.equal(schemeBase(mirror(1), 'https'), 'https://m1.example/sugar');
    assert.equal(schemeBase(mirror(1), 'http'), 'http://m1.example/sugar');
    assert.equal(schemeBase(mirror(1, { httpsUrl: null }), 'https'), null);
    assert.equal(schemeBase(mirror(1, { httpsOk: false }), 'https'), null);
    assert.equal(schemeBase(mirror(1, { httpUrl: null }), 'http'), 'https://m1.example/sugar');
    assert.equal(schemeBase(mirror(1, { httpOk: false }), 'http'), 'https://m1.example/sugar');
    assert.equal(schemeBase(mirror(1, { httpOk: false, httpsOk: false }), 'http'), null);
    // Not checked yet counts as up.
    assert.equal(schemeBase(mirror(1, { httpOk: null }), 'http'), 'http://m1.example/sugar');
    assert.equal(exclusion(mirror(1, { httpsUrl: null }), FILE, c, 'https', verified), 'no HTTPS');
    assert.match(exclusion(mirror(1, { httpsOk: false, httpsError: 'TLS expired' }), FILE, c, 'https', verified)!, /HTTPS down: TLS expired/);
    assert.match(exclusion(mirror(1, { httpOk: false, httpsOk: false, httpError: 'timeout' }), FILE, c, 'http', verified)!, /down: timeout/);
  });

  it('builds the URL from the base and the percent-encoded path segments', () => {
    const ms = [mirror(1, { httpUrl: null })];
    const { ranked } = rankMirrors(ms, { id: 7, size: 10, repoPath: 'org.test.A b/A b#1.xo' }, c, 'http', all(ms));
    assert.equal(ranked[0]!.url, 'https://m1.example/sugar/org.test.A%20b/A%20b%231.xo');
  });

  it('ranks nothing when the file is verified nowhere, and explains every exclusion when asked', () => {
    const ms = [mirror(1), mirror(2, { enabled: false }), mirror(3, { countryOnly: true, country: 'AR' })];
    assert.deepEqual(rankMirrors(ms, FILE, c, 'http', new Set()).ranked, []);
    const none = rankMirrors(ms, FILE, c, 'http', undefined, { explain: true });
    assert.deepEqual(
      none.excluded.map((e) => e.mirror.id),
      [1, 2, 3],
    );
    const some = rankMirrors(ms, FILE, c, 'http', all(ms), { explain: true });
    assert.deepEqual(
      some.ranked.map((r) => r.mirror.id),
      [1],
    );
    assert.deepEqual(
      some.excluded.map((e) => [e.mirror.id, e.reason]),
      [
        [2, 'disabled'],
        [3, 'serves AR only'],
      ],
    );
  });
});

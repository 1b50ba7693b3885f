// Geo: address parsing and prefixes, the client address behind trusted proxies (right-most
// untrusted hop), and lookups in the databases shipped by the npm packages.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientAddress, cidrContains, ipv4Number, networkHash, networkHashV4, parseCidr, parseIp, ProxyList } from '../../src/geo/ip.js';
import { continentOf } from '../../src/geo/continents.js';
import { GeoService, type GeoDatabase } from '../../src/geo/index.js';
import { loadConfig } from '../../src/platform/config.js';

describe('ip addresses', () => {
  it('parses IPv4, IPv6 and mapped addresses', () => {
    assert.deepEqual(parseIp('192.0.2.1'), { v: 4, n: 0xc0000201, text: '192.0.2.1' });
    const mapped = parseIp('::ffff:192.0.2.1');
    assert.equal(mapped?.v, 4);
    assert.equal(mapped?.text, '192.0.2.1');
    const v6 = parseIp('2001:db8::1');
    assert.equal(v6?.v, 6);
    assert.deepEqual(v6?.v === 6 ? [...v6.w] : [], [0x20010db8, 0, 0, 1]);
    assert.equal(parseIp('[2001:db8::1]')?.v, 6);
    for (const bad of ['', '1.2.3', '256.1.1.1', 'unknown', '1::2::3', 'example.org']) assert.equal(parseIp(bad), null, bad);
  });

  it('reads plain IPv4 addresses without allocating the same way as parseIp', () => {
    for (const s of ['0.0.0.0', '1.2.3.4', ' 192.0.2.1 ', '255.255.255.255', '010.1.1.1']) {
      const p = parseIp(s.trim());
      assert.equal(ipv4Number(s), p?.v === 4 ? p.n : -1, s);
      assert.equal(networkHashV4(ipv4Number(s)), networkHash(p!), s);
    }
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4x', '::1', '2001:db8::1', 'unknown', '1234.1.1.1'])
      assert.equal(ipv4Number(bad), -1, bad);
    assert.equal(ipv4Number('x, 10.0.0.1', 3), parseIp('10.0.0.1')!.v === 4 ? (parseIp('10.0.0.1') as { n: number }).n : 0);
    const proxies = new ProxyList(['10.0.0.0/8', '::1']);
    assert.ok(proxies.trustsV4(ipv4Number('10.1.2.3')));
    assert.ok(!proxies.trustsV4(ipv4Number('11.1.2.3')));
  });

  it('matches prefixes and hashes networks', () => {
    const c = parseCidr('192.0.2.77/24')!;
    assert.equal(c.text, '192.0.2.0/24');
    assert.ok(cidrContains(c, parseIp('192.0.2.200')!));
    assert.ok(!cidrContains(c, parseIp('192.0.3.1')!));
    const c6 = parseCidr('2001:db8:1234::/48')!;
    assert.ok(cidrContains(c6, parseIp('2001:db8:1234:ffff::1')!));
    assert.ok(!cidrContains(c6, parseIp('2001:db8:1235::1')!));
    assert.equal(parseCidr('10.0.0.0/33'), null);
    assert.equal(networkHash(parseIp('198.51.100.1')!), networkHash(parseIp('198.51.100.254')!));
    assert.notEqual(networkHash(parseIp('198.51.100.1')!), networkHash(parseIp('198.51.101.1')!));
  });

  it('takes forwarded addresses only from trusted proxies, right-most untrusted hop first', () => {
    const proxies = new ProxyList(['127.0.0.1', '10.0.0.0/8']);
    const h = (xff: string) => ({ 'x-forwarded-for': xff });
    assert.equal(clientAddress('203.0.113.9', h('1.2.3.4'), proxies)?.text, '203.0.113.9');
    assert.equal(clientAddress('127.0.0.1', h('1.2.3.4'), proxies)?.text, '1.2.3.4');
    // A client cannot hide behind a forged left-most entry.
    assert.equal(clientAddress('127.0.0.1', h('6.6.6.6, 1.2.3.4, 10.1.1.1'), proxies)?.text, '1.2.3.4');
    assert.equal(clientAddress('::ffff:127.0.0.1', h('2001:db8::5'), proxies)?.text, '2001:db8::5');
    assert.equal(clientAddress('127.0.0.1', { forwarded: 'for=192.0.2.60;proto=http, for="[2001:db8::7]:4711"' }, proxies)?.text, '2001:db8::7');
    assert.equal(clientAddress('127.0.0.1', h('garbage'), proxies)?.text, '127.0.0.1');
    assert.equal(clientAddress('127.0.0.1', h('1.2.3.4'), new ProxyList([]))?.text, '127.0.0.1');
  });

  it('knows the continent of every country code it is asked about', () => {
    assert.equal(continentOf('pe'), 'SA');
    assert.equal(continentOf('DE'), 'EU');
    assert.equal(continentOf('US'), 'NA');
    assert.equal(continentOf('ZZ'), null);
  });
});

describe('geo databases from npm', () => {
  let db: GeoDatabase;
  before(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'aslo-geo-'));
    const svc = GeoService.forConfig(loadConfig({ dataDir, env: {} }));
    db = (await svc.load())!;
    assert.ok(db, svc.error?.message);
  });

  it('finds country, continent, coordinates and AS of public addresses (IPv4 and IPv6)', () => {
    const g = db.lookup(parseIp('8.8.8.8')!);
    assert.equal(g.country, 'US');
    assert.equal(g.continent, 'NA');
    assert.equal(g.asn, 15169);
    assert.equal(typeof g.latitude, 'number');
    const g6 = db.lookup(parseIp('2001:4860:4860::8888')!);
    assert.equal(g6.country, 'US');
    assert.equal(g6.asn, 15169);
    const local = db.lookup(parseIp('127.0.0.1')!);
    assert.equal(local.country, null);
    assert.equal(local.asn, null);
  });

  it('answers a configured replacement file, and reports a missing one as unavailable', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'aslo-geo-'));
    const svc = GeoService.forConfig(loadConfig({ dataDir, env: { ASLO_GEO_CITY_IPV4: join(dataDir, 'missing.mmdb') } }));
    assert.equal(await svc.load(), null);
    assert.ok(svc.error);
    assert.equal(svc.ready, null);
  });
});

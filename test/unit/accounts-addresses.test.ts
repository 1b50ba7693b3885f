// The key per-address rate limits count under: IPv4 alone, IPv6 per /64, mapped IPv4 as IPv4.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addressKey } from '../../src/accounts/addresses.js';

describe('addressKey', () => {
  it('keeps IPv4 addresses as they are', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7');
  });
  it('counts every IPv6 address of a /64 as one, however it is written', () => {
    const k = addressKey('2001:db8:1:2::1');
    assert.equal(k, '2001:db8:1:2::/64');
    for (const a of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:9', '2001:db8:1:2:a:b:c:d%eth0', '2001:db8:1:2:0:0:1.2.3.4'])
      assert.equal(addressKey(a), k, a);
    assert.notEqual(addressKey('2001:db8:1:3::1'), k);
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('fe80::1'), 'fe80:0:0:0::/64');
  });
  it('reads IPv4-mapped IPv6 as the IPv4 address', () => {
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKey('::ffff:c000:207'), '192.0.2.7');
  });
  it('keeps anything else as it is', () => {
    assert.equal(addressKey(undefined), 'unknown');
    assert.equal(addressKey('not an address'), 'not an address');
  });
});

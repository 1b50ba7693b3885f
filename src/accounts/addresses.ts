// The key a per-address rate limit counts under. An IPv4 address counts alone; an IPv6 address
// counts as its /64: one subscriber (one home, one phone, one rented server) gets a whole /64 and
// can pick a fresh address in it for every request, so counting single IPv6 addresses would let
// anyone step around every per-address limit. IPv4-mapped IPv6 (::ffff:192.0.2.1) is the IPv4
// address it carries.
import { isIPv4, isIPv6 } from 'node:net';

/** The 8 groups of an IPv6 address (numbers), or null when it is not one. */
function ipv6Groups(address: string): number[] | null {
  const bare = address.split('%')[0]!;
  if (!isIPv6(bare)) return null;
  let text = bare.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, tail.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/** `203.0.113.7` for IPv4 (also when mapped into IPv6), `2001:db8:1:2::/64` for any other IPv6 address. */
export function addressKey(address: string | null | undefined): string {
  if (!address) return 'unknown';
  if (isIPv4(address)) return address;
  const g = ipv6Groups(address);
  if (!g) return address;
  const mapped = g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
  if (mapped) return `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

// IP addresses as numbers: parsing (IPv4, IPv6, IPv4-mapped IPv6), CIDR prefixes and matching,
// the client's network (/24 for IPv4, /48 for IPv6) as a hash for rendezvous hashing, and the
// client address behind trusted proxies (the right-most untrusted hop).
import { isIP } from 'node:net';

export type ParsedIp = { v: 4; n: number; text: string } | { v: 6; w: Uint32Array; text: string };

function parseV4(s: string): number | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const b = Number(p);
    if (b > 255) return null;
    n = n * 256 + b;
  }
  return n >>> 0;
}

function parseV6(s: string): Uint32Array | null {
  let str = s;
  const zone = str.indexOf('%');
  if (zone !== -1) str = str.slice(0, zone);
  if (isIP(str) !== 6) return null;
  const words: number[] = [];
  let tail = str;
  let v4: number | null = null;
  const lastColon = tail.lastIndexOf(':');
  if (tail.indexOf('.', lastColon) !== -1) {
    v4 = parseV4(tail.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = tail.slice(0, lastColon + 1) + '0:0';
  }
  const halves = tail.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const fill = 8 - head.length - rest.length;
  for (const h of head) words.push(parseInt(h, 16));
  for (let i = 0; i < (halves.length > 1 ? fill : 0); i++) words.push(0);
  for (const h of rest) words.push(parseInt(h, 16));
  if (words.length !== 8 || words.some((w) => !Number.isFinite(w))) return null;
  const out = new Uint32Array(4);
  for (let i = 0; i < 4; i++) out[i] = ((words[2 * i]! << 16) | words[2 * i + 1]!) >>> 0;
  if (v4 !== null) out[3] = v4;
  return out;
}

/** Parse an address; IPv4-mapped IPv6 (::ffff:a.b.c.d) comes back as IPv4. */
export function parseIp(input: string | undefined | null): ParsedIp | null {
  if (!input) return null;
  let s = input.trim();
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return null;
    s = s.slice(1, end);
  } else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) {
    s = s.slice(0, s.lastIndexOf(':'));
  }
  if (s.includes(':')) {
    const w = parseV6(s);
    if (!w) return null;
    if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) {
      const n = w[3]!;
      return { v: 4, n, text: v4Text(n) };
    }
    return { v: 6, w, text: s.toLowerCase() };
  }
  const n = parseV4(s);
  return n === null ? null : { v: 4, n, text: s };
}

export function v4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr {
  v: 4 | 6;
  bits: number;
  /** IPv4: masked address. */
  n: number;
  /** IPv6: masked words. */
  w: Uint32Array;
  text: string;
}

function mask32(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/** Parse `a.b.c.d/n` or `x:y::/n` (a bare address is a /32 or /128). Null when invalid. */
export function parseCidr(input: string): Cidr | null {
  const s = input.trim();
  const slash = s.indexOf('/');
  const addr = parseIp(slash === -1 ? s : s.slice(0, slash));
  if (!addr) return null;
  const max = addr.v === 4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const b = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(b)) return null;
    bits = Number(b);
    // ::ffff:a.b.c.d/120 style prefixes of mapped addresses
    if (addr.v === 4 && s.slice(0, slash).includes(':')) bits -= 96;
    if (bits < 0 || bits > max) return null;
  }
  if (addr.v === 4) {
    const n = (addr.n & mask32(bits)) >>> 0;
    return { v: 4, bits, n, w: new Uint32Array(0), text: `${v4Text(n)}/${bits}` };
  }
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = (addr.w[i]! & mask32(bits - 32 * i)) >>> 0;
  return { v: 6, bits, n: 0, w, text: `${v6Text(w)}/${bits}` };
}

export function v6Text(w: Uint32Array): string {
  const words: number[] = [];
  for (let i = 0; i < 4; i++) words.push(w[i]! >>> 16, w[i]! & 0xffff);
  // longest run of zeros -> ::
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((x) => x.toString(16));
  if (best === -1) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function cidrContains(c: Cidr, ip: ParsedIp): boolean {
  if (c.v !== ip.v) return false;
  if (ip.v === 4) return (ip.n & mask32(c.bits)) >>> 0 === c.n;
  for (let i = 0; i < 4; i++) {
    if ((ip.w[i]! & mask32(c.bits - 32 * i)) >>> 0 !== c.w[i]) return false;
  }
  return true;
}

/** A 32-bit hash of the client's network: /24 for IPv4, /48 for IPv6 (FNV-1a). */
export function networkHash(ip: ParsedIp): number {
  let h = 0x811c9dc5;
  const mix = (b: number) => {
    h ^= b & 255;
    h = Math.imul(h, 0x01000193);
  };
  if (ip.v === 4) {
    mix(4);
    mix(ip.n >>> 24);
    mix(ip.n >>> 16);
    mix(ip.n >>> 8);
  } else {
    mix(6);
    mix(ip.w[0]! >>> 24);
    mix(ip.w[0]! >>> 16);
    mix(ip.w[0]! >>> 8);
    mix(ip.w[0]!);
    mix(ip.w[1]! >>> 24);
    mix(ip.w[1]! >>> 16);
  }
  return h >>> 0;
}

/** The network as text (for the mirror list page). */
export function networkText(ip: ParsedIp): string {
  if (ip.v === 4) return `${v4Text((ip.n & 0xffffff00) >>> 0)}/24`;
  const w = new Uint32Array([ip.w[0]!, (ip.w[1]! & 0xffff0000) >>> 0, 0, 0]);
  return `${v6Text(w)}/48`;
}

/** A set of trusted proxies (addresses or prefixes). */
export class ProxyList {
  private readonly cidrs: Cidr[];
  constructor(entries: string[]) {
    this.cidrs = [];
    for (const e of entries) {
      const c = parseCidr(e);
      if (c) this.cidrs.push(c);
    }
  }
  get empty(): boolean {
    return this.cidrs.length === 0;
  }
  trusts(ip: ParsedIp | null): boolean {
    if (!ip) return false;
    for (const c of this.cidrs) if (cidrContains(c, ip)) return true;
    return false;
  }
  /** trusts() for an IPv4 address given as a number (the redirector's fast path). */
  trustsV4(n: number): boolean {
    for (const c of this.cidrs) if (c.v === 4 && (n & mask32(c.bits)) >>> 0 === c.n) return true;
    return false;
  }
}

/**
 * A plain dotted IPv4 address (the characters start..end of s, spaces around allowed) as a
 * number, or -1 for anything else (IPv6, garbage: use parseIp). Allocates nothing.
 */
export function ipv4Number(s: string, start = 0, end = s.length): number {
  while (start < end && s.charCodeAt(start) === 32) start++;
  while (end > start && s.charCodeAt(end - 1) === 32) end--;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return (n * 256 + part) >>> 0;
}

/** networkHash() of an IPv4 address given as a number. */
export function networkHashV4(n: number): number {
  let h = 0x811c9dc5;
  h ^= 4;
  h = Math.imul(h, 0x01000193);
  h ^= (n >>> 24) & 255;
  h = Math.imul(h, 0x01000193);
  h ^= (n >>> 16) & 255;
  h = Math.imul(h, 0x01000193);
  h ^= (n >>> 8) & 255;
  h = Math.imul(h, 0x01000193);
  return h >>> 0;
}

/** Hops listed by `Forwarded: for=...` (RFC 7239) or `X-Forwarded-For`, client first. */
export function forwardedHops(headers: Record<string, string | string[] | undefined>): string[] {
  const fwd = headers.forwarded;
  const joined = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);
  const f = joined(fwd);
  if (f) {
    const hops: string[] = [];
    for (const element of f.split(',')) {
      for (const pair of element.split(';')) {
        const eq = pair.indexOf('=');
        if (eq === -1) continue;
        if (pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
        let v = pair.slice(eq + 1).trim();
        if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
        hops.push(v);
      }
    }
    if (hops.length > 0) return hops;
  }
  const xff = joined(headers['x-forwarded-for']);
  if (!xff) return [];
  return xff
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The client's address: the peer, unless the peer is a trusted proxy; then the forwarded hops
 * are walked from the right and the first one that is not a trusted proxy is the client.
 */
export function clientAddress(peer: string | undefined, headers: Record<string, string | string[] | undefined>, proxies: ProxyList): ParsedIp | null {
  let ip = parseIp(peer);
  if (!ip || proxies.empty || !proxies.trusts(ip)) return ip;
  const hops = forwardedHops(headers);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseIp(hops[i]);
    if (!hop) return ip; // garbage (or "unknown"): stop at the last address we could trust
    ip = hop;
    if (!proxies.trusts(hop)) return hop;
  }
  return ip;
}

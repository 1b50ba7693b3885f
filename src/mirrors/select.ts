// Which mirror a client is sent to, without shared state:
//  1. candidates: enabled mirrors verified to hold this file's bytes, up on the scheme used,
//     within their restrictions (country/continent/AS only) and file-size limit;
//  2. buckets by proximity: same network prefix, same AS, same country, same continent,
//     anywhere; the first non-empty bucket wins;
//  3. inside it, weighted rendezvous hashing of (client network, file): every mirror gets the
//     score -weight / ln(u), u a uniform hash of (network, file, mirror) in (0, 1); the highest
//     score wins. Mirror i wins with probability weight_i / sum(weights) exactly, one client
//     network always gets the same mirror for the same file (a resumed download lands where it
//     began), and adding or removing a mirror only moves the clients that mirror gains or loses.
import type { ParsedIp } from '../geo/ip.js';
import { cidrContains } from '../geo/ip.js';
import type { MirrorInfo } from './model.js';

export const BUCKETS = ['prefix', 'as', 'country', 'continent', 'anywhere'] as const;
export type Bucket = (typeof BUCKETS)[number];

export interface ClientInfo {
  ip: ParsedIp | null;
  /** 32-bit hash of the client's network (/24, /48). */
  netHash: number;
  country: string | null;
  continent: string | null;
  asn: number | null;
}

export interface FileForChoice {
  id: number;
  size: number;
}

export interface Ranked {
  mirror: MirrorInfo;
  url: string;
  bucket: Bucket;
  score: number;
}

export interface Excluded {
  mirror: MirrorInfo;
  reason: string;
}

/** 32-bit avalanche mix (murmur3 finalizer). */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in (0, 1) from (network, file, mirror), with 52 bits of resolution. */
export function rendezvousUniform(netHash: number, fileId: number, mirrorId: number): number {
  const a = fmix(netHash ^ fmix(fileId + 0x9e3779b9) ^ Math.imul(fmix(mirrorId + 0x7f4a7c15), 0x27d4eb2f));
  const b = fmix(a ^ 0x165667b1 ^ fmix(mirrorId * 31 + fileId));
  // 32 + 20 bits
  return (a * 1048576 + (b >>> 12) + 0.5) / 4503599627370496;
}

export function rendezvousScore(weight: number, netHash: number, fileId: number, mirrorId: number): number {
  if (weight <= 0) return -Infinity;
  return -weight / Math.log(rendezvousUniform(netHash, fileId, mirrorId));
}

export function bucketOf(m: MirrorInfo, c: ClientInfo): Bucket {
  if (c.ip && m.prefixes.length) for (const p of m.prefixes) if (cidrContains(p, c.ip)) return 'prefix';
  if (c.asn !== null && m.asn !== null && c.asn === m.asn) return 'as';
  if (c.country && m.country === c.country) return 'country';
  if (c.continent && m.continent === c.continent) return 'continent';
  return 'anywhere';
}

/** Why a mirror cannot serve this client this file, or null when it can. */
export function exclusion(m: MirrorInfo, file: FileForChoice, c: ClientInfo, scheme: 'http' | 'https', verified: Set<number> | undefined): string | null {
  if (!m.enabled) return 'disabled';
  if (!verified?.has(m.id)) return 'file not verified on this mirror (yet)';
  if (m.weight <= 0) return 'weight 0';
  if (m.maxFileSize !== null && file.size > m.maxFileSize) return `file larger than its limit (${m.maxFileSize} bytes)`;
  if (m.countryOnly && (!c.country || c.country !== m.country)) return `serves ${m.country ?? '?'} only`;
  if (m.continentOnly && (!c.continent || c.continent !== m.continent)) return `serves ${m.continent ?? '?'} only`;
  if (m.asOnly && (c.asn === null || c.asn !== m.asn)) return `serves AS${m.asn ?? '?'} only`;
  if (!schemeBase(m, scheme))
    return scheme === 'https'
      ? m.httpsUrl
        ? `HTTPS down: ${m.httpsError ?? 'failed check'}`
        : 'no HTTPS'
      : `down: ${m.httpError ?? m.httpsError ?? 'failed check'}`;
  return null;
}

/**
 * The base URL to send a client to: the same scheme it used; a plain-HTTP client may go to
 * HTTPS when the mirror's HTTP side is missing or down (never the other way round).
 */
export function schemeBase(m: MirrorInfo, scheme: 'http' | 'https'): string | null {
  if (m.httpsUrl && m.httpsOk !== false && scheme === 'https') return m.httpsUrl;
  if (scheme === 'https') return null;
  if (m.httpUrl && m.httpOk !== false) return m.httpUrl;
  if (m.httpsUrl && m.httpsOk !== false) return m.httpsUrl;
  return null;
}

const BUCKET_RANK: Record<Bucket, number> = { prefix: 0, as: 1, country: 2, continent: 3, anywhere: 4 };

/**
 * Candidates in order: the first is where the client goes, the next ones are alternatives
 * (same order as the buckets, then score). With `explain`, also every excluded mirror and why.
 */
export function rankMirrors(
  mirrors: Iterable<MirrorInfo>,
  file: FileForChoice & { repoPath: string },
  c: ClientInfo,
  scheme: 'http' | 'https',
  verified: Set<number> | undefined,
  opts: { explain?: boolean; limit?: number } = {},
): { ranked: Ranked[]; excluded: Excluded[] } {
  const ranked: Ranked[] = [];
  const excluded: Excluded[] = [];
  if (!verified || verified.size === 0) {
    if (opts.explain)
      for (const m of mirrors) excluded.push({ mirror: m, reason: exclusion(m, file, c, scheme, verified) ?? 'file not verified on this mirror (yet)' });
    return { ranked, excluded };
  }
  // Keep only the best `limit` by (bucket, score): no object or URL for the others.
  const limit = opts.limit ?? Infinity;
  const topM: MirrorInfo[] = [];
  const topB: number[] = [];
  const topS: number[] = [];
  for (const m of mirrors) {
    const why = exclusion(m, file, c, scheme, verified);
    if (why) {
      if (opts.explain) excluded.push({ mirror: m, reason: why });
      continue;
    }
    const b = BUCKET_RANK[bucketOf(m, c)];
    const sc = rendezvousScore(m.weight, c.netHash, file.id, m.id);
    let i = topM.length;
    while (i > 0 && (topB[i - 1]! > b || (topB[i - 1] === b && topS[i - 1]! < sc))) i--;
    if (i >= limit) continue;
    topM.splice(i, 0, m);
    topB.splice(i, 0, b);
    topS.splice(i, 0, sc);
    if (topM.length > limit) {
      topM.pop();
      topB.pop();
      topS.pop();
    }
  }
  const path = encodePath(file.repoPath);
  for (let i = 0; i < topM.length; i++) {
    const m = topM[i]!;
    ranked.push({ mirror: m, url: `${schemeBase(m, scheme)!}/${path}`, bucket: BUCKETS[topB[i]!]!, score: topS[i]! });
  }
  return { ranked, excluded };
}

const pathCache = new Map<string, string>();
function encodePath(p: string): string {
  let e = pathCache.get(p);
  if (e === undefined) {
    e = p.split('/').map(encodeURIComponent).join('/');
    if (pathCache.size > 100_000) pathCache.clear();
    pathCache.set(p, e);
  }
  return e;
}

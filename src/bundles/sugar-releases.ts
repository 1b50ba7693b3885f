// The Sugar releases the store knows, and how a client's version maps onto them.
//
// Sugar numbers its stable releases with an even minor (0.112, 0.114, ...) and its development
// series with the odd one below (0.113 becomes 0.114); the updater client itself sends its version
// rounded up to even (Sugar 0.121 asks with appVersion=0.122, 0.99 with 0.100). The feeds and the
// JSON index do the same with a `sugar` parameter or a `User-Agent: Sugar/X.Y`, so a handful of
// release series is all they ever answer for (and cache).
import { parseSugarVersion, sugarVersionSortKey } from './version.js';

/** Every Sugar release series the store supports, oldest first. Add the next one when it ships. */
export const SUGAR_RELEASES: readonly string[] = [
  '0.82',
  '0.84',
  '0.86',
  '0.88',
  '0.90',
  '0.92',
  '0.94',
  '0.96',
  '0.98',
  '0.100',
  '0.102',
  '0.104',
  '0.106',
  '0.108',
  '0.110',
  '0.112',
  '0.114',
  '0.116',
  '0.118',
  '0.120',
  '0.122',
];

/**
 * The releases whose microformat updater can read a feed at all (docs/updates.md): the Python 2
 * client of 0.100-0.114 and the Python 3 one from 0.122. 0.116-0.120 fail on every feed because of
 * a bug of Sugar itself; before 0.100 Sugar had no microformat backend.
 */
export const MICROFORMAT_RELEASES: readonly string[] = ['0.100', '0.102', '0.104', '0.106', '0.108', '0.110', '0.112', '0.114', '0.122'];

const KNOWN = new Set(SUGAR_RELEASES);

/**
 * The release series of a Sugar version: major.minor with an odd minor rounded up to even
 * (0.117 -> 0.118, 0.118.2 -> 0.118, 0.99 -> 0.100). Null when it is not a Sugar version.
 */
export function sugarSeries(v: string): string | null {
  if (typeof v !== 'string' || v.length > 40) return null;
  const p = parseSugarVersion(v.trim());
  if (!p.valid || p.suffix !== null) return null;
  const major = p.parts[0]!;
  const minor = p.parts[1] ?? 0;
  if (!Number.isSafeInteger(major) || !Number.isSafeInteger(minor)) return null;
  return `${major}.${minor + (minor % 2)}`;
}

/** The known release series of a Sugar version, or null (not a version, or a release we do not know). */
export function knownSugarRelease(v: string): string | null {
  const s = sugarSeries(v);
  return s !== null && KNOWN.has(s) ? s : null;
}

/**
 * The Sugar version a client announces: Sugar's own downloader (the updaters) sends
 * `User-Agent: Sugar/<version>` since 0.100; Browse appends ` SugarLabs/<version>`. Returns the
 * known release series, or null.
 */
export function sugarFromUserAgent(ua: string | string[] | undefined | null): string | null {
  const s = Array.isArray(ua) ? ua.join(' ') : ua;
  if (!s || s.length > 1000) return null;
  const m = /(?:^|[\s(;])Sugar(?: ?Labs)?\/(\d{1,6}(?:\.\d{1,6}){1,3})(?=$|[\s);,])/i.exec(s);
  return m ? knownSugarRelease(m[1]!) : null;
}

/** Sort keys of the oldest and newest supported release: "runs on every Sugar" means both ends. */
export const OLDEST_RELEASE_KEY = sugarVersionSortKey(SUGAR_RELEASES[0]!);
export const NEWEST_RELEASE_KEY = sugarVersionSortKey(SUGAR_RELEASES[SUGAR_RELEASES.length - 1]!);

/** True when a version's effective range holds every release the store supports. */
export function runsOnEverySugar(r: { minKey: string | null; maxKey: string | null }): boolean {
  return (r.minKey === null || r.minKey <= OLDEST_RELEASE_KEY) && (r.maxKey === null || NEWEST_RELEASE_KEY <= r.maxKey);
}

// A mirror as the redirector holds it in memory (parsed prefixes, normalized base URLs).
import type { MirrorRow } from '../platform/db/schema.js';
import { parseCidr, type Cidr } from '../geo/ip.js';

/** The file at the top of the repo tree whose text changes at every publish: a mirror that has it synced. */
export const TRACE_FILE = 'TRACE';

export interface MirrorInfo {
  id: number;
  name: string;
  /** Base URLs without a trailing slash; the repo path is appended after "/". */
  httpUrl: string | null;
  httpsUrl: string | null;
  country: string | null;
  continent: string | null;
  asn: number | null;
  prefixes: Cidr[];
  latitude: number | null;
  longitude: number | null;
  weight: number;
  countryOnly: boolean;
  continentOnly: boolean;
  asOnly: boolean;
  maxFileSize: number | null;
  enabled: boolean;
  /** null: not checked yet (counts as up: verification itself reached it). */
  httpOk: boolean | null;
  httpsOk: boolean | null;
  httpError: string | null;
  httpsError: string | null;
}

export function baseUrl(url: string | null): string | null {
  if (!url) return null;
  return url.replace(/\/+$/, '');
}

export function mirrorInfo(row: MirrorRow): MirrorInfo {
  return {
    id: Number(row.id),
    name: row.name,
    httpUrl: baseUrl(row.http_url),
    httpsUrl: baseUrl(row.https_url),
    country: row.country,
    continent: row.continent,
    asn: row.asn === null ? null : Number(row.asn),
    prefixes: (row.prefixes ?? []).map((p) => parseCidr(p)).filter((c): c is Cidr => c !== null),
    latitude: row.latitude,
    longitude: row.longitude,
    weight: row.weight,
    countryOnly: row.country_only,
    continentOnly: row.continent_only,
    asOnly: row.as_only,
    maxFileSize: row.max_file_size === null ? null : Number(row.max_file_size),
    enabled: row.enabled,
    httpOk: row.http_ok,
    httpsOk: row.https_ok,
    httpError: row.http_error,
    httpsError: row.https_error,
  };
}

/** A mirror's URL of a repo path, on the given scheme's base. */
export function mirrorFileUrl(base: string, repoPath: string): string {
  return `${base}/${repoPath.split('/').map(encodeURIComponent).join('/')}`;
}

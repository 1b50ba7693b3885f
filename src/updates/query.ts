// The updater's query string, read straight from the request line. Sugar sends the bundle id
// without URL-encoding, so the value is taken as written and only %-escapes are decoded (a '+'
// stays a '+'); malformed escapes leave the value as written. The first occurrence of a key wins;
// unknown keys (reqVersion, version, appID, ...) are ignored.

export interface UpdateQuery {
  id: string | null;
  appVersion: string | null;
  experimental: boolean;
}

function decode(v: string): string {
  if (v.indexOf('%') === -1) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

export function parseUpdateQuery(url: string): UpdateQuery {
  const q: UpdateQuery = { id: null, appVersion: null, experimental: false };
  const at = url.indexOf('?');
  if (at === -1) return q;
  let seenId = false;
  let seenApp = false;
  let seenExp = false;
  const s = url.slice(at + 1);
  let start = 0;
  while (start <= s.length) {
    let end = s.indexOf('&', start);
    if (end === -1) end = s.length;
    const pair = s.slice(start, end);
    start = end + 1;
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    if (key === 'id' && !seenId) {
      seenId = true;
      const v = decode(value);
      q.id = v === '' ? null : v;
    } else if (key === 'appVersion' && !seenApp) {
      seenApp = true;
      const v = decode(value).trim();
      q.appVersion = v === '' ? null : v;
    } else if (key === 'experimental' && !seenExp) {
      seenExp = true;
      q.experimental = TRUE.has(decode(value).trim().toLowerCase());
    }
  }
  return q;
}

/** True when an If-None-Match header names this ETag (or is "*"). */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (!header) return false;
  const h = Array.isArray(header) ? header.join(',') : header;
  if (h.trim() === '*') return true;
  if (h === etag) return true;
  for (const part of h.split(',')) {
    const t = part.trim();
    if (t === etag || (t.startsWith('W/') && t.slice(2) === etag)) return true;
  }
  return false;
}

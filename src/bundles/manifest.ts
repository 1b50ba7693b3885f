// What a stored bundle holds, for comparing two versions (the editors' review page): every file
// entry under the root folder with its size, CRC-32 and Unix mode bits, and the text of the few
// small files worth showing line by line (activity.info, library.info). Only the central
// directory and those small entries are read: the bundle is never unpacked.
import { IssueList } from './errors.js';
import { DEFAULT_LIMITS, openBundleZip, readEntry, type BundleLimits } from './zip.js';
import { decodeUtf8 } from './text.js';

export interface ManifestEntry {
  /** Path relative to the root folder ('activity/activity.info'). */
  path: string;
  size: number;
  crc32: number;
  /** Permission bits from the entry's Unix attributes (0o755), or null when the zip made on another system has none. */
  mode: number | null;
}

export interface BundleManifest {
  root: string | null;
  entries: ManifestEntry[];
  /** The texts of the small files named in `texts` (by relative path), when present and UTF-8. */
  texts: Record<string, string>;
}

/** The small text files read for a line-by-line comparison. */
export const MANIFEST_TEXTS = ['activity/activity.info', 'library/library.info'] as const;

/** Above this size a text file is compared by size and checksum only. */
const MAX_TEXT_BYTES = 64 * 1024;

/** The manifest of a bundle file, or null when it cannot be opened as a bundle. */
export async function readBundleManifest(path: string, limits: BundleLimits = DEFAULT_LIMITS): Promise<BundleManifest | null> {
  const issues = new IssueList();
  const bz = await openBundleZip(path, limits, issues);
  if (!bz) return null;
  try {
    const root = bz.root;
    const prefix = root === null ? '' : `${root}/`;
    const entries: ManifestEntry[] = [];
    for (const info of bz.entries) {
      if (info.isDirectory || !info.name.startsWith(prefix)) continue;
      const unix = (info.entry.externalFileAttributes >>> 16) & 0xffff;
      entries.push({ path: info.name.slice(prefix.length), size: info.size, crc32: info.entry.crc32 >>> 0, mode: unix === 0 ? null : unix & 0o7777 });
    }
    const texts: Record<string, string> = {};
    for (const rel of MANIFEST_TEXTS) {
      const info = bz.byName.get(prefix + rel);
      if (!info || info.isDirectory || info.size > MAX_TEXT_BYTES) continue;
      try {
        const decoded = decodeUtf8(await readEntry(bz, info));
        if (decoded.ok) texts[rel] = decoded.text;
      } catch {
        // A damaged entry is compared by its size and checksum only.
      }
    }
    return { root, entries, texts };
  } finally {
    bz.close();
  }
}

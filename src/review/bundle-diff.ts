// What changed between two versions of a bundle, from the stored files themselves (the editors'
// review page): files added, removed and changed (size or content checksum) with their sizes,
// permission and executable-bit changes, and a line diff of activity.info. Read from each zip's
// central directory and its small text entries (src/bundles/manifest.ts), never unpacked.
import { readBundleManifest, type BundleManifest, type ManifestEntry } from '../bundles/index.js';

export interface FileChange {
  path: string;
  /** Size before, or null for an added file. */
  before: number | null;
  /** Size after, or null for a removed file. */
  after: number | null;
}

export interface ModeChange {
  path: string;
  before: string;
  after: string;
  /** True when the executable bit for the owner was set or cleared. */
  exec: boolean;
}

export interface TextLine {
  op: ' ' | '+' | '-';
  text: string;
}

export interface BundleDiff {
  added: FileChange[];
  removed: FileChange[];
  /** Same path, different size or content (CRC-32). */
  changed: FileChange[];
  modes: ModeChange[];
  /** Line diffs of the small text files that changed (activity/activity.info), by path. */
  texts: { path: string; lines: TextLine[] }[];
  unchanged: number;
}

/** A mode as `ls -l` writes the permission part ('rwxr-xr-x'), or '?' when the zip has none. */
export function modeString(mode: number | null): string {
  if (mode === null) return '?';
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : '-';
  return s;
}

/**
 * A line diff (longest common subsequence; the texts compared are small, at most a few hundred
 * lines), in order: unchanged lines ' ', removed '-', added '+' (a replaced line's old text first).
 */
export function diffLines(before: string, after: string): TextLine[] {
  const a = before.replace(/\r\n?/g, '\n').split('\n');
  const b = after.replace(/\r\n?/g, '\n').split('\n');
  if (a.at(-1) === '') a.pop();
  if (b.at(-1) === '') b.pop();
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: TextLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ op: '-', text: a[i]! });
      i++;
    } else {
      out.push({ op: '+', text: b[j]! });
      j++;
    }
  }
  return out;
}

/** The differences between two bundle manifests (the previous version's first). */
export function diffManifests(before: BundleManifest, after: BundleManifest): BundleDiff {
  const old = new Map<string, ManifestEntry>(before.entries.map((e) => [e.path, e]));
  const now = new Map<string, ManifestEntry>(after.entries.map((e) => [e.path, e]));
  const byPath = (x: { path: string }, y: { path: string }) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  const added: FileChange[] = [];
  const changed: FileChange[] = [];
  const modes: ModeChange[] = [];
  let unchanged = 0;
  for (const e of after.entries) {
    const o = old.get(e.path);
    if (!o) {
      added.push({ path: e.path, before: null, after: e.size });
      continue;
    }
    if (o.size !== e.size || o.crc32 !== e.crc32) changed.push({ path: e.path, before: o.size, after: e.size });
    else unchanged++;
    if (o.mode !== null && e.mode !== null && o.mode !== e.mode) {
      modes.push({ path: e.path, before: modeString(o.mode), after: modeString(e.mode), exec: (o.mode & 0o100) !== (e.mode & 0o100) });
    }
  }
  const removed = before.entries.filter((e) => !now.has(e.path)).map((e) => ({ path: e.path, before: e.size, after: null }));
  const texts: BundleDiff['texts'] = [];
  for (const path of new Set([...Object.keys(before.texts), ...Object.keys(after.texts)])) {
    const a = before.texts[path] ?? '';
    const b = after.texts[path] ?? '';
    if (a !== b) texts.push({ path, lines: diffLines(a, b) });
  }
  return { added: added.sort(byPath), removed: removed.sort(byPath), changed: changed.sort(byPath), modes: modes.sort(byPath), texts, unchanged };
}

/** The differences between two bundle files on disk, or null when either cannot be read as a zip. */
export async function diffBundleFiles(beforePath: string, afterPath: string): Promise<BundleDiff | null> {
  const [before, after] = await Promise.all([readBundleManifest(beforePath), readBundleManifest(afterPath)]);
  return before && after ? diffManifests(before, after) : null;
}

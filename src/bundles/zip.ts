// The zip layer: opens a bundle with yauzl, validates every central-directory entry, and reads or
// verifies single entries as streams with hard caps. Nothing here ever holds the whole bundle in
// memory: the entry list is metadata only, and entry data is read only for the few small files
// the inspector needs (activity.info, linfo, icon, NEWS) or streamed through a CRC check.
//
// Sugar itself (sugar3/bundle/bundle.py) checks only: it is a zip, it is not empty, a first entry
// named `mimetype` is skipped, the root folder is the first path segment of the first remaining
// entry, must not start with '.', and every entry lies under it. It does not look at `..`,
// absolute paths, symlinks, duplicates or sizes; we must, because the server stores and serves
// these files and a reviewer may unpack them.

import zlib from 'node:zlib';
import yauzl from 'yauzl';
import type { Readable } from 'node:stream';
import { open as fsOpen } from 'node:fs/promises';
import type { IssueCode, IssueParams } from './errors.js';
import { IssueList } from './errors.js';
import { decodeUtf8 } from './text.js';

export interface BundleLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  maxCompressionRatio: number;
  maxEntryBytes: number;
}

export const DEFAULT_LIMITS: BundleLimits = {
  maxEntries: 20000,
  maxUncompressedBytes: 2 * 1024 ** 3,
  maxCompressionRatio: 200,
  maxEntryBytes: 1024 ** 3,
};

/**
 * Compression ratios are only checked for entries (and totals) at least this large: small files
 * of zeros or repeated text legitimately compress by more than 200:1, and a bomb needs volume.
 */
export const RATIO_CHECK_MIN_BYTES = 1024 * 1024;

/** How many issues of one code are listed before the rest are summarized. */
const MAX_ISSUES_PER_CODE = 20;

export interface ZipEntryInfo {
  /** Decoded entry name as stored (directories end with '/'). */
  name: string;
  isDirectory: boolean;
  size: number;
  compressedSize: number;
  entry: yauzl.Entry;
}

export interface BundleZip {
  zip: yauzl.ZipFile;
  /** Valid entries in zip order, the leading `mimetype` entry excluded. */
  entries: ZipEntryInfo[];
  /** Entries by name with any trailing '/' removed. */
  byName: Map<string, ZipEntryInfo>;
  /** The root folder (first segment of the first entry), or null if there is none usable. */
  root: string | null;
  close(): void;
}

/** Error with an issue code, thrown by the entry readers. */
export class ZipEntryError extends Error {
  constructor(
    readonly code: IssueCode,
    message: string,
    readonly params?: IssueParams,
  ) {
    super(message);
  }
}

/** Reports issues, listing at most MAX_ISSUES_PER_CODE of each code and counting the rest. */
class CappedIssues {
  private counts = new Map<IssueCode, number>();
  constructor(private issues: IssueList) {}
  add(code: IssueCode, message: string, file: string | null, params?: IssueParams): void {
    const n = (this.counts.get(code) ?? 0) + 1;
    this.counts.set(code, n);
    if (n <= MAX_ISSUES_PER_CODE) this.issues.add(code, message, file, null, params);
  }
  flush(): void {
    for (const [code, n] of this.counts) {
      if (n > MAX_ISSUES_PER_CODE) {
        this.issues.add(code, `…and ${n - MAX_ISSUES_PER_CODE} more entries with the same problem (${code})`, null, null, {
          variant: 'more',
          count: n - MAX_ISSUES_PER_CODE,
        });
      }
    }
  }
}

async function startsWithZipSignature(path: string): Promise<{ size: number; pk: boolean }> {
  const fh = await fsOpen(path, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, 0);
    return { size, pk: buf[0] === 0x50 && buf[1] === 0x4b };
  } finally {
    await fh.close();
  }
}

function yauzlOpen(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // decodeStrings: false so we validate names ourselves (yauzl would stop at the first bad one);
    // validateEntrySizes: false so a size lie is reported per entry instead of aborting the
    // directory read; streamEntry() enforces sizes itself.
    yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: false }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

/** Reads the whole central directory (metadata only). Rejects with yauzl's error if it is broken. */
function readCentralDirectory(zip: yauzl.ZipFile): Promise<yauzl.Entry[]> {
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(out));
    zip.on('error', reject);
    zip.readEntry();
  });
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** Checks one entry name; returns the problem as [code, message] or null. */
function checkName(name: string, raw: Buffer, utf8Flag: boolean): [IssueCode, string, string?] | null {
  if (utf8Flag && !decodeUtf8(raw).ok) {
    return ['BUNDLE_ZIP_BAD_NAME', 'the name is flagged as UTF-8 but is not valid UTF-8; re-create the zip with a current zip tool', 'utf8'];
  }
  if (name.includes('\\')) {
    return ['BUNDLE_ZIP_BACKSLASH', 'the name contains a backslash; zip names must use "/" (re-create the zip on Linux or with a tool that writes "/")'];
  }
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) {
    return ['BUNDLE_ZIP_ABSOLUTE_PATH', 'the name is an absolute path; every file must be stored relative to the bundle root folder'];
  }
  const segments = name.split('/');
  if (segments.includes('..')) {
    return ['BUNDLE_ZIP_TRAVERSAL', 'the name contains a ".." segment, which would unpack outside the bundle folder'];
  }
  if (/[\x00-\x1f\x7f]/.test(name)) return ['BUNDLE_ZIP_BAD_NAME', 'the name contains control characters', 'control'];
  const body = name.endsWith('/') ? segments.slice(0, -1) : segments;
  if (body.length === 0 || body.some((s) => s === '' || s === '.')) {
    return ['BUNDLE_ZIP_BAD_NAME', 'the name has an empty or "." path segment', 'segment'];
  }
  return null;
}

/**
 * Opens and validates a bundle. Structural problems go to `issues`; returns null when the file
 * cannot be used at all (not found, not a zip, corrupt directory, empty, too many entries).
 * Entries with problems are dropped from `entries`, so later steps never see unsafe names.
 */
export async function openBundleZip(path: string, limits: BundleLimits, issues: IssueList): Promise<BundleZip | null> {
  let probe: { size: number; pk: boolean };
  try {
    probe = await startsWithZipSignature(path);
  } catch (e) {
    issues.add('BUNDLE_NOT_FOUND', `cannot read the bundle file: ${(e as Error).message}`, null, null, { detail: (e as Error).message });
    return null;
  }
  if (probe.size === 0) {
    issues.add('BUNDLE_NOT_ZIP', 'the file is empty (0 bytes); upload the .xo/.xol file itself', null, null, { variant: 'empty' });
    return null;
  }
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzlOpen(path);
  } catch (e) {
    if (probe.pk) {
      issues.add('BUNDLE_ZIP_CORRUPT', `the zip is truncated or damaged (${(e as Error).message}); upload the file again or rebuild it`, null, null, {
        variant: 'truncated',
        detail: (e as Error).message,
      });
    } else {
      issues.add('BUNDLE_NOT_ZIP', 'the file is not a zip archive; a Sugar bundle (.xo/.xol) is a zip file made by "python setup.py dist_xo" or any zip tool');
    }
    return null;
  }
  const close = () => {
    if (zip.isOpen) zip.close();
  };

  if (zip.entryCount === 0) {
    issues.add('BUNDLE_ZIP_EMPTY', 'the zip archive contains no files');
    close();
    return null;
  }
  if (zip.entryCount > limits.maxEntries) {
    issues.add('BUNDLE_ZIP_TOO_MANY_ENTRIES', `the zip has ${zip.entryCount} entries; at most ${limits.maxEntries} are allowed`, null, null, {
      count: zip.entryCount,
      max: limits.maxEntries,
    });
    close();
    return null;
  }

  let raw: yauzl.Entry[];
  try {
    raw = await readCentralDirectory(zip);
  } catch (e) {
    const msg = (e as Error).message;
    if (/encryption/i.test(msg)) issues.add('BUNDLE_ZIP_ENCRYPTED', 'the zip uses strong encryption; bundles must not be encrypted');
    else
      issues.add('BUNDLE_ZIP_CORRUPT', `the zip's central directory is damaged (${msg}); rebuild the bundle`, null, null, {
        variant: 'directory',
        detail: msg,
      });
    close();
    return null;
  }

  const capped = new CappedIssues(issues);
  const entries: ZipEntryInfo[] = [];
  const byName = new Map<string, ZipEntryInfo>();
  const seen = new Set<string>();
  const byFolded = new Map<string, string>();
  const offsets = new Set<number>();
  let totalSize = 0;
  let totalCompressed = 0;
  let first = true;

  for (const e of raw) {
    const isFirst = first;
    first = false;
    const rawName = e.fileName as unknown as Buffer; // decodeStrings: false gives Buffers
    const utf8 = (e.generalPurposeBitFlag & 0x800) !== 0;
    const name = yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, rawName, e.extraFields, true);
    const isDir = name.endsWith('/');
    totalSize += e.uncompressedSize;
    totalCompressed += e.compressedSize;

    const nameProblem = checkName(name, rawName, utf8);
    if (nameProblem) {
      capped.add(nameProblem[0], `${JSON.stringify(name)}: ${nameProblem[1]}`, name, nameProblem[2] ? { variant: nameProblem[2], name } : { name });
      continue;
    }
    let ok = true;
    const problem = (code: IssueCode, message: string, params: IssueParams = {}) => {
      capped.add(code, message, name, { name, ...params });
      ok = false;
    };
    if (e.isEncrypted()) problem('BUNDLE_ZIP_ENCRYPTED', `${name} is encrypted; bundles must not be password-protected`, { variant: 'entry' });
    else if (e.compressionMethod === 0 && e.compressedSize !== e.uncompressedSize) {
      problem('BUNDLE_ZIP_SIZE_MISMATCH', `${name} is stored uncompressed but declares two different sizes; the archive is damaged or hostile`);
    }
    if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
      problem(
        'BUNDLE_ZIP_UNSUPPORTED_COMPRESSION',
        `${name} uses compression method ${e.compressionMethod}; only "stored" (0) and "deflate" (8) are accepted`,
        { method: e.compressionMethod },
      );
    }
    // Unix file type in the high 16 bits of the external attributes (0 when not set).
    const type = (e.externalFileAttributes >>> 16) & 0xffff & S_IFMT;
    if (type === S_IFLNK) {
      problem('BUNDLE_ZIP_SYMLINK', `${name} is a symbolic link; bundles must contain regular files only (store the target file instead)`);
    } else if (type !== 0 && type !== S_IFDIR && type !== S_IFREG) {
      problem('BUNDLE_ZIP_SPECIAL_FILE', `${name} is a device, FIFO or socket; bundles must contain regular files only`);
    }
    if (e.uncompressedSize > limits.maxEntryBytes) {
      problem('BUNDLE_ZIP_ENTRY_TOO_LARGE', `${name} is ${e.uncompressedSize} bytes uncompressed; at most ${limits.maxEntryBytes} per file`, {
        size: e.uncompressedSize,
        max: limits.maxEntryBytes,
      });
    }
    const ratio = e.uncompressedSize / Math.max(e.compressedSize, 1);
    if (e.uncompressedSize >= RATIO_CHECK_MIN_BYTES && ratio > limits.maxCompressionRatio) {
      problem('BUNDLE_ZIP_RATIO', `${name} compresses ${Math.round(ratio)}:1, more than ${limits.maxCompressionRatio}:1 (zip bomb?)`, {
        ratio: Math.round(ratio),
        max: limits.maxCompressionRatio,
      });
    }
    if (offsets.has(e.relativeOffsetOfLocalHeader)) {
      problem('BUNDLE_ZIP_OVERLAP', `${name} shares its data with another entry (overlapping entries are a zip-bomb technique)`, { variant: 'shared' });
    }
    offsets.add(e.relativeOffsetOfLocalHeader);

    // A directory entry "a/" and a file "a" collide too, hence the key without the slash.
    const key = isDir ? name.slice(0, -1) : name;
    if (seen.has(key)) {
      capped.add('BUNDLE_ZIP_DUPLICATE', `${name} appears more than once in the zip; tools disagree on which copy wins`, name, { name });
      continue;
    }
    seen.add(key);
    const folded = key.toLowerCase();
    const other = byFolded.get(folded);
    if (other !== undefined) {
      capped.add(
        'BUNDLE_ZIP_CASE_DUPLICATE',
        `${name} and ${other} differ only in letter case; they collide when unpacked on a case-insensitive file system`,
        name,
        { name, other },
      );
    } else byFolded.set(folded, key);

    // Sugar skips a first entry named exactly `mimetype` (and never unpacks it).
    if (isFirst && name === 'mimetype') continue;
    if (!ok) continue;
    const info: ZipEntryInfo = { name, isDirectory: isDir, size: e.uncompressedSize, compressedSize: e.compressedSize, entry: e };
    byName.set(key, info);
    entries.push(info);
  }

  if (totalSize > limits.maxUncompressedBytes) {
    issues.add('BUNDLE_ZIP_TOO_LARGE', `the bundle unpacks to ${totalSize} bytes; at most ${limits.maxUncompressedBytes} are allowed`, null, null, {
      size: totalSize,
      max: limits.maxUncompressedBytes,
    });
  }
  if (totalSize >= RATIO_CHECK_MIN_BYTES && totalSize / Math.max(totalCompressed, 1) > limits.maxCompressionRatio) {
    issues.add(
      'BUNDLE_ZIP_RATIO',
      `the bundle as a whole compresses ${Math.round(totalSize / Math.max(totalCompressed, 1))}:1, more than ${limits.maxCompressionRatio}:1 (zip bomb?)`,
      null,
      null,
      { variant: 'total', ratio: Math.round(totalSize / Math.max(totalCompressed, 1)), max: limits.maxCompressionRatio },
    );
  }
  capped.flush();

  const root = findRoot(entries, issues);
  return { zip, entries, byName, root, close };
}

/**
 * The root is the first segment of the first entry, as in Sugar; every other entry must be
 * inside it (Sugar only checks a string prefix, so `Foo.activityX/` would pass there; we require
 * the same first segment).
 */
function findRoot(entries: ZipEntryInfo[], issues: IssueList): string | null {
  if (entries.length === 0) {
    if (!issues.hasErrors) issues.add('BUNDLE_ZIP_EMPTY', 'the zip archive contains no files besides "mimetype"', null, null, { variant: 'mimetype' });
    return null;
  }
  const root = entries[0].name.split('/')[0];
  if (root.startsWith('.')) {
    issues.add('BUNDLE_ROOT_DOT', `the root folder "${root}" starts with "."; Sugar refuses hidden root folders`, entries[0].name, null, { root });
  }
  const capped = new CappedIssues(issues);
  for (const e of entries) {
    if (e.name === root) {
      capped.add('BUNDLE_ROOT_NOT_DIR', `"${root}" is a file, but it must be the folder holding the whole bundle`, e.name, { root });
    } else if (e.name.split('/')[0] !== root) {
      capped.add('BUNDLE_ROOT_MULTIPLE', `${e.name} is outside the root folder "${root}/"; all files must be inside one top-level folder`, e.name, {
        name: e.name,
        root,
      });
    }
  }
  capped.flush();
  return root;
}

// ---------------------------------------------------------------------------------------------
// Reading entries

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

// zlib's native CRC-32 (Node 20.15+) is about 25x faster than the table loop, which stays as
// the fallback for older Node 20 releases.
const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function crc32Update(crc: number, buf: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(buf, crc) >>> 0;
  let c = crc ^ 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function classifyStreamError(name: string, e: Error): ZipEntryError {
  const msg = e.message;
  if (/too many bytes|not enough bytes/.test(msg)) {
    return new ZipEntryError(
      'BUNDLE_ZIP_SIZE_MISMATCH',
      `${name} inflates to a different size than the zip declares (${msg}); the archive is damaged or hostile`,
      { variant: 'inflated', name, detail: msg },
    );
  }
  return new ZipEntryError('BUNDLE_ZIP_CORRUPT', `${name} cannot be decompressed (${msg}); rebuild the bundle`, { variant: 'entry', name, detail: msg });
}

/**
 * Streams one entry. With `keep`, returns its bytes (the entry's declared size must be at most
 * `maxBytes`, checked by the caller); without, only verifies it. Always checks the inflated size
 * against the declared size (yauzl aborts as soon as a stream overruns) and the CRC-32.
 */
async function streamEntry(bz: BundleZip, info: ZipEntryInfo, keep: boolean): Promise<Buffer | null> {
  const e = info.entry;
  let stream: Readable;
  try {
    stream = await bz.zip.openReadStreamPromise(e);
  } catch (err) {
    throw classifyStreamError(info.name, err as Error);
  }
  const chunks: Buffer[] = [];
  let crc = 0;
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > e.uncompressedSize) {
        // Stop inflating at once: this is how a bomb that lies about its size is defused.
        throw new Error(`too many bytes in the stream. expected ${e.uncompressedSize}, got at least ${total}`);
      }
      crc = crc32Update(crc, chunk);
      if (keep) chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    throw classifyStreamError(info.name, err as Error);
  }
  if (total !== e.uncompressedSize) {
    throw classifyStreamError(info.name, new Error(`not enough bytes in the stream. expected ${e.uncompressedSize}, got ${total}`));
  }
  if (crc !== e.crc32) {
    throw new ZipEntryError('BUNDLE_ZIP_CRC_MISMATCH', `${info.name} fails its CRC-32 check; the archive is damaged, upload it again`, { name: info.name });
  }
  return keep ? Buffer.concat(chunks, total) : null;
}

/** Reads an entry fully into memory; the caller guarantees `info.size` is small. */
export async function readEntry(bz: BundleZip, info: ZipEntryInfo): Promise<Buffer> {
  return (await streamEntry(bz, info, true))!;
}

/**
 * Verifies every file entry (except those in `skip`): local header name equals the central
 * directory name, entries do not overlap, data inflates to the declared size with the right
 * CRC. This is what makes "Sugar's unzip will be able to unpack it" true.
 */
export async function verifyEntries(bz: BundleZip, issues: IssueList, skip: ReadonlySet<ZipEntryInfo>): Promise<void> {
  const capped = new CappedIssues(issues);
  const sorted = [...bz.entries].sort((a, b) => a.entry.relativeOffsetOfLocalHeader - b.entry.relativeOffsetOfLocalHeader);
  for (let i = 0; i < sorted.length; i++) {
    const info = sorted[i];
    const e = info.entry;
    try {
      const header = await bz.zip.readLocalFileHeaderPromise(e);
      const centralName = e.fileName as unknown as Buffer;
      if (!Buffer.from(header.fileName).equals(centralName)) {
        capped.add(
          'BUNDLE_ZIP_NAME_MISMATCH',
          `${info.name}: the local file header names a different file (${JSON.stringify(header.fileName.toString('latin1'))}); tools would unpack different files`,
          info.name,
          { name: info.name, other: header.fileName.toString('latin1') },
        );
        continue;
      }
      const next = sorted[i + 1];
      const end = header.fileDataStart + e.compressedSize;
      if (next && end > next.entry.relativeOffsetOfLocalHeader) {
        capped.add('BUNDLE_ZIP_OVERLAP', `${info.name} overlaps the data of ${next.name} (a zip-bomb technique)`, info.name, {
          name: info.name,
          other: next.name,
        });
        continue;
      }
    } catch (err) {
      capped.add('BUNDLE_ZIP_CORRUPT', `${info.name}: bad local file header (${(err as Error).message}); rebuild the bundle`, info.name, {
        variant: 'header',
        name: info.name,
        detail: (err as Error).message,
      });
      continue;
    }
    if (info.isDirectory && e.uncompressedSize === 0) continue;
    if (skip.has(info)) continue;
    try {
      await streamEntry(bz, info, false);
    } catch (err) {
      if (err instanceof ZipEntryError) capped.add(err.code, err.message, info.name, err.params);
      else throw err;
    }
  }
  capped.flush();
}

// Builds Sugar bundles for tests:
//  * buildBundle(files, outPath): a well-formed zip from { "Root.activity/path": content };
//  * buildBundleFromCorpusFolder(folder, outPath): a .xo (or .xol) from a folder of the shared
//    metadata corpus, the way the corpus README describes;
//  * buildRawZip(entries): hand-made zip bytes, for hostile archives no zip tool would write
//    (traversal names, symlinks, encrypted flags, lying sizes, duplicate names...).
import { createWriteStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import yazl from 'yazl';

export interface BuildOptions {
  /** Add a first `mimetype` entry, as Sugar's bundle builder does (default false). */
  mimetype?: 'application/vnd.olpc-sugar' | 'application/vnd.olpc-content';
  /** Deflate entries (default true). */
  compress?: boolean;
  /** Unix modes of some entries by full zip path (default 0o100644). */
  modes?: Record<string, number>;
}

/** Writes a zip with the given entries (names are full zip paths, root folder included). */
export async function buildBundle(files: Record<string, string | Buffer>, outPath: string, opts: BuildOptions = {}): Promise<string> {
  const zip = new yazl.ZipFile();
  const mtime = new Date('2024-01-01T00:00:00Z');
  if (opts.mimetype) zip.addBuffer(Buffer.from(opts.mimetype), 'mimetype', { compress: false, mtime });
  for (const [name, content] of Object.entries(files)) {
    const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    zip.addBuffer(buf, name, { compress: opts.compress ?? true, mtime, mode: opts.modes?.[name] ?? 0o100644 });
  }
  zip.end();
  await new Promise<void>((res, rej) => {
    const out = createWriteStream(outPath);
    zip.outputStream
      .pipe(out)
      .on('close', () => res())
      .on('error', rej);
    zip.outputStream.on('error', rej);
  });
  return outPath;
}

// ---------------------------------------------------------------------------------------------
// Corpus bundles

const here = fileURLToPath(new URL('.', import.meta.url));
/** The checkout (ASLO_TEST_CHECKOUT: see test/helpers/cli.ts). */
export const REPO_ROOT = process.env.ASLO_TEST_CHECKOUT ?? resolve(here, '..', '..');

/** The shared corpus: ../shared/corpus next to the repository, or $ASLO_CORPUS_DIR. */
export function corpusDir(): string {
  return process.env.ASLO_CORPUS_DIR ? resolve(process.env.ASLO_CORPUS_DIR) : resolve(REPO_ROOT, '..', 'shared', 'corpus');
}

export async function listCorpusFolders(dir = corpusDir()): Promise<string[]> {
  const names = await readdir(dir);
  const out: string[] = [];
  for (const n of names.sort()) if ((await stat(join(dir, n))).isDirectory()) out.push(n);
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const p = join(dir, name);
    if ((await stat(p)).isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

/**
 * The value of `key` in an info file, found with a deliberately naive scan (first `key = value`
 * line, `%(x)s` resolved from other lines): the builder must not depend on the parser under test.
 */
function naiveKey(text: string, key: string): string | null {
  const values = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z_]+)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m && !values.has(m[1].toLowerCase())) values.set(m[1].toLowerCase(), m[2]);
  }
  const v = values.get(key);
  if (v === undefined) return null;
  return v.replace(/%\(([^)]+)\)s/g, (_a, ref: string) => values.get(ref.toLowerCase()) ?? '');
}

export interface CorpusBundle {
  path: string;
  root: string;
  kind: 'activity' | 'content';
}

/**
 * Builds a bundle from a corpus folder. Activities: root `<name without spaces>.activity/` with
 * every file of the folder except SOURCE, plus a generated activity.py. Content bundles
 * (library/library.info): root `<name without spaces>/` plus a generated start page
 * (activity_start, default index.html), since the corpus keeps metadata only.
 */
export async function buildBundleFromCorpusFolder(folder: string, outPath: string): Promise<CorpusBundle> {
  const files: Record<string, Buffer> = {};
  const all = await walk(folder);
  const rel = (p: string) => relative(folder, p).split(sep).join('/');
  const isContent = all.some((p) => rel(p) === 'library/library.info');
  const infoPath = join(folder, isContent ? 'library/library.info' : 'activity/activity.info');
  const infoText = await readFile(infoPath, 'utf8');
  const name = (naiveKey(infoText, 'name') ?? folder.split(sep).pop() ?? 'Bundle').replace(/\s+/g, '').replace(/\//g, '');
  const root = isContent ? name : `${name}.activity`;
  for (const p of all) {
    const r = rel(p);
    if (r === 'SOURCE') continue;
    files[`${root}/${r}`] = await readFile(p);
  }
  if (isContent) {
    const start = naiveKey(infoText, 'activity_start') ?? 'index.html';
    files[`${root}/${start}`] ??= Buffer.from(`<!doctype html><title>${name}</title><p>Generated start page for tests.</p>\n`);
  } else {
    files[`${root}/activity.py`] ??= Buffer.from('# Generated for tests: the corpus keeps metadata only.\n');
  }
  await buildBundle(files, outPath, {
    mimetype: isContent ? 'application/vnd.olpc-content' : 'application/vnd.olpc-sugar',
  });
  return { path: outPath, root, kind: isContent ? 'content' : 'activity' };
}

// ---------------------------------------------------------------------------------------------
// Raw zips

export interface RawZipEntry {
  name: string | Buffer;
  data?: Buffer | string;
  /** 0 = stored (default), 8 = deflate; other values are written as-is with the raw data. */
  method?: number;
  /** General purpose flags (bit 0 = encrypted, bit 11 = UTF-8 names; UTF-8 is set by default). */
  flags?: number;
  /** Unix mode for the high 16 bits of the external attributes (e.g. 0o120777 for a symlink). */
  unixMode?: number;
  /** Override the declared uncompressed size / CRC in both headers (for lying archives). */
  declaredSize?: number;
  declaredCrc?: number;
  /** Name written in the local header if it should differ from the central directory. */
  localName?: string | Buffer;
  /** Point the central directory at the local header of entry #n instead (overlapping entries). */
  sameDataAs?: number;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Writes a zip by hand: local headers + data, central directory, end record. */
export function buildRawZip(entries: RawZipEntry[]): Buffer {
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const offsets: number[] = [];
  for (const e of entries) {
    offsets.push(offset);
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : e.name;
    const localName = e.localName === undefined ? name : typeof e.localName === 'string' ? Buffer.from(e.localName, 'utf8') : e.localName;
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0));
    const method = e.method ?? 0;
    const payload = method === 8 ? deflateRawSync(data) : data;
    const size = e.declaredSize ?? data.length;
    const crc = e.declaredCrc ?? crc32(data);
    const flags = e.flags ?? 0x800;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x5821, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(localName.length, 26);
    local.writeUInt16LE(0, 28);
    chunks.push(local, localName, payload);

    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x5821, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(payload.length, 20);
    cd.writeUInt32LE(size, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(((e.unixMode ?? 0o100644) << 16) >>> 0, 38);
    cd.writeUInt32LE(e.sameDataAs === undefined ? offset : offsets[e.sameDataAs], 42);
    central.push(cd, name);
    offset += local.length + localName.length + payload.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...chunks, cdBuf, eocd]);
}

export async function writeRawZip(entries: RawZipEntry[], outPath: string): Promise<string> {
  await writeFile(outPath, buildRawZip(entries));
  return outPath;
}

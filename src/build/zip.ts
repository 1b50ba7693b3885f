// A zip writer that produces the archive Python's zipfile writes for Sugar's bundle builder
// (ZIP_DEFLATED, zlib level 6, made by Unix 2.0, no extra fields, no data descriptors), with
// everything that made the builder's output differ between runs fixed: entry order, times (the
// commit's date, in UTC), modes (from git), and the deflate stream itself (pako, a JavaScript
// port of zlib whose output is that of canonical zlib 1.2.x on every machine; Node's own zlib is
// Chromium's fork, whose output depends on the CPU's instruction set).
import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';

// pako's zlib port, used directly so that one stream (and its 300 KB of buffers) serves every
// file: deflateReset gives the output of a fresh stream, without allocating it again.
interface PakoState {
  window: Uint8Array;
  prev: Uint16Array;
  head: Uint16Array;
  w_size: number;
  window_size: number;
  max_lazy_match: number;
  good_match: number;
  nice_match: number;
  max_chain_length: number;
  strstart: number;
  block_start: number;
  lookahead: number;
  insert: number;
  match_length: number;
  prev_length: number;
  match_available: number;
  ins_h: number;
}
interface PakoStream {
  state: PakoState | null;
  input: Uint8Array | null;
  next_in: number;
  avail_in: number;
  output: Uint8Array | null;
  next_out: number;
  avail_out: number;
}
interface PakoDeflate {
  deflateInit2(strm: PakoStream, level: number, method: number, windowBits: number, memLevel: number, strategy: number, legacyHash: boolean): number;
  deflateReset(strm: PakoStream): number;
  deflateResetKeep(strm: PakoStream): number;
  deflate(strm: PakoStream, flush: number): number;
}
const require = createRequire(import.meta.url);
const pakoDeflate = require('pako/lib/zlib/deflate.js') as PakoDeflate;
const PakoZStream = require('pako/lib/zlib/zstream.js') as new () => PakoStream;
const Z_FINISH = 4;
const Z_STREAM_END = 1;
const CHUNK = 16384;

export interface ZipInput {
  name: string;
  /** File bytes; absent for a directory entry (name ends with "/"). */
  data?: Buffer;
  /** Unix mode, e.g. 0o100644, 0o100755, 0o40755. */
  mode: number;
}

export const DEFLATE_LEVEL = 6;

/** MS-DOS date and time of a moment, read in UTC (2-second resolution, 1980-2107). */
export function dosDateTime(epochSeconds: number): { date: number; time: number } {
  const min = Date.UTC(1980, 0, 1) / 1000;
  const max = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
  const d = new Date(Math.min(Math.max(epochSeconds, min), max) * 1000);
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1),
  };
}

/** Raw deflate at DEFLATE_LEVEL, window 2^15, memLevel 8, default strategy: zlib's defaults. */
export class Deflater {
  private readonly strm: PakoStream = new PakoZStream();
  /** The parameters of the level, as deflateInit2 set them. */
  private readonly params: Pick<PakoState, 'max_lazy_match' | 'good_match' | 'nice_match' | 'max_chain_length'>;
  /** How many bytes of the window and of prev[] the last file may have written. */
  private dirty = 0;
  private readonly out = new Uint8Array(CHUNK);

  constructor() {
    // legacyHash: zlib's own hash function (pako's default, and what makes its output zlib's).
    if (pakoDeflate.deflateInit2(this.strm, DEFLATE_LEVEL, 8, -15, 8, 0, true) !== 0) throw new Error('deflateInit2 failed');
    const s = this.strm.state!;
    this.params = { max_lazy_match: s.max_lazy_match, good_match: s.good_match, nice_match: s.nice_match, max_chain_length: s.max_chain_length };
  }

  /**
   * deflateReset, done as pako's lm_init does it but clearing the hash table natively; and the
   * window and prev[] cleared where the last file wrote them (a fresh stream's are zeros:
   * deflate can look at window bytes past the end of the data, so the previous file's bytes
   * must not be left there). Input of length L writes only window[0, min(L, 2 w_size)) and
   * prev[0, min(L, w_size)).
   */
  private reset(): void {
    const strm = this.strm;
    if (pakoDeflate.deflateResetKeep(strm) !== 0) throw new Error('deflateReset failed');
    const s = strm.state!;
    s.window_size = 2 * s.w_size;
    s.head.fill(0);
    s.max_lazy_match = this.params.max_lazy_match;
    s.good_match = this.params.good_match;
    s.nice_match = this.params.nice_match;
    s.max_chain_length = this.params.max_chain_length;
    s.strstart = 0;
    s.block_start = 0;
    s.lookahead = 0;
    s.insert = 0;
    s.match_length = s.prev_length = 2; // MIN_MATCH - 1
    s.match_available = 0;
    s.ins_h = 0;
    if (this.dirty > 0) {
      s.window.fill(0, 0, Math.min(this.dirty, s.window.length));
      s.prev.fill(0, 0, Math.min(this.dirty, s.prev.length));
    }
  }

  deflate(data: Uint8Array): Buffer {
    const strm = this.strm;
    this.reset();
    this.dirty = data.length;
    // Output in 16 KiB chunks, as pako.deflateRaw (and Python's zlib module) give it: the
    // stream zlib writes for incompressible data depends on the room it is given.
    strm.input = data;
    strm.next_in = 0;
    strm.avail_in = data.length;
    const chunks: Buffer[] = [];
    const out = this.out;
    for (;;) {
      strm.output = out;
      strm.next_out = 0;
      strm.avail_out = CHUNK;
      const status = pakoDeflate.deflate(strm, Z_FINISH);
      chunks.push(Buffer.from(out.subarray(0, strm.next_out)));
      if (status === Z_STREAM_END) break;
      if (status !== 0 || strm.avail_out !== 0) throw new Error(`deflate ended with status ${status}`);
    }
    strm.input = null;
    strm.output = null;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

/** One deflater for every archive (writeZip is synchronous: no two use it at once). */
let sharedDeflater: Deflater | null = null;

function isAscii(s: string): boolean {
  return /^[\x00-\x7f]*$/.test(s);
}

/** The whole archive. Directory entries are stored; files are deflated (empty ones too). */
export function writeZip(entries: ZipInput[], epochSeconds: number): Buffer {
  const { date, time } = dosDateTime(epochSeconds);
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const deflater = (sharedDeflater ??= new Deflater());
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const flags = isAscii(e.name) ? 0 : 0x800;
    const isDir = e.data === undefined;
    const data = e.data ?? Buffer.alloc(0);
    const method = isDir ? 0 : 8;
    const payload = isDir ? data : deflater.deflate(data);
    const crc = isDir ? 0 : crc32(data) >>> 0;
    const external = ((e.mode & 0xffff) * 0x10000 + (isDir ? 0x10 : 0)) >>> 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    parts.push(local, name, payload);

    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(time, 12);
    cd.writeUInt16LE(date, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(payload.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(external, 38);
    cd.writeUInt32LE(offset, 42);
    central.push(cd, name);
    offset += local.length + name.length + payload.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}

export interface ZipRecord {
  name: string;
  /** The local header and data bytes of the entry. */
  local: Buffer;
  /** The central directory record. */
  central: Buffer;
}

/** Splits an archive this module wrote (or any plain zip without zip64) into its entries. */
export function readZipRecords(buf: Buffer): ZipRecord[] | null {
  const endAt = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endAt < 0 || endAt + 22 > buf.length) return null;
  const count = buf.readUInt16LE(endAt + 10);
  let p = buf.readUInt32LE(endAt + 16);
  const out: ZipRecord[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) return null;
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const csize = buf.readUInt32LE(p + 20);
    const localAt = buf.readUInt32LE(p + 42);
    const central = buf.subarray(p, p + 46 + nameLen + extraLen + commentLen);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (localAt + 30 > buf.length) return null;
    const localLen = 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28) + csize;
    out.push({ name, local: buf.subarray(localAt, localAt + localLen), central });
    p += central.length;
  }
  return out;
}

// Writes GNU .mo files byte for byte as GNU msgfmt 0.21 does on a 64-bit Linux machine (the
// machines Sugar bundles were built on): little-endian, revision 0, original and translation
// tables, the hash table, then every key and every value, each NUL-terminated, no padding.
import type { PoEntry, PoFile } from './po.js';

export interface MoMessage {
  /** context 0x04 msgid, or msgid NUL msgid_plural for plural entries (bytes of the PO's charset). */
  key: Buffer;
  /** The translation; plural forms joined by NUL. */
  value: Buffer;
}

/** The entries msgfmt writes: not obsolete, not fuzzy (the header's fuzziness is ignored), first form translated. */
export function moMessages(po: PoFile): MoMessage[] {
  const out: MoMessage[] = [];
  for (const e of po.entries) {
    if (e.obsolete) continue;
    const isHeader = e.context === null && e.id.length === 0;
    if (e.fuzzy && !isHeader) continue;
    if (e.strs[0].length === 0) continue;
    out.push({ key: messageKey(e), value: e.strs.length === 1 ? e.strs[0] : joinNul(e.strs) });
  }
  out.sort((a, b) => Buffer.compare(a.key, b.key));
  return out;
}

function messageKey(e: PoEntry): Buffer {
  const id = e.idPlural ? joinNul([e.id, e.idPlural]) : e.id;
  return e.context ? Buffer.concat([e.context, Buffer.from([4]), id]) : id;
}

function joinNul(parts: Buffer[]): Buffer {
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(Buffer.from([0]));
    out.push(p);
  });
  return Buffer.concat(out);
}

/**
 * GNU's hash_string (PJW) with `unsigned long` arithmetic, i.e. 64 bits on Linux: the top nibble
 * of the low 32 bits is folded down and cleared; a carry past bit 31 survives, as it does there.
 * Hashes the key up to its first NUL (for plural entries, the msgid alone). Kept as two 32-bit
 * halves (the high half is almost always 0).
 */
export function hashKey(key: Buffer): bigint {
  const [hi, lo] = hashHalves(key);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function hashHalves(key: Buffer): [number, number] {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < key.length; i++) {
    const b = key[i];
    if (b === 0) break;
    // lo < 2^28 here (its top nibble was cleared), so lo * 16 + b < 2^32 + 240.
    const shifted = lo * 16 + b;
    if (shifted >= 0x100000000 || hi !== 0) {
      hi = ((hi * 16) % 0x100000000) + (shifted >= 0x100000000 ? 1 : 0);
      lo = shifted % 0x100000000;
    } else lo = shifted;
    const g = lo & 0xf0000000;
    if (g !== 0) {
      lo = (lo ^ (g >>> 24)) >>> 0;
      lo = (lo ^ g) >>> 0;
    }
  }
  return [hi, lo];
}

/** hash mod m, with the hash given as two 32-bit halves. */
function hashMod(h: [number, number], m: number): number {
  if (h[0] === 0) return h[1] % m;
  return Number(((BigInt(h[0]) << 32n) | BigInt(h[1])) % BigInt(m));
}

/** GNU's trial-division test (it calls 3 "not prime"; only odd numbers are asked). */
function isGnuPrime(candidate: number): boolean {
  let div = 3;
  let square = div * div;
  while (square < candidate && candidate % div !== 0) {
    div++;
    square += 4 * div;
    div++;
  }
  return candidate % div !== 0;
}

export function hashTableSize(count: number): number {
  let size = Math.floor((count * 4) / 3) | 1;
  while (!isGnuPrime(size)) size += 2;
  return size <= 2 ? 3 : size;
}

/** The .mo bytes, or null when there is nothing to write (msgfmt then writes no file at all). */
export function writeMo(messages: MoMessage[]): Buffer | null {
  const n = messages.length;
  if (n === 0) return null;
  const size = hashTableSize(n);
  const origOffset = 28;
  const transOffset = origOffset + 8 * n;
  const hashOffset = transOffset + 8 * n;
  let stringOffset = hashOffset + 4 * size;
  const head = Buffer.alloc(stringOffset);
  head.writeUInt32LE(0x950412de, 0);
  head.writeUInt32LE(0, 4);
  head.writeUInt32LE(n, 8);
  head.writeUInt32LE(origOffset, 12);
  head.writeUInt32LE(transOffset, 16);
  head.writeUInt32LE(size, 20);
  head.writeUInt32LE(hashOffset, 24);
  const chunks: Buffer[] = [head];
  const nul = Buffer.from([0]);
  messages.forEach((m, i) => {
    head.writeUInt32LE(m.key.length, origOffset + 8 * i);
    head.writeUInt32LE(stringOffset, origOffset + 8 * i + 4);
    chunks.push(m.key, nul);
    stringOffset += m.key.length + 1;
  });
  messages.forEach((m, i) => {
    head.writeUInt32LE(m.value.length, transOffset + 8 * i);
    head.writeUInt32LE(stringOffset, transOffset + 8 * i + 4);
    chunks.push(m.value, nul);
    stringOffset += m.value.length + 1;
  });
  const table = new Uint32Array(size);
  messages.forEach((m, i) => {
    const h = hashHalves(m.key);
    let idx = hashMod(h, size);
    if (table[idx] !== 0) {
      const incr = 1 + hashMod(h, size - 2);
      do {
        if (idx >= size - incr) idx -= size - incr;
        else idx += incr;
      } while (table[idx] !== 0);
    }
    table[idx] = i + 1;
  });
  for (let i = 0; i < size; i++) head.writeUInt32LE(table[i], hashOffset + 4 * i);
  return Buffer.concat(chunks);
}

/** msgfmt's output for a parsed PO file (null: msgfmt writes no file). */
export function compileMo(po: PoFile): Buffer | null {
  return writeMo(moMessages(po));
}

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

const MASK64 = (1n << 64n) - 1n;

/**
 * GNU's hash_string (PJW) with `unsigned long` arithmetic, i.e. 64 bits on Linux: the top nibble
 * of the low 32 bits is folded down and cleared; a carry past bit 31 survives, as it does there.
 * Hashes the key up to its first NUL (for plural entries, the msgid alone).
 */
export function hashKey(key: Buffer): bigint {
  let h = 0n;
  for (const b of key) {
    if (b === 0) break;
    h = ((h << 4n) + BigInt(b)) & MASK64;
    const g = h & 0xf0000000n;
    if (g !== 0n) {
      h ^= g >> 24n;
      h ^= g;
    }
  }
  return h;
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
  const bigSize = BigInt(size);
  messages.forEach((m, i) => {
    const h = hashKey(m.key);
    let idx = Number(h % bigSize);
    if (table[idx] !== 0) {
      const incr = 1 + Number(h % (bigSize - 2n));
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

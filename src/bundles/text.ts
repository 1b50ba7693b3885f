// Strict UTF-8 decoding, as Python's bytes.decode('utf-8') does it: invalid sequences, overlong
// forms and encoded surrogates are errors, and a byte-order mark is NOT removed (Python's 'utf-8'
// codec keeps U+FEFF; only 'utf-8-sig' strips it).

export type DecodeResult = { ok: true; text: string } | { ok: false; byteOffset: number; line: number };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeUtf8(buf: Uint8Array): DecodeResult {
  try {
    return { ok: true, text: decoder.decode(buf) };
  } catch {
    const byteOffset = firstInvalidUtf8(buf);
    let line = 1;
    for (let i = 0; i < byteOffset; i++) if (buf[i] === 0x0a) line++;
    return { ok: false, byteOffset, line };
  }
}

export function hasUtf8Bom(buf: Uint8Array): boolean {
  return buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (buf.length if none). */
function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined) return i;
      const min = k === 1 ? lo : 0x80;
      const max = k === 1 ? hi : 0xbf;
      if (c < min || c > max) return i;
    }
    i += need + 1;
  }
  return buf.length;
}

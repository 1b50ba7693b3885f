// The other representations of a file: Metalink v4 (RFC 5854) with piece hashes and ranked
// mirror URLs, and sha256sum-format hash files.

export interface MetalinkFile {
  fileName: string;
  size: number;
  sha256: string;
  sha1: string | null;
  md5: string | null;
  pieceLength: number;
  /** SHA-256 of each piece, concatenated (32 bytes each). */
  pieceHashes: Buffer;
  publishedAt: Date;
}

export interface MetalinkUrl {
  url: string;
  /** ISO 3166-1 alpha-2, any case (written lower case). */
  location?: string | null;
  /** 1 (most preferred) to 999999. */
  priority: number;
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A Metalink v4 document (RFC 5854) describing one file. */
export function metalink(
  file: MetalinkFile,
  urls: MetalinkUrl[],
  opts: { origin: string; publisher?: { name: string; url: string }; generator?: string },
): string {
  const lines: string[] = [];
  lines.push('<?xml version="1.0" encoding="UTF-8"?>');
  lines.push('<metalink xmlns="urn:ietf:params:xml:ns:metalink">');
  lines.push(`  <generator>${xmlEscape(opts.generator ?? 'aslo')}</generator>`);
  lines.push(`  <origin dynamic="true">${xmlEscape(opts.origin)}</origin>`);
  lines.push(`  <published>${file.publishedAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}</published>`);
  lines.push(`  <file name="${xmlEscape(file.fileName)}">`);
  if (opts.publisher) lines.push(`    <publisher name="${xmlEscape(opts.publisher.name)}" url="${xmlEscape(opts.publisher.url)}"/>`);
  lines.push(`    <size>${file.size}</size>`);
  lines.push(`    <hash type="sha-256">${file.sha256}</hash>`);
  if (file.sha1) lines.push(`    <hash type="sha-1">${file.sha1}</hash>`);
  if (file.md5) lines.push(`    <hash type="md5">${file.md5}</hash>`);
  const n = Math.floor(file.pieceHashes.length / 32);
  if (n > 0) {
    lines.push(`    <pieces length="${file.pieceLength}" type="sha-256">`);
    for (let i = 0; i < n; i++) lines.push(`      <hash>${file.pieceHashes.subarray(i * 32, i * 32 + 32).toString('hex')}</hash>`);
    lines.push('    </pieces>');
  }
  for (const u of urls) {
    const loc = u.location && /^[A-Za-z]{2}$/.test(u.location) ? ` location="${u.location.toLowerCase()}"` : '';
    const pri = Math.max(1, Math.min(999999, Math.round(u.priority)));
    lines.push(`    <url${loc} priority="${pri}">${xmlEscape(u.url)}</url>`);
  }
  lines.push('  </file>');
  lines.push('</metalink>');
  return lines.join('\n') + '\n';
}

export const HASH_SUFFIXES = ['.sha256', '.sha1', '.md5'] as const;
export const SUFFIXES = ['.meta4', '.mirrorlist', ...HASH_SUFFIXES] as const;
export type Suffix = (typeof SUFFIXES)[number] | '';

/** `<hex>  <name>` as sha256sum/sha1sum/md5sum write and check it. Null when that hash is unknown. */
export function hashLine(
  suffix: '.sha256' | '.sha1' | '.md5',
  f: { sha256: string; sha1: string | null; md5: string | null; fileName: string },
): string | null {
  const hex = suffix === '.sha256' ? f.sha256 : suffix === '.sha1' ? f.sha1 : f.md5;
  return hex ? `${hex}  ${f.fileName}\n` : null;
}

/** Split a last path segment into the file name and a representation suffix. */
export function splitSuffix(name: string): { name: string; suffix: Suffix } {
  for (const s of SUFFIXES) {
    if (name.endsWith(s)) {
      const base = name.slice(0, -s.length);
      if (/\.xol?$/.test(base)) return { name: base, suffix: s };
    }
  }
  return { name, suffix: '' };
}

// Finds personal API tokens inside an uploaded bundle: every text-sized entry is read and
// searched for the token pattern. Runs on the staged upload before anything is stored; what it
// finds is revoked by AccountService.revokeLeakedTokens (the author is told by mail).
import yauzl from 'yauzl';
import { API_TOKEN_PATTERN } from './secrets.js';

/** Entries larger than this are not searched (tokens live in config files and source). */
const MAX_SCAN_ENTRY = 4 * 1024 * 1024;
const MAX_SCAN_TOTAL = 64 * 1024 * 1024;
const SKIP = /\.(png|jpe?g|gif|ogg|oga|ogv|mp3|mp4|wav|webm|webp|ttf|otf|woff2?|pdf|mo|pyc|so|zip|gz|xo)$/i;

export async function findTokensInZip(path: string): Promise<{ token: string; file: string }[]> {
  const found: { token: string; file: string }[] = [];
  let zip: yauzl.ZipFile;
  try {
    zip = await new Promise<yauzl.ZipFile>((res, rej) =>
      yauzl.open(path, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true }, (e, z) => (e ? rej(e) : res(z!))),
    );
  } catch {
    return found; // not a readable zip: the validator reports that
  }
  let budget = MAX_SCAN_TOTAL;
  try {
    await new Promise<void>((resolve) => {
      zip.on('error', () => resolve());
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        if (name.endsWith('/') || SKIP.test(name) || entry.uncompressedSize > MAX_SCAN_ENTRY || entry.uncompressedSize > budget) {
          zip.readEntry();
          return;
        }
        budget -= entry.uncompressedSize;
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) {
            zip.readEntry();
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          stream.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_SCAN_ENTRY) chunks.push(c);
          });
          stream.on('error', () => zip.readEntry());
          stream.on('end', () => {
            const text = Buffer.concat(chunks).toString('latin1');
            for (const m of text.matchAll(API_TOKEN_PATTERN)) found.push({ token: m[0], file: name });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return found;
}

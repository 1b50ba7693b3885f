// Content-addressed file store: every file lives at <root>/<aa>/<bb>/<sha256>. Writes go to a
// temporary name in the same folder tree, are fsynced, then renamed, so a reader never sees a
// half-written file and a crash leaves at most a temporary file that `sweepTemporary` removes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, readdir, link } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AsloError } from '../errors.js';

/** Piece length of the per-piece hashes kept for mirror verification and metalinks. */
export const PIECE_LENGTH = 256 * 1024;

export interface StagedFile {
  /** Temporary path holding the bytes; pass to `commit` or `discard`. */
  tempPath: string;
  sha256: string;
  sha1: string;
  md5: string;
  size: number;
  pieceLength: number;
  /** SHA-256 of every PIECE_LENGTH slice, concatenated (32 bytes each). */
  pieceHashes: Buffer;
}

/** A stream transform that hashes what passes through it: whole-file digests plus piece hashes. */
export class HashingStream extends Transform {
  private readonly sha256 = createHash('sha256');
  private readonly sha1 = createHash('sha1');
  private readonly md5 = createHash('md5');
  private piece = createHash('sha256');
  private pieceFill = 0;
  private readonly pieces: Buffer[] = [];
  size = 0;

  constructor(private readonly maxBytes = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(new AsloError('UPLOAD_TOO_LARGE', `The file is larger than the ${this.maxBytes}-byte limit.`, { statusCode: 413 }));
      return;
    }
    this.sha256.update(chunk);
    this.sha1.update(chunk);
    this.md5.update(chunk);
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(PIECE_LENGTH - this.pieceFill, chunk.length - offset);
      this.piece.update(chunk.subarray(offset, offset + take));
      this.pieceFill += take;
      offset += take;
      if (this.pieceFill === PIECE_LENGTH) {
        this.pieces.push(this.piece.digest());
        this.piece = createHash('sha256');
        this.pieceFill = 0;
      }
    }
    done(null, chunk);
  }

  digests(): Omit<StagedFile, 'tempPath'> {
    if (this.pieceFill > 0) {
      this.pieces.push(this.piece.digest());
      this.pieceFill = 0;
    }
    return {
      sha256: this.sha256.digest('hex'),
      sha1: this.sha1.digest('hex'),
      md5: this.md5.digest('hex'),
      size: this.size,
      pieceLength: PIECE_LENGTH,
      pieceHashes: Buffer.concat(this.pieces),
    };
  }
}

export class FileStore {
  constructor(readonly root: string) {}

  pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new AsloError('STORE_BAD_KEY', `Not a storage key: ${key}`);
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  private tmpDir(): string {
    return join(this.root, 'tmp');
  }

  /** Stream bytes into a temporary file while hashing them. Nothing is visible in the store yet. */
  async stage(source: Readable, opts: { maxBytes?: number } = {}): Promise<StagedFile> {
    await mkdir(this.tmpDir(), { recursive: true });
    const tempPath = join(this.tmpDir(), `${Date.now()}-${process.pid}-${randomBytes(6).toString('hex')}.part`);
    const hasher = new HashingStream(opts.maxBytes);
    try {
      await pipeline(source, hasher, createWriteStream(tempPath, { flags: 'wx' }));
      const fh = await open(tempPath, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
    return { tempPath, ...hasher.digests() };
  }

  async stageFile(path: string, opts: { maxBytes?: number } = {}): Promise<StagedFile> {
    return this.stage(createReadStream(path), opts);
  }

  /** Move a staged file to its content address. Returns the storage key (its sha256). */
  async commit(staged: StagedFile): Promise<string> {
    const dest = this.pathOf(staged.sha256);
    await mkdir(join(dest, '..'), { recursive: true });
    if (await this.has(staged.sha256)) {
      await rm(staged.tempPath, { force: true });
      return staged.sha256;
    }
    await rename(staged.tempPath, dest);
    return staged.sha256;
  }

  async discard(staged: StagedFile): Promise<void> {
    await rm(staged.tempPath, { force: true });
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  read(key: string, range?: { start: number; end: number }): ReadStream {
    return createReadStream(this.pathOf(key), range);
  }

  async size(key: string): Promise<number> {
    return (await stat(this.pathOf(key))).size;
  }

  /** Hard-link (or copy when linking is impossible) one stored file into another store. */
  async linkInto(other: FileStore, key: string): Promise<void> {
    const dest = other.pathOf(key);
    await mkdir(join(dest, '..'), { recursive: true });
    if (await other.has(key)) return;
    try {
      await link(this.pathOf(key), dest);
    } catch {
      const staged = await other.stage(this.read(key));
      await other.commit(staged);
    }
  }

  /** Every key in the store. */
  async *keys(): AsyncGenerator<string> {
    let level1: string[];
    try {
      level1 = await readdir(this.root);
    } catch {
      return;
    }
    for (const a of level1.filter((n) => /^[0-9a-f]{2}$/.test(n)).sort()) {
      for (const b of (await readdir(join(this.root, a))).filter((n) => /^[0-9a-f]{2}$/.test(n)).sort()) {
        for (const key of (await readdir(join(this.root, a, b))).sort()) {
          if (/^[0-9a-f]{64}$/.test(key)) yield key;
        }
      }
    }
  }

  /** Remove temporary files older than `olderThanMs` left by a crash. */
  async sweepTemporary(olderThanMs = 3600_000): Promise<number> {
    let removed = 0;
    let names: string[] = [];
    try {
      names = await readdir(this.tmpDir());
    } catch {
      return 0;
    }
    for (const name of names) {
      const p = join(this.tmpDir(), name);
      const st = await stat(p).catch(() => null);
      if (st && Date.now() - st.mtimeMs > olderThanMs) {
        await rm(p, { force: true });
        removed++;
      }
    }
    return removed;
  }
}

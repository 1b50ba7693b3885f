// Content-addressed file store: every file lives at <root>/<aa>/<bb>/<sha256>. Writes go to a
// temporary file in <root>/tmp, are fsynced, then renamed, so a reader never sees a half-written
// file and a crash leaves at most a temporary file, which `sweepTemporary` removes (at start and
// from the worker's recurring job: src/platform/storage/sweep.ts).
//
// Telling a leftover from a file an upload is still writing: a temporary file's name carries its
// owner (this machine and process namespace, and the pid), and while it exists its owner touches
// it every few minutes, however slowly its upload arrives (a client may stall for long; nothing
// else would keep the time fresh) and however long the steps after the last byte take. So a
// temporary file is a leftover when its owner is known dead (same machine and namespace, pid
// gone) or when nobody has touched it for longer than the sweep's age limit (an hour).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, readlinkSync, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, readdir, link, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AsloError } from '../errors.js';

/** Piece length of the per-piece hashes kept for mirror verification and metalinks. */
export const PIECE_LENGTH = 256 * 1024;

/** A temporary file nobody has touched for this long is a leftover (the sweep's default). */
export const TEMP_MAX_AGE_MS = 3600_000;
/** How often the owner of a temporary file touches it while it exists: well inside TEMP_MAX_AGE_MS. */
export const TEMP_TOUCH_MS = 5 * 60_000;

/**
 * This machine and process namespace, as 12 hex digits, or null where that cannot be known for
 * sure (then only the age tells a leftover). On Linux: the boot id and the pid namespace, so a pid
 * in a name means the same process to every process that computes the same tag (containers
 * sharing a file store have their own namespaces, hence their own tags).
 */
function computeOwnerTag(): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidns = readlinkSync('/proc/self/ns/pid');
    if (!boot || !pidns) return null;
    return createHash('sha256').update(`${hostname()}\n${boot}\n${pidns}`).digest('hex').slice(0, 12);
  } catch {
    return null;
  }
}
const OWNER_TAG = computeOwnerTag();
/** `<owner tag or "x">-<pid>-<ms>-<random>.part` */
const TEMP_NAME = /^([0-9a-f]{12}|x)-(\d+)-\d+-[0-9a-f]+\.part$/;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface SweepResult {
  /** Temporary files removed. */
  removed: number;
  /** Their size in bytes. */
  bytes: number;
}

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
  /** Temporary files of this process that are still in use (staged, not yet committed or discarded). */
  private readonly live = new Set<string>();
  private toucher: NodeJS.Timeout | null = null;

  /** `touchEveryMs`: how often held temporary files are touched (default TEMP_TOUCH_MS; tests shorten it). */
  constructor(
    readonly root: string,
    private readonly opts: { touchEveryMs?: number } = {},
  ) {}

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
    const tempPath = join(this.tmpDir(), `${OWNER_TAG ?? 'x'}-${process.pid}-${Date.now()}-${randomBytes(6).toString('hex')}.part`);
    const hasher = new HashingStream(opts.maxBytes);
    this.hold(tempPath);
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
      this.release(tempPath);
      throw err;
    }
    return { tempPath, ...hasher.digests() };
  }

  /** A temporary file in use: touched every TEMP_TOUCH_MS until released, so no sweep takes it. */
  private hold(path: string): void {
    this.live.add(path);
    if (this.toucher) return;
    this.toucher = setInterval(() => {
      const now = new Date();
      for (const p of this.live) void utimes(p, now, now).catch(() => {});
    }, this.opts.touchEveryMs ?? TEMP_TOUCH_MS);
    this.toucher.unref();
  }

  private release(path: string): void {
    this.live.delete(path);
    if (this.live.size === 0 && this.toucher) {
      clearInterval(this.toucher);
      this.toucher = null;
    }
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
      this.release(staged.tempPath);
      return staged.sha256;
    }
    await rename(staged.tempPath, dest);
    this.release(staged.tempPath);
    return staged.sha256;
  }

  async discard(staged: StagedFile): Promise<void> {
    await rm(staged.tempPath, { force: true });
    this.release(staged.tempPath);
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

  /**
   * Remove the temporary files left by interrupted writes (a crash, a kill -9, a power cut): those
   * whose owner process is known to be gone, and those nobody has touched for `olderThanMs`. Never
   * one of this process's files in use, nor one another live process holds (it touches its files
   * every TEMP_TOUCH_MS). Safe to run from several processes at once.
   */
  async sweepTemporary(olderThanMs = TEMP_MAX_AGE_MS): Promise<SweepResult> {
    const result: SweepResult = { removed: 0, bytes: 0 };
    let names: string[] = [];
    try {
      names = await readdir(this.tmpDir());
    } catch {
      return result;
    }
    for (const name of names) {
      const p = join(this.tmpDir(), name);
      if (this.live.has(p)) continue;
      const st = await stat(p).catch(() => null);
      if (!st || !st.isFile()) continue;
      const m = TEMP_NAME.exec(name);
      const ownerGone = m !== null && OWNER_TAG !== null && m[1] === OWNER_TAG && Number(m[2]) !== process.pid && !processAlive(Number(m[2]));
      if (ownerGone || Date.now() - st.mtimeMs > olderThanMs) {
        await rm(p, { force: true });
        result.removed++;
        result.bytes += st.size;
      }
    }
    return result;
  }
}

// The embedded database has exactly one writer: the process that opens a PGlite data folder
// locks it, and the lock is also the store's control socket (src/cli/control.ts).
//
// How the lock works, and why this way. PGlite keeps its pages in the memory of the process that
// opened the folder and writes them back when it likes: a second process opening the same folder
// reads stale pages and overwrites the first one's writes. So the
// folder needs a lock that an OS takes away from a dead process, never a PID file that a crash
// leaves behind. Node has no flock(2); the npm packages that add it are native addons, and the
// project installs without a compiler. A Unix socket bound inside the folder is such a lock with
// Node alone:
//   - a process binds a socket under a name of its own, then hard-links it to `aslo.sock`;
//     link(2) fails with EEXIST when the name is taken, so exactly one process wins;
//   - the listening socket lives as long as the process: after a crash (kill -9) the file stays
//     but nobody accepts on it, so a connect is refused, and the next process removes the stale
//     file (moved aside first and compared by inode, so it never removes a live holder's file
//     that replaced it in between) and takes the name;
//   - a connect that succeeds proves a live holder, which answers with its pid and what it is.
// The same socket carries the CLI commands an operator runs while a store holds the folder
// (src/cli/control.ts): the folder is made 0700 (PostgreSQL wants that of a data folder anyway)
// and the socket 0600, so only the owner of the folder can connect (Node cannot read the peer's
// credentials; the file permissions are the check). It is never a TCP port.
// On Windows, where a listening path is a named pipe, the lock is a pipe named after the folder:
// its name cannot be taken twice, and it too goes with the process.
import net from 'node:net';
import { createHash } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AsloError } from '../errors.js';

export const LOCK_SOCKET = 'aslo.sock';
/** Unix socket paths are limited (104 bytes on macOS, 108 on Linux, with the final NUL). */
const MAX_SOCKET_PATH = 103;
/** The first line of a request is small; anything longer is not ours. */
const MAX_REQUEST_LINE = 1 << 20;

/** What the live holder of a data folder says about itself. */
export interface HolderInfo {
  pid: number;
  /** What it runs, like "aslo serve" or "aslo import". */
  holder: string;
  /** Whether it runs CLI commands for others (a store that finished starting). */
  accepting: boolean;
}

/** A CLI command sent by `aslo` to the store (src/cli/control.ts). */
export interface ControlRequest {
  op: 'run';
  /** The arguments after `aslo`. */
  argv: string[];
  /** The caller's working directory: relative paths are resolved against it. */
  cwd: string;
  /** Whether the caller's stdout/stderr are terminals, and their width. */
  tty?: { stdout?: boolean; stderr?: boolean; columns?: number };
}

export type ControlHandler = (request: ControlRequest, socket: net.Socket, lineReader: LineReader) => void;

/** Reads newline-delimited JSON messages from a socket. */
export class LineReader {
  private buf = '';
  private waiting: ((line: string | null) => void)[] = [];
  private lines: (string | null)[] = [];

  constructor(socket: net.Socket, maxLine = MAX_REQUEST_LINE) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      if (this.buf.length > maxLine) socket.destroy(new Error('control message too long'));
    });
    const end = () => this.push(null);
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', () => {});
  }

  private push(line: string | null): void {
    if (line === null && this.lines.at(-1) === null) return;
    const w = this.waiting.shift();
    if (w) w(line);
    else this.lines.push(line);
  }

  /** The next line, or null at the end of the stream. */
  next(): Promise<string | null> {
    if (this.lines.length > 0) {
      const l = this.lines[0]!;
      if (l !== null) this.lines.shift();
      return Promise.resolve(l);
    }
    return new Promise((r) => this.waiting.push(r));
  }
}

const WINDOWS = process.platform === 'win32';

export function lockSocketPath(dir: string): string {
  if (WINDOWS) return `\\\\.\\pipe\\aslo-${createHash('sha256').update(dir.toLowerCase()).digest('hex').slice(0, 32)}`;
  return join(dir, LOCK_SOCKET);
}

function inUse(dir: string, info: HolderInfo | null): AsloError {
  const who = info ? `process ${info.pid} (${info.holder})` : 'another process';
  const what =
    info?.holder === 'aslo serve'
      ? 'Stop that store first (or run the command through it: day-to-day commands such as "aslo user create" and "aslo import" do so by themselves).'
      : 'Wait until it finishes, then run the command again.';
  return new AsloError('DATA_DIR_IN_USE', `The embedded database in ${dir} is in use by ${who}. ${what}`, {
    statusCode: 503,
    details: { pid: info?.pid ?? null, holder: info?.holder ?? null },
  });
}

export { inUse as dataDirInUseError };

/**
 * Who holds the folder: null when nobody does (no socket, or a stale one left by a crash),
 * else the holder's own answer (pid and what it runs).
 */
export async function probeDataDir(dir: string): Promise<HolderInfo | null> {
  const path = lockSocketPath(dir);
  const socket = await connectOrNull(path);
  if (!socket) return null;
  return askWho(socket);
}

function connectOrNull(path: string): Promise<net.Socket | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // No file, or a file nobody listens on (a crashed holder's, or not a socket at all).
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') resolve(null);
      else reject(new AsloError('DATA_DIR_LOCK_FAILED', `Cannot check the lock ${path}: ${err.message}.`, { cause: err }));
    });
  });
}

async function askWho(socket: net.Socket): Promise<HolderInfo> {
  const reader = new LineReader(socket);
  socket.write(JSON.stringify({ op: 'who' }) + '\n');
  const line = await reader.next();
  socket.destroy();
  try {
    const m = JSON.parse(line ?? '') as { t?: string; pid?: number; holder?: string; accepting?: boolean };
    if (m.t === 'who' && typeof m.pid === 'number') return { pid: m.pid, holder: String(m.holder ?? 'aslo'), accepting: Boolean(m.accepting) };
  } catch {
    // fall through: a holder that does not speak the protocol
  }
  return { pid: 0, holder: 'unknown', accepting: false };
}

/** The lock on one data folder, held by this process until release(). */
export class DataDirLock {
  private handler: ControlHandler | null = null;
  private pending: { req: ControlRequest; socket: net.Socket; reader: LineReader }[] = [];
  private readonly sockets = new Set<net.Socket>();
  private released = false;

  private constructor(
    readonly dir: string,
    private readonly server: net.Server,
    private readonly ino: number,
    /** What this process runs ("aslo serve", "aslo import", ...). */
    public holder: string,
    /** A store that is starting: commands wait for it instead of being refused. */
    private willAccept: boolean,
  ) {
    server.on('connection', (socket) => this.onConnection(socket));
  }

  get path(): string {
    return lockSocketPath(this.dir);
  }

  /** Take the folder, or throw DATA_DIR_IN_USE naming the live holder. */
  static async acquire(dir: string, opts: { holder: string; willAccept?: boolean }): Promise<DataDirLock> {
    const path = lockSocketPath(dir);
    if (!WINDOWS && Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new AsloError(
        'DATA_DIR_PATH_TOO_LONG',
        `The embedded database folder ${dir} has too long a path for its lock socket (${Buffer.byteLength(path)} bytes, at most ${MAX_SOCKET_PATH}). Move it to a shorter path (database.embeddedDir).`,
      );
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (WINDOWS) return DataDirLock.acquirePipe(dir, opts);
    chmodSync(dir, 0o700);
    for (let attempt = 0; attempt < 20; attempt++) {
      const tmp = join(dir, `.aslo-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(tmp, () => {
          server.off('error', reject);
          resolve();
        });
      });
      chmodSync(tmp, 0o600);
      try {
        linkSync(tmp, path);
        const ino = lstatSync(path).ino;
        unlinkSync(tmp);
        return new DataDirLock(dir, server, ino, opts.holder, Boolean(opts.willAccept));
      } catch (err) {
        await new Promise<void>((r) => server.close(() => r()));
        try {
          unlinkSync(tmp);
        } catch {
          // closing the server removed it
        }
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
          throw new AsloError('DATA_DIR_LOCK_FAILED', `Cannot lock ${dir}: ${(err as Error).message}.`, { cause: err });
      }
      // The name is taken: by a live holder (refuse), or by a crashed one's leftover (remove it).
      let before: number;
      try {
        before = lstatSync(path).ino;
      } catch {
        continue; // gone in the meantime: try again
      }
      const socket = await connectOrNull(path);
      if (socket) throw inUse(dir, await askWho(socket));
      const aside = join(dir, `.aslo-stale-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        renameSync(path, aside);
      } catch {
        continue;
      }
      if (lstatSync(aside).ino !== before) {
        // Someone else's fresh lock replaced the stale file between our checks: put it back.
        try {
          linkSync(aside, path);
        } catch {
          // a third process took the name meanwhile; the next round finds it
        }
      }
      unlinkSync(aside);
    }
    throw new AsloError('DATA_DIR_LOCK_FAILED', `Cannot lock ${dir}: the lock changed hands too often. Try again.`);
  }

  private static async acquirePipe(dir: string, opts: { holder: string; willAccept?: boolean }): Promise<DataDirLock> {
    const server = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(lockSocketPath(dir), () => resolve());
      });
    } catch (err) {
      const socket = await connectOrNull(lockSocketPath(dir));
      if (socket) throw inUse(dir, await askWho(socket));
      throw new AsloError('DATA_DIR_LOCK_FAILED', `Cannot lock ${dir}: ${(err as Error).message}.`, { cause: err });
    }
    return new DataDirLock(dir, server, -1, opts.holder, Boolean(opts.willAccept));
  }

  /** Start (or stop, with null) running CLI commands for other processes. */
  setHandler(handler: ControlHandler | null): void {
    this.handler = handler;
    this.willAccept = handler !== null;
    const waiting = this.pending;
    this.pending = [];
    for (const p of waiting) this.dispatch(p.req, p.socket, p.reader);
  }

  private info(): HolderInfo {
    return { pid: process.pid, holder: this.holder, accepting: this.handler !== null || this.willAccept };
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const reader = new LineReader(socket);
    void reader.next().then((line) => {
      if (line === null) return socket.destroy();
      let req: { op?: string };
      try {
        req = JSON.parse(line) as { op?: string };
      } catch {
        return socket.destroy();
      }
      if (req.op === 'who') {
        socket.end(JSON.stringify({ t: 'who', ...this.info() }) + '\n');
        return;
      }
      const run = req as ControlRequest;
      if (run.op !== 'run' || !Array.isArray(run.argv) || !run.argv.every((a) => typeof a === 'string') || typeof run.cwd !== 'string') {
        socket.end(JSON.stringify({ t: 'error', code: 'CONTROL_BAD_REQUEST', message: 'Not a request this store understands.' }) + '\n');
        return;
      }
      this.dispatch(run, socket, reader);
    });
  }

  private dispatch(req: ControlRequest, socket: net.Socket, reader: LineReader): void {
    if (socket.destroyed) return;
    if (this.handler) {
      this.handler(req, socket, reader);
      return;
    }
    if (this.willAccept && !this.released) {
      this.pending.push({ req, socket, reader });
      return;
    }
    socket.end(JSON.stringify({ t: 'refused', ...this.info() }) + '\n');
  }

  /** Give the folder up: no new commands; the socket file goes when it is still ours. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.handler = null;
    this.willAccept = false;
    for (const p of this.pending) p.socket.end(JSON.stringify({ t: 'refused', ...this.info() }) + '\n');
    this.pending = [];
    try {
      if (this.ino !== -1 && lstatSync(this.path).ino === this.ino) unlinkSync(this.path);
    } catch {
      // already gone
    }
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

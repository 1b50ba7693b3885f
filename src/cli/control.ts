// The store's control socket: while a store runs on the embedded database, the day-to-day CLI
// commands run inside it (the folder has one writer, src/platform/db/lock.ts).
//
// The caller (`aslo user create ...` in a shell) finds the folder held by a store that accepts
// commands, sends its arguments and working directory, and prints what comes back. The store
// runs the very same command (src/cli/main.ts) with its own context, the command's output and
// status sent back as they come:
//   caller -> store   {"op":"run","argv":[...],"cwd":"...","tty":{...}}
//   store  -> caller  {"t":"out","d":"..."} {"t":"err","d":"..."}  output, as written
//                     {"t":"stdin"}            the command reads standard input: send it whole
//                     {"t":"exit","code":N}    done; the caller exits with N
//                     {"t":"refused",...}      the holder runs no commands (starting, stopping, a CLI)
//   caller -> store   {"t":"stdin","d":"..."}
// A caller that goes away (Ctrl-C) does not stop the command: its writes are transactional
// and it finishes as it would have; its output is dropped.
import net from 'node:net';
import { Writable } from 'node:stream';
import type { AppContext } from '../platform/context.js';
import { AsloError, type ErrorCode } from '../platform/errors.js';
import { dataDirInUseError, lockSocketPath, LineReader, type ControlRequest } from '../platform/db/lock.js';
import { runInStoreScope, type StoreScope } from './common.js';

function send(socket: net.Socket, message: Record<string, unknown>): void {
  if (!socket.destroyed && socket.writable) socket.write(JSON.stringify(message) + '\n');
}

function remoteStream(socket: net.Socket, t: 'out' | 'err', tty: boolean, columns: number | undefined): Writable {
  const w = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      send(socket, { t, d: typeof chunk === 'string' ? chunk : chunk.toString('utf8') });
      cb();
    },
  });
  // Progress bars look at these, as they would on the caller's own terminal.
  Object.assign(w, { isTTY: tty, columns: columns ?? 80 });
  return w;
}

async function runOne(ctx: AppContext, req: ControlRequest, socket: net.Socket, reader: LineReader): Promise<void> {
  const tty = req.tty ?? {};
  const scope: StoreScope = {
    ctx,
    stdout: remoteStream(socket, 'out', Boolean(tty.stdout), tty.columns),
    stderr: remoteStream(socket, 'err', Boolean(tty.stderr), tty.columns),
    cwd: req.cwd,
    exitCode: undefined,
    async readStdin() {
      send(socket, { t: 'stdin' });
      const line = await reader.next();
      if (line === null) return '';
      try {
        const m = JSON.parse(line) as { t?: string; d?: unknown };
        return m.t === 'stdin' && typeof m.d === 'string' ? m.d : '';
      } catch {
        return '';
      }
    },
  };
  let code: number;
  try {
    const { main } = await import('./main.js');
    code = await runInStoreScope(scope, () => main(['node', 'aslo', ...req.argv]));
  } catch (err) {
    scope.stderr.write(`aslo: ${(err as Error).message}\n`);
    code = 1;
  }
  send(socket, { t: 'exit', code });
  socket.end();
}

/**
 * Make a started store run CLI commands for others. drain() stops taking new ones and waits for
 * those running (a store that closes finishes them before its database closes).
 */
export function acceptCommands(ctx: AppContext): { drain(): Promise<void> } {
  const lock = ctx.database.lock;
  if (!lock) return { drain: async () => {} };
  const running = new Set<Promise<void>>();
  lock.setHandler((req, socket, reader) => {
    const p = runOne(ctx, req, socket, reader).catch(() => {});
    running.add(p);
    void p.finally(() => running.delete(p));
  });
  return {
    async drain() {
      lock.setHandler(null);
      await Promise.all([...running]);
    },
  };
}

/** The caller's side: run `argv` in the store that holds `dir`; returns the command's exit status. */
export async function runThroughStore(dir: string, argv: string[]): Promise<number> {
  const path = lockSocketPath(dir);
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', (e) =>
      reject(
        new AsloError('CONTROL_UNREACHABLE', `The store that held ${dir} stopped before the command could be sent (${e.message}). Run the command again.`),
      ),
    );
  });
  const reader = new LineReader(socket, 1 << 30);
  send(socket, {
    op: 'run',
    argv,
    cwd: process.cwd(),
    tty: { stdout: Boolean(process.stdout.isTTY), stderr: Boolean(process.stderr.isTTY), columns: process.stderr.columns ?? process.stdout.columns },
  });
  try {
    for (;;) {
      const line = await reader.next();
      if (line === null) {
        throw new AsloError(
          'CONTROL_LOST',
          'The store closed the connection before the command finished (it may have stopped). Check what the command did, then run it again if needed.',
        );
      }
      const m = JSON.parse(line) as { t: string; d?: string; code?: number | string; pid?: number; holder?: string; message?: string };
      if (m.t === 'out') process.stdout.write(m.d ?? '');
      else if (m.t === 'err') process.stderr.write(m.d ?? '');
      else if (m.t === 'stdin') {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        send(socket, { t: 'stdin', d: Buffer.concat(chunks).toString('utf8') });
      } else if (m.t === 'exit') return typeof m.code === 'number' ? m.code : 1;
      else if (m.t === 'refused') throw dataDirInUseError(dir, { pid: m.pid ?? 0, holder: m.holder ?? 'unknown', accepting: false });
      else if (m.t === 'error') throw new AsloError(String(m.code ?? 'CONTROL_ERROR') as ErrorCode, m.message ?? 'The store refused the command.');
    }
  } finally {
    socket.destroy();
  }
}

// Shared by the benchmarks: the server processes under test (a free port, starting one and
// waiting until it says it listens, stopping it) and what a process has used so far, from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './report.js';

/** What `aslo serve` prints once it accepts connections; the first group is its address. */
export const LISTENING = /listening (http:\/\/\S+)/;

// A free loopback port for a server that is told which port to use: the tests' helper.
export { freePort } from '../../test/helpers/ports.js';

/** Stops `child` with `signal`, with SIGKILL after `killAfterMs`; resolves once it has exited. */
export function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', killAfterMs = 20_000): () => Promise<void> {
  return () =>
    new Promise((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill(signal);
      setTimeout(() => child.kill('SIGKILL'), killAfterMs).unref();
    });
}

/**
 * Resolves with the match once what `child` has written (stdout and stderr) matches `ready`;
 * rejects, with that output, when it exits first or does not get there within `timeoutMs` (then it
 * is killed).
 */
export function waitForOutput(child: ChildProcess, ready: RegExp, what: string, timeoutMs = 600_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let settled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      // Read on after the match, so that a full pipe never blocks the process.
      if (settled) return;
      out += d;
      const m = ready.exec(out);
      if (m) {
        settled = true;
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

export interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `node ...args` in the repository, with `env` over this process's environment, once it has printed
 * `ready` (whose first group is the address it listens on).
 */
export async function startProcess(args: string[], env: Record<string, string>, ready: RegExp = LISTENING, what = 'server'): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForOutput(child, ready, what);
  return { url: m[1]!.replace('localhost', '127.0.0.1'), child, stop: stopper(child) };
}

/** `aslo serve` on a port of its choosing on the loopback interface (`args`: more options, e.g. --role). */
export function startAsloServe(env: Record<string, string>, args: string[] = []): Promise<Server> {
  return startProcess([join(ROOT, 'bin', 'aslo.mjs'), 'serve', ...args, '--port', '0', '--host', '127.0.0.1'], env, LISTENING, 'aslo serve');
}

/** The nginx binary, or null when nginx is not installed. */
export function nginxBin(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v nginx']);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (NaN when unreadable). */
export function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // utime and stime are fields 14 and 15 of the whole line: indexes 11 and 12 after "pid (comm) "
    // (comm may hold spaces and parentheses, hence the last one).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process, MiB (current and peak), from /proc (NaN when unreadable). */
export function memoryOf(pid: number | undefined): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

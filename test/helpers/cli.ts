// Run the real `aslo` command in a child process, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createPgDatabase, TEST_DATABASE } from './env.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ASLO_BIN = join(REPO_ROOT, 'bin', 'aslo.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  /** A fresh temporary folder; the instance's data folder is `<dir>/data`, the rest is the test's. */
  dir: string;
  /** The environment for runCli: that data folder and, on a PostgreSQL run, a database of its own. */
  env: Record<string, string>;
  /** Drop the database and remove the folder. */
  cleanup(): Promise<void>;
}

/** What a test of the command needs: a data folder, and its own database on PostgreSQL runs. */
export async function createCliEnv(prefix: string, env: Record<string, string> = {}): Promise<CliEnv> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const pgdb = TEST_DATABASE === 'postgres' ? await createPgDatabase() : null;
  return {
    dir,
    env: { ASLO_DATA_DIR: join(dir, 'data'), ...env, ...(pgdb ? { ASLO_DATABASE_URL: pgdb.url } : {}) },
    async cleanup() {
      await pgdb?.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Run `aslo ARGS`; `input`, when given, is its standard input. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ASLO_BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (input !== undefined) child.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aslo ${args.join(' ')} did not finish: ${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Start `aslo serve` and wait for its "listening" line; returns the URL and the process. */
export function startCliServer(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<{ url: string; child: ChildProcess; output: () => string; stop: () => Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ASLO_BIN, 'serve', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          output: () => out,
          stop: () =>
            new Promise((res) => {
              if (child.exitCode !== null) return res(child.exitCode);
              child.once('exit', (code) => res(code));
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!/listening/.test(out)) reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
}

// Run the real `aslo` command in a child process, as a user would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { instanceDirOf } from '../../src/platform/config.js';
import { createPgDatabase, TEST_DATABASE, TEST_PG_URL } from './env.js';
import { ensurePgliteTemplate, ensurePgTemplate } from './template.js';

/**
 * The checkout: scripts/test.mjs runs the test files from a compiled mirror of it elsewhere
 * (scripts/test-build.mjs) and names the checkout in ASLO_TEST_CHECKOUT.
 */
export const REPO_ROOT = process.env.ASLO_TEST_CHECKOUT ?? fileURLToPath(new URL('../..', import.meta.url));
export const ASLO_BIN = join(REPO_ROOT, 'bin', 'aslo.mjs');
/**
 * How runCli and startCliServer start node: with V8's --liftoff-only, as the compiled test
 * processes run (scripts/test.mjs): a command lives a second or two, and optimising PGlite's
 * WebAssembly in background threads cost about 0.35 s of its 2.4 s of CPU. The same program.
 */
const CLI_NODE_FLAGS = ['--liftoff-only'];

/**
 * The `node` arguments that run a script of test/helpers (its name without extension): its
 * JavaScript beside this module when the tests run compiled (scripts/test-build.mjs), otherwise
 * the TypeScript through tsx.
 */
export function helperScript(name: string): string[] {
  if (import.meta.url.endsWith('.js')) return ['--enable-source-maps', '--liftoff-only', fileURLToPath(new URL(`./${name}.js`, import.meta.url))];
  return ['--import', 'tsx', fileURLToPath(new URL(`./${name}.ts`, import.meta.url))];
}

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

/**
 * What a test of the command needs: a data folder, and its own database on PostgreSQL runs. The
 * database starts migrated, a copy of the run's template (test/helpers/template.ts), as the test
 * databases of the app do: the instance's first command then does not create and migrate a
 * database (about 6 s of CPU for the embedded one). The first start of a new instance is tested
 * where it is the subject (cli's "first start of the embedded default", instances, web-first-start,
 * db-migrations), on data folders of their own. The AS number cache of the run's geo database is
 * copied in too (useSharedGeoCache), so no `aslo` process parses its CSV again.
 */
export async function createCliEnv(prefix: string, env: Record<string, string> = {}): Promise<CliEnv> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const instance = env.ASLO_INSTANCE ?? 'default';
  if (TEST_DATABASE === 'pglite') {
    const db = join(instanceDirOf(join(dir, 'data'), instance), 'db');
    await mkdir(db, { recursive: true, mode: 0o700 });
    const tar = spawnSync('tar', ['-xf', await ensurePgliteTemplate(), '-C', db]);
    if (tar.status !== 0) throw new Error(`could not unpack the template database: ${tar.stderr.toString()}`);
  }
  const geo = join(tmpdir(), 'aslo-test-templates', 'geo');
  if (existsSync(geo)) {
    const cache = join(dir, 'data', 'cache', 'geo');
    await mkdir(cache, { recursive: true });
    for (const f of readdirSync(geo)) if (f.endsWith('.bin')) await copyFile(join(geo, f), join(cache, f));
  }
  const pgdb = TEST_DATABASE === 'postgres' ? await createPgDatabase('aslo_t', await ensurePgTemplate(TEST_PG_URL)) : null;
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
    const child = spawn(process.execPath, [...CLI_NODE_FLAGS, ASLO_BIN, ...args], {
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
    const child = spawn(process.execPath, [...CLI_NODE_FLAGS, ASLO_BIN, 'serve', ...args], {
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

// Reading a commit with the git command: a local repository is read where it is, a URL is
// fetched (one commit, shallow) into a temporary bare repository. Git runs with the user's and
// the system's configuration ignored, no credential prompt or helper (a repository that asks for
// credentials fails at once), only the https, http, git and file transports, a time limit and a
// size limit. Only plumbing that reads objects is used (rev-parse, ls-tree, cat-file, show -s):
// no checkout, no hook, no filter, nothing from the repository runs.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BuildError, type BuildErrorCode } from './errors.js';

export interface GitLimits {
  /** Wall time of one git command (ms). */
  timeoutMs: number;
  /** Bytes a fetch may write, and the total size of the commit's files. */
  maxBytes: number;
}

export const DEFAULT_GIT_LIMITS: GitLimits = { timeoutMs: 120_000, maxBytes: 512 * 1024 * 1024 };

export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'SystemRoot', 'TMPDIR', 'TEMP', 'TMP', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  return {
    ...env,
    HOME: tmpdir(),
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: process.platform === 'win32' ? 'NUL' : '/dev/null',
    GIT_ALLOW_PROTOCOL: 'https:http:git:file',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_OPTIONAL_LOCKS: '0',
  };
}

// No credential helper or askpass program; nothing a local repository's own config names
// (signature checkers, file system monitors) is started by the read-only commands used here.
const CONFIG_ARGS = [
  '-c',
  'credential.helper=',
  '-c',
  'core.askPass=',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'log.showSignature=false',
  '-c',
  'http.lowSpeedLimit=1000',
  '-c',
  'http.lowSpeedTime=30',
];

export interface RunOptions {
  cwd?: string;
  input?: string | Buffer;
  timeoutMs: number;
  /** Stop (BUILD_GIT_TOO_LARGE) when stdout grows past this many bytes. */
  maxOutput?: number;
  /** Watch this folder while the command runs; stop (BUILD_GIT_TOO_LARGE) when it grows past maxBytes. */
  watchDir?: string;
  maxBytes?: number;
}

/** Runs git; resolves with stdout, or throws a BuildError with a code that says why it failed. */
export function runGit(args: string[], opts: RunOptions): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    let child;
    try {
      child = spawn('git', [...CONFIG_ARGS, ...args], { cwd: opts.cwd, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true, detached: true });
    } catch (err) {
      reject(new BuildError('BUILD_GIT_MISSING', `cannot run git: ${(err as Error).message}`));
      return;
    }
    const out: Buffer[] = [];
    let outBytes = 0;
    const errChunks: Buffer[] = [];
    let stopped: BuildError | null = null;
    // git runs in a process group of its own (detached) so a stop kills the helpers it started
    // too (remote-https and the like): they hold its output open, and waiting for them would
    // stretch a time limit into theirs. The promise settles at once, not when the pipes close.
    const stop = (e: BuildError) => {
      if (stopped) return;
      stopped = e;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      child.stdout.destroy();
      child.stderr.destroy();
      reject(e);
    };
    const timer = setTimeout(
      () => stop(new BuildError('BUILD_GIT_TIMEOUT', `git ${args[0]} took longer than ${Math.round(opts.timeoutMs / 1000)} s`)),
      opts.timeoutMs,
    );
    let watching = false;
    const watcher = opts.watchDir
      ? setInterval(() => {
          if (watching) return;
          watching = true;
          dirSize(opts.watchDir!)
            .then((n) => {
              if (n > (opts.maxBytes ?? Infinity)) stop(new BuildError('BUILD_GIT_TOO_LARGE', `the repository is larger than ${opts.maxBytes} bytes`));
            })
            .catch(() => {})
            .finally(() => (watching = false));
        }, 200)
      : null;
    child.stdout.on('data', (c: Buffer) => {
      outBytes += c.length;
      if (opts.maxOutput !== undefined && outBytes > opts.maxOutput)
        stop(new BuildError('BUILD_GIT_TOO_LARGE', `the commit's files are larger than ${opts.maxOutput} bytes`));
      else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (errChunks.length < 64) errChunks.push(c);
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      reject(new BuildError(err.code === 'ENOENT' ? 'BUILD_GIT_MISSING' : 'BUILD_GIT_FAILED', `cannot run git: ${err.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      if (stopped) return reject(stopped);
      if (code === 0) return resolvePromise(Buffer.concat(out));
      const stderr = Buffer.concat(errChunks).toString('utf8').trim();
      reject(new BuildError(classify(stderr), `git ${args[0]} failed: ${stderr.split('\n').slice(-3).join(' ') || `exit ${code}`}`, { stderr }));
    });
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

function classify(stderr: string): BuildErrorCode {
  if (/terminal prompts disabled|could not read (Username|Password)|Authentication failed|authentication required|HTTP Basic: Access denied/i.test(stderr))
    return 'BUILD_GIT_AUTH_REQUIRED';
  if (
    /Could not resolve host|Connection refused|Connection timed out|Failed to connect|does not appear to be a git repository|not found|unable to access|No such file or directory|transport '.*' not allowed|unable to connect/i.test(
      stderr,
    )
  ) {
    return 'BUILD_GIT_UNREACHABLE';
  }
  return 'BUILD_GIT_FAILED';
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await dirSize(p);
    else total += (await lstat(p).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Sources

export interface OpenedSource {
  /** Where git reads objects from (a local repository, or the temporary fetch). */
  gitDir: string;
  /** What the bundle records as its repository: the URL, or the absolute path of a local one. */
  repository: string;
  commit: string;
  /** The tag asked for with --ref, when the ref named a tag. */
  tag: string | null;
  /** The ref as asked (null: the default branch / HEAD). */
  ref: string | null;
  /** Seconds since the epoch: the commit's committer date. */
  committedAt: number;
  close(): Promise<void>;
}

const URL_RE = /^(https?|git|file):\/\//i;
const OTHER_SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\/|^[a-z0-9+.-]+::|^[^/\\]+@[^/\\]+:/i;

export function isUrl(source: string): boolean {
  return URL_RE.test(source);
}

function checkRef(ref: string): void {
  if (ref === '' || ref.startsWith('-') || !/^[A-Za-z0-9._/@+~^{}-]+$/.test(ref) || ref.includes('..')) {
    throw new BuildError('BUILD_REF_NOT_FOUND', `${JSON.stringify(ref)} is not a tag, branch or commit name`);
  }
}

export async function openSource(source: string, ref: string | null, limits: GitLimits = DEFAULT_GIT_LIMITS): Promise<OpenedSource> {
  if (ref !== null) checkRef(ref);
  if (isUrl(source)) return fetchRemote(source, ref, limits);
  if (OTHER_SCHEME_RE.test(source)) {
    throw new BuildError('BUILD_SOURCE_UNSUPPORTED', `${source}: only https://, http://, git://, file:// URLs and local paths are supported`);
  }
  return openLocal(source, ref, limits);
}

async function openLocal(source: string, ref: string | null, limits: GitLimits): Promise<OpenedSource> {
  const dir = resolve(source);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BuildError('BUILD_SOURCE_NOT_FOUND', `${source}: no such folder`);
  let found: { commit: string; time: number } | null = null;
  let tag: string | null = null;
  if (ref === null) found = await resolveCommit(dir, 'HEAD', limits);
  else {
    found = await resolveCommit(dir, `refs/tags/${ref}`, limits);
    if (found) tag = ref;
    else found = await resolveCommit(dir, ref, limits);
  }
  if (!found) {
    try {
      await runGit(['rev-parse', '--git-dir'], { cwd: dir, timeoutMs: limits.timeoutMs });
    } catch {
      throw new BuildError('BUILD_SOURCE_NOT_FOUND', `${source}: not a git repository (the store builds from git commits only)`);
    }
    throw new BuildError('BUILD_REF_NOT_FOUND', ref === null ? `${source}: the repository has no commit` : `${source}: no tag, branch or commit ${ref}`);
  }
  return { gitDir: dir, repository: dir, commit: found.commit, tag, ref, committedAt: found.time, close: async () => {} };
}

/** The commit a revision names and its committer date (`git show -s --format=%H %ct`), or null. */
async function resolveCommit(dir: string, rev: string, limits: GitLimits): Promise<{ commit: string; time: number } | null> {
  try {
    const out = (await runGit(['show', '-s', '--format=%H %ct', `${rev}^{commit}`, '--'], { cwd: dir, timeoutMs: limits.timeoutMs })).toString('utf8').trim();
    const m = /^([0-9a-f]{40,64}) (\d+)$/.exec(out);
    return m ? { commit: m[1], time: Number(m[2]) } : null;
  } catch {
    return null;
  }
}

async function fetchRemote(url: string, ref: string | null, limits: GitLimits): Promise<OpenedSource> {
  // What the remote has: fails fast when it is unreachable or wants credentials.
  const listing = (await runGit(['ls-remote', '--', url], { timeoutMs: limits.timeoutMs, maxOutput: 64 * 1024 * 1024 })).toString('utf8');
  const refs = new Map<string, string>();
  for (const line of listing.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name, sha);
  }
  let want: string;
  let tag: string | null = null;
  let expected: string | null;
  if (ref === null) {
    want = 'HEAD';
    expected = refs.get('HEAD') ?? null;
    if (!expected) throw new BuildError('BUILD_REF_NOT_FOUND', `${url}: the repository has no HEAD (empty repository?)`);
  } else if (refs.has(`refs/tags/${ref}`)) {
    want = `refs/tags/${ref}`;
    tag = ref;
    expected = refs.get(`refs/tags/${ref}^{}`) ?? refs.get(`refs/tags/${ref}`)!;
  } else if (refs.has(`refs/heads/${ref}`)) {
    want = `refs/heads/${ref}`;
    expected = refs.get(want)!;
  } else if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(ref)) {
    want = ref;
    expected = ref;
  } else {
    throw new BuildError('BUILD_REF_NOT_FOUND', `${url}: no tag or branch ${ref} (a commit must be given in full)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'aslo-build-git-'));
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    await runGit(['init', '--quiet', '--bare', dir], { timeoutMs: limits.timeoutMs });
    try {
      await runGit(['fetch', '--quiet', '--depth=1', '--no-tags', '--', url, want], {
        cwd: dir,
        timeoutMs: limits.timeoutMs,
        watchDir: dir,
        maxBytes: limits.maxBytes,
      });
    } catch (err) {
      if (err instanceof BuildError && err.code === 'BUILD_GIT_FAILED' && want === ref) {
        throw new BuildError('BUILD_REF_NOT_FOUND', `${url}: the server does not give commit ${ref} (give a tag or a branch)`);
      }
      throw err;
    }
    const found = await resolveCommit(dir, 'FETCH_HEAD', limits);
    const commit = found?.commit;
    if (!found || !commit) throw new BuildError('BUILD_REF_NOT_FOUND', `${url}: ${ref ?? 'HEAD'} is not a commit`);
    if (expected && expected.length === commit.length && expected !== commit && want !== ref) {
      throw new BuildError('BUILD_GIT_FAILED', `${url}: ${want} moved while it was fetched (${expected} then ${commit}); try again`);
    }
    return { gitDir: dir, repository: url, commit, tag, ref, committedAt: found.time, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading a commit

export interface TreeEntry {
  mode: string;
  type: 'blob' | 'commit' | 'tree';
  sha: string;
  path: string;
  size: number;
}

/** Every file of the commit (`git ls-tree -r`), with sizes; paths must be UTF-8. */
export async function listTree(gitDir: string, commit: string, limits: GitLimits): Promise<TreeEntry[]> {
  const out = await runGit(['ls-tree', '-r', '-z', '--long', '--full-tree', commit], {
    cwd: gitDir,
    timeoutMs: limits.timeoutMs,
    maxOutput: 256 * 1024 * 1024,
  });
  const entries: TreeEntry[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== 0) continue;
    const rec = out.subarray(start, i);
    start = i + 1;
    const tab = rec.indexOf(0x09);
    const [mode, type, sha, size] = rec.subarray(0, tab).toString('latin1').trim().split(/\s+/);
    let path: string;
    try {
      path = utf8.decode(rec.subarray(tab + 1));
    } catch {
      throw new BuildError('BUILD_PATH_INVALID', `a file name in the commit is not UTF-8: ${JSON.stringify(rec.subarray(tab + 1).toString('latin1'))}`);
    }
    entries.push({ mode, type: type as TreeEntry['type'], sha, path, size: size === '-' ? 0 : Number(size) });
  }
  return entries;
}

/** The content of the given blobs (`git cat-file --batch`), keyed by object id. */
export async function readBlobs(gitDir: string, shas: string[], limits: GitLimits): Promise<Map<string, Buffer>> {
  const unique = [...new Set(shas)];
  const result = new Map<string, Buffer>();
  if (unique.length === 0) return result;
  const out = await runGit(['cat-file', '--batch'], {
    cwd: gitDir,
    input: unique.join('\n') + '\n',
    timeoutMs: limits.timeoutMs,
    maxOutput: limits.maxBytes + unique.length * 100,
  });
  let p = 0;
  for (const sha of unique) {
    const nl = out.indexOf(0x0a, p);
    const head = out.subarray(p, nl).toString('latin1').split(' ');
    if (head[0] !== sha || head[1] !== 'blob') throw new BuildError('BUILD_GIT_FAILED', `git cat-file: unexpected answer for ${sha}: ${head.join(' ')}`);
    const size = Number(head[2]);
    result.set(sha, out.subarray(nl + 1, nl + 1 + size));
    p = nl + 1 + size + 1;
  }
  return result;
}

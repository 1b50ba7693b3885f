// Reading a commit with the git command: a local repository is read where it is, a URL is
// fetched (one commit, shallow) into a temporary bare repository. Git runs with the user's and
// the system's configuration ignored, no credential prompt or helper (a repository that asks for
// credentials fails at once), only the https, http, git and file transports, a time limit and a
// size limit. Only plumbing that reads objects is used (one `cat-file --batch` per build reads
// the commit, its trees and its files; ls-remote and fetch for URLs): no checkout, no hook, no
// filter, nothing from the repository runs.
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
  /** The repository's objects, read through one `git cat-file --batch` (closed by close()). */
  objects: CatFile;
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
  const objects = CatFile.open(dir, limits);
  const close = () => objects.close();
  try {
    let found: { commit: string; time: number } | null = null;
    let tag: string | null = null;
    try {
      // A tag first, then any revision (branch, commit), asked together.
      const [asTag, asRev] = await objects.get(ref === null ? ['HEAD^{commit}', 'HEAD^{commit}'] : [`refs/tags/${ref}^{commit}`, `${ref}^{commit}`]);
      if (ref !== null && asTag) tag = ref;
      const obj = asTag ?? asRev;
      found = obj ? { commit: obj.oid, time: commitTime(obj.data) } : null;
    } catch (err) {
      if (err instanceof BuildError && /not a git repository/i.test(err.message))
        throw new BuildError('BUILD_SOURCE_NOT_FOUND', `${source}: not a git repository (the store builds from git commits only)`);
      throw err;
    }
    if (!found)
      throw new BuildError('BUILD_REF_NOT_FOUND', ref === null ? `${source}: the repository has no commit` : `${source}: no tag, branch or commit ${ref}`);
    return { gitDir: dir, repository: dir, commit: found.commit, tag, ref, committedAt: found.time, objects, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The committer date (seconds) of a commit object. */
function commitTime(data: Buffer): number {
  const head = data.subarray(0, Math.max(0, data.indexOf('\n\n')) || data.length).toString('utf8');
  const m = /^committer .* (-?\d+) [+-]\d{4}$/m.exec(head);
  if (!m) throw new BuildError('BUILD_GIT_FAILED', 'git cat-file: a commit without a committer date');
  return Number(m[1]);
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
  let objects: CatFile | null = null;
  const close = async () => {
    await objects?.close();
    await rm(dir, { recursive: true, force: true });
  };
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
    objects = CatFile.open(dir, limits);
    const [obj] = await objects.get(['FETCH_HEAD^{commit}']);
    if (!obj) throw new BuildError('BUILD_REF_NOT_FOUND', `${url}: ${ref ?? 'HEAD'} is not a commit`);
    const commit = obj.oid;
    if (expected && expected.length === commit.length && expected !== commit && want !== ref) {
      throw new BuildError('BUILD_GIT_FAILED', `${url}: ${want} moved while it was fetched (${expected} then ${commit}); try again`);
    }
    return { gitDir: dir, repository: url, commit, tag, ref, committedAt: commitTime(obj.data), objects, close };
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

/** An object as `git cat-file --batch` gives it. */
export interface GitObject {
  oid: string;
  type: string;
  data: Buffer;
}

/**
 * One `git cat-file --batch` for a build: names (revisions, object ids) are written to it and the
 * objects come back in order, so a build reads its commit, every tree and every file through one
 * process. Limits: the time limit for the whole session, and the size limit for the bytes read.
 */
export class CatFile {
  private readonly child: ReturnType<typeof spawn>;
  private readonly waiting: { resolve: (o: GitObject | null) => void; reject: (e: BuildError) => void }[] = [];
  private failed: BuildError | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly errChunks: Buffer[] = [];
  private bytes = 0;
  // The parser: a header line, then `size` bytes and a newline.
  private head: Buffer[] = [];
  private body: Buffer | null = null;
  private filled = 0;
  private bodyHead: { oid: string; type: string } | null = null;
  private closed = false;

  private constructor(
    gitDir: string,
    private readonly limits: GitLimits,
  ) {
    this.child = spawn('git', [...CONFIG_ARGS, 'cat-file', '--batch'], {
      cwd: gitDir,
      env: gitEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      detached: true,
    });
    this.timer = setTimeout(
      () => this.fail(new BuildError('BUILD_GIT_TIMEOUT', `git cat-file took longer than ${Math.round(limits.timeoutMs / 1000)} s`)),
      limits.timeoutMs,
    );
    this.timer.unref();
    this.child.stdout!.on('data', (c: Buffer) => this.onData(c));
    this.child.stderr!.on('data', (c: Buffer) => {
      if (this.errChunks.length < 64) this.errChunks.push(c);
    });
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new BuildError(err.code === 'ENOENT' ? 'BUILD_GIT_MISSING' : 'BUILD_GIT_FAILED', `cannot run git: ${err.message}`)),
    );
    this.child.on('close', (code) => {
      if (this.closed && this.waiting.length === 0) return;
      const stderr = Buffer.concat(this.errChunks).toString('utf8').trim();
      this.fail(new BuildError(classify(stderr), `git cat-file failed: ${stderr.split('\n').slice(-3).join(' ') || `exit ${code}`}`, { stderr }));
    });
  }

  static open(gitDir: string, limits: GitLimits): CatFile {
    return new CatFile(gitDir, limits);
  }

  /** The objects the names give, in order (null: missing or ambiguous). */
  get(names: string[]): Promise<(GitObject | null)[]> {
    if (this.failed) return Promise.reject(this.failed);
    if (names.length === 0) return Promise.resolve([]);
    for (const n of names) if (/[\n\0]/.test(n)) return Promise.reject(new BuildError('BUILD_REF_NOT_FOUND', `${JSON.stringify(n)} is not an object name`));
    const all = Promise.all(names.map(() => new Promise<GitObject | null>((resolve, reject) => this.waiting.push({ resolve, reject }))));
    this.child.stdin!.write(`${names.join('\n')}\n`);
    return all;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin!.end();
    await exited;
  }

  private fail(e: BuildError): void {
    if (this.failed) return;
    this.failed = e;
    clearTimeout(this.timer);
    try {
      if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private deliver(o: GitObject | null): void {
    const w = this.waiting.shift();
    if (w) w.resolve(o);
    else this.fail(new BuildError('BUILD_GIT_FAILED', 'git cat-file: an answer nobody asked for'));
  }

  private onData(c: Buffer): void {
    let pos = 0;
    while (pos < c.length && !this.failed) {
      if (this.body) {
        const size = this.body.length;
        if (this.filled < size) {
          const n = Math.min(size - this.filled, c.length - pos);
          c.copy(this.body, this.filled, pos, pos + n);
          this.filled += n;
          pos += n;
          continue;
        }
        pos++; // the newline after the object
        const { oid, type } = this.bodyHead!;
        const data = this.body;
        this.body = null;
        this.deliver({ oid, type, data });
        continue;
      }
      const nl = c.indexOf(0x0a, pos);
      if (nl < 0) {
        this.head.push(c.subarray(pos));
        break;
      }
      this.head.push(c.subarray(pos, nl));
      pos = nl + 1;
      const line = Buffer.concat(this.head).toString('latin1');
      this.head = [];
      const parts = line.split(' ');
      if (parts.at(-1) === 'missing' || parts.at(-1) === 'ambiguous') {
        this.deliver(null);
        continue;
      }
      const size = Number(parts[2]);
      if (parts.length !== 3 || !/^[0-9a-f]{40,64}$/.test(parts[0]!) || !Number.isSafeInteger(size)) {
        this.fail(new BuildError('BUILD_GIT_FAILED', `git cat-file: unexpected answer ${JSON.stringify(line.slice(0, 200))}`));
        return;
      }
      this.bytes += size;
      if (this.bytes > this.limits.maxBytes) {
        this.fail(new BuildError('BUILD_GIT_TOO_LARGE', `the commit's files add up to more than the limit of ${this.limits.maxBytes} bytes`));
        return;
      }
      this.bodyHead = { oid: parts[0]!, type: parts[1]! };
      this.body = Buffer.allocUnsafe(size);
      this.filled = 0;
    }
  }
}

export interface CommitFiles {
  /** Every file of the commit (as `git ls-tree -r` lists them: tree order), with sizes. */
  entries: TreeEntry[];
  /** The content of every blob, keyed by object id. */
  blobs: Map<string, Buffer>;
}

/**
 * Every file of a commit and its bytes, through the source's cat-file: the commit, its trees
 * level by level (each level asked at once), then every blob at once. Paths must be UTF-8.
 */
export async function readCommitFiles(objects: CatFile, commit: string): Promise<CommitFiles> {
  const [c] = await objects.get([commit]);
  if (c?.type !== 'commit') throw new BuildError('BUILD_REF_NOT_FOUND', `${commit} is not a commit`);
  const treeOid = /^tree ([0-9a-f]{40,64})$/m.exec(c.data.subarray(0, 200).toString('latin1'))?.[1];
  if (!treeOid) throw new BuildError('BUILD_GIT_FAILED', `git cat-file: commit ${commit} names no tree`);
  type Item = { mode: string; name: Buffer; oid: string };
  const trees = new Map<string, Item[]>();
  let level = [treeOid];
  while (level.length > 0) {
    const want = [...new Set(level)].filter((t) => !trees.has(t));
    const got = await objects.get(want);
    const next: string[] = [];
    for (const [i, o] of got.entries()) {
      if (o?.type !== 'tree') throw new BuildError('BUILD_GIT_FAILED', `git cat-file: tree ${want[i]} cannot be read`);
      const items = parseTree(o.data, want[i]!.length / 2);
      trees.set(want[i]!, items);
      for (const it of items) if (it.mode === '40000') next.push(it.oid);
    }
    level = next;
  }
  const entries: TreeEntry[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const walk = (oid: string, prefix: Buffer) => {
    for (const it of trees.get(oid)!) {
      const pathBytes = prefix.length ? Buffer.concat([prefix, Buffer.from('/'), it.name]) : it.name;
      if (it.mode === '40000') {
        walk(it.oid, pathBytes);
        continue;
      }
      let path: string;
      try {
        path = utf8.decode(pathBytes);
      } catch {
        throw new BuildError('BUILD_PATH_INVALID', `a file name in the commit is not UTF-8: ${JSON.stringify(pathBytes.toString('latin1'))}`);
      }
      const type = it.mode === '160000' ? 'commit' : 'blob';
      entries.push({ mode: it.mode.padStart(6, '0'), type, sha: it.oid, path, size: 0 });
    }
  };
  walk(treeOid, Buffer.alloc(0));
  const want = [...new Set(entries.filter((e) => e.type === 'blob').map((e) => e.sha))];
  const got = await objects.get(want);
  const blobs = new Map<string, Buffer>();
  for (const [i, o] of got.entries()) {
    if (o?.type !== 'blob') throw new BuildError('BUILD_GIT_FAILED', `git cat-file: blob ${want[i]} cannot be read`);
    blobs.set(o.oid, o.data);
  }
  for (const e of entries) if (e.type === 'blob') e.size = blobs.get(e.sha)!.length;
  return { entries, blobs };
}

/** The entries of a tree object: `<mode> <name>\0<binary object id>`, repeated. */
function parseTree(data: Buffer, oidBytes: number): { mode: string; name: Buffer; oid: string }[] {
  const out: { mode: string; name: Buffer; oid: string }[] = [];
  let p = 0;
  while (p < data.length) {
    const sp = data.indexOf(0x20, p);
    const nul = data.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 1 + oidBytes > data.length) throw new BuildError('BUILD_GIT_FAILED', 'git cat-file: a tree object cannot be read');
    out.push({ mode: data.toString('latin1', p, sp), name: data.subarray(sp + 1, nul), oid: data.toString('hex', nul + 1, nul + 1 + oidBytes) });
    p = nul + 1 + oidBytes;
  }
  return out;
}

// The public repo tree that mirrors copy with plain rsync: <repo>/<activity id>/<file name>,
// real files (never symlinks), each written to a temporary name, fsynced and renamed into place;
// a TRACE file at the top holds the time of the last change. A file is in the tree exactly when
// it and its activity are public. Every change goes through a durable `repo.publish` job
// (enqueued by onFileStatusChanged), so a crash or restart never leaves the tree and the
// database disagreeing for long, and `aslo repo verify --fix` repairs whatever else happened.
import { constants, createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm, rmdir, utimes } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { AppContext } from '../platform/context.js';
import type { AsloConfig } from '../platform/config.js';
import type { Db } from '../platform/db/index.js';
import { AsloError } from '../platform/errors.js';
import { enqueue } from '../platform/jobs/index.js';
import { events } from '../platform/events.js';
import { downloadsChanged } from './events.js';
import { TRACE_FILE } from '../mirrors/model.js';
import * as q from './queries.js';

export const PUBLISH_QUEUE = 'repo.publish';
export { TRACE_FILE };
const TEMP_MARK = '.aslo-tmp-';

/** Where a file sits in the repo tree, relative to its top. */
export function repoPathOf(activityId: number, fileName: string): string {
  if (!/^[^/\\\0]+$/.test(fileName) || fileName === '.' || fileName === '..' || fileName.startsWith('.')) {
    throw new AsloError('REPO_BAD_FILE_NAME', `The file name "${fileName}" cannot be used in the repo tree.`);
  }
  return `${activityId}/${fileName}`;
}

/** Public URL of a repo tree path, on the download role (what the updater's em:updateLink names). */
export function repoUrl(config: AsloConfig, repoPath: string): string {
  return `${config.downloads.baseUrl}/repo/${repoPath.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The URL clients should download a file from: its repo tree URL once published (the mirror
 * redirector answers there), else null (use the app's own download URL).
 */
export function repoUrlFor(config: AsloConfig, file: { repo_path: string | null }): string | null {
  return file.repo_path ? repoUrl(config, file.repo_path) : null;
}

/**
 * Call after a file's (or its activity's) status changed, once the transaction committed: the
 * publish job puts the file into the repo tree or takes it out. Also tells this process's
 * download index at once, so a file that stopped being public is never redirected to a mirror.
 */
export async function onFileStatusChanged(ctx: Pick<AppContext, 'db'> & { database?: { kind: string } }, fileIds: number | number[]): Promise<void> {
  const ids = Array.isArray(fileIds) ? fileIds : [fileIds];
  for (const id of ids) await enqueue(ctx.db, PUBLISH_QUEUE, { fileId: id }, { dedupeKey: `file:${id}` });
  await downloadsChanged(ctx, { files: ids });
}

/** The same for every file of activities whose status changed. */
export async function onActivityStatusChanged(ctx: Pick<AppContext, 'db'> & { database?: { kind: string } }, activityIds: number | number[]): Promise<void> {
  const ids = Array.isArray(activityIds) ? activityIds : [activityIds];
  if (ids.length === 0) return;
  const files = await q.fileIdsOfActivities(ctx.db, ids);
  await onFileStatusChanged(
    ctx,
    files.map((f) => f.id),
  );
}

interface FileForRepo {
  id: number;
  storage_key: string;
  size: number;
  sha256: string;
  file_name: string;
  status: string;
  repo_path: string | null;
  created_at: Date;
  activity_id: number;
  activity_status: string;
}

async function fileForRepo(db: Db, fileId: number): Promise<FileForRepo | undefined> {
  return q.fileForRepo(db, fileId) as Promise<FileForRepo | undefined>;
}

export function shouldBePublished(f: { status: string; activity_status: string }): boolean {
  return f.status === 'public' && f.activity_status === 'public';
}

export interface PublishResult {
  fileId: number;
  action: 'published' | 'unpublished' | 'unchanged' | 'gone';
  repoPath: string | null;
}

/** Hooks run after a file entered or left the tree (mirror verification plugs in here). */
export interface PublishHooks {
  published?(ctx: AppContext, fileId: number): Promise<void>;
  unpublished?(ctx: AppContext, fileId: number): Promise<void>;
}

/** Bring one file's place in the tree in line with its status. Idempotent. */
export async function publishFile(ctx: AppContext, fileId: number, opts: { force?: boolean; hooks?: PublishHooks } = {}): Promise<PublishResult> {
  const repoDir = ctx.config.storage.repoDir;
  const f = await fileForRepo(ctx.db, fileId);
  if (!f) return { fileId, action: 'gone', repoPath: null };
  if (shouldBePublished(f)) {
    const path = repoPathOf(f.activity_id, f.file_name);
    const owner = await q.otherFileAtRepoPath(ctx.db, path, f.id);
    if (owner) {
      throw new AsloError('REPO_PATH_TAKEN', `The repo tree path ${path} already belongs to file ${owner.id}; file ${f.id} cannot be published there.`, {
        statusCode: 409,
      });
    }
    const abs = join(repoDir, path);
    const onDisk = await lstat(abs).catch(() => null);
    let wrote = false;
    if (opts.force || !onDisk || !onDisk.isFile() || onDisk.size !== Number(f.size)) {
      await writeIntoTree(ctx, f.storage_key, abs, f.created_at);
      wrote = true;
    }
    const changed = f.repo_path !== path;
    if (changed && f.repo_path) await removeFromTree(repoDir, f.repo_path);
    if (changed) {
      await q.setRepoPath(ctx.db, f.id, path);
    }
    if (wrote || changed) {
      await writeTrace(repoDir);
      await downloadsChanged(ctx, { files: [f.id] });
      // The updater links to the repo tree once a file is there: every process's index switches now.
      if (changed) await events.emit('catalog.changed', { ctx, activityIds: [f.activity_id] });
      await opts.hooks?.published?.(ctx, f.id);
      return { fileId, action: 'published', repoPath: path };
    }
    return { fileId, action: 'unchanged', repoPath: path };
  }
  if (!f.repo_path) return { fileId, action: 'unchanged', repoPath: null };
  // Out of the database first: from now on no process redirects to it.
  await ctx.db.transaction().execute(async (trx) => {
    await q.clearRepoPath(trx, f.id);
  });
  await downloadsChanged(ctx, { files: [f.id] });
  await events.emit('catalog.changed', { ctx, activityIds: [f.activity_id] });
  await removeFromTree(repoDir, f.repo_path);
  await writeTrace(repoDir);
  await opts.hooks?.unpublished?.(ctx, f.id);
  return { fileId, action: 'unpublished', repoPath: null };
}

async function writeIntoTree(ctx: AppContext, storageKey: string, abs: string, mtime: Date): Promise<void> {
  const dir = join(abs, '..');
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${TEMP_MARK}${randomBytes(6).toString('hex')}`);
  try {
    // A copy (a reflink where the file system can): the tree never shares an inode with the store.
    await copyFile(ctx.files.pathOf(storageKey), tmp, constants.COPYFILE_FICLONE);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The same mtime whenever it is written, so rsync's quick check never copies it twice.
    await utimes(tmp, mtime, mtime);
    await rename(tmp, abs);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function removeFromTree(repoDir: string, repoPath: string): Promise<void> {
  const abs = join(repoDir, repoPath);
  await rm(abs, { force: true });
  await rmdir(join(abs, '..')).catch(() => {}); // only when empty
}

export async function writeTrace(repoDir: string, at = new Date()): Promise<void> {
  await mkdir(repoDir, { recursive: true });
  const tmp = join(repoDir, `${TEMP_MARK}trace-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${at.toISOString()}\n${Math.floor(at.getTime() / 1000)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(repoDir, TRACE_FILE));
}

// --- aslo repo verify ------------------------------------------------------------------------

export type RepoProblemKind =
  | 'missing' // public file not in the tree
  | 'wrong-size' // in the tree with another size
  | 'wrong-bytes' // same size, other sha256 (--deep)
  | 'not-marked' // in the tree but the database does not record it as published
  | 'stale-mark' // the database records it as published but it is not public
  | 'extra' // something in the tree that is no public file
  | 'temporary'; // a temporary file left by a crash

export interface RepoProblem {
  kind: RepoProblemKind;
  path: string;
  fileId?: number;
  detail: string;
}

export interface RepoReport {
  expected: number;
  checked: number;
  problems: RepoProblem[];
  fixed: number;
}

/** Compare the tree with the database; with `fix`, repair every difference. */
export async function verifyRepo(ctx: AppContext, opts: { fix?: boolean; deep?: boolean; hooks?: PublishHooks } = {}): Promise<RepoReport> {
  const repoDir = ctx.config.storage.repoDir;
  const rows = await q.filesForRepoCheck(ctx.db);
  const expected = new Map<string, (typeof rows)[number]>();
  const problems: RepoProblem[] = [];
  const toPublish = new Set<number>();
  const toForce = new Set<number>();
  for (const r of rows) {
    if (shouldBePublished(r)) {
      let path: string;
      try {
        path = repoPathOf(r.activity_id, r.file_name);
      } catch (err) {
        problems.push({ kind: 'missing', path: r.file_name, fileId: r.id, detail: (err as Error).message });
        continue;
      }
      expected.set(path, r);
      if (r.repo_path !== path) {
        problems.push({ kind: 'not-marked', path, fileId: r.id, detail: r.repo_path ? `recorded at ${r.repo_path}` : 'not recorded as published' });
        toPublish.add(r.id);
      }
    } else {
      problems.push({
        kind: 'stale-mark',
        path: r.repo_path!,
        fileId: r.id,
        detail: `recorded as published but the file is ${r.status} (activity ${r.activity_status})`,
      });
      toPublish.add(r.id);
    }
  }
  const seen = new Set<string>();
  const extras: string[] = [];
  let checked = 0;
  for await (const entry of walkTree(repoDir)) {
    if (entry.rel === TRACE_FILE) continue;
    const base = entry.rel.split('/').pop()!;
    if (base.startsWith(TEMP_MARK)) {
      problems.push({ kind: 'temporary', path: entry.rel, detail: 'temporary file left behind' });
      extras.push(entry.rel);
      continue;
    }
    const want = expected.get(entry.rel);
    // An empty activity folder that should hold a missing file: only the file is reported.
    if (!entry.isFile && !entry.isSymlink && /^[1-9][0-9]*$/.test(entry.rel) && hasExpectedUnder(expected, entry.rel)) continue;
    if (!want || !entry.isFile) {
      problems.push({
        kind: 'extra',
        path: entry.rel,
        detail: entry.isFile ? 'not a public file' : entry.isSymlink ? 'a symbolic link' : 'not a regular file',
      });
      extras.push(entry.rel);
      continue;
    }
    seen.add(entry.rel);
    checked++;
    if (entry.size !== Number(want.size)) {
      problems.push({ kind: 'wrong-size', path: entry.rel, fileId: want.id, detail: `${entry.size} bytes instead of ${want.size}` });
      toForce.add(want.id);
    } else if (opts.deep) {
      const hash = await sha256Of(join(repoDir, entry.rel));
      if (hash !== want.sha256) {
        problems.push({ kind: 'wrong-bytes', path: entry.rel, fileId: want.id, detail: `sha256 ${hash} instead of ${want.sha256}` });
        toForce.add(want.id);
      }
    }
  }
  for (const [path, r] of expected) {
    if (!seen.has(path) && !toForce.has(r.id)) {
      problems.push({ kind: 'missing', path, fileId: r.id, detail: 'public file not in the tree' });
      toForce.add(r.id);
    }
  }
  let fixed = 0;
  if (opts.fix) {
    for (const rel of extras) {
      await rm(join(repoDir, rel), { force: true, recursive: true });
      await rmdir(join(repoDir, rel, '..')).catch(() => {});
      fixed++;
    }
    for (const id of new Set([...toPublish, ...toForce])) {
      await publishFile(ctx, id, { force: toForce.has(id), hooks: opts.hooks });
      fixed++;
    }
    if (fixed > 0) await writeTrace(repoDir);
  }
  return { expected: expected.size, checked, problems, fixed };
}

function hasExpectedUnder(expected: Map<string, unknown>, folder: string): boolean {
  const prefix = `${folder}/`;
  for (const path of expected.keys()) if (path.startsWith(prefix)) return true;
  return false;
}

interface TreeEntry {
  rel: string;
  isFile: boolean;
  isSymlink: boolean;
  size: number;
}

async function* walkTree(root: string, rel = ''): AsyncGenerator<TreeEntry> {
  let names: string[];
  try {
    names = await readdir(join(root, rel));
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(join(root, r)).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) {
      // Only <activity id> folders belong at the top, and nothing deeper.
      if (rel === '' && /^[1-9][0-9]*$/.test(name)) {
        let empty = true;
        for await (const e of walkTree(root, r)) {
          empty = false;
          if (e.rel.split('/').length > 2) yield { ...e, isFile: false };
          else yield e;
        }
        if (empty) yield { rel: r, isFile: false, isSymlink: false, size: 0 };
      } else {
        yield { rel: r, isFile: false, isSymlink: false, size: 0 };
      }
      continue;
    }
    yield { rel: r, isFile: st.isFile(), isSymlink: st.isSymbolicLink(), size: st.size };
  }
}

async function sha256Of(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

// Building git repositories into the catalog (`aslo import-git`, docs/building.md): for each
// repository, the chosen tags (or HEAD when it has none) are built with buildFromGit and ingested
// through the upload path (src/catalog/ingest.ts) in version order. Commits the store built
// before (built_sources) are not built again. Unlike the rest of src/build, this touches the
// catalog, through the ingest service and the built_sources table.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { AppContext } from '../platform/context.js';
import { isAsloError } from '../platform/errors.js';
import { IngestService, type IngestResult } from '../catalog/ingest.js';
import { buildFromGit, builtFromProvenance, type BuildResult } from './build.js';
import { BuildError } from './errors.js';
import { DEFAULT_GIT_LIMITS, isUrl, runGit, type GitLimits } from './git.js';
import * as q from './queries.js';

export type TagSelection = { kind: 'newest' } | { kind: 'all' } | { kind: 'since'; version: string };

export interface ImportGitOptions {
  /** Repository URLs or local paths (see expandSources for list files and folders). */
  repositories: string[];
  select?: TagSelection;
  status?: 'sandbox' | 'public';
  /** The old store's numeric id of the activity (one repository only). */
  legacyId?: number;
  limits?: Partial<GitLimits>;
  actorLabel?: string;
  /** Progress lines (one per repository step). */
  onProgress?: (line: string) => void;
}

export type ImportOutcome = 'built' | 'unchanged' | 'refused';

export interface ImportRow {
  repository: string;
  /** The tag built, or "HEAD" for a repository without tags; null when listing it failed. */
  ref: string | null;
  commit: string | null;
  bundleId: string | null;
  version: string | null;
  outcome: ImportOutcome;
  /** Error codes of a refusal (BUILD_*, INGEST_*, bundle codes, IMPORT_*). */
  codes: string[];
  message: string | null;
  fileStatus: string | null;
}

export interface ImportSummary {
  rows: ImportRow[];
  built: number;
  unchanged: number;
  refused: number;
}

/**
 * The repositories named by the command's arguments: a URL or a git repository (a folder with
 * .git, or a bare one) is itself; a file is a list (one repository per line, `#` comments, paths
 * relative to the file); any other folder is a folder of repositories (aslo-v4's layout): each
 * of its sub-folders that is a git repository, in name order.
 */
export function expandSources(args: string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (isUrl(arg)) {
      out.push(arg);
      continue;
    }
    let st;
    try {
      st = statSync(arg);
    } catch {
      // Left to the import, which refuses it with BUILD_SOURCE_NOT_FOUND.
      out.push(resolve(arg));
      continue;
    }
    if (st.isFile()) {
      const base = dirname(resolve(arg));
      for (const raw of readFileSync(arg, 'utf8').split(/\r?\n/)) {
        const line = raw.replace(/(^|\s)#.*$/, '').trim();
        if (!line) continue;
        out.push(isUrl(line) ? line : resolve(base, line));
      }
    } else if (isGitDir(arg)) {
      out.push(resolve(arg));
    } else {
      for (const name of readdirSync(arg).sort()) {
        const p = join(resolve(arg), name);
        if (statSync(p).isDirectory() && isGitDir(p)) out.push(p);
      }
    }
  }
  return [...new Set(out)];
}

function isGitDir(p: string): boolean {
  return existsSync(join(p, '.git')) || (existsSync(join(p, 'HEAD')) && existsSync(join(p, 'objects')) && existsSync(join(p, 'refs')));
}

/** The legacy id in a repository named `<number>-activity` (the old store's public mirrors). */
export function legacyIdFromName(repository: string): number | null {
  const name = basename(repository.replace(/\/+$/, '')).replace(/\.git$/, '');
  const m = /^(\d{1,9})-activity$/.exec(name);
  return m ? Number(m[1]) : null;
}

/** A tag name as numbers ("v12.1" -> [12, 1]); null when it holds no number. */
export function tagVersion(tag: string): number[] | null {
  const m = /\d+(?:[._-]\d+)*/.exec(tag);
  return m ? m[0].split(/[._-]/).map(Number) : null;
}

function compareNumbers(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Tags oldest first: by the version their name holds, then by name; names without a number first. */
export function sortTags(tags: string[]): string[] {
  return [...tags].sort((x, y) => {
    const a = tagVersion(x);
    const b = tagVersion(y);
    if (a && b) return compareNumbers(a, b) || (x < y ? -1 : x > y ? 1 : 0);
    if (a) return 1;
    if (b) return -1;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

export interface RemoteRefs {
  head: string | null;
  /** Tag name -> the commit it names. */
  tags: Map<string, string>;
}

/** What a repository has (`git ls-remote`): its HEAD and its tags, without fetching anything. */
export async function listRefs(repository: string, limits: GitLimits): Promise<RemoteRefs> {
  if (!isUrl(repository) && !existsSync(repository)) throw new BuildError('BUILD_SOURCE_NOT_FOUND', `${repository}: no such folder`);
  const out = (await runGit(['ls-remote', '--', repository], { timeoutMs: limits.timeoutMs, maxOutput: 64 * 1024 * 1024 })).toString('utf8');
  let head: string | null = null;
  const direct = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [sha, name] = line.split('\t');
    if (!sha || !name) continue;
    if (name === 'HEAD') head = sha;
    else if (name.startsWith('refs/tags/')) {
      const tag = name.slice('refs/tags/'.length);
      if (tag.endsWith('^{}')) peeled.set(tag.slice(0, -3), sha);
      else direct.set(tag, sha);
    }
  }
  const tags = new Map<string, string>();
  for (const [tag, sha] of direct) tags.set(tag, peeled.get(tag) ?? sha);
  return { head, tags };
}

/** The repository as a build records it: the URL, or a local repository's absolute path. */
export function recordedRepository(repository: string): string {
  return isUrl(repository) ? repository : resolve(repository);
}

interface Candidate {
  ref: string | null;
  commit: string;
}

/** Which refs of a repository to build. */
export function chooseRefs(refs: RemoteRefs, select: TagSelection): Candidate[] {
  const names = sortTags([...refs.tags.keys()]);
  if (names.length === 0) return refs.head ? [{ ref: null, commit: refs.head }] : [];
  let chosen: string[];
  if (select.kind === 'all') chosen = names;
  else if (select.kind === 'newest') chosen = names.slice(-1);
  else {
    const min = tagVersion(select.version) ?? [0];
    chosen = names.filter((n) => {
      const v = tagVersion(n);
      return v !== null && compareNumbers(v, min) >= 0;
    });
  }
  return chosen.map((tag) => ({ ref: tag, commit: refs.tags.get(tag)! }));
}

function refusal(repository: string, ref: string | null, commit: string | null, err: unknown): ImportRow {
  const code = isAsloError(err) ? err.code : 'IMPORT_FAILED';
  return { repository, ref, commit, bundleId: null, version: null, outcome: 'refused', codes: [code], message: (err as Error).message, fileStatus: null };
}

/** Imports the repositories; never throws for one repository's failure (it becomes a refused row). */
export async function importGit(ctx: AppContext, opts: ImportGitOptions): Promise<ImportSummary> {
  const limits: GitLimits = { ...DEFAULT_GIT_LIMITS, ...opts.limits };
  const select = opts.select ?? { kind: 'newest' };
  const progress = opts.onProgress ?? (() => {});
  const ingest = new IngestService(ctx);
  const rows: ImportRow[] = [];
  const outDir = await mkdtemp(join(tmpdir(), 'aslo-import-git-'));
  try {
    const total = opts.repositories.length;
    for (const [i, source] of opts.repositories.entries()) {
      const prefix = `[${i + 1}/${total}] ${source}`;
      const repository = recordedRepository(source);
      let refs: RemoteRefs;
      try {
        refs = await listRefs(source, limits);
      } catch (err) {
        const row = refusal(source, null, null, err);
        rows.push(row);
        progress(`${prefix}: refused [${row.codes.join(', ')}] ${row.message}`);
        continue;
      }
      const candidates = chooseRefs(refs, select);
      if (candidates.length === 0) {
        const row = refusal(
          source,
          null,
          null,
          new BuildError(
            'BUILD_REF_NOT_FOUND',
            refs.head ? `no tag matches --since-version ${select.kind === 'since' ? select.version : ''}` : 'the repository has no commit',
          ),
        );
        if (refs.head && refs.tags.size > 0) {
          // Tags exist, none is chosen: nothing new to build is not a failure.
          rows.push({ ...row, outcome: 'unchanged', codes: [], message: row.message });
          progress(`${prefix}: nothing to build (${row.message})`);
        } else {
          rows.push(row);
          progress(`${prefix}: refused [${row.codes.join(', ')}] ${row.message}`);
        }
        continue;
      }
      // Commits built before (by an earlier run, or twice among the chosen tags) are not rebuilt.
      const known = new Map(
        (
          await q.builtCommits(
            ctx.db,
            repository,
            candidates.map((c) => c.commit),
          )
        ).map((r) => [r.commit_sha, r]),
      );
      const seen = new Set<string>();
      const built: { cand: Candidate; result: BuildResult }[] = [];
      for (const cand of candidates) {
        const refName = cand.ref ?? 'HEAD';
        const prev = known.get(cand.commit);
        if (prev || seen.has(cand.commit)) {
          rows.push({
            repository: source,
            ref: refName,
            commit: cand.commit,
            bundleId: prev?.bundle_id ?? null,
            version: prev?.version ?? null,
            outcome: 'unchanged',
            codes: [],
            message: prev ? 'built before' : 'same commit as another chosen tag',
            fileStatus: prev?.status ?? null,
          });
          progress(`${prefix}: ${refName} (${cand.commit.slice(0, 12)}) unchanged`);
          continue;
        }
        seen.add(cand.commit);
        progress(`${prefix}: building ${refName} (${cand.commit.slice(0, 12)})`);
        try {
          const result = await buildFromGit({ source, ref: cand.ref ?? cand.commit, outDir: join(outDir, String(i), String(built.length)), limits });
          built.push({ cand, result });
        } catch (err) {
          if (!isAsloError(err)) throw err;
          const row = refusal(source, refName, cand.commit, err);
          rows.push(row);
          progress(`${prefix}: ${refName} refused [${row.codes.join(', ')}] ${row.message}`);
        }
      }
      // Ingested in version order, so the newest version describes the activity.
      built.sort((a, b) =>
        a.result.metadata.version_sort_key < b.result.metadata.version_sort_key
          ? -1
          : a.result.metadata.version_sort_key > b.result.metadata.version_sort_key
            ? 1
            : 0,
      );
      const legacyId = opts.legacyId ?? legacyIdFromName(source);
      for (const { cand, result } of built) {
        const refName = cand.ref ?? 'HEAD';
        const base = { repository: source, ref: refName, commit: cand.commit, bundleId: result.metadata.bundle_id, version: result.metadata.version };
        if (legacyId !== null) {
          const holder = await q.legacyIdHolder(ctx.db, legacyId);
          if (holder && holder.bundle_id !== result.metadata.bundle_id) {
            rows.push({
              ...base,
              outcome: 'refused',
              codes: ['IMPORT_LEGACY_ID_TAKEN'],
              message: `legacy id ${legacyId} belongs to ${holder.bundle_id}`,
              fileStatus: null,
            });
            progress(`${prefix}: ${refName} refused [IMPORT_LEGACY_ID_TAKEN] legacy id ${legacyId} belongs to ${holder.bundle_id}`);
            continue;
          }
        }
        const r: IngestResult = await ingest.ingestPath(result.path, {
          fileName: result.fileName,
          status: opts.status ?? 'sandbox',
          actorLabel: opts.actorLabel ?? 'cli:import-git',
          legacy: legacyId !== null ? { activityId: legacyId } : undefined,
          builtFrom: builtFromProvenance(result.source),
        });
        if (r.outcome !== 'rejected' && legacyId !== null && r.activityId) {
          await q.setLegacyIdIfNone(ctx.db, r.activityId, legacyId);
        }
        const row: ImportRow = {
          ...base,
          outcome: r.outcome === 'imported' ? 'built' : r.outcome === 'unchanged' ? 'unchanged' : 'refused',
          codes: r.errors.map((e) => e.code),
          message: r.errors.map((e) => e.message).join('; ') || null,
          fileStatus: r.fileStatus ?? null,
        };
        rows.push(row);
        progress(
          `${prefix}: ${refName} ${row.outcome}${row.codes.length ? ` [${row.codes.join(', ')}]` : ''} ${result.metadata.bundle_id} ${result.metadata.version}`,
        );
      }
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  const count = (o: ImportOutcome) => rows.filter((r) => r.outcome === o).length;
  return { rows, built: count('built'), unchanged: count('unchanged'), refused: count('refused') };
}

// Publishing from git (docs/building.md): "check now" on the hub asks for a build of the
// activity's source; the build runs as a durable job in the worker (queue `source-build`), not in
// the request: the newest tag (HEAD when there is none) is built and ingested as a new version
// through the upload path, and the outcome and build log are kept (source_builds), shown on the
// hub and mailed to the authors.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../platform/context.js';
import { AsloError, isAsloError } from '../platform/errors.js';
import { enqueue, type JobRunner } from '../platform/jobs/index.js';
import { requireAuthor, type Viewer } from '../accounts/access.js';
import { IngestService } from '../catalog/ingest.js';
import type { Mailer } from '../mail/mailer.js';
import { buildFromGit, builtFromProvenance } from './build.js';
import { chooseRefs, listRefs, recordedRepository } from './import.js';
import { DEFAULT_GIT_LIMITS, type GitLimits } from './git.js';
import * as q from './queries.js';

export const SOURCE_BUILD_QUEUE = 'source-build';

/** An author (or an administrator) asks for a build of the activity's source. Returns the build's id. */
export async function requestSourceBuild(ctx: AppContext, viewer: Viewer, activityId: number): Promise<number> {
  const actor = await requireAuthor(ctx.db, viewer, activityId, { orAdmin: true });
  const a = await q.activitySource(ctx.db, activityId);
  if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', 'There is no such activity.', { statusCode: 404 });
  if (!a.source_url) throw new AsloError('SOURCE_NOT_SET', "Set the activity's source repository first.", { statusCode: 409 });
  if (a.status === 'disabled')
    throw new AsloError('INGEST_ACTIVITY_DISABLED', 'This activity was disabled by the editors, so it takes no new versions.', { statusCode: 409 });
  return queueSourceBuild(ctx, activityId, a.source_url, actor.userId);
}

/** Queues a build of the source (one waiting build per activity: asking again returns it). */
export async function queueSourceBuild(ctx: AppContext, activityId: number, repository: string, requestedBy: number | null): Promise<number> {
  const waiting = await q.queuedBuild(ctx.db, activityId);
  if (waiting) return Number(waiting.id);
  const id = await q.insertSourceBuild(ctx.db, activityId, requestedBy, repository);
  await enqueue(ctx.db, SOURCE_BUILD_QUEUE, { buildId: id }, { dedupeKey: `build:${id}`, maxAttempts: 3 });
  return id;
}

/** The newest builds of an activity, for its hub page. */
export async function recentSourceBuilds(ctx: AppContext, activityId: number, limit = 5) {
  return q.recentBuilds(ctx.db, activityId, limit);
}

export interface SourceBuildDeps {
  mailer?: Mailer | null;
  limits?: Partial<GitLimits>;
}

/** Registers the job handler on the worker's runner. */
export function registerSourceBuilds(ctx: AppContext, runner: JobRunner, deps: SourceBuildDeps = {}): void {
  runner.handle(SOURCE_BUILD_QUEUE, async (job) => {
    const id = Number(job.payload.buildId);
    if (!Number.isSafeInteger(id) || id <= 0) return;
    await runSourceBuild(ctx, id, deps);
  });
}

class Unchanged extends Error {}

class Refusal extends Error {
  constructor(
    readonly codes: string[],
    message: string,
  ) {
    super(message);
  }
}

/** Runs one requested build to its end (an outcome is always recorded; it never throws for a refusal). */
export async function runSourceBuild(ctx: AppContext, buildId: number, deps: SourceBuildDeps = {}): Promise<void> {
  const b = await q.sourceBuild(ctx.db, buildId);
  if (!b || b.state === 'done') return;
  const a = await q.activityForBuild(ctx.db, b.activity_id);
  if (!a) return;
  await q.markBuildRunning(ctx.db, buildId);
  const log: string[] = [];
  const limits: GitLimits = { ...DEFAULT_GIT_LIMITS, ...deps.limits };
  const result: {
    outcome: 'built' | 'unchanged' | 'refused';
    codes: string[];
    tag: string | null;
    commit: string | null;
    version: string | null;
    fileStatus: string | null;
  } = {
    outcome: 'refused',
    codes: [],
    tag: null,
    commit: null,
    version: null,
    fileStatus: null,
  };
  const outDir = await mkdtemp(join(tmpdir(), 'aslo-source-build-'));
  try {
    const refs = await listRefs(b.repository, limits);
    const [cand] = chooseRefs(refs, { kind: 'newest' });
    if (!cand) throw new Refusal(['BUILD_REF_NOT_FOUND'], `${b.repository}: the repository has no commit`);
    result.tag = cand.ref;
    result.commit = cand.commit;
    log.push(`newest ${cand.ref ? `tag: ${cand.ref}` : 'commit (no tags): HEAD'} -> ${cand.commit}`);
    if (await q.builtBefore(ctx.db, recordedRepository(b.repository), cand.commit)) throw new Unchanged();
    const built = await buildFromGit({ source: b.repository, ref: cand.ref ?? cand.commit, outDir, limits, onLog: (l) => log.push(l) });
    result.version = built.metadata.version;
    if (built.metadata.bundle_id !== a.bundle_id) {
      throw new Refusal(['BUILD_BUNDLE_ID_MISMATCH'], `the repository builds ${built.metadata.bundle_id}, not this activity (${a.bundle_id})`);
    }
    const newest = await q.newestVersion(ctx.db, a.id);
    if (newest && built.metadata.version_sort_key <= newest.sort_key) {
      throw new Refusal(
        ['BUILD_VERSION_NOT_NEWER'],
        `activity.info says version ${built.metadata.version}, which is not newer than version ${newest.version}, already published; raise activity_version and tag again`,
      );
    }
    const r = await new IngestService(ctx).ingestPath(built.path, {
      fileName: built.fileName,
      actorLabel: `source-build:${b.requested_by ?? 'hook'}`,
      builtFrom: builtFromProvenance(built.source),
    });
    for (const w of r.warnings) log.push(`warning ${w.code}: ${w.message}`);
    if (r.outcome === 'rejected')
      throw new Refusal(
        r.errors.map((e) => e.code),
        r.errors.map((e) => e.message).join('; '),
      );
    result.outcome = r.outcome === 'imported' ? 'built' : 'unchanged';
    result.fileStatus = r.fileStatus ?? null;
    log.push(`${result.outcome === 'built' ? 'ingested' : 'already in the catalog'}: version ${r.version}, status ${r.fileStatus}`);
  } catch (err) {
    if (err instanceof Unchanged) {
      result.outcome = 'unchanged';
      log.push('this commit was built before: nothing new');
    } else if (err instanceof Refusal) {
      result.codes = err.codes;
      log.push(`refused [${err.codes.join(', ')}]: ${err.message}`);
    } else if (isAsloError(err)) {
      result.codes = [err.code];
      log.push(`refused [${err.code}]: ${err.message}`);
    } else {
      // Not a refusal (a bug, or the database failing): recorded as such, so the activity is not
      // left with a build that never ends; the authors may ask again. If even this write fails,
      // the job fails and is retried.
      result.codes = ['BUILD_INTERNAL_ERROR'];
      log.push(`error [BUILD_INTERNAL_ERROR]: ${(err as Error).message}`);
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  await q.finishBuild(ctx.db, buildId, { ...result, log: log.join('\n') });
  if (deps.mailer) await mailAuthors(ctx, deps.mailer, a, { ...result, repository: b.repository, log });
}

async function mailAuthors(
  ctx: AppContext,
  mailer: Mailer,
  a: { id: number; bundle_id: string },
  r: {
    outcome: string;
    codes: string[];
    tag: string | null;
    commit: string | null;
    version: string | null;
    fileStatus: string | null;
    repository: string;
    log: string[];
  },
): Promise<void> {
  const authors = await q.authorAddresses(ctx.db, a.id);
  const what =
    r.outcome === 'built'
      ? `version ${r.version} was built and added (status: ${r.fileStatus})`
      : r.outcome === 'unchanged'
        ? 'nothing new to build'
        : `the build was refused (${r.codes.join(', ')})`;
  const subject = `${a.bundle_id}: ${r.outcome === 'built' ? `version ${r.version} built from ${r.tag ?? 'HEAD'}` : r.outcome === 'unchanged' ? 'nothing new to build' : 'build refused'}`;
  const link = `${ctx.config.server.baseUrl}/developers/activities/${a.id}`;
  for (const u of authors) {
    await mailer.send({
      to: u.email,
      subject,
      text: `Hello ${u.display_name},\n\nThe store checked ${r.repository}${r.tag ? ` at ${r.tag}` : ''}${r.commit ? ` (${r.commit})` : ''}: ${what}.\n\nBuild log:\n\n${r.log.map((l) => `  ${l}`).join('\n')}\n\n${link}\n`,
    });
  }
}

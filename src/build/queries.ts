// The build domain's SQL: source builds, what was built from which commit, and the activity
// settings that concern building (pattern: search/queries.ts), and the release webhooks'
// deliveries.
import type { Db } from '../platform/db/index.js';

// --- activity settings -------------------------------------------------------------------------

export async function activitySettings(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'legacy_id', 'source_url']).where('id', '=', activityId).executeTakeFirst();
}

/** The activity holding a legacy id, other than `exceptActivityId` when given. */
export async function legacyIdHolder(db: Db, legacyId: number, exceptActivityId?: number) {
  let q = db.selectFrom('activities').select('bundle_id').where('legacy_id', '=', legacyId);
  if (exceptActivityId !== undefined) q = q.where('id', '<>', exceptActivityId);
  return q.executeTakeFirst();
}

export async function setLegacyId(db: Db, activityId: number, legacyId: number | null): Promise<void> {
  await db.updateTable('activities').set({ legacy_id: legacyId, updated_at: new Date() }).where('id', '=', activityId).execute();
}

/** Give the activity a legacy id unless it has one. */
export async function setLegacyIdIfNone(db: Db, activityId: number, legacyId: number): Promise<void> {
  await db.updateTable('activities').set({ legacy_id: legacyId }).where('id', '=', activityId).where('legacy_id', 'is', null).execute();
}

export async function sourceHookSecret(db: Db, activityId: number) {
  return (await db.selectFrom('activities').select('source_hook_secret').where('id', '=', activityId).executeTakeFirst())?.source_hook_secret;
}

export async function setSource(db: Db, activityId: number, url: string | null, secret: string): Promise<void> {
  await db.updateTable('activities').set({ source_url: url, source_hook_secret: secret, updated_at: new Date() }).where('id', '=', activityId).execute();
}

// --- source builds -----------------------------------------------------------------------------

export async function activitySource(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['id', 'source_url', 'status']).where('id', '=', activityId).executeTakeFirst();
}

export async function queuedBuild(db: Db, activityId: number) {
  return db.selectFrom('source_builds').select('id').where('activity_id', '=', activityId).where('state', '=', 'queued').executeTakeFirst();
}

/** Insert a requested build; its id. */
export async function insertSourceBuild(db: Db, activityId: number, requestedBy: number | null, repository: string): Promise<number> {
  const row = await db
    .insertInto('source_builds')
    .values({ activity_id: activityId, requested_by: requestedBy, repository })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** The newest builds of an activity. */
export async function recentBuilds(db: Db, activityId: number, limit: number) {
  return db.selectFrom('source_builds').selectAll().where('activity_id', '=', activityId).orderBy('id', 'desc').limit(limit).execute();
}

export async function sourceBuild(db: Db, buildId: number) {
  return db.selectFrom('source_builds').selectAll().where('id', '=', buildId).executeTakeFirst();
}

export async function activityForBuild(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('id', '=', activityId).executeTakeFirst();
}

export async function markBuildRunning(db: Db, buildId: number): Promise<void> {
  await db.updateTable('source_builds').set({ state: 'running' }).where('id', '=', buildId).execute();
}

export async function finishBuild(
  db: Db,
  buildId: number,
  r: {
    outcome: 'built' | 'unchanged' | 'refused';
    codes: string[];
    tag: string | null;
    commit: string | null;
    version: string | null;
    fileStatus: string | null;
    log: string;
  },
): Promise<void> {
  await db
    .updateTable('source_builds')
    .set({
      state: 'done',
      outcome: r.outcome,
      codes: r.codes,
      tag: r.tag,
      commit_sha: r.commit,
      version: r.version,
      file_status: r.fileStatus,
      log: r.log,
      finished_at: new Date(),
    })
    .where('id', '=', buildId)
    .execute();
}

/** Whether this commit of the repository was built before. */
export async function builtBefore(db: Db, repository: string, commit: string): Promise<boolean> {
  const known = await db.selectFrom('built_sources').select('id').where('repository', '=', repository).where('commit_sha', '=', commit).executeTakeFirst();
  return known !== undefined;
}

/** These commits of the repository built before, with the version, activity and file status they gave. */
export async function builtCommits(db: Db, repository: string, commits: string[]) {
  return db
    .selectFrom('built_sources')
    .leftJoin('files', 'files.id', 'built_sources.file_id')
    .leftJoin('versions', 'versions.id', 'files.version_id')
    .leftJoin('activities', 'activities.id', 'built_sources.activity_id')
    .select(['built_sources.commit_sha', 'versions.version', 'activities.bundle_id', 'files.status'])
    .where('built_sources.repository', '=', repository)
    .where('built_sources.commit_sha', 'in', commits)
    .execute();
}

/** The activity's newest version. */
export async function newestVersion(db: Db, activityId: number) {
  return db
    .selectFrom('versions')
    .select(['version', 'sort_key'])
    .where('activity_id', '=', activityId)
    .orderBy('sort_key', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** The live accounts of an activity's authors. */
export async function authorAddresses(db: Db, activityId: number) {
  return db
    .selectFrom('activity_authors as aa')
    .innerJoin('users as u', 'u.id', 'aa.user_id')
    .select(['u.email', 'u.display_name'])
    .where('aa.activity_id', '=', activityId)
    .where('u.deleted_at', 'is', null)
    .execute();
}

// --- release webhooks ----------------------------------------------------------------------------

/** An activity's source repository and hook secret, by bundle id (any status). */
export function activitySourceByBundleId(db: Db, bundleId: string) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'source_url', 'source_hook_secret']).where('bundle_id', '=', bundleId).executeTakeFirst();
}

/** Every activity built from a repository, with its hook secret and status. */
export function activitiesWithSource(db: Db) {
  return db.selectFrom('activities').select(['id', 'source_url', 'source_hook_secret', 'status']).where('source_url', 'is not', null).execute();
}

/** Records a delivery; false when its key was recorded before (a replay). */
export async function recordHookDelivery(db: Db, key: string, activityId: number): Promise<boolean> {
  const fresh = await db
    .insertInto('hook_deliveries')
    .values({ key, activity_id: activityId })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  return fresh !== undefined;
}

export async function forgetHookDeliveriesBefore(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('hook_deliveries').where('received_at', '<', before).execute();
}

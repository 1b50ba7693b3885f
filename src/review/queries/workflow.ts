// The review workflow's SQL: nominations, the editors' queue, the review page and decisions.
// The review domain has three query modules (workflow, publishing, listing), one per service;
// the pattern, database handle first, is explained in search/queries.ts.
import { sql } from 'kysely';
import type { Db } from '../../platform/db/index.js';
import type { ActivityStatus, FileStatus, ReviewAction } from '../../platform/db/schema.js';

/** Whether some decision named the version of file `f` (aliases f and v in the query). */
const namedInDecision = sql<boolean>`exists (select 1 from review_history h where h.activity_id = v.activity_id and h.action in ('approve', 'return', 'escalate', 'disable') and (h.file_id = f.id or v.version = any(h.versions)))`;

/** The activity's row, locked until the transaction ends (orders every decision on it). */
export async function lockActivity(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'status', 'admin_review']).where('id', '=', activityId).forUpdate().executeTakeFirst();
}

/** The activity's row, locked until the transaction ends; throws when there is none. */
export async function lockExistingActivity(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('id', '=', activityId).forUpdate().executeTakeFirstOrThrow();
}

/** Ids of an activity's sandbox files. */
export async function sandboxFiles(db: Db, activityId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .select('f.id')
    .where('v.activity_id', '=', activityId)
    .where('f.status', '=', 'sandbox')
    .execute();
}

export async function setActivityNominated(db: Db, activityId: number, message: string, now: Date): Promise<void> {
  await db
    .updateTable('activities')
    .set({ status: 'nominated', status_changed_at: now, nomination_message: message, admin_review: false, updated_at: now })
    .where('id', '=', activityId)
    .execute();
}

export async function insertReviewHistory(
  db: Db,
  row: {
    activityId: number;
    fileId: number | null;
    version: string | null;
    versions?: string[] | null;
    actorUserId: number;
    action: ReviewAction;
    comment: string;
    fromStatus: string;
    toStatus: string;
    at: Date;
  },
): Promise<void> {
  await db
    .insertInto('review_history')
    .values({
      activity_id: row.activityId,
      file_id: row.fileId,
      version: row.version,
      ...(row.versions !== undefined ? { versions: row.versions } : {}),
      actor_user_id: row.actorUserId,
      action: row.action,
      comment: row.comment,
      from_status: row.fromStatus,
      to_status: row.toStatus,
      created_at: row.at,
    })
    .execute();
}

/** An activity's review history with each actor's display name, newest first. */
export async function reviewHistory(db: Db, activityId: number) {
  return db
    .selectFrom('review_history as h')
    .leftJoin('users as u', 'u.id', 'h.actor_user_id')
    .select(['h.id', 'h.action', 'h.comment', 'h.from_status', 'h.to_status', 'h.version', 'h.created_at', 'u.display_name as actor'])
    .where('h.activity_id', '=', activityId)
    .orderBy('h.id', 'desc')
    .execute();
}

/** Nominated activities, longest waiting first, with whether `userId` is (or was) an author. */
export async function nominatedForEditor(db: Db, userId: number) {
  return (
    db
      .selectFrom('activities as a')
      .select(['a.id', 'a.bundle_id', 'a.status_changed_at as since', 'a.admin_review', 'a.nomination_message'])
      // Own: an author now, or since the versions awaiting review were uploaded (as decide() checks).
      .select(
        sql<boolean>`exists (select 1 from activity_author_periods p where p.activity_id = a.id and p.user_id = ${userId} and (p.ended_at is null or p.ended_at >= (select min(f.created_at) from files f join versions v on v.id = f.version_id where v.activity_id = a.id and f.status in ('sandbox', 'pending'))))`.as(
          'was_author',
        ),
      )
      .select((eb) =>
        eb
          .exists(eb.selectFrom('activity_authors as aa').select(sql.lit(1).as('one')).whereRef('aa.activity_id', '=', 'a.id').where('aa.user_id', '=', userId))
          .as('own'),
      )
      // The versions awaiting review, those no decision named yet, and when an editor last decided.
      .select(
        sql<number>`(select count(*) from files f join versions v on v.id = f.version_id where v.activity_id = a.id and f.status in ('sandbox', 'pending'))`.as(
          'awaiting',
        ),
      )
      .select(
        sql<number>`(select count(*) from files f join versions v on v.id = f.version_id where v.activity_id = a.id and f.status in ('sandbox', 'pending') and not ${namedInDecision})`.as(
          'undecided',
        ),
      )
      .select(
        sql<Date | null>`(select max(h.created_at) from review_history h where h.activity_id = a.id and h.action in ('approve', 'return', 'escalate', 'disable'))`.as(
          'last_decision_at',
        ),
      )
      .where('a.status', '=', 'nominated')
      .orderBy('a.status_changed_at', 'asc')
      .orderBy('a.id')
      .execute()
  );
}

/** Pending files, longest waiting first, with whether `userId` is (or was) an author and whether a decision named them. */
export async function pendingForEditor(db: Db, userId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select(['f.id', 'a.id as activity_id', 'a.bundle_id', 'v.version', 'v.release_notes', 'f.status_changed_at as since', 'f.admin_review'])
    .select(
      sql<boolean>`exists (select 1 from activity_author_periods p where p.activity_id = a.id and p.user_id = ${userId} and (p.ended_at is null or p.ended_at >= f.created_at))`.as(
        'was_author',
      ),
    )
    .select((eb) =>
      eb
        .exists(eb.selectFrom('activity_authors as aa').select(sql.lit(1).as('one')).whereRef('aa.activity_id', '=', 'a.id').where('aa.user_id', '=', userId))
        .as('own'),
    )
    .select(namedInDecision.as('decided'))
    .where('f.status', '=', 'pending')
    .orderBy('f.status_changed_at', 'asc')
    .orderBy('f.id')
    .execute();
}

/** Files awaiting review (pending, or sandbox of a nominated activity), in Sugar version order. */
export async function awaitingFiles(db: Db) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select([
      'a.id as activity_id',
      'a.bundle_id',
      'a.status as activity_status',
      'a.status_changed_at as activity_since',
      'v.version',
      'f.id as file_id',
      'f.status',
      'f.created_at',
      'f.status_changed_at',
    ])
    .where((eb) => eb.or([eb('f.status', '=', 'pending'), eb.and([eb('a.status', '=', 'nominated'), eb('f.status', '=', 'sandbox')])]))
    .orderBy('v.sort_key', 'asc')
    .orderBy('f.id')
    .execute();
}

export async function nominatedActivities(db: Db) {
  return db
    .selectFrom('activities')
    .select(['id as activity_id', 'bundle_id', 'status as activity_status', 'status_changed_at as activity_since'])
    .where('status', '=', 'nominated')
    .execute();
}

/** A file and its activity's id. */
export async function fileActivity(db: Db, fileId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .select(['f.id', 'v.activity_id'])
    .where('f.id', '=', fileId)
    .executeTakeFirst();
}

export async function activityRow(db: Db, activityId: number) {
  return db.selectFrom('activities').selectAll().where('id', '=', activityId).executeTakeFirst();
}

/** Every version of an activity with its file, newest first, as the review page compares them. */
export async function versionsForReview(db: Db, activityId: number) {
  return db
    .selectFrom('versions as v')
    .innerJoin('files as f', 'f.version_id', 'v.id')
    .select([
      'v.id',
      'v.version',
      'v.metadata',
      'v.sort_key',
      'v.sugar_min',
      'v.sugar_max',
      'v.release_notes',
      'v.created_at',
      'f.id as file_id',
      'f.status as file_status',
      'f.file_name',
      'f.size',
      'f.sha256',
      'f.storage_key',
      'f.validation',
      'f.admin_review',
      'f.created_at as uploaded_at',
    ])
    .select(namedInDecision.as('decided'))
    .where('v.activity_id', '=', activityId)
    .orderBy('v.sort_key', 'desc')
    .execute();
}

export async function authorsWithRoles(db: Db, activityId: number) {
  return db
    .selectFrom('activity_authors as aa')
    .innerJoin('users as u', 'u.id', 'aa.user_id')
    .select(['u.id', 'u.display_name', 'aa.role'])
    .where('aa.activity_id', '=', activityId)
    .execute();
}

/** The review history as the review page shows it, newest first. */
export async function reviewPageHistory(db: Db, activityId: number) {
  return db
    .selectFrom('review_history as h')
    .leftJoin('users as u', 'u.id', 'h.actor_user_id')
    .select(['h.action', 'h.comment', 'h.from_status', 'h.to_status', 'h.version', 'h.created_at', 'u.display_name as actor'])
    .where('h.activity_id', '=', activityId)
    .orderBy('h.id', 'desc')
    .execute();
}

export async function activityIdByBundleId(db: Db, bundleId: string) {
  return db.selectFrom('activities').select('id').where('bundle_id', '=', bundleId).executeTakeFirst();
}

/** Every file of an activity with its version, in Sugar version order. */
export async function activityFiles(db: Db, activityId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .select(['f.id', 'v.version', 'v.version_normalized', 'v.sort_key', 'f.status', 'f.created_at', 'f.admin_review'])
    .where('v.activity_id', '=', activityId)
    .orderBy('v.sort_key', 'asc')
    .orderBy('f.id')
    .execute();
}

/** The latest authorship period of the user that was open at or after `since` (still open when `since` is null). */
export async function authorshipSince(db: Db, activityId: number, userId: number, since: Date | null) {
  return db
    .selectFrom('activity_author_periods')
    .select('ended_at')
    .where('activity_id', '=', activityId)
    .where('user_id', '=', userId)
    .where((eb) => (since ? eb.or([eb('ended_at', 'is', null), eb('ended_at', '>=', since)]) : eb('ended_at', 'is', null)))
    .orderBy('ended_at', 'desc')
    .executeTakeFirst();
}

export async function updateActivityReview(
  db: Db,
  activityId: number,
  set: { status?: ActivityStatus; admin_review?: boolean; updated_at: Date; status_changed_at?: Date; last_published_at?: Date },
): Promise<void> {
  await db.updateTable('activities').set(set).where('id', '=', activityId).execute();
}

export async function setFilesReview(
  db: Db,
  fileIds: number[],
  values: { status?: FileStatus; status_changed_at?: Date; admin_review?: boolean },
): Promise<void> {
  await db.updateTable('files').set(values).where('id', 'in', fileIds).execute();
}

export async function activityStatus(db: Db, activityId: number) {
  return db.selectFrom('activities').select('status').where('id', '=', activityId).executeTakeFirstOrThrow();
}

export async function fileStatuses(db: Db, fileIds: number[]) {
  return db.selectFrom('files').select(['id', 'status']).where('id', 'in', fileIds).execute();
}

/** The activity's row (status), locked until the transaction ends. */
export async function lockActivityStatus(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('id', '=', activityId).forUpdate().executeTakeFirst();
}

/** The status an activity had when it was last disabled. */
export async function statusBeforeDisabled(db: Db, activityId: number) {
  return db
    .selectFrom('review_history')
    .select('from_status')
    .where('activity_id', '=', activityId)
    .where('file_id', 'is', null)
    .where('to_status', '=', 'disabled')
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

export async function setActivityEnabled(db: Db, activityId: number, to: ActivityStatus, now: Date): Promise<void> {
  await db.updateTable('activities').set({ status: to, status_changed_at: now, admin_review: false, updated_at: now }).where('id', '=', activityId).execute();
}

export async function bundleIdOf(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['bundle_id']).where('id', '=', activityId).executeTakeFirstOrThrow();
}

/** The activity's name for mails: a developer's text first, the undetermined locale first. */
export async function mailActivityName(db: Db, activityId: number): Promise<string | null | undefined> {
  return (
    await db
      .selectFrom('activity_texts')
      .select('name')
      .where('activity_id', '=', activityId)
      .where('name', 'is not', null)
      .orderBy(sql`case when origin = 'developer' then 0 else 1 end`)
      .orderBy(sql`case when locale = 'und' then 0 else 1 end`)
      .executeTakeFirst()
  )?.name;
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

// SQL of ratings, reviews, flags and abuse reports: plain functions over the database handle or
// a transaction. The rules (who may do what, what a valid rating is) are RatingsService's.
import { sql, type Transaction } from 'kysely';
import type { Database } from '../platform/db/schema.js';
import type { Db } from '../platform/db/index.js';

type Q = Db | Transaction<Database>;

/** An activity (any status) with its rating figures. */
export function activityWithRatings(db: Q, bundleId: string) {
  return db
    .selectFrom('activities')
    .select(['id', 'bundle_id', 'status', 'rating_average', 'rating_bayesian', 'rating_count'])
    .where('bundle_id', '=', bundleId)
    .executeTakeFirst();
}

/** Count and sum of an activity's visible ratings. */
export function ratingTotals(db: Q, activityId: number) {
  return db
    .selectFrom('reviews')
    .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('rating').as('s')])
    .where('activity_id', '=', activityId)
    .where('hidden', '=', false)
    .executeTakeFirstOrThrow();
}

/** The mean of every visible rating of the store (null when there is none). */
export function storeMeanRating(db: Q) {
  return db
    .selectFrom('reviews')
    .select((eb) => eb.fn.avg<number>('rating').as('m'))
    .where('hidden', '=', false)
    .executeTakeFirstOrThrow();
}

export async function setActivityRatings(db: Q, activityId: number, r: { count: number; average: number | null; bayesian: number | null }): Promise<void> {
  await db
    .updateTable('activities')
    .set({ rating_count: r.count, rating_average: r.average, rating_bayesian: r.bayesian })
    .where('id', '=', activityId)
    .execute();
}

/** How many visible ratings of each star count (1 to 5) an activity has. */
export async function ratingHistogram(db: Q, activityId: number): Promise<Map<number, number>> {
  const rows = await db
    .selectFrom('reviews')
    .select(['rating', (eb) => eb.fn.countAll<number>().as('n')])
    .where('activity_id', '=', activityId)
    .where('hidden', '=', false)
    .groupBy('rating')
    .execute();
  return new Map(rows.map((r) => [Number(r.rating), Number(r.n)]));
}

/** The visible reviews of an activity, newest change first (at most `limit`), with their authors' and repliers' names. */
export function visibleReviews(db: Q, activityId: number, limit?: number) {
  return db
    .selectFrom('reviews as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .leftJoin('users as ru', 'ru.id', 'r.reply_user_id')
    .select([
      'r.id',
      'r.rating',
      'r.body',
      'r.reply_body',
      'r.replied_at',
      'r.created_at',
      'r.updated_at',
      'r.user_id',
      'u.display_name as author',
      'ru.display_name as replier',
    ])
    .where('r.activity_id', '=', activityId)
    .where('r.hidden', '=', false)
    .orderBy('r.updated_at', 'desc')
    .orderBy('r.id', 'desc')
    .$if(limit !== undefined, (qb) => qb.limit(limit!))
    .execute();
}

/** The newest version of an activity that has a public file (what a rating is about). */
export function newestPublicVersion(db: Q, activityId: number) {
  return db
    .selectFrom('versions as v')
    .innerJoin('files as f', 'f.version_id', 'v.id')
    .select('v.id')
    .where('v.activity_id', '=', activityId)
    .where('f.status', '=', 'public')
    .orderBy('v.sort_key', 'desc')
    .executeTakeFirst();
}

/** Saves a user's review of an activity (replacing their old one, which loses its flags count and is shown again); its id. */
export async function upsertReview(
  db: Q,
  r: { activityId: number; userId: number; versionId: number | null; rating: number; body: string | null; at: Date },
): Promise<number> {
  const row = await db
    .insertInto('reviews')
    .values({
      activity_id: r.activityId,
      user_id: r.userId,
      version_id: r.versionId,
      rating: r.rating,
      body: r.body,
      reply_body: null,
      reply_user_id: null,
      replied_at: null,
      created_at: r.at,
      updated_at: r.at,
    })
    .onConflict((oc) =>
      oc
        .columns(['activity_id', 'user_id'])
        .doUpdateSet({ rating: r.rating, body: r.body, version_id: r.versionId, updated_at: r.at, hidden: false, flag_count: 0 }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function deleteOpenFlags(db: Q, reviewId: number): Promise<void> {
  await db.deleteFrom('review_flags').where('review_id', '=', reviewId).where('resolved_at', 'is', null).execute();
}

export function reviewById(db: Q, reviewId: number) {
  return db
    .selectFrom('reviews')
    .select(['id', 'activity_id', 'user_id', 'rating', 'body', 'reply_body', 'hidden'])
    .where('id', '=', reviewId)
    .executeTakeFirst();
}

/** Sets the authors' reply when the review has none yet; false when it had one. */
export async function setReplyOnce(db: Q, reviewId: number, userId: number, body: string): Promise<boolean> {
  const upd = await db
    .updateTable('reviews')
    .set({ reply_body: body, reply_user_id: userId, replied_at: new Date() })
    .where('id', '=', reviewId)
    .where('reply_body', 'is', null)
    .executeTakeFirst();
  return Number(upd.numUpdatedRows) === 1;
}

/** Records a user's flag on a review and counts it; false when that user flagged it before. */
export async function addFlag(db: Q, f: { reviewId: number; userId: number; reason: string; message: string | null }): Promise<boolean> {
  const ins = await db
    .insertInto('review_flags')
    .values({ review_id: f.reviewId, user_id: f.userId, reason: f.reason, message: f.message, created_at: new Date() })
    .onConflict((oc) => oc.columns(['review_id', 'user_id']).doNothing())
    .returning('review_id')
    .executeTakeFirst();
  if (!ins) return false;
  await db.updateTable('reviews').set({ flag_count: sql`flag_count + 1` }).where('id', '=', f.reviewId).execute();
  return true;
}

/** Reviews with open flags, the longest waiting first, with the flags' reasons and the first flag's time. */
export function flaggedReviews(db: Q) {
  return db
    .selectFrom('reviews as r')
    .innerJoin('activities as a', 'a.id', 'r.activity_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['r.id', 'r.rating', 'r.body', 'r.flag_count', 'a.bundle_id', 'u.display_name as author'])
    .select((eb) =>
      eb
        .selectFrom('review_flags as f')
        .select((e) => sql<string>`string_agg(${e.ref('f.reason')}, ', ')`.as('x'))
        .whereRef('f.review_id', '=', 'r.id')
        .where('f.resolved_at', 'is', null)
        .as('reasons'),
    )
    .select((eb) =>
      eb
        .selectFrom('review_flags as f')
        .select((e) => e.fn.min('f.created_at').as('x'))
        .whereRef('f.review_id', '=', 'r.id')
        .where('f.resolved_at', 'is', null)
        .as('since'),
    )
    .where((eb) =>
      eb.exists(eb.selectFrom('review_flags as f').select(sql.lit(1).as('one')).whereRef('f.review_id', '=', 'r.id').where('f.resolved_at', 'is', null)),
    )
    .orderBy('since', 'asc')
    .execute();
}

export async function resolveOpenFlags(db: Q, reviewId: number, userId: number, at: Date): Promise<void> {
  await db
    .updateTable('review_flags')
    .set({ resolved_at: at, resolved_by: userId })
    .where('review_id', '=', reviewId)
    .where('resolved_at', 'is', null)
    .execute();
}

export async function hideReview(db: Q, reviewId: number): Promise<void> {
  await db.updateTable('reviews').set({ hidden: true }).where('id', '=', reviewId).execute();
}

export async function deleteReview(db: Q, reviewId: number): Promise<void> {
  await db.deleteFrom('reviews').where('id', '=', reviewId).execute();
}

export async function resetFlagCount(db: Q, reviewId: number): Promise<void> {
  await db.updateTable('reviews').set({ flag_count: 0 }).where('id', '=', reviewId).execute();
}

/** An activity (any status) by bundle id, for a report. */
export function activityForReport(db: Q, bundleId: string) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('bundle_id', '=', bundleId).executeTakeFirst();
}

export async function insertReport(
  db: Q,
  r: { activityId: number; userId: number | null; address: string | null; reason: string; message: string },
): Promise<number> {
  const row = await db
    .insertInto('abuse_reports')
    .values({
      activity_id: r.activityId,
      reporter_user_id: r.userId,
      reporter_address: r.address,
      reason: r.reason,
      message: r.message,
      created_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Open (or resolved) abuse reports, oldest first, with the activity and the reporter's name. */
export function abuseReports(db: Q, resolved: boolean) {
  return db
    .selectFrom('abuse_reports as r')
    .innerJoin('activities as a', 'a.id', 'r.activity_id')
    .leftJoin('users as u', 'u.id', 'r.reporter_user_id')
    .select([
      'r.id',
      'r.reason',
      'r.message',
      'r.created_at',
      'r.reporter_address',
      'r.resolved_at',
      'r.resolution',
      'a.id as activity_id',
      'a.bundle_id',
      'a.status',
      'u.display_name as reporter',
    ])
    .where('r.resolved_at', resolved ? 'is not' : 'is', null)
    .orderBy('r.created_at', 'asc')
    .execute();
}

/** Resolves an open report; false when there is no open report with that id. */
export async function resolveReport(db: Q, reportId: number, userId: number, resolution: string): Promise<boolean> {
  const upd = await db
    .updateTable('abuse_reports')
    .set({ resolved_at: new Date(), resolved_by: userId, resolution })
    .where('id', '=', reportId)
    .where('resolved_at', 'is', null)
    .executeTakeFirst();
  return Number(upd.numUpdatedRows) === 1;
}

/** The bundle id of the activity a review is about; undefined when there is no such review. */
export async function bundleIdOfReview(db: Q, reviewId: number): Promise<string | undefined> {
  const row = await db
    .selectFrom('reviews as r')
    .innerJoin('activities as a', 'a.id', 'r.activity_id')
    .select('a.bundle_id')
    .where('r.id', '=', reviewId)
    .executeTakeFirst();
  return row?.bundle_id;
}

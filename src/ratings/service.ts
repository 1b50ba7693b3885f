// Ratings and reviews of activities, flags on reviews, and abuse reports. One review per user
// per activity (a new one replaces the old); the activity's authors may reply once; anyone
// logged in may flag a review; editors moderate flags. The activity's average and Bayesian
// rating are recomputed in the same transaction as every change. Anyone may report an activity
// for abuse; reports wait in the administrators' queue.
import { sql, type Transaction } from 'kysely';
import type { AppContext } from '../platform/context.js';
import type { Database } from '../platform/db/schema.js';
import type { Db } from '../platform/db/index.js';
import { AsloError } from '../platform/errors.js';
import { authorRole, isEditor, requireActor, requireAdmin, requireAuthor, requireEditor, type Viewer } from '../accounts/access.js';
import { audit } from '../review/audit.js';
import { bundleIdOfReview } from './queries.js';

/** Weight of the prior in the Bayesian rating: how many "average" votes a new activity starts with. */
export const BAYES_PRIOR_VOTES = 5;
export const FLAG_REASONS = ['spam', 'offensive', 'off-topic', 'not-a-review', 'other'] as const;
export const REPORT_REASONS = ['malware', 'inappropriate-content', 'copyright', 'spam', 'broken', 'other'] as const;
export const MODERATIONS = ['keep', 'hide', 'delete'] as const;

function bodyText(v: unknown, field: string, max: number, required: boolean): string | null {
  const s = typeof v === 'string' ? v.trim() : '';
  if (required && !s) throw new AsloError('FIELD_REQUIRED', `${field} is required.`, { details: { field } });
  if (s.length > max) throw new AsloError('FIELD_TOO_LONG', `${field} may have at most ${max} characters.`, { details: { field } });
  return s || null;
}

export class RatingsService {
  constructor(private readonly ctx: AppContext) {}

  private get db(): Db {
    return this.ctx.db;
  }

  async publicActivity(bundleId: string) {
    const a = await this.db.selectFrom('activities').select(['id', 'bundle_id', 'status', 'rating_average', 'rating_bayesian', 'rating_count']).where('bundle_id', '=', bundleId).executeTakeFirst();
    if (!a || a.status !== 'public') throw new AsloError('ACTIVITY_NOT_FOUND', `No public activity has the bundle id "${bundleId}".`, { statusCode: 404 });
    return a;
  }

  private async refresh(trx: Transaction<Database>, activityId: number): Promise<void> {
    const mine = await trx.selectFrom('reviews').select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.sum<number>('rating').as('s')]).where('activity_id', '=', activityId).where('hidden', '=', false).executeTakeFirstOrThrow();
    const all = await trx.selectFrom('reviews').select((eb) => eb.fn.avg<number>('rating').as('m')).where('hidden', '=', false).executeTakeFirstOrThrow();
    const n = Number(mine.n);
    const sum = Number(mine.s ?? 0);
    const m = all.m === null ? 3 : Number(all.m);
    await trx
      .updateTable('activities')
      .set({ rating_count: n, rating_average: n ? Math.round((sum / n) * 1000) / 1000 : null, rating_bayesian: n ? Math.round(((BAYES_PRIOR_VOTES * m + sum) / (BAYES_PRIOR_VOTES + n)) * 1000) / 1000 : null })
      .where('id', '=', activityId)
      .execute();
  }

  async list(bundleId: string) {
    const a = await this.publicActivity(bundleId);
    const reviews = await this.db
      .selectFrom('reviews as r')
      .innerJoin('users as u', 'u.id', 'r.user_id')
      .leftJoin('users as ru', 'ru.id', 'r.reply_user_id')
      .select(['r.id', 'r.rating', 'r.body', 'r.reply_body', 'r.replied_at', 'r.created_at', 'r.updated_at', 'r.user_id', 'u.display_name as author', 'ru.display_name as replier'])
      .where('r.activity_id', '=', a.id)
      .where('r.hidden', '=', false)
      .orderBy('r.updated_at', 'desc')
      .execute();
    return { activity: a, reviews };
  }

  async rate(viewer: Viewer, bundleId: string, ratingRaw: unknown, bodyRaw: unknown): Promise<number> {
    const actor = requireActor(viewer);
    const a = await this.publicActivity(bundleId);
    if (await authorRole(this.db, a.id, actor.userId)) throw new AsloError('RATING_OWN_ACTIVITY', 'Authors do not rate their own activity; reply to reviews instead.', { statusCode: 403 });
    const rating = Number(ratingRaw);
    if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new AsloError('RATING_INVALID', 'A rating is a whole number from 1 to 5.', { details: { field: 'rating' } });
    const body = bodyText(bodyRaw, 'review', 5000, false);
    const version = await this.db.selectFrom('versions as v').innerJoin('files as f', 'f.version_id', 'v.id').select('v.id').where('v.activity_id', '=', a.id).where('f.status', '=', 'public').orderBy('v.sort_key', 'desc').executeTakeFirst();
    return this.db.transaction().execute(async (trx) => {
      const now = new Date();
      const row = await trx
        .insertInto('reviews')
        .values({ activity_id: a.id, user_id: actor.userId, version_id: version?.id ?? null, rating, body, reply_body: null, reply_user_id: null, replied_at: null, created_at: now, updated_at: now })
        .onConflict((oc) => oc.columns(['activity_id', 'user_id']).doUpdateSet({ rating, body, version_id: version?.id ?? null, updated_at: now, hidden: false, flag_count: 0 }))
        .returning('id')
        .executeTakeFirstOrThrow();
      // An edited review starts again without the flags of its old text.
      await trx.deleteFrom('review_flags').where('review_id', '=', row.id).where('resolved_at', 'is', null).execute();
      await this.refresh(trx, a.id);
      await audit(trx, { actor, action: 'rating.save', targetType: 'review', targetId: row.id, details: { activity: a.bundle_id, rating } });
      return row.id;
    });
  }

  async reply(viewer: Viewer, reviewId: number, bodyRaw: unknown): Promise<void> {
    const r = await this.db.selectFrom('reviews').select(['id', 'activity_id', 'reply_body']).where('id', '=', reviewId).executeTakeFirst();
    if (!r) throw new AsloError('REVIEW_NOT_FOUND', `No review #${reviewId}.`, { statusCode: 404 });
    const actor = await requireAuthor(this.db, viewer, r.activity_id);
    const body = bodyText(bodyRaw, 'reply', 5000, true)!;
    await this.db.transaction().execute(async (trx) => {
      const upd = await trx.updateTable('reviews').set({ reply_body: body, reply_user_id: actor.userId, replied_at: new Date() }).where('id', '=', reviewId).where('reply_body', 'is', null).executeTakeFirst();
      if (Number(upd.numUpdatedRows) !== 1) throw new AsloError('REPLY_EXISTS', 'The authors have replied to this review already (one reply per review).', { statusCode: 409 });
      await audit(trx, { actor, action: 'rating.reply', targetType: 'review', targetId: reviewId });
    });
  }

  async flag(viewer: Viewer, reviewId: number, reasonRaw: unknown, messageRaw: unknown): Promise<void> {
    const actor = requireActor(viewer);
    const reason = String(reasonRaw ?? '');
    if (!FLAG_REASONS.includes(reason as (typeof FLAG_REASONS)[number])) throw new AsloError('FLAG_REASON_INVALID', `The reason is one of ${FLAG_REASONS.join(', ')}.`, { details: { field: 'reason' } });
    const message = bodyText(messageRaw, 'message', 2000, false);
    const r = await this.db.selectFrom('reviews').select(['id', 'user_id', 'hidden']).where('id', '=', reviewId).executeTakeFirst();
    if (!r || r.hidden) throw new AsloError('REVIEW_NOT_FOUND', `No review #${reviewId}.`, { statusCode: 404 });
    if (r.user_id === actor.userId) throw new AsloError('FLAG_OWN_REVIEW', 'You cannot flag your own review; edit it instead.', { statusCode: 403 });
    await this.db.transaction().execute(async (trx) => {
      const ins = await trx.insertInto('review_flags').values({ review_id: reviewId, user_id: actor.userId, reason, message, created_at: new Date() }).onConflict((oc) => oc.columns(['review_id', 'user_id']).doNothing()).returning('review_id').executeTakeFirst();
      if (!ins) throw new AsloError('FLAG_EXISTS', 'You flagged this review already.', { statusCode: 409 });
      await trx.updateTable('reviews').set({ flag_count: sql`flag_count + 1` }).where('id', '=', reviewId).execute();
      await audit(trx, { actor, action: 'rating.flag', targetType: 'review', targetId: reviewId, reason });
    });
  }

  async flagQueue(viewer: Viewer) {
    requireEditor(viewer);
    return this.db
      .selectFrom('reviews as r')
      .innerJoin('activities as a', 'a.id', 'r.activity_id')
      .innerJoin('users as u', 'u.id', 'r.user_id')
      .select(['r.id', 'r.rating', 'r.body', 'r.flag_count', 'a.bundle_id', 'u.display_name as author'])
      .select((eb) => eb.selectFrom('review_flags as f').select((e) => sql<string>`string_agg(${e.ref('f.reason')}, ', ')`.as('x')).whereRef('f.review_id', '=', 'r.id').where('f.resolved_at', 'is', null).as('reasons'))
      .select((eb) => eb.selectFrom('review_flags as f').select((e) => e.fn.min('f.created_at').as('x')).whereRef('f.review_id', '=', 'r.id').where('f.resolved_at', 'is', null).as('since'))
      .where((eb) => eb.exists(eb.selectFrom('review_flags as f').select(sql.lit(1).as('one')).whereRef('f.review_id', '=', 'r.id').where('f.resolved_at', 'is', null)))
      .orderBy('since', 'asc')
      .execute();
  }

  async moderate(viewer: Viewer, reviewId: number, actionRaw: unknown, commentRaw: unknown): Promise<void> {
    const actor = requireEditor(viewer);
    const action = String(actionRaw ?? '');
    if (!MODERATIONS.includes(action as (typeof MODERATIONS)[number])) throw new AsloError('MODERATION_INVALID', `The action is one of ${MODERATIONS.join(', ')}.`, { details: { field: 'action' } });
    const comment = bodyText(commentRaw, 'comment', 5000, true)!;
    const r = await this.db.selectFrom('reviews').select(['id', 'activity_id', 'user_id', 'rating', 'body']).where('id', '=', reviewId).executeTakeFirst();
    if (!r) throw new AsloError('REVIEW_NOT_FOUND', `No review #${reviewId}.`, { statusCode: 404 });
    await this.db.transaction().execute(async (trx) => {
      const now = new Date();
      await trx.updateTable('review_flags').set({ resolved_at: now, resolved_by: actor.userId }).where('review_id', '=', reviewId).where('resolved_at', 'is', null).execute();
      if (action === 'hide') await trx.updateTable('reviews').set({ hidden: true }).where('id', '=', reviewId).execute();
      if (action === 'delete') await trx.deleteFrom('reviews').where('id', '=', reviewId).execute();
      if (action === 'keep') await trx.updateTable('reviews').set({ flag_count: 0 }).where('id', '=', reviewId).execute();
      await this.refresh(trx, r.activity_id);
      await audit(trx, { actor, action: `rating.moderate.${action}`, targetType: 'review', targetId: reviewId, reason: comment, details: { user_id: r.user_id, rating: r.rating, body: r.body } });
    });
  }

  // --- abuse reports --------------------------------------------------------------------------

  async report(viewer: Viewer, bundleId: string, reasonRaw: unknown, messageRaw: unknown, address: string | null): Promise<number> {
    // Anyone may report, logged in or not; rate-limited per address and per account at the route
    // (rateLimits.reportPerAddress, reportPerAccount).
    const a = await this.db.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('bundle_id', '=', bundleId).executeTakeFirst();
    const visible = a && (a.status === 'public' || (viewer && (isEditor(viewer) || (await authorRole(this.db, a.id, viewer.userId)))));
    if (!a || !visible) throw new AsloError('ACTIVITY_NOT_FOUND', `No public activity has the bundle id "${bundleId}".`, { statusCode: 404 });
    const reason = String(reasonRaw ?? '');
    if (!REPORT_REASONS.includes(reason as (typeof REPORT_REASONS)[number])) throw new AsloError('REPORT_REASON_INVALID', `The reason is one of ${REPORT_REASONS.join(', ')}.`, { details: { field: 'reason' } });
    const message = bodyText(messageRaw, 'message', 5000, true)!;
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.insertInto('abuse_reports').values({ activity_id: a.id, reporter_user_id: viewer?.userId ?? null, reporter_address: address, reason, message, created_at: new Date() }).returning('id').executeTakeFirstOrThrow();
      await audit(trx, { actor: viewer, actorLabel: viewer ? undefined : `anonymous ${address ?? ''}`.trim(), action: 'report.create', targetType: 'activity', targetId: a.bundle_id, reason, details: { report: row.id } });
      return row.id;
    });
  }

  async reportQueue(viewer: Viewer, opts: { resolved?: boolean } = {}) {
    requireAdmin(viewer);
    return this.db
      .selectFrom('abuse_reports as r')
      .innerJoin('activities as a', 'a.id', 'r.activity_id')
      .leftJoin('users as u', 'u.id', 'r.reporter_user_id')
      .select(['r.id', 'r.reason', 'r.message', 'r.created_at', 'r.reporter_address', 'r.resolved_at', 'r.resolution', 'a.id as activity_id', 'a.bundle_id', 'a.status', 'u.display_name as reporter'])
      .where('r.resolved_at', opts.resolved ? 'is not' : 'is', null)
      .orderBy('r.created_at', 'asc')
      .execute();
  }

  async resolveReport(viewer: Viewer, reportId: number, resolutionRaw: unknown): Promise<void> {
    const actor = requireAdmin(viewer);
    const resolution = bodyText(resolutionRaw, 'resolution', 5000, true)!;
    await this.db.transaction().execute(async (trx) => {
      const upd = await trx.updateTable('abuse_reports').set({ resolved_at: new Date(), resolved_by: actor.userId, resolution }).where('id', '=', reportId).where('resolved_at', 'is', null).executeTakeFirst();
      if (Number(upd.numUpdatedRows) !== 1) throw new AsloError('REPORT_NOT_FOUND', `No open report #${reportId}.`, { statusCode: 404 });
      await audit(trx, { actor, action: 'report.resolve', targetType: 'abuse_report', targetId: reportId, reason: resolution });
    });
  }

  // --- what the reviews page shows ------------------------------------------------------------

  /** The reviews of a public activity, and whether the viewer is one of its authors (who reply instead of rating). */
  async reviewsPage(viewer: Viewer, bundleId: string) {
    const { activity, reviews } = await this.list(bundleId);
    const viewerIsAuthor = viewer ? (await authorRole(this.db, activity.id, viewer.userId)) !== null : false;
    return { activity, reviews, viewerIsAuthor };
  }

  /** The bundle id of the activity a review is about ('' when there is no such review), for the way back to its page. */
  async bundleIdOfReview(reviewId: number): Promise<string> {
    return (await bundleIdOfReview(this.db, reviewId)) ?? '';
  }
}

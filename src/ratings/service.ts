// Ratings and reviews of activities, flags on reviews, and abuse reports. One review per user
// per activity (a new one replaces the old); the activity's authors may reply once; anyone
// logged in may flag a review; editors moderate flags. The activity's average and Bayesian
// rating are recomputed in the same transaction as every change. Anyone may report an activity
// for abuse; reports wait in the administrators' queue.
import type { Transaction } from 'kysely';
import type { AppContext } from '../platform/context.js';
import type { Database } from '../platform/db/schema.js';
import type { Db } from '../platform/db/index.js';
import { AsloError } from '../platform/errors.js';
import { authorRole, isEditor, requireActor, requireAdmin, requireAuthor, requireEditor, type Viewer } from '../accounts/access.js';
import { audit } from '../platform/audit/index.js';
import * as q from './queries.js';

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
    const a = await q.activityWithRatings(this.db, bundleId);
    if (!a || a.status !== 'public') throw new AsloError('ACTIVITY_NOT_FOUND', `No public activity has the bundle id "${bundleId}".`, { statusCode: 404 });
    return a;
  }

  private async refresh(trx: Transaction<Database>, activityId: number): Promise<void> {
    const mine = await q.ratingTotals(trx, activityId);
    const all = await q.storeMeanRating(trx);
    const n = Number(mine.n);
    const sum = Number(mine.s ?? 0);
    const m = all.m === null ? 3 : Number(all.m);
    await q.setActivityRatings(trx, activityId, {
      count: n,
      average: n ? Math.round((sum / n) * 1000) / 1000 : null,
      bayesian: n ? Math.round(((BAYES_PRIOR_VOTES * m + sum) / (BAYES_PRIOR_VOTES + n)) * 1000) / 1000 : null,
    });
  }

  async list(bundleId: string) {
    const a = await this.publicActivity(bundleId);
    const reviews = await q.visibleReviews(this.db, a.id);
    return { activity: a, reviews };
  }

  async rate(viewer: Viewer, bundleId: string, ratingRaw: unknown, bodyRaw: unknown): Promise<number> {
    const actor = requireActor(viewer);
    const a = await this.publicActivity(bundleId);
    if (await authorRole(this.db, a.id, actor.userId))
      throw new AsloError('RATING_OWN_ACTIVITY', 'Authors do not rate their own activity; reply to reviews instead.', { statusCode: 403 });
    const rating = Number(ratingRaw);
    if (!Number.isInteger(rating) || rating < 1 || rating > 5)
      throw new AsloError('RATING_INVALID', 'A rating is a whole number from 1 to 5.', { details: { field: 'rating' } });
    const body = bodyText(bodyRaw, 'review', 5000, false);
    const version = await q.newestPublicVersion(this.db, a.id);
    return this.db.transaction().execute(async (trx) => {
      const id = await q.upsertReview(trx, { activityId: a.id, userId: actor.userId, versionId: version?.id ?? null, rating, body, at: new Date() });
      // An edited review starts again without the flags of its old text.
      await q.deleteOpenFlags(trx, id);
      await this.refresh(trx, a.id);
      await audit(trx, { actor, action: 'rating.save', targetType: 'review', targetId: id, details: { activity: a.bundle_id, rating } });
      return id;
    });
  }

  async reply(viewer: Viewer, reviewId: number, bodyRaw: unknown): Promise<void> {
    const r = await q.reviewById(this.db, reviewId);
    if (!r) throw new AsloError('REVIEW_NOT_FOUND', `No review #${reviewId}.`, { statusCode: 404 });
    const actor = await requireAuthor(this.db, viewer, r.activity_id);
    const body = bodyText(bodyRaw, 'reply', 5000, true)!;
    await this.db.transaction().execute(async (trx) => {
      if (!(await q.setReplyOnce(trx, reviewId, actor.userId, body)))
        throw new AsloError('REPLY_EXISTS', 'The authors have replied to this review already (one reply per review).', { statusCode: 409 });
      await audit(trx, { actor, action: 'rating.reply', targetType: 'review', targetId: reviewId });
    });
  }

  async flag(viewer: Viewer, reviewId: number, reasonRaw: unknown, messageRaw: unknown): Promise<void> {
    const actor = requireActor(viewer);
    const reason = String(reasonRaw ?? '');
    if (!FLAG_REASONS.includes(reason as (typeof FLAG_REASONS)[number]))
      throw new AsloError('FLAG_REASON_INVALID', `The reason is one of ${FLAG_REASONS.join(', ')}.`, { details: { field: 'reason' } });
    const message = bodyText(messageRaw, 'message', 2000, false);
    const r = await q.reviewById(this.db, reviewId);
    if (!r || r.hidden) throw new AsloError('REVIEW_NOT_FOUND', `No review #${reviewId}.`, { statusCode: 404 });
    if (r.user_id === actor.userId) throw new AsloError('FLAG_OWN_REVIEW', 'You cannot flag your own review; edit it instead.', { statusCode: 403 });
    await this.db.transaction().execute(async (trx) => {
      if (!(await q.addFlag(trx, { reviewId, userId: actor.userId, reason, message })))
        throw new AsloError('FLAG_EXISTS', 'You flagged this review already.', { statusCode: 409 });
      await audit(trx, { actor, action: 'rating.flag', targetType: 'review', targetId: reviewId, reason });
    });
  }

  async flagQueue(viewer: Viewer) {
    requireEditor(viewer);
    return q.flaggedReviews(this.db);
  }

  async moderate(viewer: Viewer, reviewId: number, actionRaw: unknown, commentRaw: unknown): Promise<void> {
    const actor = requireEditor(viewer);
    const action = String(actionRaw ?? '');
    if (!MODERATIONS.includes(action as (typeof MODERATIONS)[number]))
      throw new AsloError('MODERATION_INVALID', `The action is one of ${MODERATIONS.join(', ')}.`, { details: { field: 'action' } });
    const comment = bodyText(commentRaw, 'comment', 5000, true)!;
    const r = await q.reviewById(this.db, reviewId);
    if (!r) throw new AsloError('REVIEW_NOT_FOUND', `No review #${reviewId}.`, { statusCode: 404 });
    await this.db.transaction().execute(async (trx) => {
      await q.resolveOpenFlags(trx, reviewId, actor.userId, new Date());
      if (action === 'hide') await q.hideReview(trx, reviewId);
      if (action === 'delete') await q.deleteReview(trx, reviewId);
      if (action === 'keep') await q.resetFlagCount(trx, reviewId);
      await this.refresh(trx, r.activity_id);
      await audit(trx, {
        actor,
        action: `rating.moderate.${action}`,
        targetType: 'review',
        targetId: reviewId,
        reason: comment,
        details: { user_id: r.user_id, rating: r.rating, body: r.body },
      });
    });
  }

  // --- abuse reports --------------------------------------------------------------------------

  async report(viewer: Viewer, bundleId: string, reasonRaw: unknown, messageRaw: unknown, address: string | null): Promise<number> {
    // Anyone may report, logged in or not; rate-limited per address and per account at the route
    // (rateLimits.reportPerAddress, reportPerAccount).
    const a = await q.activityForReport(this.db, bundleId);
    const visible = a && (a.status === 'public' || (viewer && (isEditor(viewer) || (await authorRole(this.db, a.id, viewer.userId)))));
    if (!a || !visible) throw new AsloError('ACTIVITY_NOT_FOUND', `No public activity has the bundle id "${bundleId}".`, { statusCode: 404 });
    const reason = String(reasonRaw ?? '');
    if (!REPORT_REASONS.includes(reason as (typeof REPORT_REASONS)[number]))
      throw new AsloError('REPORT_REASON_INVALID', `The reason is one of ${REPORT_REASONS.join(', ')}.`, { details: { field: 'reason' } });
    const message = bodyText(messageRaw, 'message', 5000, true)!;
    return this.db.transaction().execute(async (trx) => {
      const id = await q.insertReport(trx, { activityId: a.id, userId: viewer?.userId ?? null, address, reason, message });
      await audit(trx, {
        actor: viewer,
        actorLabel: viewer ? undefined : `anonymous ${address ?? ''}`.trim(),
        action: 'report.create',
        targetType: 'activity',
        targetId: a.bundle_id,
        reason,
        details: { report: id },
      });
      return id;
    });
  }

  async reportQueue(viewer: Viewer, opts: { resolved?: boolean } = {}) {
    requireAdmin(viewer);
    return q.abuseReports(this.db, opts.resolved ?? false);
  }

  async resolveReport(viewer: Viewer, reportId: number, resolutionRaw: unknown): Promise<void> {
    const actor = requireAdmin(viewer);
    const resolution = bodyText(resolutionRaw, 'resolution', 5000, true)!;
    await this.db.transaction().execute(async (trx) => {
      if (!(await q.resolveReport(trx, reportId, actor.userId, resolution)))
        throw new AsloError('REPORT_NOT_FOUND', `No open report #${reportId}.`, { statusCode: 404 });
      await audit(trx, { actor, action: 'report.resolve', targetType: 'abuse_report', targetId: reportId, reason: resolution });
    });
  }

  // --- what the reviews page shows ------------------------------------------------------------

  /** The reviews of a public activity, and whether the viewer is one of its authors (who reply instead of rating). */
  /**
   * What the activity page shows of the ratings: how many of each star count (index 0 is one
   * star), the newest reviews (at most `latest`; dates as ISO strings), and whether the viewer is
   * one of its authors (who reply rather than rate). The public part is cache-aside in the
   * catalog scope, which every write to reviews invalidates.
   */
  async summary(activityId: number, viewer: Viewer, latest = 3) {
    const [shared, role] = await Promise.all([
      this.ctx.cache.getOrLoad('catalog', `ratings:${activityId}:${latest}`, async () => {
        const [histogram, reviews] = await Promise.all([q.ratingHistogram(this.db, activityId), q.visibleReviews(this.db, activityId, latest)]);
        const counts = [1, 2, 3, 4, 5].map((n) => histogram.get(n) ?? 0);
        return {
          counts,
          total: counts.reduce((a, b) => a + b, 0),
          reviews: reviews.map((r) => ({
            id: r.id,
            rating: r.rating,
            body: r.body,
            author: r.author,
            updated_at: new Date(r.updated_at).toISOString(),
            reply_body: r.reply_body,
            replier: r.replier,
          })),
        };
      }),
      viewer ? authorRole(this.db, activityId, viewer.userId) : Promise.resolve(null),
    ]);
    return { ...shared, viewerIsAuthor: Boolean(role) };
  }

  async reviewsPage(viewer: Viewer, bundleId: string) {
    const { activity, reviews } = await this.list(bundleId);
    const viewerIsAuthor = viewer ? (await authorRole(this.db, activity.id, viewer.userId)) !== null : false;
    return { activity, reviews, viewerIsAuthor };
  }

  /** The bundle id of the activity a review is about ('' when there is no such review), for the way back to its page. */
  async bundleIdOfReview(reviewId: number): Promise<string> {
    return (await q.bundleIdOfReview(this.db, reviewId)) ?? '';
  }
}

// The review workflow (protocol doc §4): authors nominate a sandbox activity; editors work
// through the queue of nominated activities and pending versions, oldest first, and approve,
// return to the sandbox, ask for an administrator's review, or disable, always with a comment.
// Editors never review their own activities. Every decision is recorded in the review history
// (shown to the authors), in the audit log, and mailed to every author.
import { sql } from 'kysely';
import type { AppContext } from '../platform/context.js';
import type { Db } from '../platform/db/index.js';
import type { ActivityStatus, FileStatus, ReviewAction } from '../platform/db/schema.js';
import { AsloError } from '../platform/errors.js';
import { authorRole, isAdmin, requireAdmin, requireAuthor, requireEditor, type Actor, type Viewer } from '../accounts/access.js';
import type { Mailer } from '../mail/mailer.js';
import * as texts from '../mail/texts.js';
import { audit } from './audit.js';

export const DECISIONS = ['approve', 'return', 'escalate', 'disable'] as const;
export type Decision = (typeof DECISIONS)[number];
export type TargetKind = 'activity' | 'file';
/** What an administrator may enable a disabled activity into. */
export const ENABLE_TARGETS = ['sandbox', 'nominated', 'public'] as const;
export type EnableTarget = (typeof ENABLE_TARGETS)[number];

const MAX_COMMENT = 10_000;

function checkComment(comment: unknown, what = 'comment'): string {
  const c = typeof comment === 'string' ? comment.trim() : '';
  if (!c) throw new AsloError('COMMENT_REQUIRED', `A ${what} is required: tell the authors what you decided and why.`, { details: { field: 'comment' } });
  if (c.length > MAX_COMMENT) throw new AsloError('COMMENT_TOO_LONG', `Keep the ${what} under ${MAX_COMMENT} characters.`, { details: { field: 'comment' } });
  return c;
}

interface DiffLine {
  key: string;
  before: string;
  after: string;
}

/** Metadata keys compared between versions on the review page. */
const DIFF_KEYS = ['name', 'summary', 'description', 'exec', 'runtime', 'license', 'tags', 'mime_types', 'max_participants', 'url', 'repository', 'icon'];

function show(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(', ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export class ReviewService {
  constructor(
    private readonly ctx: AppContext,
    private readonly mailer: Mailer,
    private readonly onStatusChange: (activityIds: number[]) => Promise<void> = async () => {},
  ) {}

  private get db(): Db {
    return this.ctx.db;
  }

  // --- authors --------------------------------------------------------------------------------

  async nominate(viewer: Viewer, activityId: number, messageRaw: unknown): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId);
    const message = checkComment(messageRaw, 'nomination message');
    await this.db.transaction().execute(async (trx) => {
      const a = await trx.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('id', '=', activityId).forUpdate().executeTakeFirstOrThrow();
      if (a.status !== 'sandbox') {
        throw new AsloError('NOMINATE_BAD_STATUS', a.status === 'nominated' ? 'This activity is nominated already; the editors will review it.' : `Only a sandbox activity can be nominated; this one is ${a.status}.`, { statusCode: 409 });
      }
      const files = await trx.selectFrom('files as f').innerJoin('versions as v', 'v.id', 'f.version_id').select('f.id').where('v.activity_id', '=', activityId).where('f.status', '=', 'sandbox').execute();
      if (files.length === 0) throw new AsloError('NOMINATE_NO_FILE', 'Upload a version first: there is nothing for the editors to review.', { statusCode: 409 });
      const now = new Date();
      await trx.updateTable('activities').set({ status: 'nominated', status_changed_at: now, nomination_message: message, admin_review: false, updated_at: now }).where('id', '=', activityId).execute();
      await trx.insertInto('review_history').values({ activity_id: activityId, file_id: null, version: null, actor_user_id: actor.userId, action: 'nominate', comment: message, from_status: 'sandbox', to_status: 'nominated', created_at: now }).execute();
      await audit(trx, { actor, action: 'activity.nominate', targetType: 'activity', targetId: a.bundle_id, reason: message, details: { from: 'sandbox', to: 'nominated' } });
    });
  }

  async history(viewer: Viewer, activityId: number) {
    const actor = requireEditorOrAuthorSync(viewer);
    if (!isAdmin(actor) && actor.role !== 'editor') await requireAuthor(this.db, actor, activityId);
    return this.db
      .selectFrom('review_history as h')
      .leftJoin('users as u', 'u.id', 'h.actor_user_id')
      .select(['h.id', 'h.action', 'h.comment', 'h.from_status', 'h.to_status', 'h.version', 'h.created_at', 'u.display_name as actor'])
      .where('h.activity_id', '=', activityId)
      .orderBy('h.id', 'desc')
      .execute();
  }

  // --- editors --------------------------------------------------------------------------------

  async queue(viewer: Viewer) {
    const actor = requireEditor(viewer);
    const nominated = await this.db
      .selectFrom('activities as a')
      .select(['a.id', 'a.bundle_id', 'a.status_changed_at as since', 'a.admin_review', 'a.nomination_message'])
      .select((eb) => eb.exists(eb.selectFrom('activity_authors as aa').select(sql.lit(1).as('one')).whereRef('aa.activity_id', '=', 'a.id').where('aa.user_id', '=', actor.userId)).as('own'))
      .where('a.status', '=', 'nominated')
      .orderBy('a.status_changed_at', 'asc')
      .orderBy('a.id')
      .execute();
    const pending = await this.db
      .selectFrom('files as f')
      .innerJoin('versions as v', 'v.id', 'f.version_id')
      .innerJoin('activities as a', 'a.id', 'v.activity_id')
      .select(['f.id', 'a.id as activity_id', 'a.bundle_id', 'v.version', 'f.status_changed_at as since', 'f.admin_review'])
      .select((eb) => eb.exists(eb.selectFrom('activity_authors as aa').select(sql.lit(1).as('one')).whereRef('aa.activity_id', '=', 'a.id').where('aa.user_id', '=', actor.userId)).as('own'))
      .where('f.status', '=', 'pending')
      .orderBy('f.status_changed_at', 'asc')
      .orderBy('f.id')
      .execute();
    const now = Date.now();
    const mark = <T extends { own: unknown; admin_review: boolean; since: Date }>(r: T) => ({
      ...r,
      own: Boolean(r.own),
      waiting_seconds: Math.max(0, Math.floor((now - r.since.getTime()) / 1000)),
      can_decide: !r.own && (!r.admin_review || isAdmin(actor)),
    });
    return { nominated: nominated.map(mark), pending: pending.map(mark) };
  }

  /** Everything the review page shows: metadata, files, warnings, and what changed since the previous version. */
  async reviewPage(viewer: Viewer, kind: TargetKind, id: number) {
    requireEditor(viewer);
    let activityId: number;
    let fileId: number | null = null;
    if (kind === 'file') {
      const f = await this.db.selectFrom('files as f').innerJoin('versions as v', 'v.id', 'f.version_id').select(['f.id', 'v.activity_id']).where('f.id', '=', id).executeTakeFirst();
      if (!f) throw new AsloError('FILE_NOT_FOUND', `No file #${id}.`, { statusCode: 404 });
      activityId = f.activity_id;
      fileId = f.id;
    } else {
      activityId = id;
    }
    const a = await this.db.selectFrom('activities').selectAll().where('id', '=', activityId).executeTakeFirst();
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity #${activityId}.`, { statusCode: 404 });
    const versions = await this.db
      .selectFrom('versions as v')
      .innerJoin('files as f', 'f.version_id', 'v.id')
      .select(['v.id', 'v.version', 'v.metadata', 'v.sort_key', 'v.sugar_min', 'v.sugar_max', 'v.release_notes', 'v.created_at', 'f.id as file_id', 'f.status as file_status', 'f.file_name', 'f.size', 'f.sha256', 'f.validation', 'f.admin_review'])
      .where('v.activity_id', '=', activityId)
      .orderBy('v.sort_key', 'desc')
      .execute();
    if (versions.length === 0) throw new AsloError('NOTHING_TO_REVIEW', 'This activity has no version.', { statusCode: 404 });
    // The version under review: the file asked for, or the newest sandbox one of a nominated activity.
    const idx = fileId !== null ? versions.findIndex((v) => v.file_id === fileId) : Math.max(0, versions.findIndex((v) => v.file_status === 'sandbox'));
    const current = versions[idx]!;
    const previous = versions.slice(idx + 1).find((v) => v.file_status === 'public') ?? versions[idx + 1] ?? null;
    const meta = current.metadata as Record<string, unknown>;
    const prevMeta = (previous?.metadata ?? null) as Record<string, unknown> | null;
    const metadataDiff: DiffLine[] = [];
    if (prevMeta) {
      for (const key of DIFF_KEYS) {
        const before = show(prevMeta[key]);
        const after = show(meta[key]);
        if (before !== after) metadataDiff.push({ key, before, after });
      }
      const locB = Object.keys((prevMeta.locales ?? {}) as object).sort().join(', ');
      const locA = Object.keys((meta.locales ?? {}) as object).sort().join(', ');
      if (locB !== locA) metadataDiff.push({ key: 'locales', before: locB, after: locA });
    }
    type F = { path: string; size: number };
    const filesOf = (m: Record<string, unknown> | null): F[] => ((m?.files ?? []) as F[]).map((f) => ({ path: f.path, size: f.size }));
    const files = filesOf(meta);
    const prevFiles = new Map(filesOf(prevMeta).map((f) => [f.path, f.size]));
    const nowFiles = new Map(files.map((f) => [f.path, f.size]));
    const fileDiff = previous
      ? {
          added: files.filter((f) => !prevFiles.has(f.path)).map((f) => f.path),
          removed: [...prevFiles.keys()].filter((p) => !nowFiles.has(p)),
          changed: files.filter((f) => prevFiles.has(f.path) && prevFiles.get(f.path) !== f.size).map((f) => ({ path: f.path, before: prevFiles.get(f.path)!, after: f.size })),
        }
      : null;
    const validation = (current.validation ?? {}) as { warnings?: { code: string; message: string; file: string | null; line: number | null; params?: Record<string, string | number> }[] };
    const authors = await this.db.selectFrom('activity_authors as aa').innerJoin('users as u', 'u.id', 'aa.user_id').select(['u.id', 'u.display_name', 'aa.role']).where('aa.activity_id', '=', activityId).execute();
    const history = await this.db.selectFrom('review_history as h').leftJoin('users as u', 'u.id', 'h.actor_user_id').select(['h.action', 'h.comment', 'h.from_status', 'h.to_status', 'h.version', 'h.created_at', 'u.display_name as actor']).where('h.activity_id', '=', activityId).orderBy('h.id', 'desc').execute();
    return {
      kind,
      activity: a,
      version: current,
      previous: previous ? { version: previous.version, file_status: previous.file_status } : null,
      metadata: meta,
      files,
      warnings: validation.warnings ?? [],
      metadataDiff,
      fileDiff,
      authors,
      history,
      admin_review: kind === 'file' ? current.admin_review : a.admin_review,
    };
  }

  async decide(viewer: Viewer, kind: TargetKind, id: number, actionRaw: string, commentRaw: unknown): Promise<{ from: string; to: string }> {
    const actor = requireEditor(viewer);
    if (!DECISIONS.includes(actionRaw as Decision)) throw new AsloError('REVIEW_ACTION_INVALID', `The action is one of ${DECISIONS.join(', ')}.`);
    const action = actionRaw as Decision;
    const comment = checkComment(commentRaw);
    const target = kind === 'file'
      ? await this.db.selectFrom('files as f').innerJoin('versions as v', 'v.id', 'f.version_id').select(['f.id', 'v.activity_id', 'v.version']).where('f.id', '=', id).executeTakeFirst()
      : await this.db.selectFrom('activities').select(['id', 'id as activity_id', sql<string | null>`null`.as('version')]).where('id', '=', id).executeTakeFirst();
    if (!target) throw new AsloError(kind === 'file' ? 'FILE_NOT_FOUND' : 'ACTIVITY_NOT_FOUND', `No ${kind} #${id}.`, { statusCode: 404 });
    const activityId = target.activity_id;
    if (await authorRole(this.db, activityId, actor.userId)) {
      throw new AsloError('REVIEW_OWN_ACTIVITY', 'You are an author of this activity: another editor must review it.', { statusCode: 403 });
    }
    const result = await this.db.transaction().execute(async (trx) => {
      const a = await trx.selectFrom('activities').select(['id', 'bundle_id', 'status', 'admin_review']).where('id', '=', activityId).forUpdate().executeTakeFirstOrThrow();
      const now = new Date();
      let from: string;
      let to: string;
      if (kind === 'activity') {
        from = a.status;
        if (action !== 'disable' && a.status !== 'nominated') throw new AsloError('REVIEW_BAD_STATUS', `Only a nominated activity can be ${action === 'approve' ? 'approved' : action === 'return' ? 'returned' : 'escalated'}; this one is ${a.status}.`, { statusCode: 409 });
        if (action === 'disable' && a.status === 'disabled') throw new AsloError('REVIEW_BAD_STATUS', 'This activity is disabled already.', { statusCode: 409 });
        if (a.admin_review && !isAdmin(actor)) throw new AsloError('REVIEW_ADMIN_ONLY', 'An editor asked an administrator to decide on this one.', { statusCode: 403 });
        if (action === 'escalate' && a.admin_review) throw new AsloError('REVIEW_BAD_STATUS', 'An administrator review is asked for already.', { statusCode: 409 });
        const status: ActivityStatus = action === 'approve' ? 'public' : action === 'return' ? 'sandbox' : action === 'disable' ? 'disabled' : a.status;
        to = status;
        await trx
          .updateTable('activities')
          .set({ status, admin_review: action === 'escalate', updated_at: now, ...(status !== a.status ? { status_changed_at: now } : {}), ...(action === 'approve' ? { last_published_at: now } : {}) })
          .where('id', '=', activityId)
          .execute();
        if (action === 'approve') {
          // The versions the editors just reviewed become public with the activity.
          const ids = (await trx.selectFrom('files as f').innerJoin('versions as v', 'v.id', 'f.version_id').select('f.id').where('v.activity_id', '=', activityId).where('f.status', 'in', ['sandbox', 'pending']).execute()).map((r) => r.id);
          if (ids.length) await trx.updateTable('files').set({ status: 'public', status_changed_at: now, admin_review: false }).where('id', 'in', ids).execute();
        }
      } else {
        const f = await trx.selectFrom('files').select(['id', 'status', 'admin_review']).where('id', '=', id).forUpdate().executeTakeFirstOrThrow();
        from = f.status;
        if (action !== 'disable' && f.status !== 'pending') throw new AsloError('REVIEW_BAD_STATUS', `Only a pending version can be reviewed this way; this one is ${f.status}.`, { statusCode: 409 });
        if (action === 'disable' && f.status === 'disabled') throw new AsloError('REVIEW_BAD_STATUS', 'This version is disabled already.', { statusCode: 409 });
        if (f.admin_review && !isAdmin(actor)) throw new AsloError('REVIEW_ADMIN_ONLY', 'An editor asked an administrator to decide on this one.', { statusCode: 403 });
        if (action === 'escalate' && f.admin_review) throw new AsloError('REVIEW_BAD_STATUS', 'An administrator review is asked for already.', { statusCode: 409 });
        const status: FileStatus = action === 'approve' ? 'public' : action === 'return' ? 'sandbox' : action === 'disable' ? 'disabled' : f.status;
        to = status;
        await trx.updateTable('files').set({ status, admin_review: action === 'escalate', ...(status !== f.status ? { status_changed_at: now } : {}) }).where('id', '=', id).execute();
        if (action === 'approve') await trx.updateTable('activities').set({ last_published_at: now, updated_at: now }).where('id', '=', activityId).execute();
      }
      await trx
        .insertInto('review_history')
        .values({ activity_id: activityId, file_id: kind === 'file' ? id : null, version: target.version, actor_user_id: actor.userId, action: action as ReviewAction, comment, from_status: from, to_status: to, created_at: now })
        .execute();
      await audit(trx, { actor, action: `review.${action}`, targetType: kind, targetId: kind === 'file' ? id : a.bundle_id, reason: comment, details: { activity: a.bundle_id, version: target.version, from, to } });
      return { from, to, bundleId: a.bundle_id };
    });
    await this.onStatusChange([activityId]).catch(() => {});
    await this.notifyAuthors(activityId, actor, action, target.version, result.from, result.to, comment);
    return { from: result.from, to: result.to };
  }

  /**
   * An administrator enables a disabled activity again, with a comment: it goes back to the status
   * it had when it was disabled (from the review history; the sandbox when that is unknown), or to
   * `to` when given. Its files keep their own statuses (disabling an activity never changed them).
   */
  async enable(viewer: Viewer, activityId: number, commentRaw: unknown, toRaw?: string | null): Promise<{ from: string; to: string }> {
    const actor = requireAdmin(viewer);
    const comment = checkComment(commentRaw);
    const wanted = toRaw ? String(toRaw) : null;
    if (wanted !== null && !ENABLE_TARGETS.includes(wanted as EnableTarget)) {
      throw new AsloError('REVIEW_ACTION_INVALID', `An activity is enabled into one of ${ENABLE_TARGETS.join(', ')} (or its status before it was disabled).`, { details: { field: 'to' } });
    }
    const result = await this.db.transaction().execute(async (trx) => {
      const a = await trx.selectFrom('activities').select(['id', 'bundle_id', 'status']).where('id', '=', activityId).forUpdate().executeTakeFirst();
      if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity #${activityId}.`, { statusCode: 404 });
      if (a.status !== 'disabled') throw new AsloError('REVIEW_BAD_STATUS', `Only a disabled activity can be enabled again; this one is ${a.status}.`, { statusCode: 409 });
      const before = await trx
        .selectFrom('review_history')
        .select('from_status')
        .where('activity_id', '=', activityId)
        .where('file_id', 'is', null)
        .where('to_status', '=', 'disabled')
        .orderBy('id', 'desc')
        .executeTakeFirst();
      const previous = before && ENABLE_TARGETS.includes(before.from_status as EnableTarget) ? (before.from_status as EnableTarget) : 'sandbox';
      const to: ActivityStatus = (wanted as EnableTarget | null) ?? previous;
      const now = new Date();
      await trx.updateTable('activities').set({ status: to, status_changed_at: now, admin_review: false, updated_at: now }).where('id', '=', activityId).execute();
      await trx
        .insertInto('review_history')
        .values({ activity_id: activityId, file_id: null, version: null, actor_user_id: actor.userId, action: 'enable', comment, from_status: 'disabled', to_status: to, created_at: now })
        .execute();
      await audit(trx, { actor, action: 'review.enable', targetType: 'activity', targetId: a.bundle_id, reason: comment, details: { activity: a.bundle_id, from: 'disabled', to, previous } });
      return { from: 'disabled', to };
    });
    await this.onStatusChange([activityId]).catch(() => {});
    await this.notifyAuthors(activityId, actor, 'enable', null, result.from, result.to, comment);
    return result;
  }

  private async notifyAuthors(activityId: number, actor: Actor, action: string, version: string | null, from: string, to: string, comment: string): Promise<void> {
    const a = await this.db.selectFrom('activities').select(['bundle_id']).where('id', '=', activityId).executeTakeFirstOrThrow();
    const name = (await this.db.selectFrom('activity_texts').select('name').where('activity_id', '=', activityId).where('name', 'is not', null).orderBy(sql`case when origin = 'developer' then 0 else 1 end`).orderBy(sql`case when locale = 'und' then 0 else 1 end`).executeTakeFirst())?.name ?? a.bundle_id;
    const authors = await this.db.selectFrom('activity_authors as aa').innerJoin('users as u', 'u.id', 'aa.user_id').select(['u.email', 'u.display_name']).where('aa.activity_id', '=', activityId).where('u.deleted_at', 'is', null).execute();
    for (const u of authors) {
      await this.mailer.send(
        texts.reviewDecision({ to: u.email, name: u.display_name, activityName: name, bundleId: a.bundle_id, version, action, fromStatus: from, toStatus: to, comment, reviewer: `${actor.displayName} (${actor.role})`, link: `${this.ctx.config.server.baseUrl}/developers/activities/${activityId}` }),
      );
    }
  }
}

function requireEditorOrAuthorSync(viewer: Viewer): Actor {
  if (!viewer) throw new AsloError('AUTH_REQUIRED', 'Log in first.', { statusCode: 401 });
  return viewer;
}

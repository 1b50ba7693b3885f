// The developer's side of publishing: uploads (web, API, CLI all land here, then in the one
// ingest service), nominations, authors and ownership, listing and version edits. Every public
// method starts with its access check.
import type { Readable } from 'node:stream';
import type { AppContext } from '../platform/context.js';
import type { Db } from '../platform/db/index.js';
import { AsloError } from '../platform/errors.js';
import type { IngestResult } from '../catalog/ingest.js';
import { chooseIssueLocale, localizeIssues, type IssueParams } from '../bundles/index.js';
import type { CatalogService } from '../catalog/service.js';
import { requireActor, requireAdmin, requireAuthor, requireScope, requireVerified, isEditor, type Actor, type Viewer } from '../accounts/access.js';
import type { AccountService } from '../accounts/service.js';
import { findTokensInZip } from '../accounts/token-scan.js';
import type { Mailer } from '../mail/mailer.js';
import * as texts from '../mail/texts.js';
import { audit } from '../platform/audit/index.js';
import * as q from './queries/publishing.js';

export interface UploadOptions {
  fileName?: string;
  sugarMin?: string | null;
  sugarMax?: string | null;
  releaseNotes?: string | null;
}

/** One validation error or warning, as every upload path reports it. */
export interface UploadIssue {
  code: string;
  /** English, stable: what tools and logs use. */
  message: string;
  file: string | null;
  line: number | null;
  /** The variable parts of the message (src/bundles/i18n.ts), when it has any. */
  params?: IssueParams;
}

export interface UploadReport {
  ok: boolean;
  outcome: IngestResult['outcome'];
  bundle_id: string | null;
  version: string | null;
  activity_status: string | null;
  file_status: string | null;
  file_id: number | null;
  sha256: string | null;
  size: number | null;
  errors: UploadIssue[];
  warnings: UploadIssue[];
  revoked_tokens: number;
  hub_url: string | null;
}

/** An upload report for a person: every issue also in their language (`message_localized`). */
export interface LocalizedUploadReport extends Omit<UploadReport, 'errors' | 'warnings'> {
  /** The language of `message_localized` (BCP 47; en when nothing better was found). */
  locale: string;
  errors: (UploadIssue & { message_localized: string })[];
  warnings: (UploadIssue & { message_localized: string })[];
}

/** The language to show a developer's validation messages in: their account's, else the browser's (Accept-Language), else English. */
export function issueLanguage(viewer: Viewer, acceptLanguage: string | string[] | undefined): string {
  return chooseIssueLocale([viewer?.locale], Array.isArray(acceptLanguage) ? acceptLanguage.join(',') : acceptLanguage);
}

export function localizeReport(report: UploadReport, locale: string): LocalizedUploadReport {
  return { ...report, locale, errors: localizeIssues(report.errors, locale), warnings: localizeIssues(report.warnings, locale) };
}

/** Display names of activities (developer override first, then the bundle's text). */
export async function activityNames(db: Db, ids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.length === 0) return out;
  const rows = await q.activityNameRows(db, ids);
  for (const r of rows) if (!out.has(r.activity_id) && r.name) out.set(r.activity_id, r.name);
  return out;
}

export class PublishingService {
  constructor(
    private readonly ctx: AppContext,
    private readonly catalog: CatalogService,
    private readonly accounts: AccountService,
    private readonly mailer: Mailer,
  ) {}

  private get db(): Db {
    return this.ctx.db;
  }

  /** Access check shared by every upload path (before any byte is read). */
  checkCanUpload(viewer: Viewer): Actor {
    const actor = requireActor(viewer);
    requireScope(actor, 'publish');
    requireVerified(actor, this.ctx.config.accounts.requireVerifiedEmail);
    return actor;
  }

  async upload(viewer: Viewer, source: Readable, opts: UploadOptions): Promise<UploadReport> {
    const actor = this.checkCanUpload(viewer);
    let revoked = 0;
    const result = await this.catalog.ingest.ingestStream(source, {
      fileName: opts.fileName,
      status: 'sandbox',
      actorUserId: actor.userId,
      actorAddress: actor.address,
      sugarMin: opts.sugarMin || null,
      sugarMax: opts.sugarMax || null,
      releaseNotes: opts.releaseNotes?.trim() || null,
      inspectStaged: async (path, bundleId) => {
        const found = await findTokensInZip(path);
        if (found.length === 0) return [];
        const done = await this.accounts.revokeLeakedTokens(found, { bundleId, uploader: actor.userId });
        revoked = done.length;
        return done.map((d) => ({
          code: 'TOKEN_IN_BUNDLE_REVOKED',
          message: `An API token was found in this file and has been revoked; its owner was told by mail. Never put tokens in a bundle.`,
          file: d.file,
          line: null,
        }));
      },
    });
    return {
      ok: result.outcome !== 'rejected',
      outcome: result.outcome,
      bundle_id: result.bundleId ?? null,
      version: result.version ?? null,
      activity_status: result.activityStatus ?? null,
      file_status: result.fileStatus ?? null,
      file_id: result.fileId ?? null,
      sha256: result.sha256 ?? null,
      size: result.size ?? null,
      errors: result.errors,
      warnings: result.warnings,
      revoked_tokens: revoked,
      hub_url: result.activityId ? `${this.ctx.config.server.baseUrl}/developers/activities/${result.activityId}` : null,
    };
  }

  // --- what a developer sees ----------------------------------------------------------------

  async myActivities(viewer: Viewer) {
    const actor = requireActor(viewer);
    const rows = await q.activitiesOfAuthor(this.db, actor.userId);
    const names = await this.names(rows.map((r) => r.id));
    return rows.map((r) => ({ ...r, name: names.get(r.id) ?? r.bundle_id }));
  }

  /** Display names of activities (developer override first, then the bundle's text). */
  async names(ids: number[]): Promise<Map<number, string>> {
    return activityNames(this.db, ids);
  }

  async activityByBundleId(bundleId: string) {
    const a = await q.activityByBundleId(this.db, bundleId);
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity has the bundle id "${bundleId}".`, { statusCode: 404 });
    return a;
  }

  async activityById(id: number) {
    const a = await q.activityById(this.db, id);
    if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', `No activity #${id}.`, { statusCode: 404 });
    return a;
  }

  /** Everything the hub shows an author (or an editor) about one activity. */
  async developerView(viewer: Viewer, activityId: number) {
    const actor = requireActor(viewer);
    const a = await this.activityById(activityId);
    const isAuthor = (await q.authorEntry(this.db, a.id, actor.userId))?.role ?? null;
    if (!isAuthor && !isEditor(actor))
      throw new AsloError('FORBIDDEN_NOT_AUTHOR', 'Only the authors of this activity (and editors) may see this page.', { statusCode: 403 });
    const [authors, versions, history, texts, tags, categories, allCategories, screenshots] = await q.developerViewRows(this.db, a.id);
    const name = (await this.names([a.id])).get(a.id) ?? a.bundle_id;
    return {
      activity: a,
      name,
      myRole: isAuthor,
      authors,
      versions,
      history,
      texts,
      tags,
      categories: categories.map((c) => c.slug),
      allCategories,
      screenshots,
    };
  }

  // --- authors and ownership ----------------------------------------------------------------

  /** An owner adds a co-author (owner or developer) by e-mail address; the new author is told by mail. */
  async addAuthor(viewer: Viewer, activityId: number, emailRaw: string, role: 'owner' | 'developer'): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId, { owner: true });
    if (role !== 'owner' && role !== 'developer') throw new AsloError('AUTHOR_ROLE_INVALID', 'An author is an owner or a developer.');
    const user = await this.accounts.findByEmail(String(emailRaw ?? '').trim());
    if (!user)
      throw new AsloError('USER_NOT_FOUND', 'No account uses this e-mail address. Ask the person to register first.', {
        statusCode: 404,
        details: { field: 'email' },
      });
    const a = await this.activityById(activityId);
    await this.db.transaction().execute(async (trx) => {
      const existing = await q.authorEntry(trx, activityId, user.id);
      if (existing) throw new AsloError('AUTHOR_EXISTS', `${user.display_name} is already an author (${existing.role}).`, { statusCode: 409 });
      const pos = await q.lastAuthorPosition(trx, activityId);
      await q.insertAuthor(trx, activityId, user.id, role, Number(pos?.p ?? 0) + 1);
      await audit(trx, { actor, action: 'author.add', targetType: 'activity', targetId: a.bundle_id, details: { user_id: user.id, email: user.email, role } });
    });
    const name = (await this.names([a.id])).get(a.id) ?? a.bundle_id;
    await this.mailer.send(
      texts.authorInvited(user.email, user.display_name, name, role, actor.displayName, `${this.ctx.config.server.baseUrl}/developers/activities/${a.id}`),
    );
  }

  /** An owner removes a co-author (or an author leaves); the last owner cannot go. */
  async removeAuthor(viewer: Viewer, activityId: number, userId: number): Promise<void> {
    const actor = requireActor(viewer);
    const self = actor.userId === userId;
    await requireAuthor(this.db, actor, activityId, { owner: !self });
    const a = await this.activityById(activityId);
    await this.db.transaction().execute(async (trx) => {
      const authors = await q.lockAuthors(trx, activityId);
      const target = authors.find((x) => x.user_id === userId);
      if (!target) throw new AsloError('AUTHOR_NOT_FOUND', 'This person is not an author of the activity.', { statusCode: 404 });
      if (target.role === 'owner' && authors.filter((x) => x.role === 'owner').length === 1) {
        throw new AsloError('LAST_OWNER', 'An activity keeps at least one owner: make someone else an owner first (or transfer ownership).', {
          statusCode: 409,
        });
      }
      await q.deleteAuthor(trx, activityId, userId);
      await audit(trx, { actor, action: 'author.remove', targetType: 'activity', targetId: a.bundle_id, details: { user_id: userId, role: target.role } });
    });
  }

  /** An owner hands ownership to another author, staying on as a developer. */
  async transferOwnership(viewer: Viewer, activityId: number, toUserId: number): Promise<void> {
    const actor = await requireAuthor(this.db, viewer, activityId, { owner: true });
    const a = await this.activityById(activityId);
    await this.db.transaction().execute(async (trx) => {
      const to = await q.authorEntry(trx, activityId, toUserId);
      if (!to) throw new AsloError('AUTHOR_NOT_FOUND', 'Ownership goes to an existing author: add the person as an author first.', { statusCode: 404 });
      if (toUserId === actor.userId) throw new AsloError('TRANSFER_TO_SELF', 'You own this activity already.', { statusCode: 409 });
      await q.setAuthorRole(trx, activityId, toUserId, 'owner');
      await q.setAuthorRole(trx, activityId, actor.userId, 'developer');
      await audit(trx, { actor, action: 'author.transfer', targetType: 'activity', targetId: a.bundle_id, details: { from: actor.userId, to: toUserId } });
    });
  }

  /** An administrator gives an (abandoned) activity to a new owner; the other authors stay unless `replace`. */
  async reassign(viewer: Viewer, activityId: number, emailRaw: string, reason: string, replace: boolean): Promise<void> {
    const actor = requireAdmin(viewer);
    if (!reason?.trim())
      throw new AsloError('REASON_REQUIRED', 'Say why the activity changes hands (kept in the audit log).', { details: { field: 'reason' } });
    const user = await this.accounts.findByEmail(String(emailRaw ?? '').trim());
    if (!user) throw new AsloError('USER_NOT_FOUND', 'No account uses this e-mail address.', { statusCode: 404 });
    const a = await this.activityById(activityId);
    await this.db.transaction().execute(async (trx) => {
      const before = await q.authorsOf(trx, activityId);
      if (replace) await q.deleteAllAuthors(trx, activityId);
      await q.upsertOwner(trx, activityId, user.id);
      await audit(trx, {
        actor,
        action: 'activity.reassign',
        targetType: 'activity',
        targetId: a.bundle_id,
        reason: reason.trim(),
        details: { to: user.id, replace, before },
      });
    });
  }

  /** An administrator marks an activity's authors as trusted (new versions public at once) or not. */
  async setTrusted(viewer: Viewer, activityId: number, trusted: boolean, reason: string): Promise<void> {
    const actor = requireAdmin(viewer);
    if (!reason?.trim()) throw new AsloError('REASON_REQUIRED', 'Say why (kept in the audit log).', { details: { field: 'reason' } });
    const a = await this.activityById(activityId);
    await this.db.transaction().execute(async (trx) => {
      await q.setActivityTrusted(trx, activityId, trusted);
      await audit(trx, {
        actor,
        action: trusted ? 'activity.trust' : 'activity.untrust',
        targetType: 'activity',
        targetId: a.bundle_id,
        reason: reason.trim(),
      });
    });
  }
}

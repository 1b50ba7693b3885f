// Settings of an activity that concern building from git (docs/building.md): its legacy id
// (administrators) and its source repository (authors).
import { randomBytes } from 'node:crypto';
import { resolve, isAbsolute } from 'node:path';
import type { AppContext } from '../platform/context.js';
import { AsloError } from '../platform/errors.js';
import { isAdmin, requireAdmin, requireAuthor, type Viewer } from '../accounts/access.js';
import { audit } from '../platform/audit/index.js';
import * as q from './queries.js';

async function activityById(ctx: AppContext, activityId: number) {
  const a = await q.activitySettings(ctx.db, activityId);
  if (!a) throw new AsloError('ACTIVITY_NOT_FOUND', 'There is no such activity.', { statusCode: 404 });
  return a;
}

/**
 * An administrator sets (or, with an empty value, clears) the old store's numeric id of an
 * activity: its old URLs (/<locale>/sugar/addon/<id>) then lead to it.
 */
export async function setLegacyId(ctx: AppContext, viewer: Viewer, activityId: number, value: string, reason: string): Promise<void> {
  const actor = requireAdmin(viewer);
  const raw = value.trim();
  if (raw !== '' && !/^[1-9]\d{0,8}$/.test(raw))
    throw new AsloError('LEGACY_ID_INVALID', "A legacy id is a positive whole number (the number in the old store's /addon/<id> URLs).", {
      details: { field: 'legacy_id' },
    });
  if (!reason?.trim()) throw new AsloError('REASON_REQUIRED', 'Say why (kept in the audit log).', { details: { field: 'reason' } });
  const legacyId = raw === '' ? null : Number(raw);
  const a = await activityById(ctx, activityId);
  await ctx.db.transaction().execute(async (trx) => {
    if (legacyId !== null) {
      const holder = await q.legacyIdHolder(trx, legacyId, activityId);
      if (holder)
        throw new AsloError('LEGACY_ID_TAKEN', `The legacy id ${legacyId} belongs to ${holder.bundle_id}.`, {
          statusCode: 409,
          details: { field: 'legacy_id' },
        });
    }
    await q.setLegacyId(trx, activityId, legacyId);
    await audit(trx, {
      actor,
      action: 'activity.legacy_id',
      targetType: 'activity',
      targetId: a.bundle_id,
      reason: reason.trim(),
      details: { from: a.legacy_id, to: legacyId },
    });
  });
}

/**
 * Checks a source repository given by a person: an https:// URL (no user name or password in
 * it), or, for administrators only (deployments and tests), an absolute local path. Returns the
 * value to store, or null to clear.
 */
export function checkSourceUrl(value: string, admin: boolean): string | null {
  const raw = value.trim();
  if (raw === '') return null;
  if (/^https:\/\//i.test(raw)) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new AsloError('SOURCE_URL_INVALID', 'This is not a valid https:// URL of a git repository.', { details: { field: 'source_url' } });
    }
    if (u.username || u.password)
      throw new AsloError('SOURCE_URL_INVALID', 'The store fetches public repositories only: leave user names and passwords out of the URL.', {
        details: { field: 'source_url' },
      });
    if (u.search || u.hash) throw new AsloError('SOURCE_URL_INVALID', 'A repository URL has no ?query or #fragment.', { details: { field: 'source_url' } });
    return u.toString().replace(/\/+$/, '');
  }
  if (admin && isAbsolute(raw)) return resolve(raw);
  throw new AsloError(
    'SOURCE_URL_INVALID',
    admin ? 'Give an https:// URL or an absolute path of a git repository.' : "Give the https:// URL of the activity's public git repository.",
    { details: { field: 'source_url' } },
  );
}

/** The authors (or an administrator) set the git repository the activity is built from. */
export async function setSourceUrl(ctx: AppContext, viewer: Viewer, activityId: number, value: string): Promise<string | null> {
  const actor = await requireAuthor(ctx.db, viewer, activityId, { orAdmin: true });
  const url = checkSourceUrl(value, isAdmin(actor));
  const a = await activityById(ctx, activityId);
  await ctx.db.transaction().execute(async (trx) => {
    // The webhooks' secret is made with the first source and kept (forges are configured with it).
    const secret = (await q.sourceHookSecret(trx, activityId)) ?? randomBytes(24).toString('hex');
    await q.setSource(trx, activityId, url, secret);
    await audit(trx, { actor, action: 'activity.source', targetType: 'activity', targetId: a.bundle_id, details: { from: a.source_url, to: url } });
  });
  return url;
}

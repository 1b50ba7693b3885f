// SQL of publishing from git: the activity's source settings and the release webhooks' deliveries.
import type { Db } from '../platform/db/index.js';

/** An activity's source repository and hook secret, by bundle id (any status). */
export function activitySource(db: Db, bundleId: string) {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'source_url', 'source_hook_secret']).where('bundle_id', '=', bundleId).executeTakeFirst();
}

/** Every activity built from a repository, with its hook secret and status. */
export function activitiesWithSource(db: Db) {
  return db.selectFrom('activities').select(['id', 'source_url', 'source_hook_secret', 'status']).where('source_url', 'is not', null).execute();
}

/** Records a delivery; false when its key was recorded before (a replay). */
export async function recordHookDelivery(db: Db, key: string, activityId: number): Promise<boolean> {
  const fresh = await db.insertInto('hook_deliveries').values({ key, activity_id: activityId }).onConflict((oc) => oc.column('key').doNothing()).returning('key').executeTakeFirst();
  return fresh !== undefined;
}

export async function forgetHookDeliveriesBefore(db: Db, before: Date): Promise<void> {
  await db.deleteFrom('hook_deliveries').where('received_at', '<', before).execute();
}

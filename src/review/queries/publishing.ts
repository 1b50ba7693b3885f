// The SQL of the developer's side of publishing: activities and names, the hub's activity page,
// authors and ownership (pattern: search/queries.ts).
import { sql } from 'kysely';
import type { Db } from '../../platform/db/index.js';

/** Names of activities, best first: a developer's text before the bundle's, und, then en, then the rest. */
export async function activityNameRows(db: Db, ids: number[]) {
  return db
    .selectFrom('activity_texts')
    .select(['activity_id', 'name', 'origin', 'locale'])
    .where('activity_id', 'in', ids)
    .where('name', 'is not', null)
    .orderBy(sql`case when origin = 'developer' then 0 else 1 end`)
    .orderBy(sql`case when locale = 'und' then 0 when locale = 'en' then 1 else 2 end`)
    .execute();
}

/** A user's activities with their role, most recently updated first. */
export async function activitiesOfAuthor(db: Db, userId: number) {
  return db
    .selectFrom('activity_authors as aa')
    .innerJoin('activities as a', 'a.id', 'aa.activity_id')
    .select(['a.id', 'a.bundle_id', 'a.status', 'a.trusted', 'a.updated_at', 'aa.role'])
    .where('aa.user_id', '=', userId)
    .orderBy('a.updated_at', 'desc')
    .execute();
}

export async function activityByBundleId(db: Db, bundleId: string) {
  return db.selectFrom('activities').selectAll().where('bundle_id', '=', bundleId).executeTakeFirst();
}

export async function activityById(db: Db, id: number) {
  return db.selectFrom('activities').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function authorEntry(db: Db, activityId: number, userId: number) {
  return db.selectFrom('activity_authors').select('role').where('activity_id', '=', activityId).where('user_id', '=', userId).executeTakeFirst();
}

/** Everything the hub's activity page lists, read concurrently. */
export async function developerViewRows(db: Db, activityId: number) {
  return Promise.all([
    db
      .selectFrom('activity_authors as aa')
      .innerJoin('users as u', 'u.id', 'aa.user_id')
      .select(['u.id', 'u.display_name', 'u.email', 'aa.role'])
      .where('aa.activity_id', '=', activityId)
      .orderBy('aa.position')
      .orderBy('aa.created_at')
      .execute(),
    db
      .selectFrom('versions as v')
      .innerJoin('files as f', 'f.version_id', 'v.id')
      .select([
        'v.id',
        'v.version',
        'v.sugar_min',
        'v.sugar_max',
        'v.sugar_range_origin',
        'v.release_notes',
        'v.created_at',
        'v.runtime',
        'f.id as file_id',
        'f.status as file_status',
        'f.file_name',
        'f.size',
        'f.validation',
        'f.admin_review',
      ])
      .where('v.activity_id', '=', activityId)
      .orderBy('v.sort_key', 'desc')
      .execute(),
    db
      .selectFrom('review_history as h')
      .leftJoin('users as u', 'u.id', 'h.actor_user_id')
      .select(['h.id', 'h.action', 'h.comment', 'h.from_status', 'h.to_status', 'h.version', 'h.created_at', 'u.display_name as actor'])
      .where('h.activity_id', '=', activityId)
      .orderBy('h.id', 'desc')
      .execute(),
    db.selectFrom('activity_texts').selectAll().where('activity_id', '=', activityId).orderBy('locale').execute(),
    db
      .selectFrom('activity_tags as at')
      .innerJoin('tags as t', 't.id', 'at.tag_id')
      .select(['t.slug', 't.name'])
      .where('at.activity_id', '=', activityId)
      .orderBy('t.name')
      .execute(),
    db
      .selectFrom('activity_categories as ac')
      .innerJoin('categories as c', 'c.id', 'ac.category_id')
      .select(['c.slug'])
      .where('ac.activity_id', '=', activityId)
      .execute(),
    db.selectFrom('categories').select(['slug', 'names']).orderBy('position').execute(),
    db
      .selectFrom('screenshots')
      .select(['id', 'width', 'height', 'content_type', 'captions', 'position'])
      .where('activity_id', '=', activityId)
      .orderBy('position')
      .orderBy('id')
      .execute(),
  ]);
}

/** The highest author position of an activity (undefined or null when it has none). */
export async function lastAuthorPosition(db: Db, activityId: number) {
  return db
    .selectFrom('activity_authors')
    .select((eb) => eb.fn.max('position').as('p'))
    .where('activity_id', '=', activityId)
    .executeTakeFirst();
}

export async function insertAuthor(db: Db, activityId: number, userId: number, role: 'owner' | 'developer', position: number): Promise<void> {
  await db.insertInto('activity_authors').values({ activity_id: activityId, user_id: userId, role, position, created_at: new Date() }).execute();
}

/** An activity's authors, locked until the transaction ends. */
export async function lockAuthors(db: Db, activityId: number) {
  return db.selectFrom('activity_authors').select(['user_id', 'role']).where('activity_id', '=', activityId).forUpdate().execute();
}

export async function authorsOf(db: Db, activityId: number) {
  return db.selectFrom('activity_authors').select(['user_id', 'role']).where('activity_id', '=', activityId).execute();
}

export async function deleteAuthor(db: Db, activityId: number, userId: number): Promise<void> {
  await db.deleteFrom('activity_authors').where('activity_id', '=', activityId).where('user_id', '=', userId).execute();
}

export async function deleteAllAuthors(db: Db, activityId: number): Promise<void> {
  await db.deleteFrom('activity_authors').where('activity_id', '=', activityId).execute();
}

export async function setAuthorRole(db: Db, activityId: number, userId: number, role: 'owner' | 'developer'): Promise<void> {
  await db.updateTable('activity_authors').set({ role }).where('activity_id', '=', activityId).where('user_id', '=', userId).execute();
}

/** Make the user an owner (first in the list when new). */
export async function upsertOwner(db: Db, activityId: number, userId: number): Promise<void> {
  await db
    .insertInto('activity_authors')
    .values({ activity_id: activityId, user_id: userId, role: 'owner', position: 0, created_at: new Date() })
    .onConflict((oc) => oc.columns(['activity_id', 'user_id']).doUpdateSet({ role: 'owner' }))
    .execute();
}

export async function setActivityTrusted(db: Db, activityId: number, trusted: boolean): Promise<void> {
  await db.updateTable('activities').set({ trusted, updated_at: new Date() }).where('id', '=', activityId).execute();
}

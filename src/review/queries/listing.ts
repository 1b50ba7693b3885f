// The SQL of listing edits in the developer hub: texts, links, tags, categories, version ranges
// and screenshots (pattern: search/queries.ts).
import { sql } from 'kysely';
import type { Db } from '../../platform/db/index.js';

/** A transaction-scoped advisory lock on one storage key. */
export async function lockStorageKey(db: Db, key: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`store:${key}`}, 0))`.execute(db);
}

export async function categoriesBySlug(db: Db, slugs: string[]) {
  return db.selectFrom('categories').select(['id', 'slug']).where('slug', 'in', slugs).execute();
}

export async function bundleIdOf(db: Db, activityId: number) {
  return db.selectFrom('activities').select(['bundle_id']).where('id', '=', activityId).executeTakeFirstOrThrow();
}

/**
 * Replace the activity's developer texts in one locale (none when all are null), its links, tags
 * (created when new) and categories.
 */
export async function replaceListing(
  db: Db,
  activityId: number,
  listing: {
    locale: string;
    name: string | null;
    summary: string | null;
    description: string | null;
    homepage: string | null;
    support: string | null;
    tags: (readonly [string, string])[];
    categoryIds: number[];
  },
  now: Date,
): Promise<void> {
  const { locale, name, summary, description, homepage, support, tags } = listing;
  await db.deleteFrom('activity_texts').where('activity_id', '=', activityId).where('locale', '=', locale).where('origin', '=', 'developer').execute();
  if (name || summary || description) {
    await db
      .insertInto('activity_texts')
      .values({ activity_id: activityId, locale, origin: 'developer', name, summary, description, updated_at: now })
      .execute();
  }
  await db.updateTable('activities').set({ homepage_url: homepage, support_url: support, updated_at: now }).where('id', '=', activityId).execute();
  await db.deleteFrom('activity_tags').where('activity_id', '=', activityId).execute();
  if (tags.length) {
    await db
      .insertInto('tags')
      .values(tags.map(([slug, n]) => ({ slug, name: n })))
      .onConflict((oc) => oc.column('slug').doNothing())
      .execute();
    const ids = await db
      .selectFrom('tags')
      .select('id')
      .where(
        'slug',
        'in',
        tags.map(([s]) => s),
      )
      .execute();
    await db
      .insertInto('activity_tags')
      .values(ids.map((t) => ({ activity_id: activityId, tag_id: t.id })))
      .execute();
  }
  await db.deleteFrom('activity_categories').where('activity_id', '=', activityId).execute();
  if (listing.categoryIds.length)
    await db
      .insertInto('activity_categories')
      .values(listing.categoryIds.map((id) => ({ activity_id: activityId, category_id: id })))
      .execute();
}

export async function versionOf(db: Db, activityId: number, versionId: number) {
  return db.selectFrom('versions').select(['id', 'version']).where('id', '=', versionId).where('activity_id', '=', activityId).executeTakeFirst();
}

/** An uploader's Sugar range and release notes for a version. */
export async function setVersionRange(
  db: Db,
  versionId: number,
  v: { sugarMin: string | null; sugarMax: string | null; sugarMinKey: string | null; sugarMaxKey: string | null; releaseNotes: string | null },
): Promise<void> {
  await db
    .updateTable('versions')
    .set({
      sugar_min: v.sugarMin,
      sugar_max: v.sugarMax,
      sugar_min_key: v.sugarMinKey,
      sugar_max_key: v.sugarMaxKey,
      sugar_range_origin: 'uploader',
      release_notes: v.releaseNotes,
    })
    .where('id', '=', versionId)
    .execute();
}

export async function screenshotCount(db: Db, activityId: number) {
  return db
    .selectFrom('screenshots')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('activity_id', '=', activityId)
    .executeTakeFirstOrThrow();
}

/** Insert a screenshot; its id. */
export async function insertScreenshot(
  db: Db,
  row: { activityId: number; position: number; storageKey: string; contentType: string; width: number; height: number; captions: Record<string, string> },
): Promise<number> {
  const r = await db
    .insertInto('screenshots')
    .values({
      activity_id: row.activityId,
      position: row.position,
      storage_key: row.storageKey,
      content_type: row.contentType,
      width: row.width,
      height: row.height,
      captions: JSON.stringify(row.captions),
      created_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return r.id;
}

/** Delete an activity's screenshot; its storage key, undefined when there was none. */
export async function deleteScreenshot(db: Db, activityId: number, screenshotId: number): Promise<string | undefined> {
  const del = await db
    .deleteFrom('screenshots')
    .where('id', '=', screenshotId)
    .where('activity_id', '=', activityId)
    .returning('storage_key')
    .executeTakeFirst();
  return del?.storage_key;
}

/** Whether a screenshot or a bundle file still uses the stored bytes. */
export async function storageKeyInUse(db: Db, key: string): Promise<boolean> {
  const used = await db
    .selectFrom('screenshots')
    .select('id')
    .where('storage_key', '=', key)
    .union(db.selectFrom('files').select('id').where('storage_key', '=', key))
    .limit(1)
    .executeTakeFirst();
  return used !== undefined;
}

/** A screenshot with its activity's id and status. */
export async function screenshotWithActivity(db: Db, id: number) {
  return db
    .selectFrom('screenshots as s')
    .innerJoin('activities as a', 'a.id', 's.activity_id')
    .select(['s.id', 's.storage_key', 's.content_type', 'a.id as activity_id', 'a.status'])
    .where('s.id', '=', id)
    .executeTakeFirst();
}

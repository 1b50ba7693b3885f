// The collections domain's SQL (the pattern, database handle first, is explained in
// search/queries.ts).
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';

export async function insertCollectionAudit(
  db: Db,
  entry: { action: string; nickname: string; actorUserId: number | null; actorLabel: string | null; details: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: new Date(),
      actor_user_id: entry.actorUserId,
      actor_label: entry.actorLabel,
      actor_address: null,
      action: entry.action,
      target_type: 'collection',
      target_id: entry.nickname,
      reason: null,
      details: JSON.stringify(entry.details),
    })
    .execute();
}

export async function collectionIdByNickname(db: Db, nickname: string): Promise<number | undefined> {
  const row = await db.selectFrom('collections').select('id').where('nickname', '=', nickname).executeTakeFirst();
  return row?.id;
}

export async function insertCollection(
  db: Db,
  row: { nickname: string; name: string; description: string | null; names: Record<string, string>; ownerId: number | null; listed: boolean; at: Date },
): Promise<void> {
  await db
    .insertInto('collections')
    .values({
      nickname: row.nickname,
      name: row.name,
      description: row.description,
      names: JSON.stringify(row.names),
      owner_id: row.ownerId,
      listed: row.listed,
      created_at: row.at,
      updated_at: row.at,
    })
    .execute();
}

export async function collectionNames(db: Db, id: number) {
  return db.selectFrom('collections').select('names').where('id', '=', id).executeTakeFirstOrThrow();
}

export async function updateCollection(db: Db, id: number, set: Record<string, unknown>): Promise<void> {
  await db.updateTable('collections').set(set).where('id', '=', id).execute();
}

export async function touchCollection(db: Db, id: number): Promise<void> {
  await db.updateTable('collections').set({ updated_at: new Date() }).where('id', '=', id).execute();
}

export async function deleteCollection(db: Db, id: number): Promise<void> {
  await db.deleteFrom('collections').where('id', '=', id).execute();
}

/** Every collection with its number of entries, by nickname. */
export async function listCollections(db: Db) {
  return db
    .selectFrom('collections as c')
    .leftJoin('collection_activities as ca', 'ca.collection_id', 'c.id')
    .select(['c.nickname', 'c.name', 'c.listed', (eb) => eb.fn.count<number>('ca.activity_id').as('entries')])
    .groupBy(['c.id', 'c.nickname', 'c.name', 'c.listed'])
    .orderBy('c.nickname')
    .execute();
}

export async function collectionByNickname(db: Db, nickname: string) {
  return db.selectFrom('collections').selectAll().where('nickname', '=', nickname).executeTakeFirst();
}

/** A collection's entries with their activity, in position order. */
export async function collectionEntries(db: Db, collectionId: number) {
  return db
    .selectFrom('collection_activities as ca')
    .innerJoin('activities as a', 'a.id', 'ca.activity_id')
    .leftJoin('versions as v', 'v.id', 'ca.pinned_version_id')
    .select(['a.bundle_id', 'a.status', 'v.version as pinned', 'ca.optional', 'ca.position'])
    .where('ca.collection_id', '=', collectionId)
    .orderBy('ca.position')
    .orderBy('a.bundle_id')
    .execute();
}

export async function feedCollection(db: Db, nickname: string) {
  return db.selectFrom('collections').select(['id', 'name', 'description', 'names']).where('nickname', '=', nickname).executeTakeFirst();
}

/** A collection's entries as ids, in position order. */
export async function feedCollectionEntries(db: Db, collectionId: number) {
  return db
    .selectFrom('collection_activities')
    .select(['activity_id', 'pinned_version_id', 'optional'])
    .where('collection_id', '=', collectionId)
    .orderBy('position')
    .orderBy('activity_id')
    .execute();
}

export async function activityIdByBundleId(db: Db, bundleId: string): Promise<number | undefined> {
  const a = await db.selectFrom('activities').select('id').where('bundle_id', '=', bundleId).executeTakeFirst();
  return a?.id;
}

/** The version of an activity written as `version`, or normalized to `normalized` when given. */
export async function versionIdOf(db: Db, activityId: number, version: string, normalized: string | null): Promise<number | undefined> {
  const row = await db
    .selectFrom('versions')
    .select('id')
    .where('activity_id', '=', activityId)
    .where((eb) => (normalized ? eb.or([eb('version', '=', version), eb('version_normalized', '=', normalized)]) : eb('version', '=', version)))
    .executeTakeFirst();
  return row?.id;
}

/** The position after the last entry (0 for an empty collection). */
export async function nextEntryPosition(db: Db, collectionId: number): Promise<number> {
  return Number(
    (
      await db
        .selectFrom('collection_activities')
        .select(sql<number>`coalesce(max(position), -1) + 1`.as('next'))
        .where('collection_id', '=', collectionId)
        .executeTakeFirstOrThrow()
    ).next,
  );
}

export async function findEntry(db: Db, collectionId: number, activityId: number) {
  return db
    .selectFrom('collection_activities')
    .select(['position', 'pinned_version_id', 'optional'])
    .where('collection_id', '=', collectionId)
    .where('activity_id', '=', activityId)
    .executeTakeFirst();
}

export async function updateEntry(
  db: Db,
  collectionId: number,
  activityId: number,
  set: { pinned_version_id?: number | null; optional?: boolean; position?: number },
): Promise<void> {
  await db.updateTable('collection_activities').set(set).where('collection_id', '=', collectionId).where('activity_id', '=', activityId).execute();
}

/** Set an entry's pinned version; false when the activity is not in the collection. */
export async function setEntryPin(db: Db, collectionId: number, activityId: number, pinnedVersionId: number | null): Promise<boolean> {
  const res = await db
    .updateTable('collection_activities')
    .set({ pinned_version_id: pinnedVersionId })
    .where('collection_id', '=', collectionId)
    .where('activity_id', '=', activityId)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) !== 0;
}

export async function insertEntry(
  db: Db,
  row: { collectionId: number; activityId: number; pinnedVersionId: number | null; optional: boolean; position: number },
): Promise<void> {
  await db
    .insertInto('collection_activities')
    .values({
      collection_id: row.collectionId,
      activity_id: row.activityId,
      pinned_version_id: row.pinnedVersionId,
      optional: row.optional,
      position: row.position,
    })
    .execute();
}

/** Remove an entry; false when the activity was not in the collection. */
export async function deleteEntry(db: Db, collectionId: number, activityId: number): Promise<boolean> {
  const res = await db.deleteFrom('collection_activities').where('collection_id', '=', collectionId).where('activity_id', '=', activityId).executeTakeFirst();
  return Number(res.numDeletedRows) !== 0;
}

// SQL of the store's catalog pages (categories, authors, collections, legacy ids, the activity
// page's extras, feeds, provenance). Plain functions over the database handle: no caching, no
// access checks (CatalogService does both).
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import { MAX_INT4 } from '../platform/request-guard.js';

export interface CategoryRow {
  id: number;
  slug: string;
  names: Record<string, string>;
  count: number;
}

/** Categories in their order, with the number of public activities in each. */
export async function categoriesWithCounts(db: Db): Promise<CategoryRow[]> {
  const rows = await db
    .selectFrom('categories as c')
    .leftJoin('activity_categories as ac', 'ac.category_id', 'c.id')
    .leftJoin('activities as a', (j) => j.onRef('a.id', '=', 'ac.activity_id').on('a.status', '=', 'public'))
    .select(['c.id', 'c.slug', 'c.names', 'c.position', (eb) => eb.fn.count<number>('a.id').as('count')])
    .groupBy(['c.id', 'c.slug', 'c.names', 'c.position'])
    .orderBy('c.position')
    .orderBy('c.slug')
    .execute();
  return rows.map((r) => ({ id: r.id, slug: r.slug, names: (r.names ?? {}) as Record<string, string>, count: Number(r.count) }));
}

export async function tagName(db: Db, slug: string): Promise<string | null> {
  const row = await db.selectFrom('tags').select('name').where('slug', '=', slug).executeTakeFirst();
  return row?.name ?? null;
}

export async function publicCount(db: Db): Promise<number> {
  const row = await db.selectFrom('activities').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'public').executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The row of a public activity, as the activity page shows it. */
export function publicActivityRow(db: Db, bundleId: string) {
  return db
    .selectFrom('activities')
    .select(['id', 'bundle_id', 'legacy_id', 'icon_svg', 'download_count', 'average_daily_users', 'featured', 'last_published_at', 'created_at'])
    .where('bundle_id', '=', bundleId)
    .where('status', '=', 'public')
    .executeTakeFirst();
}

/** A public activity by a legacy numeric id (kept at import) or by its bundle id. */
export async function resolvePublicActivity(db: Db, id: string): Promise<{ id: number; bundle_id: string } | null> {
  if (/^\d{1,9}$/.test(id)) {
    const byLegacy = await db.selectFrom('activities').select(['id', 'bundle_id']).where('legacy_id', '=', Number(id)).where('status', '=', 'public').executeTakeFirst();
    if (byLegacy) return byLegacy;
  }
  const row = await db.selectFrom('activities').select(['id', 'bundle_id']).where('bundle_id', '=', id).where('status', '=', 'public').executeTakeFirst();
  return row ?? null;
}

/** A public file by a legacy file id first (old links carry those), else by its own id. */
export async function resolvePublicFile(db: Db, id: number): Promise<{ id: number; file_name: string } | null> {
  const q = (col: 'f.legacy_id' | 'f.id') =>
    db
      .selectFrom('files as f')
      .innerJoin('versions as v', 'v.id', 'f.version_id')
      .innerJoin('activities as a', 'a.id', 'v.activity_id')
      .select(['f.id', 'f.file_name'])
      .where(col, '=', id)
      .where('f.status', '=', 'public')
      .where('a.status', '=', 'public')
      .executeTakeFirst();
  // Legacy ids are PostgreSQL integers: a larger number is no legacy id (and must not be asked as one).
  return (id <= MAX_INT4 ? await q('f.legacy_id') : undefined) ?? (await q('f.id')) ?? null;
}

export interface ExtrasRow {
  authors: { id: number; name: string; role: string }[] | null;
  shots: { id: number; width: number; height: number; captions: Record<string, string> }[] | null;
  colls: { nickname: string; name: string; names: Record<string, string> }[] | null;
}

/** Authors (with their ids), screenshots and the listed collections that hold an activity, in one query. */
export async function activityExtras(db: Db, activityId: number): Promise<ExtrasRow> {
  const row = await sql<ExtrasRow>`
      select
        (select json_agg(json_build_object('id', u.id, 'name', u.display_name, 'role', aa.role) order by aa.position, u.id)
           from activity_authors aa join users u on u.id = aa.user_id where aa.activity_id = ${activityId} and u.deleted_at is null) as authors,
        (select json_agg(json_build_object('id', s.id, 'width', s.width, 'height', s.height, 'captions', s.captions) order by s.position, s.id)
           from screenshots s where s.activity_id = ${activityId}) as shots,
        (select json_agg(json_build_object('nickname', c.nickname, 'name', c.name, 'names', c.names) order by c.name)
           from collection_activities ca join collections c on c.id = ca.collection_id where ca.activity_id = ${activityId} and c.listed) as colls`.execute(db);
  return row.rows[0]!;
}

export function authorProfile(db: Db, userId: number) {
  return db.selectFrom('users').select(['id', 'display_name', 'homepage', 'bio', 'created_at']).where('id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
}

/** The public activities of an author, last published first (at most 200). */
export async function authorActivityIds(db: Db, userId: number): Promise<number[]> {
  const ids = await db
    .selectFrom('activity_authors as aa')
    .innerJoin('activities as a', 'a.id', 'aa.activity_id')
    .select('a.id')
    .where('aa.user_id', '=', userId)
    .where('a.status', '=', 'public')
    .orderBy(sql`a.last_published_at desc nulls last`)
    .orderBy('a.id')
    .limit(200)
    .execute();
  return ids.map((r) => r.id);
}

/** Listed collections, with how many public activities each holds. */
export async function listedCollections(db: Db) {
  const rows = await db
    .selectFrom('collections as c')
    .leftJoin('collection_activities as ca', 'ca.collection_id', 'c.id')
    .leftJoin('activities as a', (j) => j.onRef('a.id', '=', 'ca.activity_id').on('a.status', '=', 'public'))
    .select(['c.nickname', 'c.name', 'c.names', 'c.description', (eb) => eb.fn.count<number>('a.id').as('count')])
    .where('c.listed', '=', true)
    .groupBy(['c.id', 'c.nickname', 'c.name', 'c.names', 'c.description'])
    .orderBy('c.name')
    .execute();
  return rows.map((r) => ({ nickname: r.nickname, name: r.name, names: (r.names ?? {}) as Record<string, string>, description: r.description, count: Number(r.count) }));
}

/** Which of these activity ids are public (in no particular order). */
export async function publicIdsAmong(db: Db, ids: number[]): Promise<Set<number>> {
  const rows = await db.selectFrom('activities').select('id').where('id', 'in', ids).where('status', '=', 'public').execute();
  return new Set(rows.map((r) => r.id));
}

/** When each activity was added and last published, by bundle id (the feeds' dates). */
export function activityDates(db: Db, bundleIds: string[]) {
  return db.selectFrom('activities').select(['bundle_id', 'created_at', 'last_published_at']).where('bundle_id', 'in', bundleIds).execute();
}

/** The recorded sources (repository, commit, tag) of an activity's built files. */
export async function builtSources(db: Db, activityId: number) {
  const rows = await db.selectFrom('built_sources').select(['file_id', 'repository', 'commit_sha', 'tag']).where('activity_id', '=', activityId).where('file_id', 'is not', null).execute();
  return rows.map((x) => ({ file_id: Number(x.file_id), repository: x.repository, commit: x.commit_sha, tag: x.tag }));
}

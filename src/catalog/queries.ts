// SQL of the catalog: the reads (listings, activities, versions and files for the API and the
// store's pages, and what the pages show besides: categories, authors, collections, legacy ids,
// the activity page's extras, feeds, provenance), then the rows the ingest path writes and checks.
// Plain functions over the database handle: no caching, no access checks (the services do both).
import { sql, type Insertable, type Updateable } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { ActivitiesTable, AuditLogTable, FilesTable, NewActivity, NewVersion, ScreenshotsTable } from '../platform/db/schema.js';
import { MAX_INT4 } from '../platform/request-guard.js';
import { matchingIds, rankOf, type SearchQuery } from '../search/query.js';
import type { TextRow } from './locales.js';
import type { Runtime } from '../bundles/index.js';

export interface CategoryRow {
  id: number;
  slug: string;
  names: Record<string, string>;
  count: number;
}

/**
 * Which versions run on one Sugar: the runtimes whose configured row contains it (worked out by the
 * caller from updates.runtimeRanges), and the Sugar's sort key. A version runs there when its
 * runtime is one of them and, for a range its uploader gave, that range contains the Sugar too; a
 * range derived from the runtime follows the table as configured now. This is `effectiveRange`
 * (src/catalog/compat.ts) in SQL: listings, category counts and the activity page agree.
 */
export interface SugarFilter {
  key: string;
  runtimes: Runtime[];
}

/** The condition on a version `v` (of `versions as v`) that it runs on the Sugar. */
function runsOn(sugar: SugarFilter) {
  if (sugar.runtimes.length === 0) return sql<boolean>`false`;
  const k = sugar.key;
  return sql<boolean>`(v.runtime in (${sql.join(sugar.runtimes)}) and (v.sugar_range_origin = 'runtime' or ((v.sugar_min_key is null or v.sugar_min_key <= ${k}) and (v.sugar_max_key is null or v.sugar_max_key >= ${k}))))`;
}

/**
 * Categories in their order, with the number of public activities in each that a listing of the
 * category shows: with a public file, on the given Sugar when there is one.
 */
export async function categoriesWithCounts(db: Db, sugar: SugarFilter | null = null): Promise<CategoryRow[]> {
  const rows = await db
    .selectFrom('categories as c')
    .leftJoin('activity_categories as ac', 'ac.category_id', 'c.id')
    .leftJoin('activities as a', (j) => j.onRef('a.id', '=', 'ac.activity_id').on(listable(sugar)))
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
  const row = await db
    .selectFrom('activities')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'public')
    .executeTakeFirstOrThrow();
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
    const byLegacy = await db
      .selectFrom('activities')
      .select(['id', 'bundle_id'])
      .where('legacy_id', '=', Number(id))
      .where('status', '=', 'public')
      .executeTakeFirst();
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
  return db
    .selectFrom('users')
    .select(['id', 'display_name', 'homepage', 'bio', 'created_at'])
    .where('id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
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
  return rows.map((r) => ({
    nickname: r.nickname,
    name: r.name,
    names: (r.names ?? {}) as Record<string, string>,
    description: r.description,
    count: Number(r.count),
  }));
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
  const rows = await db
    .selectFrom('built_sources')
    .select(['file_id', 'repository', 'commit_sha', 'tag'])
    .where('activity_id', '=', activityId)
    .where('file_id', 'is not', null)
    .execute();
  return rows.map((x) => ({ file_id: Number(x.file_id), repository: x.repository, commit: x.commit_sha, tag: x.tag }));
}

/**
 * A public activity with a public file (on the Sugar and of the runtime, when given): what the
 * listings show and the category counts count, so the two always agree.
 */
function listable(sugar: SugarFilter | null, runtime: string | null = null) {
  return sql<boolean>`a.status = 'public' and exists (select 1 from versions v join files f on f.version_id = v.id where v.activity_id = a.id and f.status = 'public'${runtime ? sql` and v.runtime = ${runtime}` : sql``}${sugar ? sql` and ${runsOn(sugar)}` : sql``})`;
}

/** Other listable activities of this activity's authors, the last published first. */
export async function moreByAuthorsIds(db: Db, activityId: number, sugar: SugarFilter | null, limit: number): Promise<number[]> {
  const rows = await sql<{ id: number }>`
    select a.id from activities a
     where a.id <> ${activityId}
       and exists (select 1 from activity_authors mine join activity_authors theirs on theirs.user_id = mine.user_id
                    where mine.activity_id = ${activityId} and theirs.activity_id = a.id)
       and ${listable(sugar)}
     order by a.last_published_at desc nulls last, a.id
     limit ${limit}`.execute(db);
  return rows.rows.map((r) => Number(r.id));
}

/** How many activities of each shared tag or category "similar" looks at (bounded work whatever the tag's size). */
const SIMILAR_PER_SOURCE = 100;

/**
 * Listable activities that share categories or tags with this one: the most shared first (a
 * category counts as much as two tags), then the most downloaded; none of its authors' (those
 * are "more by"). Up to SIMILAR_PER_SOURCE activities are read per shared tag or category (in
 * index order), so a tag shared by thousands of activities costs a bounded number of reads.
 */
export async function similarActivityIds(db: Db, activityId: number, sugar: SugarFilter | null, limit: number): Promise<number[]> {
  const rows = await sql<{ id: number }>`
    with shared as (
      select s.activity_id as id, 2 as w
        from (select category_id from activity_categories where activity_id = ${activityId}) mine
        cross join lateral (select ac.activity_id from activity_categories ac
                             where ac.category_id = mine.category_id and ac.activity_id <> ${activityId} limit ${SIMILAR_PER_SOURCE}) s
      union all
      select s.activity_id as id, 1 as w
        from (select tag_id from activity_tags where activity_id = ${activityId}) mine
        cross join lateral (select at.activity_id from activity_tags at
                             where at.tag_id = mine.tag_id and at.activity_id <> ${activityId} limit ${SIMILAR_PER_SOURCE}) s
    ), scored as (select id, sum(w) as score from shared group by id)
    select a.id from scored s join activities a on a.id = s.id
     where ${listable(sugar)}
       and not exists (select 1 from activity_authors mine join activity_authors theirs on theirs.user_id = mine.user_id
                        where mine.activity_id = ${activityId} and theirs.activity_id = a.id)
     order by s.score desc, a.download_count desc, a.id
     limit ${limit}`.execute(db);
  return rows.rows.map((r) => Number(r.id));
}

/** The languages public activities have texts in (a bundle's own text counts in its default language), with counts. */
export async function textLanguages(db: Db): Promise<{ locale: string; count: number }[]> {
  const rows = await sql<{ locale: string; n: number }>`
    select l.locale, count(distinct l.activity_id) as n from (
      select t.activity_id, t.locale from activity_texts t where t.locale <> 'und'
      union all
      select a.id, a.default_locale from activities a
    ) l join activities a on a.id = l.activity_id and a.status = 'public'
     group by l.locale order by n desc, l.locale`.execute(db);
  return rows.rows.map((r) => ({ locale: r.locale, count: Number(r.n) }));
}

/** What a listing is filtered and ordered by (CatalogService's ListQuery). */
export interface ListFilter {
  /** Featured: flagged by the editors, or in a listed collection. */
  featured?: boolean;
  /** Only activities whose texts exist in this language ('es' matches 'es' and 'es-UY'). */
  language?: string;
  /** Only activities added at or after this time. */
  addedSince?: Date;
  runtime?: Runtime;
  tag?: string;
  category?: string;
  q?: string;
  sort?: string;
  withTotal?: boolean;
}

/**
 * One page of public activity ids matching a listing query (with a public file, of the runtime,
 * for the Sugar, tag, category, search), in the asked order; the number of matches unless
 * `withTotal` is false (then -1).
 */
export async function listPublicActivityIds(
  db: Db,
  query: ListFilter,
  o: { page: number; perPage: number; sugar: SugarFilter | null; search: SearchQuery | null },
): Promise<{ ids: number[]; total: number }> {
  const { page, perPage, sugar, search } = o;
  let base = db.selectFrom('activities as a').where('a.status', '=', 'public');
  if (query.featured) {
    base = base.where((eb) =>
      eb.or([
        eb('a.featured', '=', true),
        eb.exists(
          eb
            .selectFrom('collection_activities as ca')
            .innerJoin('collections as c', 'c.id', 'ca.collection_id')
            .select(sql.lit(1).as('one'))
            .whereRef('ca.activity_id', '=', 'a.id')
            .where('c.listed', '=', true),
        ),
      ]),
    );
  }
  if (query.addedSince) base = base.where('a.created_at', '>=', query.addedSince);
  if (query.language) {
    const language = query.language;
    const prefix = `${language.replace(/[\\%_]/g, (c) => '\\' + c)}-%`;
    base = base.where((eb) =>
      eb.or([
        eb('a.default_locale', '=', language),
        eb('a.default_locale', 'like', prefix),
        eb.exists(
          eb
            .selectFrom('activity_texts as t')
            .select(sql.lit(1).as('one'))
            .whereRef('t.activity_id', '=', 'a.id')
            .where((w) => w.or([w('t.locale', '=', language), w('t.locale', 'like', prefix)])),
        ),
      ]),
    );
  }
  base = base.where(listable(sugar, query.runtime ?? null));
  if (query.tag) {
    const tag = query.tag;
    base = base.where((eb) =>
      eb.exists(
        eb
          .selectFrom('activity_tags as at')
          .innerJoin('tags as t', 't.id', 'at.tag_id')
          .select(sql.lit(1).as('one'))
          .whereRef('at.activity_id', '=', 'a.id')
          .where('t.slug', '=', tag.toLowerCase()),
      ),
    );
  }
  if (query.category) {
    const cat = query.category;
    base = base.where((eb) =>
      eb.exists(
        eb
          .selectFrom('activity_categories as ac')
          .innerJoin('categories as c', 'c.id', 'ac.category_id')
          .select(sql.lit(1).as('one'))
          .whereRef('ac.activity_id', '=', 'a.id')
          .where('c.slug', '=', cat),
      ),
    );
  }
  if (search) {
    base = base.where('a.id', 'in', matchingIds(search));
  } else if (query.q) {
    const pattern = `%${query.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    base = base.where('a.bundle_id', 'ilike', pattern);
  }

  const totalRow = query.withTotal === false ? { n: -1 } : await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  let ordered = base.select(['a.id']);
  switch (query.sort ?? 'updated') {
    case 'popular':
      ordered = ordered.orderBy('a.download_count', 'desc');
      break;
    case 'newest':
      ordered = ordered.orderBy('a.created_at', 'desc');
      break;
    case 'rated':
      ordered = ordered.orderBy(sql`a.rating_bayesian desc nulls last`);
      break;
    case 'name':
      ordered = ordered.orderBy('a.bundle_id', 'asc');
      break;
    case 'relevance':
      ordered = search ? ordered.orderBy(sql`${rankOf(search)} desc`).orderBy('a.download_count', 'desc') : ordered.orderBy('a.download_count', 'desc');
      break;
    default:
      ordered = ordered.orderBy(sql`a.last_published_at desc nulls last`);
  }
  const ids = (
    await ordered
      .orderBy('a.id', 'asc')
      .limit(perPage)
      .offset((page - 1) * perPage)
      .execute()
  ).map((r) => r.id);
  return { ids, total: Number(totalRow.n) };
}

export function activitiesByIds(db: Db, ids: number[]) {
  return db.selectFrom('activities').selectAll().where('id', 'in', ids).execute();
}

/** Every localized text (all locales and origins) of these activities. */
export async function textsOf(db: Db, ids: number[]): Promise<(TextRow & { activity_id: number })[]> {
  return (await db
    .selectFrom('activity_texts')
    .select(['activity_id', 'locale', 'origin', 'name', 'summary', 'description'])
    .where('activity_id', 'in', ids)
    .execute()) as (TextRow & { activity_id: number })[];
}

/** The tags of these activities, by name. */
export function tagNamesOf(db: Db, ids: number[]) {
  return db
    .selectFrom('activity_tags as at')
    .innerJoin('tags as t', 't.id', 'at.tag_id')
    .select(['at.activity_id', 't.name'])
    .where('at.activity_id', 'in', ids)
    .orderBy('t.name')
    .execute();
}

/** Versions of these activities with a public file (any file when anyStatus), runnable on sugarKey if given: by activity, newest first. */
export function versionsWithFiles(db: Db, ids: number[], sugar: SugarFilter | null, anyStatus: boolean) {
  return db
    .selectFrom('versions as v')
    .innerJoin('files as f', 'f.version_id', 'v.id')
    .select(['v.id', 'v.activity_id', 'v.version', 'v.runtime', 'v.sugar_min', 'v.sugar_max', 'v.sort_key'])
    .where('v.activity_id', 'in', ids)
    .$if(!anyStatus, (qb) => qb.where('f.status', '=', 'public'))
    .$if(sugar !== null, (qb) => qb.where(runsOn(sugar!)))
    .orderBy('v.activity_id')
    .orderBy('v.sort_key', 'desc')
    .execute();
}

/** An activity's id by bundle id (only a public one when publicOnly). */
export function activityId(db: Db, bundleId: string, o: { publicOnly: boolean }) {
  return db
    .selectFrom('activities')
    .select('id')
    .where('bundle_id', '=', bundleId)
    .$if(o.publicOnly, (qb) => qb.where('status', '=', 'public'))
    .executeTakeFirst();
}

export function activityById(db: Db, id: number) {
  return db.selectFrom('activities').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The authors of an activity (accounts not deleted), in their order. */
export function authorsOf(db: Db, activityId: number) {
  return db
    .selectFrom('activity_authors as aa')
    .innerJoin('users as u', 'u.id', 'aa.user_id')
    .select(['u.display_name as name', 'aa.role'])
    .where('aa.activity_id', '=', activityId)
    .where('u.deleted_at', 'is', null)
    .orderBy('aa.position')
    .execute();
}

export function categorySlugsOf(db: Db, activityId: number) {
  return db
    .selectFrom('activity_categories as ac')
    .innerJoin('categories as c', 'c.id', 'ac.category_id')
    .select('c.slug')
    .where('ac.activity_id', '=', activityId)
    .orderBy('c.position')
    .execute();
}

/** The files of an activity's versions (public files only unless anyStatus), newest version first. */
export function versionFiles(db: Db, activityId: number, anyStatus: boolean) {
  return db
    .selectFrom('versions as v')
    .innerJoin('files as f', 'f.version_id', 'v.id')
    .select([
      'v.id as versionId',
      'v.version',
      'v.version_normalized',
      'v.runtime',
      'v.exec',
      'v.licenses',
      'v.sugar_min',
      'v.sugar_max',
      'v.sugar_range_origin',
      'v.release_notes',
      'v.created_at as versionCreated',
      'v.sort_key',
      'f.id as fileId',
      'f.file_name',
      'f.size',
      'f.sha256',
      'f.status',
      'f.created_at as fileCreated',
    ])
    .where('v.activity_id', '=', activityId)
    .$if(!anyStatus, (qb) => qb.where('f.status', '=', 'public'))
    .orderBy('v.sort_key', 'desc')
    .orderBy('f.id')
    .execute();
}

export function iconSvg(db: Db, bundleId: string, o: { publicOnly: boolean }) {
  return db
    .selectFrom('activities')
    .select('icon_svg')
    .where('bundle_id', '=', bundleId)
    .$if(o.publicOnly, (qb) => qb.where('status', '=', 'public'))
    .executeTakeFirst();
}

export async function rowCounts(db: Db): Promise<{ activities: number; versions: number; files: number }> {
  const [a, v, f] = await Promise.all([
    db
      .selectFrom('activities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('files')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { activities: Number(a.n), versions: Number(v.n), files: Number(f.n) };
}

/** A file (any status) with its version and activity, as the download paths need it; undefined if none. */
export function fileWithActivity(db: Db, id: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select([
      'f.id',
      'f.file_name',
      'f.size',
      'f.sha256',
      'f.sha1',
      'f.md5',
      'f.status',
      'f.piece_length',
      'f.piece_hashes',
      'f.created_at',
      'f.storage_key',
      'v.version',
      'a.id as activity_id',
      'a.bundle_id',
      'a.status as activity_status',
    ])
    .where('f.id', '=', id)
    .executeTakeFirst();
}

// ---- Writes and checks of the ingest path (IngestService, the bundle id checks, the samples).
// The ingest transaction is the caller's: these take the handle it runs in.

/** The file stored with these bytes, with its version, activity and their statuses. */
export function fileBySha256(db: Db, sha256: string) {
  return db
    .selectFrom('files')
    .innerJoin('versions', 'versions.id', 'files.version_id')
    .innerJoin('activities', 'activities.id', 'versions.activity_id')
    .select(['files.id as fileId', 'versions.id as versionId', 'activities.id as activityId', 'files.status', 'activities.status as activityStatus'])
    .where('files.sha256', '=', sha256)
    .executeTakeFirst();
}

/** The id of the file row holding these bytes, if any. */
export function fileIdBySha256(db: Db, sha256: string) {
  return db.selectFrom('files').select('id').where('sha256', '=', sha256).executeTakeFirst();
}

export function activityIdByBundleId(db: Db, bundleId: string) {
  return db.selectFrom('activities').select('id').where('bundle_id', '=', bundleId).executeTakeFirst();
}

/** The id of the activity's version with this normalized version number, if any. */
export function versionIdByNormalized(db: Db, activityId: number, versionNormalized: string) {
  return db.selectFrom('versions').select('id').where('activity_id', '=', activityId).where('version_normalized', '=', versionNormalized).executeTakeFirst();
}

/** The version number of the activity's version with this normalized version number, if any. */
export function versionByNormalized(db: Db, activityId: number, versionNormalized: string) {
  return db
    .selectFrom('versions')
    .select(['version'])
    .where('activity_id', '=', activityId)
    .where('version_normalized', '=', versionNormalized)
    .executeTakeFirst();
}

/** The activity of this bundle id, locked for the rest of the transaction. */
export function activityForIngest(db: Db, bundleId: string) {
  return db.selectFrom('activities').select(['id', 'kind', 'status', 'trusted']).where('bundle_id', '=', bundleId).forUpdate().executeTakeFirst();
}

/** The user's role among the activity's authors, if they are one. */
export function authorRole(db: Db, activityId: number, userId: number) {
  return db.selectFrom('activity_authors').select('role').where('activity_id', '=', activityId).where('user_id', '=', userId).executeTakeFirst();
}

export function userRole(db: Db, userId: number) {
  return db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
}

export function insertActivity(db: Db, values: NewActivity) {
  return db.insertInto('activities').values(values).returning(['id', 'kind', 'status', 'trusted']).executeTakeFirstOrThrow();
}

export async function insertOwner(db: Db, activityId: number, userId: number, now: Date): Promise<void> {
  await db.insertInto('activity_authors').values({ activity_id: activityId, user_id: userId, role: 'owner', created_at: now }).execute();
}

export function insertVersion(db: Db, values: NewVersion) {
  return db.insertInto('versions').values(values).returning('id').executeTakeFirstOrThrow();
}

export function insertFile(db: Db, values: Insertable<FilesTable>) {
  return db.insertInto('files').values(values).returning('id').executeTakeFirstOrThrow();
}

/** The id of the activity's newest version (by sort key). */
export function newestVersionId(db: Db, activityId: number) {
  return db.selectFrom('versions').select('id').where('activity_id', '=', activityId).orderBy('sort_key', 'desc').limit(1).executeTakeFirstOrThrow();
}

export async function updateActivity(db: Db, activityId: number, set: Updateable<ActivitiesTable>): Promise<void> {
  await db.updateTable('activities').set(set).where('id', '=', activityId).execute();
}

export async function insertAuditRow(db: Db, values: Insertable<AuditLogTable>): Promise<void> {
  await db.insertInto('audit_log').values(values).execute();
}

/** Replaces the activity's texts that came from its bundle. */
export async function replaceBundleTexts(
  db: Db,
  activityId: number,
  rows: { locale: string; name: string | null; summary: string | null; description: string | null }[],
  now: Date,
): Promise<void> {
  await db.deleteFrom('activity_texts').where('activity_id', '=', activityId).where('origin', '=', 'bundle').execute();
  await db
    .insertInto('activity_texts')
    .values(rows.map((r) => ({ ...r, activity_id: activityId, origin: 'bundle' as const, updated_at: now })))
    .execute();
}

export async function deleteActivityTags(db: Db, activityId: number): Promise<void> {
  await db.deleteFrom('activity_tags').where('activity_id', '=', activityId).execute();
}

/** Creates the tags that do not exist yet and links them all to the activity. */
export async function addActivityTags(db: Db, activityId: number, tags: [slug: string, name: string][]): Promise<void> {
  await db
    .insertInto('tags')
    .values(tags.map(([slug, name]) => ({ slug, name })))
    .onConflict((oc) => oc.column('slug').doNothing())
    .execute();
  const ids = await db
    .selectFrom('tags')
    .select('id')
    .where(
      'slug',
      'in',
      tags.map(([slug]) => slug),
    )
    .execute();
  await db
    .insertInto('activity_tags')
    .values(ids.map((t) => ({ activity_id: activityId, tag_id: t.id })))
    .execute();
}

/** Remembers that the store built this commit into this file (once per repository and commit). */
export async function upsertBuiltSource(
  db: Db,
  b: { repository: string; commit: string; tag: string | null; builder: string; committedAt: string | null },
  fileId: number,
  activityId: number,
): Promise<void> {
  await db
    .insertInto('built_sources')
    .values({
      repository: b.repository,
      commit_sha: b.commit,
      tag: b.tag,
      builder: b.builder,
      committed_at: b.committedAt,
      file_id: fileId,
      activity_id: activityId,
    })
    .onConflict((oc) => oc.columns(['repository', 'commit_sha']).doUpdateSet({ tag: b.tag, file_id: fileId, activity_id: activityId }))
    .execute();
}

/** Takes new bundle ids one at a time, until the end of the transaction. */
export async function lockNewBundleIds(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended('aslo:new-bundle-id', 0))`.execute(db);
}

/** The bundle ids of every activity the user is not an author of. */
export function bundleIdsNotAuthoredBy(db: Db, userId: number) {
  return db
    .selectFrom('activities as a')
    .select(['a.bundle_id'])
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('activity_authors as aa').select('aa.user_id').whereRef('aa.activity_id', '=', 'a.id').where('aa.user_id', '=', userId))),
    )
    .execute();
}

/** Whether the catalog has any activity at all. */
export async function anyActivity(db: Db): Promise<boolean> {
  return Boolean(await db.selectFrom('activities').select('id').limit(1).executeTakeFirst());
}

/** Whether the activity has a screenshot. */
export async function hasScreenshot(db: Db, activityId: number): Promise<boolean> {
  return Boolean(await db.selectFrom('screenshots').select('id').where('activity_id', '=', activityId).limit(1).executeTakeFirst());
}

export function insertScreenshot(db: Db, values: Insertable<ScreenshotsTable>) {
  return db.insertInto('screenshots').values(values).returning('id').executeTakeFirstOrThrow();
}

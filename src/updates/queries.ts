// SQL of the updater's HTTP side: release notes and the downloads experimental clients are sent
// to. Plain functions over the database handle; the access rules are UpdateService's.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { FileStatus } from '../platform/db/schema.js';
import type { Runtime } from '../bundles/index.js';
import type { IxActivityRow, IxChange, IxTextRow, IxVersionRow } from './update-index.js';

/**
 * A version that has a file an updater may be sent to (public, sandbox or pending) of an activity
 * that is not disabled, with whether it is published (a public file); undefined if none.
 */
export function releaseNotesVersion(db: Db, versionId: number) {
  return db
    .selectFrom('versions as v')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select((eb) => [
      'v.version',
      'v.release_notes',
      'a.bundle_id',
      'a.status',
      'a.id as activity_id',
      eb.exists(eb.selectFrom('files as f').select('f.id').whereRef('f.version_id', '=', 'v.id').where('f.status', '=', 'public')).as('published'),
    ])
    .where('v.id', '=', versionId)
    .where('a.status', '<>', 'disabled')
    .where((eb) =>
      eb.exists(eb.selectFrom('files as f').select('f.id').whereRef('f.version_id', '=', 'v.id').where('f.status', 'in', ['public', 'sandbox', 'pending'])),
    )
    .executeTakeFirst();
}

/** A public, sandbox or pending file of an activity that is not disabled (experimental clients download those); undefined if none. */
export function experimentalFile(db: Db, fileId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select(['f.file_name', 'f.size', 'f.sha256', 'f.storage_key'])
    .where('f.id', '=', fileId)
    .where('f.status', 'in', ['public', 'sandbox', 'pending'])
    .where('a.status', '<>', 'disabled')
    .executeTakeFirst();
}

/** Upsert the change rows: the time is the database's clock at the moment of the write. */
export async function recordChanges(db: Db, activityIds: number[], bundleIds: string[]): Promise<void> {
  if (activityIds.length > 0) {
    await sql`
      insert into catalog_changes (bundle_id, activity_id, changed_at, public_seen)
      select a.bundle_id, a.id, clock_timestamp(),
        a.status = 'public' and exists (
          select 1 from versions v join files f on f.version_id = v.id
          where v.activity_id = a.id and f.status = 'public')
      from activities a
      where a.id in (${sql.join(activityIds)})
      on conflict (bundle_id) do update set
        changed_at = excluded.changed_at,
        activity_id = excluded.activity_id,
        public_seen = catalog_changes.public_seen or excluded.public_seen
    `.execute(db);
  }
  // Ids whose activity row is gone (deleted): keep the tombstone, move its time.
  for (const bundleId of bundleIds) {
    await sql`
      insert into catalog_changes (bundle_id, activity_id, changed_at, public_seen)
      values (${bundleId}, null, clock_timestamp(), false)
      on conflict (bundle_id) do update set
        changed_at = excluded.changed_at,
        activity_id = (select id from activities where bundle_id = ${bundleId})
    `.execute(db);
  }
}

/**
 * Adds the day's ping counts, one per (activity, series) of the arrays, in one atomic statement.
 * An activity deleted meanwhile is skipped instead of failing the batch.
 */
export async function addPingCounts(db: Db, day: string, ids: number[], series: string[], counts: number[]): Promise<void> {
  await sql`
    insert into update_pings (activity_id, day, app_series, count)
    select v.activity_id, ${day}::date, v.app_series, v.count
    from unnest(${ids}::bigint[], ${series}::text[], ${counts}::bigint[]) as v (activity_id, app_series, count)
    -- an activity deleted meanwhile is skipped instead of failing the batch
    join activities a on a.id = v.activity_id
    on conflict (activity_id, day, app_series) do update set count = update_pings.count + excluded.count
  `.execute(db);
}

/** Writes activities.average_daily_users: the mean daily ping total over the last `days` complete days. */
export async function writeAverageDailyUsers(db: Db, days: number): Promise<void> {
  await sql`
    update activities a set average_daily_users = coalesce(s.avg, 0)
    from (
      select x.id, (select round(coalesce(sum(p.count), 0)::numeric / ${days})::int
                    from update_pings p
                    where p.activity_id = x.id
                      and p.day >= current_date - ${days}::int and p.day < current_date) as avg
      from activities x
    ) s
    where s.id = a.id and a.average_daily_users is distinct from coalesce(s.avg, 0)
  `.execute(db);
}

// --- the updater's in-memory index (update-index.ts): what it loads -------------------------------

/** The file statuses the index offers (public to everyone; sandbox and pending to experimental=1). */
const EXPERIMENTAL_FILE_STATUSES: FileStatus[] = ['public', 'sandbox', 'pending'];

/** The database clock's "now" in ms (the clock that stamps catalog changes). */
export async function databaseNow(db: Db): Promise<number> {
  const clock = await sql<{ now: Date | string }>`select clock_timestamp() as now`.execute(db);
  return new Date(clock.rows[0]!.now).getTime();
}

/** These activities, unless disabled. */
export function indexActivities(db: Db, ids: number[]): Promise<IxActivityRow[]> {
  return db.selectFrom('activities').select(['id', 'bundle_id', 'kind', 'status']).where('status', '<>', 'disabled').where('id', 'in', ids).execute();
}

/** The versions of these activities with each of their files an updater may be sent to. */
export function indexVersions(db: Db, activityIds: number[]): Promise<IxVersionRow[]> {
  return db
    .selectFrom('versions as v')
    .innerJoin('files as f', 'f.version_id', 'v.id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select([
      'v.id as versionId',
      'v.activity_id as activityId',
      'v.version',
      'v.sort_key as sortKey',
      'v.sugar_min as sugarMin',
      'v.sugar_max as sugarMax',
      'v.sugar_range_origin as origin',
      'v.runtime',
      'v.release_notes as notes',
      'v.created_at as createdAt',
      'f.id as fileId',
      'f.file_name as fileName',
      'f.repo_path as repoPath',
      'f.size',
      'f.sha256',
      'f.status as fileStatus',
    ])
    .where('a.status', '<>', 'disabled')
    .where('f.status', 'in', EXPERIMENTAL_FILE_STATUSES)
    .where('v.activity_id', 'in', activityIds)
    .execute();
}

/** The texts (every locale and origin) of these activities. */
export function indexTexts(db: Db, activityIds: number[]): Promise<IxTextRow[]> {
  return db
    .selectFrom('activity_texts as t')
    .innerJoin('activities as a', 'a.id', 't.activity_id')
    .select(['t.activity_id as activityId', 't.locale', 't.origin', 't.name', 't.summary'])
    .where('a.status', '<>', 'disabled')
    .where('t.activity_id', 'in', activityIds)
    .execute();
}

// A full load reads every version and text of the catalog: as one JSON document per query
// (arrays, not objects: half the bytes), parsed by JSON.parse, rather than as rows. The embedded
// database decodes rows field by field in JavaScript, about four times slower than building
// and parsing the JSON (10,000 activities x 10 versions: 0.8 s instead of 3.2 s); on
// PostgreSQL it is one value on the wire instead of 100,000 rows. Same filters as load(ids).

// A full load reads in slices of activity ids (IdSlice: from..to, both included): one JSON
// document of a whole catalog's versions takes the embedded database about a second, during
// which it answers nothing else (it runs one statement at a time, on the process's own thread);
// a slice a fraction of that, so requests that arrive while a process loads its index at start
// are answered between two slices.

/** Activity ids from..to, both included. */
export interface IdSlice {
  from: number;
  to: number;
}

export async function allIndexActivities(db: Db): Promise<IxActivityRow[]> {
  const { rows } = await sql<{ doc: string }>`
    select coalesce(json_agg(json_build_array(id, bundle_id, kind, status) order by id), '[]')::text as doc
    from activities where status <> 'disabled'`.execute(db);
  const list = JSON.parse(rows[0]!.doc) as [number, string, 'activity' | 'content', string][];
  return list.map((t) => ({ id: t[0], bundle_id: t[1], kind: t[2], status: t[3] }));
}

export async function allIndexVersions(db: Db, slice: IdSlice): Promise<IxVersionRow[]> {
  const { rows } = await sql<{ doc: string }>`
    select coalesce(json_agg(json_build_array(
      v.id, v.activity_id, v.version, v.sort_key, v.sugar_min, v.sugar_max, v.sugar_range_origin, v.runtime,
      ${notesOrMark}, v.created_at, f.id, f.file_name, f.repo_path, f.size, f.sha256, f.status)), '[]')::text as doc
    from versions v
    join files f on f.version_id = v.id
    join activities a on a.id = v.activity_id
    where a.status <> 'disabled' and f.status in (${sql.join(EXPERIMENTAL_FILE_STATUSES)})
      and v.activity_id between ${slice.from} and ${slice.to}`.execute(db);
  const list = JSON.parse(rows[0]!.doc) as VersionTuple[];
  return list.map((t) => ({
    versionId: t[0],
    activityId: t[1],
    version: t[2],
    sortKey: t[3],
    sugarMin: t[4],
    sugarMax: t[5],
    origin: t[6],
    runtime: t[7],
    notes: t[8],
    createdAt: t[9],
    fileId: t[10],
    fileName: t[11],
    repoPath: t[12],
    size: t[13],
    sha256: t[14],
    fileStatus: t[15],
  }));
}

export async function allIndexTexts(db: Db, slice: IdSlice): Promise<IxTextRow[]> {
  const { rows } = await sql<{ doc: string }>`
    select coalesce(json_agg(json_build_array(t.activity_id, t.locale, t.origin, t.name, t.summary)), '[]')::text as doc
    from activity_texts t
    join activities a on a.id = t.activity_id
    where a.status <> 'disabled' and t.activity_id between ${slice.from} and ${slice.to}`.execute(db);
  const list = JSON.parse(rows[0]!.doc) as [number, string, 'bundle' | 'developer', string | null, string | null][];
  return list.map((t) => ({ activityId: t[0], locale: t[1], origin: t[2], name: t[3], summary: t[4] }));
}

/** Every change row (one per bundle id ever seen), as one JSON document like the full load. */
export async function allIndexChanges(db: Db): Promise<IxChange[]> {
  const { rows } = await sql<{ doc: string }>`
    select coalesce(json_agg(json_build_array(bundle_id, activity_id, changed_at, public_seen)), '[]')::text as doc
    from catalog_changes`.execute(db);
  const list = JSON.parse(rows[0]!.doc) as [string, number | null, string, boolean][];
  return list.map((t) => ({ bundleId: t[0], activityId: t[1], changedAt: new Date(t[2]), publicSeen: t[3] }));
}

/** The change rows of these bundle ids. */
export async function indexChanges(db: Db, bundleIds: string[]): Promise<IxChange[]> {
  const rows = await db
    .selectFrom('catalog_changes')
    .select(['bundle_id', 'activity_id', 'changed_at', 'public_seen'])
    .where('bundle_id', 'in', bundleIds)
    .execute();
  return rows.map((r) => ({
    bundleId: r.bundle_id,
    activityId: r.activity_id === null ? null : Number(r.activity_id),
    changedAt: r.changed_at instanceof Date ? r.changed_at : new Date(r.changed_at),
    publicSeen: r.public_seen,
  }));
}

/**
 * The release notes as far as the index cares (whether they say anything): notes with a visible
 * ASCII character certainly do and travel as one character; others (none, blank, or only
 * non-ASCII characters) travel whole, for the same trim() test as rows read one by one.
 */
const notesOrMark = sql`case when v.release_notes ~ '[!-~]' then '.' else v.release_notes end`;

type VersionTuple = [
  number,
  number,
  string,
  string,
  string | null,
  string | null,
  'uploader' | 'runtime',
  Runtime,
  string | null,
  string,
  number,
  string,
  string | null,
  number,
  string,
  FileStatus,
];

// The downloads domain's SQL: the repo tree's files, the redirector's in-memory index, download
// counts and their statistics (pattern: search/queries.ts).
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { MirrorRow } from '../platform/db/schema.js';

// --- repo tree ---------------------------------------------------------------------------------

/** Ids of every file of these activities. */
export async function fileIdsOfActivities(db: Db, activityIds: number[]) {
  return db.selectFrom('files as f').innerJoin('versions as v', 'v.id', 'f.version_id').select('f.id').where('v.activity_id', 'in', activityIds).execute();
}

/** A file with what its place in the repo tree depends on. */
export async function fileForRepo(db: Db, fileId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select([
      'f.id',
      'f.storage_key',
      'f.size',
      'f.sha256',
      'f.file_name',
      'f.status',
      'f.repo_path',
      'f.created_at',
      'v.activity_id',
      'a.status as activity_status',
    ])
    .where('f.id', '=', fileId)
    .executeTakeFirst();
}

/** Another file that holds this repo path. */
export async function otherFileAtRepoPath(db: Db, path: string, fileId: number) {
  return db.selectFrom('files').select('id').where('repo_path', '=', path).where('id', '!=', fileId).executeTakeFirst();
}

export async function setRepoPath(db: Db, fileId: number, path: string): Promise<void> {
  await db.updateTable('files').set({ repo_path: path, published_at: new Date() }).where('id', '=', fileId).execute();
}

/** The file leaves the tree: no repo path, and no mirror holds it any more. */
export async function clearRepoPath(db: Db, fileId: number): Promise<void> {
  await db.updateTable('files').set({ repo_path: null, published_at: null }).where('id', '=', fileId).execute();
  await db.deleteFrom('mirror_files').where('file_id', '=', fileId).execute();
}

/** Files that should be in the tree (public, of a public activity) or are. */
export async function filesForRepoCheck(db: Db) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select(['f.id', 'f.file_name', 'f.size', 'f.sha256', 'f.status', 'f.repo_path', 'v.activity_id', 'a.status as activity_status'])
    .where((eb) => eb.or([eb.and([eb('f.status', '=', 'public'), eb('a.status', '=', 'public')]), eb('f.repo_path', 'is not', null)]))
    .execute();
}

// --- the redirector's index --------------------------------------------------------------------

function indexFiles(db: Db) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select([
      'f.id',
      'f.size',
      'f.sha256',
      'f.sha1',
      'f.md5',
      'f.file_name',
      'f.repo_path',
      'f.storage_key',
      'f.created_at',
      'f.published_at',
      'f.piece_length',
      'f.piece_hashes',
      'f.status',
      'a.status as activity_status',
      'v.activity_id',
    ]);
}

/** These files as the index holds them. */
export async function indexFilesById(db: Db, ids: number[]) {
  return indexFiles(db).where('f.id', 'in', ids).execute();
}

/** Every file in the repo tree, or (with `since`) every file whose status or place changed since. */
export async function indexFilesSince(db: Db, since: Date | null) {
  let q = indexFiles(db);
  if (since) {
    q = q.where((eb) => eb.or([eb('f.status_changed_at', '>', since), eb('a.status_changed_at', '>', since), eb('f.published_at', '>', since)]));
  } else {
    q = q.where('f.repo_path', 'is not', null);
  }
  return q.execute();
}

export async function allMirrorRows(db: Db): Promise<MirrorRow[]> {
  return (await db.selectFrom('mirrors').selectAll().execute()) as MirrorRow[];
}

/** The files verified on these mirrors. */
export async function verifiedOnMirrors(db: Db, mirrorIds: number[]) {
  return db.selectFrom('mirror_files').select(['mirror_id', 'file_id']).where('mirror_id', 'in', mirrorIds).where('state', '=', 'verified').execute();
}

/** The mirrors these files are verified on. */
export async function verifiedForFiles(db: Db, fileIds: number[]) {
  return db.selectFrom('mirror_files').select(['mirror_id', 'file_id']).where('file_id', 'in', fileIds).where('state', '=', 'verified').execute();
}

/** Every verified (mirror, file) pair, or (with `since`) every pair whose state changed since. */
export async function mirrorFilesSince(db: Db, since: Date | null) {
  let q = db.selectFrom('mirror_files').select(['mirror_id', 'file_id', 'state']);
  if (since) q = q.where('updated_at', '>', since);
  else q = q.where('state', '=', 'verified');
  return q.execute();
}

/** The database's clock (the watermark of incremental reads). */
export async function databaseNow(db: Db): Promise<Date> {
  return (await sql<{ now: Date }>`select now() as now`.execute(db)).rows[0]!.now;
}

// --- counting ----------------------------------------------------------------------------------

/**
 * Add counts of one day (parallel arrays: file, mirror, count) to download_counts and to the
 * activities' totals, in one statement; files deleted meanwhile are skipped by the join.
 */
export async function addDownloadCounts(db: Db, day: string, fileIds: number[], mirrorIds: number[], ns: number[]): Promise<void> {
  await sql`
                with v as (
                  select u.file_id, u.mirror_id, u.n, ver.activity_id
                  from unnest(${fileIds}::bigint[], ${mirrorIds}::bigint[], ${ns}::bigint[]) as u (file_id, mirror_id, n)
                  join files f on f.id = u.file_id
                  join versions ver on ver.id = f.version_id
                ), counted as (
                  insert into download_counts (file_id, day, mirror_id, count)
                  select file_id, ${day}::date, mirror_id, n from v
                  on conflict (file_id, day, mirror_id) do update set count = download_counts.count + excluded.count
                )
                update activities a set download_count = a.download_count + t.n
                from (select activity_id, sum(n) as n from v group by activity_id) as t
                where a.id = t.activity_id
              `.execute(db);
}

// --- statistics --------------------------------------------------------------------------------

/** An activity by id or bundle id, with its all-time count. */
export async function activityForStats(db: Db, ref: { id: number } | { bundleId: string }) {
  const q = db.selectFrom('activities').select(['id', 'bundle_id', 'status', 'download_count']);
  return ('id' in ref ? q.where('id', '=', ref.id) : q.where('bundle_id', '=', ref.bundleId)).executeTakeFirst();
}

export async function mirrorNamesById(db: Db, ids: number[]) {
  return db.selectFrom('mirrors').select(['id', 'name']).where('id', 'in', ids).execute();
}

/** An activity's counts per day, file and mirror in a range of days, in that order. */
export async function activityCounts(db: Db, activityId: number, from: string, to: string) {
  return db
    .selectFrom('download_counts as dc')
    .innerJoin('files as f', 'f.id', 'dc.file_id')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .select(['dc.day', 'dc.file_id', 'dc.mirror_id', 'dc.count'])
    .where('v.activity_id', '=', activityId)
    .where('dc.day', '>=', from)
    .where('dc.day', '<=', to)
    .orderBy('dc.day')
    .orderBy('dc.file_id')
    .orderBy('dc.mirror_id')
    .execute();
}

/** An activity's files with their version, newest first. */
export async function activityFilesNewestFirst(db: Db, activityId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .select(['f.id', 'f.file_name', 'v.version', 'v.sort_key'])
    .where('v.activity_id', '=', activityId)
    .orderBy('v.sort_key', 'desc')
    .orderBy('f.id', 'desc')
    .execute();
}

/** The store's counts per day and mirror in a range of days. */
export async function countsPerDayAndMirror(db: Db, from: string, to: string) {
  return db
    .selectFrom('download_counts')
    .select(['day', 'mirror_id', (eb) => eb.fn.sum<number>('count').as('n')])
    .where('day', '>=', from)
    .where('day', '<=', to)
    .groupBy(['day', 'mirror_id'])
    .execute();
}

/** The most downloaded activities in a range of days. */
export async function topActivities(db: Db, from: string, to: string, limit: number) {
  return db
    .selectFrom('download_counts as dc')
    .innerJoin('files as f', 'f.id', 'dc.file_id')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select(['a.id', 'a.bundle_id', sql<number>`sum(dc.count)`.as('n')])
    .where('dc.day', '>=', from)
    .where('dc.day', '<=', to)
    .groupBy(['a.id', 'a.bundle_id'])
    .orderBy(sql`sum(dc.count)`, 'desc')
    .orderBy('a.id')
    .limit(limit)
    .execute();
}

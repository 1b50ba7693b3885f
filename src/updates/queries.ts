// SQL of the updater's HTTP side: release notes and the downloads experimental clients are sent
// to. Plain functions over the database handle; the access rules are UpdateService's.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';

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

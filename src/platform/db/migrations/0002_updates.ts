// The updater's change log and collection entry flags.
//
// catalog_changes: one row per bundle id, holding when its public face last changed (a version
// published or withdrawn, a status change, a text change). The JSON index diffs
// (index.json?since=...) read it; a row whose activity is gone is the tombstone that tells a
// school server to drop it. public_seen marks ids that were public at some point, so diffs never
// name activities that only ever lived in the sandbox.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table catalog_changes (
      bundle_id text primary key,
      activity_id bigint,
      changed_at timestamptz not null default clock_timestamp(),
      public_seen boolean not null default false
    );
    create index catalog_changes_changed_at_idx on catalog_changes (changed_at);

    insert into catalog_changes (bundle_id, activity_id, changed_at, public_seen)
    select a.bundle_id, a.id, greatest(a.updated_at, a.status_changed_at), a.status = 'public'
    from activities a;

    -- An entry a deployment offers but does not push: Sugar's microformat updater skips it in
    -- automatic updates (olpc-activity-optional).
    alter table collection_activities add column optional boolean not null default false;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table collection_activities drop column if exists optional;
    drop table if exists catalog_changes;
  `.execute(db);
}

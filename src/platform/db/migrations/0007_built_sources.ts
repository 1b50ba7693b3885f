// Bundles the store built from git (docs/building.md):
// - built_sources: one row per (repository, commit) the store built and ingested, with the tag
//   and the file it gave. It is the provenance the activity page shows ("Built from <repository>
//   at <tag> (<commit>)"), and what lets `aslo import-git` skip commits it built before.
//   A file without a row was uploaded by its developer.
// - activities.source_url: the git repository an activity's authors publish from (the hub's
//   source setting; https or, for deployments and tests, a local path).
// - hook_deliveries and activities.source_hook_secret: release webhooks from forges.
// - source_builds: each "check now" build of an activity's source, with its outcome and log.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table built_sources (
      id bigserial primary key,
      repository text not null,
      commit_sha text not null,
      tag text,
      builder text not null,
      committed_at timestamptz,
      file_id bigint references files (id) on delete cascade,
      activity_id bigint references activities (id) on delete cascade,
      created_at timestamptz not null default now()
    );
    create unique index built_sources_repository_commit_key on built_sources (repository, commit_sha);
    create index built_sources_file_idx on built_sources (file_id);
    create index built_sources_activity_idx on built_sources (activity_id);

    alter table activities add column source_url text;
    -- The secret of the activity's release webhooks (HMAC key, or GitLab's token).
    alter table activities add column source_hook_secret text;

    -- Webhook deliveries already taken (a delivery id, or the body's hash): a replay is refused.
    create table hook_deliveries (
      key text primary key,
      activity_id bigint references activities (id) on delete cascade,
      received_at timestamptz not null default now()
    );

    -- Builds from an activity's source asked on the hub ("check now"), run as jobs in the worker.
    create table source_builds (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      requested_by bigint references users (id) on delete set null,
      repository text not null,
      -- queued, running, done
      state text not null default 'queued',
      -- built, unchanged, refused (when done)
      outcome text,
      codes text[] not null default '{}',
      tag text,
      commit_sha text,
      version text,
      file_status text,
      log text not null default '',
      created_at timestamptz not null default now(),
      finished_at timestamptz
    );
    create index source_builds_activity_idx on source_builds (activity_id, id desc);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists source_builds;
    drop table if exists hook_deliveries;
    alter table activities drop column if exists source_hook_secret;
    alter table activities drop column if exists source_url;
    drop table if exists built_sources;
  `.execute(db);
}

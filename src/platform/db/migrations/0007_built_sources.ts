// Bundles the store built from git (docs/building.md):
// - built_sources: one row per (repository, commit) the store built and ingested, with the tag
//   and the file it gave. It is the provenance the activity page shows ("Built from <repository>
//   at <tag> (<commit>)"), and what lets `aslo import-git` skip commits it built before.
//   A file without a row was uploaded by its developer.
// - activities.source_url: the git repository an activity's authors publish from (the hub's
//   source setting; https or, for deployments and tests, a local path).
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
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table activities drop column if exists source_url;
    drop table if exists built_sources;
  `.execute(db);
}

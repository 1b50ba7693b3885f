// The download server and the mirror network: where each public file sits in the repo tree,
// the mirror registry with its health, which mirror was seen to hold the right bytes of which
// file, and a re-run flag that lets a job be asked to run again while it is running.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Set by the publish job once the file is in the repo tree (<activity id>/<file name>).
    alter table files add column repo_path text;
    alter table files add column published_at timestamptz;
    create unique index files_repo_path_key on files (repo_path) where repo_path is not null;

    -- A job enqueued again (same dedupe key) while it runs is run once more after it finishes.
    alter table jobs add column rerun boolean not null default false;

    create table mirrors (
      id bigserial primary key,
      name text not null unique check (name ~ '^[a-z0-9][a-z0-9.-]{0,62}$'),
      http_url text,
      https_url text,
      rsync_url text,
      operator text,
      contact text,
      -- ISO 3166-1 alpha-2 (upper case) and continent code (AF AN AS EU NA OC SA)
      country text check (country ~ '^[A-Z]{2}$'),
      continent text check (continent in ('AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA')),
      asn bigint,
      -- network prefixes (CIDR, IPv4 and IPv6) of the mirror's network
      prefixes text[] not null default '{}',
      latitude double precision,
      longitude double precision,
      weight integer not null default 100 check (weight >= 0),
      country_only boolean not null default false,
      continent_only boolean not null default false,
      as_only boolean not null default false,
      max_file_size bigint,
      enabled boolean not null default true,
      -- health per scheme: null = not checked yet
      http_ok boolean,
      https_ok boolean,
      http_checked_at timestamptz,
      https_checked_at timestamptz,
      http_error text,
      https_error text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (http_url is not null or https_url is not null)
    );

    -- Evidence per (mirror, file): a mirror is a candidate for a file only in state 'verified'.
    create table mirror_files (
      mirror_id bigint not null references mirrors (id) on delete cascade,
      file_id bigint not null references files (id) on delete cascade,
      state text not null check (state in ('pending', 'verified', 'failed')),
      attempts integer not null default 0,
      -- when the verifier looks next (null: nothing planned)
      next_check_at timestamptz,
      checked_at timestamptz,
      verified_at timestamptz,
      last_error text,
      updated_at timestamptz not null default now(),
      primary key (mirror_id, file_id)
    );
    create index mirror_files_due_idx on mirror_files (next_check_at) where next_check_at is not null;
    create index mirror_files_updated_idx on mirror_files (updated_at);
    create index mirror_files_file_idx on mirror_files (file_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists mirror_files, mirrors;
    alter table jobs drop column if exists rerun;
    drop index if exists files_repo_path_key;
    alter table files drop column if exists repo_path, drop column if exists published_at;
  `.execute(db);
}

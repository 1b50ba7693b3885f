// The core model of the whole store. Later migrations add columns and tables; this one is
// designed so they extend it (review statuses, mirrors, statistics, accounts are all here).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table users (
      id bigserial primary key,
      email text not null,
      display_name text not null,
      -- argon2id hash; legacy_hash keeps an imported md5/sha512 hash until the next login upgrades it
      password_hash text,
      legacy_hash text,
      role text not null default 'user' check (role in ('user', 'editor', 'admin')),
      email_verified_at timestamptz,
      locale text,
      homepage text,
      bio text,
      legacy_id integer unique,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      deleted_at timestamptz
    );
    create unique index users_email_key on users (lower(email)) where deleted_at is null;

    create table activities (
      id bigserial primary key,
      -- the permanent identity carried by every bundle and asked for by the updater
      bundle_id text not null unique,
      legacy_id integer unique,
      kind text not null check (kind in ('activity', 'content')),
      status text not null default 'sandbox' check (status in ('sandbox', 'nominated', 'public', 'disabled')),
      status_changed_at timestamptz not null default now(),
      trusted boolean not null default false,
      default_locale text not null default 'en',
      homepage_url text,
      support_url text,
      repository_url text,
      -- icon of the newest version, colours resolved for the web
      icon_svg text,
      download_count bigint not null default 0,
      average_daily_users integer not null default 0,
      rating_count integer not null default 0,
      rating_average numeric(4, 3),
      rating_bayesian numeric(4, 3),
      featured boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      -- when a version last became public (the "recently updated" order)
      last_published_at timestamptz
    );
    create index activities_status_idx on activities (status);

    create table activity_authors (
      activity_id bigint not null references activities (id) on delete cascade,
      user_id bigint not null references users (id) on delete cascade,
      role text not null check (role in ('owner', 'developer')),
      position integer not null default 0,
      created_at timestamptz not null default now(),
      primary key (activity_id, user_id)
    );
    create index activity_authors_user_idx on activity_authors (user_id);

    -- Localized name/summary/description. origin 'bundle' comes from activity.info and linfo
    -- files of the newest version; origin 'developer' is an override typed in the developer hub.
    create table activity_texts (
      activity_id bigint not null references activities (id) on delete cascade,
      locale text not null,
      origin text not null check (origin in ('bundle', 'developer')),
      name text,
      summary text,
      description text,
      updated_at timestamptz not null default now(),
      primary key (activity_id, locale, origin)
    );

    create table versions (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      -- as written in the bundle
      version text not null,
      -- trailing zeros and suffix dropped: two versions that Sugar sees as equal share it
      version_normalized text not null,
      -- byte-ordered key that sorts exactly like Sugar's NormalizedVersion
      sort_key text not null,
      release_notes text,
      sugar_min text,
      sugar_max text,
      sugar_min_key text,
      sugar_max_key text,
      -- 'uploader' when given explicitly, 'runtime' when derived from the runtime default table
      sugar_range_origin text not null default 'runtime',
      runtime text not null check (runtime in ('python2', 'python3', 'web', 'other')),
      exec text,
      licenses text[] not null default '{}',
      metadata jsonb not null,
      icon_svg text,
      uploaded_by bigint references users (id) on delete set null,
      legacy_id integer unique,
      created_at timestamptz not null default now(),
      unique (activity_id, version_normalized)
    );
    create index versions_activity_sort_idx on versions (activity_id, sort_key desc);

    create table files (
      id bigserial primary key,
      version_id bigint not null references versions (id) on delete cascade,
      sha256 text not null unique check (sha256 ~ '^[0-9a-f]{64}$'),
      size bigint not null,
      -- key in the content-addressed file store
      storage_key text not null,
      file_name text not null,
      status text not null default 'sandbox' check (status in ('sandbox', 'pending', 'public', 'disabled')),
      status_changed_at timestamptz not null default now(),
      -- SHA-256 of each piece_length slice, concatenated (32 bytes each): mirror checks and metalinks
      piece_length integer not null,
      piece_hashes bytea not null,
      sha1 text,
      md5 text,
      validation jsonb not null default '{}'::jsonb,
      legacy_id integer unique,
      created_at timestamptz not null default now()
    );
    create index files_version_idx on files (version_id);
    create index files_status_idx on files (status);

    create table categories (
      id bigserial primary key,
      slug text not null unique,
      position integer not null default 0,
      names jsonb not null default '{}'::jsonb
    );
    create table activity_categories (
      activity_id bigint not null references activities (id) on delete cascade,
      category_id bigint not null references categories (id) on delete cascade,
      primary key (activity_id, category_id)
    );

    create table tags (
      id bigserial primary key,
      slug text not null unique,
      name text not null
    );
    create table activity_tags (
      activity_id bigint not null references activities (id) on delete cascade,
      tag_id bigint not null references tags (id) on delete cascade,
      primary key (activity_id, tag_id)
    );
    create index activity_tags_tag_idx on activity_tags (tag_id);

    create table screenshots (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      position integer not null default 0,
      storage_key text not null,
      content_type text not null,
      width integer not null,
      height integer not null,
      captions jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now()
    );

    create table collections (
      id bigserial primary key,
      nickname text not null unique,
      name text not null,
      description text,
      names jsonb not null default '{}'::jsonb,
      owner_id bigint references users (id) on delete set null,
      listed boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create table collection_activities (
      collection_id bigint not null references collections (id) on delete cascade,
      activity_id bigint not null references activities (id) on delete cascade,
      -- a curated list may pin a version instead of following the newest public one
      pinned_version_id bigint references versions (id) on delete set null,
      position integer not null default 0,
      primary key (collection_id, activity_id)
    );

    create table reviews (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      user_id bigint not null references users (id) on delete cascade,
      version_id bigint references versions (id) on delete set null,
      rating smallint not null check (rating between 1 and 5),
      body text,
      reply_body text,
      reply_user_id bigint references users (id) on delete set null,
      replied_at timestamptz,
      flag_count integer not null default 0,
      hidden boolean not null default false,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (activity_id, user_id)
    );

    -- Append-only record of every state change and administrative action.
    create table audit_log (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor_user_id bigint references users (id) on delete set null,
      actor_label text,
      actor_address text,
      action text not null,
      target_type text not null,
      target_id text,
      reason text,
      details jsonb not null default '{}'::jsonb
    );
    create index audit_log_target_idx on audit_log (target_type, target_id);
    create index audit_log_at_idx on audit_log (at);

    -- Durable background jobs (publishing to the repo tree, mirror checks, rollups).
    create table jobs (
      id bigserial primary key,
      queue text not null,
      payload jsonb not null default '{}'::jsonb,
      dedupe_key text,
      run_at timestamptz not null default now(),
      attempts integer not null default 0,
      max_attempts integer not null default 20,
      locked_by text,
      locked_until timestamptz,
      last_error text,
      done_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index jobs_ready_idx on jobs (queue, run_at) where done_at is null;
    create unique index jobs_dedupe_idx on jobs (queue, dedupe_key) where done_at is null and dedupe_key is not null;

    -- Aggregates only: no addresses or device identifiers are stored.
    create table download_counts (
      file_id bigint not null references files (id) on delete cascade,
      day date not null,
      -- 0 = served by the origin; otherwise a mirror id
      mirror_id bigint not null default 0,
      count bigint not null default 0,
      primary key (file_id, day, mirror_id)
    );
    create table update_pings (
      activity_id bigint not null references activities (id) on delete cascade,
      day date not null,
      -- the even-rounded Sugar series the client sent ('' when none)
      app_series text not null default '',
      count bigint not null default 0,
      primary key (activity_id, day, app_series)
    );

    create table settings (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table if exists settings, update_pings, download_counts, jobs, audit_log, reviews,
      collection_activities, collections, screenshots, activity_tags, tags, activity_categories,
      categories, files, versions, activity_texts, activity_authors, activities, users cascade;
  `.execute(db);
}

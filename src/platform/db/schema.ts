// Row types of every table, as Kysely sees them. Keep in step with the migrations.
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type TimestampNullable = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T = unknown> = ColumnType<T, string | T, string | T>;
/** bigserial / bigint columns: node-postgres returns them as strings; we parse them to numbers. */
type Id = Generated<number>;

export type ActivityStatus = 'sandbox' | 'nominated' | 'public' | 'disabled';
export type FileStatus = 'sandbox' | 'pending' | 'public' | 'disabled';
export type Role = 'user' | 'editor' | 'admin';

export interface UsersTable {
  id: Id;
  email: string;
  display_name: string;
  password_hash: string | null;
  legacy_hash: string | null;
  role: Generated<Role>;
  email_verified_at: TimestampNullable;
  locale: string | null;
  homepage: string | null;
  bio: string | null;
  legacy_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: TimestampNullable;
}

export interface ActivitiesTable {
  id: Id;
  bundle_id: string;
  legacy_id: number | null;
  kind: 'activity' | 'content';
  status: Generated<ActivityStatus>;
  status_changed_at: Timestamp;
  trusted: Generated<boolean>;
  default_locale: Generated<string>;
  homepage_url: string | null;
  support_url: string | null;
  repository_url: string | null;
  icon_svg: string | null;
  download_count: ColumnType<number, number | undefined, number>;
  average_daily_users: Generated<number>;
  rating_count: Generated<number>;
  rating_average: ColumnType<number | null, number | null | undefined, number | null>;
  rating_bayesian: ColumnType<number | null, number | null | undefined, number | null>;
  featured: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_published_at: TimestampNullable;
  /** 0003: an editor asked an administrator to decide. */
  admin_review: Generated<boolean>;
  /** 0003: the authors' message when they nominated the activity. */
  nomination_message: string | null;
  /** 0007: the git repository the authors publish from (docs/building.md). */
  source_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0007: the secret of the activity's release webhooks. */
  source_hook_secret: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ActivityAuthorsTable {
  activity_id: number;
  user_id: number;
  role: 'owner' | 'developer';
  position: Generated<number>;
  created_at: Timestamp;
}

export interface ActivityTextsTable {
  activity_id: number;
  locale: string;
  origin: 'bundle' | 'developer';
  name: string | null;
  summary: string | null;
  description: string | null;
  updated_at: Timestamp;
}

export interface VersionsTable {
  id: Id;
  activity_id: number;
  version: string;
  version_normalized: string;
  sort_key: string;
  release_notes: string | null;
  sugar_min: string | null;
  sugar_max: string | null;
  sugar_min_key: string | null;
  sugar_max_key: string | null;
  sugar_range_origin: Generated<'uploader' | 'runtime'>;
  runtime: 'python2' | 'python3' | 'web' | 'other';
  exec: string | null;
  licenses: ColumnType<string[], string[] | undefined, string[]>;
  metadata: Json<Record<string, unknown>>;
  icon_svg: string | null;
  uploaded_by: number | null;
  legacy_id: number | null;
  created_at: Timestamp;
}

export interface FilesTable {
  id: Id;
  version_id: number;
  sha256: string;
  size: number;
  storage_key: string;
  file_name: string;
  status: Generated<FileStatus>;
  status_changed_at: Timestamp;
  piece_length: number;
  piece_hashes: Buffer | Uint8Array;
  sha1: string | null;
  md5: string | null;
  validation: Json<Record<string, unknown>>;
  legacy_id: number | null;
  created_at: Timestamp;
  /** 0003: an editor asked an administrator to decide. */
  admin_review: Generated<boolean>;
  /** 0005: path in the public repo tree (<activity id>/<file name>) once published there; null otherwise. */
  repo_path: ColumnType<string | null, string | null | undefined, string | null>;
  published_at: TimestampNullable;
}

export interface CategoriesTable {
  id: Id;
  slug: string;
  position: Generated<number>;
  names: Json<Record<string, string>>;
}

/** 0004: which bundle tags put an activity in a category (applied by a trigger on activity_tags). */
export interface CategoryTagsTable {
  category_id: number;
  tag_slug: string;
}

/** 0007: a commit the store built and ingested, and the file it gave (docs/building.md). */
export interface BuiltSourcesTable {
  id: Id;
  repository: string;
  commit_sha: string;
  tag: string | null;
  builder: string;
  committed_at: TimestampNullable;
  file_id: number | null;
  activity_id: number | null;
  created_at: Generated<Date>;
}

/** 0007: a build of an activity's source asked on the hub, run as a job. */
export interface SourceBuildsTable {
  id: Id;
  activity_id: number;
  requested_by: number | null;
  repository: string;
  state: ColumnType<'queued' | 'running' | 'done', 'queued' | 'running' | 'done' | undefined, 'queued' | 'running' | 'done'>;
  outcome: 'built' | 'unchanged' | 'refused' | null;
  codes: ColumnType<string[], string[] | undefined, string[]>;
  tag: string | null;
  commit_sha: string | null;
  version: string | null;
  file_status: string | null;
  log: ColumnType<string, string | undefined, string>;
  created_at: Generated<Date>;
  finished_at: TimestampNullable;
}

/** 0007: webhook deliveries taken (replays are refused). */
export interface HookDeliveriesTable {
  key: string;
  activity_id: number | null;
  received_at: Generated<Date>;
}

/** 0004: the full-text document of each activity (kept by triggers; src/search). */
export interface ActivitySearchTable {
  activity_id: number;
  doc: string;
}

/** 0004: every word of the documents, trigram-indexed for typo corrections. */
export interface SearchWordsTable {
  word: string;
}

export interface ActivityCategoriesTable {
  activity_id: number;
  category_id: number;
}

export interface TagsTable {
  id: Id;
  slug: string;
  name: string;
}

export interface ActivityTagsTable {
  activity_id: number;
  tag_id: number;
}

export interface ScreenshotsTable {
  id: Id;
  activity_id: number;
  position: Generated<number>;
  storage_key: string;
  content_type: string;
  width: number;
  height: number;
  captions: Json<Record<string, string>>;
  created_at: Timestamp;
}

export interface CollectionsTable {
  id: Id;
  nickname: string;
  name: string;
  description: string | null;
  names: Json<Record<string, string>>;
  owner_id: number | null;
  listed: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CollectionActivitiesTable {
  collection_id: number;
  activity_id: number;
  pinned_version_id: number | null;
  position: Generated<number>;
  optional: Generated<boolean>;
}

export interface CatalogChangesTable {
  bundle_id: string;
  activity_id: number | null;
  changed_at: Timestamp;
  public_seen: Generated<boolean>;
}

export interface ReviewsTable {
  id: Id;
  activity_id: number;
  user_id: number;
  version_id: number | null;
  rating: number;
  body: string | null;
  reply_body: string | null;
  reply_user_id: number | null;
  replied_at: TimestampNullable;
  flag_count: Generated<number>;
  hidden: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditLogTable {
  id: Id;
  at: Timestamp;
  actor_user_id: number | null;
  actor_label: string | null;
  actor_address: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  reason: string | null;
  details: Json<Record<string, unknown>>;
}

export interface JobsTable {
  id: Id;
  queue: string;
  payload: Json<Record<string, unknown>>;
  dedupe_key: string | null;
  run_at: Timestamp;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: TimestampNullable;
  last_error: string | null;
  done_at: TimestampNullable;
  created_at: Timestamp;
  /** 0005: enqueued again while running: run once more after this run. */
  rerun: Generated<boolean>;
}

// 0005: mirrors.
export type Continent = 'AF' | 'AN' | 'AS' | 'EU' | 'NA' | 'OC' | 'SA';

export interface MirrorsTable {
  id: Id;
  name: string;
  http_url: string | null;
  https_url: string | null;
  rsync_url: string | null;
  operator: string | null;
  contact: string | null;
  country: string | null;
  continent: Continent | null;
  asn: number | null;
  prefixes: ColumnType<string[], string[] | undefined, string[]>;
  latitude: number | null;
  longitude: number | null;
  weight: Generated<number>;
  country_only: Generated<boolean>;
  continent_only: Generated<boolean>;
  as_only: Generated<boolean>;
  max_file_size: number | null;
  enabled: Generated<boolean>;
  http_ok: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  https_ok: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
  http_checked_at: TimestampNullable;
  https_checked_at: TimestampNullable;
  http_error: string | null;
  https_error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export type MirrorFileState = 'pending' | 'verified' | 'failed';

export interface MirrorFilesTable {
  mirror_id: number;
  file_id: number;
  state: MirrorFileState;
  attempts: Generated<number>;
  next_check_at: TimestampNullable;
  checked_at: TimestampNullable;
  verified_at: TimestampNullable;
  last_error: string | null;
  updated_at: Timestamp;
}

export interface DownloadCountsTable {
  file_id: number;
  day: ColumnType<string, string, string>;
  mirror_id: Generated<number>;
  count: ColumnType<number, number, number>;
}

export interface UpdatePingsTable {
  activity_id: number;
  day: ColumnType<string, string, string>;
  app_series: Generated<string>;
  count: ColumnType<number, number, number>;
}

export interface SettingsTable {
  key: string;
  value: Json;
  updated_at: Timestamp;
}

// 0003: accounts and review.
export interface SessionsTable {
  id: string;
  user_id: number;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_seen_at: Timestamp;
  address: string | null;
  user_agent: string | null;
}

export type TokenScope = 'publish' | 'read' | 'review';

export interface ApiTokensTable {
  id: Id;
  user_id: number;
  name: string;
  token_hash: string;
  token_prefix: string;
  scopes: ColumnType<TokenScope[], TokenScope[], TokenScope[]>;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_used_at: TimestampNullable;
  revoked_at: TimestampNullable;
  revoked_reason: string | null;
}

export type EmailTokenPurpose = 'verify' | 'reset' | 'change_email';

export interface EmailTokensTable {
  token_hash: string;
  user_id: number;
  purpose: EmailTokenPurpose;
  new_email: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: TimestampNullable;
}

export type ReviewAction = 'nominate' | 'approve' | 'return' | 'escalate' | 'disable' | 'enable';

export interface ReviewHistoryTable {
  id: Id;
  activity_id: number;
  file_id: number | null;
  version: string | null;
  actor_user_id: number | null;
  action: ReviewAction;
  comment: string;
  from_status: string;
  to_status: string;
  created_at: Timestamp;
  /** The versions the decision named (null: none, or a decision recorded before they were kept). */
  versions: string[] | null;
}

/** Who has been an author of which activity, and when (kept by a trigger on activity_authors). */
export interface ActivityAuthorPeriodsTable {
  id: Id;
  activity_id: number;
  user_id: number;
  started_at: Timestamp;
  ended_at: TimestampNullable;
}

export interface ReviewFlagsTable {
  review_id: number;
  user_id: number;
  reason: string;
  message: string | null;
  created_at: Timestamp;
  resolved_at: TimestampNullable;
  resolved_by: number | null;
}

export interface AbuseReportsTable {
  id: Id;
  activity_id: number;
  reporter_user_id: number | null;
  reporter_address: string | null;
  reason: string;
  message: string;
  created_at: Timestamp;
  resolved_at: TimestampNullable;
  resolved_by: number | null;
  resolution: string | null;
}

export interface Database {
  users: UsersTable;
  activities: ActivitiesTable;
  activity_authors: ActivityAuthorsTable;
  activity_author_periods: ActivityAuthorPeriodsTable;
  activity_texts: ActivityTextsTable;
  versions: VersionsTable;
  files: FilesTable;
  categories: CategoriesTable;
  activity_categories: ActivityCategoriesTable;
  category_tags: CategoryTagsTable;
  activity_search: ActivitySearchTable;
  built_sources: BuiltSourcesTable;
  source_builds: SourceBuildsTable;
  hook_deliveries: HookDeliveriesTable;
  search_words: SearchWordsTable;
  tags: TagsTable;
  activity_tags: ActivityTagsTable;
  screenshots: ScreenshotsTable;
  collections: CollectionsTable;
  collection_activities: CollectionActivitiesTable;
  reviews: ReviewsTable;
  audit_log: AuditLogTable;
  jobs: JobsTable;
  download_counts: DownloadCountsTable;
  update_pings: UpdatePingsTable;
  settings: SettingsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  email_tokens: EmailTokensTable;
  review_history: ReviewHistoryTable;
  review_flags: ReviewFlagsTable;
  abuse_reports: AbuseReportsTable;
  catalog_changes: CatalogChangesTable;
  mirrors: MirrorsTable;
  mirror_files: MirrorFilesTable;
}

export type Activity = Selectable<ActivitiesTable>;
export type NewActivity = Insertable<ActivitiesTable>;
export type ActivityUpdate = Updateable<ActivitiesTable>;
export type Version = Selectable<VersionsTable>;
export type NewVersion = Insertable<VersionsTable>;
export type FileRow = Selectable<FilesTable>;
export type NewFile = Insertable<FilesTable>;
export type User = Selectable<UsersTable>;
export type MirrorRow = Selectable<MirrorsTable>;

// Accounts, the developer hub and the review workflow: sessions, API tokens, one-time e-mail
// tokens, the review history of activities and files, flags on user reviews, abuse reports, and
// the rule that the audit log is append-only (enforced by the database itself).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Browser sessions when no Redis is configured. id is the sha256 of the cookie's secret, so a
    -- copy of this table does not let anyone log in.
    create table sessions (
      id text primary key,
      user_id bigint not null references users (id) on delete cascade,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      last_seen_at timestamptz not null default now(),
      address text,
      user_agent text
    );
    create index sessions_user_idx on sessions (user_id);
    create index sessions_expires_idx on sessions (expires_at);

    -- Personal API tokens: shown once, stored as the sha256 of the token.
    create table api_tokens (
      id bigserial primary key,
      user_id bigint not null references users (id) on delete cascade,
      name text not null,
      token_hash text not null unique,
      -- the first characters of the token, to let its owner recognize it in a list
      token_prefix text not null,
      scopes text[] not null,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      last_used_at timestamptz,
      revoked_at timestamptz,
      revoked_reason text
    );
    create index api_tokens_user_idx on api_tokens (user_id);

    -- One-time links sent by mail: verify an address, reset a password, confirm a new address.
    create table email_tokens (
      token_hash text primary key,
      user_id bigint not null references users (id) on delete cascade,
      purpose text not null check (purpose in ('verify', 'reset', 'change_email')),
      new_email text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz
    );
    create index email_tokens_user_idx on email_tokens (user_id, purpose);

    -- An editor asked for an administrator's decision on a nominated activity or pending file.
    alter table activities add column admin_review boolean not null default false;
    alter table activities add column nomination_message text;
    alter table files add column admin_review boolean not null default false;

    -- Every review step of an activity or one of its files, shown to its authors.
    create table review_history (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      file_id bigint references files (id) on delete set null,
      version text,
      actor_user_id bigint references users (id) on delete set null,
      action text not null check (action in ('nominate', 'approve', 'return', 'escalate', 'disable', 'enable')),
      comment text not null,
      from_status text not null,
      to_status text not null,
      created_at timestamptz not null default now()
    );
    create index review_history_activity_idx on review_history (activity_id, created_at);

    -- Flags raised on user reviews (ratings), one per user per review, resolved by editors.
    create table review_flags (
      review_id bigint not null references reviews (id) on delete cascade,
      user_id bigint not null references users (id) on delete cascade,
      reason text not null,
      message text,
      created_at timestamptz not null default now(),
      resolved_at timestamptz,
      resolved_by bigint references users (id) on delete set null,
      primary key (review_id, user_id)
    );
    create index review_flags_open_idx on review_flags (created_at) where resolved_at is null;

    -- Abuse reports on activities, from anyone, to the administrators' queue.
    create table abuse_reports (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      reporter_user_id bigint references users (id) on delete set null,
      reporter_address text,
      reason text not null,
      message text not null,
      created_at timestamptz not null default now(),
      resolved_at timestamptz,
      resolved_by bigint references users (id) on delete set null,
      resolution text
    );
    create index abuse_reports_open_idx on abuse_reports (created_at) where resolved_at is null;

    create index audit_log_action_idx on audit_log (action, at);
    create index audit_log_actor_idx on audit_log (actor_user_id, at);

    -- The audit log is append-only: no UPDATE (except the foreign key clearing a removed user's
    -- id; the actor_label keeps who it was), no DELETE, no TRUNCATE.
    create function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' then
        if new.actor_user_id is null and old.actor_user_id is not null
           and new.id = old.id and new.at = old.at and new.action = old.action
           and new.target_type = old.target_type and new.target_id is not distinct from old.target_id
           and new.reason is not distinct from old.reason and new.details = old.details
           and new.actor_label is not distinct from old.actor_label
           and new.actor_address is not distinct from old.actor_address then
          return new;
        end if;
      end if;
      raise exception 'audit_log is append-only (% refused)', tg_op using errcode = 'P0001';
    end;
    $$;
    create trigger audit_log_no_update before update or delete on audit_log
      for each row execute function audit_log_append_only();
    create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_append_only();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger if exists audit_log_no_truncate on audit_log;
    drop trigger if exists audit_log_no_update on audit_log;
    drop function if exists audit_log_append_only();
    drop index if exists audit_log_actor_idx;
    drop index if exists audit_log_action_idx;
    drop table if exists abuse_reports, review_flags, review_history, email_tokens, api_tokens, sessions;
    alter table files drop column if exists admin_review;
    alter table activities drop column if exists nomination_message;
    alter table activities drop column if exists admin_review;
  `.execute(db);
}

// Reviews cover exactly what the editor reviewed (docs/accounts-and-review.md):
// - activity_author_periods: who has been an author of which activity, and when. An editor never
//   decides on an activity they were an author of at any time since the versions under review
//   were uploaded, so leaving the authors for the decision (and coming back after) does not
//   help. Kept by a trigger on activity_authors, so every path that changes the authors (the
//   hub, uploads, administrators' reassignments, account deletion, imports) records it.
// - review_history.versions: the versions a decision named, so the queue can tell the versions
//   no editor has decided on yet ("new") from the others.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table activity_author_periods (
      id bigserial primary key,
      activity_id bigint not null references activities (id) on delete cascade,
      user_id bigint not null references users (id) on delete cascade,
      started_at timestamptz not null default clock_timestamp(),
      -- null while the person is an author
      ended_at timestamptz
    );
    create index activity_author_periods_idx on activity_author_periods (activity_id, user_id);
    create unique index activity_author_periods_open_key on activity_author_periods (activity_id, user_id) where ended_at is null;

    create function activity_authors_track() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        update activity_author_periods set ended_at = clock_timestamp()
          where activity_id = old.activity_id and user_id = old.user_id and ended_at is null;
        return old;
      end if;
      if tg_op = 'UPDATE' then
        if new.activity_id = old.activity_id and new.user_id = old.user_id then
          return new;
        end if;
        update activity_author_periods set ended_at = clock_timestamp()
          where activity_id = old.activity_id and user_id = old.user_id and ended_at is null;
      end if;
      insert into activity_author_periods (activity_id, user_id, started_at)
        values (new.activity_id, new.user_id, clock_timestamp())
        on conflict (activity_id, user_id) where ended_at is null do nothing;
      return new;
    end;
    $$;
    create trigger activity_authors_track after insert or update or delete on activity_authors
      for each row execute function activity_authors_track();

    -- The authors of today, since they became authors.
    insert into activity_author_periods (activity_id, user_id, started_at, ended_at)
      select activity_id, user_id, created_at, null from activity_authors;
    -- Authors who left before this table existed, from the audit log: removed or left
    -- (author.remove), or replaced by an administrator's reassignment (activity.reassign).
    -- When they started is not recorded: the activity's creation stands for it.
    insert into activity_author_periods (activity_id, user_id, started_at, ended_at)
      select a.id, u.id, a.created_at, l.at
      from audit_log l
      join activities a on a.bundle_id = l.target_id
      join users u on u.id::text = l.details->>'user_id'
      where l.action = 'author.remove' and l.target_type = 'activity';
    insert into activity_author_periods (activity_id, user_id, started_at, ended_at)
      select a.id, u.id, a.created_at, l.at
      from audit_log l
      join activities a on a.bundle_id = l.target_id
      cross join lateral jsonb_array_elements(case when jsonb_typeof(l.details->'before') = 'array' then l.details->'before' else '[]'::jsonb end) b
      join users u on u.id::text = b->>'user_id'
      where l.action = 'activity.reassign' and l.target_type = 'activity'
        and l.details->>'replace' = 'true' and u.id::text is distinct from l.details->>'to';

    alter table review_history add column versions text[];
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table review_history drop column if exists versions;
    drop trigger if exists activity_authors_track on activity_authors;
    drop function if exists activity_authors_track();
    drop table if exists activity_author_periods;
  `.execute(db);
}

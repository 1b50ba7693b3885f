// Full-text search of the catalog (src/search/): one tsvector per activity over the names,
// tags, summaries and descriptions in every language (weights A, B, C, D), folded to lower case
// without accents (unaccent), with the 'simple' configuration: the texts are in many languages
// and a child's query may be in any of them, so no language's stemmer is applied; prefix
// matching covers most plural and conjugation endings. A dictionary of the words in the
// documents (search_words, trigram-indexed) lets the query correct small typos. Both are kept
// current by triggers, so every path that writes texts or tags (ingest, the hub's editors, the
// bench generator, imports) is searchable at once. Works the same on PGlite and PostgreSQL.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create extension if not exists pg_trgm;
    create extension if not exists unaccent;

    create table activity_search (
      activity_id bigint primary key references activities (id) on delete cascade,
      doc tsvector not null
    );
    create index activity_search_doc_idx on activity_search using gin (doc);

    create table search_words (
      word text primary key
    );
    create index search_words_trgm_idx on search_words using gin (word gin_trgm_ops);

    create function aslo_fold(t text) returns text language sql stable as $$
      select lower(unaccent(coalesce(t, '')))
    $$;

    create function aslo_search_refresh(ids bigint[]) returns void language sql as $$
      insert into activity_search (activity_id, doc)
      select a.id,
        setweight(to_tsvector('simple', aslo_fold((select string_agg(t.name, ' ') from activity_texts t where t.activity_id = a.id))), 'A') ||
        setweight(to_tsvector('simple', aslo_fold(
          coalesce((select string_agg(g.name || ' ' || g.slug, ' ') from activity_tags at join tags g on g.id = at.tag_id where at.activity_id = a.id), '')
          || ' ' || regexp_replace(a.bundle_id, '[._/-]+', ' ', 'g'))), 'B') ||
        setweight(to_tsvector('simple', aslo_fold((select string_agg(t.summary, ' ') from activity_texts t where t.activity_id = a.id))), 'C') ||
        setweight(to_tsvector('simple', aslo_fold(regexp_replace((select string_agg(t.description, ' ') from activity_texts t where t.activity_id = a.id), '<[^>]*>', ' ', 'g'))), 'D')
      from activities a where a.id = any(ids)
      on conflict (activity_id) do update set doc = excluded.doc;
      insert into search_words (word)
        select distinct w from activity_search s, unnest(tsvector_to_array(s.doc)) w
        where s.activity_id = any(ids) and length(w) between 3 and 40
      on conflict do nothing;
    $$;

    create function aslo_search_rows_changed() returns trigger language plpgsql as $$
    begin
      if TG_OP = 'DELETE' then
        perform aslo_search_refresh(array(select distinct activity_id from old_rows));
      else
        perform aslo_search_refresh(array(select distinct activity_id from new_rows));
      end if;
      return null;
    end $$;

    create function aslo_search_activities_added() returns trigger language plpgsql as $$
    begin
      perform aslo_search_refresh(array(select id from new_rows));
      return null;
    end $$;

    create trigger activity_texts_search_ins after insert on activity_texts
      referencing new table as new_rows for each statement execute function aslo_search_rows_changed();
    create trigger activity_texts_search_upd after update on activity_texts
      referencing new table as new_rows for each statement execute function aslo_search_rows_changed();
    create trigger activity_texts_search_del after delete on activity_texts
      referencing old table as old_rows for each statement execute function aslo_search_rows_changed();
    create trigger activity_tags_search_ins after insert on activity_tags
      referencing new table as new_rows for each statement execute function aslo_search_rows_changed();
    create trigger activity_tags_search_del after delete on activity_tags
      referencing old table as old_rows for each statement execute function aslo_search_rows_changed();
    create trigger activities_search_ins after insert on activities
      referencing new table as new_rows for each statement execute function aslo_search_activities_added();

    select aslo_search_refresh(array(select id from activities));
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger if exists activity_texts_search_ins on activity_texts;
    drop trigger if exists activity_texts_search_upd on activity_texts;
    drop trigger if exists activity_texts_search_del on activity_texts;
    drop trigger if exists activity_tags_search_ins on activity_tags;
    drop trigger if exists activity_tags_search_del on activity_tags;
    drop trigger if exists activities_search_ins on activities;
    drop function if exists aslo_search_rows_changed();
    drop function if exists aslo_search_activities_added();
    drop function if exists aslo_search_refresh(bigint[]);
    drop function if exists aslo_fold(text);
    drop table if exists search_words, activity_search;
  `.execute(db);
}

// The search domain's SQL: the only module of the domain that talks to the database.
//
// Query modules across the domains follow one pattern: plain exported functions whose first
// argument is the database handle (`Db`; a Kysely transaction is one too). The service that
// calls them decides whether they run inside a transaction by the handle it passes, so a query
// never opens or hides a transaction of its own, and reading a service shows every transaction
// boundary. Functions rather than a repository class because there is nothing to hold between
// calls: a class would only carry the handle, and would need a second instance per transaction.
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../platform/db/index.js';

/**
 * The words of `q`, folded like the documents (at most `maxWords`, numbered from 1), each with
 * up to `corrections` dictionary words most similar to it by trigrams (one row per correction;
 * a row with `word` null when there is none), in the order typed.
 */
export async function wordsWithCorrections(db: Db, q: string, maxWords: number, corrections: number): Promise<{ w: string; i: number; word: string | null }[]> {
  const rows = await sql<{ w: string; i: number; word: string | null }>`
    with q as (
      select w, i from unnest(regexp_split_to_array(aslo_fold(${q}), '[\\s[:punct:]]+')) with ordinality as x(w, i)
      where length(w) > 0 and i <= ${maxWords}
    )
    select q.w, q.i::int as i, c.word from q
    left join lateral (
      select word from search_words
      where length(q.w) >= 3 and word % q.w and word <> q.w
      order by similarity(word, q.w) desc, word
      limit ${corrections}
    ) c on true
    order by q.i`.execute(db);
  return rows.rows;
}

/** SQL: the activity ids whose document matches (`s.fuzzy` is the tsquery text). */
export function matchingIds(s: { fuzzy: string }): RawBuilder<number> {
  return sql<number>`(select activity_id from activity_search where doc @@ to_tsquery('simple', ${s.fuzzy}))`;
}

/** SQL: the rank of activity `a.id` (higher first). */
export function rankOf(s: { fuzzy: string; exact: string }): RawBuilder<number> {
  return sql<number>`(select ts_rank_cd(doc, to_tsquery('simple', ${s.fuzzy}), 1) + case when doc @@ to_tsquery('simple', ${s.exact}) then 1 else 0 end from activity_search where activity_id = a.id)`;
}

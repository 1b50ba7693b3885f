// Turning what a visitor typed into a full-text query (migration 0004_web_search explains the
// documents). Words are folded like the documents (lower case, no accents); each word matches
// as a prefix ("pend" finds "pendulum"), or as one of the three dictionary words most similar
// to it by trigrams ("pendlum", "contr", "estrelas" still find what was meant). Words are
// combined with AND. The ranking favours documents that match the words as typed, then the
// weights (name, tags, summary, description).
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../platform/db/index.js';

export interface SearchQuery {
  /** tsquery text (simple configuration) with typo corrections: what filters. */
  fuzzy: string;
  /** tsquery text of the words as typed: what ranks first. */
  exact: string;
}

const MAX_WORDS = 8;
const CORRECTIONS = 3;

function lexeme(word: string): string {
  // tsquery syntax: quote the lexeme; quotes and backslashes inside are doubled/escaped.
  return `'${word.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** Build the tsqueries for `q`, or null when it holds no word to look for. */
export async function buildSearchQuery(db: Db, q: string): Promise<SearchQuery | null> {
  const rows = await sql<{ w: string; i: number; word: string | null }>`
    with q as (
      select w, i from unnest(regexp_split_to_array(aslo_fold(${q}), '[\\s[:punct:]]+')) with ordinality as x(w, i)
      where length(w) > 0 and i <= ${MAX_WORDS}
    )
    select q.w, q.i::int as i, c.word from q
    left join lateral (
      select word from search_words
      where length(q.w) >= 3 and word % q.w and word <> q.w
      order by similarity(word, q.w) desc, word
      limit ${CORRECTIONS}
    ) c on true
    order by q.i`.execute(db);
  const words = new Map<number, { w: string; corrections: string[] }>();
  for (const r of rows.rows) {
    const w = r.w.replace(/[&|!():*<>'\\]/g, '');
    if (!w) continue;
    const entry = words.get(r.i) ?? { w, corrections: [] };
    if (r.word) entry.corrections.push(r.word);
    words.set(r.i, entry);
  }
  if (words.size === 0) return null;
  const list = [...words.values()];
  const exact = list.map((x) => `${lexeme(x.w)}:*`).join(' & ');
  const fuzzy = list.map((x) => `(${[`${lexeme(x.w)}:*`, ...x.corrections.map(lexeme)].join(' | ')})`).join(' & ');
  return { exact, fuzzy };
}

/** SQL: the activity ids whose document matches. */
export function matchingIds(s: SearchQuery): RawBuilder<number> {
  return sql<number>`(select activity_id from activity_search where doc @@ to_tsquery('simple', ${s.fuzzy}))`;
}

/** SQL: the rank of activity `a.id` (higher first). */
export function rankOf(s: SearchQuery): RawBuilder<number> {
  return sql<number>`(select ts_rank_cd(doc, to_tsquery('simple', ${s.fuzzy}), 1) + case when doc @@ to_tsquery('simple', ${s.exact}) then 1 else 0 end from activity_search where activity_id = a.id)`;
}

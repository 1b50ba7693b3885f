// Turning what a visitor typed into a full-text query (migration 0004_web_search explains the
// documents). Words are folded like the documents (lower case, no accents); each word matches
// as a prefix ("pend" finds "pendulum"), or as one of the three dictionary words most similar
// to it by trigrams ("pendlum", "contr", "estrelas" still find what was meant). Words are
// combined with AND. The ranking favours documents that match the words as typed, then the
// weights (name, tags, summary, description).
import type { Db } from '../platform/db/index.js';
import { wordsWithCorrections } from './queries.js';

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
  const rows = await wordsWithCorrections(db, q, MAX_WORDS, CORRECTIONS);
  const words = new Map<number, { w: string; corrections: string[] }>();
  for (const r of rows) {
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

// The SQL fragments the catalog's listing embeds live with the other search SQL.
export { matchingIds, rankOf } from './queries.js';

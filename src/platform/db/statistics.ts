// Planner statistics of the embedded database. PGlite runs no autovacuum, so nothing else
// gathers them: without them a listing after a bulk load (samples, an import, dev generate) may
// hash-join whole tables. Analyzing every table costs seconds on a big catalog, so a start
// analyzes only the tables whose statistics are missing or out of date.
import { sql } from 'kysely';
import type { Db } from './index.js';

/**
 * The tables of the schema whose statistics need gathering: never analyzed (reltuples -1), or
 * whose size on disk moved by more than a tenth since they were (pg_class.relpages is the size
 * the last analyze saw). PGlite keeps no activity counters across restarts (pg_stat_* start at
 * zero), so the size on disk is the evidence that survives: a bulk load or an import grows it.
 */
export async function tablesNeedingStatistics(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select c.relname as name
    from pg_class c
    where c.relkind = 'r' and c.relnamespace = current_schema()::regnamespace
      and (c.reltuples < 0
        or abs(pg_relation_size(c.oid) / current_setting('block_size')::int - c.relpages) > c.relpages / 10)
    order by c.relname`.execute(db);
  return rows.map((r) => r.name);
}

/** Analyze these tables (null: every table). */
export async function analyzeTables(db: Db, tables: string[] | null): Promise<void> {
  if (tables === null) await sql`analyze`.execute(db);
  else for (const table of tables) await sql`analyze ${sql.table(table)}`.execute(db);
}

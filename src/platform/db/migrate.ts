// Versioned migrations, applied in name order by `aslo migrate` and at start. The list is
// static (not read from the folder at run time) so bundlers and type checks see every one.
import { Migrator, sql, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Db } from './index.js';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_updates.js';
import * as m0003 from './migrations/0003_accounts_review.js';
import * as m0004c from './migrations/0004_web_categories.js';
import * as m0004s from './migrations/0004_web_search.js';
import * as m0004i from './migrations/0004_web_listing_indexes.js';
import * as m0005 from './migrations/0005_downloads_mirrors.js';
import * as m0006r from './migrations/0006_review_authorship.js';
import * as m0007b from './migrations/0007_built_sources.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_updates': m0002,
  '0003_accounts_review': m0003,
  '0004_web_categories': m0004c,
  '0004_web_search': m0004s,
  '0004_web_listing_indexes': m0004i,
  '0005_downloads_mirrors': m0005,
  '0006_review_authorship': m0006r,
  '0007_built_sources': m0007b,
};

class StaticProvider implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration> = MIGRATIONS) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export function migrator(db: Db, migrations?: Record<string, Migration>): Migrator {
  return new Migrator({
    db,
    provider: new StaticProvider(migrations),
    migrationTableName: 'aslo_migrations',
    migrationLockTableName: 'aslo_migrations_lock',
    allowUnorderedMigrations: true,
  });
}

export interface MigrateReport {
  applied: string[];
  pending: string[];
}

/** Told before the first pending migration (done 0, no name) and after each one is applied. */
export type MigrationProgress = (done: number, total: number, name: string) => void;

export async function migrateToLatest(db: Db, onApplied?: MigrationProgress): Promise<MigrateReport> {
  // Nearly every start finds every migration applied: two plain reads say so, where the
  // migrator takes its lock table and a transaction (a third of a second on the embedded database).
  if (await allApplied(db)) return { applied: [], pending: [] };
  let migrations = MIGRATIONS;
  if (onApplied) {
    // A first start applies every migration, which takes a while: say so as each one is done.
    const pending = (await migrator(db).getMigrations()).filter((m) => !m.executedAt).map((m) => m.name);
    let done = 0;
    if (pending.length > 0) onApplied(0, pending.length, '');
    migrations = Object.fromEntries(
      Object.entries(MIGRATIONS).map(([name, m]) => [
        name,
        {
          ...m,
          up: async (trx: Parameters<Migration['up']>[0]) => {
            await m.up(trx);
            onApplied(++done, pending.length, name);
          },
        },
      ]),
    );
  }
  const result: MigrationResultSet = await migrator(db, migrations).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const msg = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`Migration ${failed?.migrationName ?? ''} failed: ${msg}`);
  }
  return { applied: (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), pending: [] };
}

/** The names of the applied migrations, read straight from their table (no migration lock taken). */
export async function appliedMigrationNames(db: Db): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from aslo_migrations`.execute(db);
  return rows.rows.map((r) => r.name);
}

/** Whether the applied migrations are exactly this build's (anything else goes to the migrator). */
async function allApplied(db: Db): Promise<boolean> {
  const table = await sql<{ present: boolean }>`select to_regclass('aslo_migrations') is not null as present`.execute(db);
  if (!table.rows[0]?.present) return false;
  const names = new Set(await appliedMigrationNames(db));
  return names.size === Object.keys(MIGRATIONS).length && Object.keys(MIGRATIONS).every((n) => names.has(n));
}

export async function migrationStatus(db: Db): Promise<{ name: string; executedAt: Date | undefined }[]> {
  const list = await migrator(db).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt }));
}

// Shared by the benchmarks that need a big catalog: `aslo dev generate`'s rows (no files on disk:
// the benchmarks never open them), with progress on stderr.
import { sql } from 'kysely';
import { generateCatalog } from '../../tools/catalog-generator/generate.js';
import { loadConfig } from '../../src/platform/config.js';
import { createContext, type AppContext } from '../../src/platform/context.js';
import { log } from './report.js';

/** Generates `activities` x `versions` (rows only) into the instance, logging progress every 5 s. */
export async function generateRows(ctx: AppContext, opts: { activities: number; versions: number; seed: number }): Promise<void> {
  let last = 0;
  await generateCatalog(ctx, {
    activities: opts.activities,
    versions: opts.versions,
    seed: opts.seed,
    files: false,
    onProgress: (done, total) => {
      if (Date.now() - last > 5000) {
        last = Date.now();
        log(`  generating ${done}/${total}`);
      }
    },
  });
}

/**
 * The public bundle ids of instance `bench` in `dataDir` (`env`: its configuration, e.g. the
 * database URL); when it has fewer than `activities`, generates the catalog first (a kept data
 * folder is reused). `analyze`: gather planner statistics after generating, as PostgreSQL's
 * autovacuum would (PGlite runs no autovacuum).
 */
export async function prepareCatalog(
  dataDir: string,
  env: Record<string, string>,
  opts: { activities: number; versions: number; seed: number; analyze: boolean },
): Promise<string[]> {
  const config = loadConfig({ dataDir, instance: 'bench', env, writeDefaults: true });
  const ctx = await createContext(config, { migrate: true });
  try {
    const publicIds = async () => (await ctx.db.selectFrom('activities').select('bundle_id').where('status', '=', 'public').execute()).map((r) => r.bundle_id);
    let ids = await publicIds();
    if (ids.length < opts.activities) {
      const started = Date.now();
      await generateRows(ctx, opts);
      log(`  generated ${opts.activities} x ${opts.versions} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      if (opts.analyze) await sql`analyze`.execute(ctx.db);
      ids = await publicIds();
    }
    return ids;
  } finally {
    await ctx.close();
  }
}

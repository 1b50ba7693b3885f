import { Command } from 'commander';
import { runsThroughStore, say, withCommon, withContext } from '../common.js';
import { migrateToLatest, migrationStatus } from '../../platform/db/migrate.js';

export function registerMigrate(program: Command): void {
  // Applying migrations needs the database alone; listing them (--status) works through a store.
  runsThroughStore(withCommon(program.command('migrate')), (cmd) => ((cmd.opts() as { status?: boolean }).status ? 'store' : 'alone'))
    .description('apply pending database migrations (or list them with --status)')
    .option('--status', 'list migrations and whether each is applied, change nothing')
    .action(async (opts: { status?: boolean }, cmd: Command) => {
      await withContext(
        cmd,
        async (ctx) => {
          if (opts.status) {
            for (const m of await migrationStatus(ctx.db))
              say(`${m.executedAt ? 'applied' : 'pending'}  ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : ''}`);
            return;
          }
          const { applied } = await migrateToLatest(ctx.db);
          say(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date.');
        },
        { migrate: false },
      );
    });
}

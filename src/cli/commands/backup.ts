import { Command } from 'commander';
import { join } from 'node:path';
import { absPath, runsThroughStore, say, warn, withCommon, withContext } from '../common.js';
import { backup } from '../../platform/backup/index.js';

export function registerBackup(program: Command): void {
  runsThroughStore(withCommon(program.command('backup')))
    .description('back up the instance: a consistent database snapshot plus the file stores, with a manifest of every file hash')
    .option('--out <dir>', 'new folder to write (default: <data>/backups/<instance>-<time>)')
    .action(async (opts: { out?: string }, cmd: Command) => {
      await withContext(
        cmd,
        async (ctx) => {
          const stamp = new Date().toISOString().replace(/[:.]/g, '-');
          const out = absPath(opts.out ?? join(ctx.config.dataDir, 'backups', `${ctx.config.instance}-${stamp}`));
          say(`Backing up instance "${ctx.config.instance}" to ${out}`);
          const started = Date.now();
          const m = await backup(ctx, out, (msg) => warn(`  ${msg}`));
          const rows = m.database.tables.reduce((a, t) => a + t.rows, 0);
          const bytes = m.files.reduce((a, f) => a + f.size, 0);
          say(
            `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${m.database.tables.length} tables, ${rows} rows, ${m.files.length} files (${(bytes / 1048576).toFixed(1)} MiB).`,
          );
          say(`Restore with: aslo --instance NAME restore ${out}`);
        },
        { migrate: false },
      );
    });
}

import { Command } from 'commander';
import { absPath, runsAlone, say, warn, withCommon, withContext } from '../common.js';
import { restore } from '../../platform/backup/index.js';

export function registerRestore(program: Command): void {
  runsAlone(withCommon(program.command('restore')))
    .description('replace the instance\'s database and file stores with a backup made by "aslo backup" (every file checked first)')
    .argument('<dir>', 'the backup folder')
    .option('--force', 'replace an instance that already has activities or users')
    .action(async (dir: string, opts: { force?: boolean }, cmd: Command) => {
      await withContext(
        cmd,
        async (ctx) => {
          const from = absPath(dir);
          say(`Restoring ${from} into instance "${ctx.config.instance}"`);
          const started = Date.now();
          const r = await restore(ctx, from, { force: opts.force }, (msg) => warn(`  ${msg}`));
          const rows = [...r.tables.values()].reduce((a, n) => a + n, 0);
          say(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.tables.size} tables, ${rows} rows, ${r.files} files.`);
        },
        { migrate: true },
      );
    });
}

// `aslo repo`: the public repo tree that mirrors rsync from (src/downloads/repo.ts).
import { Command } from 'commander';
import { EXIT_FAILED, runsThroughStore, say, setExitCode, withCommon, withContext } from '../common.js';
import { verifyRepo } from '../../downloads/repo.js';
import { createDownloadWorker } from '../../downloads/worker.js';

export function registerRepo(program: Command): void {
  const repo = withCommon(program.command('repo')).description('the public repo tree that mirrors copy with rsync');

  runsThroughStore(withCommon(repo.command('verify')))
    .description('compare the repo tree with the database and report every difference (exit 1 when there is one)')
    .option('--fix', 'repair every difference: publish missing files, remove what does not belong')
    .option('--deep', 'also compare the sha256 of every file (reads the whole tree)')
    .option('--json', 'print JSON')
    .action(async (opts: { fix?: boolean; deep?: boolean; json?: boolean }, cmd: Command) => {
      const status = await withContext(cmd, async (ctx) => {
        // Repairs go through the same hooks as the publish job: mirrors re-verify what was rewritten.
        const { hooks } = createDownloadWorker(ctx);
        const report = await verifyRepo(ctx, { fix: opts.fix, deep: opts.deep, hooks });
        if (opts.json) {
          say(JSON.stringify({ ...report, repo: ctx.config.storage.repoDir }, null, 2));
        } else {
          say(
            `repo tree ${ctx.config.storage.repoDir}: ${report.expected} public files expected, ${report.checked} found${opts.deep ? ' (hashes compared)' : ''}`,
          );
          for (const p of report.problems) say(`  ${p.kind.padEnd(12)} ${p.path}${p.fileId ? ` (file ${p.fileId})` : ''}: ${p.detail}`);
          if (report.problems.length === 0) say('  no difference');
          else if (opts.fix) say(`  repaired ${report.fixed} difference${report.fixed === 1 ? '' : 's'}`);
          else say(`  ${report.problems.length} difference${report.problems.length === 1 ? '' : 's'}: run "aslo repo verify --fix" to repair`);
        }
        return report.problems.length > 0 && !opts.fix ? EXIT_FAILED : 0;
      });
      if (status) setExitCode(status);
    });
}

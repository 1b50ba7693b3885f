import { Command } from 'commander';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { EXIT_FAILED, EXIT_OK, UsageError, absPath, cliErr, runsThroughStore, say, setExitCode, withCommon, withServices } from '../common.js';
import type { IngestResult } from '../../catalog/ingest.js';

/** Every .xo/.xol file under the given files and folders, in a stable order. */
export function collectBundles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) walk(join(p, name));
    } else if (/\.(xo|xol)$/i.test(p)) {
      out.push(p);
    }
  };
  for (const given of paths) {
    const p = absPath(given);
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`${given}: no such file or folder`);
    }
    if (st.isFile()) out.push(p);
    else walk(p);
  }
  return out;
}

export function registerImport(program: Command): void {
  runsThroughStore(withCommon(program.command('import')))
    .description('import .xo/.xol bundles (files or folders) into the catalog')
    .argument('<paths...>', 'bundle files or folders holding them')
    .option('--status <status>', 'status of imported activities: sandbox (default) or public (administrators migrating a catalog)', 'sandbox')
    .option('--sugar-min <version>', 'lowest Sugar version the imported versions support (default: from the runtime)')
    .option('--sugar-max <version>', 'highest Sugar version the imported versions support')
    .action(async (paths: string[], opts: { status: string; sugarMin?: string; sugarMax?: string }, cmd: Command) => {
      if (opts.status !== 'sandbox' && opts.status !== 'public') throw new UsageError('--status must be sandbox or public');
      const files = collectBundles(paths);
      if (files.length === 0) throw new UsageError('no .xo or .xol files found in the given paths');
      await withServices(cmd, async ({ catalog }) => {
        const bar = new cliProgress.SingleBar(
          { format: 'importing [{bar}] {value}/{total} {file}', noTTYOutput: false, stream: cliErr(), hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(files.length, 0, { file: '' });
        const results: { file: string; result: IngestResult }[] = [];
        for (const file of files) {
          bar.update({ file: file.split('/').pop() });
          const result = await catalog.ingest.ingestPath(file, {
            status: opts.status as 'sandbox' | 'public',
            actorLabel: 'cli:import',
            sugarMin: opts.sugarMin,
            sugarMax: opts.sugarMax,
          });
          results.push({ file, result });
          bar.increment();
          if (!(cliErr() as { isTTY?: boolean }).isTTY && results.length % 50 === 0) cliErr().write(`imported ${results.length}/${files.length}\n`);
        }
        bar.stop();
        const by = (o: string) => results.filter((r) => r.result.outcome === o);
        const imported = by('imported');
        const unchanged = by('unchanged');
        const rejected = by('rejected');
        for (const r of imported) say(`imported   ${r.result.bundleId} ${r.result.version} (${r.result.fileStatus})  ${r.file}`);
        for (const r of unchanged) say(`unchanged  ${r.result.bundleId} ${r.result.version}  ${r.file}`);
        for (const r of rejected) {
          say(`rejected   ${r.file}`);
          for (const e of r.result.errors) say(`    ${e.code}: ${e.message}${e.file ? ` (${e.file}${e.line ? `:${e.line}` : ''})` : ''}`);
        }
        say(`Summary: ${imported.length} imported, ${unchanged.length} unchanged, ${rejected.length} rejected (of ${files.length}).`);
        setExitCode(rejected.length > 0 ? EXIT_FAILED : EXIT_OK);
      });
    });
}

// `aslo dev generate`: a synthetic catalog of realistic size (see generate.ts beside this file).
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { DEFAULT_LOCALES, DEFAULT_SEED, MAX_LOCALES, generateCatalog, generatedPrefix } from './generate.js';
import { UsageError, runsAlone, say, withCommon, withContext } from '../../src/cli/common.js';

function wholeNumber(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
    }
    return n;
  };
}

function duration(ms: number): string {
  const s = ms / 1000;
  return s < 90 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function registerGenerate(dev: Command): void {
  runsAlone(withCommon(dev.command('generate')))
    .description(
      'fill the catalog with a synthetic, realistic catalog for benchmarks: public activities under ' +
        'org.example.generated.s<seed>., many locales, realistic version strings, one small real .xo per version',
    )
    .requiredOption('--activities <n>', 'number of activities', wholeNumber('--activities', 1, 10_000_000))
    .requiredOption('--versions <m>', 'versions per activity', wholeNumber('--versions', 1, 1000))
    .option('--seed <s>', `seed: the same seed and counts give the same catalog (default ${DEFAULT_SEED})`, wholeNumber('--seed', 0, 2 ** 31 - 1))
    .option('--locales <k>', `most translations per activity (default ${DEFAULT_LOCALES}, at most ${MAX_LOCALES})`, wholeNumber('--locales', 0, MAX_LOCALES))
    .option('--no-files', 'write rows only, no bundle files (faster; downloads of these files fail)')
    .option('--replace', 'delete what an earlier run with the same seed generated, then generate again')
    .action(async (opts: { activities: number; versions: number; seed?: number; locales?: number; files: boolean; replace?: boolean }, cmd: Command) => {
      const seed = opts.seed ?? DEFAULT_SEED;
      await withContext(cmd, async (ctx) => {
        const where = ctx.database.kind === 'pglite' ? `embedded database ${ctx.database.location}` : `PostgreSQL ${ctx.database.location}`;
        process.stderr.write(`Generating ${opts.activities} activities x ${opts.versions} versions (seed ${seed}) into ${where}\n`);
        const bar = new cliProgress.SingleBar(
          {
            format: 'generating [{bar}] {value}/{total} activities | {duration_formatted} elapsed, eta {eta_formatted}',
            stream: process.stderr,
            hideCursor: true,
            etaBuffer: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        const started = Date.now();
        let lastLine = 0;
        const result = await generateCatalog(ctx, {
          activities: opts.activities,
          versions: opts.versions,
          seed,
          locales: opts.locales,
          files: opts.files,
          replace: opts.replace,
          onProgress: (done, total) => {
            if (done === 0) bar.start(total, 0);
            else bar.update(done);
            // Without a terminal the bar prints nothing: a line every 10 seconds instead.
            if (!process.stderr.isTTY && (Date.now() - lastLine > 10_000 || done === total)) {
              lastLine = Date.now();
              process.stderr.write(`generated ${done}/${total} activities\n`);
            }
          },
        });
        bar.stop();
        const ms = Date.now() - started;
        say(`Generated ${result.activities} activities, ${result.versions} versions and ${result.files} files in ${duration(ms)} (seed ${seed}).`);
        say(
          `Bundle ids start with ${generatedPrefix(seed)}; ${opts.files ? `bundles are in ${ctx.config.storage.filesDir}` : 'no bundle files were written (--no-files)'}.`,
        );
      });
    });
}

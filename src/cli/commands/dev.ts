import { Command } from 'commander';
import { runsThroughStore, say, withCommon, withContext } from '../common.js';
import { loadSampleContent } from '../../build/samples.js';
import { registerOutbox } from './outbox.js';

/**
 * `aslo dev`: the development helpers. `generate` is a development tool that lives outside the
 * store's code (tools/catalog-generator/): its registration is handed in by the command table
 * (src/cli/main.ts), which loads it only for `aslo dev`.
 */
export function registerDev(program: Command, registerGenerate: (dev: Command) => void): void {
  const dev = withCommon(program.command('dev')).description('development helpers: sample content, synthetic catalogs');

  runsThroughStore(withCommon(dev.command('sample')))
    .description('load the sample activities into the catalog (already-present ones are left as they are)')
    .action(async (_opts: unknown, cmd: Command) => {
      await withContext(cmd, async (ctx) => {
        const n = await loadSampleContent(ctx);
        say(`Loaded ${n} sample activities.`);
      });
    });

  registerGenerate(dev);
  registerOutbox(dev);
}

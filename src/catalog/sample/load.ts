// Loads the sample activities into an empty catalog (the first `npm start`), through the same
// ingest path as every upload, with a screenshot each.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../../platform/context.js';
import { IngestService } from '../ingest.js';
import { SAMPLE_ACTIVITIES } from './activities.js';
import { buildAllSamples } from './build.js';
import { AsloError } from '../../platform/errors.js';
import { addSampleScreenshots } from './screenshots.js';

export async function loadSampleContentIfEmpty(ctx: AppContext): Promise<number> {
  const any = await ctx.db.selectFrom('activities').select('id').limit(1).executeTakeFirst();
  if (any) return 0;
  return loadSampleContent(ctx);
}

export async function loadSampleContent(ctx: AppContext): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'aslo-samples-'));
  try {
    const ingest = new IngestService(ctx);
    const built = await buildAllSamples(SAMPLE_ACTIVITIES, dir);
    const ids = new Set<string>();
    for (const b of built) {
      const res = await ingest.ingestPath(b.path, { status: 'public', actorLabel: 'sample-content', releaseNotes: b.version.releaseNotes ?? null });
      if (res.outcome === 'rejected') {
        throw new AsloError('SAMPLE_REJECTED', `Sample bundle ${b.path} was rejected: ${res.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
      }
      ids.add(b.activity.bundleId);
    }
    // A screenshot each, drawn and rendered here (src/catalog/sample/screenshots.ts).
    await addSampleScreenshots(ctx, ids);
    return ids.size;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

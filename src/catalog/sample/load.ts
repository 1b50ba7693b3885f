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
import { anyActivity } from '../queries.js';

/** Told what loading the samples is doing (a first start prints it): one short line per step. */
export type SampleProgress = (step: string) => void;

export async function loadSampleContentIfEmpty(ctx: AppContext, progress?: SampleProgress): Promise<number> {
  if (await anyActivity(ctx.db)) return 0;
  return loadSampleContent(ctx, progress);
}

export async function loadSampleContent(ctx: AppContext, progress?: SampleProgress): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'aslo-samples-'));
  try {
    const ingest = new IngestService(ctx);
    const built = await buildAllSamples(SAMPLE_ACTIVITIES, dir);
    const ids = new Set<string>();
    for (const [i, b] of built.entries()) {
      progress?.(`adding sample bundle ${i + 1}/${built.length}: ${b.activity.name} ${b.version.version}`);
      const res = await ingest.ingestPath(b.path, { status: 'public', actorLabel: 'sample-content', releaseNotes: b.version.releaseNotes ?? null });
      if (res.outcome === 'rejected') {
        throw new AsloError('SAMPLE_REJECTED', `Sample bundle ${b.path} was rejected: ${res.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
      }
      ids.add(b.activity.bundleId);
    }
    // A screenshot each, drawn and rendered here (src/catalog/sample/screenshots.ts).
    progress?.(`rendering ${ids.size} sample screenshots`);
    await addSampleScreenshots(ctx, ids);
    return ids.size;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Removing what crashes leave in the file store: temporary upload files (files/tmp/*.part, up to
// the upload limit each) of writes that never finished. Run at every start (`aslo serve`, any role)
// and by the worker as a recurring job, so a store that runs for months never fills its disk with
// them. What counts as a leftover, and why a file an upload is still writing never does:
// src/platform/storage/file-store.ts.
import type { JobRunner } from '../jobs/index.js';
import type { FileStore, SweepResult } from './file-store.js';

/** The recurring job's queue (one run at a time across every worker process). */
export const TEMP_SWEEP_QUEUE = 'storage.sweep-temporary';
/** Every 10 minutes: a leftover is gone at most this long after it has become one. */
export const TEMP_SWEEP_EVERY_SECONDS = 600;

export function describeSweep(r: SweepResult): string {
  const size =
    r.bytes >= 1024 ** 3 ? `${(r.bytes / 1024 ** 3).toFixed(1)} GiB` : r.bytes >= 1024 ** 2 ? `${(r.bytes / 1024 ** 2).toFixed(1)} MiB` : `${r.bytes} bytes`;
  return `${r.removed} temporary file${r.removed === 1 ? '' : 's'} (${size}) left by interrupted uploads`;
}

/** The sweep at start: never stops a start (an unreadable file is logged and left). */
export async function sweepAtStart(files: FileStore, log: (msg: string) => void): Promise<void> {
  try {
    const r = await files.sweepTemporary();
    if (r.removed > 0) log(`  files     removed ${describeSweep(r)}`);
  } catch (err) {
    log(`  files     could not remove temporary files: ${(err as Error).message}`);
  }
}

/** Register the recurring sweep with a worker's job runner (before it starts). */
export function scheduleTemporarySweep(runner: JobRunner, files: FileStore, log: { info(msg: string): void }): void {
  runner.every(TEMP_SWEEP_QUEUE, TEMP_SWEEP_EVERY_SECONDS, async () => {
    const r = await files.sweepTemporary();
    if (r.removed > 0) log.info(`files: removed ${describeSweep(r)}`);
  });
}

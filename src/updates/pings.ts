// Update pings: how many times a day each activity was checked for updates, per Sugar series (the
// average-daily-users figure). Aggregates only: no address or device identifier is ever kept.
//
// The hot path only increments a number in a Map. A timer writes the accumulated counts in one
// statement (an upsert adding to the stored count) every updates.pingFlushSeconds; a graceful
// shutdown flushes what is left. A crash loses at most one interval of counts; a failed write puts
// its counts back to be retried, and the single statement either adds everything or nothing, so
// counts are never doubled or half-written.
import type { Db } from '../platform/db/index.js';
import { addPingCounts, writeAverageDailyUsers } from './queries.js';
import { parseSugarVersion } from '../bundles/index.js';

/** A place to accumulate counts. In memory now; a Redis-backed one can share it across processes. */
export interface PingSink {
  /** One update check of an activity by a client that sent this appVersion (null: none). */
  count(activityId: number, appVersion: string | null): void;
  flush(): Promise<number>;
  close(): Promise<void>;
}

/** The series a client sent, as stored: "0.118"; "" when none or not a plausible Sugar version. */
export function seriesOf(appVersion: string | null): string {
  if (!appVersion || appVersion.length > 16) return '';
  const p = parseSugarVersion(appVersion);
  if (!p.valid || p.parts.length > 3) return '';
  const major = p.parts[0] ?? 0;
  let minor = p.parts[1] ?? 0;
  // Bound the values so a hostile client cannot create unbounded rows.
  if (major > 9 || minor > 998) return '';
  // Clients send the even-rounded series (0.117 -> 0.118); normalize any that did not.
  if (minor % 2 === 1) minor += 1;
  return `${major}.${minor}`;
}

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

// Counts are keyed by a number: activity id * SERIES_SLOTS + the series' slot, so the hot path
// builds no string. Series get slots as they are met (at most a few thousand plausible ones).
const SERIES_SLOTS = 8192;

export class MemoryPingCounter implements PingSink {
  /** day -> (activity id * SERIES_SLOTS + series slot) -> count */
  private counts = new Map<string, Map<number, number>>();
  private current: Map<number, number> | null = null;
  private day = '';
  private dayEnds = 0;
  private readonly slotOfVersion = new Map<string, number>();
  private readonly slotOfSeries = new Map<string, number>();
  private readonly seriesOfSlot: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<number> | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly opts: { flushSeconds: number; onError?: (err: unknown) => void; now?: () => number } = { flushSeconds: 5 },
  ) {}

  start(): void {
    if (this.timer || this.opts.flushSeconds <= 0) return;
    this.timer = setInterval(() => void this.flush().catch(() => {}), this.opts.flushSeconds * 1000);
    this.timer.unref();
  }

  private slot(appVersion: string | null): number {
    if (appVersion === null) return this.slotFor('');
    let s = this.slotOfVersion.get(appVersion);
    if (s === undefined) {
      s = this.slotFor(seriesOf(appVersion));
      // Only remember raw strings while the cache is small (garbage appVersions are not kept).
      if (this.slotOfVersion.size < 4096) this.slotOfVersion.set(appVersion, s);
    }
    return s;
  }

  private slotFor(series: string): number {
    let s = this.slotOfSeries.get(series);
    if (s === undefined) {
      s = this.seriesOfSlot.length;
      if (s >= SERIES_SLOTS) return this.slotFor('');
      this.seriesOfSlot.push(series);
      this.slotOfSeries.set(series, s);
    }
    return s;
  }

  private today(): Map<number, number> {
    const now = this.opts.now ? this.opts.now() : Date.now();
    if (this.current === null || now >= this.dayEnds || now < this.dayEnds - 86_400_000) {
      this.day = utcDay(now);
      this.dayEnds = Date.parse(this.day + 'T00:00:00Z') + 86_400_000;
      let m = this.counts.get(this.day);
      if (!m) this.counts.set(this.day, (m = new Map()));
      this.current = m;
    }
    return this.current;
  }

  count(activityId: number, appVersion: string | null): void {
    if (this.closed) return;
    const m = this.today();
    const key = activityId * SERIES_SLOTS + this.slot(appVersion);
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  /** Counts not written yet (for tests and the shutdown report). */
  pending(): number {
    let n = 0;
    for (const m of this.counts.values()) for (const v of m.values()) n += v;
    return n;
  }

  /** Write what has accumulated; returns the number of pings written. */
  async flush(): Promise<number> {
    if (this.flushing) await this.flushing.catch(() => 0);
    if (this.pending() === 0) return 0;
    const batch = this.counts;
    this.counts = new Map();
    this.current = null;
    this.flushing = this.write(batch).catch((err) => {
      // Put back what was not written: it is retried with the next flush.
      for (const [day, m] of batch) {
        let into = this.counts.get(day);
        if (!into) this.counts.set(day, (into = new Map()));
        for (const [k, v] of m) into.set(k, (into.get(k) ?? 0) + v);
      }
      this.current = null;
      this.opts.onError?.(err);
      return 0;
    });
    try {
      return await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async write(batch: Map<string, Map<number, number>>): Promise<number> {
    let total = 0;
    for (const [day, m] of batch) {
      const keys = [...m.keys()];
      // Chunks keep statements small; each chunk is one atomic statement with four array
      // parameters, removed from the batch once written (a later failure retries only the rest).
      for (let i = 0; i < keys.length; i += 5000) {
        const chunk = keys.slice(i, i + 5000);
        const ids = chunk.map((k) => Math.floor(k / SERIES_SLOTS));
        const series = chunk.map((k) => this.seriesOfSlot[k % SERIES_SLOTS] ?? '');
        const counts = chunk.map((k) => m.get(k)!);
        await addPingCounts(this.db, day, ids, series, counts);
        for (const k of chunk) {
          total += m.get(k)!;
          m.delete(k);
        }
      }
      batch.delete(day);
    }
    return total;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
  }
}

/** The recurring job that runs the rollup below (hourly, in a worker-role process: src/server.ts). */
export const ROLLUP_QUEUE = 'updates.rollup';
export const ROLLUP_EVERY_SECONDS = 3600;

/**
 * Average daily users per activity: the mean of the daily ping totals over the last `days`
 * complete days, written to activities.average_daily_users (what listings show).
 */
export async function rollupAverageDailyUsers(db: Db, days = 7): Promise<void> {
  await writeAverageDailyUsers(db, days);
}

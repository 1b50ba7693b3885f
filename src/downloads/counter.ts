// Download counts: added up in memory per (file, day, mirror) at the moment of the redirect (or
// of the origin's answer), written to download_counts every downloads.countFlushSeconds with an
// upsert, and added to the activity's total. No address or client identifier is kept anywhere:
// a resumed download (a range that does not start at byte 0) is simply not a new download.
import type { Db } from '../platform/db/index.js';
import { addDownloadCounts } from './queries.js';

export function isNewDownload(method: string | undefined, range: string | undefined): boolean {
  if (method !== 'GET') return false;
  if (!range) return true;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-/.exec(range);
  return !m || m[1] === '0';
}

/** Mirror ids below this are counted in per-file arrays; larger ones (never in practice) in a map. */
const ARRAY_MIRRORS = 65536;
const MIRROR_BITS = 1048576; // the map's key: fileId * 2^20 + mirrorId, exact below 2^53

/** One day's counts not written yet. */
class DayCounts {
  /**
   * Per file, its counts indexed by mirror id (0: the origin). Small integer keys and typed
   * arrays: counting allocates nothing once a file has its array, however many (file, mirror)
   * pairs a busy redirector sees between two writes.
   */
  readonly byFile = new Map<number, Uint32Array>();
  readonly other = new Map<number, number>();

  add(fileId: number, mirrorId: number, n: number): void {
    if (mirrorId >= ARRAY_MIRRORS) {
      const key = fileId * MIRROR_BITS + mirrorId;
      this.other.set(key, (this.other.get(key) ?? 0) + n);
      return;
    }
    let arr = this.byFile.get(fileId);
    if (arr === undefined || mirrorId >= arr.length) {
      let size = arr ? arr.length : 64;
      while (size <= mirrorId) size *= 2;
      const grown = new Uint32Array(size);
      if (arr) grown.set(arr);
      this.byFile.set(fileId, (arr = grown));
    }
    arr[mirrorId]! += n;
  }

  /** Every (file, mirror, count) with a count, in arrays ready for unnest(). */
  rows(): { fileIds: number[]; mirrorIds: number[]; counts: number[] } {
    const fileIds: number[] = [];
    const mirrorIds: number[] = [];
    const counts: number[] = [];
    for (const [fileId, arr] of this.byFile) {
      for (let m = 0; m < arr.length; m++) {
        if (arr[m] === 0) continue;
        fileIds.push(fileId);
        mirrorIds.push(m);
        counts.push(arr[m]!);
      }
    }
    for (const [key, n] of this.other) {
      fileIds.push(Math.floor(key / MIRROR_BITS));
      mirrorIds.push(key % MIRROR_BITS);
      counts.push(n);
    }
    return { fileIds, mirrorIds, counts };
  }

  /** Add these rows back (a failed write: they go with the next one). */
  merge(rows: { fileIds: number[]; mirrorIds: number[]; counts: number[] }): void {
    for (let i = 0; i < rows.fileIds.length; i++) this.add(rows.fileIds[i]!, rows.mirrorIds[i]!, rows.counts[i]!);
  }
}

export class DownloadCounter {
  /** Counts not written yet, per UTC day. */
  private days = new Map<string, DayCounts>();
  /** The current day's counts, found without a lookup on every download. */
  private todayKey = '';
  private todayCounts: DayCounts | null = null;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly flushSeconds: number,
    private readonly log: (m: string) => void = () => {},
  ) {}

  start(): void {
    if (this.timer || this.flushSeconds <= 0) return;
    this.timer = setInterval(() => void this.flush().catch((e) => this.log(`download counts: ${(e as Error).message}`)), this.flushSeconds * 1000);
    this.timer.unref();
  }

  private dayCache = { until: 0, day: '' };

  private today(now: number): string {
    if (now >= this.dayCache.until) {
      const day = new Date(now).toISOString().slice(0, 10);
      this.dayCache = { day, until: Date.parse(`${day}T00:00:00Z`) + 86_400_000 };
    }
    return this.dayCache.day;
  }

  private countsOf(day: string): DayCounts {
    let c = this.days.get(day);
    if (!c) this.days.set(day, (c = new DayCounts()));
    return c;
  }

  /** One download of a file, served by a mirror (0: the origin itself). */
  count(fileId: number, mirrorId: number, at?: Date): void {
    if (!(Number.isSafeInteger(fileId) && fileId > 0 && fileId < 2 ** 32 && Number.isSafeInteger(mirrorId) && mirrorId >= 0 && mirrorId < MIRROR_BITS)) return;
    if (at) {
      this.countsOf(at.toISOString().slice(0, 10)).add(fileId, mirrorId, 1);
      return;
    }
    const day = this.today(Date.now());
    if (day !== this.todayKey || this.todayCounts === null) {
      this.todayKey = day;
      this.todayCounts = this.countsOf(day);
    }
    this.todayCounts.add(fileId, mirrorId, 1);
  }

  get unsaved(): number {
    let n = 0;
    for (const c of this.days.values()) for (const k of c.rows().counts) n += k;
    return n;
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.days.size === 0) return;
    const batch = [...this.days].map(([day, c]) => ({ day, rows: c.rows() }));
    this.days = new Map();
    this.todayCounts = null;
    this.flushing = (async () => {
      try {
        // One transaction, a statement per 5,000 pairs: the counts as arrays (unnest), files
        // deleted meanwhile skipped by the join, and the activities' totals from the same rows
        // (the counts carry no activity: the database knows it).
        await this.db.transaction().execute(async (trx) => {
          for (const { day, rows } of batch) {
            for (let i = 0; i < rows.fileIds.length; i += 5000) {
              const fileIds = rows.fileIds.slice(i, i + 5000);
              const mirrorIds = rows.mirrorIds.slice(i, i + 5000);
              const ns = rows.counts.slice(i, i + 5000);
              await addDownloadCounts(trx, day, fileIds, mirrorIds, ns);
            }
          }
        });
      } catch (err) {
        // Keep the counts for the next flush.
        for (const { day, rows } of batch) this.countsOf(day).merge(rows);
        throw err;
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush().catch((e) => this.log(`download counts: ${(e as Error).message}`));
  }
}

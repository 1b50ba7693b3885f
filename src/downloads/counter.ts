// Download counts: added up in memory per (file, day, mirror) at the moment of the redirect (or
// of the origin's answer), written to download_counts every downloads.countFlushSeconds with an
// upsert, and added to the activity's total. No address or client identifier is kept anywhere:
// a resumed download (a range that does not start at byte 0) is simply not a new download.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';

interface Pending {
  fileId: number;
  activityId: number;
  mirrorId: number;
  day: string;
  count: number;
}

export function isNewDownload(method: string | undefined, range: string | undefined): boolean {
  if (method !== 'GET') return false;
  if (!range) return true;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-/.exec(range);
  return !m || m[1] === '0';
}

export class DownloadCounter {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(private readonly db: Db, private readonly flushSeconds: number, private readonly log: (m: string) => void = () => {}) {}

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

  /** Today's counts by a numeric key (file id and mirror id): no string is built per download. */
  private todayPending = new Map<number, Pending>();
  private todayKey = '';

  count(fileId: number, activityId: number, mirrorId: number, at?: Date): void {
    const day = at ? at.toISOString().slice(0, 10) : this.today(Date.now());
    if (day !== this.todayKey) this.settleToday(day);
    if (at || fileId >= 2 ** 32 || mirrorId >= 2 ** 20) {
      const key = `${fileId}:${mirrorId}:${day}`;
      const p = this.pending.get(key);
      if (p) p.count++;
      else this.pending.set(key, { fileId, activityId, mirrorId, day, count: 1 });
      return;
    }
    const key = fileId * 1048576 + mirrorId;
    const p = this.todayPending.get(key);
    if (p) p.count++;
    else this.todayPending.set(key, { fileId, activityId, mirrorId, day, count: 1 });
  }

  /** Move the numerically keyed counts into the general map (a new day, or a flush). */
  private settleToday(day: string): void {
    for (const p of this.todayPending.values()) {
      const key = `${p.fileId}:${p.mirrorId}:${p.day}`;
      const cur = this.pending.get(key);
      if (cur) cur.count += p.count;
      else this.pending.set(key, p);
    }
    this.todayPending = new Map();
    this.todayKey = day;
  }

  get unsaved(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.count;
    for (const p of this.todayPending.values()) n += p.count;
    return n;
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    this.settleToday(this.todayKey);
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = (async () => {
      try {
        // One transaction, a few statements whatever the number of files: the counts as arrays
        // (unnest), files deleted meanwhile skipped by the join, the activities' totals in one update.
        await this.db.transaction().execute(async (trx) => {
          for (let i = 0; i < batch.length; i += 5000) {
            const part = batch.slice(i, i + 5000);
            const fileIds = part.map((p) => p.fileId);
            const days = part.map((p) => p.day);
            const mirrorIds = part.map((p) => p.mirrorId);
            const counts = part.map((p) => p.count);
            await sql`
              insert into download_counts (file_id, day, mirror_id, count)
              select v.file_id, v.day, v.mirror_id, v.count
              from unnest(${fileIds}::bigint[], ${days}::date[], ${mirrorIds}::bigint[], ${counts}::bigint[]) as v (file_id, day, mirror_id, count)
              join files f on f.id = v.file_id
              on conflict (file_id, day, mirror_id) do update set count = download_counts.count + excluded.count
            `.execute(trx);
          }
          const perActivity = new Map<number, number>();
          for (const p of batch) perActivity.set(p.activityId, (perActivity.get(p.activityId) ?? 0) + p.count);
          const ids = [...perActivity.keys()];
          const ns = ids.map((id) => perActivity.get(id)!);
          await sql`
            update activities a set download_count = a.download_count + v.n
            from unnest(${ids}::bigint[], ${ns}::bigint[]) as v (id, n)
            where a.id = v.id
          `.execute(trx);
        });
      } catch (err) {
        // Keep the counts for the next flush.
        for (const p of batch) {
          const key = `${p.fileId}:${p.mirrorId}:${p.day}`;
          const cur = this.pending.get(key);
          if (cur) cur.count += p.count;
          else this.pending.set(key, p);
        }
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

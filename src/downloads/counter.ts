// Download counts: added up in memory per (file, day, mirror) at the moment of the redirect (or
// of the origin's answer), written to download_counts every downloads.countFlushSeconds with an
// upsert, and added to the activity's total. No address or client identifier is kept anywhere:
// a resumed download (a range that does not start at byte 0) is simply not a new download.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';

export function isNewDownload(method: string | undefined, range: string | undefined): boolean {
  if (method !== 'GET') return false;
  if (!range) return true;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-/.exec(range);
  return !m || m[1] === '0';
}

/** Key of a (file, mirror) pair in a day's counts: numbers only, no string per download. */
const MIRROR_BITS = 1048576; // 2^20 mirror ids; file ids up to 2^32 keep the key exact (< 2^53)

export class DownloadCounter {
  /**
   * Counts not written yet: per UTC day, per (file, mirror) pair as fileId * 2^20 + mirrorId.
   * A Map of numbers rather than objects: a busy redirector collects hundreds of thousands of
   * pairs between two flushes, and each flush walks them once.
   */
  private days = new Map<string, Map<number, number>>();
  /** The current day's map, found without a lookup on every download. */
  private todayKey = '';
  private todayCounts = new Map<number, number>();
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

  private mapOf(day: string): Map<number, number> {
    let m = this.days.get(day);
    if (!m) this.days.set(day, (m = new Map()));
    return m;
  }

  /** One download of a file, served by a mirror (0: the origin itself). */
  count(fileId: number, mirrorId: number, at?: Date): void {
    if (!(fileId > 0 && fileId < 2 ** 32 && mirrorId >= 0 && mirrorId < MIRROR_BITS)) return;
    const key = fileId * MIRROR_BITS + mirrorId;
    let m: Map<number, number>;
    if (at) m = this.mapOf(at.toISOString().slice(0, 10));
    else {
      const day = this.today(Date.now());
      if (day !== this.todayKey) {
        this.todayKey = day;
        this.todayCounts = this.mapOf(day);
      }
      m = this.todayCounts;
    }
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  get unsaved(): number {
    let n = 0;
    for (const m of this.days.values()) for (const c of m.values()) n += c;
    return n;
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.days.size === 0) return;
    const batch = this.days;
    this.days = new Map();
    this.todayKey = '';
    this.flushing = (async () => {
      try {
        // One transaction, a few statements whatever the number of files: the counts as arrays
        // (unnest), files deleted meanwhile skipped by the join, and the activities' totals
        // from the same rows (the counts carry no activity: the database knows it).
        await this.db.transaction().execute(async (trx) => {
          for (const [day, counts] of batch) {
            const keys = [...counts.keys()];
            for (let i = 0; i < keys.length; i += 5000) {
              const part = keys.slice(i, i + 5000);
              const fileIds = part.map((k) => Math.floor(k / MIRROR_BITS));
              const mirrorIds = part.map((k) => k % MIRROR_BITS);
              const ns = part.map((k) => counts.get(k)!);
              await sql`
                with v as (
                  select u.file_id, u.mirror_id, u.n, ver.activity_id
                  from unnest(${fileIds}::bigint[], ${mirrorIds}::bigint[], ${ns}::bigint[]) as u (file_id, mirror_id, n)
                  join files f on f.id = u.file_id
                  join versions ver on ver.id = f.version_id
                ), counted as (
                  insert into download_counts (file_id, day, mirror_id, count)
                  select file_id, ${day}::date, mirror_id, n from v
                  on conflict (file_id, day, mirror_id) do update set count = download_counts.count + excluded.count
                )
                update activities a set download_count = a.download_count + t.n
                from (select activity_id, sum(n) as n from v group by activity_id) as t
                where a.id = t.activity_id
              `.execute(trx);
            }
          }
        });
      } catch (err) {
        // Keep the counts for the next flush.
        for (const [day, counts] of batch) {
          const m = this.mapOf(day);
          for (const [k, n] of counts) m.set(k, (m.get(k) ?? 0) + n);
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

// Update pings: how many times a day each activity was checked for updates, per Sugar series (the
// average-daily-users figure). Aggregates only: no address or device identifier is ever kept.
//
// The hot path only increments a number in a Map. A timer writes the accumulated counts in one
// statement (an upsert adding to the stored count) every updates.pingFlushSeconds; a graceful
// shutdown flushes what is left. A crash loses at most one interval of counts; a failed write puts
// its counts back to be retried, and the single statement either adds everything or nothing, so
// counts are never doubled or half-written.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import { parseSugarVersion } from '../bundles/index.js';

/** A place to accumulate counts. In memory now; a Redis-backed one can share it across processes. */
export interface PingSink {
  count(activityId: number, series: string): void;
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

export class MemoryPingCounter implements PingSink {
  private counts = new Map<string, number>();
  private day = '';
  private dayEnds = 0;
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

  private today(): string {
    const now = this.opts.now ? this.opts.now() : Date.now();
    if (now >= this.dayEnds || now < this.dayEnds - 86_400_000) {
      this.day = utcDay(now);
      this.dayEnds = Date.parse(this.day + 'T00:00:00Z') + 86_400_000;
    }
    return this.day;
  }

  count(activityId: number, series: string): void {
    if (this.closed) return;
    const key = `${activityId}|${this.today()}|${series}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Counts not written yet (for tests and the shutdown report). */
  pending(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Write what has accumulated; returns the number of pings written. */
  async flush(): Promise<number> {
    if (this.flushing) await this.flushing.catch(() => 0);
    if (this.counts.size === 0) return 0;
    const batch = this.counts;
    this.counts = new Map();
    this.flushing = this.write(batch).catch((err) => {
      // Put them back: they are retried with the next flush.
      for (const [k, v] of batch) this.counts.set(k, (this.counts.get(k) ?? 0) + v);
      this.opts.onError?.(err);
      return 0;
    });
    try {
      return await this.flushing;
    } finally {
      this.flushing = null;
    }
  }

  private async write(batch: Map<string, number>): Promise<number> {
    const rows: { activityId: number; day: string; series: string; count: number }[] = [];
    let total = 0;
    for (const [k, count] of batch) {
      const [id, day, series] = k.split('|');
      rows.push({ activityId: Number(id), day: day!, series: series ?? '', count });
      total += count;
    }
    // Chunks keep each statement's parameter count reasonable; each chunk is atomic.
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      await sql`
        insert into update_pings (activity_id, day, app_series, count)
        select v.activity_id, v.day, v.app_series, v.count
        from (values ${sql.join(chunk.map((r) => sql`(${r.activityId}::bigint, ${r.day}::date, ${r.series}::text, ${r.count}::bigint)`))})
          as v (activity_id, day, app_series, count)
        -- an activity deleted meanwhile is skipped instead of failing the batch
        join activities a on a.id = v.activity_id
        on conflict (activity_id, day, app_series) do update set count = update_pings.count + excluded.count
      `.execute(this.db);
      // A chunk written is removed from the batch, so a failure in a later chunk retries only the rest.
      for (const r of chunk) batch.delete(`${r.activityId}|${r.day}|${r.series}`);
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

/**
 * Average daily users per activity: the mean of the daily ping totals over the last `days`
 * complete days, written to activities.average_daily_users (what listings show).
 */
export async function rollupAverageDailyUsers(db: Db, days = 7): Promise<void> {
  await sql`
    update activities a set average_daily_users = coalesce(s.avg, 0)
    from (
      select x.id, (select round(coalesce(sum(p.count), 0)::numeric / ${days})::int
                    from update_pings p
                    where p.activity_id = x.id
                      and p.day >= current_date - ${days}::int and p.day < current_date) as avg
      from activities x
    ) s
    where s.id = a.id and a.average_daily_users is distinct from coalesce(s.avg, 0)
  `.execute(db);
}

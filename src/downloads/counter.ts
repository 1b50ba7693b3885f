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

  count(fileId: number, activityId: number, mirrorId: number, at?: Date): void {
    const day = at ? at.toISOString().slice(0, 10) : this.today(Date.now());
    const key = `${fileId}:${mirrorId}:${day}`;
    const p = this.pending.get(key);
    if (p) p.count++;
    else this.pending.set(key, { fileId, activityId, mirrorId, day, count: 1 });
  }

  get unsaved(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.count;
    return n;
  }

  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = (async () => {
      try {
        await this.db.transaction().execute(async (trx) => {
          for (let i = 0; i < batch.length; i += 500) {
            const part = batch.slice(i, i + 500);
            await trx
              .insertInto('download_counts')
              .values(part.map((p) => ({ file_id: p.fileId, day: p.day, mirror_id: p.mirrorId, count: p.count })))
              .onConflict((oc) => oc.columns(['file_id', 'day', 'mirror_id']).doUpdateSet({ count: sql`download_counts.count + excluded.count` }))
              .execute();
          }
          const perActivity = new Map<number, number>();
          for (const p of batch) perActivity.set(p.activityId, (perActivity.get(p.activityId) ?? 0) + p.count);
          for (const [id, n] of perActivity) {
            await trx.updateTable('activities').set({ download_count: sql`download_count + ${n}` }).where('id', '=', id).execute();
          }
        });
      } catch (err) {
        // Keep the counts for the next flush (files deleted meanwhile are dropped then).
        for (const p of batch) {
          const key = `${p.fileId}:${p.mirrorId}:${p.day}`;
          const cur = this.pending.get(key);
          if (cur) cur.count += p.count;
          else this.pending.set(key, p);
        }
        if (/foreign key/i.test((err as Error).message)) await this.dropMissing();
        throw err;
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private async dropMissing(): Promise<void> {
    const ids = [...new Set([...this.pending.values()].map((p) => p.fileId))];
    if (ids.length === 0) return;
    const existing = new Set((await this.db.selectFrom('files').select('id').where('id', 'in', ids).execute()).map((r) => r.id));
    for (const [k, p] of this.pending) if (!existing.has(p.fileId)) this.pending.delete(k);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush().catch((e) => this.log(`download counts: ${(e as Error).message}`));
  }
}

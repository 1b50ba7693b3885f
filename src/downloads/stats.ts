// Download counts for the people who may see them: the authors of an activity (and the
// administrators) see its downloads per day, per file and per mirror (0 = served by this
// store); administrators also get an overview of the whole store (per day, per mirror, the
// most downloaded activities, the share the mirrors took). The figures come from
// download_counts, which the redirector fills (src/downloads/counter.ts): counted at the
// redirect or the origin's answer, resumed range requests not counted again, written every
// downloads.countFlushSeconds (so the last seconds may not be in yet). Days are UTC.
//
// API: GET /api/v1/activities/:bundle_id/stats/downloads?from=YYYY-MM-DD&to=YYYY-MM-DD and
// GET /api/v1/stats/downloads (administrators). Pages: src/web/hub/stats.ts.
import { BundleId, Type, type TypedApp } from '../platform/schemas.js';
import type { AppContext } from '../platform/context.js';
import { AsloError } from '../platform/errors.js';
import { authorRole, isAdmin, requireActor, requireAdmin, requireScope, type Actor, type Viewer } from '../accounts/access.js';
import * as q from './queries.js';

/** The longest range one request may ask for. */
export const MAX_DAYS = 366;
export const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;

export interface DayRange {
  from: string;
  to: string;
  days: string[];
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function parseDay(v: unknown, name: string): number | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw rangeError(`${name} must be a day like 2026-01-31 (got "${String(v)}").`);
  const ms = Date.parse(`${v}T00:00:00Z`);
  if (Number.isNaN(ms) || isoDay(ms) !== v) throw rangeError(`${name} is not a day of the calendar (got "${v}").`);
  return ms;
}

function rangeError(message: string): AsloError {
  return new AsloError('STATS_RANGE_INVALID', message, { statusCode: 400 });
}

/** The days from..to (inclusive, UTC); by default the last 30 days up to today. */
export function dayRange(q: { from?: unknown; to?: unknown }, now = Date.now()): DayRange {
  const today = Date.parse(`${isoDay(now)}T00:00:00Z`);
  let to = parseDay(q.to, 'to');
  let from = parseDay(q.from, 'from');
  if (to === null) to = from !== null ? Math.min(today, from + (DEFAULT_DAYS - 1) * DAY_MS) : today;
  if (from === null) from = to - (DEFAULT_DAYS - 1) * DAY_MS;
  if (from > to) throw rangeError('from must not be after to.');
  const n = Math.round((to - from) / DAY_MS) + 1;
  if (n > MAX_DAYS) throw rangeError(`Ask for at most ${MAX_DAYS} days at once (this range has ${n}).`);
  const days: string[] = [];
  for (let d = from; d <= to; d += DAY_MS) days.push(isoDay(d));
  return { from: isoDay(from), to: isoDay(to), days };
}

export interface DayCount {
  day: string;
  count: number;
  /** Of which served by this store itself. */
  origin: number;
}

export interface MirrorCount {
  /** 0: this store (the origin). */
  mirror_id: number;
  name: string;
  count: number;
}

export interface ActivityDownloadStats {
  activity_id: number;
  bundle_id: string;
  name: string;
  from: string;
  to: string;
  /** Downloads in the range. */
  total: number;
  /** Every download ever counted for the activity (including imported history). */
  all_time: number;
  by_day: DayCount[];
  by_file: { file_id: number; version: string; file_name: string; count: number }[];
  by_mirror: MirrorCount[];
  /** Every (day, file, mirror) with downloads, for tools that want the full detail. */
  rows: { day: string; file_id: number; mirror_id: number; count: number }[];
}

export interface StoreDownloadStats {
  from: string;
  to: string;
  total: number;
  /** Share of the downloads the mirrors served (0..1). */
  mirror_share: number;
  by_day: DayCount[];
  by_mirror: MirrorCount[];
  top_activities: { activity_id: number; bundle_id: string; name: string; count: number }[];
}

export class DownloadStatsService {
  constructor(
    private readonly ctx: AppContext,
    private readonly names: (ids: number[]) => Promise<Map<number, string>>,
  ) {}

  private get db() {
    return this.ctx.db;
  }

  /**
   * The activity, if this viewer may see its counts: its authors and administrators. Anyone
   * else gets 404 when the activity is not public (its existence is not theirs to know), else 403.
   */
  async authorize(
    viewer: Viewer,
    activity: { id: number; bundle_id: string } | string | number,
  ): Promise<{ id: number; bundle_id: string; status: string; download_count: number; actor: Actor }> {
    const actor = requireActor(viewer);
    if (actor.scopes) requireScope(actor, 'read');
    const a = await q.activityForStats(
      this.db,
      typeof activity === 'number' ? { id: activity } : { bundleId: typeof activity === 'string' ? activity : activity.bundle_id },
    );
    if (!a)
      throw new AsloError(
        'ACTIVITY_NOT_FOUND',
        `No activity ${typeof activity === 'number' ? `#${activity}` : `has the bundle id "${typeof activity === 'string' ? activity : activity.bundle_id}"`}.`,
        { statusCode: 404 },
      );
    if (!isAdmin(actor) && !(await authorRole(this.db, a.id, actor.userId))) {
      if (a.status !== 'public') throw new AsloError('ACTIVITY_NOT_FOUND', `No activity has the bundle id "${a.bundle_id}".`, { statusCode: 404 });
      throw new AsloError('FORBIDDEN_NOT_AUTHOR', 'Only the authors of this activity (and administrators) see its download counts.', { statusCode: 403 });
    }
    return { id: a.id, bundle_id: a.bundle_id, status: a.status, download_count: Number(a.download_count), actor };
  }

  private async mirrorNames(ids: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>([[0, 'origin']]);
    const others = ids.filter((id) => id !== 0);
    if (others.length) {
      for (const r of await q.mirrorNamesById(this.db, others)) out.set(Number(r.id), r.name);
    }
    for (const id of ids) if (!out.has(id)) out.set(id, `removed mirror #${id}`);
    return out;
  }

  private byDay(range: DayRange, rows: { day: string; mirror_id: number; count: number }[]): DayCount[] {
    const m = new Map<string, DayCount>(range.days.map((d) => [d, { day: d, count: 0, origin: 0 }]));
    for (const r of rows) {
      const d = m.get(r.day);
      if (!d) continue;
      d.count += r.count;
      if (r.mirror_id === 0) d.origin += r.count;
    }
    return [...m.values()];
  }

  private async byMirror(rows: { mirror_id: number; count: number }[]): Promise<MirrorCount[]> {
    const sums = new Map<number, number>();
    for (const r of rows) sums.set(r.mirror_id, (sums.get(r.mirror_id) ?? 0) + r.count);
    const names = await this.mirrorNames([...sums.keys()]);
    return [...sums].map(([id, count]) => ({ mirror_id: id, name: names.get(id)!, count })).sort((a, b) => b.count - a.count || a.mirror_id - b.mirror_id);
  }

  /** One activity's counts (call authorize first). */
  async forActivity(activity: { id: number; bundle_id: string; download_count: number }, range: DayRange): Promise<ActivityDownloadStats> {
    const rows = (await q.activityCounts(this.db, activity.id, range.from, range.to)).map((r) => ({
      day: String(r.day).slice(0, 10),
      file_id: Number(r.file_id),
      mirror_id: Number(r.mirror_id),
      count: Number(r.count),
    }));
    const files = await q.activityFilesNewestFirst(this.db, activity.id);
    const perFile = new Map<number, number>();
    for (const r of rows) perFile.set(r.file_id, (perFile.get(r.file_id) ?? 0) + r.count);
    const name = (await this.names([activity.id])).get(activity.id) ?? activity.bundle_id;
    return {
      activity_id: activity.id,
      bundle_id: activity.bundle_id,
      name,
      from: range.from,
      to: range.to,
      total: rows.reduce((s, r) => s + r.count, 0),
      all_time: activity.download_count,
      by_day: this.byDay(range, rows),
      by_file: files.map((f) => ({ file_id: Number(f.id), version: f.version, file_name: f.file_name, count: perFile.get(Number(f.id)) ?? 0 })),
      by_mirror: await this.byMirror(rows),
      rows,
    };
  }

  /** The whole store (administrators). */
  async overview(viewer: Viewer, range: DayRange, top = 50): Promise<StoreDownloadStats> {
    const actor = requireAdmin(viewer);
    if (actor.scopes) requireScope(actor, 'read');
    const perDayMirror = (await q.countsPerDayAndMirror(this.db, range.from, range.to)).map((r) => ({
      day: String(r.day).slice(0, 10),
      mirror_id: Number(r.mirror_id),
      count: Number(r.n),
    }));
    const topRows = await q.topActivities(this.db, range.from, range.to, top);
    const names = await this.names(topRows.map((r) => r.id));
    const total = perDayMirror.reduce((s, r) => s + r.count, 0);
    const origin = perDayMirror.reduce((s, r) => s + (r.mirror_id === 0 ? r.count : 0), 0);
    return {
      from: range.from,
      to: range.to,
      total,
      mirror_share: total ? (total - origin) / total : 0,
      by_day: this.byDay(range, perDayMirror),
      by_mirror: await this.byMirror(perDayMirror),
      top_activities: topRows.map((r) => ({ activity_id: r.id, bundle_id: r.bundle_id, name: names.get(r.id) ?? r.bundle_id, count: Number(r.n) })),
    };
  }
}

const errorSchema = { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } };
const rangeQuery = Type.Object({
  from: Type.Optional(Type.String({ description: 'First day, YYYY-MM-DD (UTC; default 29 days before `to`)' })),
  to: Type.Optional(Type.String({ description: 'Last day, YYYY-MM-DD (UTC; default today)' })),
});

/** The API routes (the pages are in src/web/hub/stats.ts). */
export async function downloadStatsRoutes(app: TypedApp): Promise<void> {
  const stats = app.services.downloadStats;

  app.get(
    '/api/v1/activities/:bundle_id/stats/downloads',
    {
      schema: {
        summary: "An activity's downloads per day, per file and per mirror (its authors and administrators)",
        description: `Counted when a download is redirected to a mirror or served by this store (mirror_id 0, "origin"); a resumed download (a range not starting at byte 0) is not counted again. Days are UTC; at most ${MAX_DAYS} days per request. Needs an API token with the read scope (or a logged-in session) of an author of the activity or an administrator; others get 403 (404 when the activity is not public).`,
        tags: ['publishing'],
        params: Type.Object({ bundle_id: BundleId }),
        querystring: rangeQuery,
        response: { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { bundle_id } = req.params;
      const a = await stats.authorize(await req.viewer(), bundle_id);
      const range = dayRange(req.query);
      void reply.header('cache-control', 'private, no-store');
      return stats.forActivity(a, range);
    },
  );

  app.get(
    '/api/v1/stats/downloads',
    {
      schema: {
        summary: 'Downloads of the whole store per day and per mirror, and the most downloaded activities (administrators)',
        tags: ['publishing'],
        querystring: rangeQuery,
        response: { 400: errorSchema, 401: errorSchema, 403: errorSchema },
      },
    },
    async (req, reply) => {
      const viewer = await req.viewer();
      requireAdmin(viewer);
      const result = await stats.overview(viewer, dayRange(req.query));
      void reply.header('cache-control', 'private, no-store');
      return result;
    },
  );
}

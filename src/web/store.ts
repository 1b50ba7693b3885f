// What the store's pages read beyond the catalog service: categories with their localized
// names, featured activities, screenshots, authors, legacy ids, collections. The hot ones
// (categories with their counts, featured ids, activity rows and extras) are cache-aside in the
// shared cache, so a write invalidates them in every process like the catalog's own reads.
import { sql } from 'kysely';
import type { AppContext } from '../platform/context.js';
import { localeChain } from '../catalog/locales.js';
import { effectiveRange, rangeContains, runtimeRangesFromConfig, type RuntimeRangeTable } from '../catalog/compat.js';
import { sugarVersionSortKey } from '../bundles/index.js';
import type { VersionView } from '../catalog/service.js';
import { MAX_INT4 } from '../platform/request-guard.js';

export interface CategoryView {
  slug: string;
  name: string;
  count: number;
}

interface CategoryRow {
  id: number;
  slug: string;
  names: Record<string, string>;
  count: number;
}

export function localizedName(names: Record<string, string>, locale: string, fallback: string): string {
  for (const tag of localeChain(locale)) if (names[tag]) return names[tag]!;
  return names.en ?? fallback;
}

export interface ActivityExtras {
  authors: { id: number; name: string; role: string }[];
  screenshots: { id: number; width: number; height: number; caption: string }[];
  collections: { nickname: string; name: string }[];
}

export class StoreQueries {
  readonly ranges: RuntimeRangeTable;

  constructor(private readonly ctx: AppContext) {
    this.ranges = runtimeRangesFromConfig(ctx.config.updates.runtimeRanges);
  }

  private get db() {
    return this.ctx.db;
  }

  /** Categories in their order, with the number of public activities in each. */
  async categories(locale: string): Promise<CategoryView[]> {
    // Shared and invalidated on writes (publishing an activity changes the counts on every page).
    const rows = await this.ctx.cache.getOrLoad('catalog', 'categories', () => this.loadCategories());
    return rows.map((r) => ({ slug: r.slug, name: localizedName(r.names, locale, r.slug), count: r.count }));
  }

  private async loadCategories(): Promise<CategoryRow[]> {
    const rows = await this.db
      .selectFrom('categories as c')
      .leftJoin('activity_categories as ac', 'ac.category_id', 'c.id')
      .leftJoin('activities as a', (j) => j.onRef('a.id', '=', 'ac.activity_id').on('a.status', '=', 'public'))
      .select(['c.id', 'c.slug', 'c.names', 'c.position', (eb) => eb.fn.count<number>('a.id').as('count')])
      .groupBy(['c.id', 'c.slug', 'c.names', 'c.position'])
      .orderBy('c.position')
      .orderBy('c.slug')
      .execute();
    return rows.map((r) => ({ id: r.id, slug: r.slug, names: (r.names ?? {}) as Record<string, string>, count: Number(r.count) }));
  }

  async category(slug: string, locale: string): Promise<CategoryView | null> {
    return (await this.categories(locale)).find((c) => c.slug === slug) ?? null;
  }

  async tagName(slug: string): Promise<string | null> {
    const row = await this.db.selectFrom('tags').select('name').where('slug', '=', slug).executeTakeFirst();
    return row?.name ?? null;
  }

  /** Featured public activities (editors' picks), most popular first. */
  async featuredIds(limit: number): Promise<number[]> {
    // Hot reads are cache-aside (src/platform/cache): every committed catalog write invalidates them.
    return this.ctx.cache.getOrLoad('catalog', `featured:${limit}`, () => this.loadFeaturedIds(limit));
  }

  private async loadFeaturedIds(limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('activities')
      .select('id')
      .where('status', '=', 'public')
      .where('featured', '=', true)
      .orderBy('download_count', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  async publicCount(): Promise<number> {
    return this.ctx.cache.getOrLoad('catalog', 'public-count', () => this.loadPublicCount());
  }

  private async loadPublicCount(): Promise<number> {
    const row = await this.db.selectFrom('activities').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'public').executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async activityRow(bundleId: string) {
    return this.ctx.cache.getOrLoad('catalog', `row:${bundleId}`, () => this.loadActivityRow(bundleId));
  }

  private async loadActivityRow(bundleId: string) {
    return this.db
      .selectFrom('activities')
      .select(['id', 'bundle_id', 'legacy_id', 'icon_svg', 'download_count', 'average_daily_users', 'featured', 'last_published_at', 'created_at'])
      .where('bundle_id', '=', bundleId)
      .where('status', '=', 'public')
      .executeTakeFirst();
  }

  /** A public activity by a legacy numeric id (kept at import) or by its bundle id. */
  async resolveActivity(id: string): Promise<{ id: number; bundle_id: string } | null> {
    if (/^\d{1,9}$/.test(id)) {
      const byLegacy = await this.db.selectFrom('activities').select(['id', 'bundle_id']).where('legacy_id', '=', Number(id)).where('status', '=', 'public').executeTakeFirst();
      if (byLegacy) return byLegacy;
    }
    const row = await this.db.selectFrom('activities').select(['id', 'bundle_id']).where('bundle_id', '=', id).where('status', '=', 'public').executeTakeFirst();
    return row ?? null;
  }

  /** A public file by a legacy file id first (old links carry those), else by its own id. */
  async resolveFile(id: number): Promise<{ id: number; file_name: string } | null> {
    const q = (col: 'f.legacy_id' | 'f.id') =>
      this.db
        .selectFrom('files as f')
        .innerJoin('versions as v', 'v.id', 'f.version_id')
        .innerJoin('activities as a', 'a.id', 'v.activity_id')
        .select(['f.id', 'f.file_name'])
        .where(col, '=', id)
        .where('f.status', '=', 'public')
        .where('a.status', '=', 'public')
        .executeTakeFirst();
    // Legacy ids are PostgreSQL integers: a larger number is no legacy id (and must not be asked as one).
    return (id <= MAX_INT4 ? await q('f.legacy_id') : undefined) ?? (await q('f.id')) ?? null;
  }

  /** What the activity page shows besides the catalog's own data, in one query: authors (with
   *  their ids, for profile links), screenshots, and the listed collections that hold it. */
  async activityExtras(activityId: number, locale: string): Promise<ActivityExtras> {
    return this.ctx.cache.getOrLoad('catalog', `extras:${activityId}:${locale}`, () => this.loadActivityExtras(activityId, locale));
  }

  private async loadActivityExtras(activityId: number, locale: string): Promise<ActivityExtras> {
    const row = await sql<{ authors: { id: number; name: string; role: string }[] | null; shots: { id: number; width: number; height: number; captions: Record<string, string> }[] | null; colls: { nickname: string; name: string; names: Record<string, string> }[] | null }>`
      select
        (select json_agg(json_build_object('id', u.id, 'name', u.display_name, 'role', aa.role) order by aa.position, u.id)
           from activity_authors aa join users u on u.id = aa.user_id where aa.activity_id = ${activityId} and u.deleted_at is null) as authors,
        (select json_agg(json_build_object('id', s.id, 'width', s.width, 'height', s.height, 'captions', s.captions) order by s.position, s.id)
           from screenshots s where s.activity_id = ${activityId}) as shots,
        (select json_agg(json_build_object('nickname', c.nickname, 'name', c.name, 'names', c.names) order by c.name)
           from collection_activities ca join collections c on c.id = ca.collection_id where ca.activity_id = ${activityId} and c.listed) as colls`.execute(this.db);
    const r = row.rows[0]!;
    return {
      authors: (r.authors ?? []).map((a) => ({ id: Number(a.id), name: a.name, role: a.role })),
      screenshots: (r.shots ?? []).map((x) => ({ id: Number(x.id), width: x.width, height: x.height, caption: localizedName(x.captions ?? {}, locale, '') })),
      collections: (r.colls ?? []).map((c) => ({ nickname: c.nickname, name: localizedName(c.names ?? {}, locale, c.name) })),
    };
  }

  async author(userId: number) {
    const user = await this.db.selectFrom('users').select(['id', 'display_name', 'homepage', 'bio', 'created_at']).where('id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
    if (!user) return null;
    const ids = await this.db
      .selectFrom('activity_authors as aa')
      .innerJoin('activities as a', 'a.id', 'aa.activity_id')
      .select('a.id')
      .where('aa.user_id', '=', userId)
      .where('a.status', '=', 'public')
      .orderBy(sql`a.last_published_at desc nulls last`)
      .orderBy('a.id')
      .limit(200)
      .execute();
    return { user, activityIds: ids.map((r) => r.id) };
  }

  /** Listed collections, with how many public activities each holds. */
  async collections(locale: string) {
    const rows = await this.db
      .selectFrom('collections as c')
      .leftJoin('collection_activities as ca', 'ca.collection_id', 'c.id')
      .leftJoin('activities as a', (j) => j.onRef('a.id', '=', 'ca.activity_id').on('a.status', '=', 'public'))
      .select(['c.nickname', 'c.name', 'c.names', 'c.description', (eb) => eb.fn.count<number>('a.id').as('count')])
      .where('c.listed', '=', true)
      .groupBy(['c.id', 'c.nickname', 'c.name', 'c.names', 'c.description'])
      .orderBy('c.name')
      .execute();
    return rows.map((r) => ({ nickname: r.nickname, name: localizedName((r.names ?? {}) as Record<string, string>, locale, r.name), description: r.description, count: Number(r.count) }));
  }

  /** The public activity ids of a collection, in its order. */
  async collectionActivityIds(collectionId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('collection_activities as ca')
      .innerJoin('activities as a', 'a.id', 'ca.activity_id')
      .select('a.id')
      .where('ca.collection_id', '=', collectionId)
      .where('a.status', '=', 'public')
      .orderBy('ca.position')
      .orderBy('a.bundle_id')
      .execute();
    return rows.map((r) => r.id);
  }

  async collectionRow(nickname: string) {
    return this.db.selectFrom('collections').select(['id', 'nickname', 'name', 'names', 'description', 'updated_at']).where('nickname', '=', nickname).executeTakeFirst();
  }

  /** The range a version is offered for (runtime bound applied), and whether a Sugar runs it. */
  compatibility(v: VersionView, sugar: string | null): { min: string | null; max: string | null; compatible: boolean | null } {
    const r = effectiveRange(v.sugar, v.runtime, this.ranges);
    if (!sugar) return { min: r.min, max: r.max, compatible: null };
    return { min: r.min, max: r.max, compatible: r.satisfiable && rangeContains(r, sugarVersionSortKey(sugar)) };
  }
}

/** Keep only the ids of public activities, in the given order. */
export async function publicOnly(ctx: AppContext, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await ctx.db.selectFrom('activities').select('id').where('id', 'in', ids).where('status', '=', 'public').execute();
  const ok = new Set(rows.map((r) => r.id));
  return ids.filter((id) => ok.has(id));
}

// Catalog reads: what the public sees of activities, versions and files. Anonymous readers see
// public activities and public files only (cached). A viewer who may see an activity's hidden side
// (its authors, editors and administrators; an API token needs the read scope) gets every status
// of it, uncached: sandbox, nominated and disabled activities, and non-public versions and files,
// each with its status.
import { contentTypeFor, normalizeSugarVersion, parseSugarVersion, sugarVersionSortKey, type Runtime } from '../bundles/index.js';
import type { AppContext } from '../platform/context.js';
import { AsloError, notFound } from '../platform/errors.js';
import type { Db } from '../platform/db/index.js';
import { localeChain, localizedName, resolveTexts } from './locales.js';
import { IngestService } from './ingest.js';
import { buildSearchQuery } from '../search/query.js';
import { canSeeHidden, type Viewer } from '../accounts/access.js';
import { effectiveRange, rangeContains, runtimeRangesFromConfig, type RuntimeRangeTable } from './compat.js';
import * as q from './queries.js';

export const SORTS = ['popular', 'updated', 'newest', 'rated', 'name', 'relevance'] as const;
export type Sort = (typeof SORTS)[number];
export const RUNTIMES: Runtime[] = ['python2', 'python3', 'web', 'other'];

export interface ListQuery {
  page?: number;
  perPage?: number;
  tag?: string;
  category?: string;
  runtime?: Runtime;
  sugar?: string;
  q?: string;
  lang?: string | null;
  sort?: Sort;
  /** Count the matches for `total` (default true; a page that shows no count skips the work). */
  withTotal?: boolean;
  /** Only featured activities: flagged by the editors, or in a listed collection. */
  featured?: boolean;
  /** Only activities with texts in this language ('es' also matches 'es-UY'). */
  language?: string;
  /** Only activities added at or after this time. */
  addedSince?: Date;
}

/** Language filter values: a language tag like es, pt-BR. */
const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$/;

export interface FileView {
  id: number;
  file_name: string;
  size: number;
  sha256: string;
  status: string;
  content_type: string;
  download_url: string;
  created_at: string;
}

export interface VersionView {
  version: string;
  version_normalized: string;
  runtime: Runtime;
  exec: string | null;
  licenses: string[];
  sugar: { min: string | null; max: string | null; origin: 'uploader' | 'runtime' };
  release_notes: string | null;
  created_at: string;
  files: FileView[];
}

export interface ActivitySummary {
  bundle_id: string;
  kind: 'activity' | 'content';
  name: string;
  summary: string | null;
  locale: string;
  icon_url: string | null;
  tags: string[];
  runtime: Runtime | null;
  current_version: string | null;
  sugar: { min: string | null; max: string | null } | null;
  downloads: number;
  average_daily_users: number;
  rating: { average: number | null; bayesian: number | null; count: number };
  last_published_at: string | null;
  url: string;
}

export interface ActivityDetail extends ActivitySummary {
  status: string;
  description: string | null;
  homepage_url: string | null;
  support_url: string | null;
  repository_url: string | null;
  authors: { name: string; role: string }[];
  categories: string[];
  created_at: string;
  current: VersionView | null;
}

export interface CategoryView {
  slug: string;
  name: string;
  count: number;
}

export interface ActivityExtras {
  authors: { id: number; name: string; role: string }[];
  screenshots: { id: number; width: number; height: number; caption: string }[];
  collections: { nickname: string; name: string }[];
}

export interface FileSource {
  repository: string;
  commit: string;
  tag: string | null;
}

// The download paths read a file with its activity through the catalog's queries.
export { fileWithActivity } from './queries.js';

export class CatalogService {
  readonly ingest: IngestService;
  private rangeTable: RuntimeRangeTable | null = null;

  constructor(private readonly ctx: AppContext) {
    this.ingest = new IngestService(ctx);
  }

  /** The default Sugar range of each runtime (updates.runtimeRanges), read at first use. */
  get ranges(): RuntimeRangeTable {
    return (this.rangeTable ??= runtimeRangesFromConfig(this.ctx.config.updates.runtimeRanges));
  }

  private get db(): Db {
    return this.ctx.db;
  }

  private base(): string {
    return this.ctx.config.server.baseUrl;
  }

  fileUrl(id: number, fileName: string): string {
    return `${this.base()}/downloads/file/${id}/${encodeURIComponent(fileName)}`;
  }

  iconUrl(bundleId: string): string {
    return `${this.base()}/api/v1/activities/${encodeURIComponent(bundleId)}/icon.svg`;
  }

  activityUrl(bundleId: string): string {
    return `${this.base()}/api/v1/activities/${encodeURIComponent(bundleId)}`;
  }

  /** Validate and normalize list parameters; bad ones are a 400 with a code, never a 500. */
  parseListQuery(raw: Record<string, unknown>): ListQuery {
    const int = (name: string, def: number, min: number, max: number): number => {
      const v = raw[name];
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        throw new AsloError('BAD_PARAMETER', `${name} must be a whole number from ${min} to ${max}.`);
      }
      return n;
    };
    const str = (name: string): string | undefined => {
      const v = raw[name];
      if (v === undefined || v === '') return undefined;
      if (typeof v !== 'string') throw new AsloError('BAD_PARAMETER', `${name} must be given once.`);
      return v;
    };
    const runtime = str('runtime');
    if (runtime && !RUNTIMES.includes(runtime as Runtime)) {
      throw new AsloError('BAD_PARAMETER', `runtime must be one of ${RUNTIMES.join(', ')}.`);
    }
    const sugar = str('sugar');
    if (sugar && !parseSugarVersion(sugar).valid) {
      throw new AsloError('BAD_PARAMETER', `sugar must be a Sugar version like 0.118.`);
    }
    const sort = str('sort');
    if (sort && !SORTS.includes(sort as Sort)) throw new AsloError('BAD_PARAMETER', `sort must be one of ${SORTS.join(', ')}.`);
    const q = str('q');
    if (q && q.length > 200) throw new AsloError('BAD_PARAMETER', 'q is limited to 200 characters.');
    const language = str('language');
    if (language && !LANGUAGE_TAG.test(language)) throw new AsloError('BAD_PARAMETER', 'language must be a language tag like es or pt-BR.');
    return {
      language,
      page: int('page', 1, 1, 100000),
      perPage: int('per_page', 20, 1, 100),
      tag: str('tag'),
      category: str('category'),
      runtime: runtime as Runtime | undefined,
      sugar,
      q,
      sort: (sort as Sort | undefined) ?? 'updated',
    };
  }

  // Hot reads are cache-aside (src/platform/cache): every committed catalog write invalidates them.
  async listActivities(query: ListQuery): Promise<{ items: ActivitySummary[]; page: number; per_page: number; total: number }> {
    return this.ctx.cache.getOrLoad('catalog', `list:${JSON.stringify(query)}`, () => this.loadActivities(query));
  }

  private async loadActivities(query: ListQuery): Promise<{ items: ActivitySummary[]; page: number; per_page: number; total: number }> {
    const page = query.page ?? 1;
    const perPage = query.perPage ?? 20;
    const sugar = this.sugarFilter(query.sugar);

    // Full-text search with typo tolerance (src/search); a query without words matches bundle ids.
    const search = query.q ? await buildSearchQuery(this.db, query.q) : null;
    const { ids, total } = await q.listPublicActivityIds(this.db, query, { page, perPage, sugar, search });
    const items = await this.summaries(ids, query.lang ?? null, query.sugar ?? null);
    return { items, page, per_page: perPage, total };
  }

  /**
   * What "runs on this Sugar" means in the catalog's SQL: the runtimes whose row of the configured
   * table (updates.runtimeRanges) contains it, then each version's own range (compat.ts
   * effectiveRange). Null for no Sugar (no filter).
   */
  sugarFilter(sugar: string | null | undefined): q.SugarFilter | null {
    if (!sugar) return null;
    const key = sugarVersionSortKey(sugar);
    const runtimes = RUNTIMES.filter((r) => {
      const row = effectiveRange({ min: null, max: null, origin: 'runtime' }, r, this.ranges);
      return rangeContains(row, key);
    });
    return { key, runtimes };
  }

  /** Summaries for a set of activity ids, in the given order, with a few batched queries; with
   *  a Sugar version, each one's current version is the newest that runs there. */
  async summaries(ids: number[], lang: string | null, sugar: string | null = null, opts: { anyStatus?: boolean } = {}): Promise<ActivitySummary[]> {
    const byId = await this.summariesById(ids, lang, sugar, opts);
    return ids.map((id) => byId.get(id)).filter((a): a is ActivitySummary => Boolean(a));
  }

  private async summariesById(
    ids: number[],
    lang: string | null,
    sugar: string | null = null,
    opts: { anyStatus?: boolean } = {},
  ): Promise<Map<number, ActivitySummary>> {
    if (ids.length === 0) return new Map();
    const [activities, texts, tags, current] = await Promise.all([
      q.activitiesByIds(this.db, ids),
      q.textsOf(this.db, ids),
      q.tagNamesOf(this.db, ids),
      this.currentVersions(ids, this.sugarFilter(sugar), opts.anyStatus ?? false),
    ]);
    const chain = localeChain(lang);
    const out = new Map<number, ActivitySummary>();
    for (const a of activities) {
      const t = resolveTexts(
        texts.filter((r) => r.activity_id === a.id),
        chain,
        a.bundle_id,
      );
      const cur = current.get(a.id);
      out.set(a.id, {
        bundle_id: a.bundle_id,
        kind: a.kind,
        name: t.name,
        summary: t.summary,
        locale: t.locale,
        icon_url: a.icon_svg ? this.iconUrl(a.bundle_id) : null,
        tags: tags.filter((x) => x.activity_id === a.id).map((x) => x.name),
        runtime: cur?.runtime ?? null,
        current_version: cur?.version ?? null,
        sugar: cur ? { min: cur.sugar_min, max: cur.sugar_max } : null,
        downloads: Number(a.download_count),
        average_daily_users: a.average_daily_users,
        rating: { average: a.rating_average, bayesian: a.rating_bayesian, count: a.rating_count },
        last_published_at: a.last_published_at ? a.last_published_at.toISOString() : null,
        url: this.activityUrl(a.bundle_id),
      });
    }
    return out;
  }

  /** The newest version with a public file (any file when anyStatus) of each activity (one that runs on the Sugar if given). */
  private async currentVersions(ids: number[], sugar: q.SugarFilter | null, anyStatus = false) {
    const rows = await q.versionsWithFiles(this.db, ids, sugar, anyStatus);
    const out = new Map<number, (typeof rows)[number]>();
    for (const r of rows) if (!out.has(r.activity_id)) out.set(r.activity_id, r);
    return out;
  }

  private async publicActivityId(bundleId: string): Promise<number> {
    const row = await q.activityId(this.db, bundleId, { publicOnly: true });
    if (!row) throw notFound('ACTIVITY_NOT_FOUND', `No public activity has the bundle id "${bundleId}".`);
    return row.id;
  }

  /**
   * The access check of every read below: the activity's id when `viewer` may see its hidden side
   * (an author, an editor or an administrator; a token needs the read scope), else null (the
   * public view, which is the same for everyone and cached).
   */
  async hiddenAccess(bundleId: string, viewer: Viewer | undefined): Promise<number | null> {
    if (!viewer || (viewer.scopes && !viewer.scopes.includes('read'))) return null;
    const row = await q.activityId(this.db, bundleId, { publicOnly: false });
    if (!row) return null;
    return (await canSeeHidden(this.db, viewer, row.id)) ? row.id : null;
  }

  private async canSeeHiddenOf(activityId: number, viewer: Viewer | undefined): Promise<boolean> {
    if (!viewer || (viewer.scopes && !viewer.scopes.includes('read'))) return false;
    return canSeeHidden(this.db, viewer, activityId);
  }

  async getActivity(bundleId: string, lang: string | null, viewer?: Viewer): Promise<ActivityDetail> {
    const hidden = await this.hiddenAccess(bundleId, viewer);
    if (hidden !== null) return this.activityDetail(hidden, lang, true);
    return this.ctx.cache.getOrLoad('catalog', `activity:${bundleId}:${lang ?? ''}`, () => this.loadActivity(bundleId, lang));
  }

  private async loadActivity(bundleId: string, lang: string | null): Promise<ActivityDetail> {
    return this.activityDetail(await this.publicActivityId(bundleId), lang, false);
  }

  private async activityDetail(id: number, lang: string | null, anyStatus: boolean): Promise<ActivityDetail> {
    const [summary] = await this.summaries([id], lang, null, { anyStatus });
    const a = await q.activityById(this.db, id);
    const texts = await q.textsOf(this.db, [id]);
    const t = resolveTexts(texts, localeChain(lang), a.bundle_id);
    const authors = await q.authorsOf(this.db, id);
    const categories = await q.categorySlugsOf(this.db, id);
    const versions = await this.versionViews(id, anyStatus);
    return {
      ...summary!,
      status: a.status,
      description: t.description,
      homepage_url: a.homepage_url,
      support_url: a.support_url,
      repository_url: a.repository_url,
      authors,
      categories: categories.map((c) => c.slug),
      created_at: a.created_at.toISOString(),
      current: versions[0] ?? null,
    };
  }

  async listVersions(bundleId: string, viewer?: Viewer): Promise<VersionView[]> {
    const hidden = await this.hiddenAccess(bundleId, viewer);
    if (hidden !== null) return this.versionViews(hidden, true);
    return this.ctx.cache.getOrLoad('catalog', `versions:${bundleId}`, () => this.loadVersions(bundleId));
  }

  private async loadVersions(bundleId: string): Promise<VersionView[]> {
    return this.versionViews(await this.publicActivityId(bundleId));
  }

  async getVersion(bundleId: string, version: string, viewer?: Viewer): Promise<VersionView> {
    const all = await this.listVersions(bundleId, viewer);
    const parsed = parseSugarVersion(version);
    const found =
      all.find((v) => v.version === version) ?? (parsed.valid ? all.find((v) => v.version_normalized === normalizeSugarVersion(version)) : undefined);
    if (!found) throw notFound('VERSION_NOT_FOUND', `${bundleId} has no public version ${version}.`);
    return found;
  }

  /** Versions with at least one public file (any file when anyStatus), newest first. */
  private async versionViews(activityId: number, anyStatus = false): Promise<VersionView[]> {
    const rows = await q.versionFiles(this.db, activityId, anyStatus);
    const out: VersionView[] = [];
    const byVersion = new Map<number, VersionView>();
    for (const r of rows) {
      let v = byVersion.get(r.versionId);
      if (!v) {
        v = {
          version: r.version,
          version_normalized: r.version_normalized,
          runtime: r.runtime,
          exec: r.exec,
          licenses: r.licenses,
          sugar: { min: r.sugar_min, max: r.sugar_max, origin: r.sugar_range_origin },
          release_notes: r.release_notes,
          created_at: r.versionCreated.toISOString(),
          files: [],
        };
        byVersion.set(r.versionId, v);
        out.push(v);
      }
      v.files.push({
        id: r.fileId,
        file_name: r.file_name,
        size: Number(r.size),
        sha256: r.sha256,
        status: r.status,
        content_type: contentTypeFor(r.file_name),
        download_url: this.fileUrl(r.fileId, r.file_name),
        created_at: r.fileCreated.toISOString(),
      });
    }
    return out;
  }

  /** A public file of a public activity; any file of the activity for its authors, editors and admins. */
  async getFile(id: number, viewer?: Viewer) {
    const row = await q.fileWithActivity(this.db, id);
    if (!row || ((row.status !== 'public' || row.activity_status !== 'public') && !(await this.canSeeHiddenOf(row.activity_id, viewer)))) {
      throw notFound('FILE_NOT_FOUND', `No public file has the id ${id}.`);
    }
    return row;
  }

  async fileView(id: number, viewer?: Viewer) {
    const f = await this.getFile(id, viewer);
    return {
      id: f.id,
      bundle_id: f.bundle_id,
      version: f.version,
      file_name: f.file_name,
      size: Number(f.size),
      sha256: f.sha256,
      sha1: f.sha1,
      md5: f.md5,
      status: f.status,
      activity_status: f.activity_status,
      content_type: contentTypeFor(f.file_name),
      piece_length: f.piece_length,
      pieces: Buffer.from(f.piece_hashes).length / 32,
      download_url: this.fileUrl(f.id, f.file_name),
      created_at: f.created_at.toISOString(),
    };
  }

  async iconSvg(bundleId: string, viewer?: Viewer): Promise<string> {
    const hidden = await this.hiddenAccess(bundleId, viewer);
    const row = await q.iconSvg(this.db, bundleId, { publicOnly: hidden === null });
    if (!row?.icon_svg) throw notFound('ICON_NOT_FOUND', `No icon for "${bundleId}".`);
    return row.icon_svg;
  }

  async counts(): Promise<{ activities: number; versions: number; files: number }> {
    return q.rowCounts(this.db);
  }
  // ---- what the store's pages read besides the listings: public data only, so no viewer. The
  // hot reads (categories with their counts, activity rows and extras, sources, the count) are cache-aside in the shared cache: a committed write invalidates them everywhere. ----

  /**
   * Categories in their order, with the number of public activities in each: the number the
   * category's listing shows, so with a Sugar version, the activities that run on it.
   */
  async categories(locale: string, sugar: string | null = null): Promise<CategoryView[]> {
    const filter = this.sugarFilter(sugar);
    const rows = await this.ctx.cache.getOrLoad('catalog', `categories:${filter?.key ?? ''}`, () => q.categoriesWithCounts(this.db, filter));
    return rows.map((r) => ({ slug: r.slug, name: localizedName(r.names, locale, r.slug), count: r.count }));
  }

  /**
   * Activities added in the last 30 days (counted from the start of today, UTC, so the answer
   * is cached for the day), newest first.
   */
  newActivities(o: { lang: string; sugar?: string; perPage: number; now?: Date }) {
    const now = o.now ?? new Date();
    const since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - 30 * 24 * 3600 * 1000);
    return this.listActivities({ perPage: o.perPage, sort: 'newest', lang: o.lang, sugar: o.sugar, addedSince: since, withTotal: false });
  }

  /**
   * What the activity page suggests besides it: other public activities by its authors (the last
   * published first), and activities sharing the most categories and tags with it (then the most
   * downloaded), each at most `limit`, for the Sugar when given. Read together (one set of
   * summary queries) and cache-aside.
   */
  related(activityId: number, lang: string, sugar: string | null, limit: number): Promise<{ more: ActivitySummary[]; similar: ActivitySummary[] }> {
    const filter = this.sugarFilter(sugar);
    return this.ctx.cache.getOrLoad('catalog', `related:${activityId}:${lang}:${filter?.key ?? ''}:${limit}`, async () => {
      const [moreIds, similarIds] = await Promise.all([
        q.moreByAuthorsIds(this.db, activityId, filter, limit),
        q.similarActivityIds(this.db, activityId, filter, limit),
      ]);
      const byId = await this.summariesById([...new Set([...moreIds, ...similarIds])], lang, sugar);
      const of = (list: number[]) => list.map((id) => byId.get(id)).filter((a): a is ActivitySummary => Boolean(a));
      return { more: of(moreIds), similar: of(similarIds) };
    });
  }

  /** The languages (as stored: es, pt-BR) that activities have texts in, with how many public activities each. */
  textLanguages(): Promise<{ locale: string; count: number }[]> {
    return this.ctx.cache.getOrLoad('catalog', 'text-languages', () => q.textLanguages(this.db));
  }

  async category(slug: string, locale: string): Promise<CategoryView | null> {
    return (await this.categories(locale)).find((c) => c.slug === slug) ?? null;
  }

  tagName(slug: string): Promise<string | null> {
    return q.tagName(this.db, slug);
  }

  publicCount(): Promise<number> {
    return this.ctx.cache.getOrLoad('catalog', 'public-count', () => q.publicCount(this.db));
  }

  activityRow(bundleId: string) {
    return this.ctx.cache.getOrLoad('catalog', `row:${bundleId}`, () => q.publicActivityRow(this.db, bundleId));
  }

  /** A public activity by a legacy numeric id (kept at import) or by its bundle id. */
  resolveActivity(id: string): Promise<{ id: number; bundle_id: string } | null> {
    return q.resolvePublicActivity(this.db, id);
  }

  /** A public file by a legacy file id first (old links carry those), else by its own id. */
  resolveFile(id: number): Promise<{ id: number; file_name: string } | null> {
    return q.resolvePublicFile(this.db, id);
  }

  /** What the activity page shows besides the catalog's own data: authors (with their ids, for
   *  profile links), screenshots, and the listed collections that hold it. */
  activityExtras(activityId: number, locale: string): Promise<ActivityExtras> {
    return this.ctx.cache.getOrLoad('catalog', `extras:${activityId}:${locale}`, async () => {
      const r = await q.activityExtras(this.db, activityId);
      return {
        authors: (r.authors ?? []).map((a) => ({ id: Number(a.id), name: a.name, role: a.role })),
        screenshots: (r.shots ?? []).map((x) => ({ id: Number(x.id), width: x.width, height: x.height, caption: localizedName(x.captions ?? {}, locale, '') })),
        collections: (r.colls ?? []).map((c) => ({ nickname: c.nickname, name: localizedName(c.names ?? {}, locale, c.name) })),
      };
    });
  }

  /** An author's public profile and public activities; null when there is no such account. */
  async author(userId: number) {
    const user = await q.authorProfile(this.db, userId);
    if (!user) return null;
    return { user, activityIds: await q.authorActivityIds(this.db, userId) };
  }

  /** Listed collections, with how many public activities each holds. */
  async listedCollections(locale: string) {
    const rows = await q.listedCollections(this.db);
    return rows.map((r) => ({ nickname: r.nickname, name: localizedName(r.names, locale, r.name), description: r.description, count: r.count }));
  }

  /** Keep only the ids of public activities, in the given order. */
  async publicOnly(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const ok = await q.publicIdsAmong(this.db, ids);
    return ids.filter((id) => ok.has(id));
  }

  /** When each activity was added and last published, by bundle id (the feeds' dates). */
  async activityDates(bundleIds: string[]): Promise<Map<string, { created_at: Date; last_published_at: Date | null }>> {
    const rows = bundleIds.length ? await q.activityDates(this.db, bundleIds) : [];
    return new Map(rows.map((r) => [r.bundle_id, r]));
  }

  /** The recorded sources of an activity's built files, by file id (docs/building.md). */
  async fileSources(activityId: number): Promise<Map<number, FileSource>> {
    const rows = await this.ctx.cache.getOrLoad('catalog', `sources:${activityId}`, () => q.builtSources(this.db, activityId));
    return new Map(rows.map((r) => [r.file_id, { repository: r.repository, commit: r.commit, tag: r.tag }]));
  }

  /** The range a version is offered for (runtime bound applied), and whether a Sugar runs it. */
  compatibility(v: VersionView, sugar: string | null): { min: string | null; max: string | null; compatible: boolean | null } {
    const r = effectiveRange(v.sugar, v.runtime, this.ranges);
    if (!sugar) return { min: r.min, max: r.max, compatible: null };
    return { min: r.min, max: r.max, compatible: r.satisfiable && rangeContains(r, sugarVersionSortKey(sugar)) };
  }
}

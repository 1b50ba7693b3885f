// The updater service of one process: the in-memory index and how it stays current (change
// notifications, periodic rebuild), ping counting, the JSON index documents and the microformat
// pages. Routes (routes.ts) and the raw fast path (fast-path.ts) only translate HTTP to these.
import type { AppContext } from '../platform/context.js';
import { AsloError, isAsloError } from '../platform/errors.js';
import type { CatalogService } from '../catalog/service.js';
import type { CollectionService } from '../collections/service.js';
import { runtimeRangesFromConfig, type RuntimeRangeTable } from '../catalog/compat.js';
import { normalizeLocale } from '../catalog/locales.js';
import {
  acquireNotifier,
  onLocalChangesApplied,
  catalogChanged,
  InProcessNotifier,
  PgChangeNotifier,
  type CatalogChange,
  type ChangeNotifier,
} from './changes.js';
import { UpdateIndex, type IxActivity, type IxVersion } from './update-index.js';
import { MemoryPingCounter } from './pings.js';
import {
  Doc,
  nextSinceOf,
  renderIndexBody,
  sealIndexBody,
  signingKeysFrom,
  snapshotOf,
  type IndexDocument,
  type IndexQuery,
  type SigningKeys,
} from './json-index.js';
import { IndexBuildPool } from './index-builder.js';
import { renderMicroformat, type MicroformatEntry } from './microformat.js';
import { parseUpdateQuery, etagMatches } from './query.js';
import { EMPTY_RDF, etagOf } from './rdf.js';
import { repoUrl } from '../downloads/repo.js';
import { rangeContains } from '../catalog/compat.js';
import { knownSugarRelease, runsOnEverySugar, sugarFromUserAgent, SUGAR_RELEASES } from '../bundles/sugar-releases.js';
import { downloadEvents } from '../downloads/events.js';
import { canSeeHidden, type Viewer } from '../accounts/access.js';
import { htmlEscape } from './microformat.js';
import { experimentalFile, recordChanges, releaseNotesVersion } from './queries.js';

export interface UpdateResponse {
  status: 200 | 304;
  headers: Record<string, string | number>;
  body: Buffer | null;
}

export interface UpdateServiceOptions {
  log?: { info(msg: string): void; warn(msg: string): void };
  /** Start background timers (flush, rebuild). Off for short-lived CLI uses. */
  timers?: boolean;
}

/** Cached JSON index documents: at most this many, and this many bytes (the newest always stays). */
const DOC_CACHE_MAX = 64;
const DOC_CACHE_BYTES = 256 * 1024 * 1024;
/** Worker threads that build JSON index documents, and builds allowed to wait for one. */
const INDEX_BUILD_WORKERS = 1;
const INDEX_BUILD_QUEUE = 16;
/** Retry-After (seconds) of an update check answered 503 because the index is still loading. */
export const INDEX_RETRY_AFTER_SECONDS = 5;

export class UpdateService {
  readonly index: UpdateIndex;
  readonly pings: MemoryPingCounter;
  readonly ranges: RuntimeRangeTable;
  private keysCache: SigningKeys | null = null;
  private notifier: ChangeNotifier | null = null;
  private release: (() => Promise<void>) | null = null;
  private unsubscribe: (() => void) | null = null;
  private offLocal: (() => void) | null = null;
  private offFiles: (() => void) | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private pendingIds = new Set<number>();
  private pendingBundles = new Set<string>();
  private pendingAll = false;
  private patchScheduled = false;
  private readonly docs = new Map<string, { doc: IndexDocument; bytes: number }>();
  private docBytes = 0;
  private readonly building = new Map<string, Promise<IndexDocument>>();
  private points: { generation: number; times: number[] } | null = null;
  private pool: IndexBuildPool | null = null;
  /** JSON index documents built so far, and how many of them on a worker thread. */
  readonly indexStats = { built: 0, builtInWorker: 0 };
  private readonly cacheControl: string;
  private readonly rdfHeaders = new WeakMap<object, { ok: Record<string, string | number>; notModified: Record<string, string | number> }>();
  private started = false;
  private closed = false;
  private isReady = false;
  /** Wakes whoever waits in whenReady(): the index is loaded, or the service is closing. */
  private wake!: () => void;
  private readonly woken = new Promise<void>((r) => (this.wake = r));
  private loadSeconds: number | null = null;
  private loadError: string | null = null;
  private readonly log: NonNullable<UpdateServiceOptions['log']>;

  constructor(
    private readonly ctx: AppContext,
    private readonly catalog: CatalogService,
    private readonly collections: CollectionService,
    private readonly opts: UpdateServiceOptions = {},
  ) {
    this.log = opts.log ?? { info: () => {}, warn: (m) => process.emitWarning(m) };
    try {
      this.ranges = runtimeRangesFromConfig(ctx.config.updates.runtimeRanges);
    } catch (err) {
      throw new AsloError('CONFIG_INVALID', (err as Error).message);
    }
    this.cacheControl = `public, max-age=${Math.max(0, Math.floor(ctx.config.updates.cacheMaxAge))}`;
    this.index = new UpdateIndex(ctx.db, this.ranges, {
      updateLink: (v, a) => this.downloadUrl(v, a),
      updateInfoUrl: (v) => `${this.base}/services/update-info/${v.versionId}`,
    });
    this.pings = new MemoryPingCounter(ctx.db, {
      flushSeconds: ctx.config.updates.pingFlushSeconds,
      onError: (err) => this.log.warn(`update pings: flush failed, will retry: ${(err as Error).message}`),
    });
    this.index.onChange(() => {
      this.docs.clear();
      this.docBytes = 0;
    });
  }

  private get base(): string {
    return this.ctx.config.server.baseUrl;
  }

  get keys(): SigningKeys {
    return (this.keysCache ??= signingKeysFrom(this.ctx.secrets.signingKey));
  }

  get notifierKind(): string {
    return this.notifier?.kind ?? 'none';
  }

  /**
   * Where the client downloads a version. A public file of a public activity: its path in the
   * public repo tree once the publish job has put it there (the download role answers it and
   * redirects to verified mirrors), else the app's own download URL /downloads/file/<id>/<name>.xo.
   * Files only experimental clients see: the experimental download route. All end in .xo/.xol.
   */
  downloadUrl(v: IxVersion, a: IxActivity): string {
    if (v.fileStatus === 'public' && a.status === 'public') {
      return v.repoPath ? repoUrl(this.ctx.config, v.repoPath) : this.catalog.fileUrl(v.fileId, v.fileName);
    }
    return `${this.base}/services/experimental/file/${v.fileId}/${encodeURIComponent(v.fileName)}`;
  }

  /**
   * Connect change notifications, load the index, start the timers. By default it returns once
   * the index is loaded (and throws when the first load fails). With `background` it returns at
   * once and the index loads once beginLoading() is called (src/server.ts: after the process
   * listens, so the load does not hold up the rest of the start on a database that runs one
   * query at a time): a failed load is logged and retried, and until one succeeds `ready` is
   * false and whenReady() waits.
   */
  async start(opts: { background?: boolean } = {}): Promise<void> {
    if (this.started) return;
    this.started = true;
    const url = this.ctx.config.database.url;
    const held = await acquireNotifier(this.ctx, () =>
      this.ctx.database.kind === 'postgres' && url ? new PgChangeNotifier(url, this.ctx.db, (m) => this.log.warn(m)) : new InProcessNotifier(),
    );
    this.notifier = held.notifier;
    this.release = held.release;
    this.unsubscribe = this.notifier.subscribe(
      (change) => this.enqueue(change),
      () => this.enqueue({ activityIds: [], all: true }),
    );
    this.offLocal = onLocalChangesApplied(this.ctx, () => this.settled());
    // A file entering or leaving the repo tree in this process (the embedded default runs the
    // publish jobs here) changes its link at once; the publish job also announces it as a
    // catalog change (src/downloads/repo.ts), which is how every other process learns it.
    const onFiles = (fileIds: number[]) => {
      const ids = this.index.activitiesOfFiles(fileIds);
      if (ids.length > 0) this.enqueue({ activityIds: ids });
    };
    downloadEvents(this.ctx.db).on('files', onFiles);
    this.offFiles = () => downloadEvents(this.ctx.db).off('files', onFiles);
    // Subscribed first, so nothing published while the index builds is lost: it is applied after
    // the build (index mutations run one at a time, in order, on this.chain). A change that
    // arrives before the first load is queued behind it; until that load completes no answer
    // comes from the (empty) index: whenReady() waits for it.
    const gate = opts.background ? new Promise<void>((r) => (this.openGate = r)) : null;
    const initial = this.chain.then(async () => {
      if (gate) await gate;
      await this.initialLoad(!opts.background);
    });
    this.chain = initial.catch(() => {});
    if (!opts.background) await initial;
    if (this.opts.timers !== false) {
      this.pings.start();
      const every = this.ctx.config.updates.indexRefreshSeconds;
      if (every > 0) {
        this.refreshTimer = setInterval(() => this.enqueue({ activityIds: [], all: true }), every * 1000);
        this.refreshTimer.unref();
      }
    }
  }

  /** Starts the first load of a service started in the background (once; later calls do nothing). */
  beginLoading(): void {
    this.openGate?.();
    this.openGate = null;
  }

  private openGate: (() => void) | null = null;

  /** The first load; in the background, a failure is retried (with a growing pause) until one succeeds. */
  private async initialLoad(failFast: boolean): Promise<void> {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      if (this.closed) return;
      try {
        await this.index.rebuild();
        break;
      } catch (err) {
        if (failFast || this.closed) throw err;
        const pauseMs = Math.min(500 * 2 ** Math.min(attempt, 5), 15_000);
        this.loadError = (err as Error).message;
        this.log.warn(`update index: loading failed (${this.loadError}); retrying in ${pauseMs / 1000} s`);
        await new Promise((r) => setTimeout(r, pauseMs).unref());
      }
    }
    this.loadError = null;
    this.loadSeconds = (Date.now() - started) / 1000;
    this.markReady();
    this.log.info(`update index: ${this.index.size} activities loaded in ${this.loadSeconds.toFixed(2)} s`);
    // Change rows the catalog lacks: written after the index answers (it needs none of them).
    await this.reconcile(null);
  }

  private markReady(): void {
    this.isReady = true;
    this.wake();
  }

  /** Whether the index has been loaded (the updater's answers need it). */
  get ready(): boolean {
    return this.isReady;
  }

  /** Resolves once the index is loaded (true), or the service closed before it was (false). */
  async loaded(): Promise<boolean> {
    await this.woken;
    return this.isReady;
  }

  /** What /readyz reports of the index: loaded (how many activities, in how long), or still loading. */
  readiness(): { ok: boolean; activities?: number; loadSeconds?: number; loading?: boolean; lastError?: string } {
    if (this.isReady) return { ok: true, activities: this.index.size, loadSeconds: this.loadSeconds ?? undefined };
    return { ok: false, loading: true, ...(this.loadError ? { lastError: this.loadError } : {}) };
  }

  /**
   * Resolves once the index is loaded; waits at most `waitMs` (updates.indexWaitSeconds by
   * default), then throws UPDATE_INDEX_LOADING (503): no answer is given from an index not loaded yet.
   */
  async whenReady(waitMs = this.ctx.config.updates.indexWaitSeconds * 1000): Promise<void> {
    if (this.isReady) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, waitMs))));
    try {
      await Promise.race([this.woken, late]);
    } finally {
      clearTimeout(timer);
    }
    if (this.isReady) return;
    throw this.loadingError();
  }

  private loadingError(): AsloError {
    return new AsloError(
      'UPDATE_INDEX_LOADING',
      `The update index is still loading after this process started; retry in ${INDEX_RETRY_AFTER_SECONDS} seconds.`,
      { statusCode: 503 },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    // A load never begun: let the chain end (initialLoad returns at once once closed).
    this.beginLoading();
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.unsubscribe?.();
    this.offLocal?.();
    this.offFiles?.();
    await this.release?.().catch(() => {});
    await this.chain.catch(() => {});
    await this.pool?.close();
    await this.pings.close().catch((err) => this.log.warn(`update pings: final flush failed: ${(err as Error).message}`));
  }

  /** Record and propagate a change made in this process (same as catalogChanged(ctx, ...)). */
  async changed(activityIds: number[], bundleIds: string[] = []): Promise<void> {
    await catalogChanged(this.ctx, { activityIds, bundleIds }, (err) => this.log.warn(`catalog change: ${(err as Error).message}`));
  }

  /** Coalesce changes and apply them one batch at a time, in order. */
  private enqueue(change: CatalogChange): void {
    if (this.closed) return;
    if (change.all) this.pendingAll = true;
    for (const id of change.activityIds) this.pendingIds.add(id);
    for (const b of change.bundleIds ?? []) this.pendingBundles.add(b);
    if (this.patchScheduled) return;
    this.patchScheduled = true;
    this.chain = this.chain.then(async () => {
      this.patchScheduled = false;
      const all = this.pendingAll;
      const ids = [...this.pendingIds];
      const bundles = [...this.pendingBundles];
      this.pendingAll = false;
      this.pendingIds.clear();
      this.pendingBundles.clear();
      if (this.closed) return;
      try {
        if (all) {
          const before = this.fingerprints();
          await this.index.rebuild();
          await this.reconcile(before);
        } else {
          await this.index.patch(ids, bundles);
        }
      } catch (err) {
        this.log.warn(`update index: reload failed (${(err as Error).message}); retrying with a full rebuild`);
        setTimeout(() => this.enqueue({ activityIds: [], all: true }), 2000).unref();
      }
    });
  }

  /** Wait until every change received so far is applied (tests, CLI). */
  async settled(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.chain;
      await last;
    } while (last !== this.chain);
  }

  private fingerprints(): Map<string, string> {
    const m = new Map<string, string>();
    for (const a of this.index.activities()) m.set(a.bundleId, fingerprint(a));
    return m;
  }

  /**
   * Safety net for changes made without catalogChanged (another code path, a manual SQL fix): an
   * activity whose public face differs from the previous build, or that has no change row, gets
   * one, so index diffs stay complete.
   */
  private async reconcile(before: Map<string, string> | null): Promise<void> {
    const log = new Map([...this.index.changeLog()].map((c) => [c.bundleId, c]));
    const ids: number[] = [];
    const bundles: string[] = [];
    const gone: string[] = [];
    for (const a of this.index.activities()) {
      const had = before?.get(a.bundleId);
      const visible = a.pub.length > 0;
      if ((visible && !log.has(a.bundleId)) || (before && had !== undefined && had !== fingerprint(a)) || (before && had === undefined && visible)) {
        ids.push(a.id);
        bundles.push(a.bundleId);
      }
    }
    if (before) for (const b of before.keys()) if (!this.index.activity(b)) gone.push(b);
    if (ids.length === 0 && gone.length === 0) return;
    try {
      // The activities themselves are already current in the index: only their change rows are new.
      for (let i = 0; i < ids.length; i += 5000) await recordChanges(this.ctx.db, ids.slice(i, i + 5000), []);
      await recordChanges(this.ctx.db, [], gone);
      await this.index.refreshChanges([...bundles, ...gone]);
      // Other processes learn the new change rows now, not at their next rebuild.
      await this.notifier?.publish({ activityIds: ids, bundleIds: gone }, { local: false }).catch(() => {});
    } catch (err) {
      this.log.warn(`update index: could not record reconciled changes: ${(err as Error).message}`);
    }
  }

  // ---- the legacy updater ----

  /**
   * Answer /services/update-aslo.php (and update.php) from the loaded index. Throws only
   * UPDATE_INDEX_LOADING, when called before the index is loaded (callers wait with whenReady()
   * or, on the fast path, leave the request to the route that does); else never throws.
   */
  answerUpdate(method: string, url: string, ifNoneMatch: string | string[] | undefined): UpdateResponse {
    if (!this.isReady) throw this.loadingError();
    let rdf = EMPTY_RDF;
    try {
      const q = parseUpdateQuery(url);
      if (q.id !== null) {
        const res = this.index.answer(q.id, q.appVersion, q.experimental);
        rdf = res.rdf;
        if (res.activity && method === 'GET') this.pings.count(res.activity.id, q.appVersion);
      }
    } catch {
      rdf = EMPTY_RDF;
    }
    // The header sets of each answer are built once and reused (they only depend on the body).
    let h = this.rdfHeaders.get(rdf);
    if (!h) {
      const base = { 'content-type': 'text/xml; charset=utf-8', 'cache-control': this.cacheControl, etag: rdf.etag };
      h = { notModified: base, ok: { ...base, 'content-length': rdf.body.length } };
      this.rdfHeaders.set(rdf, h);
    }
    if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, rdf.etag)) return { status: 304, headers: h.notModified, body: null };
    return { status: 200, headers: h.ok, body: method === 'HEAD' ? null : rdf.body };
  }

  // ---- the JSON index ----

  /**
   * Parse index.json parameters; bad ones are a 400 with a code. `sugar` becomes its release series
   * (0.117 and 0.118.1 are 0.118; a release the store does not know is SUGAR_VERSION_UNKNOWN).
   */
  parseIndexQuery(raw: Record<string, unknown>): { sugar: string | null; sugarKey: string | null; since: Date | null } {
    const one = (name: string): string | null => {
      const v = raw[name];
      if (v === undefined || v === '') return null;
      if (typeof v !== 'string') throw new AsloError('BAD_PARAMETER', `${name} must be given once.`);
      return v;
    };
    const asked = one('sugar');
    let sugar: string | null = null;
    if (asked !== null) {
      sugar = knownSugarRelease(asked);
      if (sugar === null) throw unknownSugar(asked);
    }
    const sugarKey = sugar === null ? null : this.index.sugarKey(sugar);
    const sinceRaw = one('since');
    let since: Date | null = null;
    if (sinceRaw !== null) {
      const t = sinceRaw.length <= 40 && /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(sinceRaw) ? Date.parse(sinceRaw) : NaN;
      if (Number.isNaN(t)) {
        throw new AsloError(
          'BAD_PARAMETER',
          `since must be a timestamp like 2026-01-31T12:00:00Z (the next_since of a previous answer), got "${sinceRaw.slice(0, 40)}".`,
        );
      }
      since = new Date(t);
    }
    return { sugar, sugarKey, since };
  }

  /**
   * The change point a cursor stands for: the latest recorded change at or before it (0 when it is
   * before every change). A diff from any time equals the diff from that point, so every cursor
   * between two changes shares one document.
   */
  private changePoint(since: number): number {
    if (this.points?.generation !== this.index.generation) {
      const times = [...new Set([...this.index.changeLog()].map((c) => c.changedAt.getTime()))].sort((a, b) => a - b);
      this.points = { generation: this.index.generation, times };
    }
    const t = this.points.times;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! <= since) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : t[lo - 1]!;
  }

  /**
   * The document for a (normalized) query: from the cache, or built on a worker thread (at most
   * one build per key at a time; INDEX_BUSY when too many builds are waiting).
   */
  async indexDocument(q: { sugar: string | null; sugarKey: string | null; since: Date | null }): Promise<IndexDocument> {
    await this.whenReady();
    const since = q.since === null ? null : this.changePoint(q.since.getTime());
    const nextSince = nextSinceOf(this.index.lastChangeAt(), since === null ? null : new Date(since), this.index.dbNow()).getTime();
    const query: IndexQuery = { sugar: q.sugar, sugarKey: q.sugarKey, since, nextSince };
    const generation = this.index.generation;
    const key = `${generation}|${query.sugar ?? '*'}|${since ?? ''}|${nextSince}`;
    const hit = this.docs.get(key);
    if (hit) {
      // Refresh its place in the LRU order.
      this.docs.delete(key);
      this.docs.set(key, hit);
      return hit.doc;
    }
    let pending = this.building.get(key);
    if (!pending) {
      pending = this.buildDocument(query)
        .then((doc) => {
          if (this.index.generation === generation) this.remember(key, doc);
          return doc;
        })
        .finally(() => this.building.delete(key));
      this.building.set(key, pending);
    }
    return pending;
  }

  private remember(key: string, doc: IndexDocument): void {
    this.docs.set(key, { doc, bytes: doc.body.length });
    this.docBytes += doc.body.length;
    // Bounded by count and by bytes; the newest always stays.
    while (this.docs.size > 1 && (this.docs.size > DOC_CACHE_MAX || this.docBytes > DOC_CACHE_BYTES)) {
      const oldest = this.docs.keys().next().value!;
      this.docBytes -= this.docs.get(oldest)!.bytes;
      this.docs.delete(oldest);
    }
  }

  private buildPool(): IndexBuildPool {
    return (this.pool ??= new IndexBuildPool({
      size: INDEX_BUILD_WORKERS,
      maxQueue: INDEX_BUILD_QUEUE,
      generation: () => this.index.generation,
      snapshot: () => this.snapshot(),
      key: () => this.keys.privateKey,
      log: (m) => this.log.warn(m),
    }));
  }

  private snapshot() {
    return snapshotOf(this.index, this.base, (v, a) => this.downloadUrl(v, a));
  }

  private async buildDocument(query: IndexQuery): Promise<IndexDocument> {
    if (!this.closed) {
      const pool = this.buildPool();
      try {
        const built = await pool.build(query);
        this.indexStats.built++;
        this.indexStats.builtInWorker++;
        // Compression runs on the same workers and under the same bound (the route sends the
        // uncompressed body when they are busy).
        return new Doc(built.body, built.etag, built.signature, (body, enc) => pool.compress(body, enc));
      } catch (err) {
        if (isAsloError(err)) throw err;
        this.log.warn(`index build worker failed (${(err as Error).message}); building in this thread`);
      }
    }
    const body = renderIndexBody(this.snapshot(), query);
    const seal = sealIndexBody(body, this.keys.privateKey);
    this.indexStats.built++;
    return new Doc(body, seal.etag, seal.signature);
  }

  // ---- microformat ----

  /**
   * The microformat page of a collection (nickname) or of every public activity (null), for one
   * Sugar: the `sugar` parameter, else the client's `User-Agent: Sugar/X.Y` (what Sugar's
   * downloader sends since 0.100), both taken as their release series. With neither, only
   * versions that run on every Sugar the store supports: a laptop is never offered what it cannot
   * run. `varies` tells the route the answer depended on the User-Agent.
   */
  async microformat(raw: Record<string, unknown>, userAgent?: string | string[]): Promise<{ status: number; html: string; etag: string; varies: boolean }> {
    await this.whenReady();
    const str = (name: string): string | null => {
      const v = raw[name];
      if (typeof v === 'string' && v !== '') return v;
      if (Array.isArray(v) && typeof v[0] === 'string' && v[0] !== '') return v[0];
      return null;
    };
    const lang = normalizeLocale((str('lang') ?? 'en').replace('_', '-')) ?? 'en';
    const asked = str('sugar');
    let sugar: string | null;
    if (asked !== null) {
      sugar = knownSugarRelease(asked);
      if (sugar === null) throw unknownSugar(asked);
    } else {
      sugar = sugarFromUserAgent(userAgent);
    }
    const sugarKey = sugar === null ? null : this.index.sugarKey(sugar);
    const fits = (v: IxVersion) => (sugarKey === null ? runsOnEverySugar(v) : rangeContains(v, sugarKey));
    const pick = (a: IxActivity): IxVersion | null => a.pub.find(fits) ?? null;
    const nickname = str('collection_nickname');
    const entries: MicroformatEntry[] = [];
    let title: string;
    let description: string;
    if (nickname !== null) {
      const feed = await this.collections.feedEntries(nickname);
      if (!feed) throw new AsloError('COLLECTION_NOT_FOUND', `No collection has the nickname "${nickname.slice(0, 64)}".`, { statusCode: 404 });
      title = localized(feed.collection.names, lang) ?? feed.collection.name;
      description = feed.collection.description ?? '';
      for (const e of feed.entries) {
        const a = this.index.activityById(e.activityId);
        if (!a || a.pub.length === 0) continue;
        let v: IxVersion | null;
        if (e.pinnedVersionId !== null) {
          // A pinned version is served only while it is public and fits the Sugar.
          v = a.pub.find((x) => x.versionId === e.pinnedVersionId) ?? null;
          if (v && !fits(v)) v = null;
        } else {
          v = pick(a);
        }
        if (v) entries.push({ activity: a, version: v, url: this.downloadUrl(v, a), optional: e.optional });
      }
    } else {
      title = 'Sugar activities';
      description = sugar
        ? `Every public activity that runs on Sugar ${sugar}.`
        : `Every public activity that runs on every Sugar from ${SUGAR_RELEASES[0]} to ${SUGAR_RELEASES[SUGAR_RELEASES.length - 1]} (give sugar=X.Y in the address for one Sugar).`;
      const all = [...this.index.activities()].sort((x, y) => (x.bundleId < y.bundleId ? -1 : x.bundleId > y.bundleId ? 1 : 0));
      for (const a of all) {
        const v = pick(a);
        if (v) entries.push({ activity: a, version: v, url: this.downloadUrl(v, a), optional: false });
      }
    }
    const html = renderMicroformat({ title, description, lang, entries });
    return { status: 200, html, etag: etagOf(html), varies: asked === null };
  }

  get cacheControlHeader(): string {
    return this.cacheControl;
  }

  // ---- release notes (em:updateInfoURL) and the downloads experimental clients are sent to ----

  /**
   * The release notes of a version as the XHTML fragment Sugar shows. A version that is not
   * public (sandbox, pending, of a non-public activity) exists only for its authors, editors and
   * admins: everyone else gets the same 404 as for no version. The viewer is asked for only
   * then. `isPublic` tells whether a shared cache may keep the answer.
   */
  async releaseNotes(viewer: () => Promise<Viewer>, rawId: string): Promise<{ body: string; isPublic: boolean }> {
    const id = /^\d{1,15}$/.test(rawId) ? Number(rawId) : 0;
    const row = id ? await releaseNotesVersion(this.ctx.db, id) : undefined;
    const isPublic = Boolean(row && row.status === 'public' && row.published);
    const visible = row && (isPublic || (await canSeeHidden(this.ctx.db, await viewer(), row.activity_id)));
    if (!row || !visible) throw new AsloError('VERSION_NOT_FOUND', `No published version has the id ${rawId.slice(0, 20)}.`, { statusCode: 404 });
    // The activity's name comes from the index.
    await this.whenReady();
    const a = this.index.activity(row.bundle_id);
    const name = a ? (a.texts.find((t) => t.locale === 'und' && t.name)?.name ?? row.bundle_id) : row.bundle_id;
    const notes = (row.release_notes ?? '').trim();
    const paragraphs = notes
      ? notes
          .split(/\n\s*\n/)
          .map((p) => `<p>${htmlEscape(p.trim()).replace(/\n/g, '<br/>')}</p>`)
          .join('')
      : '<p></p>';
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<div xmlns="http://www.w3.org/1999/xhtml"><h1>${htmlEscape(name)} ${htmlEscape(row.version)}</h1>${paragraphs}</div>\n`;
    return { body, isPublic };
  }

  /** A file experimental clients may download (public, sandbox or pending, of an activity that is not disabled). */
  async experimentalFile(rawId: string) {
    const fileId = /^\d{1,15}$/.test(rawId) ? Number(rawId) : 0;
    const file = fileId ? await experimentalFile(this.ctx.db, fileId) : undefined;
    if (!file) throw new AsloError('FILE_NOT_FOUND', `No downloadable file has the id ${rawId.slice(0, 20)}.`, { statusCode: 404 });
    return file;
  }
}

/** A `sugar` parameter that is not a release the store knows: 400 with a code. */
export function unknownSugar(asked: string): AsloError {
  return new AsloError(
    'SUGAR_VERSION_UNKNOWN',
    `sugar must be a Sugar release this store knows (${SUGAR_RELEASES[0]} to ${SUGAR_RELEASES[SUGAR_RELEASES.length - 1]}, like 0.112), got "${asked.slice(0, 40)}".`,
  );
}

function localized(names: Record<string, string>, lang: string): string | null {
  if (names[lang]) return names[lang]!;
  const short = lang.split('-')[0]!;
  return names[short] ?? null;
}

function fingerprint(a: IxActivity): string {
  return JSON.stringify([
    a.status,
    a.pub.map((v) => [v.versionId, v.fileId, v.sugarMin, v.sugarMax]),
    a.texts.map((t) => [t.locale, t.origin, t.name, t.summary]).sort(),
  ]);
}

// The in-memory update index of one process: everything the updater, the feeds and the JSON index
// need, built from the database at start and patched when a change notification arrives. The
// update endpoint reads only this (no database query per request).
import { parseSugarVersion, sugarVersionSortKey, type Runtime } from '../bundles/index.js';
import { effectiveRange, rangeContains, type EffectiveRange, type RuntimeRangeTable } from '../catalog/compat.js';
import type { Db } from '../platform/db/index.js';
import type { FileStatus } from '../platform/db/schema.js';
import * as q from './queries.js';
import { buildUpdateRdf, EMPTY_RDF, rdfBody, xmlSafe, type RdfBody } from './rdf.js';

export interface IxVersion {
  versionId: number;
  activityId: number;
  version: string;
  sortKey: string;
  /** Effective Sugar range (uploader's range within the runtime's bounds). */
  sugarMin: string | null;
  sugarMax: string | null;
  minKey: string | null;
  maxKey: string | null;
  rangeOrigin: 'uploader' | 'runtime';
  runtime: Runtime;
  fileId: number;
  fileName: string;
  /** Path in the public repo tree once the file is published there (src/downloads/repo.ts). */
  repoPath: string | null;
  size: number;
  sha256: string;
  fileStatus: FileStatus;
  hasNotes: boolean;
  createdAt: string;
  /** The RDF answer for this version, built on first use. */
  rdf?: RdfBody;
}

export interface IxText {
  locale: string;
  origin: 'bundle' | 'developer';
  name: string | null;
  summary: string | null;
}

export interface IxActivity {
  id: number;
  bundleId: string;
  kind: 'activity' | 'content';
  status: string;
  /** Versions with a public file of a public activity, newest first. */
  pub: IxVersion[];
  /** What experimental=1 sees: also sandbox and pending files, of any activity not disabled. */
  exp: IxVersion[];
  texts: IxText[];
}

export interface IxChange {
  bundleId: string;
  activityId: number | null;
  changedAt: Date;
  publicSeen: boolean;
}

export interface UrlMaker {
  /** Where a client downloads a file (its last path segment ends in .xo/.xol). */
  updateLink(v: IxVersion, a: IxActivity): string;
  updateInfoUrl(v: IxVersion, a: IxActivity): string | null;
}

/** Activities per slice of a full load (their versions and texts are read one slice at a time). */
const LOAD_SLICE = 2000;

/** Parse cache for appVersion strings (bounded: clients send a handful of distinct values). */
class KeyCache {
  private readonly map = new Map<string, string | null>();
  constructor(private readonly max = 2048) {}
  get(v: string): string | null {
    const hit = this.map.get(v);
    if (hit !== undefined) return hit;
    const key = v.length <= 40 && parseSugarVersion(v).valid ? sugarVersionSortKey(v) : null;
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(v, key);
    return key;
  }
}

export class UpdateIndex {
  private byBundle = new Map<string, IxActivity>();
  private byId = new Map<number, IxActivity>();
  private changes = new Map<string, IxChange>();
  /** Bumped on every change; caches of derived documents key on it. */
  generation = 0;
  builtAt: Date | null = null;
  private readonly keys = new KeyCache();
  private readonly listeners = new Set<(ids: number[] | null) => void>();

  constructor(
    private readonly db: Db,
    private readonly ranges: RuntimeRangeTable,
    private readonly urls: UrlMaker,
  ) {}

  get size(): number {
    return this.byBundle.size;
  }

  activity(bundleId: string): IxActivity | undefined {
    return this.byBundle.get(bundleId);
  }

  /** The activities whose versions hold these files (for file-level events). */
  activitiesOfFiles(fileIds: number[]): number[] {
    const wanted = new Set(fileIds);
    const out = new Set<number>();
    for (const a of this.byId.values()) for (const v of a.exp) if (wanted.has(v.fileId)) out.add(a.id);
    return [...out];
  }

  activityById(id: number): IxActivity | undefined {
    return this.byId.get(id);
  }

  activities(): IterableIterator<IxActivity> {
    return this.byBundle.values();
  }

  changeLog(): IterableIterator<IxChange> {
    return this.changes.values();
  }

  /** The latest change time known to this index (diff cursors are built from it). */
  lastChangeAt(): Date | null {
    // Computed once per generation: every index.json request asks.
    if (this.lastChange?.generation !== this.generation) {
      let max: Date | null = null;
      for (const c of this.changes.values()) if (!max || c.changedAt > max) max = c.changedAt;
      this.lastChange = { generation: this.generation, at: max };
    }
    return this.lastChange.at;
  }

  private lastChange: { generation: number; at: Date | null } | null = null;

  /** The database clock's current time, estimated from its offset measured at the last rebuild. */
  dbNow(): number {
    return Date.now() + this.dbClockOffsetMs;
  }

  private dbClockOffsetMs = 0;

  /** Called with the changed ids (null: everything) after each rebuild or patch. */
  onChange(fn: (ids: number[] | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The sort key of a Sugar version string, or null when it is not one. */
  sugarKey(v: string): string | null {
    return this.keys.get(v);
  }

  /**
   * The version to offer: among the versions visible in this mode whose range contains
   * `sugarKey` (any version when null), the newest by Sugar's order.
   */
  pick(a: IxActivity, sugarKey: string | null, experimental = false): IxVersion | null {
    const list = experimental ? a.exp : a.pub;
    if (sugarKey === null) return list[0] ?? null;
    for (const v of list) if (rangeContains(v, sugarKey)) return v;
    return null;
  }

  /** The RDF answer for a request, from memory. */
  answer(bundleId: string, appVersion: string | null, experimental: boolean): { rdf: RdfBody; activity: IxActivity | null } {
    const a = this.byBundle.get(bundleId);
    if (!a) return { rdf: EMPTY_RDF, activity: null };
    let key: string | null = null;
    if (appVersion !== null) {
      key = this.keys.get(appVersion);
      if (key === null) return { rdf: EMPTY_RDF, activity: a };
    }
    const v = this.pick(a, key, experimental);
    if (!v) return { rdf: EMPTY_RDF, activity: a };
    return { rdf: this.rdfOf(a, v), activity: a };
  }

  rdfOf(a: IxActivity, v: IxVersion): RdfBody {
    if (v.rdf) return v.rdf;
    if (!xmlSafe(a.bundleId) || !xmlSafe(v.version)) return EMPTY_RDF;
    v.rdf = rdfBody(
      buildUpdateRdf({
        bundleId: a.bundleId,
        version: v.version,
        // Open ends: the oldest Sugar with an updater; Mozilla's "any" for the top.
        sugarMin: v.sugarMin ?? '0.82',
        sugarMax: v.sugarMax ?? '*',
        updateLink: this.urls.updateLink(v, a),
        sizeBytes: v.size,
        sha256: v.sha256,
        updateInfoUrl: v.hasNotes ? this.urls.updateInfoUrl(v, a) : null,
      }),
    );
    return v.rdf;
  }

  /** Build everything from the database and swap it in at once. */
  async rebuild(): Promise<void> {
    const before = Date.now();
    const dbNow = await q.databaseNow(this.db);
    this.dbClockOffsetMs = dbNow - Math.round((before + Date.now()) / 2);
    const loaded = await this.load(null);
    const changes = await this.loadChanges(null);
    this.install(loaded, changes);
  }

  /** Swap in a whole new content at once (rebuild() does, from the database). */
  install(loaded: IxActivity[], changes: IxChange[]): void {
    this.byBundle = new Map(loaded.map((a) => [a.bundleId, a]));
    this.byId = new Map(loaded.map((a) => [a.id, a]));
    this.changes = new Map(changes.map((c) => [c.bundleId, c]));
    this.generation++;
    this.builtAt = new Date();
    this.emit(null);
  }

  /** Reload some activities (and their change rows) and patch them in. */
  async patch(activityIds: number[], bundleIds: string[] = []): Promise<void> {
    if (activityIds.length === 0 && bundleIds.length === 0) return;
    const loaded = activityIds.length > 0 ? await this.load(activityIds) : [];
    const knownBundles = new Set<string>(bundleIds);
    for (const id of activityIds) {
      const old = this.byId.get(id);
      if (old) knownBundles.add(old.bundleId);
    }
    for (const a of loaded) knownBundles.add(a.bundleId);
    const changes = knownBundles.size > 0 ? await this.loadChanges([...knownBundles]) : [];
    const found = new Set(loaded.map((a) => a.id));
    for (const id of activityIds) {
      if (found.has(id)) continue;
      const old = this.byId.get(id);
      if (old) {
        this.byId.delete(id);
        this.byBundle.delete(old.bundleId);
      }
    }
    for (const bundleId of bundleIds) {
      const old = this.byBundle.get(bundleId);
      if (old && !found.has(old.id)) {
        this.byBundle.delete(bundleId);
        this.byId.delete(old.id);
      }
    }
    for (const a of loaded) {
      const old = this.byId.get(a.id);
      if (old && old.bundleId !== a.bundleId) this.byBundle.delete(old.bundleId);
      this.byId.set(a.id, a);
      this.byBundle.set(a.bundleId, a);
    }
    for (const c of changes) this.changes.set(c.bundleId, c);
    this.generation++;
    this.emit(activityIds);
  }

  /** Re-read change rows (after recording some without a content change to reload). */
  async refreshChanges(bundleIds: string[] | null): Promise<void> {
    const changes = await this.loadChanges(bundleIds && bundleIds.length <= 5000 ? bundleIds : null);
    if (!bundleIds || bundleIds.length > 5000) this.changes = new Map(changes.map((c) => [c.bundleId, c]));
    else for (const c of changes) this.changes.set(c.bundleId, c);
    this.generation++;
    this.emit([]);
  }

  private emit(ids: number[] | null): void {
    for (const l of this.listeners) {
      try {
        l(ids);
      } catch {
        // a listener's failure must not break the index
      }
    }
  }

  private async load(ids: number[] | null): Promise<IxActivity[]> {
    if (!ids) {
      const activities = await q.allIndexActivities(this.db);
      if (activities.length === 0) return [];
      await new Promise((r) => setImmediate(r));
      // In slices of activities (in id order, see updates/queries.ts), each assembled on its own.
      const out: IxActivity[] = [];
      for (let i = 0; i < activities.length; i += LOAD_SLICE) {
        const part = activities.slice(i, i + LOAD_SLICE);
        const slice = { from: part[0]!.id, to: part[part.length - 1]!.id };
        const versions = await q.allIndexVersions(this.db, slice);
        const texts = await q.allIndexTexts(this.db, slice);
        for (const a of assembleActivities(part, versions, texts, this.ranges)) out.push(a);
        // The database's answers resolve as promises only: without this, requests that arrived
        // meanwhile would wait for the whole load.
        await new Promise((r) => setImmediate(r));
      }
      return out;
    }
    const activities = await q.indexActivities(this.db, ids);
    if (activities.length === 0) return [];
    const activityIds = activities.map((a) => a.id);
    return assembleActivities(activities, await q.indexVersions(this.db, activityIds), await q.indexTexts(this.db, activityIds), this.ranges);
  }

  private async loadChanges(bundleIds: string[] | null): Promise<IxChange[]> {
    return bundleIds ? q.indexChanges(this.db, bundleIds) : q.allIndexChanges(this.db);
  }
}

/** The rows the update index reads of an activity (the activities table). */
export interface IxActivityRow {
  id: number;
  bundle_id: string;
  kind: 'activity' | 'content';
  status: string;
}

/** The rows the update index reads of a version with one of its files. */
export interface IxVersionRow {
  versionId: number;
  activityId: number;
  version: string;
  sortKey: string;
  sugarMin: string | null;
  sugarMax: string | null;
  origin: 'uploader' | 'runtime';
  runtime: Runtime;
  notes: string | null;
  createdAt: Date | string;
  fileId: number;
  fileName: string;
  repoPath: string | null;
  size: number | string;
  sha256: string;
  fileStatus: FileStatus;
}

/** The rows the update index reads of an activity's texts. */
export interface IxTextRow {
  activityId: number;
  locale: string;
  origin: 'bundle' | 'developer';
  name: string | null;
  summary: string | null;
}

/**
 * The index's activities from the rows read (activities not disabled, their versions with a
 * public, sandbox or pending file, their texts): what each mode offers, newest first.
 */
export function assembleActivities(activities: IxActivityRow[], rows: IxVersionRow[], texts: IxTextRow[], ranges: RuntimeRangeTable): IxActivity[] {
  const out = new Map<number, IxActivity>();
  for (const a of activities) {
    out.set(a.id, { id: a.id, bundleId: a.bundle_id, kind: a.kind, status: a.status, pub: [], exp: [], texts: [] });
  }
  // Per activity and version: the newest public file, and the newest file experimental sees.
  const pubByVersion = new Map<number, IxVersion>();
  const expByVersion = new Map<number, IxVersion>();
  // A catalog holds few distinct ranges: each is worked out once (parsing the Sugar versions of
  // every row was a third of a full load).
  const effective = new Map<string, EffectiveRange>();
  for (const r of rows) {
    const a = out.get(r.activityId);
    if (!a) continue;
    const rangeKey = `${r.sugarMin ?? '\u0001'}\u0000${r.sugarMax ?? '\u0001'}\u0000${r.origin}\u0000${r.runtime}`;
    let eff = effective.get(rangeKey);
    if (!eff) effective.set(rangeKey, (eff = effectiveRange({ min: r.sugarMin, max: r.sugarMax, origin: r.origin }, r.runtime, ranges)));
    if (!eff.satisfiable) continue;
    const v: IxVersion = {
      versionId: r.versionId,
      activityId: r.activityId,
      version: r.version,
      sortKey: r.sortKey,
      sugarMin: eff.min,
      sugarMax: eff.max,
      minKey: eff.minKey,
      maxKey: eff.maxKey,
      rangeOrigin: r.origin,
      runtime: r.runtime,
      fileId: r.fileId,
      fileName: r.fileName,
      repoPath: r.repoPath ?? null,
      size: Number(r.size),
      sha256: r.sha256,
      fileStatus: r.fileStatus,
      hasNotes: Boolean(r.notes && r.notes.trim()),
      createdAt: (r.createdAt instanceof Date ? r.createdAt : new Date(r.createdAt)).toISOString(),
    };
    if (r.fileStatus === 'public' && a.status === 'public') {
      const cur = pubByVersion.get(v.versionId);
      if (!cur || v.fileId > cur.fileId) pubByVersion.set(v.versionId, v);
    }
    const cur = expByVersion.get(v.versionId);
    if (!cur || v.fileId > cur.fileId) expByVersion.set(v.versionId, v);
  }
  for (const v of pubByVersion.values()) out.get(v.activityId)!.pub.push(v);
  // Experimental sees the version's public file when it has one (the same object, so the RDF
  // built for it is shared), else its newest sandbox or pending file.
  for (const v of expByVersion.values()) out.get(v.activityId)!.exp.push(pubByVersion.get(v.versionId) ?? v);
  for (const t of texts) {
    out.get(t.activityId)?.texts.push({ locale: t.locale, origin: t.origin, name: t.name, summary: t.summary });
  }
  const byKey = (x: IxVersion, y: IxVersion) => (x.sortKey < y.sortKey ? 1 : x.sortKey > y.sortKey ? -1 : y.versionId - x.versionId);
  for (const a of out.values()) {
    a.pub.sort(byKey);
    a.exp.sort(byKey);
  }
  return [...out.values()];
}

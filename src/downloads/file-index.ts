// What a redirect needs, held in process memory: every published file (public, in the repo
// tree) with its size, hashes, piece hashes and precomputed header values, the mirrors (in
// numbered slots with what a request needs to know of each, in typed arrays), which mirror was
// verified to hold which file, and per file its plan: the mirrors verified to hold it with the
// file's URL on each of their bases and the per-pair part of the rendezvous hash, built when the
// file or its evidence changes, so a request does no string building or lookups beyond arrays.
//
// Kept up to date by patches, not by re-reading: downloadsChanged() (src/downloads/events.ts)
// names the files or mirrors that changed, in this process at once and in the others by
// PostgreSQL NOTIFY, and only those rows are read again. Behind that, each process looks for
// changes it may have missed every downloads.indexRefreshSeconds (rows changed since its last
// look), rebuilds wholly every 30 minutes and after its notification connection came back.
// When the database cannot be reached the index keeps what it has and reports itself
// unhealthy: the redirector then lets the origin serve.
import type { AppContext } from '../platform/context.js';
import type { AsloConfig } from '../platform/config.js';
import type { Cidr } from '../geo/ip.js';
import { mirrorInfo, type MirrorInfo } from '../mirrors/model.js';
import { fmix } from '../mirrors/select.js';
import { downloadEvents, DownloadNotifications, originOf, type DownloadChange } from './events.js';
import { repoUrl } from './repo.js';
import * as q from './queries.js';

export const METALINK_TYPE = 'application/metalink4+xml';

/** The mirrors one file was verified on, ready for a request. */
export interface Plan {
  n: number;
  /** Mirror slots (MirrorSlots). */
  slots: Int32Array;
  /** fmix(mirror id * 31 + file id): the (file, mirror) part of the rendezvous hash. */
  pair: Int32Array;
  /** The file's URL on each mirror's HTTP and HTTPS base (null: no such base). */
  http: (string | null)[];
  https: (string | null)[];
}

export interface IndexedFile {
  id: number;
  activityId: number;
  size: number;
  sha256: string;
  sha1: string | null;
  md5: string | null;
  fileName: string;
  repoPath: string;
  storageKey: string;
  createdAt: Date;
  publishedAt: Date;
  pieceLength: number;
  pieceHashes: Buffer;
  /** Precomputed header values. */
  etag: string;
  reprDigest: string;
  legacyDigest: string;
  /** `<…/repo/path.meta4>; rel=describedby; type="application/metalink4+xml"` */
  describedBy: string;
  /** The repo path with each segment percent-encoded, as in URLs. */
  encodedPath: string;
  /** The request path clients use: `/repo/<encoded path>`. */
  requestPath: string;
  /** fmix(id + 0x9e3779b9): the file's part of the rendezvous hash. */
  fileMix: number;
  plan: Plan | null;
}

/**
 * The mirrors in numbered slots (a mirror keeps its slot while the index lives), with what a
 * request needs in typed arrays. `gen` changes with every change, so per-network data derived
 * from the mirrors (buckets, restrictions) knows to recompute itself.
 */
export class MirrorSlots {
  gen = 0;
  size = 0;
  mirror: (MirrorInfo | null)[] = [];
  /** For a plain-HTTP client: 0 not usable, 1 its HTTP base, 2 its HTTPS base (no HTTP, or HTTP down). */
  httpChoice = new Uint8Array(0);
  /** For an HTTPS client: 2 when its HTTPS base is usable, else 0. */
  httpsChoice = new Uint8Array(0);
  weight = new Float64Array(0);
  /** Largest file it takes (Infinity: any). */
  maxSize = new Float64Array(0);
  /** Math.imul(fmix(mirror id + 0x7f4a7c15), 0x27d4eb2f): the mirror's part of the rendezvous hash. */
  mirrorMix = new Int32Array(0);
  /** `; geo=cc` for its Link headers ('' without a country). */
  geoTail: string[] = [];
  /** Its network prefixes longer than a client network (/24, /48), checked per request; null when none. */
  fine: (Cidr[] | null)[] = [];
  /** Mirrors with such prefixes exist. */
  anyFine = false;
  private readonly slotOf = new Map<number, number>();

  slot(id: number): number | undefined {
    return this.slotOf.get(id);
  }

  private grow(n: number): void {
    if (n <= this.httpChoice.length) return;
    const cap = Math.max(16, n * 2);
    const g = <T extends Uint8Array | Float64Array | Int32Array>(a: T, make: (c: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.httpChoice = g(this.httpChoice, (c) => new Uint8Array(c));
    this.httpsChoice = g(this.httpsChoice, (c) => new Uint8Array(c));
    this.weight = g(this.weight, (c) => new Float64Array(c));
    this.maxSize = g(this.maxSize, (c) => new Float64Array(c));
    this.mirrorMix = g(this.mirrorMix, (c) => new Int32Array(c));
  }

  /**
   * Replace every mirror; returns the ids whose evidence no longer holds (removed, or new base
   * URLs) and the ids that got a slot just now (plans naming them need building again).
   */
  set(mirrors: Map<number, MirrorInfo>): { dropped: Set<number>; added: Set<number> } {
    const dropped = new Set<number>();
    const added = new Set<number>();
    for (const [id, s] of this.slotOf) {
      const old = this.mirror[s];
      const now = mirrors.get(id);
      if (old && (!now || now.httpUrl !== old.httpUrl || now.httpsUrl !== old.httpsUrl)) dropped.add(id);
      if (!now) {
        this.mirror[s] = null;
        this.httpChoice[s] = 0;
        this.httpsChoice[s] = 0;
      }
    }
    let changed = dropped.size > 0;
    this.anyFine = false;
    for (const [id, m] of mirrors) {
      const prev = this.slotOf.has(id) ? this.mirror[this.slotOf.get(id)!] : null;
      if (!prev || !sameMirror(prev, m)) changed = true;
      let s = this.slotOf.get(id);
      if (s === undefined) {
        added.add(id);
        s = this.size++;
        this.slotOf.set(id, s);
        this.grow(this.size);
      }
      this.mirror[s] = m;
      const usable = m.enabled && m.weight > 0;
      this.httpChoice[s] = !usable ? 0 : m.httpUrl && m.httpOk !== false ? 1 : m.httpsUrl && m.httpsOk !== false ? 2 : 0;
      this.httpsChoice[s] = usable && m.httpsUrl && m.httpsOk !== false ? 2 : 0;
      this.weight[s] = m.weight;
      this.maxSize[s] = m.maxFileSize === null ? Infinity : m.maxFileSize;
      this.mirrorMix[s] = Math.imul(fmix(id + 0x7f4a7c15), 0x27d4eb2f);
      this.geoTail[s] = m.country ? `; geo=${m.country.toLowerCase()}` : '';
      const fine = m.prefixes.filter((p) => p.bits > (p.v === 4 ? 24 : 48));
      this.fine[s] = fine.length ? fine : null;
      if (fine.length) this.anyFine = true;
    }
    // Per-network data (buckets, restrictions) is recomputed only when something changed.
    if (changed) this.gen++;
    return { dropped, added };
  }
}

function sameMirror(a: MirrorInfo, b: MirrorInfo): boolean {
  return (
    a.httpUrl === b.httpUrl &&
    a.httpsUrl === b.httpsUrl &&
    a.enabled === b.enabled &&
    a.weight === b.weight &&
    a.httpOk === b.httpOk &&
    a.httpsOk === b.httpsOk &&
    a.country === b.country &&
    a.continent === b.continent &&
    a.asn === b.asn &&
    a.countryOnly === b.countryOnly &&
    a.continentOnly === b.continentOnly &&
    a.asOnly === b.asOnly &&
    a.maxFileSize === b.maxFileSize &&
    a.prefixes.map((p) => p.text).join(' ') === b.prefixes.map((p) => p.text).join(' ')
  );
}

/** A file's plan: the mirrors (with a slot) verified to hold it, and its URL on each of their bases. */
export function planOf(f: { id: number; encodedPath: string }, set: Set<number> | undefined, mirrors: MirrorSlots): Plan | null {
  if (!set || set.size === 0) return null;
  const slots = new Int32Array(set.size);
  const pair = new Int32Array(set.size);
  const http: (string | null)[] = [];
  const https: (string | null)[] = [];
  let n = 0;
  for (const mirrorId of set) {
    const s = mirrors.slot(mirrorId);
    const m = s === undefined ? null : mirrors.mirror[s];
    if (s === undefined || !m) continue;
    slots[n] = s;
    pair[n] = fmix(mirrorId * 31 + f.id);
    http.push(m.httpUrl ? `${m.httpUrl}/${f.encodedPath}` : null);
    https.push(m.httpsUrl ? `${m.httpsUrl}/${f.encodedPath}` : null);
    n++;
  }
  return n ? { n, slots, pair, http, https } : null;
}

const FULL_RELOAD_MS = 30 * 60_000;
/** Re-read this much before the last look: transactions that committed late. */
const OVERLAP_MS = 10_000;
const RETRY_MS = 1000;

export type FileRow = {
  id: number;
  size: number | string;
  sha256: string;
  sha1: string | null;
  md5: string | null;
  file_name: string;
  repo_path: string | null;
  storage_key: string;
  created_at: Date | string;
  published_at: Date | string | null;
  piece_length: number;
  piece_hashes: Uint8Array;
  status: string;
  activity_status: string;
  activity_id: number;
};

/** What the index holds of a file row: null unless the file and its activity are public and published in the repo tree. */
export function indexedFileOf(r: FileRow, config: AsloConfig): IndexedFile | null {
  if (r.status !== 'public' || r.activity_status !== 'public' || !r.repo_path || !r.published_at) return null;
  const sha256b64 = Buffer.from(r.sha256, 'hex').toString('base64');
  const encodedPath = r.repo_path.split('/').map(encodeURIComponent).join('/');
  const f: IndexedFile = {
    id: r.id,
    activityId: r.activity_id,
    size: Number(r.size),
    sha256: r.sha256,
    sha1: r.sha1,
    md5: r.md5,
    fileName: r.file_name,
    repoPath: r.repo_path,
    storageKey: r.storage_key,
    createdAt: new Date(r.created_at),
    publishedAt: new Date(r.published_at),
    pieceLength: r.piece_length,
    pieceHashes: Buffer.from(r.piece_hashes),
    etag: `"${r.sha256}"`,
    reprDigest: `sha-256=:${sha256b64}:`,
    legacyDigest: `SHA-256=${sha256b64}`,
    describedBy: `<${repoUrl(config, r.repo_path)}.meta4>; rel=describedby; type="${METALINK_TYPE}"`,
    encodedPath,
    requestPath: `/repo/${encodedPath}`,
    fileMix: fmix(r.id + 0x9e3779b9),
    plan: null,
  };
  return f;
}

export class DownloadIndex {
  readonly byId = new Map<number, IndexedFile>();
  /** Repo path (decoded) -> file. */
  readonly byPath = new Map<string, IndexedFile>();
  /** Request path (`/repo/<encoded path>`) -> file: the fast path's lookup. */
  readonly byUrl = new Map<string, IndexedFile>();
  mirrors = new Map<number, MirrorInfo>();
  readonly slots = new MirrorSlots();
  /** file id -> verified mirror ids */
  readonly verified = new Map<number, Set<number>>();
  /** The index reflects the database (the last load or patch reached it). */
  healthy = false;
  lastError: string | null = null;
  /** How many patches (from events) were applied: for tests and the benchmark. */
  patches = 0;
  private loaded = false;
  private watermark: Date | null = null;
  private lastFull = 0;
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private chain: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private readonly pendingFiles = new Set<number>();
  private pendingMirrors = false;
  private readonly pendingEvidence = new Set<number>();
  private pendingAll = false;
  private notifications: DownloadNotifications | null = null;
  private readonly onFiles = (ids: number[]) => this.changed({ files: ids });
  private readonly onMirrors = (ids?: number[], evidence?: boolean) => this.changed({ mirrors: ids ?? [], evidence });

  constructor(
    private readonly ctx: AppContext,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const ev = downloadEvents(this.ctx.db);
    ev.on('files', this.onFiles);
    ev.on('mirrors', this.onMirrors);
    const url = this.ctx.config.database.url;
    if (this.ctx.database.kind === 'postgres' && url) {
      // Subscribed before the first load: nothing changed meanwhile is lost.
      this.notifications = new DownloadNotifications(
        originOf(this.ctx.db),
        url,
        (change) => (change.all ? this.changedAll() : this.changed(change)),
        () => this.changedAll(),
        this.log,
      );
      await this.notifications
        .start()
        .catch((err: Error) =>
          this.log(`download notifications unavailable (${err.message}): changes from other processes arrive within downloads.indexRefreshSeconds`),
        );
    }
    await this.refreshNow(true).catch(() => {});
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const ev = downloadEvents(this.ctx.db);
    ev.off('files', this.onFiles);
    ev.off('mirrors', this.onMirrors);
    void this.notifications?.close();
  }

  /** Something changed (this process or another): patch it in soon, in order with everything else. */
  changed(change: DownloadChange): void {
    if (this.closed) return;
    for (const id of change.files ?? []) this.pendingFiles.add(id);
    if (change.mirrors) {
      this.pendingMirrors = true;
      if (change.evidence) for (const id of change.mirrors) this.pendingEvidence.add(id);
    }
    this.queueFlush();
  }

  private changedAll(): void {
    if (this.closed) return;
    this.pendingAll = true;
    this.queueFlush();
  }

  private queueFlush(): void {
    if (this.flushQueued || this.closed) return;
    this.flushQueued = true;
    void this.task(async () => {
      this.flushQueued = false;
      await this.flush();
    }).catch(() => {});
  }

  /** Resolves once every change signalled so far is applied (tests). */
  async idle(): Promise<void> {
    for (let last: Promise<void> | null = null; last !== this.chain || this.flushQueued; ) {
      last = this.chain;
      await last;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Run index mutations one at a time, in order. */
  private task(fn: () => Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const every = this.ctx.config.downloads.indexRefreshSeconds;
    if (!(every > 0)) return;
    this.timer = setTimeout(
      () => {
        void this.task(() => this.load(Date.now() - this.lastFull > FULL_RELOAD_MS || !this.loaded))
          .catch(() => {})
          .finally(() => this.schedule());
      },
      Math.max(100, every * 1000),
    );
    this.timer.unref();
  }

  /** Apply what is pending, then read what changed since the last look (wholly with `full`). */
  refreshNow(full = false): Promise<void> {
    return this.task(async () => {
      await this.flush();
      await this.load(full || !this.loaded);
    });
  }

  private failed(err: unknown): void {
    this.healthy = false;
    this.lastError = (err as Error).message;
  }

  /** Apply pending patches; on failure keep them and try again shortly (the index is unhealthy meanwhile). */
  private async flush(): Promise<void> {
    const all = this.pendingAll;
    const files = [...this.pendingFiles];
    const mirrors = this.pendingMirrors;
    const evidence = [...this.pendingEvidence];
    if (!all && files.length === 0 && !mirrors) return;
    this.pendingAll = false;
    this.pendingFiles.clear();
    this.pendingMirrors = false;
    this.pendingEvidence.clear();
    try {
      if (all || !this.loaded) {
        await this.load(true);
      } else {
        if (mirrors) await this.patchMirrors(evidence);
        if (files.length) await this.patchFiles(files);
        this.patches++;
        if (this.loaded && !this.retryTimer) this.healthy = true;
      }
    } catch (err) {
      this.failed(err);
      if (all) this.pendingAll = true;
      for (const id of files) this.pendingFiles.add(id);
      if (mirrors) this.pendingMirrors = true;
      for (const id of evidence) this.pendingEvidence.add(id);
      if (!this.retryTimer && !this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.queueFlush();
        }, RETRY_MS);
        this.retryTimer.unref();
      }
      throw err;
    }
  }

  private async mirrorRows(): Promise<Map<number, MirrorInfo>> {
    const rows = await q.allMirrorRows(this.ctx.db);
    const mirrors = new Map<number, MirrorInfo>();
    for (const r of rows) mirrors.set(Number(r.id), mirrorInfo(r));
    return mirrors;
  }

  // --- applying (synchronous: a request never sees half a change) ------------------------------

  private removeFile(id: number): void {
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    if (this.byPath.get(old.repoPath) === old) this.byPath.delete(old.repoPath);
    if (this.byUrl.get(old.requestPath) === old) this.byUrl.delete(old.requestPath);
  }

  private addFile(r: FileRow): IndexedFile | null {
    this.removeFile(r.id);
    const f = indexedFileOf(r, this.ctx.config);
    if (!f) return null;
    this.byId.set(f.id, f);
    this.byPath.set(f.repoPath, f);
    this.byUrl.set(f.requestPath, f);
    return f;
  }

  /** (Re)build a file's plan from its evidence and the mirrors' bases. */
  buildPlan(f: IndexedFile): void {
    f.plan = planOf(f, this.verified.get(f.id), this.slots);
  }

  /** New mirror states; returns the mirrors whose evidence no longer holds, and the files whose plans must be built again. */
  private setMirrors(mirrors: Map<number, MirrorInfo>): { dropped: Set<number>; touched: Set<number> } {
    const { dropped, added } = this.slots.set(mirrors);
    this.mirrors = mirrors;
    const touched = new Set<number>();
    if (added.size) for (const [fileId, set] of this.verified) for (const id of added) if (set.has(id)) touched.add(fileId);
    return { dropped, touched };
  }

  /** Forget what was verified on these mirrors; returns the files whose plans held them. */
  private dropEvidence(ids: Set<number>, touched = new Set<number>()): Set<number> {
    if (ids.size === 0) return touched;
    for (const [fileId, set] of this.verified) {
      for (const id of ids) if (set.delete(id)) touched.add(fileId);
    }
    return touched;
  }

  private replan(fileIds: Iterable<number>): void {
    for (const id of fileIds) {
      const f = this.byId.get(id);
      if (f) this.buildPlan(f);
    }
  }

  // --- reading ---------------------------------------------------------------------------------

  private async patchMirrors(evidence: number[]): Promise<void> {
    const mirrors = await this.mirrorRows();
    const reverified = new Map<number, number[]>();
    for (let i = 0; i < evidence.length; i += 500) {
      const part = evidence.slice(i, i + 500);
      const rows = await q.verifiedOnMirrors(this.ctx.db, part);
      for (const r of rows) {
        const list = reverified.get(Number(r.mirror_id)) ?? [];
        list.push(Number(r.file_id));
        reverified.set(Number(r.mirror_id), list);
      }
    }
    // Apply: new mirror states, evidence of removed or moved mirrors (and of those named) read again.
    const { dropped, touched: fresh } = this.setMirrors(mirrors);
    for (const id of evidence) dropped.add(id);
    const touched = this.dropEvidence(dropped, fresh);
    for (const [mirrorId, fileIds] of reverified) {
      if (!mirrors.has(mirrorId)) continue;
      for (const fileId of fileIds) {
        if (!this.byId.has(fileId)) continue;
        let set = this.verified.get(fileId);
        if (!set) this.verified.set(fileId, (set = new Set()));
        set.add(mirrorId);
        touched.add(fileId);
      }
    }
    this.replan(touched);
  }

  private async patchFiles(ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const rows = (await q.indexFilesById(this.ctx.db, part)) as FileRow[];
      const mf = await q.verifiedForFiles(this.ctx.db, part);
      for (const id of part) {
        this.removeFile(id);
        this.verified.delete(id);
      }
      for (const r of rows) this.addFile(r);
      for (const m of mf) {
        const fileId = Number(m.file_id);
        const mirrorId = Number(m.mirror_id);
        if (!this.byId.has(fileId)) continue;
        let set = this.verified.get(fileId);
        if (!set) this.verified.set(fileId, (set = new Set()));
        set.add(mirrorId);
      }
      this.replan(part);
    }
  }

  /** Everything (full), or the rows changed since the last look. */
  private async load(full: boolean): Promise<void> {
    try {
      await this.loadInner(full);
      this.loaded = true;
      if (!this.retryTimer) {
        this.healthy = true;
        this.lastError = null;
      }
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  private async loadInner(full: boolean): Promise<void> {
    const db = this.ctx.db;
    const now = await q.databaseNow(db);
    const since = !full && this.watermark ? new Date(new Date(this.watermark).getTime() - OVERLAP_MS) : null;
    const mirrors = await this.mirrorRows();
    const rows = (await q.indexFilesSince(db, since)) as FileRow[];
    const mf = await q.mirrorFilesSince(db, since);

    // Apply.
    if (!since) {
      this.byId.clear();
      this.byPath.clear();
      this.byUrl.clear();
      this.verified.clear();
    }
    const { dropped, touched: fresh } = this.setMirrors(mirrors);
    const touched = this.dropEvidence(dropped, fresh);
    for (const r of rows) {
      touched.add(r.id);
      if (!this.addFile(r)) this.verified.delete(r.id);
    }
    for (const m of mf) {
      const fileId = Number(m.file_id);
      const mirrorId = Number(m.mirror_id);
      let set = this.verified.get(fileId);
      if (m.state === 'verified' && this.byId.has(fileId) && mirrors.has(mirrorId)) {
        if (!set) this.verified.set(fileId, (set = new Set()));
        set.add(mirrorId);
        touched.add(fileId);
      } else if (set?.delete(mirrorId)) {
        touched.add(fileId);
      }
    }
    if (!since) {
      for (const f of this.byId.values()) this.buildPlan(f);
      this.lastFull = Date.now();
    } else {
      this.replan(touched);
    }
    this.watermark = now;
  }

  verifiedMirrors(fileId: number): Set<number> | undefined {
    return this.verified.get(fileId);
  }
}

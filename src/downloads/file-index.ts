// What a redirect needs, held in process memory: every published file (public, in the repo
// tree) with its size, hashes and piece hashes, the mirrors, and which mirror was verified to
// hold which file. Loaded at start, then refreshed from the database every
// downloads.indexRefreshSeconds (only what changed since the last look), at once on this
// process's own events, and wholly every few minutes. When the database cannot be reached the
// index keeps what it has and reports itself unhealthy: the redirector then lets the origin serve.
import { sql } from 'kysely';
import type { AppContext } from '../platform/context.js';
import type { MirrorRow } from '../platform/db/schema.js';
import { mirrorInfo, type MirrorInfo } from '../mirrors/model.js';
import { downloadEvents } from './events.js';

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
}

const FULL_RELOAD_MS = 5 * 60_000;
/** Re-read this much before the last watermark: transactions that committed late. */
const OVERLAP_MS = 10_000;

export class DownloadIndex {
  readonly byId = new Map<number, IndexedFile>();
  readonly byPath = new Map<string, IndexedFile>();
  mirrors = new Map<number, MirrorInfo>();
  /** file id -> verified mirror ids */
  readonly verified = new Map<number, Set<number>>();
  /** The last refresh reached the database. */
  healthy = false;
  lastError: string | null = null;
  private watermark: Date | null = null;
  private lastFull = 0;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly pendingFiles = new Set<number>();
  private readonly onFiles = (ids: number[]) => {
    for (const id of ids) this.pendingFiles.add(id);
    this.soon();
  };
  private readonly onMirrors = () => this.soon();

  constructor(private readonly ctx: AppContext) {}

  async start(): Promise<void> {
    const ev = downloadEvents(this.ctx.db);
    ev.on('files', this.onFiles);
    ev.on('mirrors', this.onMirrors);
    await this.refresh(true).catch(() => {});
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const ev = downloadEvents(this.ctx.db);
    ev.off('files', this.onFiles);
    ev.off('mirrors', this.onMirrors);
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.refresh().catch(() => {}).finally(() => this.schedule());
    }, Math.max(100, this.ctx.config.downloads.indexRefreshSeconds * 1000));
    this.timer.unref();
  }

  /** Refresh right away (coalesced). */
  soon(): void {
    if (this.closed) return;
    void this.refresh().catch(() => {});
  }

  /** Wait for any running refresh, then refresh once more. */
  async refreshNow(full = false): Promise<void> {
    if (this.refreshing) await this.refreshing.catch(() => {});
    await this.refresh(full);
  }

  refresh(full = false): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          await this.load(full || Date.now() - this.lastFull > FULL_RELOAD_MS || this.watermark === null);
          full = false;
        } while (this.again && !this.closed);
        this.healthy = true;
        this.lastError = null;
      } catch (err) {
        this.healthy = false;
        this.lastError = (err as Error).message;
        throw err;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private fileQuery() {
    return this.ctx.db
      .selectFrom('files as f')
      .innerJoin('versions as v', 'v.id', 'f.version_id')
      .innerJoin('activities as a', 'a.id', 'v.activity_id')
      .select([
        'f.id', 'f.size', 'f.sha256', 'f.sha1', 'f.md5', 'f.file_name', 'f.repo_path', 'f.storage_key', 'f.created_at', 'f.published_at',
        'f.piece_length', 'f.piece_hashes', 'f.status', 'a.status as activity_status', 'v.activity_id',
      ]);
  }

  private async load(full: boolean): Promise<void> {
    const db = this.ctx.db;
    const now = (await sql<{ now: Date }>`select now() as now`.execute(db)).rows[0]!.now;
    const since = this.watermark ? new Date(new Date(this.watermark).getTime() - OVERLAP_MS) : null;
    const pending = [...this.pendingFiles];
    this.pendingFiles.clear();

    const mirrorRows = (await db.selectFrom('mirrors').selectAll().execute()) as MirrorRow[];
    const mirrors = new Map<number, MirrorInfo>();
    for (const r of mirrorRows) mirrors.set(Number(r.id), mirrorInfo(r));

    let q = this.fileQuery();
    if (!full && since) {
      q = q.where((eb) =>
        eb.or([
          eb('f.status_changed_at', '>', since),
          eb('a.status_changed_at', '>', since),
          eb('f.published_at', '>', since),
          ...(pending.length ? [eb('f.id', 'in', pending)] : []),
        ]),
      );
    } else {
      q = q.where('f.repo_path', 'is not', null);
    }
    const rows = await q.execute();

    let mfQuery = db.selectFrom('mirror_files').select(['mirror_id', 'file_id', 'state']);
    if (!full && since) mfQuery = mfQuery.where((eb) => eb.or([eb('updated_at', '>', since), ...(pending.length ? [eb('file_id', 'in', pending)] : [])]));
    else mfQuery = mfQuery.where('state', '=', 'verified');
    const mf = await mfQuery.execute();

    // Apply.
    if (full) {
      this.byId.clear();
      this.byPath.clear();
      this.verified.clear();
    }
    const seen = new Set<number>();
    for (const r of rows) {
      seen.add(r.id);
      const old = this.byId.get(r.id);
      if (old) {
        this.byId.delete(r.id);
        if (this.byPath.get(old.repoPath) === old) this.byPath.delete(old.repoPath);
      }
      if (r.status !== 'public' || r.activity_status !== 'public' || !r.repo_path || !r.published_at) {
        this.verified.delete(r.id);
        continue;
      }
      const sha256b64 = Buffer.from(r.sha256, 'hex').toString('base64');
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
        pieceHashes: Buffer.from(r.piece_hashes as Uint8Array),
        etag: `"${r.sha256}"`,
        reprDigest: `sha-256=:${sha256b64}:`,
        legacyDigest: `SHA-256=${sha256b64}`,
      };
      this.byId.set(f.id, f);
      this.byPath.set(f.repoPath, f);
    }
    // Files asked for that are gone from the database altogether.
    for (const id of pending) {
      if (seen.has(id)) continue;
      const old = this.byId.get(id);
      if (old) {
        this.byId.delete(id);
        if (this.byPath.get(old.repoPath) === old) this.byPath.delete(old.repoPath);
      }
      this.verified.delete(id);
    }
    if (!full && pending.length) {
      // Rows of mirror_files for these files that were deleted (unpublished) leave no trace: drop first.
      for (const id of pending) this.verified.delete(id);
    }
    for (const m of mf) {
      let set = this.verified.get(m.file_id);
      if (m.state === 'verified') {
        if (!set) this.verified.set(m.file_id, (set = new Set()));
        set.add(Number(m.mirror_id));
      } else if (set) {
        set.delete(Number(m.mirror_id));
      }
    }
    // Mirrors that were removed lose their evidence.
    for (const set of this.verified.values()) for (const id of set) if (!mirrors.has(id)) set.delete(id);
    this.mirrors = mirrors;
    this.watermark = now;
    if (full) this.lastFull = Date.now();
  }

  verifiedMirrors(fileId: number): Set<number> | undefined {
    return this.verified.get(fileId);
  }
}

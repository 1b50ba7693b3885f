// Evidence that a mirror holds the right bytes, and that it is up.
//
// Verification (per mirror and file, rows of mirror_files): HEAD for existence and size, then a
// range read of one random piece checked against the piece hash stored at ingest. Right after
// a file is published every enabled mirror gets a row due now; a file that is not there yet is
// retried with backoff (mirrors.verifyBackoffSeconds: 2, 5, 15, 30 minutes, then hourly). A
// mirror becomes a candidate for a file only once the file is verified on it.
//
// Health (mirrors.healthIntervalSeconds, HTTP and HTTPS separately): a HEAD of a random file
// verified on the mirror (the TRACE file when it has none). A mirror that fails, answers with a
// wrong size or redirects elsewhere stops receiving redirects at once (http_ok/https_ok false)
// and is checked again next round. A mirror found serving wrong bytes (or a wrong size) for a
// verified file loses that file, and its other verified files are rechecked right away.
import { createHash, randomInt } from 'node:crypto';
import type { AppContext } from '../platform/context.js';
import type { JobRunner } from '../platform/jobs/index.js';
import { enqueue } from '../platform/jobs/index.js';
import { events } from '../platform/events.js';
import { baseUrl, mirrorFileUrl, TRACE_FILE } from './model.js';
import * as q from './queries.js';

export const VERIFY_QUEUE = 'mirror.verify';
export const HEALTH_QUEUE = 'mirror.health';

export interface CheckFile {
  id: number;
  repoPath: string;
  size: number;
  pieceLength: number;
  pieceHashes: Buffer;
}

export type CheckResult = { ok: true } | { ok: false; error: string; wrongBytes: boolean };

export interface CheckerOptions {
  log?: (msg: string) => void;
}

export class MirrorChecker {
  private round = 0;
  private readonly log: (msg: string) => void;
  /** A change the other processes could not be told of (they catch up at their periodic check). */
  private readonly notifyFailed = (err: unknown) => this.log((err as Error).message);

  constructor(
    private readonly ctx: AppContext,
    opts: CheckerOptions = {},
  ) {
    this.log = opts.log ?? (() => {});
  }

  private get cfg() {
    return this.ctx.config.mirrors;
  }

  register(runner: JobRunner): void {
    runner.every(VERIFY_QUEUE, this.cfg.verifySweepSeconds, async (_job, signal) => {
      await this.sweep(signal);
    });
    runner.every(HEALTH_QUEUE, this.cfg.healthIntervalSeconds, async (_job, signal) => {
      await this.healthRound(signal);
    });
  }

  backoffSeconds(attempts: number): number {
    const list = this.cfg.verifyBackoffSeconds.map(Number).filter((n) => Number.isFinite(n) && n >= 0);
    if (list.length === 0) return 3600;
    return list[Math.min(Math.max(attempts, 1), list.length) - 1]!;
  }

  /** A file was published (or republished): check it on every enabled mirror now. */
  async fileChanged(fileId: number): Promise<void> {
    await q.queueFileOnMirrors(this.ctx.db, fileId);
    await this.wake();
  }

  /** A mirror was added or enabled: check every published file on it. */
  async mirrorChanged(mirrorId: number): Promise<void> {
    await q.queueFilesOnMirror(this.ctx.db, mirrorId);
    await events.emit('downloads.changed', { ctx: this.ctx, mirrors: [mirrorId] });
    await this.wake();
  }

  private async wake(): Promise<void> {
    await enqueue(this.ctx.db, VERIFY_QUEUE, {}, { dedupeKey: 'recurring', maxAttempts: 1_000_000 });
  }

  // --- verification ----------------------------------------------------------------------------

  /** Check every due (mirror, file) pair. Returns how many were checked. */
  async sweep(signal?: AbortSignal): Promise<number> {
    let total = 0;
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      if (signal?.aborted || Date.now() > deadline) break;
      const due = await q.dueChecks(this.ctx.db, 200);
      if (due.length === 0) break;
      let i = 0;
      const workers = Array.from({ length: Math.max(1, this.cfg.verifyConcurrency) }, async () => {
        while (i < due.length) {
          const row = due[i++]!;
          const base = baseUrl(row.http_url) ?? baseUrl(row.https_url)!;
          const file: CheckFile = {
            id: row.file_id,
            repoPath: row.repo_path!,
            size: Number(row.size),
            pieceLength: row.piece_length,
            pieceHashes: Buffer.from(row.piece_hashes as Uint8Array),
          };
          const result = await this.verifyFile(base, file, signal);
          await this.record(row.mirror_id, file.id, row.state, row.attempts, result);
        }
      });
      await Promise.all(workers);
      total += due.length;
    }
    return total;
  }

  /** HEAD (size), then one random piece read and hashed. */
  async verifyFile(base: string, file: CheckFile, signal?: AbortSignal, piece?: number): Promise<CheckResult> {
    const url = mirrorFileUrl(base, file.repoPath);
    try {
      const head = await this.request(url, 'HEAD', undefined, signal);
      if (head.status !== 200)
        return {
          ok: false,
          error: head.status >= 300 && head.status < 400 ? `redirects elsewhere (${head.status})` : `HTTP ${head.status}`,
          wrongBytes: false,
        };
      const len = Number(head.headers.get('content-length'));
      if (head.headers.get('content-length') !== null && len !== file.size)
        return { ok: false, error: `size ${len} instead of ${file.size}`, wrongBytes: true };
      const pieces = Math.floor(file.pieceHashes.length / 32);
      if (pieces === 0) return { ok: true };
      const p = piece ?? randomInt(pieces);
      const start = p * file.pieceLength;
      const end = Math.min(file.size, start + file.pieceLength) - 1;
      const bytes = await this.readRange(url, start, end, signal);
      if (typeof bytes === 'string') return { ok: false, error: bytes, wrongBytes: false };
      const got = createHash('sha256').update(bytes).digest();
      if (!got.equals(file.pieceHashes.subarray(p * 32, p * 32 + 32)))
        return { ok: false, error: `piece ${p} (bytes ${start}-${end}) has other bytes`, wrongBytes: true };
      return { ok: true };
    } catch (err) {
      return { ok: false, error: describeError(err), wrongBytes: false };
    }
  }

  private async request(url: string, method: string, headers: Record<string, string> | undefined, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.cfg.requestTimeoutMs);
    const res = await fetch(url, {
      method,
      headers: { 'user-agent': 'aslo-mirror-check', ...headers },
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (method === 'HEAD') await res.body?.cancel().catch(() => {});
    return res;
  }

  /** The bytes start..end (inclusive), or an error text. A mirror that ignores Range is read up to end. */
  private async readRange(url: string, start: number, end: number, signal?: AbortSignal): Promise<Buffer | string> {
    const res = await this.request(url, 'GET', { range: `bytes=${start}-${end}` }, signal);
    if (res.status !== 206 && res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return `range read answered HTTP ${res.status}`;
    }
    const skip = res.status === 206 ? 0 : start;
    if (res.status === 206) {
      const cr = res.headers.get('content-range');
      if (!cr || !cr.startsWith(`bytes ${start}-${end}/`)) {
        await res.body?.cancel().catch(() => {});
        return `range read answered Content-Range ${cr ?? 'none'}`;
      }
    }
    const want = end - start + 1;
    const chunks: Buffer[] = [];
    let seen = 0;
    let have = 0;
    const reader = res.body!.getReader();
    try {
      while (have < want) {
        const { done, value } = await reader.read();
        if (done) break;
        let chunk = Buffer.from(value);
        if (seen + chunk.length <= skip) {
          seen += chunk.length;
          continue;
        }
        if (seen < skip) {
          chunk = chunk.subarray(skip - seen);
          seen = skip;
        }
        const take = chunk.subarray(0, want - have);
        chunks.push(take);
        have += take.length;
        seen += chunk.length;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (have < want) return `range read returned ${have} of ${want} bytes`;
    return Buffer.concat(chunks);
  }

  private async record(
    mirrorId: number,
    fileId: number,
    previous: string,
    attempts: number,
    result: CheckResult,
    opts: { recheck?: boolean } = {},
  ): Promise<void> {
    const db = this.ctx.db;
    if (result.ok) {
      await q.markFileVerified(db, mirrorId, fileId);
      if (previous !== 'verified') await events.emit('downloads.changed', { ctx: this.ctx, files: [fileId] }, { onError: this.notifyFailed });
      return;
    }
    const n = attempts + 1;
    const lost = previous === 'verified';
    await q.markFileUnverified(db, mirrorId, fileId, {
      state: lost || result.wrongBytes ? 'failed' : 'pending',
      attempts: n,
      nextCheckAt: new Date(Date.now() + this.backoffSeconds(n) * 1000),
      lastError: result.error.slice(0, 500),
    });
    if (lost) {
      await events.emit('downloads.changed', { ctx: this.ctx, files: [fileId] }, { onError: this.notifyFailed });
      this.log(`mirror ${mirrorId} lost file ${fileId}: ${result.error}`);
    }
    if (lost && result.wrongBytes && opts.recheck !== false) await this.recheckMirror(mirrorId);
  }

  /** Re-verify every file verified on a mirror (it was caught with wrong bytes). */
  async recheckMirror(mirrorId: number): Promise<void> {
    await q.recheckVerifiedFiles(this.ctx.db, mirrorId);
    await this.wake();
  }

  // --- health ----------------------------------------------------------------------------------

  async healthRound(signal?: AbortSignal): Promise<void> {
    this.round++;
    const spot = this.cfg.spotCheckEvery > 0 && this.round % this.cfg.spotCheckEvery === 0;
    const mirrors = await q.enabledMirrors(this.ctx.db);
    await Promise.all(mirrors.map((m) => this.checkMirror(m, spot, signal).catch((err) => this.log(`health check of ${m.name}: ${describeError(err)}`))));
  }

  /** Mirrors caught without a file they were verified to hold: no clients until all their files are checked again. */
  private readonly suspect = new Set<number>();
  /** The TRACE text last seen on each mirror: when it changes, the mirror synced. */
  private readonly traces = new Map<number, string>();

  async checkMirror(
    m: { id: number; name: string; http_url: string | null; https_url: string | null; http_ok: boolean | null; https_ok: boolean | null },
    spot = false,
    signal?: AbortSignal,
  ): Promise<void> {
    const rows = await q.randomVerifiedFiles(this.ctx.db, m.id, Math.max(1, this.cfg.healthSampleFiles));
    const picks: CheckFile[] = rows.map((r) => ({
      id: r.id,
      repoPath: r.repo_path!,
      size: Number(r.size),
      pieceLength: r.piece_length,
      pieceHashes: Buffer.from(r.piece_hashes as Uint8Array),
    }));
    const file = picks[0] ?? null;
    const lost = new Map<number, { error: string; wrongBytes: boolean }>();
    const results: { scheme: 'http' | 'https'; error: string | null }[] = [];
    let firstBase: string | null = null;
    for (const scheme of ['http', 'https'] as const) {
      const base = baseUrl(scheme === 'http' ? m.http_url : m.https_url);
      if (!base) continue;
      firstBase ??= base;
      let error: string | null = null;
      try {
        // Reachable, and its tree where we expect it: the TRACE file at the top.
        const trace = await this.request(`${base}/${TRACE_FILE}`, 'GET', undefined, signal);
        if (trace.status >= 300 && trace.status < 400) error = `redirects elsewhere (${trace.status} to ${trace.headers.get('location') ?? '?'})`;
        else if (trace.status !== 200) error = `HTTP ${trace.status} for ${TRACE_FILE}`;
        const text = trace.status === 200 ? (await trace.text()).slice(0, 200) : null;
        if (trace.status !== 200) await trace.body?.cancel().catch(() => {});
        if (text !== null && base === firstBase) await this.traceSeen(m.id, text);
        if (!error && file) {
          // A random file verified there: not there, another size or a redirect means it lost it.
          const r = await this.checkHead(base, file, signal);
          if (r === 'redirect') error = 'redirects elsewhere';
          else if (r !== null) lost.set(file.id, r);
        }
      } catch (err) {
        error = describeError(err);
      }
      results.push({ scheme, error });
    }
    // More samples, on the first base that answered.
    const upBase = results.find((r) => r.error === null) ? baseUrl(results.find((r) => r.error === null)!.scheme === 'http' ? m.http_url : m.https_url) : null;
    if (upBase) {
      for (const f of picks.slice(1)) {
        const r = await this.checkHead(upBase, f, signal).catch(() => null);
        if (r && r !== 'redirect') lost.set(f.id, r);
      }
    }
    if (spot && file && upBase && !lost.has(file.id)) {
      const r = await this.verifyFile(upBase, file, signal);
      if (!r.ok && r.wrongBytes) lost.set(file.id, { error: r.error, wrongBytes: true });
    }
    // Lost files: out of its evidence at once; its other files are checked again, and until that
    // recheck is done no client is sent there (another of its files may be gone too).
    for (const [fileId, why] of lost)
      await this.record(m.id, fileId, 'verified', 0, { ok: false, error: why.error, wrongBytes: why.wrongBytes }, { recheck: false });
    if (lost.size) {
      await this.recheckMirror(m.id);
      this.suspect.add(m.id);
    } else if (this.suspect.has(m.id)) {
      if (!(await q.hasRecheckDue(this.ctx.db, m.id))) this.suspect.delete(m.id);
    }
    const rechecking = this.suspect.has(m.id);
    let changed = false;
    for (const { scheme, error: reachError } of results) {
      const error =
        reachError ?? (rechecking ? `lost ${lost.size ? [...lost.values()].map((l) => l.error).join('; ') : 'files'}: re-verifying its files` : null);
      const wasOk = scheme === 'http' ? m.http_ok : m.https_ok;
      const ok = error === null;
      await q.recordMirrorHealth(this.ctx.db, m.id, scheme, ok, error?.slice(0, 500) ?? null);
      if (wasOk !== ok) {
        changed = true;
        if (!ok) this.log(`mirror ${m.name} ${scheme.toUpperCase()} is down: ${error}`);
      }
    }
    if (changed) {
      await q.touchMirror(this.ctx.db, m.id);
      await events.emit('downloads.changed', { ctx: this.ctx, mirrors: [m.id] }, { onError: this.notifyFailed });
    }
  }

  /** HEAD one verified file: null when fine, 'redirect', or why the mirror does not hold it. */
  private async checkHead(base: string, f: CheckFile, signal?: AbortSignal): Promise<null | 'redirect' | { error: string; wrongBytes: boolean }> {
    const res = await this.request(mirrorFileUrl(base, f.repoPath), 'HEAD', undefined, signal);
    if (res.status >= 300 && res.status < 400) return 'redirect';
    if (res.status !== 200) return { error: `HTTP ${res.status} for ${f.repoPath}`, wrongBytes: false };
    const len = res.headers.get('content-length');
    if (len !== null && Number(len) !== f.size) return { error: `size ${len} instead of ${f.size} for ${f.repoPath}`, wrongBytes: true };
    return null;
  }

  /**
   * The mirror's TRACE changed: it synced. Files waiting to be verified there are checked now
   * instead of at their next backoff step, so a new file is redirected to soon after the sync.
   */
  private async traceSeen(mirrorId: number, text: string): Promise<void> {
    const before = this.traces.get(mirrorId);
    this.traces.set(mirrorId, text);
    if (before === undefined || before === text) return;
    if (await q.hurryPendingFiles(this.ctx.db, mirrorId)) await this.wake();
  }
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'timed out';
  if (e?.cause?.code) return `${e.cause.code}${e.cause.message ? `: ${e.cause.message}` : ''}`;
  return e?.message ?? String(err);
}

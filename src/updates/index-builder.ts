// Builds JSON index documents on worker threads, with bounded concurrency: `size` workers, each
// building one document at a time, and at most `maxQueue` builds waiting; beyond that a request
// is refused at once (INDEX_BUSY, 503) instead of piling up. Every worker holds a snapshot of the
// catalog (json-index.ts snapshotOf), sent again when the index has changed since (its generation).
// The update check (update-aslo.php) never waits for any of this: it runs on the event loop, and
// the workers run at a lower priority (index-worker.ts).
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import { AsloError } from '../platform/errors.js';
import type { IndexQuery, IndexSnapshot } from './json-index.js';

export type WorkerRequest =
  | { type: 'snapshot'; snapshot: IndexSnapshot; key: KeyObject }
  | { type: 'build'; id: number; query: IndexQuery }
  | { type: 'compress'; id: number; body: ArrayBuffer; encoding: 'gzip' | 'br' };

export type WorkerReply = { id: number; ok: true; body: ArrayBuffer; etag?: string; signature?: string } | { id: number; ok: false; message: string };

export interface BuiltBody {
  body: Buffer;
  etag: string;
  signature: string;
}

interface Job {
  id: number;
  request: { type: 'build'; query: IndexQuery } | { type: 'compress'; body: Buffer; encoding: 'gzip' | 'br' };
  resolve(r: WorkerReply & { ok: true }): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  generation: number;
  job: Job | null;
}

export interface IndexBuildPoolOptions {
  /** Workers (each builds one document at a time). */
  size: number;
  /** Builds allowed to wait for a worker; more are refused with INDEX_BUSY. */
  maxQueue: number;
  /** The index's current generation and its snapshot (called when a worker's is older). */
  generation(): number;
  snapshot(): IndexSnapshot;
  key(): KeyObject;
  log(msg: string): void;
}

// Run from the TypeScript sources (tsx), the worker needs the loader registered first
// (index-worker.mjs); compiled (dist/), it is plain JavaScript.
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './index-worker.mjs' : './index-worker.js', import.meta.url);
/** After a worker failed, builds run in the caller's thread (the service's fallback) this long. */
const RESPAWN_AFTER_FAILURE_MS = 30_000;

export class IndexBuildPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private snap: { generation: number; snapshot: IndexSnapshot } | null = null;
  private closed = false;
  private lastFailure = 0;

  constructor(private readonly opts: IndexBuildPoolOptions) {}

  /** Builds waiting for a worker, and builds running. */
  get load(): { queued: number; running: number } {
    return { queued: this.queue.length, running: this.slots.filter((s) => s.job).length };
  }

  async build(query: IndexQuery): Promise<BuiltBody> {
    const r = await this.submit({ type: 'build', query });
    return { body: Buffer.from(r.body), etag: r.etag!, signature: r.signature! };
  }

  async compress(body: Buffer, encoding: 'gzip' | 'br'): Promise<Buffer> {
    const r = await this.submit({ type: 'compress', body, encoding });
    return Buffer.from(r.body);
  }

  private submit(request: Job['request']): Promise<WorkerReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error('the index build pool is closed'));
    // A worker that cannot start is not started again for every request.
    if (this.slots.length === 0 && Date.now() - this.lastFailure < RESPAWN_AFTER_FAILURE_MS) {
      return Promise.reject(new Error('the index build worker failed moments ago'));
    }
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(
        new AsloError('INDEX_BUSY', 'The index is being built for many other requests; please retry in a few seconds.', { statusCode: 503 }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, request, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.opts.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      try {
        if (job.request.type === 'build') {
          const generation = this.opts.generation();
          if (slot.generation !== generation) {
            slot.worker.postMessage({ type: 'snapshot', snapshot: this.snapshotFor(generation), key: this.opts.key() } satisfies WorkerRequest);
            slot.generation = generation;
            // Once every worker has it, this thread need not keep it.
            if (this.slots.length >= this.opts.size && this.slots.every((s) => s.generation === generation)) this.snap = null;
          }
          slot.worker.postMessage({ type: 'build', id: job.id, query: job.request.query } satisfies WorkerRequest);
        } else {
          // A copy goes over (the caller keeps its body).
          const copy = new Uint8Array(job.request.body).buffer;
          slot.worker.postMessage({ type: 'compress', id: job.id, body: copy, encoding: job.request.encoding } satisfies WorkerRequest, [copy]);
        }
      } catch (err) {
        slot.job = null;
        job.reject(err as Error);
      }
    }
  }

  private snapshotFor(generation: number): IndexSnapshot {
    if (this.snap?.generation !== generation) this.snap = { generation, snapshot: this.opts.snapshot() };
    return this.snap.snapshot;
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL);
    // An idle pool does not keep the process alive.
    worker.unref();
    const slot: Slot = { worker, generation: -1, job: null };
    this.slots.push(slot);
    worker.on('message', (m: WorkerReply) => {
      const job = slot.job;
      if (!job || job.id !== m.id) return;
      slot.job = null;
      if (m.ok) job.resolve(m);
      else job.reject(new Error(`index build failed: ${m.message}`));
      this.dispatch();
    });
    const gone = (why: string, failed: boolean) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      if (failed) this.lastFailure = Date.now();
      if (!this.closed) this.opts.log(`index build worker stopped (${why}); a new one starts on the next build`);
      const job = slot.job;
      slot.job = null;
      job?.reject(new Error(`the index build worker stopped (${why})`));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (err) => gone(err.message, true));
    worker.on('exit', (code) => gone(`exit ${code}`, code !== 0));
    return slot;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the index build pool is closed'));
    const slots = this.slots.splice(0);
    for (const s of slots) s.job?.reject(new Error('the index build pool is closed'));
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
    this.snap = null;
  }
}

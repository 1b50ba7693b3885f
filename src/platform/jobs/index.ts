// Durable background jobs on the `jobs` table, shared by every feature (publishing to the repo
// tree, mirror verification and health checks, rollups...).
//
// - Durable: a job is a row; it survives restarts and crashes. A worker that dies mid-job loses
//   its lease (locked_until) and the job is claimed again after the lease ends.
// - Never twice at once: a claim sets locked_by/locked_until in one UPDATE over rows picked with
//   FOR UPDATE SKIP LOCKED, so two workers (on PostgreSQL, any number of processes) never claim
//   the same row; a running job's lease is extended while it runs. PGlite is one process and one
//   connection: the same statement is simply serialized.
// - Deduplicated: jobs with a dedupe key are unique among the unfinished ones of their queue.
//   Enqueuing again while that job waits moves it earlier; while it runs, it is marked to run
//   once more after this run (so a change made during a run is never lost).
// - Retries: a failed run is retried with exponential backoff up to max_attempts; then the row
//   is finished with its last error kept (a dead job, listed by `deadJobs`).
// - Recurring work: `every(queue, seconds)` keeps exactly one pending job for the queue.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';
import * as q from './queries.js';

export interface EnqueueOptions {
  /** At most one unfinished job per (queue, dedupeKey). */
  dedupeKey?: string;
  /** Earliest run time (default now). */
  runAt?: Date;
  /** Runs before giving up (default 20). */
  maxAttempts?: number;
  /** With a dedupe key: leave an existing unfinished job alone (no earlier run, no re-run). */
  ifAbsent?: boolean;
}

export interface JobRecord {
  id: number;
  queue: string;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  dedupeKey: string | null;
}

/** What a handler may return: nothing (done), or a time to run again without counting a failure. */
export type JobOutcome = void | { retryAt: Date };

export type JobHandler = (job: JobRecord, signal: AbortSignal) => Promise<JobOutcome>;

type Waker = () => void;
const wakers = new WeakMap<Db, Set<Waker>>();

/** Add a job. Returns true when a new row was created (false: merged into an existing one). */
export async function enqueue(db: Db, queue: string, payload: Record<string, unknown> = {}, opts: EnqueueOptions = {}): Promise<boolean> {
  const runAt = opts.runAt ?? new Date();
  const maxAttempts = opts.maxAttempts ?? 20;
  let created: boolean;
  if (opts.dedupeKey && opts.ifAbsent) {
    created = await q.insertJobIfAbsent(db, queue, payload, opts.dedupeKey, runAt, maxAttempts);
  } else if (opts.dedupeKey) {
    created = await q.upsertJob(db, queue, payload, opts.dedupeKey, runAt, maxAttempts);
  } else {
    await q.insertJob(db, queue, payload, runAt, maxAttempts);
    created = true;
  }
  if (runAt.getTime() <= Date.now() + 50) for (const w of wakers.get(db) ?? []) w();
  return created;
}

export interface RunnerOptions {
  /** Identifies this worker in locked_by (default host:pid:random). */
  workerId?: string;
  /** Jobs run at the same time by this worker. */
  concurrency?: number;
  /** How often to look for due jobs when nothing woke the worker, in ms. */
  pollMs?: number;
  /** Lease length: a job whose worker vanished is claimed again after this, in seconds. */
  leaseSeconds?: number;
  /** Backoff of failed runs: base * 2^(attempt-1), capped (seconds). */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /** Finished jobs are deleted after this many days. */
  keepDays?: number;
  log?: { warn(msg: string): void; info?(msg: string): void };
}

interface Recurring {
  queue: string;
  seconds: number;
}

/** Claims due jobs of the registered queues and runs their handlers. */
export class JobRunner {
  readonly workerId: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly recurring: Recurring[] = [];
  private readonly running = new Map<number, { controller: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private stopped = true;
  private ticking = false;
  private tickAgain = false;
  private lastCleanup = 0;
  private readonly opts: Required<Omit<RunnerOptions, 'log' | 'workerId'>>;
  private readonly log: NonNullable<RunnerOptions['log']>;
  private readonly wake = () => this.kick();

  constructor(
    private readonly db: Db,
    opts: RunnerOptions = {},
  ) {
    this.workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.opts = {
      concurrency: opts.concurrency ?? 2,
      pollMs: opts.pollMs ?? 1000,
      leaseSeconds: opts.leaseSeconds ?? 120,
      retryBaseSeconds: opts.retryBaseSeconds ?? 10,
      retryMaxSeconds: opts.retryMaxSeconds ?? 3600,
      keepDays: opts.keepDays ?? 7,
    };
    this.log = opts.log ?? { warn: () => {} };
  }

  /** Register the handler of a queue (before start). */
  handle(queue: string, handler: JobHandler): this {
    this.handlers.set(queue, handler);
    return this;
  }

  /** Keep one pending job of `queue` at all times, run every `seconds` after the previous run. */
  every(queue: string, seconds: number, handler: JobHandler): this {
    this.recurring.push({ queue, seconds });
    this.handlers.set(queue, async (job, signal) => {
      await handler(job, signal);
      return { retryAt: new Date(Date.now() + seconds * 1000) };
    });
    return this;
  }

  get queues(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    for (const r of this.recurring) await enqueue(this.db, r.queue, {}, { dedupeKey: 'recurring', maxAttempts: 1_000_000, ifAbsent: true });
    let set = wakers.get(this.db);
    if (!set) wakers.set(this.db, (set = new Set()));
    set.add(this.wake);
    this.heartbeat = setInterval(() => void this.extendLeases(), Math.max(1000, (this.opts.leaseSeconds * 1000) / 3));
    this.heartbeat.unref();
    this.schedule(0);
  }

  /** Stop claiming; wait for running jobs up to `graceMs`, then abort them and release their leases. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    wakers.get(this.db)?.delete(this.wake);
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = null;
    const all = [...this.running.values()];
    let timeout: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((r) => (timeout = setTimeout(r, graceMs)));
    await Promise.race([Promise.all(all.map((r) => r.done)), graceOver]);
    clearTimeout(timeout);
    for (const r of this.running.values()) r.controller.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
  }

  /** Run due jobs now (tests and the CLI): until nothing is due or `maxJobs` ran. Returns how many ran. */
  async drain(maxJobs = 1000): Promise<number> {
    let ran = 0;
    while (ran < maxJobs) {
      const jobs = await this.claim(Math.min(this.opts.concurrency, maxJobs - ran));
      if (jobs.length === 0) break;
      await Promise.all(jobs.map((j) => this.runOne(j, new AbortController())));
      ran += jobs.length;
    }
    return ran;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.ticking = true;
    this.tickAgain = false;
    try {
      const free = this.opts.concurrency - this.running.size;
      if (free > 0) {
        const jobs = await this.claim(free);
        for (const job of jobs) {
          const controller = new AbortController();
          const done = this.runOne(job, controller).finally(() => {
            this.running.delete(job.id);
            this.kick();
          });
          this.running.set(job.id, { controller, done });
        }
        if (jobs.length === free) this.tickAgain = true;
      }
      if (Date.now() - this.lastCleanup > 3600_000) {
        this.lastCleanup = Date.now();
        await this.cleanup();
      }
    } catch (err) {
      this.log.warn(`jobs: ${(err as Error).message}`);
    } finally {
      this.ticking = false;
      this.schedule(this.tickAgain && this.running.size < this.opts.concurrency ? 0 : this.opts.pollMs);
    }
  }

  private async claim(limit: number): Promise<JobRecord[]> {
    const queues = this.queues;
    if (queues.length === 0 || limit <= 0) return [];
    const lease = `${this.opts.leaseSeconds} seconds`;
    const rows = await q.claimJobs(this.db, this.workerId, queues, lease, limit);
    return rows.map((r) => ({
      id: Number(r.id),
      queue: r.queue,
      payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, unknown>,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      dedupeKey: r.dedupe_key,
    }));
  }

  private async runOne(job: JobRecord, controller: AbortController): Promise<void> {
    const handler = this.handlers.get(job.queue);
    let outcome: JobOutcome;
    try {
      if (!handler) throw new Error(`no handler for queue ${job.queue}`);
      outcome = await handler(job, controller.signal);
    } catch (err) {
      await this.failed(job, err).catch((e) => this.log.warn(`jobs: could not record the failure of job ${job.id}: ${(e as Error).message}`));
      return;
    }
    await this.finished(job, outcome).catch((e) => this.log.warn(`jobs: could not finish job ${job.id}: ${(e as Error).message}`));
  }

  private async finished(job: JobRecord, outcome: JobOutcome): Promise<void> {
    if (await q.requeueIfRerun(this.db, job.id, this.workerId)) {
      this.kick();
      return;
    }
    if (outcome && 'retryAt' in outcome) {
      await q.updateClaimedJob(this.db, job.id, this.workerId, { locked_by: null, locked_until: null, attempts: 0, run_at: outcome.retryAt, last_error: null });
      return;
    }
    await q.updateClaimedJob(this.db, job.id, this.workerId, { done_at: new Date(), locked_by: null, locked_until: null, last_error: null });
  }

  private async failed(job: JobRecord, err: unknown): Promise<void> {
    const message = (err as Error)?.message ?? String(err);
    this.log.warn(`jobs: ${job.queue} job ${job.id} failed (attempt ${job.attempts}/${job.maxAttempts}): ${message}`);
    if (job.attempts >= job.maxAttempts) {
      await q.updateClaimedJob(this.db, job.id, this.workerId, {
        done_at: new Date(),
        locked_by: null,
        locked_until: null,
        last_error: message.slice(0, 2000),
      });
      return;
    }
    const delay = Math.min(this.opts.retryMaxSeconds, this.opts.retryBaseSeconds * 2 ** (job.attempts - 1));
    await q.updateClaimedJob(this.db, job.id, this.workerId, {
      run_at: new Date(Date.now() + delay * 1000),
      locked_by: null,
      locked_until: null,
      last_error: message.slice(0, 2000),
      rerun: false,
    });
  }

  private async extendLeases(): Promise<void> {
    const ids = [...this.running.keys()];
    if (ids.length === 0) return;
    const lease = `${this.opts.leaseSeconds} seconds`;
    await q.extendLeases(this.db, ids, this.workerId, lease).catch((err) => this.log.warn(`jobs: could not extend leases: ${(err as Error).message}`));
  }

  private async cleanup(): Promise<void> {
    const days = `${this.opts.keepDays} days`;
    await q.deleteFinishedJobs(this.db, days);
  }
}

export { deadJobs, pendingJobs } from './queries.js';

// `aslo serve --workers N`: N processes of one role on one machine (node:cluster). The primary
// process serves nothing itself: it prepares the database once (migrations, sample content),
// forks the workers, which share the listening port, restarts a worker that dies (with a growing
// delay when one keeps dying), adds up the workers' metrics for /metrics, and on SIGTERM/SIGINT
// lets every worker finish its requests before exiting.
//
// Background jobs run in every worker of the roles that run them (all, worker); the job table's
// leases (SKIP LOCKED claims) keep a job from running twice at once, whatever the process count.
import cluster, { type Worker } from 'node:cluster';
import promClient from 'prom-client';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import { setClusterMetricsSource } from '../metrics/plugin.js';

const METRICS_REQ = 'aslo:metrics-req';
const METRICS_RES = 'aslo:metrics-res';

export interface PrimaryOptions {
  workers: number;
  role: string;
  log: Logger;
  /** Grace for workers to finish their requests on shutdown, in ms. */
  graceMs?: number;
}

export interface RunningCluster {
  /** Resolves with the exit code once every worker has stopped. */
  done: Promise<number>;
  /** Current worker processes (tests). */
  pids(): number[];
  stop(): Promise<number>;
}

/** The primary's side. Call only when cluster.isPrimary. */
export function runPrimary(opts: PrimaryOptions): RunningCluster {
  const { log } = opts;
  const aggregator = new promClient.AggregatorRegistry();
  const live = new Map<number, Worker>();
  let stopping = false;
  let recentDeaths: number[] = [];
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => (resolveDone = r));

  const fork = () => {
    const w = cluster.fork({ ASLO_ROLE: opts.role });
    live.set(w.id, w);
    w.on('message', (msg: { type?: string; id?: number }) => {
      if (msg?.type !== METRICS_REQ) return;
      aggregator
        .clusterMetrics()
        .then((text) => w.isConnected() && w.send({ type: METRICS_RES, id: msg.id, text, contentType: aggregator.contentType }))
        .catch((err: Error) => w.isConnected() && w.send({ type: METRICS_RES, id: msg.id, error: err.message }));
    });
  };

  cluster.on('exit', (w, code, signal) => {
    live.delete(w.id);
    if (stopping) {
      if (live.size === 0) resolveDone(0);
      return;
    }
    const now = Date.now();
    recentDeaths = recentDeaths.filter((t) => now - t < 60_000);
    recentDeaths.push(now);
    // 0.5 s, then longer while workers keep dying (a broken config, the database gone), up to 30 s.
    const delay = Math.min(30_000, 500 * 2 ** Math.max(0, recentDeaths.length - 1));
    log.warn({ worker: w.process.pid, code, signal, restartInMs: delay }, 'worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  for (let i = 0; i < opts.workers; i++) fork();
  log.info({ workers: opts.workers, role: opts.role }, 'cluster started');

  const stop = async (): Promise<number> => {
    if (stopping) return done;
    stopping = true;
    if (live.size === 0) resolveDone(0);
    for (const w of live.values()) w.process.kill('SIGTERM');
    const grace = setTimeout(() => {
      for (const w of live.values()) w.process.kill('SIGKILL');
    }, opts.graceMs ?? 15_000);
    grace.unref();
    const code = await done;
    clearTimeout(grace);
    return code;
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log.info({ signal: sig }, 'stopping the workers');
      void stop();
    });
  }
  return { done, stop, pids: () => [...live.values()].map((w) => w.process.pid!).filter(Boolean) };
}

/** The worker's side: answer the primary's metric requests, and serve /metrics for the cluster. */
export function joinCluster(metrics: Metrics): void {
  if (!cluster.isWorker) return;
  // Registers prom-client's worker listener and points it at this context's registry.
  void new promClient.AggregatorRegistry();
  promClient.AggregatorRegistry.setRegistries([metrics.registry]);
  let seq = 0;
  const waiting = new Map<number, (r: { text?: string; contentType?: string; error?: string }) => void>();
  process.on('message', (msg: { type?: string; id?: number; text?: string; contentType?: string; error?: string }) => {
    if (msg?.type === METRICS_RES && typeof msg.id === 'number') waiting.get(msg.id)?.(msg);
  });
  setClusterMetricsSource(
    () =>
      new Promise((resolve, reject) => {
        const id = ++seq;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error('the cluster primary did not answer'));
        }, 6000);
        waiting.set(id, (r) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (r.error || r.text === undefined) reject(new Error(r.error ?? 'no metrics'));
          else resolve({ text: r.text, contentType: r.contentType ?? metrics.contentType });
        });
        process.send!({ type: METRICS_REQ, id });
      }),
  );
}

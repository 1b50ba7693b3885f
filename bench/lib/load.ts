// Shared by the benchmarks: one run of the load generator (autocannon, in this process) against
// a server, with the CPU time the server processes spent meanwhile (their /proc counters).
import autocannon from 'autocannon';
import { cpuMs } from './processes.js';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** The path of the next request, or its path and headers of its own. */
  next: () => string | { path: string; headers: Record<string, string> };
  /** Headers of every request. */
  headers?: Record<string, string>;
  pipelining?: number;
  /** Processes whose CPU time is counted during the run (none: cpuMs is NaN). */
  pids?: number[];
}

export interface LoadResult {
  /** Requests per second (autocannon's average over the seconds). */
  rps: number;
  p50: number;
  p99: number;
  /** Answered requests. */
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Bytes received per answered request (status line, headers and body). */
  bytes: number;
  /** Answers per HTTP status code. */
  codes: Record<string, number>;
  /** CPU ms the `pids` used during the run, all together. */
  cpuMs: number;
  /** The same per 1,000 answered requests: robust to other load on the machine. */
  cpuPerK: number;
}

/** `seconds` of load on `url` from `connections` connections. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pids = o.pids ?? [];
  const before = pids.map(cpuMs);
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.pipelining ? { pipelining: o.pipelining } : {}),
    requests: [
      {
        // autocannon hands over a fresh copy of the request each time.
        setupRequest: (req: Record<string, unknown>) => {
          const n = o.next();
          if (typeof n === 'string') req.path = n;
          else {
            req.path = n.path;
            req.headers = { ...(req.headers as Record<string, string> | undefined), ...n.headers };
          }
          return req;
        },
      },
    ],
  } as unknown as autocannon.Options);
  const cpu = pids.length ? pids.map(cpuMs).reduce((a, c, k) => a + c - before[k]!, 0) : NaN;
  // Answers per status code (not in autocannon's typings).
  const stats = (r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  const codes: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats)) codes[k] = v.count;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts ?? 0,
    bytes: r.requests.total ? r.throughput.total / r.requests.total : 0,
    codes,
    cpuMs: cpu,
    cpuPerK: (cpu / Math.max(1, r.requests.total)) * 1000,
  };
}

/** The paths in turn, from the first again after the last. */
export function inTurn(paths: string[]): () => string {
  let i = 0;
  return () => paths[i++ % paths.length]!;
}

export function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

/**
 * The updater's request mix, the same sequence on every run: 90% known ids, 10% unknown ones,
 * appVersion spread over the Sugar releases 0.82 to 0.122.
 */
export function updaterRequestPaths(ids: string[], count = 20_000): string[] {
  let x = 123456789; // xorshift32: a fixed pseudo-random sequence, so every server gets the same mix
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const sugars: string[] = [];
  for (let m = 82; m <= 122; m += 2) sugars.push(`0.${m}`);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const known = rnd() < 0.9;
    const id = known ? ids[Math.floor(rnd() * ids.length)]! : `org.example.unknown.Activity${Math.floor(rnd() * 1e6)}`;
    paths.push(`/services/update-aslo.php?id=${id}&appVersion=${sugars[Math.floor(rnd() * sugars.length)]!}`);
  }
  return paths;
}

// Prometheus metrics of one process (prom-client). Each context owns its own registry, so tests
// that build several apps in one process never collide; `aslo serve --workers N` aggregates the
// workers' registries in the primary process (src/platform/cluster).
//
// What is measured (names are stable: docs/operations.md lists the alerts built on them):
//   aslo_http_requests_total{method,route,status}        every answered request, fast paths included
//   aslo_http_request_duration_seconds{method,route}     latency histogram
//   aslo_cache_requests_total{layer,result}              in-process LRU and Redis hits and misses
//   aslo_cache_redis_up                                  1 when the shared cache is reachable
//   aslo_db_pool_connections{pool,state}                 total/idle/waiting per connection pool
//   aslo_db_replica_lag_seconds{replica} / _up{replica}  replication delay and reachability
//   aslo_db_read_only                                    1 while the primary is unreachable
//   aslo_jobs_pending{queue} / aslo_jobs_dead            durable job queue depth
//   aslo_download_redirects_total{mirror}                302s to each mirror (by host)
//   aslo_update_checks_total                             legacy updater requests (RDF)
//   plus Node's process metrics (aslo_process_*, aslo_nodejs_*).
import client, { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Collector = () => Promise<void> | void;

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly cacheRequests: Counter<'layer' | 'result'>;
  readonly cacheRedisUp: Gauge;
  readonly dbPool: Gauge<'pool' | 'state'>;
  readonly replicaLag: Gauge<'replica'>;
  readonly replicaUp: Gauge<'replica'>;
  readonly readOnly: Gauge;
  readonly jobsPending: Gauge<'queue'>;
  readonly jobsDead: Gauge;
  readonly redirects: Counter<'mirror'>;
  readonly updateChecks: Counter;
  private readonly collectors = new Set<Collector>();

  constructor(opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    const registers = [this.registry];
    // Every gauge fed by a collector waits for one shared run of all collectors per scrape.
    const collect = () => this.runCollectors();
    this.httpRequests = new Counter({
      name: 'aslo_http_requests_total',
      help: 'HTTP requests answered, by route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'aslo_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.cacheRequests = new Counter({
      name: 'aslo_cache_requests_total',
      help: 'Cache lookups by layer (lru, redis) and result (hit, miss, bypass)',
      labelNames: ['layer', 'result'],
      registers,
    });
    this.cacheRedisUp = new Gauge({
      name: 'aslo_cache_redis_up',
      help: '1 when the shared cache (Redis) is reachable, 0 when not, -1 when none is configured',
      registers,
      collect,
      aggregator: 'min',
    });
    this.dbPool = new Gauge({
      name: 'aslo_db_pool_connections',
      help: 'Database pool connections by pool and state (total, idle, waiting)',
      labelNames: ['pool', 'state'],
      registers,
      collect,
    });
    this.replicaLag = new Gauge({
      name: 'aslo_db_replica_lag_seconds',
      help: 'Replication delay of each read replica, in seconds',
      labelNames: ['replica'],
      registers,
      collect,
      aggregator: 'max',
    });
    this.replicaUp = new Gauge({
      name: 'aslo_db_replica_up',
      help: '1 when a replica is used for reads, 0 when it is skipped (down or lagging)',
      labelNames: ['replica'],
      registers,
      collect,
      aggregator: 'min',
    });
    this.readOnly = new Gauge({
      name: 'aslo_db_read_only',
      help: '1 while the primary database is unreachable and the store is read-only',
      registers,
      collect,
      aggregator: 'max',
    });
    this.jobsPending = new Gauge({
      name: 'aslo_jobs_pending',
      help: 'Unfinished background jobs per queue',
      labelNames: ['queue'],
      registers,
      collect,
      aggregator: 'max',
    });
    this.jobsDead = new Gauge({
      name: 'aslo_jobs_dead',
      help: 'Background jobs that ran out of attempts (kept for inspection)',
      registers,
      collect,
      aggregator: 'max',
    });
    this.redirects = new Counter({
      name: 'aslo_download_redirects_total',
      help: 'Download requests redirected to a mirror, by mirror host',
      labelNames: ['mirror'],
      registers,
    });
    this.updateChecks = new Counter({ name: 'aslo_update_checks_total', help: 'Legacy updater requests (update-aslo.php, update.php) answered', registers });
    this.cacheRedisUp.set(-1);
    if (opts.defaultMetrics !== false) client.collectDefaultMetrics({ register: this.registry, prefix: 'aslo_' });
  }

  private running: Promise<void> | null = null;

  private runCollectors(): Promise<void> {
    if (this.running) return this.running;
    this.running = Promise.all(
      [...this.collectors].map(async (c) => {
        try {
          await c();
        } catch {
          // A collector that cannot read (database down) leaves its last values.
        }
      }),
    ).then(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Run `fn` before every scrape (read pool sizes, queue depths...). Returns an unregister function. */
  onCollect(fn: Collector): () => void {
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

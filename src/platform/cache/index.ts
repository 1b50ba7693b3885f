// The cache between the application and the database: an in-process LRU in front of Redis
// (shared by every process of the instance), used cache-aside for hot reads.
//
// Keys live in scopes ('catalog': everything the public pages, listings, feeds and API reads
// show). Each scope has a generation number; a cached value is stored under its scope's current
// generation, so invalidating a scope is one INCR: every older entry becomes unreachable at once
// (and ages out of the LRU and out of Redis by its TTL). Every process learns the new generation
// through pub/sub and acknowledges it; the writer goes on once all have (at most 500 ms), so a
// read through any process after a write never sees the old page.
//
// Invalidation is explicit and automatic: the database layer reports every committed write
// (src/platform/db/replicas.ts, hooked up in src/platform/context.ts) and the tables it touched; writes to content tables invalidate
// 'catalog' before the write's query (or its transaction's COMMIT) returns to the caller.
//
// Transports, by deployment:
//   - Redis configured: values in Redis (JSON, TTL), generations in Redis, invalidations on a
//     Redis channel. Redis unreachable: every read goes to the database (no LRU either, since
//     invalidations cannot arrive), the outage is logged once, ioredis reconnects by itself, and
//     on reconnection the LRU is emptied, generations re-read, and the scopes this process wrote
//     while Redis was away are invalidated (their writes could not be announced).
//   - PostgreSQL without Redis: LRU only, invalidations by NOTIFY on `aslo_cache` (the same
//     server every process already uses); while the LISTEN connection is down, no LRU. The
//     writer waits until every other listening process of the instance has acknowledged (at
//     most 500 ms), so the next read anywhere is fresh, as with Redis.
//   - embedded PGlite (one process): LRU only, invalidations in process.
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import pg from 'pg';
import type { Metrics } from '../metrics/index.js';
import { OnceLogger } from '../logging/index.js';
import { onPrimary } from '../db/replicas.js';
import { newOrigin, PgListener } from '../db/listen.js';

export const CACHE_CHANNEL = 'aslo_cache';

export interface CacheOptions {
  /** Redis URL; empty: no shared cache. */
  redisUrl?: string;
  /** PostgreSQL URL used for NOTIFY-based invalidation when there is no Redis (several processes). */
  pgUrl?: string;
  prefix: string;
  /** After an invalidation, values are loaded from the primary database for this long (ms), so a
   * lagging replica never refills the cache with the replaced value. */
  primaryWindowMs?: number;
  /** Entries in the in-process LRU. 0 disables the LRU. */
  lruEntries?: number;
  /** Longest life of an LRU entry, in ms (a backstop: invalidations are pushed). */
  lruTtlMs?: number;
  /** Life of a value in Redis, in seconds. */
  ttlSeconds?: number;
  /** Redis command timeout, in ms: a hung Redis counts as down after this. */
  commandTimeoutMs?: number;
  metrics?: Metrics;
  log?: { warn(msg: string): void; info(msg: string): void };
}

export interface CacheStatus {
  mode: 'redis' | 'postgres-notify' | 'in-process';
  /** True while cached values may be used (false: every read goes to the database). */
  serving: boolean;
  lruEntries: number;
}

type Loader<T> = () => Promise<T>;

// JSON that keeps Dates (database rows carry them) and undefined-free objects.
function encode(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const orig = this[key];
    return orig instanceof Date ? { $date: orig.toISOString() } : v;
  });
}

function decode<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) =>
    v && typeof v === 'object' && '$date' in v && Object.keys(v).length === 1 ? new Date((v as { $date: string }).$date) : v,
  ) as T;
}

interface Bus {
  readonly mode: CacheStatus['mode'];
  /** True when invalidations from other processes are being received. */
  connected(): boolean;
  start(): Promise<void>;
  close(): Promise<void>;
}

export class Cache {
  readonly origin = newOrigin();
  private readonly lru: LRUCache<string, { v: unknown }> | null;
  private readonly gens = new Map<string, number>();
  /** When each scope last changed generation (ms): fills soon after read from the primary. */
  private readonly changedAt = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  private redis: Redis | null = null;
  private sub: Redis | null = null;
  private listener: PgListener | null = null;
  private started: Promise<void> | null = null;
  private closed = false;
  private readonly once: OnceLogger;
  private readonly ttl: number;
  readonly mode: CacheStatus['mode'];

  constructor(private readonly opts: CacheOptions) {
    const entries = opts.lruEntries ?? 5000;
    this.lru = entries > 0 ? new LRUCache({ max: entries, ttl: opts.lruTtlMs ?? 300_000 }) : null;
    this.ttl = opts.ttlSeconds ?? 300;
    this.mode = opts.redisUrl ? 'redis' : opts.pgUrl ? 'postgres-notify' : 'in-process';
    const log = opts.log ?? { warn: (m: string) => process.emitWarning(m), info: () => {} };
    this.once = new OnceLogger(log);
    opts.metrics?.onCollect(() => opts.metrics!.cacheRedisUp.set(this.mode === 'redis' ? (this.redisReady() ? 1 : 0) : -1));
  }

  private key(scope: string, gen: number, key: string): string {
    return `${this.opts.prefix}cache:v:${scope}:${gen}:${key}`;
  }

  private genKey(scope: string): string {
    return `${this.opts.prefix}cache:gen:${scope}`;
  }

  private get channel(): string {
    return `${this.opts.prefix}${CACHE_CHANNEL}`;
  }

  private redisReady(): boolean {
    return this.redis?.status === 'ready' && this.sub?.status === 'ready';
  }

  /** Set once generations are re-read after a (re)connection; cleared when Redis goes away. */
  private synced = false;

  /** Connect the transports (lazily, on first use). */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.started ??= this.connect();
    return this.started;
  }

  private async connect(): Promise<void> {
    if (this.mode === 'redis') {
      const common = {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: this.opts.commandTimeoutMs ?? 500,
        connectTimeout: 2000,
        retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
      };
      // Loaded only when Redis is configured (a start without it does not pay for the module).
      const { Redis } = await import('ioredis');
      this.redis = new Redis(this.opts.redisUrl!, { ...common, connectionName: 'aslo-cache' });
      this.sub = new Redis(this.opts.redisUrl!, { ...common, commandTimeout: undefined, connectionName: 'aslo-cache-sub' });
      const down = (err?: Error) => {
        this.onRedisDown(err);
      };
      for (const c of [this.redis, this.sub]) {
        c.on('error', down);
        c.on('close', () => down());
        c.on('ready', () => void this.onRedisReady());
      }
      this.sub.on('message', (ch: string, msg: string) =>
        ch === this.channel ? this.onRedisInvalidation(msg) : ch === this.ackChannel(this.origin) ? this.onAck(msg) : undefined,
      );
      await Promise.all([this.redis.connect().catch(down), this.sub.connect().catch(down)]);
      await this.onRedisReady();
      return;
    }
    if (this.mode === 'postgres-notify')
      await this.newListener()
        .start()
        .catch(() => {}); // it keeps trying
  }

  // ---- Redis state changes ----

  private onRedisDown(err?: Error): void {
    if (this.closed) return;
    this.synced = false;
    this.lru?.clear();
    this.once.failing('redis', `cache: Redis unreachable (${err?.message ?? 'connection closed'}); serving from the database until it returns`);
  }

  private async onRedisReady(): Promise<void> {
    if (!this.redisReady() || this.closed) return;
    try {
      await this.sub!.subscribe(this.channel, this.ackChannel(this.origin));
      // Writes made while Redis was away were not announced: announce them now.
      for (const scope of [...this.dirty]) {
        await this.bump(scope);
        this.dirty.delete(scope);
      }
      await this.refreshGens();
      this.lru?.clear();
      this.synced = this.redisReady();
      this.once.recovered('redis', 'cache: Redis reachable again; cache in use');
    } catch (err) {
      this.onRedisDown(err as Error);
    }
  }

  private async refreshGens(): Promise<void> {
    const scopes = [...this.gens.keys()];
    if (scopes.length === 0 || !this.redis) return;
    const vals = await this.redis.mget(...scopes.map((s) => this.genKey(s)));
    for (const [i, s] of scopes.entries()) this.gens.set(s, Number(vals[i] ?? 0));
  }

  private ackChannel(origin: string): string {
    return `${this.opts.prefix}${CACHE_CHANNEL}:ack:${origin}`;
  }

  /** Another process's invalidation: applied, then acknowledged to the writer (it waits for us). */
  private onRedisInvalidation(msg: string): void {
    this.onMessage(msg);
    try {
      const m = JSON.parse(msg) as { o?: string; i?: number };
      if (m.o && m.o !== this.origin && typeof m.i === 'number') void this.redis?.publish(this.ackChannel(m.o), JSON.stringify({ i: m.i })).catch(() => {});
    } catch {
      // Not ours.
    }
  }

  private onAck(msg: string): void {
    try {
      const m = JSON.parse(msg) as { i?: number };
      if (typeof m.i === 'number') this.acks.get(m.i)?.();
    } catch {
      // Not ours.
    }
  }

  private onMessage(msg: string): void {
    try {
      const m = JSON.parse(msg) as { s: string; g?: number; o?: string };
      if (this.mode === 'redis') {
        const cur = this.gens.get(m.s);
        if (typeof m.g === 'number' && (cur === undefined || m.g > cur)) {
          this.gens.set(m.s, m.g);
          this.changedAt.set(m.s, Date.now());
        }
      } else if (m.o !== this.origin) {
        this.gens.set(m.s, (this.gens.get(m.s) ?? 0) + 1);
        this.changedAt.set(m.s, Date.now());
      }
    } catch {
      // Not ours.
    }
  }

  // ---- PostgreSQL NOTIFY (no Redis) ----

  private newListener(): PgListener {
    this.listener = new PgListener({
      url: this.opts.pgUrl!,
      channel: CACHE_CHANNEL,
      applicationName: this.listenerName,
      retryMs: { first: 1000, max: 1000 },
      onNotification: (payload, client) => {
        const m = JSON.parse(payload) as { p?: string; o?: string; i?: number; ack?: number; to?: string };
        if (m.p !== this.opts.prefix) return;
        if (typeof m.ack === 'number') {
          if (m.to === this.origin) this.acks.get(m.ack)?.();
          return;
        }
        if (m.o === this.origin) return;
        this.onMessage(payload);
        // Tell the writer this process has dropped the old values (it waits for every listener).
        if (typeof m.i === 'number')
          void client.query('select pg_notify($1, $2)', [CACHE_CHANNEL, JSON.stringify({ p: this.opts.prefix, ack: m.i, to: m.o })]).catch(() => {});
      },
      // Invalidations missed while the connection was down are unknowable: start empty.
      onConnected: () => {
        this.lru?.clear();
        this.once.recovered('listen', 'cache: invalidation channel back; cache in use');
      },
      onLost: (reason) => {
        this.lru?.clear();
        if (!this.closed) this.once.failing('listen', `cache: invalidation channel lost (${reason}); serving from the database until it returns`);
      },
    });
    return this.listener;
  }

  // ---- reads ----

  /** True while cached values may be served. */
  serving(): boolean {
    if (this.closed) return false;
    if (this.mode === 'redis') return this.synced && this.redisReady();
    if (this.mode === 'postgres-notify') return this.listener?.connected ?? false;
    return true;
  }

  status(): CacheStatus {
    return { mode: this.mode, serving: this.serving(), lruEntries: this.lru?.size ?? 0 };
  }

  private count(layer: 'lru' | 'redis' | 'database', result: 'hit' | 'miss' | 'bypass'): void {
    this.opts.metrics?.cacheRequests.inc({ layer, result });
  }

  private async genOf(scope: string): Promise<number> {
    const g = this.gens.get(scope);
    if (g !== undefined) return g;
    let gen = 0;
    if (this.mode === 'redis') gen = Number((await this.redis!.get(this.genKey(scope))) ?? 0);
    if (!this.gens.has(scope)) this.gens.set(scope, gen);
    return this.gens.get(scope)!;
  }

  /**
   * The value of `key` in `scope`: from the LRU, else Redis, else `load()` (then stored in both).
   * Values must be JSON data (Dates are kept); treat what is returned as read-only. Concurrent
   * misses of one key in a process share one load.
   */
  async getOrLoad<T>(scope: string, key: string, load: Loader<T>, opts: { ttlSeconds?: number } = {}): Promise<T> {
    if (!this.started) void this.start().catch(() => {});
    if (!this.serving()) {
      this.count('database', 'bypass');
      return load();
    }
    let gen: number;
    try {
      gen = await this.genOf(scope);
    } catch (err) {
      this.onRedisDown(err as Error);
      this.count('database', 'bypass');
      return load();
    }
    const full = this.key(scope, gen, key);
    const local = this.lru?.get(full);
    if (local) {
      this.count('lru', 'hit');
      return local.v as T;
    }
    this.count('lru', 'miss');
    const running = this.inflight.get(full);
    if (running) return running as Promise<T>;
    const p = this.fill<T>(scope, gen, full, load, opts.ttlSeconds ?? this.ttl).finally(() => this.inflight.delete(full));
    this.inflight.set(full, p);
    return p;
  }

  private async fill<T>(scope: string, gen: number, full: string, load: Loader<T>, ttl: number): Promise<T> {
    if (this.mode === 'redis') {
      try {
        const hit = await this.redis!.get(full);
        if (hit !== null) {
          this.count('redis', 'hit');
          const v = decode<{ v: T }>(hit).v;
          if (this.gens.get(scope) === gen) this.lru?.set(full, { v });
          return v;
        }
        this.count('redis', 'miss');
      } catch (err) {
        this.onRedisDown(err as Error);
        return load();
      }
    }
    const since = Date.now() - (this.changedAt.get(scope) ?? 0);
    const value = since < (this.opts.primaryWindowMs ?? 15_000) ? await onPrimary(load) : await load();
    // Stored only if no invalidation arrived while loading (else the value may predate the write).
    if (this.gens.get(scope) === gen && this.serving()) {
      this.lru?.set(full, { v: value });
      if (this.mode === 'redis') await this.redis!.set(full, encode({ v: value }), 'EX', ttl).catch((err: Error) => this.onRedisDown(err));
    }
    return value;
  }

  // ---- invalidation ----

  private readonly announcing = new Map<string, { running: Promise<void>; next: Promise<void> | null }>();

  /**
   * Drop every cached value of these scopes, in every process. Resolves once it is announced.
   * Concurrent calls for one scope share announcements (at most one runs and one waits).
   */
  async invalidate(...scopes: string[]): Promise<void> {
    await Promise.all([...new Set(scopes)].map((scope) => this.invalidateOne(scope)));
  }

  private invalidateOne(scope: string): Promise<void> {
    this.changedAt.set(scope, Date.now());
    // This process stops using older values at once, whatever happens to the transport.
    this.gens.set(scope, (this.gens.get(scope) ?? 0) + (this.mode === 'redis' ? 0.5 : 1));
    const slot = this.announcing.get(scope);
    if (!slot) {
      const entry = { running: this.announce(scope), next: null as Promise<void> | null };
      const cleanup = () => {
        if (this.announcing.get(scope) === entry && !entry.next) this.announcing.delete(scope);
      };
      entry.running = entry.running.finally(cleanup);
      this.announcing.set(scope, entry);
      return entry.running;
    }
    slot.next ??= slot.running.then(() => {
      slot.running = this.announce(scope);
      slot.next = null;
      return slot.running.finally(() => {
        if (this.announcing.get(scope) === slot && !slot.next) this.announcing.delete(scope);
      });
    });
    return slot.next;
  }

  private async announce(scope: string): Promise<void> {
    if (this.closed) return;
    if (this.mode === 'redis') {
      await this.start().catch(() => {});
      if (!this.redisReady()) {
        this.dirty.add(scope);
        return;
      }
      try {
        await this.bump(scope);
      } catch (err) {
        this.dirty.add(scope);
        this.onRedisDown(err as Error);
      }
    } else if (this.mode === 'postgres-notify') {
      // Every other listening process of the instance acknowledges; the writer goes on once all
      // have (or after 500 ms: a process that does not answer is hung or gone, and its LRU
      // empties when its LISTEN connection drops).
      await this.start().catch(() => {});
      const id = ++this.ackSeq;
      let timer: NodeJS.Timeout | undefined;
      let expected = 0;
      let got = 0;
      let release!: () => void;
      const done = new Promise<void>((resolve) => (release = resolve));
      this.acks.set(id, () => {
        if (++got >= expected) release();
      });
      try {
        expected = await this.otherListeners();
        if (expected > 0 && (await this.notify(JSON.stringify({ s: scope, o: this.origin, p: this.opts.prefix, i: id })))) {
          if (got < expected) {
            timer = setTimeout(release, 500);
            await done;
          }
        } else if (expected === 0) {
          await this.notify(JSON.stringify({ s: scope, o: this.origin, p: this.opts.prefix }));
        }
      } finally {
        clearTimeout(timer);
        this.acks.delete(id);
      }
    }
  }

  private get listenerName(): string {
    return `aslo-cache ${this.opts.prefix}`.slice(0, 63);
  }

  /** Listening processes of this instance other than this one. */
  private async otherListeners(): Promise<number> {
    const c = this.listener?.connection ?? this.notifier;
    if (!c) return 0;
    try {
      const r = await c.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> pg_backend_pid()',
        [this.listenerName],
      );
      return r.rows[0]?.n ?? 0;
    } catch {
      return 0;
    }
  }

  private async bump(scope: string): Promise<void> {
    // The generation outlives every value stored under it (values live cache.ttlSeconds), and
    // an instance that is gone leaves no key behind for ever.
    const res = await this.redis!.multi()
      .incr(this.genKey(scope))
      .expire(this.genKey(scope), 30 * 86400)
      .exec();
    const [err, value] = res?.[0] ?? [new Error('no answer'), null];
    if (err) throw err;
    const gen = Number(value);
    const cur = this.gens.get(scope);
    if (cur === undefined || gen > cur) this.gens.set(scope, gen);
    // Every other subscribed process acknowledges once it has applied the new generation; the
    // writer goes on after all have (or 500 ms: a process that does not answer is hung or cut
    // off from Redis, and then serves nothing from its cache anyway).
    const id = ++this.ackSeq;
    let got = 0;
    let expected = Number.POSITIVE_INFINITY;
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    this.acks.set(id, () => {
      if (++got >= expected) release();
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      const receivers = await this.redis!.publish(this.channel, JSON.stringify({ s: scope, g: gen, o: this.origin, i: id }));
      expected = Math.max(0, receivers - (this.sub?.status === 'ready' ? 1 : 0));
      if (got < expected) {
        timer = setTimeout(release, 500);
        await done;
      }
    } finally {
      clearTimeout(timer);
      this.acks.delete(id);
    }
  }

  private notifier: pg.Client | null = null;
  private readonly acks = new Map<number, () => void>();
  private ackSeq = 0;

  private async notify(payload: string): Promise<boolean> {
    try {
      const listening = this.listener?.connection;
      if (listening) {
        await listening.query('select pg_notify($1, $2)', [CACHE_CHANNEL, payload]);
        return true;
      }
      // A process that does not read through the cache (the CLI) keeps one client for announcing.
      if (!this.notifier) {
        const c = new pg.Client({ connectionString: this.opts.pgUrl, application_name: 'aslo-cache-notify' });
        c.on('error', () => {
          if (this.notifier === c) this.notifier = null;
        });
        await c.connect();
        this.notifier = c;
      }
      await this.notifier.query('select pg_notify($1, $2)', [CACHE_CHANNEL, payload]);
      return true;
    } catch (err) {
      const c = this.notifier;
      this.notifier = null;
      if (c) void c.end().catch(() => {});
      // The primary is down: no write happened either, or it will be announced by the next one.
      this.once.failing('notify', `cache: could not announce an invalidation: ${(err as Error).message}`);
      return false;
    }
  }

  /** Empty this process's LRU (tests, benchmarks: a cold cache). Redis keeps its values. */
  clearLocal(): void {
    this.lru?.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.announcing.values()].map((a) => (a.next ?? a.running).catch(() => {})));
    await this.listener?.close();
    if (this.notifier) await this.notifier.end().catch(() => {});
    this.notifier = null;
    for (const c of [this.redis, this.sub]) if (c) await c.quit().catch(() => c.disconnect());
    this.lru?.clear();
  }
}

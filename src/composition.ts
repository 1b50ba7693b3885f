// The composition root: the one place that creates the connections and services of an instance,
// each once, in dependency order, and closes them once, in the reverse order. The web app
// (app.ts), the server (server.ts) and the CLI commands (cli/common.ts withServices) get their
// services from here; plugins and route modules receive them (`app.services`) and never build one.
import type { Redis } from 'ioredis';
import type { AsloConfig } from './platform/config.js';
import { createContext, type AppContext } from './platform/context.js';
import { OnceLogger } from './platform/logging/index.js';
import { Mailer } from './mail/mailer.js';
import { AccountService } from './accounts/service.js';
import { DbSessionStore, RedisSessionStore, type SessionStore } from './accounts/sessions.js';
import { CatalogService } from './catalog/service.js';
import { CollectionService } from './collections/service.js';
import { UpdateService } from './updates/service.js';
import { DownloadService } from './downloads/service.js';
import { DownloadStatsService } from './downloads/stats.js';
import { PublishingService } from './review/publishing.js';
import { ReviewService } from './review/service.js';
import { ListingService } from './review/listing.js';
import { RatingsService } from './ratings/service.js';
import { SourceService } from './build/service.js';
import { MirrorRegistry } from './mirrors/registry.js';
import { events } from './platform/events.js';
import { listenForCatalogChanges } from './updates/changes.js';
import { listenForDownloadEvents } from './downloads/subscriptions.js';

export interface Services {
  accounts: AccountService;
  catalog: CatalogService;
  collections: CollectionService;
  updates: UpdateService;
  downloads: DownloadService;
  downloadStats: DownloadStatsService;
  publishing: PublishingService;
  review: ReviewService;
  listing: ListingService;
  ratings: RatingsService;
  sources: SourceService;
  mirrors: MirrorRegistry;
}

export interface CompositionLog {
  info(msg: string): void;
  warn(msg: string): void;
  /** A failure that is logged and survived, with its error object. */
  warnWithError(err: unknown, msg: string): void;
}

export interface Composition {
  ctx: AppContext;
  /** The shared Redis connection (sessions, rate limits) when cache.redisUrl is set and this process serves requests. */
  redis: Redis | null;
  mailer: Mailer;
  services: Services;
  /**
   * Starts what the role serves from memory: the updater's index (all, web), the download index
   * (all, download). With `indexInBackground` it returns before the updater's index is loaded
   * (its answers wait for it: UpdateService.whenReady); by default once it is.
   */
  start(role: Role, opts?: { indexInBackground?: boolean }): Promise<void>;
  /** Closes every service, then Redis, then the context (when this composition owns it). Once. */
  close(): Promise<void>;
}

export type Role = 'all' | 'web' | 'download' | 'worker';

export interface ComposeOptions {
  /** An open context; without one, a context is created from the config. */
  context?: AppContext;
  /** Whether close() closes the context too (default: only a context this composition created). */
  ownsContext?: boolean;
  /** Open the shared Redis connection when one is configured (the processes that serve requests). */
  redis?: boolean;
  log?: CompositionLog;
  /** Make every service at once (default); a CLI command makes only those it uses. */
  createAll?: boolean;
}

const SILENT: CompositionLog = { info: () => {}, warn: () => {}, warnWithError: () => {} };

/**
 * Redis gone: a command fails at once while the connection is down (no offline queue: a request
 * must not wait a second for each rate-limit or session lookup), within a second on a connection
 * that hangs; the outage is logged once and ioredis reconnects by itself.
 */
async function openRedis(url: string, log: CompositionLog): Promise<Redis> {
  // Loaded only when Redis is configured (a start without it does not pay for the module).
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: 1000,
    connectTimeout: 2000,
    retryStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 2000),
  });
  // Connected before the first request (commands sent earlier would fail, not wait); when
  // Redis is down at start the process serves anyway and the retry strategy keeps trying.
  await redis.connect().catch(() => {});
  const once = new OnceLogger(log);
  redis.on('error', (err) => once.failing('redis', `sessions and rate limits: Redis unreachable (${err.message}); sign-ins fail until it returns`));
  redis.on('ready', () => once.recovered('redis', 'sessions and rate limits: Redis reachable again'));
  return redis;
}

/**
 * Every service of an instance over an open context and its connections. Each is made on first
 * use and kept (a service asks for the ones it depends on, so they are made in dependency order);
 * the web app touches them all at start, a CLI command only the ones it uses.
 */
function createServices(ctx: AppContext, redis: Redis | null, mailer: Mailer, log: CompositionLog): { services: Services; made: () => Set<keyof Services> } {
  const config = ctx.config;
  const made = new Map<keyof Services, Services[keyof Services]>();
  const once = <K extends keyof Services>(name: K, create: () => Services[K]): Services[K] => {
    if (!made.has(name)) made.set(name, create());
    return made.get(name) as Services[K];
  };
  const services: Services = {
    get accounts() {
      return once('accounts', () => {
        const ttlMs = config.accounts.sessionDays * 24 * 3600_000;
        const sessions: SessionStore = redis ? new RedisSessionStore(redis, config.cache.prefix, ttlMs) : new DbSessionStore(ctx.db, ttlMs);
        return new AccountService(ctx, mailer, sessions);
      });
    },
    get catalog() {
      return once('catalog', () => new CatalogService(ctx));
    },
    get collections() {
      return once('collections', () => new CollectionService(ctx));
    },
    get updates() {
      return once('updates', () => new UpdateService(ctx, services.catalog, services.collections, { log }));
    },
    get downloads() {
      return once('downloads', () => new DownloadService(ctx, { cacheReady: () => !redis || redis.status === 'ready', log: (m) => log.warn(m) }));
    },
    get publishing() {
      return once('publishing', () => new PublishingService(ctx, services.catalog, services.accounts, mailer));
    },
    get review() {
      return once('review', () => {
        // Status changes reach the updater's index in every process, like new uploads do, and the
        // repo tree: its publish jobs put the activity's files in or take them out (src/downloads/repo.ts).
        const onStatusChange = async (activityIds: number[]) => {
          await events.emit('activity.statusChanged', { ctx, activityIds }, { onError: (err) => log.warnWithError(err, 'could not queue repo tree updates') });
          await events.emit('catalog.changed', { ctx, activityIds }, { onError: (err) => log.warnWithError(err, 'could not record a catalog change') });
        };
        return new ReviewService(ctx, mailer, onStatusChange);
      });
    },
    get listing() {
      return once('listing', () => new ListingService(ctx));
    },
    get ratings() {
      return once('ratings', () => new RatingsService(ctx));
    },
    get downloadStats() {
      return once('downloadStats', () => new DownloadStatsService(ctx, (ids) => services.publishing.names(ids)));
    },
    get sources() {
      return once('sources', () => new SourceService(ctx));
    },
    get mirrors() {
      return once('mirrors', () => new MirrorRegistry(ctx));
    },
  };
  return { services, made: () => new Set(made.keys()) };
}

/** Makes every service now, in dependency order (the web app: no request pays for a first use). */
function createAll(services: Services): void {
  for (const name of SERVICE_ORDER) void services[name];
}

const SERVICE_ORDER: (keyof Services)[] = [
  'accounts',
  'catalog',
  'collections',
  'updates',
  'downloads',
  'publishing',
  'review',
  'listing',
  'ratings',
  'downloadStats',
  'sources',
  'mirrors',
];

export async function compose(config: AsloConfig, opts: ComposeOptions = {}): Promise<Composition> {
  const log = opts.log ?? SILENT;
  // What the domains do with each other's events (src/platform/events.ts): catalog changes reach
  // the updater's index in every process, status and mirror changes the repo tree and the download
  // index. Subscribing again is a no-op.
  listenForCatalogChanges(events);
  listenForDownloadEvents(events);
  const ctx = opts.context ?? (await createContext(config));
  const ownsContext = opts.ownsContext ?? !opts.context;
  const redis = opts.redis && config.cache.redisUrl ? await openRedis(config.cache.redisUrl, log) : null;
  const mailer = new Mailer(config, ctx.secrets);
  const { services, made } = createServices(ctx, redis, mailer, log);
  if (opts.createAll ?? true) createAll(services);
  let closing: Promise<void> | null = null;
  return {
    ctx,
    redis,
    mailer,
    services,
    async start(role, startOpts = {}) {
      // The cache connects (Redis, its invalidation channel) before the first request, which
      // would otherwise start it and be answered from the database meanwhile. A Redis that is
      // down does not hold the start: the cache serves from the database until it returns.
      if (role !== 'worker') await ctx.cache.start().catch(() => {});
      // The download and worker roles answer no update checks: they skip the index and its memory.
      if (role === 'all' || role === 'web') await services.updates.start({ background: startOpts.indexInBackground });
      if (role === 'all' || role === 'download') await services.downloads.start();
    },
    close() {
      closing ??= (async () => {
        // The updater's final ping flush and the download counts need the database: services first.
        const open = made();
        if (open.has('downloads')) await services.downloads.close();
        if (open.has('updates')) await services.updates.close();
        if (redis) await redis.quit().catch(() => redis.disconnect());
        if (ownsContext) await ctx.close();
      })();
      return closing;
    },
  };
}

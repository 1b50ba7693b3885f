// Catalog change notifications: how every process learns, within a second or two, that the public
// face of an activity changed (a version published or withdrawn, a status or text change), so its
// in-memory update index can be patched without a database query per request.
//
// Anything that changes what the updater, the feeds or the JSON index would answer emits
// `catalog.changed` on the process's event bus (src/platform/events.ts) after its transaction
// commits; this module listens (listenForCatalogChanges, subscribed where the process is composed)
// and catalogChanged records the change in catalog_changes (the log behind index.json?since=)
// and publishes it:
//   - on PostgreSQL: NOTIFY on the channel `aslo_catalog`; every `aslo serve` process holds one
//     dedicated connection that LISTENs (src/updates/changes.ts PgChangeNotifier). NOTIFY is
//     delivered to every session of the same database, needs no other service, and is already
//     there in every deployment; Redis pub/sub can replace it behind the same ChangeNotifier
//     interface when the scale issue brings Redis in.
//   - on the embedded PGlite database: one process owns the data folder, so an in-process event
//     emitter is enough.
// A process that missed notifications (its LISTEN connection dropped) rebuilds its whole index
// when it reconnects, and every process rebuilds periodically anyway (updates.indexRefreshSeconds).
import { EventEmitter } from 'node:events';
import type { AppContext } from '../platform/context.js';
import type { Db } from '../platform/db/index.js';
import { MAX_NOTIFY_PAYLOAD, newOrigin, notify, PgListener } from '../platform/db/listen.js';
import { recordChanges } from './queries.js';
import type { EventBus } from '../platform/events.js';

export const CHANGE_CHANNEL = 'aslo_catalog';

export interface CatalogChange {
  /** Activities to reload; empty with `all` set means "reload everything". */
  activityIds: number[];
  /** Ids of activities that no longer exist (deleted rows), for the tombstones. */
  bundleIds?: string[];
  all?: boolean;
  /** Which process published it (a process ignores its own echo). */
  origin?: string;
}

export type ChangeListener = (change: CatalogChange) => void;

/** Publishes changes to every process of the instance and delivers theirs. */
export interface ChangeNotifier {
  readonly kind: string;
  /** This process's id, carried in every message it publishes. */
  readonly origin: string;
  start(): Promise<void>;
  /** Deliver to this process's listeners (unless `local` is false) and to every other process. */
  publish(change: CatalogChange, opts?: { local?: boolean }): Promise<void>;
  /** `resync` is called when notifications may have been missed (reconnect): rebuild everything. */
  subscribe(listener: ChangeListener, resync?: () => void): () => void;
  close(): Promise<void>;
}

/** One process (embedded PGlite): an event emitter. */
export class InProcessNotifier implements ChangeNotifier {
  readonly kind = 'in-process';
  readonly origin = newOrigin();
  private readonly emitter = new EventEmitter();

  async start(): Promise<void> {}

  async publish(change: CatalogChange, opts: { local?: boolean } = {}): Promise<void> {
    // One process: there is nobody else to tell.
    if (opts.local !== false) this.emitter.emit('change', { ...change, origin: this.origin });
  }

  subscribe(listener: ChangeListener): () => void {
    this.emitter.on('change', listener);
    return () => this.emitter.off('change', listener);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** PostgreSQL LISTEN/NOTIFY (a PgListener: a dedicated connection, reconnecting with backoff). */
export class PgChangeNotifier implements ChangeNotifier {
  readonly kind = 'postgres-listen-notify';
  readonly origin = newOrigin();
  private readonly listener: PgListener;
  private readonly listeners = new Set<ChangeListener>();
  private readonly resyncs = new Set<() => void>();

  constructor(
    url: string,
    private readonly db: Db,
    log: (msg: string) => void = () => {},
  ) {
    this.listener = new PgListener({
      url,
      channel: CHANGE_CHANNEL,
      applicationName: 'aslo-listen',
      onNotification: (payload) => {
        let change: CatalogChange;
        try {
          change = parsePayload(payload);
        } catch {
          return;
        }
        if (change.origin === this.origin) return;
        for (const l of this.listeners) l(change);
      },
      onConnected: (afterLoss) => {
        // Anything published while we were away is lost: rebuild from the database.
        if (afterLoss) for (const r of this.resyncs) r();
      },
      onLost: (reason) => log(`change notifications: connection lost (${reason}); reconnecting`),
    });
  }

  async start(): Promise<void> {
    // A first connection that fails fails the start (no retrying in the background).
    await this.listener.start().catch(async (err: unknown) => {
      await this.listener.close();
      throw err;
    });
  }

  async publish(change: CatalogChange, opts: { local?: boolean } = {}): Promise<void> {
    const msg = { ...change, origin: this.origin };
    // This process first (its own echo is ignored), then every other one.
    if (opts.local !== false) for (const l of this.listeners) l(msg);
    await publishPg(this.db, msg);
  }

  subscribe(listener: ChangeListener, resync?: () => void): () => void {
    this.listeners.add(listener);
    if (resync) this.resyncs.add(resync);
    return () => {
      this.listeners.delete(listener);
      if (resync) this.resyncs.delete(resync);
    };
  }

  async close(): Promise<void> {
    await this.listener.close();
    this.listeners.clear();
    this.resyncs.clear();
  }
}

export function encodePayload(change: CatalogChange): string {
  const body = JSON.stringify({ o: change.origin ?? '', a: change.activityIds, b: change.bundleIds ?? [], all: change.all ? 1 : 0 });
  if (body.length <= MAX_NOTIFY_PAYLOAD) return body;
  // Too large for a NOTIFY: "reload everything".
  return JSON.stringify({ o: change.origin ?? '', a: [], b: [], all: 1 });
}

export function parsePayload(payload: string): CatalogChange {
  const p = JSON.parse(payload) as { o?: string; a?: unknown; b?: unknown; all?: number };
  const ids = Array.isArray(p.a) ? p.a.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0) : [];
  const bundles = Array.isArray(p.b) ? p.b.filter((x): x is string => typeof x === 'string') : [];
  return { activityIds: ids, bundleIds: bundles, all: p.all === 1, origin: typeof p.o === 'string' ? p.o : undefined };
}

async function publishPg(db: Db, change: CatalogChange): Promise<void> {
  await notify(db, CHANGE_CHANNEL, encodePayload(change));
}

// The notifier of each context, shared by every app built on it (one LISTEN connection per
// context), so code holding only the context (ingest, the CLI) reaches it.
const notifiers = new WeakMap<AppContext, { notifier: ChangeNotifier; refs: number }>();

/** The context's notifier, created (and started) by `create` on first use; release it when done. */
export async function acquireNotifier(ctx: AppContext, create: () => ChangeNotifier): Promise<{ notifier: ChangeNotifier; release(): Promise<void> }> {
  let entry = notifiers.get(ctx);
  if (!entry) {
    const notifier = create();
    entry = { notifier, refs: 0 };
    notifiers.set(ctx, entry);
    try {
      await notifier.start();
    } catch (err) {
      notifiers.delete(ctx);
      throw err;
    }
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    notifier: held.notifier,
    async release() {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs === 0) {
        if (notifiers.get(ctx) === held) notifiers.delete(ctx);
        await held.notifier.close();
      }
    },
  };
}

/**
 * Record that activities changed and tell every process (this one included). Call it after the
 * transaction that made the change has committed. Never throws: a failure goes to `onError`, and
 * the change is still picked up by the next periodic rebuild.
 */
export async function catalogChanged(
  ctx: AppContext,
  change: { activityIds?: number[]; bundleIds?: string[] },
  onError: (err: unknown) => void = (err) => process.emitWarning(`aslo: could not record a catalog change: ${(err as Error).message}`),
): Promise<void> {
  const activityIds = [...new Set(change.activityIds ?? [])].filter((n) => Number.isSafeInteger(n) && n > 0);
  const bundleIds = [...new Set(change.bundleIds ?? [])];
  if (activityIds.length === 0 && bundleIds.length === 0) return;
  try {
    await recordChanges(ctx.db, activityIds, bundleIds);
  } catch (err) {
    onError(err);
  }
  try {
    const notifier = notifiers.get(ctx)?.notifier;
    const msg: CatalogChange = { activityIds, bundleIds };
    if (notifier) await notifier.publish(msg);
    else if (ctx.database.kind === 'postgres') await publishPg(ctx.db, msg); // a CLI process: tell the servers
  } catch (err) {
    onError(err);
  }
  // This process answers with the change as soon as the call returns (not a moment later).
  const appliers = localAppliers.get(ctx);
  if (appliers && appliers.size > 0) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...appliers].map((a) => a().catch(() => {}))), new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
  }
}

// What this process does with the changes it publishes (the updater patching its index), awaited
// by catalogChanged.
const localAppliers = new WeakMap<AppContext, Set<() => Promise<void>>>();

/** Register `settled` (resolves once every change received so far is applied); returns the unregister. */
export function onLocalChangesApplied(ctx: AppContext, settled: () => Promise<void>): () => void {
  let set = localAppliers.get(ctx);
  if (!set) localAppliers.set(ctx, (set = new Set()));
  set.add(settled);
  return () => set!.delete(settled);
}

const subscribedBuses = new WeakSet<EventBus>();

/**
 * Subscribe the change log to the bus: every `catalog.changed` is recorded and propagated by
 * catalogChanged. Called where a process is composed (app.ts, the CLI); calling it again is a no-op.
 */
export function listenForCatalogChanges(bus: EventBus): void {
  if (subscribedBuses.has(bus)) return;
  subscribedBuses.add(bus);
  bus.on('catalog.changed', ({ ctx, activityIds, bundleIds }, onError) => catalogChanged(ctx, { activityIds, bundleIds }, onError));
}

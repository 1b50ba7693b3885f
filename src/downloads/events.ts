// How every process's download index learns that something it holds changed, so it patches
// exactly that instead of re-reading the database on a timer:
//   - 'files' (file ids): a file entered or left the repo tree, its status or its activity's
//     changed, or the evidence of a mirror holding it changed (verified, lost);
//   - 'mirrors' (mirror ids): a mirror was added, edited, enabled or disabled, removed, or its
//     health changed (ids with `evidence` when what was verified on it was dropped as a whole).
// downloadsChanged() delivers to this process at once (an event emitter per database handle,
// which the updater also listens to for 'files') and, on PostgreSQL, to every other process of
// the instance with NOTIFY on `aslo_downloads`: each download index LISTENs on a dedicated
// connection (DownloadNotifications) and rebuilds itself wholly when that connection comes back
// after a loss (it may have missed something). A CLI process (aslo mirror, aslo repo verify) has
// no listener but still notifies the servers. The embedded PGlite database belongs to one
// process, so the event emitter is all it needs.
import { EventEmitter } from 'node:events';
import type { Db } from '../platform/db/index.js';
import { MAX_NOTIFY_PAYLOAD, newOrigin, notify, PgListener } from '../platform/db/listen.js';

export const DOWNLOADS_CHANNEL = 'aslo_downloads';

export interface DownloadEvents extends EventEmitter {
  emit(event: 'files', fileIds: number[]): boolean;
  emit(event: 'mirrors', mirrorIds?: number[], evidence?: boolean): boolean;
  on(event: 'files', listener: (fileIds: number[]) => void): this;
  on(event: 'mirrors', listener: (mirrorIds?: number[], evidence?: boolean) => void): this;
}

const emitters = new WeakMap<Db, DownloadEvents>();

export function downloadEvents(db: Db): DownloadEvents {
  let e = emitters.get(db);
  if (!e) {
    e = new EventEmitter() as DownloadEvents;
    e.setMaxListeners(100);
    emitters.set(db, e);
  }
  return e;
}

export interface DownloadChange {
  files?: number[];
  /** Mirrors whose row changed; an empty list means "reload every mirror". */
  mirrors?: number[];
  /** What was verified on these mirrors was dropped or rewritten as a whole (new base URL, removed). */
  evidence?: boolean;
}

/**
 * The id of a database handle in the notifications sent through it: an index ignores the echo
 * of changes made through its own handle (the event emitter delivered those already).
 */
const origins = new WeakMap<Db, string>();
export function originOf(db: Db): string {
  let o = origins.get(db);
  if (!o) origins.set(db, (o = newOrigin()));
  return o;
}

export function encodeChange(change: DownloadChange, origin: string): string {
  const body = JSON.stringify({ o: origin, f: change.files ?? [], m: change.mirrors ?? null, e: change.evidence ? 1 : 0 });
  // Too large for a NOTIFY: "reload everything".
  return body.length <= MAX_NOTIFY_PAYLOAD ? body : JSON.stringify({ o: origin, all: 1 });
}

export function decodeChange(payload: string): (DownloadChange & { origin: string; all: boolean }) | null {
  try {
    const p = JSON.parse(payload) as { o?: unknown; f?: unknown; m?: unknown; e?: unknown; all?: unknown };
    const ids = (v: unknown) => (Array.isArray(v) ? v.map(Number).filter((n) => Number.isSafeInteger(n) && n > 0) : []);
    return {
      origin: typeof p.o === 'string' ? p.o : '',
      all: p.all === 1,
      files: ids(p.f),
      mirrors: p.m === null || p.m === undefined ? undefined : ids(p.m),
      evidence: p.e === 1,
    };
  } catch {
    return null;
  }
}

/**
 * Tell this process and (on PostgreSQL) every other one that files or mirrors changed. Call it
 * after the transaction that made the change committed. Never throws: a failed NOTIFY is logged
 * and the other processes catch up at their periodic check.
 */
export async function downloadsChanged(
  ctx: { db: Db; database?: { kind: string } },
  change: DownloadChange,
  log: (m: string) => void = () => {},
): Promise<void> {
  const ev = downloadEvents(ctx.db);
  if (change.files?.length) ev.emit('files', change.files);
  if (change.mirrors) ev.emit('mirrors', change.mirrors, change.evidence);
  if (ctx.database?.kind !== 'postgres') return;
  try {
    await notify(ctx.db, DOWNLOADS_CHANNEL, encodeChange(change, originOf(ctx.db)));
  } catch (err) {
    log(`could not notify the other processes of a download change: ${(err as Error).message}`);
  }
}

/** LISTEN on aslo_downloads (a PgListener: a dedicated connection, reconnecting with backoff). */
export class DownloadNotifications {
  private readonly listener: PgListener;

  constructor(
    /** Changes sent with this origin are ignored (see originOf). */
    origin: string,
    url: string,
    onChange: (change: DownloadChange & { all: boolean }) => void,
    /** Called after a reconnect: notifications may have been missed. */
    onResync: () => void,
    log: (msg: string) => void = () => {},
  ) {
    this.listener = new PgListener({
      url,
      channel: DOWNLOADS_CHANNEL,
      applicationName: 'aslo-downloads-listen',
      onNotification: (payload) => {
        const change = decodeChange(payload);
        if (!change || change.origin === origin) return;
        onChange(change);
      },
      onConnected: (afterLoss) => {
        if (afterLoss) onResync();
      },
      onLost: (reason) => log(`download notifications: connection lost (${reason}); reconnecting`),
    });
  }

  get connected(): boolean {
    return this.listener.connected;
  }

  /** Connect; when that fails, keep trying in the background (and resync once connected). */
  start(): Promise<void> {
    return this.listener.start();
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}

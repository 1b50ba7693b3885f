// The in-process event bus: how a domain says "this changed" without importing the domains that
// care. Publishers emit; the listening domains subscribe where the process is composed (app.ts,
// the CLI). Cross-process delivery (PostgreSQL NOTIFY) is a listener's business, not the bus's.
//
// `emit` awaits every listener, so a publisher that awaits it knows the change was handled (the
// updater answers with the change as soon as the publishing call returns). A listener that throws
// is reported (to the publisher's `onError`, else as a process warning) and never fails the
// publisher or the other listeners.
import type { AppContext } from './context.js';

/** Event names and their payloads. */
export interface EventMap {
  /**
   * The public face of activities changed (a version published or withdrawn, a status or text
   * change): what the updater, the feeds or the JSON index answer. Emitted after the change's
   * transaction committed.
   */
  'catalog.changed': {
    /** The instance where it happened (one process may hold several: tests, `aslo instance clone`). */
    ctx: AppContext;
    activityIds?: number[];
    /** Ids of activities whose rows are gone. */
    bundleIds?: string[];
  };
  /** Files became public or stopped being public (an upload published at once, ...): the repo tree follows. */
  'file.statusChanged': {
    ctx: AppContext;
    fileIds: number[];
  };
  /** Review changed the status of activities (approved, disabled, ...): their files enter or leave the repo tree. */
  'activity.statusChanged': {
    ctx: AppContext;
    activityIds: number[];
  };
  /**
   * Files or mirrors changed for the download index: files whose mirror evidence changed, mirrors
   * added, edited or whose health changed (`evidence`: what was verified on them was dropped).
   */
  'downloads.changed': {
    ctx: AppContext;
    files?: number[];
    /** An empty list means "reload every mirror". */
    mirrors?: number[];
    evidence?: boolean;
  };
}

export type EventName = keyof EventMap;
/** `onError` is the publisher's reporter, passed on so a listener's own failures reach it too. */
export type Listener<E extends EventName> = (payload: EventMap[E], onError?: (err: unknown) => void) => void | Promise<void>;

export class EventBus {
  private readonly listeners = new Map<EventName, Set<Listener<EventName>>>();

  /** Subscribe; returns the unsubscribe. */
  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<EventName>);
    return () => set.delete(listener as Listener<EventName>);
  }

  /** Deliver to every listener and wait for them; never throws. */
  async emit<E extends EventName>(event: E, payload: EventMap[E], opts: { onError?: (err: unknown) => void } = {}): Promise<void> {
    const report = opts.onError ?? ((err: unknown) => process.emitWarning(`aslo: a listener of ${event} failed: ${(err as Error)?.message ?? String(err)}`));
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    await Promise.all(
      [...set].map(async (listener) => {
        try {
          await listener(payload, opts.onError);
        } catch (err) {
          try {
            report(err);
          } catch {
            // A failing reporter must not fail the publisher either.
          }
        }
      }),
    );
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}

/** The process's bus: every instance of the process shares it (payloads say which instance). */
export const events = new EventBus();

// LISTEN on one PostgreSQL channel over a dedicated connection: what every process-to-process
// notification of an instance rides on (catalog changes: src/updates/changes.ts, download index
// changes: src/downloads/events.ts, cache invalidations: src/platform/cache). NOTIFY reaches every
// session of the database, needs no other service, and the server is there in every deployment.
//
// A notification sent while the connection is down is lost for good, so the listener tells its
// owner both when the connection goes (`onLost`) and when it is back (`onConnected`, with
// `afterLoss` set: rebuild whatever the notifications maintain). What the payloads mean, and
// ignoring a process's own echo (every payload carries its sender's origin), is the owner's.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import type { Db } from './index.js';

/** NOTIFY on `channel` through the database handle: sent when the caller's transaction commits. */
export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

/** NOTIFY payloads are limited to 8000 bytes: a larger change must be sent as "reload everything". */
export const MAX_NOTIFY_PAYLOAD = 7000;

/** A fresh id for one sender (process and object), carried in its payloads to recognize its echo. */
export function newOrigin(): string {
  return `${process.pid.toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface ListenerOptions {
  url: string;
  channel: string;
  /** The connection's application_name: how pg_stat_activity (and the tests) tell listeners apart. */
  applicationName: string;
  /** A notification on the channel; `client` is the connection it came on (for an answer). */
  onNotification(payload: string, client: pg.Client): void;
  /**
   * The connection is up, LISTEN included. `afterLoss`: it was made by the background retry (the
   * connection was lost, or the first attempt failed), so notifications may have been missed.
   */
  onConnected?(afterLoss: boolean): void;
  /** The connection was lost (not by close()); the listener is already trying again. */
  onLost?(reason: string): void;
  /** Wait before the first retry and the longest wait (it doubles in between), in ms. */
  retryMs?: { first: number; max: number };
}

export class PgListener {
  private client: pg.Client | null = null;
  private closed = false;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ListenerOptions) {
    this.retryMs = opts.retryMs?.first ?? 250;
  }

  get connected(): boolean {
    return this.client !== null;
  }

  /** The live connection (null while down), for queries that must run on the listening session. */
  get connection(): pg.Client | null {
    return this.client;
  }

  /**
   * Connect and LISTEN. When that fails it throws, and keeps trying in the background (the
   * connection it makes then is reported with `afterLoss`); close() to give up instead.
   */
  async start(): Promise<void> {
    try {
      await this.connect(false);
    } catch (err) {
      this.scheduleReconnect();
      throw err;
    }
  }

  private async connect(afterLoss: boolean): Promise<void> {
    const { channel } = this.opts;
    const client = new pg.Client({ connectionString: this.opts.url, application_name: this.opts.applicationName });
    client.on('notification', (n) => {
      if (n.channel !== channel || !n.payload) return;
      this.opts.onNotification(n.payload, client);
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      if (this.closed) return;
      this.opts.onLost?.(err?.message ?? 'ended');
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      void client.end().catch(() => {});
      throw err;
    }
    if (this.closed) {
      // close() came while connecting: nobody wants this connection any more.
      void client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.retryMs = this.opts.retryMs?.first ?? 250;
    this.opts.onConnected?.(afterLoss);
  }

  private scheduleReconnect(): void {
    if (this.retryTimer || this.closed) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.opts.retryMs?.max ?? 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect(true).catch(() => this.scheduleReconnect());
    }, wait);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => {});
  }
}

// Browser sessions. The cookie holds a random secret; the store keeps only its sha256 with the
// user id and expiry: in Redis when cache.redisUrl is set (shared by every process), else in
// the database's sessions table (which every process behind a balancer shares too).
import type { Redis } from 'ioredis';
import type { Db } from '../platform/db/index.js';
import { randomToken, sha256Hex } from './secrets.js';
import { ignoreReadOnly } from '../platform/db/replicas.js';
import * as q from './queries.js';

export interface SessionInfo {
  id: string;
  userId: number;
  expiresAt: Date;
}

export interface SessionMeta {
  address?: string | null;
  userAgent?: string | null;
}

export interface SessionStore {
  readonly kind: 'database' | 'redis';
  /** Create a session; returns the cookie value (never stored). */
  create(userId: number, meta: SessionMeta): Promise<{ token: string; id: string; expiresAt: Date }>;
  /** Look a cookie value up; slides the expiry forward when it is used. */
  get(token: string): Promise<SessionInfo | null>;
  destroy(token: string): Promise<void>;
  /** Log a user out everywhere (password change, reset, deletion), optionally keeping one session. */
  destroyAllFor(userId: number, exceptId?: string): Promise<void>;
}

const SLIDE_AFTER_MS = 3600_000;

export class DbSessionStore implements SessionStore {
  readonly kind = 'database' as const;
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
  ) {}

  async create(userId: number, meta: SessionMeta) {
    const token = randomToken(32);
    const id = sha256Hex(token);
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await q.insertSession(this.db, { id, userId, now, expiresAt, address: meta.address ?? null, userAgent: meta.userAgent?.slice(0, 300) ?? null });
    // Opportunistic clean-up of expired rows.
    await q.deleteSessionsExpiredBefore(this.db, now);
    return { token, id, expiresAt };
  }

  async get(token: string): Promise<SessionInfo | null> {
    const id = sha256Hex(token);
    const row = await q.sessionById(this.db, id);
    if (!row) return null;
    const now = Date.now();
    if (row.expires_at.getTime() <= now) {
      await q.deleteSession(this.db, id);
      return null;
    }
    let expiresAt = row.expires_at;
    if (now - row.last_seen_at.getTime() > SLIDE_AFTER_MS) {
      expiresAt = new Date(now + this.ttlMs);
      // Skipped while the store is read-only (the primary down): the visitor stays signed in.
      await q.slideSession(this.db, id, new Date(now), expiresAt).catch(ignoreReadOnly);
    }
    return { id, userId: row.user_id, expiresAt };
  }

  async destroy(token: string): Promise<void> {
    await q.deleteSession(this.db, sha256Hex(token));
  }

  async destroyAllFor(userId: number, exceptId?: string): Promise<void> {
    await q.deleteSessionsOf(this.db, userId, exceptId);
  }
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private key(id: string) {
    return `${this.prefix}session:${id}`;
  }

  private userKey(userId: number) {
    return `${this.prefix}user-sessions:${userId}`;
  }

  async create(userId: number, meta: SessionMeta) {
    const token = randomToken(32);
    const id = sha256Hex(token);
    const now = Date.now();
    const expiresAt = new Date(now + this.ttlMs);
    const value = JSON.stringify({ userId, createdAt: now, lastSeen: now, address: meta.address ?? null });
    await this.redis.multi().set(this.key(id), value, 'PX', this.ttlMs).sadd(this.userKey(userId), id).pexpire(this.userKey(userId), this.ttlMs).exec();
    return { token, id, expiresAt };
  }

  async get(token: string): Promise<SessionInfo | null> {
    const id = sha256Hex(token);
    const raw = await this.redis.get(this.key(id));
    if (!raw) return null;
    const data = JSON.parse(raw) as { userId: number; lastSeen: number };
    const now = Date.now();
    if (now - data.lastSeen > SLIDE_AFTER_MS) {
      await this.redis.set(this.key(id), JSON.stringify({ ...data, lastSeen: now }), 'PX', this.ttlMs);
      await this.redis.pexpire(this.userKey(data.userId), this.ttlMs);
      return { id, userId: data.userId, expiresAt: new Date(now + this.ttlMs) };
    }
    const ttl = await this.redis.pttl(this.key(id));
    return { id, userId: data.userId, expiresAt: new Date(now + Math.max(ttl, 0)) };
  }

  async destroy(token: string): Promise<void> {
    const id = sha256Hex(token);
    const raw = await this.redis.get(this.key(id));
    await this.redis.del(this.key(id));
    if (raw) await this.redis.srem(this.userKey((JSON.parse(raw) as { userId: number }).userId), id);
  }

  async destroyAllFor(userId: number, exceptId?: string): Promise<void> {
    const ids = (await this.redis.smembers(this.userKey(userId))).filter((id) => id !== exceptId);
    if (ids.length === 0) return;
    await this.redis
      .multi()
      .del(...ids.map((id) => this.key(id)))
      .srem(this.userKey(userId), ...ids)
      .exec();
  }
}

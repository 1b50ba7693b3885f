// The audit log's SQL: one insert and one filtered, paged read of `audit_log`.
import type { Insertable, Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';

export async function insertAuditRow(db: Kysely<Database> | Transaction<Database>, row: Insertable<Database['audit_log']>): Promise<void> {
  await db.insertInto('audit_log').values(row).execute();
}

export interface AuditFilter {
  /** An exact action, or a prefix when `actionPrefix` is set. */
  action?: string;
  actionPrefix?: boolean;
  actorUserId?: number;
  /** Substring of the actor label (case-insensitive). */
  actorLabel?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
}

/** `like` pattern characters escaped, so user input matches literally. */
const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);

export async function selectAuditPage(db: Kysely<Database>, f: AuditFilter, limit: number, offset: number) {
  let base = db.selectFrom('audit_log');
  if (f.action !== undefined) base = f.actionPrefix ? base.where('action', 'like', escapeLike(f.action) + '%') : base.where('action', '=', f.action);
  if (f.actorUserId !== undefined) base = base.where('actor_user_id', '=', f.actorUserId);
  if (f.actorLabel !== undefined) base = base.where('actor_label', 'ilike', `%${escapeLike(f.actorLabel)}%`);
  if (f.targetType) base = base.where('target_type', '=', f.targetType);
  if (f.targetId) base = base.where('target_id', '=', f.targetId);
  if (f.since) base = base.where('at', '>=', f.since);
  if (f.until) base = base.where('at', '<', f.until);
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const items = await base.selectAll().orderBy('id', 'desc').limit(limit).offset(offset).execute();
  return { items, total: Number(total.n) };
}

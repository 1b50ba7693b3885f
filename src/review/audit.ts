// The audit log: every state change and administrative action, who, what, when, why, from where.
// Append-only: this module only inserts and reads, and the database refuses UPDATE, DELETE and
// TRUNCATE on the table (migration 0003).
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../platform/db/schema.js';
import type { Actor } from '../accounts/access.js';
import { parseId } from '../platform/request-guard.js';

export interface AuditEntry {
  actor: Actor | null;
  /** Label when there is no user (the CLI, the system). */
  actorLabel?: string;
  action: string;
  targetType: string;
  targetId: string | number | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export function actorLabelOf(actor: Actor | null, fallback = 'anonymous'): string {
  return actor ? `user:${actor.userId} ${actor.email}` : fallback;
}

export async function audit(db: Kysely<Database> | Transaction<Database>, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: new Date(),
      actor_user_id: entry.actor?.userId ?? null,
      actor_label: entry.actorLabel ?? actorLabelOf(entry.actor),
      actor_address: entry.actor?.address ?? null,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId === null ? null : String(entry.targetId),
      reason: entry.reason ?? null,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}

export interface AuditQuery {
  action?: string;
  actor?: string;
  targetType?: string;
  targetId?: string;
  since?: Date;
  until?: Date;
  page?: number;
  perPage?: number;
}

export async function listAudit(db: Kysely<Database>, q: AuditQuery) {
  const perPage = Math.min(Math.max(q.perPage ?? 50, 1), 200);
  const page = Number.isSafeInteger(q.page) ? Math.max(q.page!, 1) : 1;
  let base = db.selectFrom('audit_log');
  if (q.action) base = q.action.endsWith('.') || q.action.endsWith('*')
    ? base.where('action', 'like', q.action.replace(/[\\%_]/g, (c) => '\\' + c).replace(/\*$/, '') + '%')
    : base.where('action', '=', q.action);
  if (q.actor) {
    const n = parseId(q.actor);
    base = n !== null ? base.where('actor_user_id', '=', n) : base.where('actor_label', 'ilike', `%${q.actor.replace(/[\\%_]/g, (c) => '\\' + c)}%`);
  }
  if (q.targetType) base = base.where('target_type', '=', q.targetType);
  if (q.targetId) base = base.where('target_id', '=', q.targetId);
  if (q.since) base = base.where('at', '>=', q.since);
  if (q.until) base = base.where('at', '<', q.until);
  const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const items = await base.selectAll().orderBy('id', 'desc').limit(perPage).offset((page - 1) * perPage).execute();
  return { items, total: Number(total.n), page, perPage };
}

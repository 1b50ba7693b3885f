// The audit log: every state change and administrative action, who, what, when, why, from where.
// Append-only: this module only inserts and reads, and the database refuses UPDATE, DELETE and
// TRUNCATE on the table (migration 0003). Every domain writes to it, so it lives in platform and
// knows the actor only by the fields it records.
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { parseId } from '../request-guard.js';
import { insertAuditRow, selectAuditPage } from './queries.js';

/** The part of a signed-in actor the log records (accounts' Actor has these fields). */
export interface AuditActor {
  userId: number;
  email: string;
  address: string | null;
}

export interface AuditEntry {
  actor: AuditActor | null;
  /** Label when there is no user (the CLI, the system). */
  actorLabel?: string;
  action: string;
  targetType: string;
  targetId: string | number | null;
  reason?: string | null;
  details?: Record<string, unknown>;
}

export function actorLabelOf(actor: AuditActor | null, fallback = 'anonymous'): string {
  return actor ? `user:${actor.userId} ${actor.email}` : fallback;
}

export async function audit(db: Kysely<Database> | Transaction<Database>, entry: AuditEntry): Promise<void> {
  await insertAuditRow(db, {
    at: new Date(),
    actor_user_id: entry.actor?.userId ?? null,
    actor_label: entry.actorLabel ?? actorLabelOf(entry.actor),
    actor_address: entry.actor?.address ?? null,
    action: entry.action,
    target_type: entry.targetType,
    target_id: entry.targetId === null ? null : String(entry.targetId),
    reason: entry.reason ?? null,
    details: JSON.stringify(entry.details ?? {}),
  });
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
  // `review.` or `review.*` asks for every action under that prefix.
  const prefix = q.action ? q.action.endsWith('.') || q.action.endsWith('*') : false;
  const actorId = q.actor ? parseId(q.actor) : null;
  const { items, total } = await selectAuditPage(
    db,
    {
      action: q.action ? (prefix ? q.action.replace(/\*$/, '') : q.action) : undefined,
      actionPrefix: prefix,
      actorUserId: q.actor && actorId !== null ? actorId : undefined,
      actorLabel: q.actor && actorId === null ? q.actor : undefined,
      targetType: q.targetType,
      targetId: q.targetId,
      since: q.since,
      until: q.until,
    },
    perPage,
    (page - 1) * perPage,
  );
  return { items, total, page, perPage };
}

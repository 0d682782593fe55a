// The append-only audit log: who did what, to which record, when. A database
// trigger refuses UPDATE/DELETE on audit_events, so entries are evidence.
import type { Request } from 'express';
import type { Db } from './db/client.js';
import type { Principal } from './auth/principal.js';

export interface AuditEntry {
  action: string; // e.g. "debtor.create", "message.send", "consent.revoke"
  entityType?: string;
  entityId?: string;
  data?: Record<string, unknown>;
}

type Tx = Pick<Db, 'auditEvent'>;

export type AuditActor = Principal | { type: 'system' | 'provider' | 'debtor'; id?: string };

/** The audit_events row of an entry (column names), for audit() and for statements that write their audit row themselves. */
export function auditRow(actor: AuditActor, entry: AuditEntry, req?: Request) {
  return {
    actor_type: actor.type,
    actor_id: actor.id ?? null,
    action: entry.action,
    entity_type: entry.entityType ?? null,
    entity_id: entry.entityId ?? null,
    data: entry.data ?? null,
    ip: req?.ip ?? null,
    request_id: req ? String(req.id ?? '') : null,
  };
}

export async function audit(db: Tx, actor: AuditActor, entry: AuditEntry, req?: Request): Promise<void> {
  const row = auditRow(actor, entry, req);
  await db.auditEvent.create({
    data: {
      actorType: row.actor_type,
      actorId: row.actor_id,
      action: row.action,
      entityType: row.entity_type,
      entityId: row.entity_id,
      data: (row.data ?? undefined) as object | undefined,
      ip: row.ip,
      requestId: row.request_id,
    },
  });
}

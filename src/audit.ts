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

export async function audit(db: Tx, actor: Principal | { type: 'system' | 'provider'; id?: string }, entry: AuditEntry, req?: Request): Promise<void> {
  await db.auditEvent.create({
    data: {
      actorType: actor.type,
      actorId: actor.id ?? null,
      action: entry.action,
      entityType: entry.entityType ?? null,
      entityId: entry.entityId ?? null,
      data: (entry.data ?? undefined) as object | undefined,
      ip: req?.ip ?? null,
      requestId: req ? String(req.id ?? '') : null,
    },
  });
}

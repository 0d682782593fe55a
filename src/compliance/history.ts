// Contact made outside the gateway: before it (imported from the collector's old system) or
// beside it (an agent's call on a desk phone). Reg F counts attempts per debt whatever system
// made them (§1006.14(b)(2)), so each entry is read into the router's history exactly like
// the gateway's own messages (src/outbound/snapshot.ts, historyEntriesOf): a call counts
// when it connected or left a voicemail, a conversation starts the 7-day no-call period.
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import type { Request } from 'express';
import { audit } from '../audit.js';
import { HttpError, notFound } from '../http/errors.js';
import type { Channel } from '../generated/prisma/enums.js';

export const CONTACT_KINDS = [
  'call',
  'voicemail',
  'ringless_voicemail',
  'conversation',
  'text',
  'email',
  'letter',
] as const;
export type ContactKind = (typeof CONTACT_KINDS)[number];
export const CALL_OUTCOMES = ['connected', 'voicemail', 'no_answer', 'busy', 'failed'] as const;

export function channelOfKind(kind: ContactKind): Channel {
  switch (kind) {
    case 'text':
      return 'SMS';
    case 'email':
      return 'EMAIL';
    case 'letter':
      return 'LETTER';
    default:
      return 'VOICE';
  }
}

export interface ContactHistoryInput {
  debtId?: string | null;
  kind: ContactKind;
  outcome?: (typeof CALL_OUTCOMES)[number];
  direction?: 'OUTBOUND' | 'INBOUND';
  occurredAt: string;
  externalRef?: string;
  note?: string;
}

type Row = Awaited<ReturnType<AppContext['db']['contactHistory']['create']>>;

/** A contact cannot have happened in the future (a few minutes of clock skew aside). */
const FUTURE_SLACK_MS = 5 * 60_000;

/**
 * Records entries for one debtor in one transaction: each debt must be the debtor's, no time
 * in the future; an entry whose externalRef is on file already is reported as a duplicate,
 * not recorded twice (an import run again adds nothing).
 */
export async function recordContactHistory(
  ctx: AppContext,
  debtorId: string,
  entries: readonly ContactHistoryInput[],
  opts: {
    source: 'api' | 'agent' | 'import';
    actor: Principal | { type: 'system'; id?: string };
    req?: Request;
    now?: Date;
  },
): Promise<{ entries: Row[]; duplicates: string[] }> {
  const now = opts.now ?? new Date();
  entries.forEach((e, i) => {
    if (new Date(e.occurredAt).getTime() > now.getTime() + FUTURE_SLACK_MS) {
      throw new HttpError(400, 'invalid_request', 'a contact cannot be in the future', [
        { field: `entries.${i}.occurredAt`, reason: 'is in the future' },
      ]);
    }
  });
  return ctx.db.$transaction(async (tx) => {
    if (!(await tx.debtor.findUnique({ where: { id: debtorId }, select: { id: true } }))) throw notFound('debtor');
    const debtIds = [...new Set(entries.map((e) => e.debtId).filter((d): d is string => Boolean(d)))];
    const own = new Set(
      (await tx.debt.findMany({ where: { id: { in: debtIds }, debtorId }, select: { id: true } })).map((d) => d.id),
    );
    entries.forEach((e, i) => {
      if (e.debtId && !own.has(e.debtId))
        throw new HttpError(404, 'not_found', 'debt not found for this debtor', [
          { field: `entries.${i}.debtId`, reason: 'is not a debt of this debtor' },
        ]);
    });
    const refs = entries.map((e) => e.externalRef).filter((r): r is string => Boolean(r));
    const known = new Set(
      (
        await tx.contactHistory.findMany({
          where: { debtorId, externalRef: { in: refs } },
          select: { externalRef: true },
        })
      ).map((r) => r.externalRef!),
    );
    const created: Row[] = [];
    const duplicates: string[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      if (e.externalRef && (known.has(e.externalRef) || seen.has(e.externalRef))) {
        duplicates.push(e.externalRef);
        continue;
      }
      if (e.externalRef) seen.add(e.externalRef);
      created.push(
        await tx.contactHistory.create({
          data: {
            debtorId,
            debtId: e.debtId ?? null,
            channel: channelOfKind(e.kind),
            kind: e.kind,
            outcome: e.outcome ?? null,
            direction: e.direction ?? 'OUTBOUND',
            occurredAt: new Date(e.occurredAt),
            source: opts.source,
            externalRef: e.externalRef ?? null,
            note: e.note ?? null,
            recordedById: 'id' in opts.actor ? (opts.actor.id ?? null) : null,
          },
        }),
      );
    }
    if (created.length) {
      await audit(
        tx,
        opts.actor,
        {
          action: 'contact_history.record',
          entityType: 'debtor',
          entityId: debtorId,
          data: { count: created.length, duplicates: duplicates.length, source: opts.source },
        },
        opts.req,
      );
    }
    return { entries: created, duplicates };
  });
}

export function serializeContactHistory(h: Row) {
  return {
    id: h.id,
    debtorId: h.debtorId,
    debtId: h.debtId,
    channel: h.channel,
    kind: h.kind,
    outcome: h.outcome,
    direction: h.direction,
    occurredAt: h.occurredAt,
    source: h.source,
    externalRef: h.externalRef,
    note: h.note,
    createdAt: h.createdAt,
    // How the limits read it (the same rule as the router's history).
    countsAsAttempt:
      h.direction === 'OUTBOUND' && (h.kind !== 'call' || h.outcome === 'connected' || h.outcome === 'voicemail'),
  };
}

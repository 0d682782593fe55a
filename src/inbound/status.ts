// Delivery status of our outbound messages, from provider callbacks. Every
// callback is kept as a MessageStatusEvent (idempotent by the provider's event
// id); the message's own status only moves forward, so a late "sent" never
// overwrites "delivered", and the first final outcome stays.
import type { AppContext } from '../context.js';
import { Prisma, type Message } from '../generated/prisma/client.js';
import type { MessageStatus } from '../generated/prisma/enums.js';
import { appendEvent } from '../conversations/thread.js';
import { MessageNotFound } from './events-store.js';
import { inThread, isUniqueViolation, type Tx, type TxOutcome } from './thread-writer.js';

const RANK: Record<MessageStatus, number> = {
  PENDING: 0,
  SCHEDULED: 1,
  SENDING: 2,
  QUEUED: 3,
  SENT: 4,
  RINGING: 4,
  MAILED: 4,
  IN_TRANSIT: 5,
  IN_PROGRESS: 5,
  DELIVERED: 6,
  RECEIVED: 6,
  // Final outcomes. A bounce after "delivered" (asynchronous bounce) wins;
  // nothing moves a message out of a final state.
  COMPLETED: 7,
  BUSY: 7,
  NO_ANSWER: 7,
  UNDELIVERED: 7,
  FAILED: 7,
  BOUNCED: 7,
  RETURNED: 7,
  CANCELLED: 7,
};

export function advances(current: MessageStatus, next: MessageStatus): boolean {
  return RANK[next] > RANK[current];
}

export type MessageRef = { providerMessageId: string } | { id: string } | { anyOf: Prisma.MessageWhereInput[] };

export interface StatusUpdate {
  ref: MessageRef;
  /** null: recorded in the history without changing the message's status (opens, AMD results, recordings). */
  status: MessageStatus | null;
  providerStatus: string;
  providerEventId: string;
  errorCode?: string | null;
  errorMessage?: string | null;
  occurredAt?: Date;
  detail?: Record<string, unknown>;
  /** Merged into messages.call_outcome (voice). */
  callOutcome?: Record<string, unknown>;
  /** Consequences in the same transaction (bounce → address invalid, spam report → opt-out …). */
  effects?: (tx: Tx, message: Message, out: TxOutcome) => Promise<void>;
}

function whereOf(ref: MessageRef): Prisma.MessageWhereInput {
  if ('id' in ref) return { id: ref.id };
  if ('providerMessageId' in ref) return { providerMessageId: ref.providerMessageId };
  return { OR: ref.anyOf };
}

/** Every column of messages under its Prisma field name: a raw SELECT … FOR UPDATE that yields a Message. */
const MESSAGE_COLUMNS = Prisma.sql`id::text AS "id", conversation_id::text AS "conversationId", debtor_id::text AS "debtorId", debt_id::text AS "debtId",
  contact_point_id::text AS "contactPointId", campaign_id::text AS "campaignId", direction::text AS "direction", channel::text AS "channel",
  status::text AS "status", intent, template_id AS "templateId", locale, from_address AS "fromAddress", to_address AS "toAddress", subject, body, html,
  decision, scheduled_at AS "scheduledAt", sent_at AS "sentAt", delivered_at AS "deliveredAt", provider, provider_message_id AS "providerMessageId",
  rfc_message_id AS "rfcMessageId", in_reply_to AS "inReplyTo", error_code AS "errorCode", error_message AS "errorMessage", attempts, segments, encoding,
  pdf_path AS "pdfPath", call_outcome AS "callOutcome", from_unknown_address AS "fromUnknownAddress", counts_as_attempt AS "countsAsAttempt",
  idempotency_key AS "idempotencyKey", created_by_id::text AS "createdById", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Locks the message's row and reads it (one round trip instead of a lock and a read). */
export async function lockMessage(tx: Tx, ref: { id: string } | { providerMessageId: string }): Promise<Message | null> {
  const where = 'id' in ref ? Prisma.sql`id = ${ref.id}::uuid` : Prisma.sql`provider_message_id = ${ref.providerMessageId}`;
  const rows = await tx.$queryRaw<Message[]>`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE ${where} FOR UPDATE`;
  return rows[0] ?? null;
}

/** Applies one status callback. Returns false when this event was applied before. */
export async function applyStatus(ctx: AppContext, u: StatusUpdate): Promise<boolean> {
  // No "seen this event?" pre-check: the unique provider_event_id refuses a repeat inside the transaction.
  const waitFor = 'providerMessageId' in u.ref ? u.ref.providerMessageId : undefined;
  const direct = 'anyOf' in u.ref ? null : u.ref;
  const found = direct ? null : await ctx.db.message.findFirst({ where: whereOf(u.ref), select: { id: true } });
  if (!direct && !found) throw new MessageNotFound(JSON.stringify(u.ref));
  try {
    const applied = await inThread(ctx, async (tx, out) => {
      // Find, lock and read the message in one statement, so concurrent callbacks for it apply one at a time.
      const current = await lockMessage(tx, direct ? ('id' in direct ? { id: direct.id } : { providerMessageId: direct.providerMessageId }) : { id: found!.id });
      if (!current) return false;
      const occurredAt = u.occurredAt ?? new Date();
      await tx.messageStatusEvent.create({
        data: {
          messageId: current.id,
          status: u.status ?? current.status,
          providerStatus: u.providerStatus,
          errorCode: u.errorCode ?? null,
          providerEventId: u.providerEventId,
          detail: (u.detail ?? undefined) as Prisma.InputJsonValue | undefined,
          occurredAt,
        },
      });
      const moved = u.status !== null && advances(current.status, u.status);
      const data: Prisma.MessageUpdateInput = {};
      if (moved) {
        data.status = u.status!;
        if (u.status === 'DELIVERED') data.deliveredAt = occurredAt;
        if ((u.status === 'SENT' || u.status === 'MAILED') && !current.sentAt) data.sentAt = occurredAt;
        if (u.errorCode) data.errorCode = u.errorCode;
        if (u.errorMessage) data.errorMessage = u.errorMessage.slice(0, 1000);
      }
      if (u.callOutcome) data.callOutcome = { ...((current.callOutcome as Record<string, unknown> | null) ?? {}), ...u.callOutcome } as Prisma.InputJsonValue;
      const updated = Object.keys(data).length ? await tx.message.update({ where: { id: current.id }, data }) : current;
      out.events.push(
        await appendEvent(
          tx,
          current.conversationId,
          'message.status',
          {
            messageId: current.id,
            channel: current.channel,
            direction: current.direction,
            status: updated.status,
            previousStatus: current.status,
            advanced: moved,
            providerStatus: u.providerStatus,
            ...(u.errorCode ? { errorCode: u.errorCode } : {}),
            ...(u.callOutcome ? { callOutcome: updated.callOutcome } : {}),
            occurredAt: occurredAt.toISOString(),
          },
          { touch: false },
        ),
      );
      if (u.effects) await u.effects(tx, updated, out);
      return true;
    });
    if (!applied) throw new MessageNotFound(JSON.stringify(u.ref), waitFor);
  } catch (err) {
    if (isUniqueViolation(err)) return false; // the same event, applied before or concurrently
    throw err;
  }
  return true;
}

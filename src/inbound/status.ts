// Delivery status of our outbound messages, from provider callbacks. Every
// callback is kept as a MessageStatusEvent (idempotent by the provider's event
// id); the message's own status only moves forward, so a late "sent" never
// overwrites "delivered", and the first final outcome stays.
import type { AppContext } from '../context.js';
import type { Message, Prisma } from '../generated/prisma/client.js';
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

/** Applies one status callback. Returns false when this event was applied before. */
export async function applyStatus(ctx: AppContext, u: StatusUpdate): Promise<boolean> {
  // No "seen this event?" pre-check: the unique provider_event_id refuses a repeat inside the transaction.
  const waitFor = 'providerMessageId' in u.ref ? u.ref.providerMessageId : undefined;
  const direct = 'anyOf' in u.ref ? null : u.ref;
  const found = direct ? null : await ctx.db.message.findFirst({ where: whereOf(u.ref), select: { id: true } });
  if (!direct && !found) throw new MessageNotFound(JSON.stringify(u.ref));
  try {
    const applied = await inThread(ctx, async (tx, out) => {
      // Find and lock the message in one statement, so concurrent callbacks for it apply one at a time.
      const locked = direct
        ? 'id' in direct
          ? await tx.$queryRaw<{ id: string }[]>`SELECT id FROM messages WHERE id = ${direct.id}::uuid FOR UPDATE`
          : await tx.$queryRaw<{ id: string }[]>`SELECT id FROM messages WHERE provider_message_id = ${direct.providerMessageId} FOR UPDATE`
        : await tx.$queryRaw<{ id: string }[]>`SELECT id FROM messages WHERE id = ${found!.id}::uuid FOR UPDATE`;
      if (!locked[0]) return false;
      const current = await tx.message.findUniqueOrThrow({ where: { id: locked[0].id } });
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

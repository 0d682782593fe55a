// Lands one inbound message in its thread: the message row, its attachments,
// the timeline event, thread flags for unusual senders, and the reply's
// consequences (consent, flags, restrictions) — one transaction, so a retry
// after a failure either finds everything or nothing. A reply without
// consequences is a single statement (after its conversation is found or
// opened), which needs no transaction. Idempotent by the provider's id
// (MessageSid, the email's Message-ID).
import type { AppContext } from '../context.js';
import type { Message } from '../generated/prisma/client.js';
import type { Channel, ConversationFlag } from '../generated/prisma/enums.js';
import { conversationFor } from '../conversations/thread.js';
import { writeMessage } from '../conversations/message-write.js';
import type { SkippedAttachment, StoredAttachment } from './attachments.js';
import { replyClassifier, type Classification, type SmsKeyword } from './classifier.js';
import type { Match } from './matching.js';
import { applyReplyActions } from './reply-actions.js';
import { debtorZone } from './debtor-zone.js';
import { scheduleDeliveries } from '../webhooks-out/service.js';
import {
  addFlags,
  finishOutcome,
  inThread,
  messageView,
  newOutcome,
  type Tx,
  type TxOutcome,
} from '../messaging/thread-writer.js';
import { isUniqueViolation } from '../db/errors.js';
import { poolSql, type Sql } from '../db/sql.js';

export interface InboundMessageInput {
  channel: Channel;
  provider: string;
  /** MessageSid; for email the Message-ID goes to rfcMessageId instead. */
  providerMessageId?: string | null;
  rfcMessageId?: string | null;
  inReplyTo?: string | null;
  from: string;
  to: string | null;
  subject?: string | null;
  body: string;
  html?: string | null;
  /** The text the classifier reads (e.g. an email without its quoted part); defaults to body. */
  replyText?: string;
  match: Match;
  /** Phone replies: every contact point (any debtor) holding `from`, as matchPhone found them. */
  numberContactPointIds?: string[];
  keyword?: SmsKeyword | null;
  attachments: StoredAttachment[];
  skippedAttachments: SkippedAttachment[];
  receivedAt?: Date;
  /** The stored raw event this message came from (recorded as the source of what it causes). */
  inboundEventId?: string | null;
  /**
   * An automatic reply (out-of-office, RFC 3834): kept in the thread, marked
   * (messages.intent = 'auto_reply'), but never classified, flagged, counted
   * as the debtor replying, nor announced as reply.received.
   */
  autoReply?: { reason: string } | null;
}

/** messages.intent of an inbound automatic reply; campaigns' "replied" conditions skip such messages. */
export const AUTO_REPLY_INTENT = 'auto_reply';

export async function findExistingInbound(
  ctx: AppContext,
  input: Pick<InboundMessageInput, 'providerMessageId' | 'rfcMessageId'>,
): Promise<Message | null> {
  const or = [
    ...(input.providerMessageId ? [{ providerMessageId: input.providerMessageId }] : []),
    ...(input.rfcMessageId ? [{ rfcMessageId: input.rfcMessageId }] : []),
  ];
  if (or.length === 0) return null;
  return ctx.db.message.findFirst({ where: { OR: or } });
}

/** Does any debtor have this sender's number or address on file (not only the matched one)? */
async function senderOnFile(tx: Tx, input: InboundMessageInput, contactPointId: string | null): Promise<boolean> {
  if (contactPointId || (input.numberContactPointIds?.length ?? 0) > 0) return true;
  if (input.match.kind === 'unmatched' && input.match.candidateDebtorIds.length > 0) return true;
  // A phone reply's match already looked up every contact point holding this number (numberContactPointIds): none.
  if (input.channel !== 'EMAIL' && input.channel !== 'LETTER' && input.numberContactPointIds !== undefined)
    return false;
  const kind = input.channel === 'EMAIL' ? 'EMAIL' : input.channel === 'LETTER' ? 'ADDRESS' : 'PHONE';
  return (await tx.contactPoint.count({ where: { kind, value: input.from } })) > 0;
}

export async function recordInboundMessage(
  ctx: AppContext,
  input: InboundMessageInput,
): Promise<{ message: Message; created: boolean; classification: Classification | null }> {
  // No "seen it?" read first: the unique provider_message_id / rfc_message_id
  // refuses a second copy inside the transaction (rolled back whole), and the
  // catch below answers with the stored one. Repeats are rare (the raw event's
  // dedupe key stops most); the read would cost every new message a round trip.
  const locale =
    input.match.kind === 'thread' && input.match.debtorId
      ? (input.match.locale ??
        (await ctx.db.debtor.findUnique({ where: { id: input.match.debtorId }, select: { locale: true } }))?.locale ??
        'en')
      : 'en';
  const readAt = input.receivedAt ?? new Date();
  let classification: Classification = input.autoReply
    ? { intents: [], confidence: 1, extracted: {} }
    : input.keyword
      ? { intents: [], confidence: 1, extracted: {} }
      : replyClassifier.classify(input.replyText ?? input.body, input.channel, locale, readAt);
  // A day named in the reply is a day on the debtor's calendar: read again in their zone (looked up only then).
  if (classification.extracted.dateText && input.match.kind === 'thread' && input.match.debtorId) {
    const zone = await debtorZone(ctx, input.match.debtorId, input.from);
    if (zone !== 'UTC')
      classification = replyClassifier.classify(input.replyText ?? input.body, input.channel, locale, readAt, { zone });
  }

  const m = input.match;
  const debtorId = m.kind === 'thread' ? m.debtorId : null;
  const contactPointId = m.kind === 'thread' ? m.contactPointId : null;
  const fromUnknownAddress = m.kind === 'thread' && m.fromUnknownAddress;
  const threadFlags: ConversationFlag[] = [];
  // An automatic reply raises no flag, not even about its sender: no person wrote it.
  if (fromUnknownAddress && !input.autoReply) threadFlags.push('UNKNOWN_SENDER_ADDRESS');
  if (m.kind === 'unmatched' && m.reason === 'ambiguous_sender' && !input.autoReply) threadFlags.push('NEEDS_REVIEW');
  // A reply that asks for nothing (no keyword, no intent) and raises no flag has no consequences:
  // the message and everything about it are one statement, so it needs no transaction.
  const plain =
    !input.keyword && classification.intents.length === 0 && !classification.review?.length && threadFlags.length === 0;

  const land = async (tx: Tx | Sql, out: TxOutcome) => {
    const conversation =
      m.kind === 'unmatched'
        ? await conversationFor(tx, { unmatchedAddress: m.address })
        : m.debtorId
          ? await conversationFor(tx, { debtorId: m.debtorId })
          : { id: m.conversationId! };

    // One statement: the message, its attachments, the timeline event (which also records the
    // inbound channel on the conversation and reopens it), the webhook event's processed mark,
    // and the reply.received deliveries for the creditor's systems.
    const { message, event, deliveryIds } = await writeMessage(
      tx,
      {
        conversationId: conversation.id,
        debtorId,
        contactPointId,
        direction: 'INBOUND',
        channel: input.channel,
        status: 'RECEIVED',
        provider: input.provider,
        providerMessageId: input.providerMessageId ?? null,
        rfcMessageId: input.rfcMessageId ?? null,
        inReplyTo: input.inReplyTo ?? null,
        fromAddress: input.from,
        toAddress: input.to,
        subject: input.subject ?? null,
        body: input.body,
        html: input.html ?? null,
        fromUnknownAddress,
        createdAt: input.receivedAt,
        ...(input.autoReply ? { intent: AUTO_REPLY_INTENT } : {}),
      },
      {
        attachments: input.attachments,
        inboundEventId: input.inboundEventId,
        event: {
          type: 'message.created',
          inboundChannel: input.channel,
          payload: (stored, files) => ({
            message: messageView(stored, files),
            ...(input.skippedAttachments.length ? { skippedAttachments: input.skippedAttachments } : {}),
            ...(m.kind === 'thread' ? { matchedBy: m.via } : { unmatchedReason: m.reason }),
            intents: classification.intents,
            ...(input.keyword ? { keyword: input.keyword } : {}),
            ...(input.autoReply ? { autoReply: input.autoReply } : {}),
          }),
        },
        announce: input.autoReply
          ? undefined
          : {
              type: 'reply.received',
              data: (stored, files) => ({
                messageId: stored.id,
                conversationId: conversation.id,
                debtorId,
                contactPointId,
                channel: input.channel,
                from: input.from,
                subject: input.subject ?? null,
                text: input.replyText ?? input.body,
                receivedAt: stored.createdAt.toISOString(),
                matchedBy: m.kind === 'thread' ? m.via : null,
                fromUnknownAddress,
                intents: classification.intents,
                ...(input.keyword ? { keyword: input.keyword } : {}),
                attachments: files.length,
              }),
            },
      },
    );
    out.events.push(event);
    // Announced to the creditor's systems once this write has committed.
    if (deliveryIds.length) out.after.push(() => scheduleDeliveries(ctx, deliveryIds));
    if (plain) return { message, created: true, classification };
    // Consequences are written through Prisma, in the transaction inThread opened (below).
    if (!('$queryRaw' in tx)) throw new Error('a reply with consequences must land in a Prisma transaction');

    await addFlags(
      tx,
      conversation.id,
      threadFlags,
      {
        messageId: message.id,
        reason: fromUnknownAddress
          ? `sent from ${input.from}, not on file for this debtor`
          : 'sender shared by several debtors',
        ...(m.kind === 'unmatched' ? { candidateDebtorIds: m.candidateDebtorIds } : {}),
      },
      out,
    );
    await applyReplyActions(
      ctx,
      tx,
      {
        conversationId: conversation.id,
        debtorId,
        messageId: message.id,
        channel: input.channel,
        contactPointId,
        numberContactPointIds: input.numberContactPointIds,
        keyword: input.keyword,
        classification,
        fromAddress: input.from,
        senderOnFile: await senderOnFile(tx, input, contactPointId),
        inboundEventId: input.inboundEventId ?? null,
      },
      out,
    );
    return { message, created: true, classification };
  };

  try {
    if (!plain) return await inThread(ctx, land);
    // Each statement on its own, straight on the pool (no Prisma): the message's statement is the one that counts.
    const out = newOutcome();
    const landed = await land(poolSql(ctx.db), out);
    await finishOutcome(ctx, out);
    return landed;
  } catch (err) {
    // Another worker stored the same message first.
    if (isUniqueViolation(err)) {
      const again = await findExistingInbound(ctx, input);
      if (again) return { message: again, created: false, classification: null };
    }
    throw err;
  }
}

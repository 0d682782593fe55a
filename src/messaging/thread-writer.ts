// Writing into a conversation thread: messages, flags and consent changes,
// each appended to the timeline inside the transaction that made it, and
// published to live clients only after that transaction commits.
import { databaseCodeOf } from '../db/errors.js';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Attachment, Message } from '../generated/prisma/client.js';
import type { Channel, ConsentState, ConversationFlag } from '../generated/prisma/enums.js';
import { appendEvent, conversationStateAfter, type TimelineEvent } from '../conversations/thread.js';
import { publishTimeline } from '../conversations/live.js';

export type Tx = Prisma.TransactionClient | Db;

/** Work to do once the transaction has committed (live events, confirmation texts). */
export type AfterCommit = () => Promise<void>;

export interface TxOutcome {
  events: TimelineEvent[];
  after: AfterCommit[];
}

export const newOutcome = (): TxOutcome => ({ events: [], after: [] });

/** The fields of a message that its view shows (a stored Message, or one about to be written). */
export type ViewedMessage = Pick<Message, 'id' | 'conversationId' | 'direction' | 'channel' | 'status' | 'body'> &
  Partial<
    Pick<
      Message,
      'debtorId' | 'contactPointId' | 'fromAddress' | 'toAddress' | 'subject' | 'fromUnknownAddress' | 'inReplyTo'
    >
  > & { createdAt: Date };

/** What live clients get for a message: enough to render it without refetching. */
export function messageView(
  m: ViewedMessage,
  attachments: Pick<Attachment, 'id' | 'filename' | 'contentType' | 'size'>[] = [],
) {
  return {
    id: m.id,
    conversationId: m.conversationId,
    debtorId: m.debtorId ?? null,
    contactPointId: m.contactPointId ?? null,
    direction: m.direction,
    channel: m.channel,
    status: m.status,
    from: m.fromAddress ?? null,
    to: m.toAddress ?? null,
    subject: m.subject ?? null,
    body: m.body,
    fromUnknownAddress: m.fromUnknownAddress ?? false,
    inReplyTo: m.inReplyTo ?? null,
    createdAt: m.createdAt.toISOString(),
    attachments: attachments.map((a) => ({ id: a.id, filename: a.filename, contentType: a.contentType, size: a.size })),
  };
}

/**
 * Adds flags to a conversation (a set: adding one twice is a no-op) and
 * appends one `flag.added` event per flag that was new.
 */
export async function addFlags(
  tx: Tx,
  conversationId: string,
  flags: ConversationFlag[],
  detail: Record<string, unknown>,
  out: TxOutcome,
): Promise<ConversationFlag[]> {
  if (flags.length === 0) return [];
  // Lock the row so concurrent flaggers see each other's result.
  const rows = await tx.$queryRaw<
    { flags: ConversationFlag[] }[]
  >`SELECT flags::text[] AS flags FROM conversations WHERE id = ${conversationId}::uuid FOR UPDATE`;
  const current = new Set(rows[0]?.flags ?? []);
  const added = [...new Set(flags)].filter((f) => !current.has(f));
  if (added.length === 0) return [];
  await tx.conversation.update({ where: { id: conversationId }, data: { flags: [...current, ...added] } });
  for (const flag of added) {
    out.events.push(await appendEvent(tx, conversationId, 'flag.added', { flag, ...detail }));
  }
  return added;
}

export async function removeFlags(
  tx: Tx,
  conversationId: string,
  flags: ConversationFlag[],
  detail: Record<string, unknown>,
  out: TxOutcome,
): Promise<void> {
  const rows = await tx.$queryRaw<
    { flags: ConversationFlag[] }[]
  >`SELECT flags::text[] AS flags FROM conversations WHERE id = ${conversationId}::uuid FOR UPDATE`;
  const current = rows[0]?.flags ?? [];
  const removed = current.filter((f) => flags.includes(f));
  if (removed.length === 0) return;
  await tx.conversation.update({
    where: { id: conversationId },
    data: { flags: current.filter((f) => !flags.includes(f)) },
  });
  for (const flag of removed)
    out.events.push(await appendEvent(tx, conversationId, 'flag.removed', { flag, ...detail }));
}

/** Sets the consent of one channel at one contact point; reports whether the state changed. */
export async function setConsent(
  tx: Tx,
  input: { contactPointId: string; channel: Channel; state: ConsentState; source: string },
): Promise<{ changed: boolean; previous: ConsentState | null }> {
  const existing = await tx.channelConsent.findUnique({
    where: { contactPointId_channel: { contactPointId: input.contactPointId, channel: input.channel } },
  });
  if (existing?.state === input.state) return { changed: false, previous: existing.state };
  await tx.channelConsent.upsert({
    where: { contactPointId_channel: { contactPointId: input.contactPointId, channel: input.channel } },
    create: {
      contactPointId: input.contactPointId,
      channel: input.channel,
      state: input.state,
      source: input.source,
      changedAt: new Date(),
    },
    update: { state: input.state, source: input.source, changedAt: new Date() },
  });
  return { changed: true, previous: existing?.state ?? null };
}

/** Publishes what a committed transaction appended, with an inbox summary, then runs its after-commit work. */
export async function finishOutcome(ctx: AppContext, out: TxOutcome): Promise<void> {
  const byConversation = new Map<string, TimelineEvent[]>();
  for (const ev of out.events) {
    const list = byConversation.get(ev.conversationId) ?? [];
    list.push(ev);
    byConversation.set(ev.conversationId, list);
  }
  for (const [conversationId, events] of byConversation) {
    // The last append of the transaction read the row as it committed (every
    // writer updates the conversation before appending); re-read only events
    // that did not come through appendEvent in this process.
    const last = events.reduce((a, b) => (b.seq > a.seq ? b : a));
    const c = conversationStateAfter(last) ?? (await ctx.db.conversation.findUnique({ where: { id: conversationId } }));
    const lastMessage = [...events].reverse().find((e) => e.type === 'message.created')?.payload.message as
      | { channel?: string; direction?: string }
      | undefined;
    publishTimeline(
      ctx.io,
      events,
      c
        ? {
            conversationId,
            debtorId: c.debtorId,
            lastActivityAt: c.lastActivityAt.toISOString(),
            status: c.status,
            flags: c.flags,
            assigneeId: c.assigneeId,
            ...(lastMessage?.channel
              ? { preview: { channel: lastMessage.channel, direction: lastMessage.direction ?? 'INBOUND' } }
              : {}),
            ...{ lastSeq: events[events.length - 1]!.seq },
          }
        : undefined,
    );
  }
  for (const task of out.after) {
    await task();
  }
}

/** Runs `fn` in a transaction, then publishes and runs its after-commit work. */
export async function inThread<T>(
  ctx: AppContext,
  fn: (tx: Prisma.TransactionClient, out: TxOutcome) => Promise<T>,
): Promise<T> {
  // PostgreSQL rolls a deadlock victim (40P01) or a serialization failure
  // (40001) back whole, so the transaction is run again from the start (with a
  // fresh outcome: nothing of the failed attempt is published). An agent's
  // action racing a reply's consequences on the same thread met this.
  for (let attempt = 1; ; attempt++) {
    const out = newOutcome();
    try {
      const result = await ctx.db.$transaction((tx) => fn(tx, out), { timeout: 30_000 });
      await finishOutcome(ctx, out);
      return result;
    } catch (err) {
      const code = databaseCodeOf(err);
      if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw err;
      ctx.log.warn({ code, attempt }, 'thread transaction lost a lock race; running it again');
    }
  }
}

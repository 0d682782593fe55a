// Work owed to a debtor outside a reply: a callback the debtor asked for
// (keypad 1 when no agent could take the call, a reply, the debtor page).
// It becomes a task with a due time in the inbox's callbacks view, flags the
// conversation CALLBACK_REQUEST and is told on its timeline — in the
// transaction of the caller, which publishes the returned events after commit.
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { audit, type AuditActor } from '../audit.js';
import { appendEvent, type TimelineEvent } from './thread.js';

type Tx = Prisma.TransactionClient | Db;

export interface CallbackRequest {
  conversationId: string;
  /** Where the request came from, e.g. "voice:keypad-1". */
  source: string;
  dueAt: Date;
  detail?: Record<string, unknown>;
}

export async function requestCallback(
  tx: Tx,
  req: CallbackRequest,
  actor: AuditActor,
): Promise<{ taskId: string; events: TimelineEvent[] }> {
  const events: TimelineEvent[] = [];
  // A provider retrying the same webhook asks once.
  const messageId = req.detail?.messageId;
  if (typeof messageId === 'string') {
    const open = await tx.inboxTask.findFirst({
      where: {
        conversationId: req.conversationId,
        kind: 'callback',
        source: req.source,
        doneAt: null,
        detail: { path: ['messageId'], equals: messageId },
      },
    });
    if (open) return { taskId: open.id, events };
  }
  const task = await tx.inboxTask.create({
    data: {
      conversationId: req.conversationId,
      kind: 'callback',
      source: req.source,
      dueAt: req.dueAt,
      detail: (req.detail ?? {}) as object,
    },
  });
  const flagged = await tx.$queryRaw<{ id: string }[]>`
    UPDATE conversations SET flags = array_append(flags, 'CALLBACK_REQUEST'::"ConversationFlag")
     WHERE id = ${req.conversationId}::uuid AND NOT ('CALLBACK_REQUEST'::"ConversationFlag" = ANY(flags)) RETURNING id::text`;
  if (flagged.length)
    events.push(
      await appendEvent(tx, req.conversationId, 'flag.added', {
        flag: 'CALLBACK_REQUEST',
        source: req.source,
        taskId: task.id,
      }),
    );
  events.push(
    await appendEvent(tx, req.conversationId, 'task.created', {
      taskId: task.id,
      kind: 'callback',
      source: req.source,
      dueAt: req.dueAt.toISOString(),
    }),
  );
  await audit(tx, actor, {
    action: 'task.create',
    entityType: 'conversation',
    entityId: req.conversationId,
    data: { taskId: task.id, kind: 'callback', source: req.source, dueAt: req.dueAt.toISOString(), ...req.detail },
  });
  return { taskId: task.id, events };
}

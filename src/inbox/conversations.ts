// The shared inbox API: the conversation list, a thread with everything an
// agent needs to read it, and the team actions (claim, assign, status, notes,
// reply: compose.ts). Every action is appended to the conversation's timeline in the
// transaction that made it (so live clients and reconnecting clients see it)
// and written to the audit log with who did it.
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import { defineRoutes } from '../http/api.js';
import { HttpError, conflict, notFound } from '../http/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { inThread, messageView } from '../messaging/thread-writer.js';
import { explain, type Decision } from '../router/index.js';
import { likeLiteral } from '../db/like.js';

const STATUSES = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED'] as const;
const FLAGS = ['OPT_OUT', 'DISPUTE', 'CEASE', 'ALREADY_PAID', 'PROMISE_TO_PAY', 'HARDSHIP', 'CALLBACK_REQUEST', 'WRONG_NUMBER', 'UNMATCHED', 'UNKNOWN_SENDER_ADDRESS', 'NEEDS_REVIEW'] as const;
const CHANNELS = ['SMS', 'EMAIL', 'VOICE', 'LETTER'] as const;
const uuid = z.string().uuid('must be a UUID');

function conversationId(raw: unknown): string {
  const r = uuid.safeParse(raw);
  if (!r.success) throw notFound('conversation');
  return r.data;
}

const actorName = (p: Principal) => p.name;
const userId = (p: Principal) => (p.type === 'user' ? p.id ?? null : null);

const listInclude = {
  debtor: { select: { id: true, fullName: true } },
  assignee: { select: { id: true, name: true } },
  messages: { orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: 1, select: { channel: true, direction: true, body: true, subject: true, status: true, createdAt: true } },
} satisfies Prisma.ConversationInclude;

type ListRow = Prisma.ConversationGetPayload<{ include: typeof listInclude }>;

export function conversationItem(c: ListRow) {
  const last = c.messages[0];
  return {
    id: c.id,
    debtorId: c.debtorId,
    debtorName: c.debtor?.fullName ?? null,
    unmatchedAddress: c.unmatchedAddress,
    status: c.status,
    flags: c.flags,
    snoozedUntil: c.snoozedUntil?.toISOString() ?? null,
    assignee: c.assignee ? { id: c.assignee.id, name: c.assignee.name } : null,
    lastActivityAt: c.lastActivityAt.toISOString(),
    lastSeq: c.lastSeq,
    lastInboundChannel: c.lastInboundChannel,
    lastMessage: last ? { channel: last.channel, direction: last.direction, status: last.status, snippet: (last.subject ? `${last.subject} — ` : '') + last.body.slice(0, 140), at: last.createdAt.toISOString() } : null,
  };
}

const listQuery = z.object({
  view: z.enum(['all', 'unassigned', 'mine']).default('all'),
  status: z.enum(STATUSES).optional(),
  flag: z.enum(FLAGS).optional(),
  channel: z.enum(CHANNELS).optional(),
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.iso.datetime().optional(),
});

/** Digits of a phone-ish search, so "(312) 555-0199" finds +13125550199. */
const digitsOf = (s: string) => s.replace(/\D/g, '');

export function listWhere(q: z.infer<typeof listQuery>, principal: Principal): Prisma.ConversationWhereInput {
  const and: Prisma.ConversationWhereInput[] = [];
  if (q.view === 'unassigned') and.push({ assigneeId: null });
  if (q.view === 'mine') and.push({ assigneeId: userId(principal) ?? '00000000-0000-0000-0000-000000000000' });
  if (q.status) and.push({ status: q.status });
  if (q.flag) and.push({ flags: { has: q.flag } });
  if (q.channel) and.push({ messages: { some: { channel: q.channel } } });
  if (q.before) and.push({ lastActivityAt: { lt: new Date(q.before) } });
  if (q.q) {
    // Typed text, not a pattern: % and _ match themselves.
    const text = likeLiteral(q.q);
    const digits = digitsOf(text);
    const or: Prisma.ConversationWhereInput[] = [
      { debtor: { fullName: { contains: text, mode: 'insensitive' } } },
      { debtor: { contactPoints: { some: { value: { contains: text.toLowerCase(), mode: 'insensitive' } } } } },
      { unmatchedAddress: { contains: text, mode: 'insensitive' } },
      { messages: { some: { OR: [{ body: { contains: text, mode: 'insensitive' } }, { subject: { contains: text, mode: 'insensitive' } }] } } },
    ];
    if (digits.length >= 4) or.push({ debtor: { contactPoints: { some: { kind: 'PHONE', value: { contains: digits } } } } }, { unmatchedAddress: { contains: digits } });
    and.push({ OR: or });
  }
  return { AND: and };
}

async function loadForUpdate(tx: Prisma.TransactionClient, id: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM conversations WHERE id = ${id}::uuid FOR UPDATE`;
  if (!rows[0]) throw notFound('conversation');
  return tx.conversation.findUniqueOrThrow({ where: { id }, include: { assignee: { select: { id: true, name: true } } } });
}

async function threadOf(ctx: AppContext, id: string) {
  const c = await ctx.db.conversation.findUnique({ where: { id }, include: listInclude });
  if (!c) throw notFound('conversation');
  const [messages, notes] = await Promise.all([
    ctx.db.message.findMany({ where: { conversationId: id }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: { attachments: true } }),
    ctx.db.note.findMany({ where: { conversationId: id }, orderBy: { createdAt: 'asc' }, include: { author: { select: { id: true, name: true } } } }),
  ]);
  return {
    conversation: conversationItem(c),
    // Where the debtor's email replies go; the web app's sandbox panel writes there.
    replyAddress: `reply+${c.replyToken}@${ctx.providers.email.inboundDomain}`,
    messages: messages.map((m) => ({
      ...messageView(m, m.attachments),
      intent: m.intent,
      debtId: m.debtId,
      scheduledAt: m.scheduledAt?.toISOString() ?? null,
      sentAt: m.sentAt?.toISOString() ?? null,
      deliveredAt: m.deliveredAt?.toISOString() ?? null,
      errorCode: m.errorCode,
      errorMessage: m.errorMessage,
      callOutcome: m.callOutcome,
      pdf: m.pdfPath ? `/api/v1/messages/${m.id}/pdf` : null,
      // Why the router chose this channel and time, in one readable paragraph.
      routing: m.direction === 'OUTBOUND' && m.decision ? safeExplain(m.decision as unknown as Decision) : null,
    })),
    notes: notes.map((n) => ({ id: n.id, body: n.body, author: n.author, createdAt: n.createdAt.toISOString() })),
  };
}

function safeExplain(d: Decision): string | null {
  try {
    return explain({ ...d, sendAt: new Date((d as { sendAt?: string | Date }).sendAt ?? Date.now()) } as Decision);
  } catch {
    return null;
  }
}

export const inboxRoutes = defineRoutes(
  {
    method: 'get', path: '/api/v1/inbox/conversations', tag: 'inbox', roles: ['ADMIN', 'AGENT'],
    summary: 'Conversations, most recent activity first, filtered by assignment, status, flag, channel and search text',
    query: listQuery,
    responses: { 200: 'Conversations' },
    handler: async (req, res, ctx) => {
      const q = req.valid.query;
      const rows = await ctx.db.conversation.findMany({ where: listWhere(q, req.principal!), include: listInclude, orderBy: [{ lastActivityAt: 'desc' }, { id: 'asc' }], take: q.limit });
      res.json({ conversations: rows.map(conversationItem) });
    },
  },
  {
    method: 'get', path: '/api/v1/inbox/conversations/:id', tag: 'inbox', roles: ['ADMIN', 'AGENT'],
    summary: 'One conversation with its messages (routing reason, delivery state, letter PDF, call outcome) and internal notes',
    responses: { 200: 'Thread', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      res.json(await threadOf(ctx, conversationId(req.params.id)));
    },
  },
  {
    method: 'post', path: '/api/v1/inbox/conversations/:id/claim', tag: 'inbox', roles: ['ADMIN', 'AGENT'],
    summary: 'Assign the conversation to yourself (409 when someone else holds it)',
    body: z.object({ force: z.boolean().default(false) }),
    responses: { 200: 'Claimed', 409: 'Assigned to someone else' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const me = userId(req.principal!);
      if (!me) throw new HttpError(400, 'invalid_request', 'only a signed-in user can claim a conversation; use assign with an API key');
      await inThread(ctx, async (tx, out) => {
        const c = await loadForUpdate(tx, id);
        if (c.assigneeId === me) return;
        if (c.assigneeId && !req.valid.body.force) throw conflict(`already assigned to ${c.assignee?.name ?? 'someone else'}`, { assignee: c.assignee });
        await tx.conversation.update({ where: { id }, data: { assigneeId: me } });
        out.events.push(await appendEvent(tx, id, 'conversation.assigned', { assigneeId: me, assigneeName: actorName(req.principal!), previous: c.assignee, by: actorName(req.principal!), claim: true }, { touch: false }));
        await audit(tx, req.principal!, { action: 'conversation.claim', entityType: 'conversation', entityId: id, data: { previousAssigneeId: c.assigneeId } }, req);
      });
      res.json(await threadOf(ctx, id).then((t) => t.conversation));
    },
  },
  {
    method: 'post', path: '/api/v1/inbox/conversations/:id/assign', tag: 'inbox', roles: ['ADMIN', 'AGENT'],
    summary: 'Assign or transfer the conversation to a user, or unassign it (assigneeId null)',
    body: z.object({ assigneeId: uuid.nullable() }),
    responses: { 200: 'Assigned', 400: 'Unknown or inactive user', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const target = req.valid.body.assigneeId;
      const user = target ? await ctx.db.user.findUnique({ where: { id: target }, select: { id: true, name: true, active: true } }) : null;
      if (target && (!user || !user.active)) throw new HttpError(400, 'invalid_request', 'assignee is not an active user', [{ field: 'assigneeId', reason: 'not an active user' }]);
      await inThread(ctx, async (tx, out) => {
        const c = await loadForUpdate(tx, id);
        if (c.assigneeId === target) return;
        await tx.conversation.update({ where: { id }, data: { assigneeId: target } });
        out.events.push(await appendEvent(tx, id, 'conversation.assigned', { assigneeId: target, assigneeName: user?.name ?? null, previous: c.assignee, by: actorName(req.principal!) }, { touch: false }));
        await audit(tx, req.principal!, { action: c.assigneeId && target ? 'conversation.transfer' : target ? 'conversation.assign' : 'conversation.unassign', entityType: 'conversation', entityId: id, data: { from: c.assigneeId, to: target } }, req);
      });
      res.json(await threadOf(ctx, id).then((t) => t.conversation));
    },
  },
  {
    method: 'post', path: '/api/v1/inbox/conversations/:id/status', tag: 'inbox', roles: ['ADMIN', 'AGENT'],
    summary: 'Set the status; SNOOZED needs snoozedUntil (a new reply reopens it, and so does the time passing)',
    body: z.object({ status: z.enum(STATUSES), snoozedUntil: z.iso.datetime({ offset: true }).optional() }),
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const { status } = req.valid.body;
      const until = req.valid.body.snoozedUntil ? new Date(req.valid.body.snoozedUntil) : null;
      if (status === 'SNOOZED' && (!until || until <= new Date())) throw new HttpError(400, 'invalid_request', 'snoozedUntil must be a future time when snoozing', [{ field: 'snoozedUntil', reason: 'required in the future for SNOOZED' }]);
      await inThread(ctx, async (tx, out) => {
        const c = await loadForUpdate(tx, id);
        const snoozedUntil = status === 'SNOOZED' ? until : null;
        if (c.status === status && (c.snoozedUntil?.getTime() ?? null) === (snoozedUntil?.getTime() ?? null)) return;
        await tx.conversation.update({ where: { id }, data: { status, snoozedUntil } });
        out.events.push(await appendEvent(tx, id, 'conversation.status', { status, previous: c.status, snoozedUntil: snoozedUntil?.toISOString() ?? null, by: actorName(req.principal!) }, { touch: false }));
        await audit(tx, req.principal!, { action: 'conversation.status', entityType: 'conversation', entityId: id, data: { from: c.status, to: status, snoozedUntil: snoozedUntil?.toISOString() } }, req);
      });
      res.json(await threadOf(ctx, id).then((t) => t.conversation));
    },
  },
  {
    method: 'post', path: '/api/v1/inbox/conversations/:id/notes', tag: 'inbox', roles: ['ADMIN', 'AGENT'],
    summary: 'Add an internal note (never sent to the debtor)',
    body: z.object({ body: z.string().trim().min(1).max(5000) }),
    responses: { 201: 'Created', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const author = userId(req.principal!);
      if (!author) throw new HttpError(400, 'invalid_request', 'notes are written by signed-in users');
      const note = await inThread(ctx, async (tx, out) => {
        await loadForUpdate(tx, id);
        const n = await tx.note.create({ data: { conversationId: id, authorId: author, body: req.valid.body.body } });
        out.events.push(await appendEvent(tx, id, 'note.created', { noteId: n.id, authorId: author, authorName: actorName(req.principal!), body: n.body }, { touch: false }));
        await audit(tx, req.principal!, { action: 'note.create', entityType: 'conversation', entityId: id, data: { noteId: n.id } }, req);
        return n;
      });
      res.status(201).json({ id: note.id, body: note.body, author: { id: author, name: actorName(req.principal!) }, createdAt: note.createdAt.toISOString() });
    },
  }
);

/** Snoozed conversations whose time has come open again. Each row is reopened by exactly one process. */
export async function reopenDueSnoozes(ctx: AppContext): Promise<number> {
  const due = await ctx.db.$queryRaw<{ id: string }[]>`
    UPDATE conversations SET status = 'OPEN', snoozed_until = NULL
     WHERE status = 'SNOOZED' AND snoozed_until <= now()
 RETURNING id`;
  for (const { id } of due) {
    await inThread(ctx, async (tx, out) => {
      out.events.push(await appendEvent(tx, id, 'conversation.status', { status: 'OPEN', previous: 'SNOOZED', reason: 'snooze ended' }));
    });
  }
  return due.length;
}

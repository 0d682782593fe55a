// The shared inbox API: the conversation list, a thread with everything an
// agent needs to read it, and the team actions (claim, assign, status, notes,
// reply: compose.ts). Every action is appended to the conversation's timeline in the
// transaction that made it (so live clients and reconnecting clients see it)
// and written to the audit log with who did it.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import { defineRoutes } from '../http/api.js';
import { HttpError, conflict, forbidden, notFound } from '../http/errors.js';
import type { Prisma } from '../generated/prisma/client.js';
import { inThread, messageView, removeFlags, addFlags } from '../messaging/thread-writer.js';
import { explain, type Decision } from '../router/index.js';
import { activityOf } from './activity.js';
import { localiseCitations } from './citations.js';
import { emailFrameDocument, splitQuoted, textOfHtml } from './content-view.js';
import { FLAGS, STATUSES, listQueue, markRead, userIdOf } from './queue.js';

const RESTRICTIONS = [
  'CEASE_COMMUNICATION',
  'DISPUTE_UNDER_REVIEW',
  'BANKRUPTCY',
  'ATTORNEY_REPRESENTED',
  'DECEASED',
  'MORATORIUM',
] as const;
/** What the law makes sticky (Reg F §1006.6(c)): only an admin lifts it, never the agent alone. */
const ADMIN_ONLY_REMOVAL = new Set<string>(['CEASE', 'CEASE_COMMUNICATION']);
/** Inline in the page (images, PDFs); every other type is a download. SVG is not here: it can carry script. */
const PREVIEWABLE = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'audio/mpeg',
  'audio/wav',
  'audio/ogg',
]);
const uuid = z.string().uuid('must be a UUID');

function idParam(raw: unknown, what: string): string {
  const r = uuid.safeParse(raw);
  if (!r.success) throw notFound(what);
  return r.data;
}
const conversationId = (raw: unknown) => idParam(raw, 'conversation');

const actorName = (p: Principal) => p.name;
const userId = userIdOf;
const reasonField = z
  .string()
  .trim()
  .min(3, 'say why (at least 3 characters)')
  .max(500)
  .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s), 'must not contain control characters');

async function loadForUpdate(tx: Prisma.TransactionClient, id: string) {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM conversations WHERE id = ${id}::uuid FOR UPDATE`;
  if (!rows[0]) throw notFound('conversation');
  return tx.conversation.findUniqueOrThrow({
    where: { id },
    include: { assignee: { select: { id: true, name: true } } },
  });
}

/** The conversation as its list row shows it (one shape for the queue and the thread's header). */
export async function conversationRow(ctx: AppContext, id: string, principal: Principal) {
  const [row] = (await listQueue(ctx, { view: 'all', ids: [id], limit: 1, tz: 'UTC' }, principal)).conversations;
  if (!row) throw notFound('conversation');
  return row;
}

const attachmentUrl = (id: string) => `/api/v1/inbox/attachments/${id}`;

async function threadOf(ctx: AppContext, id: string, principal: Principal) {
  const conversation = await conversationRow(ctx, id, principal);
  const c = await ctx.db.conversation.findUniqueOrThrow({
    where: { id },
    select: { replyToken: true, debtor: { select: { jurisdiction: true } } },
  });
  const jurisdiction = c.debtor?.jurisdiction ?? null;
  const [messages, notes, activity, tasks] = await Promise.all([
    ctx.db.message.findMany({
      where: { conversationId: id },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      include: { attachments: true },
    }),
    ctx.db.note.findMany({
      where: { conversationId: id },
      orderBy: { createdAt: 'asc' },
      include: { author: { select: { id: true, name: true } } },
    }),
    activityOf(ctx, { id, debtorId: conversation.debtorId }),
    ctx.db.inboxTask.findMany({ where: { conversationId: id }, orderBy: { dueAt: 'asc' } }),
  ]);
  return {
    conversation,
    // Where the debtor's email replies go; the web app's sandbox panel writes there.
    replyAddress: `reply+${c.replyToken}@${ctx.providers.email.inboundDomain}`,
    messages: messages.map((m) => {
      // An HTML-only email reads from its HTML; quoted history is folded either way.
      const text = m.body.trim() === '' && m.html ? textOfHtml(m.html) : m.body;
      const { body, quoted } = m.direction === 'INBOUND' ? splitQuoted(text) : { body: text, quoted: null };
      return {
        ...messageView(m, m.attachments),
        body,
        quoted,
        attachments: m.attachments.map((a) => ({
          id: a.id,
          filename: a.filename,
          contentType: a.contentType,
          size: a.size,
          url: attachmentUrl(a.id),
          inline: PREVIEWABLE.has(a.contentType),
        })),
        html: m.direction === 'INBOUND' && m.html ? `/api/v1/inbox/messages/${m.id}/html` : null,
        htmlOnly: m.body.trim() === '' && Boolean(m.html),
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
        routing:
          m.direction === 'OUTBOUND' && m.decision
            ? localiseCitations(safeExplain(m.decision as unknown as Decision), jurisdiction)
            : null,
      };
    }),
    notes: notes.map((n) => ({ id: n.id, body: n.body, author: n.author, createdAt: n.createdAt.toISOString() })),
    activity,
    tasks: tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      source: t.source,
      dueAt: t.dueAt.toISOString(),
      doneAt: t.doneAt?.toISOString() ?? null,
      detail: t.detail,
    })),
  };
}

function safeExplain(d: Decision): string | null {
  try {
    return explain({ ...d, sendAt: new Date((d as { sendAt?: string | Date }).sendAt ?? Date.now()) } as Decision);
  } catch {
    return null;
  }
}

/** Open callback tasks of a conversation are done (by resolving it, or one by one). */
async function finishTasks(
  tx: Prisma.TransactionClient,
  id: string,
  by: string | null,
  taskId?: string,
): Promise<string[]> {
  const open = await tx.inboxTask.findMany({
    where: { conversationId: id, doneAt: null, ...(taskId ? { id: taskId } : {}) },
    select: { id: true },
  });
  if (open.length)
    await tx.inboxTask.updateMany({
      where: { id: { in: open.map((t) => t.id) } },
      data: { doneAt: new Date(), doneById: by },
    });
  return open.map((t) => t.id);
}

export const inboxRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/inbox/conversations/:id',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      'One conversation with its messages (routing reason, delivery state, letter PDF, call outcome) and internal notes',
    responses: { 200: 'Thread', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      res.setHeader('Cache-Control', 'no-store');
      const thread = await threadOf(ctx, id, req.principal!);
      // Opening it is reading it: unread no more in this agent's views.
      await markRead(ctx, req.principal!, id);
      res.json({ ...thread, conversation: { ...thread.conversation, unread: false } });
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/conversations/:id/claim',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: 'Assign the conversation to yourself (409 when someone else holds it)',
    body: z.object({ force: z.boolean().default(false) }),
    responses: { 200: 'Claimed', 409: 'Assigned to someone else' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const me = userId(req.principal!);
      if (!me)
        throw new HttpError(
          400,
          'invalid_request',
          'only a signed-in user can claim a conversation; use assign with an API key',
        );
      await inThread(ctx, async (tx, out) => {
        const c = await loadForUpdate(tx, id);
        if (c.assigneeId === me) return;
        if (c.assigneeId && !req.valid.body.force)
          throw conflict(`already assigned to ${c.assignee?.name ?? 'someone else'}`, { assignee: c.assignee });
        await tx.conversation.update({ where: { id }, data: { assigneeId: me } });
        out.events.push(
          await appendEvent(
            tx,
            id,
            'conversation.assigned',
            {
              assigneeId: me,
              assigneeName: actorName(req.principal!),
              previous: c.assignee,
              by: actorName(req.principal!),
              claim: true,
            },
            { touch: false },
          ),
        );
        await audit(
          tx,
          req.principal!,
          {
            action: 'conversation.claim',
            entityType: 'conversation',
            entityId: id,
            data: { previousAssigneeId: c.assigneeId },
          },
          req,
        );
      });
      res.json(await conversationRow(ctx, id, req.principal!));
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/conversations/:id/assign',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: 'Assign or transfer the conversation to a user, or unassign it (assigneeId null)',
    body: z.object({ assigneeId: uuid.nullable() }),
    responses: { 200: 'Assigned', 400: 'Unknown or inactive user', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const target = req.valid.body.assigneeId;
      const user = target
        ? await ctx.db.user.findUnique({ where: { id: target }, select: { id: true, name: true, active: true } })
        : null;
      if (target && (!user || !user.active))
        throw new HttpError(400, 'invalid_request', 'assignee is not an active user', [
          { field: 'assigneeId', reason: 'not an active user' },
        ]);
      await inThread(ctx, async (tx, out) => {
        const c = await loadForUpdate(tx, id);
        if (c.assigneeId === target) return;
        await tx.conversation.update({ where: { id }, data: { assigneeId: target } });
        out.events.push(
          await appendEvent(
            tx,
            id,
            'conversation.assigned',
            {
              assigneeId: target,
              assigneeName: user?.name ?? null,
              previous: c.assignee,
              by: actorName(req.principal!),
            },
            { touch: false },
          ),
        );
        await audit(
          tx,
          req.principal!,
          {
            action:
              c.assigneeId && target
                ? 'conversation.transfer'
                : target
                  ? 'conversation.assign'
                  : 'conversation.unassign',
            entityType: 'conversation',
            entityId: id,
            data: { from: c.assigneeId, to: target },
          },
          req,
        );
      });
      res.json(await conversationRow(ctx, id, req.principal!));
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/conversations/:id/status',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: 'Set the status; SNOOZED needs snoozedUntil (a new reply reopens it, and so does the time passing)',
    body: z.object({ status: z.enum(STATUSES), snoozedUntil: z.iso.datetime({ offset: true }).optional() }),
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const { status } = req.valid.body;
      const until = req.valid.body.snoozedUntil ? new Date(req.valid.body.snoozedUntil) : null;
      if (status === 'SNOOZED' && (!until || until <= new Date()))
        throw new HttpError(400, 'invalid_request', 'snoozedUntil must be a future time when snoozing', [
          { field: 'snoozedUntil', reason: 'required in the future for SNOOZED' },
        ]);
      await inThread(ctx, async (tx, out) => {
        const c = await loadForUpdate(tx, id);
        const snoozedUntil = status === 'SNOOZED' ? until : null;
        if (c.status === status && (c.snoozedUntil?.getTime() ?? null) === (snoozedUntil?.getTime() ?? null)) return;
        // Resolved: nothing is owed any more (a new message from the debtor owes a reply again), and its callbacks are done.
        await tx.conversation.update({
          where: { id },
          data: { status, snoozedUntil, ...(status === 'RESOLVED' ? { waitingSince: null } : {}) },
        });
        const tasksDone = status === 'RESOLVED' ? await finishTasks(tx, id, userId(req.principal!)) : [];
        out.events.push(
          await appendEvent(
            tx,
            id,
            'conversation.status',
            {
              status,
              previous: c.status,
              snoozedUntil: snoozedUntil?.toISOString() ?? null,
              by: actorName(req.principal!),
            },
            { touch: false },
          ),
        );
        await audit(
          tx,
          req.principal!,
          {
            action: 'conversation.status',
            entityType: 'conversation',
            entityId: id,
            data: {
              from: c.status,
              to: status,
              snoozedUntil: snoozedUntil?.toISOString(),
              ...(tasksDone.length ? { tasksDone } : {}),
            },
          },
          req,
        );
      });
      res.json(await conversationRow(ctx, id, req.principal!));
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/conversations/:id/notes',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
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
        out.events.push(
          await appendEvent(
            tx,
            id,
            'note.created',
            { noteId: n.id, authorId: author, authorName: actorName(req.principal!), body: n.body },
            { touch: false },
          ),
        );
        await audit(
          tx,
          req.principal!,
          { action: 'note.create', entityType: 'conversation', entityId: id, data: { noteId: n.id } },
          req,
        );
        return n;
      });
      res.status(201).json({
        id: note.id,
        body: note.body,
        author: { id: author, name: actorName(req.principal!) },
        createdAt: note.createdAt.toISOString(),
      });
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/conversations/:id/flags',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: 'Clear or add a conversation flag with a reason (audited; clearing CEASE needs an admin)',
    body: z.object({ flag: z.enum(FLAGS), change: z.enum(['remove', 'add']), reason: reasonField }),
    responses: { 200: 'Changed', 400: 'Invalid input', 403: 'Only an admin lifts a cease', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = conversationId(req.params.id);
      const { flag, change, reason } = req.valid.body;
      if (change === 'remove' && ADMIN_ONLY_REMOVAL.has(flag) && req.principal!.role !== 'ADMIN')
        throw forbidden('a cease request is lifted by an admin, not by an agent alone');
      await inThread(ctx, async (tx, out) => {
        await loadForUpdate(tx, id);
        const detail = { by: actorName(req.principal!), reason, manual: true };
        if (change === 'remove') await removeFlags(tx, id, [flag], detail, out);
        else await addFlags(tx, id, [flag], detail, out);
        await audit(
          tx,
          req.principal!,
          {
            action: change === 'remove' ? 'conversation.flag_remove' : 'conversation.flag_add',
            entityType: 'conversation',
            entityId: id,
            data: { flag, reason },
          },
          req,
        );
      });
      res.json(await conversationRow(ctx, id, req.principal!));
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/debtors/:id/restrictions',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      "Lift or set a contact restriction on the debtor (or one of their debts) with a reason (audited; lifting a cease needs an admin); told live on the debtor's conversation",
    body: z.object({
      restriction: z.enum(RESTRICTIONS),
      change: z.enum(['remove', 'add']),
      reason: reasonField,
      debtId: uuid.optional(),
    }),
    responses: { 200: 'Changed', 400: 'Invalid input', 403: 'Only an admin lifts a cease', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const debtorId = idParam(req.params.id, 'debtor');
      const { restriction, change, reason, debtId } = req.valid.body;
      if (change === 'remove' && ADMIN_ONLY_REMOVAL.has(restriction) && req.principal!.role !== 'ADMIN')
        throw forbidden('a cease request is lifted by an admin, not by an agent alone');
      const result = await inThread(ctx, async (tx, out) => {
        const rows = debtId
          ? await tx.$queryRaw<
              { restrictions: string[] }[]
            >`SELECT restrictions::text[] AS restrictions FROM debts WHERE id = ${debtId}::uuid AND debtor_id = ${debtorId}::uuid FOR UPDATE`
          : await tx.$queryRaw<
              { restrictions: string[] }[]
            >`SELECT restrictions::text[] AS restrictions FROM debtors WHERE id = ${debtorId}::uuid FOR UPDATE`;
        if (!rows[0]) throw notFound(debtId ? 'debt' : 'debtor');
        const current = rows[0].restrictions;
        const next =
          change === 'remove' ? current.filter((r) => r !== restriction) : [...new Set([...current, restriction])];
        if (next.length === current.length) return { changed: false, restrictions: current };
        const data = { restrictions: next as (typeof RESTRICTIONS)[number][] };
        if (debtId) await tx.debt.update({ where: { id: debtId }, data });
        else await tx.debtor.update({ where: { id: debtorId }, data });
        await audit(
          tx,
          req.principal!,
          {
            action: change === 'remove' ? 'debtor.unrestrict' : 'debtor.restrict',
            entityType: debtId ? 'debt' : 'debtor',
            entityId: debtId ?? debtorId,
            data: { restriction, reason, ...(debtId ? { debtorId } : {}) },
          },
          req,
        );
        const conv = await tx.conversation.findUnique({ where: { debtorId }, select: { id: true } });
        if (conv)
          out.events.push(
            await appendEvent(
              tx,
              conv.id,
              change === 'remove' ? 'debtor.unrestricted' : 'debtor.restricted',
              { debtorId, debtId: debtId ?? null, restriction, reason, by: actorName(req.principal!) },
              { touch: false },
            ),
          );
        return { changed: true, restrictions: next };
      });
      res.json(result);
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/tasks/:id/done',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: 'Mark a callback task done',
    responses: { 200: 'Done', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const taskId = idParam(req.params.id, 'task');
      const task = await ctx.db.inboxTask.findUnique({ where: { id: taskId } });
      if (!task) throw notFound('task');
      await inThread(ctx, async (tx, out) => {
        await loadForUpdate(tx, task.conversationId);
        const done = await finishTasks(tx, task.conversationId, userId(req.principal!), taskId);
        if (!done.length) return;
        // No callback left owed: the flag goes with the last one.
        if (
          (await tx.inboxTask.count({
            where: { conversationId: task.conversationId, kind: 'callback', doneAt: null },
          })) === 0
        ) {
          await removeFlags(
            tx,
            task.conversationId,
            ['CALLBACK_REQUEST'],
            { by: actorName(req.principal!), taskId },
            out,
          );
        }
        out.events.push(
          await appendEvent(
            tx,
            task.conversationId,
            'task.done',
            { taskId, by: actorName(req.principal!) },
            { touch: false },
          ),
        );
        await audit(
          tx,
          req.principal!,
          { action: 'task.done', entityType: 'conversation', entityId: task.conversationId, data: { taskId } },
          req,
        );
      });
      res.json({ id: taskId, done: true });
    },
  },
  {
    method: 'get',
    path: '/api/v1/inbox/attachments/:id',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      'An attachment of a message (images, PDFs and audio inline; anything else as a download; ?download=1 always downloads)',
    responses: { 200: 'The file', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const a = await ctx.db.attachment.findUnique({ where: { id: idParam(req.params.id, 'attachment') } });
      if (!a) throw notFound('attachment');
      // Only files the gateway stored, under DATA_DIR/attachments.
      const root = path.resolve(ctx.config.DATA_DIR, 'attachments');
      const file = path.resolve(root, a.path);
      if (!file.startsWith(root + path.sep) || !fs.existsSync(file)) throw notFound('attachment file');
      const inline = PREVIEWABLE.has(a.contentType) && req.query.download === undefined;
      res.setHeader('Content-Type', inline ? a.contentType : 'application/octet-stream');
      res.setHeader(
        'Content-Disposition',
        `${inline ? 'inline' : 'attachment'}; filename="${a.filename.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(a.filename)}`,
      );
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'private, max-age=300');
      if (!inline) res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
      res.setHeader('Content-Length', String(a.size));
      await audit(
        ctx.db,
        req.principal!,
        {
          action: 'attachment.view',
          entityType: 'message',
          entityId: a.messageId,
          data: { attachmentId: a.id, download: !inline },
        },
        req,
      );
      fs.createReadStream(file).pipe(res);
    },
  },
  {
    method: 'get',
    path: '/api/v1/inbox/messages/:id/html',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: "An email's HTML, sanitised, for a sandboxed frame: no scripts, no remote content, quoted history folded",
    responses: { 200: 'The sanitised HTML document', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const m = await ctx.db.message.findUnique({
        where: { id: idParam(req.params.id, 'message') },
        select: { html: true },
      });
      if (!m?.html) throw notFound('message HTML');
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      // Loads nothing at all (inline style only), runs nothing, and only our own pages may frame it.
      res.setHeader(
        'Content-Security-Policy',
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox",
      );
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Cache-Control', 'private, no-store');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.send(emailFrameDocument(m.html));
    },
  },
);

/** Snoozed conversations whose time has come open again. Each row is reopened by exactly one process. */
export async function reopenDueSnoozes(ctx: AppContext): Promise<number> {
  const due = await ctx.db.$queryRaw<{ id: string }[]>`
    UPDATE conversations SET status = 'OPEN', snoozed_until = NULL
     WHERE status = 'SNOOZED' AND snoozed_until <= now()
 RETURNING id`;
  for (const { id } of due) {
    await inThread(ctx, async (tx, out) => {
      out.events.push(
        await appendEvent(tx, id, 'conversation.status', {
          status: 'OPEN',
          previous: 'SNOOZED',
          reason: 'snooze ended',
        }),
      );
    });
  }
  return due.length;
}

// REST endpoints of the inbound side:
//   GET  /api/v1/conversations/:id                  conversation + messages in time order
//   GET  /api/v1/conversations/:id/events?after=N   timeline since seq N (reconnecting clients)
//   POST /api/v1/conversations/:id/link {debtorId}  move an unmatched thread into a debtor's thread
//   GET  /api/v1/admin/inbound-events?status=FAILED stored webhooks by status
//   POST /api/v1/admin/inbound-events/:id/replay    process a stored webhook again
//   GET|POST /unsubscribe/:token                    one-click email unsubscribe (RFC 8058)
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { esc, pageHtml, sendPage } from '../portal/html.js';
import { translator } from '../portal/i18n.js';
import { audit } from '../audit.js';
import { authenticate, requireRole } from '../auth/principal.js';
import { appendEvent, ensureConversation, eventsSince } from '../conversations/thread.js';
import { conversationRoom } from '../conversations/live.js';
import type { Prisma } from '../generated/prisma/client.js';
import { conflict, fromZod, notFound } from '../http/errors.js';
import { changeConsent, sameAddressContactPoints, verifyUnsubscribeToken } from '../messaging/consent.js';
import { processInboundEvent } from './events-store.js';
import { addFlags, inThread, messageView } from '../messaging/thread-writer.js';

const uuid = z.string().uuid('must be a UUID');

function parseId(value: unknown, field = 'id'): string {
  const r = uuid.safeParse(value);
  if (!r.success) throw fromZod(r.error, field);
  return r.data;
}

export function conversationRoutes(app: Express, ctx: AppContext): void {
  const auth = authenticate(ctx);
  const agentOrAdmin = requireRole('ADMIN', 'AGENT');

  app.get('/api/v1/conversations/:id', auth, agentOrAdmin, async (req: Request, res: Response) => {
    const id = parseId(req.params.id);
    const c = await ctx.db.conversation.findUnique({
      where: { id },
      include: {
        messages: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: { attachments: true } },
        debtor: { select: { id: true, fullName: true, restrictions: true } },
      },
    });
    if (!c) throw notFound('conversation');
    res.json({
      id: c.id,
      debtorId: c.debtorId,
      debtor: c.debtor,
      status: c.status,
      flags: c.flags,
      assigneeId: c.assigneeId,
      unmatchedAddress: c.unmatchedAddress,
      lastSeq: c.lastSeq,
      lastActivityAt: c.lastActivityAt.toISOString(),
      lastInboundChannel: c.lastInboundChannel,
      messages: c.messages.map((m) => messageView(m, m.attachments)),
    });
  });

  app.get('/api/v1/conversations/:id/events', auth, agentOrAdmin, async (req: Request, res: Response) => {
    const id = parseId(req.params.id);
    const q = z
      .object({
        after: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(1000).default(500),
      })
      .safeParse(req.query);
    if (!q.success) throw fromZod(q.error);
    const c = await ctx.db.conversation.findUnique({ where: { id }, select: { lastSeq: true } });
    if (!c) throw notFound('conversation');
    const events = await eventsSince(ctx.db, id, q.data.after, q.data.limit);
    res.json({ conversationId: id, lastSeq: c.lastSeq, events });
  });

  app.post('/api/v1/conversations/:id/link', auth, agentOrAdmin, async (req: Request, res: Response) => {
    const id = parseId(req.params.id);
    const body = z.object({ debtorId: uuid, addContactPoint: z.boolean().default(false) }).safeParse(req.body ?? {});
    if (!body.success) throw fromZod(body.error);
    const { debtorId, addContactPoint } = body.data;
    const result = await inThread(ctx, async (tx, out) => {
      // Lock the unmatched thread: a message arriving meanwhile waits, then fails on the deleted row and is retried into the right thread.
      const locked = await tx.$queryRaw<{ id: string; debtor_id: string | null; unmatched_address: string | null }[]>`
        SELECT id, debtor_id, unmatched_address FROM conversations WHERE id = ${id}::uuid FOR UPDATE`;
      const source = locked[0];
      if (!source) throw notFound('conversation');
      if (source.debtor_id) throw conflict('conversation already belongs to a debtor', { debtorId: source.debtor_id });
      const debtor = await tx.debtor.findUnique({ where: { id: debtorId }, select: { id: true } });
      if (!debtor) throw notFound('debtor');
      const target = await ensureConversation(tx, debtorId);
      const from = await tx.conversation.findUniqueOrThrow({ where: { id } });

      let contactPointId: string | null = null;
      if (addContactPoint && from.unmatchedAddress) {
        const kind = from.unmatchedAddress.includes('@') ? 'EMAIL' : 'PHONE';
        const cp = await tx.contactPoint.upsert({
          where: { debtorId_kind_value: { debtorId, kind, value: from.unmatchedAddress } },
          create: { debtorId, kind, value: from.unmatchedAddress, label: 'linked from reply' },
          update: {},
        });
        contactPointId = cp.id;
      }
      const moved = await tx.message.updateMany({
        where: { conversationId: id },
        data: {
          conversationId: target.id,
          debtorId,
          ...(contactPointId ? { contactPointId, fromUnknownAddress: false } : { fromUnknownAddress: true }),
        },
      });
      await tx.note.updateMany({ where: { conversationId: id }, data: { conversationId: target.id } });
      // Re-append the unmatched thread's timeline in order; seq continues in the debtor's thread.
      const events = await tx.conversationEvent.findMany({ where: { conversationId: id }, orderBy: { seq: 'asc' } });
      for (const ev of events) {
        out.events.push(
          await appendEvent(tx, target.id, ev.type, {
            ...(ev.payload as Record<string, unknown>),
            movedFrom: { conversationId: id, seq: ev.seq },
          }),
        );
      }
      await addFlags(
        tx,
        target.id,
        from.flags.filter((f) => f !== 'UNMATCHED'),
        { reason: 'carried over from linked thread', linkedFrom: id },
        out,
      );
      await tx.conversation.delete({ where: { id } });
      out.events.push(
        await appendEvent(tx, target.id, 'conversation.linked', {
          from: id,
          address: from.unmatchedAddress,
          messagesMoved: moved.count,
          by: req.principal?.name,
          ...(contactPointId ? { contactPointId } : {}),
        }),
      );
      await audit(
        tx,
        req.principal!,
        {
          action: 'conversation.link',
          entityType: 'conversation',
          entityId: target.id,
          data: { from: id, debtorId, address: from.unmatchedAddress, messagesMoved: moved.count, addContactPoint },
        },
        req,
      );
      return { conversationId: target.id, messagesMoved: moved.count };
    });
    // Clients watching the unmatched thread learn where it went.
    ctx.io.to(conversationRoom(id)).emit('conversation.merged', { conversationId: id, into: result.conversationId });
    res.json(result);
  });
}

export function adminInboundRoutes(app: Express, ctx: AppContext): void {
  const auth = authenticate(ctx);
  const admin = requireRole('ADMIN');
  const statuses = ['RECEIVED', 'PROCESSED', 'FAILED', 'IGNORED', 'DEAD_LETTER'] as const;

  app.get('/api/v1/admin/inbound-events', auth, admin, async (req: Request, res: Response) => {
    const q = z
      .object({
        status: z.enum(statuses).optional(),
        provider: z.string().max(20).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(100),
      })
      .safeParse(req.query);
    if (!q.success) throw fromZod(q.error);
    const where: Prisma.InboundEventWhereInput = {
      ...(q.data.status ? { status: q.data.status } : {}),
      ...(q.data.provider ? { provider: q.data.provider } : {}),
    };
    const rows = await ctx.db.inboundEvent.findMany({
      where,
      orderBy: { receivedAt: 'desc' },
      take: q.data.limit,
      select: {
        id: true,
        provider: true,
        kind: true,
        dedupeKey: true,
        status: true,
        attempts: true,
        lastError: true,
        nextAttemptAt: true,
        receivedAt: true,
        processedAt: true,
      },
    });
    res.json({ events: rows });
  });

  app.post('/api/v1/admin/inbound-events/:id/replay', auth, admin, async (req: Request, res: Response) => {
    const id = parseId(req.params.id);
    const before = await ctx.db.inboundEvent.findUnique({ where: { id }, select: { status: true, attempts: true } });
    if (!before) throw notFound('inbound event');
    await audit(
      ctx.db,
      req.principal!,
      {
        action: 'inbound_event.replay',
        entityType: 'inbound_event',
        entityId: id,
        data: { previousStatus: before.status, attempts: before.attempts },
      },
      req,
    );
    const after = await processInboundEvent(ctx, id, { claim: 'force' });
    if (!after) throw conflict('the event is being processed right now; try again shortly');
    res.json({ id, status: after.status, attempts: after.attempts, lastError: after.lastError });
  });
}

// ── one-click unsubscribe ────────────────────────────────────────────────

/** The unsubscribe pages speak the debtor's language (the same locale files as the templates and the debtor page). */
async function unsubscribeTranslator(ctx: AppContext, contactPointId: string | null) {
  const cp = contactPointId
    ? await ctx.db.contactPoint.findUnique({
        where: { id: contactPointId },
        select: { debtor: { select: { locale: true } } },
      })
    : null;
  return translator(cp?.debtor.locale ?? 'en');
}

export function unsubscribeRoutes(app: Express, ctx: AppContext): void {
  app.get('/unsubscribe/:token', async (req: Request, res: Response) => {
    const cpId = verifyUnsubscribeToken(ctx, String(req.params.token));
    const cp = cpId
      ? await ctx.db.contactPoint.findUnique({ where: { id: cpId }, select: { id: true, kind: true } })
      : null;
    const tr = await unsubscribeTranslator(ctx, cp?.id ?? null);
    if (!cp || cp.kind !== 'EMAIL') {
      sendPage(
        res,
        404,
        pageHtml({
          tr,
          title: tr.t('unsubscribe_invalid_title'),
          body: `<h1>${esc(tr.t('unsubscribe_invalid_title'))}</h1><section><p>${esc(tr.t('unsubscribe_invalid_body'))}</p></section>`,
        }),
      );
      return;
    }
    // A GET never changes anything (mail scanners follow links); the button POSTs.
    sendPage(
      res,
      200,
      pageHtml({
        tr,
        title: tr.t('unsubscribe_title'),
        body: `<h1>${esc(tr.t('unsubscribe_question'))}</h1><section><p>${esc(tr.t('unsubscribe_explain'))}</p>
<form method="post" action="/unsubscribe/${esc(String(req.params.token))}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">${esc(tr.t('unsubscribe_button'))}</button></form></section>`,
      }),
    );
  });

  app.post('/unsubscribe/:token', async (req: Request, res: Response) => {
    const cpId = verifyUnsubscribeToken(ctx, String(req.params.token));
    const cp = cpId
      ? await ctx.db.contactPoint.findUnique({ where: { id: cpId }, select: { id: true, kind: true, debtorId: true } })
      : null;
    res.setHeader('Cache-Control', 'no-store');
    if (!cp || cp.kind !== 'EMAIL') {
      res.status(404).type('text').send('unknown unsubscribe link');
      return;
    }
    const oneClick = (req.body as Record<string, unknown> | undefined)?.['List-Unsubscribe'] === 'One-Click';
    await inThread(ctx, async (tx, out) => {
      const conversation = await ensureConversation(tx, cp.debtorId);
      const changed = await changeConsent(
        tx,
        {
          ctx,
          contactPointIds: await sameAddressContactPoints(tx, cp.id),
          channel: 'EMAIL',
          state: 'REVOKED',
          source: 'email:list-unsubscribe',
          conversationId: conversation.id,
          cause: { oneClick },
        },
        out,
      );
      if (changed.length)
        await addFlags(
          tx,
          conversation.id,
          ['OPT_OUT'],
          { reason: 'unsubscribed by link', channel: 'EMAIL', contactPointId: cp.id },
          out,
        );
    });
    const tr = await unsubscribeTranslator(ctx, cp.id);
    if (req.accepts(['text', 'html']) === 'html')
      sendPage(
        res,
        200,
        pageHtml({
          tr,
          title: tr.t('unsubscribe_done_title'),
          body: `<h1>${esc(tr.t('unsubscribe_done_title'))}</h1><section><p>${esc(tr.t('unsubscribe_done_body'))}</p></section>`,
        }),
      );
    else res.type('text').send('unsubscribed');
  });
}

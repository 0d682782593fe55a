// The hot paths read in one round trip what used to take several: the raw
// event INSERT on intake's own pool, the status callback's lock-and-read of
// the message, the timeline append that also reports the conversation's
// state, and the router snapshot as one SQL query. Each must hand back
// exactly what the Prisma reads it replaced would have.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, seedDebtor } from '../support/api.js';
import { intakePool } from '../../src/db/client.js';
import { storeInbound } from '../../src/inbound/events-store.js';
import { lockMessage } from '../../src/messaging/status.js';
import {
  appendEvent,
  conversationFor,
  conversationStateAfter,
  createConversationIfMissing,
  eventsSince,
} from '../../src/conversations/thread.js';
import { loadSnapshot, loadSnapshotWithDebtor, lockDebtor } from '../../src/outbound/snapshot.js';
import { sqlTransaction } from '../../src/db/sql.js';
import { writeMessage } from '../../src/conversations/message-write.js';
import { requestOutreach } from '../../src/outbound/service.js';
import { isUniqueViolation } from '../../src/db/errors.js';
import { emitOutgoingEvent } from '../../src/webhooks-out/service.js';

/** The id of the debtor's conversation, created on first use. */
const conversationIdFor = async (db: Parameters<typeof conversationFor>[0], debtorId: string) =>
  (await conversationFor(db, { debtorId })).id;

describe('single-round-trip readers', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox' });
  });
  afterAll(async () => gw?.close());

  it('stores a raw event on the intake pool as the row Prisma reads back, once per dedupe key', async () => {
    expect(intakePool(gw.ctx.db)).toBeDefined();
    const body = Buffer.from('MessageSid=SMround1&Body=caf%C3%A9%20%E2%9C%93&From=%2B14155550100');
    const raw = {
      provider: 'twilio' as const,
      kind: 'never-processed',
      dedupeKey: `twilio:never-processed:${Date.now()}`,
      headers: { 'x-twilio-signature': 'sig', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    };
    const first = await storeInbound(gw.ctx, raw);
    expect(first.duplicate).toBe(false);
    const stored = await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: first.id } });
    expect(first.event).toEqual(stored);
    expect(Buffer.from(first.event!.body).equals(body)).toBe(true);
    expect(first.event!.attempts).toBe(1);
    expect(first.event!.status).toBe('RECEIVED');
    expect(first.event!.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());

    const again = await storeInbound(gw.ctx, { ...raw, body: Buffer.from('different bytes') });
    expect(again).toEqual({ id: first.id, duplicate: true });
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: raw.dedupeKey } })).toBe(1);
  });

  it('locks and reads a message as the Message Prisma returns, by id and by provider id', async () => {
    const s = await seedDebtor(gw);
    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const created = await gw.ctx.db.message.create({
      data: {
        conversationId,
        debtorId: s.debtorId,
        debtId: s.debtId,
        direction: 'OUTBOUND',
        channel: 'VOICE',
        status: 'IN_PROGRESS',
        body: 'call script',
        providerMessageId: `CAround${Date.now()}`,
        decision: { outcome: 'send', reasons: [{ rule: 'x' }] },
        callOutcome: { answeredBy: 'machine_start', digits: ['1'] },
        sentAt: new Date(Date.now() - 5_000),
        attempts: 2,
        segments: 1,
        countsAsAttempt: true,
      },
    });
    const [byId, byProvider] = await gw.ctx.db.$transaction(async (tx) => [
      await lockMessage(tx, { id: created.id }),
      await lockMessage(tx, { providerMessageId: created.providerMessageId! }),
    ]);
    const fresh = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: created.id } });
    expect(byId).toEqual(fresh);
    expect(byProvider).toEqual(fresh);
    expect(await gw.ctx.db.$transaction((tx) => lockMessage(tx, { providerMessageId: 'SMnobody' }))).toBeNull();
  });

  it('reports the conversation as the append left it, and nothing for events read back from the database', async () => {
    const s = await seedDebtor(gw);
    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const event = await gw.ctx.db.$transaction(async (tx) => {
      await tx.conversation.update({
        where: { id: conversationId },
        data: { flags: ['DISPUTE', 'NEEDS_REVIEW'], status: 'PENDING' },
      });
      return appendEvent(tx, conversationId, 'flag.added', { flag: 'DISPUTE' });
    });
    const row = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: conversationId } });
    expect(event.seq).toBe(row.lastSeq);
    expect(conversationStateAfter(event)).toEqual({
      debtorId: s.debtorId,
      lastActivityAt: row.lastActivityAt,
      status: 'PENDING',
      flags: ['DISPUTE', 'NEEDS_REVIEW'],
      assigneeId: null,
    });
    // The state travels beside the event, never inside what live clients receive.
    expect(Object.keys(event).sort()).toEqual(['at', 'conversationId', 'payload', 'seq', 'type']);
    const [loaded] = await eventsSince(gw.ctx.db, conversationId, event.seq - 1);
    expect(loaded).toEqual(event);
    expect(conversationStateAfter(loaded!)).toBeUndefined();
  });

  it('writes a message, its attachments, first status and timeline event in one statement, as Prisma reads them back', async () => {
    const s = await seedDebtor(gw);
    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const stored = await storeInbound(gw.ctx, {
      provider: 'twilio',
      kind: 'sms',
      dedupeKey: `write-test:${Date.now()}`,
      headers: {},
      body: Buffer.from('x'),
    });
    const written = await writeMessage(
      gw.ctx.db,
      {
        conversationId,
        debtorId: s.debtorId,
        direction: 'INBOUND',
        channel: 'SMS',
        status: 'RECEIVED',
        body: 'hello',
        fromAddress: '+14155550123',
        providerMessageId: 'SMwrite1',
        decision: { a: [1, 'x'] },
        segments: 2,
      },
      {
        attachments: [
          { filename: 'a.jpg', contentType: 'image/jpeg', size: 3, sha256: 'a'.repeat(64), path: 'attachments/a.jpg' },
        ],
        statusEvent: { status: 'RECEIVED', detail: { why: 'test' } },
        inboundEventId: stored.id,
        event: {
          type: 'message.created',
          inboundChannel: 'SMS',
          payload: (m, files) => ({ messageId: m.id, files: files.map((f) => f.id), at: m.createdAt.toISOString() }),
        },
      },
    );
    const read = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: written.message.id } });
    expect(written.message).toEqual(read);
    expect(
      await gw.ctx.db.attachment.findMany({ where: { messageId: read.id }, select: { id: true, filename: true } }),
    ).toEqual([{ id: written.attachments[0]!.id, filename: 'a.jpg' }]);
    expect(
      await gw.ctx.db.messageStatusEvent.findMany({
        where: { messageId: read.id },
        select: { status: true, detail: true },
      }),
    ).toEqual([{ status: 'RECEIVED', detail: { why: 'test' } }]);
    expect((await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: stored.id } })).status).toBe('PROCESSED');
    const [back] = await eventsSince(gw.ctx.db, conversationId, written.event.seq - 1);
    expect(back).toEqual(written.event);
    expect(written.event.payload).toEqual({
      messageId: read.id,
      files: [written.attachments[0]!.id],
      at: read.createdAt.toISOString(),
    });
    expect(conversationStateAfter(written.event)).toMatchObject({ debtorId: s.debtorId, status: 'OPEN' });
    expect((await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: conversationId } })).lastInboundChannel).toBe(
      'SMS',
    );

    // A second copy of the same provider message is refused as a unique violation (callers answer with the stored one).
    const again = writeMessage(
      gw.ctx.db,
      {
        conversationId,
        direction: 'INBOUND',
        channel: 'SMS',
        status: 'RECEIVED',
        body: 'hello',
        providerMessageId: 'SMwrite1',
      },
      { event: { type: 'message.created', payload: () => ({}) } },
    );
    const err = await again.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isUniqueViolation(err)).toBe(true);
  });

  it("announces a message to its event type's webhook subscribers in the same statement, as emitOutgoingEvent would", async () => {
    const s = await seedDebtor(gw);
    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const sub = (events: string[], active = true) =>
      gw.ctx.db.webhookSubscription.create({
        data: { url: 'https://hooks.example/x', secret: 'x'.repeat(32), events, active },
      });
    const listed = await sub(['reply.received', 'dispute.opened']);
    const all = await sub(['*']);
    const everything = await sub([]);
    await sub(['reply.received'], false);
    await sub(['payment.recorded']);
    const write = (announce: boolean) =>
      gw.ctx.db.$transaction((tx) =>
        writeMessage(
          tx,
          {
            conversationId,
            debtorId: s.debtorId,
            direction: 'INBOUND',
            channel: 'SMS',
            status: 'RECEIVED',
            body: 'hi',
          },
          {
            event: { type: 'message.created', payload: () => ({}) },
            ...(announce
              ? { announce: { type: 'reply.received' as const, data: (m: { id: string }) => ({ messageId: m.id }) } }
              : {}),
          },
        ),
      );
    try {
      const { message, deliveryIds } = await write(true);
      const written = await gw.ctx.db.webhookDelivery.findMany({ where: { id: { in: deliveryIds } } });
      expect(written.map((d) => d.subscriptionId).sort()).toEqual([listed.id, all.id, everything.id].sort());
      // One event: the same envelope (id included) in every delivery, queued now.
      expect(new Set(written.map((d) => JSON.stringify(d.payload))).size).toBe(1);
      expect(written[0]!.payload).toEqual({
        id: expect.any(String),
        type: 'reply.received',
        createdAt: expect.any(String),
        data: { messageId: message.id },
      });
      expect(
        written.every(
          (d) => d.event === 'reply.received' && d.status === 'QUEUED' && d.attempts === 0 && d.nextAttemptAt !== null,
        ),
      ).toBe(true);

      const viaEmit = await gw.ctx.db.$transaction((tx) =>
        emitOutgoingEvent(gw.ctx, 'reply.received', { test: true }, { tx }),
      );
      const emitted = await gw.ctx.db.webhookDelivery.findMany({
        where: { id: { in: viaEmit } },
        select: { subscriptionId: true },
      });
      expect(emitted.map((d) => d.subscriptionId).sort()).toEqual(written.map((d) => d.subscriptionId).sort());
      expect((await write(false)).deliveryIds).toEqual([]);
    } finally {
      await gw.ctx.db.webhookDelivery.deleteMany({});
      await gw.ctx.db.webhookSubscription.deleteMany({});
    }
  });

  it('answers two simultaneous outreach requests with one idempotency key with one message (the second write is refused as a duplicate)', async () => {
    const s = await seedDebtor(gw);
    const req = {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder' as const,
      channel: 'SMS' as const,
      idempotencyKey: `same-${s.debtId}`,
    };
    const results = await Promise.all([
      requestOutreach(gw.ctx, req, { type: 'system' }),
      requestOutreach(gw.ctx, req, { type: 'system' }),
    ]);
    const ids = results.map((r) => ('messageId' in r ? r.messageId : null));
    expect(ids[0]).not.toBeNull();
    expect(ids[1]).toBe(ids[0]);
    expect(await gw.ctx.db.message.count({ where: { idempotencyKey: req.idempotencyKey } })).toBe(1);
    // The request is audited once, by the statement that wrote the message.
    expect(
      await gw.ctx.db.auditEvent.findMany({
        where: { entityId: ids[0]! },
        select: { action: true, actorType: true, entityType: true, data: true },
      }),
    ).toEqual([
      {
        action: 'message.request',
        actorType: 'system',
        entityType: 'message',
        data: { intent: 'friendly-reminder', channel: 'SMS', outcome: 'send' },
      },
    ]);
  });

  it('tells from the snapshot query whether the debtor was contacted before (cancelled and failed sends do not count, inbound does not)', async () => {
    const s = await seedDebtor(gw);
    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const contactedBefore = async () =>
      (await loadSnapshotWithDebtor(gw.ctx.db, s.debtorId, new Date()))!.debtor.contactedBefore;
    expect(await contactedBefore()).toBe(false);
    const base = { conversationId, debtorId: s.debtorId, debtId: s.debtId, channel: 'SMS' as const, body: 'x' };
    await gw.ctx.db.message.create({ data: { ...base, direction: 'INBOUND', status: 'RECEIVED' } });
    await gw.ctx.db.message.create({ data: { ...base, direction: 'OUTBOUND', status: 'CANCELLED' } });
    await gw.ctx.db.message.create({ data: { ...base, direction: 'OUTBOUND', status: 'FAILED' } });
    expect(await contactedBefore()).toBe(false);
    // Only a message that reached the debtor counts: one queued or booked ahead may leave after the one being decided.
    await gw.ctx.db.message.create({ data: { ...base, direction: 'OUTBOUND', status: 'PENDING' } });
    expect(await contactedBefore()).toBe(false);
    await gw.ctx.db.message.create({ data: { ...base, direction: 'OUTBOUND', status: 'SENT' } });
    expect(await contactedBefore()).toBe(false); // SMS counts once delivered
    await gw.ctx.db.message.create({ data: { ...base, direction: 'OUTBOUND', status: 'DELIVERED' } });
    expect(await contactedBefore()).toBe(true);
  });

  it('reads the debt to render and the conversation with the snapshot, as Prisma reads them, and no debt of another debtor', async () => {
    const s = await seedDebtor(
      gw,
      {},
      {
        originalAmount: '1234.5678',
        currency: 'JPY',
        dueDate: '2026-02-28',
        jurisdiction: 'US-NY',
        paymentLink: 'https://pay.example/x',
      },
    );
    const other = await seedDebtor(gw);
    const first = (await loadSnapshotWithDebtor(gw.ctx.db, s.debtorId, new Date(), { debtId: s.debtId }))!;
    expect(first.debtor.conversationId).toBeNull();
    const prisma = await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId }, include: { creditor: true } });
    const { debt } = first;
    expect(debt).toEqual({
      id: prisma.id,
      debtorId: prisma.debtorId,
      externalRef: prisma.externalRef,
      currency: prisma.currency,
      jurisdiction: prisma.jurisdiction,
      paymentLink: prisma.paymentLink,
      dueDate: prisma.dueDate,
      balance: expect.anything(),
      creditor: { name: prisma.creditor.name, kind: prisma.creditor.kind },
      timeBarred: prisma.timeBarred,
    });
    expect(debt!.balance.equals(prisma.balance)).toBe(true);
    expect(debt!.balance.toFixed(4)).toBe('1234.5678');

    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const again = (await loadSnapshotWithDebtor(gw.ctx.db, s.debtorId, new Date(), { debtId: other.debtId }))!;
    expect(again.debtor.conversationId).toBe(conversationId);
    expect(again.debt).toBeNull();
    expect((await loadSnapshotWithDebtor(gw.ctx.db, s.debtorId, new Date()))!.debt).toBeNull();
  });

  it('builds the snapshot history from the one query: exclusions, reservations and voicemails as before', async () => {
    const s = await seedDebtor(gw);
    const conversationId = await conversationIdFor(gw.ctx.db, s.debtorId);
    const now = new Date();
    const base = {
      conversationId,
      debtorId: s.debtorId,
      debtId: s.debtId,
      direction: 'OUTBOUND' as const,
      body: 'x',
      countsAsAttempt: true,
    };
    const voicemail = await gw.ctx.db.message.create({
      data: {
        ...base,
        channel: 'VOICE',
        status: 'COMPLETED',
        sentAt: new Date(now.getTime() - 3_600_000),
        callOutcome: { answeredBy: 'machine_end_beep' },
      },
    });
    const later = await gw.ctx.db.message.create({
      data: { ...base, channel: 'SMS', status: 'SCHEDULED', scheduledAt: new Date(now.getTime() + 86_400_000) },
    });
    const self = await gw.ctx.db.message.create({
      data: { ...base, channel: 'SMS', status: 'PENDING', scheduledAt: now },
    });

    const all = (await loadSnapshot(gw.ctx.db, s.debtorId, now))!;
    expect(all.history.filter((h) => h.kind === 'voicemail')).toEqual([
      expect.objectContaining({ at: voicemail.sentAt, channel: 'VOICE', debtId: s.debtId, countsAsAttempt: true }),
    ]);
    expect(all.history.some((h) => h.at.getTime() === later.scheduledAt!.getTime())).toBe(true);

    const atSend = (await loadSnapshot(gw.ctx.db, s.debtorId, now, {
      excludeMessageId: self.id,
      ignoreReservationsAfter: now,
    }))!;
    expect(atSend.history).toHaveLength(all.history.length - 2);
    expect(atSend.history.some((h) => h.at.getTime() === later.scheduledAt!.getTime())).toBe(false);
    expect(await loadSnapshot(gw.ctx.db, '00000000-0000-4000-8000-000000000000', now)).toBeNull();
  });

  it('opens one conversation per debtor and per unmatched sender, however many callers race to create it', async () => {
    const s = await seedDebtor(gw);
    const address = `+1415555${String(Date.now() % 10_000).padStart(4, '0')}`;
    const forDebtor = await Promise.all(
      Array.from({ length: 6 }, () => gw.ctx.db.$transaction((tx) => conversationFor(tx, { debtorId: s.debtorId }))),
    );
    const forSender = await Promise.all(
      Array.from({ length: 6 }, () =>
        gw.ctx.db.$transaction((tx) => conversationFor(tx, { unmatchedAddress: address })),
      ),
    );
    expect(new Set(forDebtor.map((c) => c.id)).size).toBe(1);
    expect(new Set(forSender.map((c) => c.id)).size).toBe(1);
    const debtorRow = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    const senderRow = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { unmatchedAddress: address } });
    expect(forDebtor[0]).toEqual({ id: debtorRow.id, status: debtorRow.status });
    expect(forSender[0]).toEqual({ id: senderRow.id, status: 'OPEN' });
    expect(senderRow.flags).toEqual(['UNMATCHED']);
    expect(await conversationIdFor(gw.ctx.db, s.debtorId)).toBe(debtorRow.id);
  });

  it("makes a debtor's first thread in the outreach request's last round trip, even as an inbound reply creates it at the same moment", async () => {
    const s = await seedDebtor(gw);
    expect(await gw.ctx.db.conversation.count({ where: { debtorId: s.debtorId } })).toBe(0);
    const req = {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder' as const,
      channel: 'SMS' as const,
      now: new Date(),
    };
    // An inbound message's path (conversationFor, without the debtor's lock) races the outreach requests.
    const [sent, replied] = await Promise.all([
      Promise.all(Array.from({ length: 3 }, () => requestOutreach(gw.ctx, req, { type: 'system' }))),
      Promise.all(
        Array.from({ length: 3 }, () => gw.ctx.db.$transaction((tx) => conversationFor(tx, { debtorId: s.debtorId }))),
      ),
    ]);
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(new Set(replied.map((c) => c.id))).toEqual(new Set([conversation.id]));
    const ids = sent.flatMap((r) => ('messageId' in r ? [r.messageId] : []));
    expect(ids.length).toBeGreaterThan(0);
    const messages = await gw.ctx.db.message.findMany({ where: { id: { in: ids } }, select: { conversationId: true } });
    expect(messages.map((m) => m.conversationId)).toEqual(ids.map(() => conversation.id));
    // Each message's timeline event is in that thread too.
    const created = await gw.ctx.db.conversationEvent.findMany({
      where: { conversationId: conversation.id, type: 'message.created' },
    });
    expect(created.map((e) => (e.payload as { messageId: string }).messageId).sort()).toEqual([...ids].sort());
  });

  it("does not deadlock when an inbound reply makes the debtor's thread while outreach holds the debtor's lock to make it", async () => {
    const s = await seedDebtor(gw);
    const lockWaits = async () =>
      (
        await gw.ctx.db.$queryRawUnsafe<{ n: number }[]>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
      )[0]!.n;
    let inbound: Promise<{ id: string }> | undefined;
    // Outreach's order: the debtor's lock, then the thread. The inbound path asks for the thread in between.
    await sqlTransaction(gw.ctx.db, async (tx) => {
      await lockDebtor(tx, s.debtorId);
      inbound = gw.ctx.db.$transaction((t) => conversationFor(t, { debtorId: s.debtorId }));
      await eventually(async () => (await lockWaits()) === 1, 5_000, 'the inbound path waits for the debtor');
      // Had the inbound insert taken the thread's slot before waiting, this would wait on it: a deadlock.
      await createConversationIfMissing(tx, s.debtorId);
    });
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect((await inbound!).id).toBe(conversation.id);
  });

  it("finds an existing thread without waiting for the debtor's lock (no row lock unless it has to make one)", async () => {
    const s = await seedDebtor(gw);
    const existing = await conversationFor(gw.ctx.db, { debtorId: s.debtorId });
    await sqlTransaction(gw.ctx.db, async (tx) => {
      await lockDebtor(tx, s.debtorId);
      // Outreach holds the debtor's lock; an inbound reply to the existing thread goes straight through.
      expect(
        await gw.ctx.db.$transaction((t) => conversationFor(t, { debtorId: s.debtorId }), { timeout: 3_000 }),
      ).toEqual(existing);
    });
  });

  it('ends the intake pool with the database client', async () => {
    const other = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox' });
    const pool = intakePool(other.ctx.db)!;
    await storeInbound(other.ctx, {
      provider: 'twilio',
      kind: 'never-processed',
      dedupeKey: `twilio:never-processed:end:${Date.now()}`,
      headers: {},
      body: Buffer.from('x'),
    });
    expect(pool.totalCount).toBeGreaterThan(0);
    await other.close();
    expect(pool.ended).toBe(true);
    expect(pool.totalCount).toBe(0);
  });
});

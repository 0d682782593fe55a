// applyStatus's one-statement path (a plain status change: no effects, no
// call outcome) against the real database, under concurrency: the status only
// moves forward whatever order callbacks commit in, each provider event is
// recorded once, every change gets its timeline event with consecutive seqs,
// the webhook's stored event is marked processed by the same statement, and
// dispatch's record of the provider's acceptance keeps a status that a
// callback already moved further. A plain Twilio status callback is stored
// and applied by one statement before its answer (storeAndApplyStatus).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { applyStatus, MessageNotFound } from '../../src/messaging/status.js';
import { eventually } from '../support/gateway.js';
import { storeAndApplyStatus } from '../../src/inbound/status.js';
import { sqlPool } from '../../src/db/client.js';
import { storeInbound } from '../../src/inbound/events-store.js';
import type { MessageStatus } from '../../src/generated/prisma/enums.js';
import {
  postTwilio,
  seedDebtor,
  seedOutbound,
  sid,
  startInboundGateway,
  TWILIO_SID,
  type InboundGateway,
} from './helpers.js';

describe('applyStatus in one statement', () => {
  let gw: InboundGateway;
  beforeAll(async () => {
    gw = await startInboundGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  const RANK: Partial<Record<MessageStatus, number>> = { SENDING: 2, QUEUED: 3, SENT: 4, DELIVERED: 6 };

  it('applies 15 callbacks that all wait on the same message at once: status only forward, each recorded once, one timeline event each in seq order', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550170' });
    const providerId = sid('SM');
    const out = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: providerId });
    const statuses: [MessageStatus, string][] = [
      ['QUEUED', 'queued'],
      ['SENT', 'sent'],
      ['DELIVERED', 'delivered'],
    ];
    // Five rounds of the three statuses, each callback with its own provider event id. A transaction
    // holds the message's row until all of them are waiting for it, so they really run at once.
    // Connections first: the callbacks then all reach the database together.
    await Promise.all(Array.from({ length: 15 }, () => sqlPool(gw.ctx.db).query('SELECT pg_sleep(0.05)')));
    const holder = new pg.Client({ connectionString: gw.database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT id FROM messages WHERE id = $1 FOR UPDATE', [out.id]);
    const calls = Array.from({ length: 15 }, (_, i) => statuses[(i * 7) % 3]!);
    const pending = Promise.all(
      calls.map(([status, providerStatus], i) =>
        applyStatus(gw.ctx, {
          ref: { providerMessageId: providerId },
          status,
          providerStatus,
          providerEventId: `test:${providerId}:${i}`,
          detail: { i },
        }),
      ),
    );
    await eventually(
      async () => {
        const r = await holder.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return r.rows[0]!.n >= 15;
      },
      10_000,
      'all callbacks waiting on the row',
    );
    await holder.query('COMMIT');
    await holder.end();
    const results = await pending;
    expect(results.every((r) => r.applied)).toBe(true);

    const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: out.id } });
    expect(m.status).toBe('DELIVERED');
    expect(m.deliveredAt).not.toBeNull();
    expect(await gw.ctx.db.messageStatusEvent.count({ where: { messageId: out.id } })).toBe(15);

    const events = await gw.ctx.db.conversationEvent.findMany({
      where: { conversationId: m.conversationId, type: 'message.status' },
      orderBy: { seq: 'asc' },
    });
    expect(events).toHaveLength(15);
    // Consecutive seqs, and in commit order each event saw the status the previous one left.
    for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBe(events[i - 1]!.seq + 1);
    let current: MessageStatus = 'QUEUED';
    for (const e of events) {
      const p = e.payload as {
        previousStatus: MessageStatus;
        status: MessageStatus;
        advanced: boolean;
        providerStatus: string;
        messageId: string;
      };
      expect(p.messageId).toBe(out.id);
      expect(p.previousStatus).toBe(current);
      expect(RANK[p.status]!).toBeGreaterThanOrEqual(RANK[current]!);
      expect(p.advanced).toBe(p.status !== current);
      current = p.status;
    }
    expect(current).toBe('DELIVERED');
  });

  it('records one provider event once however many times it is applied at once, and marks each stored webhook processed', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550171' });
    const providerId = sid('SM');
    const out = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: providerId });
    const stored = await Promise.all(
      [1, 2, 3].map((n) =>
        storeInbound(gw.ctx, {
          provider: 'twilio',
          kind: 'status',
          dedupeKey: `test-dup:${providerId}:${n}`,
          headers: {},
          body: Buffer.from('x'),
        }),
      ),
    );
    const results = await Promise.all(
      stored.map((s) =>
        applyStatus(gw.ctx, {
          ref: { providerMessageId: providerId },
          status: 'SENT',
          providerStatus: 'sent',
          providerEventId: `twilio:status:${providerId}:sent`,
          inboundEventId: s.id,
        }),
      ),
    );
    expect(results.filter((r) => r.applied)).toHaveLength(1);
    expect(results.every((r) => r.inboundEventMarked)).toBe(true);
    expect(await gw.ctx.db.messageStatusEvent.count({ where: { messageId: out.id } })).toBe(1);
    expect(
      await gw.ctx.db.conversationEvent.count({
        where: { type: 'message.status', payload: { path: ['messageId'], equals: out.id } },
      }),
    ).toBe(1);
    const rows = await gw.ctx.db.inboundEvent.findMany({ where: { id: { in: stored.map((s) => s.id) } } });
    expect(rows.map((r) => r.status)).toEqual(['PROCESSED', 'PROCESSED', 'PROCESSED']);
    expect(rows.every((r) => r.processedAt !== null && r.nextAttemptAt === null)).toBe(true);
  });

  it('leaves the stored webhook alone and says so when the message is not known yet', async () => {
    const stored = await storeInbound(gw.ctx, {
      provider: 'twilio',
      kind: 'status',
      dedupeKey: `test-unknown:${sid('SM')}`,
      headers: {},
      body: Buffer.from('x'),
    });
    const unknown = sid('SM');
    await expect(
      applyStatus(gw.ctx, {
        ref: { providerMessageId: unknown },
        status: 'SENT',
        providerStatus: 'sent',
        providerEventId: `x:${unknown}`,
        inboundEventId: stored.id,
      }),
    ).rejects.toBeInstanceOf(MessageNotFound);
    expect((await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: stored.id } })).status).toBe('RECEIVED');
  });

  it("records the provider's acceptance with the status, and keeps a status a callback already moved further", async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550172' });
    const first = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', {});
    await gw.ctx.db.message.update({
      where: { id: first.id },
      data: { status: 'SENDING', errorCode: '30001', errorMessage: 'previous attempt failed' },
    });
    const id1 = sid('SM');
    await applyStatus(gw.ctx, {
      ref: { id: first.id },
      status: 'QUEUED',
      providerStatus: 'queued',
      providerEventId: null,
      accepted: { provider: 'twilio', providerMessageId: id1 },
    });
    expect(await gw.ctx.db.message.findUniqueOrThrow({ where: { id: first.id } })).toMatchObject({
      status: 'QUEUED',
      provider: 'twilio',
      providerMessageId: id1,
      errorCode: null,
      errorMessage: null,
    });
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: first.id } })).sentAt).not.toBeNull();

    const second = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', {});
    await gw.ctx.db.message.update({ where: { id: second.id }, data: { status: 'DELIVERED' } });
    const id2 = sid('SM');
    const r = await applyStatus(gw.ctx, {
      ref: { id: second.id },
      status: 'QUEUED',
      providerStatus: 'queued',
      providerEventId: null,
      accepted: { provider: 'twilio', providerMessageId: id2 },
    });
    expect(r.applied).toBe(true);
    expect(await gw.ctx.db.message.findUniqueOrThrow({ where: { id: second.id } })).toMatchObject({
      status: 'DELIVERED',
      providerMessageId: id2,
    });
  });

  it('stores and applies a plain status callback with one statement before answering it, once per callback', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550173' });
    const providerId = sid('SM');
    const out = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: providerId });
    const params = {
      AccountSid: TWILIO_SID,
      MessageSid: providerId,
      SmsSid: providerId,
      MessageStatus: 'sent',
      SmsStatus: 'sent',
      To: '+14155550173',
      From: '+15005550006',
      ApiVersion: '2010-04-01',
    };
    expect((await postTwilio(gw, '/webhooks/twilio/status', params)).status).toBe(204);
    // Nothing is left to do after the answer: the raw event and the update were written together.
    const stored = await gw.ctx.db.inboundEvent.findUniqueOrThrow({
      where: { dedupeKey: `twilio:status:${providerId}:sent` },
    });
    expect(stored).toMatchObject({
      provider: 'twilio',
      kind: 'status',
      status: 'PROCESSED',
      attempts: 1,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(stored.processedAt).not.toBeNull();
    expect(Object.fromEntries(new URLSearchParams(Buffer.from(stored.body).toString('utf8')))).toEqual(params);
    expect((stored.headers as Record<string, string>)['x-twilio-signature']).toBeTruthy();
    expect(await gw.ctx.db.message.findUniqueOrThrow({ where: { id: out.id } })).toMatchObject({ status: 'SENT' });
    expect(
      await gw.ctx.db.messageStatusEvent.findMany({
        where: { messageId: out.id },
        select: { providerStatus: true, providerEventId: true },
      }),
    ).toEqual([{ providerStatus: 'sent', providerEventId: `twilio:status:${providerId}:sent` }]);

    // The provider's retry of the same callback, sent three times at once, changes nothing.
    const again = await Promise.all([1, 2, 3].map(() => postTwilio(gw, '/webhooks/twilio/status', params)));
    expect(again.map((r) => r.status)).toEqual([204, 204, 204]);
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: `twilio:status:${providerId}:sent` } })).toBe(1);
    expect(await gw.ctx.db.messageStatusEvent.count({ where: { messageId: out.id } })).toBe(1);
    expect(
      await gw.ctx.db.conversationEvent.count({
        where: { type: 'message.status', payload: { path: ['messageId'], equals: out.id } },
      }),
    ).toBe(1);

    expect(
      (
        await postTwilio(gw, '/webhooks/twilio/status', {
          ...params,
          MessageStatus: 'delivered',
          SmsStatus: 'delivered',
        })
      ).status,
    ).toBe(204);
    expect(await gw.ctx.db.message.findUniqueOrThrow({ where: { id: out.id } })).toMatchObject({ status: 'DELIVERED' });
  });

  it('stores a plain callback for a message not known yet as received, leased to this process, exactly as Prisma reads it back', async () => {
    const unknown = sid('SM');
    const raw = {
      provider: 'twilio' as const,
      kind: 'status',
      dedupeKey: `twilio:status:${unknown}:queued`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(`MessageSid=${unknown}`),
    };
    const update = {
      ref: { providerMessageId: unknown },
      status: 'QUEUED' as const,
      providerStatus: 'queued',
      providerEventId: `twilio:status:${unknown}:queued`,
    };
    const r = await storeAndApplyStatus(gw.ctx, raw, update);
    if (r.duplicate || r.applied) throw new Error(`expected a stored, unapplied event, got ${JSON.stringify(r)}`);
    expect(r.event).toEqual(await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: r.id } }));
    expect(r.event).toMatchObject({ status: 'RECEIVED', attempts: 1, processedAt: null });
    expect(r.event.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    expect(await storeAndApplyStatus(gw.ctx, raw, update)).toEqual({ duplicate: true });
  });
});

// moveStatus, the gateway's own steps of a message (claim, defer, retry,
// refusal, failure), against the real database: a step moves the message
// only from the states it may leave, writes its history row and timeline
// event only when it moved, and leaves a message someone else settled alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MessageStatus } from '../../src/generated/prisma/enums.js';
import { GATEWAY_STEPS, moveStatus, type GatewayStep } from '../../src/messaging/status.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { seedDebtor, seedOutbound } from '../inbound/helpers.js';

describe('moveStatus', () => {
  let gw: TestGateway;
  let messageId: string;
  let conversationId: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550171' });
    const m = await seedOutbound(gw, debtor.id, phone!.id, 'SMS');
    messageId = m.id;
    conversationId = m.conversationId;
  });
  afterAll(async () => {
    await gw?.close();
  });

  async function attempt(from: MessageStatus, to: GatewayStep) {
    const db = gw.ctx.db;
    await db.message.update({ where: { id: messageId }, data: { status: from, attempts: 1 } });
    const historyBefore = await db.messageStatusEvent.count({ where: { messageId } });
    const timelineBefore = await db.conversationEvent.count({ where: { conversationId } });
    const r = await db.$transaction((tx) =>
      moveStatus(tx, {
        id: messageId,
        to,
        data: { attempts: { increment: 1 } },
        history: { errorCode: 'E1', detail: { why: 'test' } },
        timeline: { conversationId, payload: { why: 'test' } },
      }),
    );
    const after = await db.message.findUniqueOrThrow({ where: { id: messageId } });
    return {
      moved: r.moved,
      event: r.event,
      status: after.status,
      attempts: after.attempts,
      history: (await db.messageStatusEvent.count({ where: { messageId } })) - historyBefore,
      timeline: (await db.conversationEvent.count({ where: { conversationId } })) - timelineBefore,
    };
  }

  it('retries, claims and fails only what is in the state the step leaves', async () => {
    // A retry after a fault must not pull back a message its provider already delivered.
    expect(await attempt('DELIVERED', 'PENDING')).toMatchObject({
      moved: false,
      status: 'DELIVERED',
      attempts: 1,
      history: 0,
      timeline: 0,
      event: null,
    });
    // A second claim of a message already SENDING (two workers) does nothing.
    expect(await attempt('SENDING', 'SENDING')).toMatchObject({
      moved: false,
      status: 'SENDING',
      attempts: 1,
      history: 0,
    });
    // Refusal at send time cannot cancel a message its provider has.
    expect(await attempt('SENT', 'CANCELLED')).toMatchObject({ moved: false, status: 'SENT' });
    const failed = await attempt('SENDING', 'FAILED');
    expect(failed).toMatchObject({ moved: true, status: 'FAILED', attempts: 2, history: 1, timeline: 1 });
    expect(failed.event).toMatchObject({
      type: 'message.status',
      payload: { messageId, status: 'FAILED', why: 'test' },
    });
    const history = await gw.ctx.db.messageStatusEvent.findFirstOrThrow({
      where: { messageId },
      orderBy: { occurredAt: 'desc' },
    });
    expect(history).toMatchObject({ status: 'FAILED', errorCode: 'E1', detail: { why: 'test' } });
  });

  it('follows its step table for every status a message can be in', async () => {
    for (const to of Object.keys(GATEWAY_STEPS) as GatewayStep[]) {
      const allowed: readonly MessageStatus[] = GATEWAY_STEPS[to];
      for (const from of Object.values(MessageStatus)) {
        const r = await attempt(from, to);
        const moves = allowed.includes(from);
        expect({ from, to, moved: r.moved, status: r.status, history: r.history, timeline: r.timeline }).toEqual({
          from,
          to,
          moved: moves,
          status: moves ? to : from,
          history: moves ? 1 : 0,
          timeline: moves ? 1 : 0,
        });
      }
    }
  });

  it('writes no history row for a step that asks for none (the claim)', async () => {
    const db = gw.ctx.db;
    await db.message.update({ where: { id: messageId }, data: { status: 'PENDING' } });
    const before = await db.messageStatusEvent.count({ where: { messageId } });
    const r = await db.$transaction((tx) => moveStatus(tx, { id: messageId, to: 'SENDING', history: false }));
    expect(r).toEqual({ moved: true, event: null });
    expect(await db.messageStatusEvent.count({ where: { messageId } })).toBe(before);
  });
});

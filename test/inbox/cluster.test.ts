// Two gateways on one database, as behind one load balancer: live events go
// through the socket.io Postgres adapter, so an inbound SMS handled by gateway
// 1 reaches agents connected to gateway 2, and "X is viewing" is seen across.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, seedDebtor } from '../support/api.js';
import { ack, createAgent, liveClient, login, type SessionClient } from './session.js';

const ENV = {
  ADMIN_API_KEY: ADMIN_KEY,
  PROVIDERS: 'sandbox',
  TWILIO_AUTH_TOKEN: 'cluster-test-twilio-token',
  LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
};

describe('two gateway processes on one database', () => {
  let gw1: TestGateway;
  let gw2: TestGateway;
  let ana: SessionClient;
  let ben: SessionClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    gw1 = await startTestGateway(ENV);
    gw2 = await startTestGateway({ ...ENV, DATABASE_URL: gw1.database.url });
    // Users and sessions live in the shared database: each agent signs in on a different gateway.
    ana = await login(gw1, await createAgent(gw1, 'AGENT', 'Ana'));
    ben = await login(gw2, await createAgent(gw1, 'AGENT', 'Ben'));
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    // gw2 uses gw1's database, which gw1.close() drops: stop gw2 first.
    await gw2?.close();
    await gw1?.close();
  });

  it('an inbound SMS posted to gateway 1 reaches a client of gateway 2 (inbox list and timeline)', async () => {
    const debtor = await seedDebtor(gw1, { fullName: 'Carla Cluster' });
    const phone = (await gw1.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: debtor.phoneId! } })).value;
    const ben2 = await liveClient(gw2, ben);
    sockets.push(ben2.socket);
    expect(await ack(ben2.socket, 'inbox:subscribe')).toEqual({ ok: true });

    // The Twilio sandbox posts a signed webhook to gateway 1, which processes it in that request.
    const first = await gw1.ctx.sandboxes!.twilio.simulateInboundSms({
      from: phone,
      to: gw1.ctx.providers.twilio.from,
      body: 'first text via gateway 1',
    });
    expect(first.delivered).toBe(true);
    const conversation = await eventually(
      () => gw1.ctx.db.conversation.findUnique({ where: { debtorId: debtor.debtorId } }),
      10_000,
      'conversation',
    );
    const inboxEvent = await eventually(
      () => ben2.received.find((r) => r.event === 'inbox' && r.payload.conversationId === conversation.id),
      10_000,
      'inbox event on gateway 2',
    );
    expect(inboxEvent.payload.debtorId).toBe(debtor.debtorId);

    // Subscribed to the thread on gateway 2, the next text's timeline event arrives with its seq.
    const sub = await ack(ben2.socket, 'subscribe', { conversationId: conversation.id });
    expect(sub).toMatchObject({ ok: true, conversationId: conversation.id });
    await gw1.ctx.sandboxes!.twilio.simulateInboundSms({
      from: phone,
      to: gw1.ctx.providers.twilio.from,
      body: 'second text via gateway 1',
    });
    const timeline = await eventually(
      () =>
        ben2.received.find(
          (r) =>
            r.event === 'timeline' &&
            r.payload.conversationId === conversation.id &&
            r.payload.type === 'message.created' &&
            r.payload.seq > sub.lastSeq,
        ),
      10_000,
      'timeline event on gateway 2',
    );
    expect(timeline.payload.payload.message).toMatchObject({ direction: 'INBOUND', body: 'second text via gateway 1' });
    const stored = await gw1.ctx.db.conversationEvent.findFirstOrThrow({
      where: { conversationId: conversation.id, seq: timeline.payload.seq },
    });
    expect(stored.type).toBe('message.created');
  }, 60_000);

  it('"X is viewing" on gateway 1 is seen by a client of gateway 2, and the viewer list spans both', async () => {
    const debtor = await seedDebtor(gw1, { fullName: 'Pia Presence' });
    const phone = (await gw1.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: debtor.phoneId! } })).value;
    await gw1.ctx.sandboxes!.twilio.simulateInboundSms({
      from: phone,
      to: gw1.ctx.providers.twilio.from,
      body: 'are you there',
    });
    const conversation = await eventually(
      () => gw1.ctx.db.conversation.findUnique({ where: { debtorId: debtor.debtorId } }),
      10_000,
      'conversation',
    );

    const ben2 = await liveClient(gw2, ben);
    const ana1 = await liveClient(gw1, ana);
    sockets.push(ben2.socket, ana1.socket);
    const benView = await ack(ben2.socket, 'viewing', { conversationId: conversation.id, viewing: true });
    expect(benView.viewers.map((v: { name: string }) => v.name)).toEqual(['Ben']);

    // Ana opens it on gateway 1: gateway 1 asks gateway 2 for its viewers, and Ben (on gateway 2) hears about Ana.
    const anaView = await ack(ana1.socket, 'viewing', { conversationId: conversation.id, viewing: true });
    expect(anaView.viewers.map((v: { name: string }) => v.name).sort()).toEqual(['Ana', 'Ben']);
    await eventually(
      () =>
        ben2.received.find(
          (r) =>
            r.event === 'presence' &&
            r.payload.conversationId === conversation.id &&
            r.payload.viewers.some((v: { name: string }) => v.name === 'Ana'),
        ),
      10_000,
      'presence with Ana on gateway 2',
    );

    // Typing crosses too; and when Ana leaves, Ben's list drops her.
    ana1.socket.emit('typing', { conversationId: conversation.id, typing: true });
    await eventually(
      () => ben2.received.find((r) => r.event === 'typing' && r.payload.name === 'Ana' && r.payload.typing === true),
      10_000,
      'typing on gateway 2',
    );
    ana1.socket.disconnect();
    await eventually(
      () =>
        ben2.received.find(
          (r) =>
            r.event === 'presence' &&
            r.payload.conversationId === conversation.id &&
            r.payload.viewers.length === 1 &&
            r.payload.viewers[0].name === 'Ben',
        ),
      10_000,
      'presence without Ana',
    );
  }, 60_000);
});

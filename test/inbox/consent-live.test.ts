// A consent change an agent makes in the debtor panel (PATCH
// /api/v1/contact-points/:id) lands in the debtor's conversation timeline as
// `consent.changed`, and another agent watching that conversation sees it live.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Socket } from 'socket.io-client';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, seedDebtor } from '../support/api.js';
import { ack, createAgent, liveClient, login, type Received, type SessionClient } from './session.js';

describe('consent changed by an agent', () => {
  let gw: TestGateway;
  let ana: SessionClient;
  let ben: SessionClient;
  let socket: Socket;
  let received: Received[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'consent-live-twilio-token',
    });
    ana = await login(gw, await createAgent(gw, 'AGENT', 'Ana'));
    ben = await login(gw, await createAgent(gw, 'AGENT', 'Ben'));
    ({ socket, received } = await liveClient(gw, ben));
  });
  afterAll(async () => {
    socket?.disconnect();
    await gw?.close();
  });

  it('appears live in the conversation of another agent, once per real change', async () => {
    const debtor = await seedDebtor(gw, { fullName: 'Cleo Consent' });
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: debtor.phoneId! } })).value;
    // The debtor writes in, so there is a conversation the agents have open.
    expect(
      (
        await gw.ctx.sandboxes!.twilio.simulateInboundSms({
          from: phone,
          to: gw.ctx.providers.twilio.from,
          body: 'When is the next payment due?',
        })
      ).delivered,
    ).toBe(true);
    const conversation = await eventually(
      () => gw.ctx.db.conversation.findUnique({ where: { debtorId: debtor.debtorId } }),
      10_000,
      'conversation',
    );
    const sub = await ack(socket, 'subscribe', { conversationId: conversation.id });
    expect(sub).toMatchObject({ ok: true });
    expect(await ack(socket, 'inbox:subscribe')).toEqual({ ok: true });

    // Ana revokes SMS consent (VOICE stays as it was) from the panel.
    const patched = await ana.call('PATCH', `/api/v1/contact-points/${debtor.phoneId}`, {
      consents: { SMS: 'REVOKED', VOICE: 'GRANTED' },
    });
    expect(patched.status).toBe(200);

    const seen = await eventually(
      () =>
        received.find(
          (r) =>
            r.event === 'timeline' &&
            r.payload.conversationId === conversation.id &&
            r.payload.type === 'consent.changed',
        ),
      10_000,
      'consent.changed on Ben’s socket',
    );
    expect(seen.payload.seq).toBeGreaterThan(sub.lastSeq);
    expect(seen.payload.payload).toMatchObject({
      contactPointId: debtor.phoneId,
      channel: 'SMS',
      state: 'REVOKED',
      previous: 'GRANTED',
      by: 'Ana',
      kind: 'PHONE',
    });
    // The inbox list hears about the conversation too.
    await eventually(
      () =>
        received.find(
          (r) =>
            r.event === 'inbox' && r.payload.conversationId === conversation.id && r.payload.type === 'consent.changed',
        ),
      10_000,
      'inbox event',
    );

    // Stored in the timeline (a reconnecting client catches up from it): only SMS changed.
    const stored = await gw.ctx.db.conversationEvent.findMany({
      where: { conversationId: conversation.id, type: 'consent.changed' },
    });
    expect(stored.map((e) => (e.payload as { channel: string }).channel)).toEqual(['SMS']);

    // The same state again changes nothing and adds nothing; a grant back is a second event.
    expect(
      (await ana.call('PATCH', `/api/v1/contact-points/${debtor.phoneId}`, { consents: { SMS: 'REVOKED' } })).status,
    ).toBe(200);
    expect(
      (await ben.call('PATCH', `/api/v1/contact-points/${debtor.phoneId}`, { consents: { SMS: 'GRANTED' } })).status,
    ).toBe(200);
    const back = await eventually(
      () =>
        received.find(
          (r) =>
            r.event === 'timeline' && r.payload.type === 'consent.changed' && r.payload.payload.state === 'GRANTED',
        ),
      10_000,
      'the grant back',
    );
    expect(back.payload.payload).toMatchObject({ channel: 'SMS', previous: 'REVOKED', by: 'Ben' });
    expect(
      await gw.ctx.db.conversationEvent.count({ where: { conversationId: conversation.id, type: 'consent.changed' } }),
    ).toBe(2);
  });
});

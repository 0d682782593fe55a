// Status callbacks that overtake their send: Twilio posts "queued" (and, on a
// fast network, "sent" and "delivered") before the API call that created the
// message has answered, so the gateway does not yet know the provider id.
// They must land within moments of the send being recorded — not after the
// 30 s regular retry — and exactly once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import {
  postTwilio,
  seedDebtor as seedBareDebtor,
  seedOutbound,
  sid,
  startInboundGateway,
  type InboundGateway,
} from '../inbound/helpers.js';

describe('status callbacks that overtake their send', () => {
  let gw: InboundGateway;
  beforeAll(async () => {
    // The regular retry and sweep are 30 s: anything faster comes from the early-callback path.
    gw = await startInboundGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      INBOUND_RETRY_BASE_MS: '30000',
      INBOUND_RETRY_SWEEP_MS: '30000',
    });
  });
  afterAll(async () => gw?.close());

  it('delivers an SMS end to end in seconds although its first callbacks arrive before the provider id is saved', async () => {
    const s = await seedDebtor(gw);
    const started = Date.now();
    const r = await api(gw, ADMIN_KEY).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(r.status).toBe(202);
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findUnique({ where: { id: r.body.messageId as string } });
        return row?.status === 'DELIVERED' ? row : null;
      },
      10_000,
      'DELIVERED',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    // Every callback (queued, sent, delivered) is kept once, and each stored event was processed.
    const events = await gw.ctx.db.messageStatusEvent.findMany({
      where: { messageId: m.id, providerEventId: { not: null } },
    });
    expect(events.map((e) => e.providerStatus).sort()).toEqual(['delivered', 'queued', 'sent']);
    // Each event is marked processed just after the status it carried is committed.
    const inbound = await eventually(
      async () => {
        const rows = await gw.ctx.db.inboundEvent.findMany({
          where: { dedupeKey: { startsWith: `twilio:status:${m.providerMessageId}:` } },
        });
        return rows.length === 3 && rows.every((e) => e.status === 'PROCESSED') ? rows : null;
      },
      5_000,
      'three callbacks stored and processed',
    );
    expect(inbound).toHaveLength(3);
  });

  it('retries a callback for a not-yet-known message within a couple of seconds, not the regular backoff', async () => {
    const ghost = sid('SM');
    expect(
      (await postTwilio(gw, '/webhooks/twilio/status', { MessageSid: ghost, MessageStatus: 'delivered' })).status,
    ).toBe(204);
    const key = `twilio:status:${ghost}:delivered`;
    const waiting = await eventually(
      async () => {
        const e = await gw.ctx.db.inboundEvent.findUnique({ where: { dedupeKey: key } });
        return e?.status === 'FAILED' ? e : null;
      },
      5_000,
      'the callback to wait for its message',
    );
    expect(waiting.lastError).toMatch(/no message matches/);

    // The send is recorded by another process (no in-process notification): the short timer finds it.
    const { debtor, phone } = await seedBareDebtor(gw, { phone: '+14155550188' });
    const recordedAt = Date.now();
    await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: ghost });
    await eventually(
      async () => (await gw.ctx.db.message.findUnique({ where: { providerMessageId: ghost } }))?.status === 'DELIVERED',
      8_000,
      'DELIVERED',
    );
    expect(Date.now() - recordedAt).toBeLessThan(8_000);
    // The event is marked processed just after the status it carried is committed.
    await eventually(
      async () =>
        (await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { dedupeKey: key } })).status === 'PROCESSED',
      5_000,
      'the callback marked processed',
    );
  });
});

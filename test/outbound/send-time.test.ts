// Right at send time: a queued message is rendered again when it leaves, so a
// payment made after queuing shows in the amount; a debt paid in full
// meanwhile is cancelled, never sent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('send-time amounts', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'test-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
  });
  afterAll(async () => gw?.close());

  const queueSms = async (s: { debtorId: string; debtId: string }, intent = 'past-due-notice') => {
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent,
      channel: 'SMS',
      notBefore: new Date(Date.now() + 2500).toISOString(),
    });
    expect(r.status).toBe(202);
    expect(r.body.outcome).toBe('defer');
    return r.body.messageId as string;
  };

  it('$200 debt, $150 paid after queuing: the SMS says the new balance $50.00', async () => {
    const s = await seedDebtor(gw, {}, { originalAmount: '200.00' });
    const id = await queueSms(s);
    const queued = await gw.ctx.db.message.findUniqueOrThrow({ where: { id } });
    expect(queued.body).toContain('$200.00');
    expect(
      (
        await api(gw).post('/api/v1/payments', {
          debtId: s.debtId,
          amount: '150.00',
          currency: 'USD',
          externalRef: `pay-${id}`,
        })
      ).status,
    ).toBe(201);
    const sent = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id } });
        return m.providerMessageId ? m : null;
      },
      20_000,
      'the queued SMS handed to Twilio',
    );
    const sms = gw.ctx.sandboxes!.twilio.getMessage(sent.providerMessageId!)!;
    expect(sms.body).toContain('$50.00');
    expect(sms.body).not.toContain('$200.00');
    expect(sent.body).toBe(sms.body); // the thread shows what was sent
  });

  it('paid in full after queuing: cancelled, not sent', async () => {
    const s = await seedDebtor(gw, {}, { originalAmount: '200.00' });
    const id = await queueSms(s);
    expect(
      (await api(gw).post('/api/v1/payments', { debtId: s.debtId, amount: '200.00', currency: 'USD' })).status,
    ).toBe(201);
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findUniqueOrThrow({ where: { id } });
        return row.status === 'CANCELLED' ? row : null;
      },
      10_000,
      'the queued SMS cancelled',
    );
    expect(m.providerMessageId).toBeNull();
    expect(m.sentAt).toBeNull();
  });

  it('a reminder whose debt was paid in full while it sat in the outbox is refused when it leaves', async () => {
    const s = await seedDebtor(gw, {}, { originalAmount: '200.00' });
    const id = await queueSms(s);
    // Paid by a path that cancels nothing (a direct balance update by an import, say): the send-time re-check still stops it.
    await gw.ctx.db.debt.update({ where: { id: s.debtId }, data: { balance: 0, status: 'PAID' } });
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findUniqueOrThrow({ where: { id } });
        return row.status === 'CANCELLED' ? row : null;
      },
      20_000,
      'refused at send time',
    );
    expect(m.errorMessage).toBe('refused at send time');
    expect(m.providerMessageId).toBeNull();
  });
});

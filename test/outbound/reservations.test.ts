// Contact limits count attempts reserved for later (so planning never
// overbooks a window), but at send time a reservation made for later must not
// hold back an earlier message: the later one is re-checked when its own time
// comes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('reserved attempts at send time', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox' });
  });
  afterAll(async () => gw?.close());

  it('an earlier message goes out although a later one is reserved in the same limit window', async () => {
    const s = await seedDebtor(gw, { preferences: { contactLimits: { SMS: { max: 1, days: 7 } } } });
    const first = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
      notBefore: new Date(Date.now() + 3_000).toISOString(),
    });
    expect(first.status).toBe(202);
    expect(first.body.outcome).toBe('defer');

    // Planned now, the second one is pushed past the first one's window (the cap is 1 in 7 days).
    const second = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'SMS',
    });
    expect(second.status).toBe(202);
    expect(second.body.outcome).toBe('defer');
    const reserved = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: second.body.messageId } });
    expect(reserved.scheduledAt!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);

    // At its time the first one is sent, not pushed behind the reservation made after it.
    const sent = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: first.body.messageId } });
        return ['SENT', 'DELIVERED'].includes(m.status)
          ? m
          : m.status === 'SCHEDULED' && m.scheduledAt!.getTime() > Date.now() + 86_400_000
            ? m
            : null;
      },
      20_000,
      'the first message to be sent (or wrongly rescheduled)',
    );
    expect(sent.status).not.toBe('SCHEDULED');
    const stillReserved = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: second.body.messageId } });
    expect(stillReserved.status).toBe(reserved.status);
  });
});

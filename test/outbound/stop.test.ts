// STOP from the debtor's phone: SMS consent revoked at once, exactly one
// confirmation text (no balance, no link), and the router refuses the next SMS.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('STOP', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'stop-twilio-token-123456',
    });
  });
  afterAll(async () => gw?.close());

  it('revokes SMS consent, sends one confirmation, and the next SMS is refused with the opt-out reason', async () => {
    const s = await seedDebtor(gw);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    const sb = gw.ctx.sandboxes!.twilio;
    const r = await sb.simulateInboundSms({ from: phone, to: gw.ctx.providers.twilio.from, body: 'Stop' });
    expect(r.status).toBeLessThan(300);
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'SMS' } },
          })
        )?.state === 'REVOKED',
      10_000,
      'consent revoked',
    );
    const confirmations = await eventually(
      async () => {
        const sent = sb.listMessages({ to: phone, direction: 'outbound-api' } as never);
        return sent.length >= 1 ? sent : null;
      },
      15_000,
      'confirmation text',
    );
    // a second STOP asks for nothing more
    await sb.simulateInboundSms({ from: phone, to: gw.ctx.providers.twilio.from, body: 'STOP' });
    await eventually(
      async () => (await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, direction: 'INBOUND' } })) === 2,
      10_000,
      'second STOP stored',
    );
    const outbound = await gw.ctx.db.message.findMany({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } });
    expect(outbound).toHaveLength(1);
    expect(outbound[0]!.intent).toBe('opt-out-confirmation');
    expect(confirmations[0]!.body).not.toMatch(/\$|http|1,250/);
    const next = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(next.status).toBe(422);
    expect(JSON.stringify(next.body.details)).toContain('consent.revoked');
  });
});

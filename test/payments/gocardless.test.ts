// GoCardless through the official SDK against the local sandbox: the debtor
// authorises a direct debit on the hosted flow, the payment is taken against
// the mandate, confirmed days later and recorded once; a bank debit that
// fails after it was confirmed reverses the payment, reopens the debt and
// resumes its reminders. Webhooks are verified with the SDK's parse.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api } from '../support/api.js';
import { paymentSandboxes } from '../../src/payments/module.js';
import { webhookSecret } from '../../src/payments/providers.js';
import { signGoCardlessBody } from '../../channels/gocardless/sandbox.js';
import { paymentsOf, verifiedDebtor } from './helpers.js';

describe('GoCardless', () => {
  let gw: TestGateway;
  const sandbox = () => paymentSandboxes(gw.ctx).gocardless!;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'test-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
      WEBHOOK_ALLOWED_INTERNAL_TARGETS: '127.0.0.1',
    });
    await api(gw).post('/api/v1/webhook-subscriptions', {
      url: 'http://127.0.0.1:9/hook',
      events: ['payment.recorded', 'payment.reversed'],
    });
  });
  afterAll(async () => gw?.close());

  const post = (body: string, signature: string) =>
    fetch(`${gw.url}/webhooks/gocardless`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-signature': signature },
      body,
    });

  it('refuses a batch whose Webhook-Signature does not verify (498), storing nothing', async () => {
    const body = JSON.stringify({
      events: [
        {
          id: 'EVFORGED0001',
          resource_type: 'payments',
          action: 'confirmed',
          links: { payment: 'PM123' },
          created_at: new Date().toISOString(),
        },
      ],
    });
    expect((await post(body, signGoCardlessBody(body, 'not-the-endpoint-secret'))).status).toBe(498);
    expect((await post(body, '')).status).toBe(498);
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: 'gocardless:EVFORGED0001' } })).toBe(0);
  });

  it('mandate, payment confirmed once; a debit failing days later reverses it, reopens the debt and resumes reminders', async () => {
    const { s, page, path } = await verifiedDebtor(gw, { originalAmount: '120.00', currency: 'GBP' });
    expect(
      (
        await api(gw).put('/api/v1/creditors/acme/portal-settings', {
          verification: ['postcode'],
          paymentProvider: { default: 'stripe', byCurrency: { GBP: 'gocardless' } },
        })
      ).status,
    ).toBe(200);
    // A campaign the debt is enrolled in: it stops when paid, and must resume if the money comes back.
    const campaign = await gw.ctx.db.campaign.create({ data: { name: 'UK cadence', status: 'ACTIVE', audience: {} } });
    const enrolment = await gw.ctx.db.campaignEnrollment.create({
      data: {
        campaignId: campaign.id,
        debtId: s.debtId,
        debtorId: s.debtorId,
        status: 'ACTIVE',
        nextStepAt: new Date(Date.now() + 7 * 86_400_000),
      },
    });

    await page.get(path);
    await page.post(`${path}/actions/pay`, { debt: s.debtId, amount: '120.00' });
    expect(page.status).toBe(303);
    expect(page.location!.startsWith(`${sandbox().baseUrl}/flow/BRF`)).toBe(true);
    const flow = await fetch(page.location!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'account_holder_name=Test+Payer&account_number=55779911&branch_code=200000',
      redirect: 'manual',
    });
    expect(flow.status).toBe(303);
    expect(flow.headers.get('location')).toContain(`${path}?checkout=success`);
    const pp = await eventually(
      () =>
        gw.ctx.db.providerPayment.findFirst({
          where: { debtId: s.debtId, provider: 'gocardless', intentRef: { not: null } },
        }),
      15_000,
      'the payment taken against the new mandate',
    );
    const pm = sandbox().get('payments', pp.intentRef!)!;
    expect(pm).toMatchObject({ amount: 12000, currency: 'GBP', status: 'pending_submission' });
    expect(await paymentsOf(gw, s.debtId)).toHaveLength(0); // nothing is paid until the bank confirms

    sandbox().simulate(pp.intentRef!, 'submit');
    sandbox().simulate(pp.intentRef!, 'confirm');
    await eventually(
      async () => (await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).status === 'PAID',
      15_000,
      'paid once confirmed',
    );
    const [payment] = await paymentsOf(gw, s.debtId);
    expect(payment).toMatchObject({ externalRef: `gocardless:${pp.intentRef}`, source: 'gocardless', currency: 'GBP' });
    expect(payment!.amount.toFixed(2)).toBe('120.00');
    expect((await gw.ctx.db.campaignEnrollment.findUniqueOrThrow({ where: { id: enrolment.id } })).status).toBe(
      'STOPPED',
    );

    // GoCardless redelivers the confirmation batch: nothing new.
    const confirmed = sandbox().events.find(
      (e) => e.action === 'confirmed' && (e.links as { payment: string }).payment === pp.intentRef,
    )!;
    const again = JSON.stringify({ events: [confirmed], meta: { webhook_id: 'WB0000AGAIN' } });
    expect((await post(again, signGoCardlessBody(again, webhookSecret(gw.ctx, 'gocardless')!))).status).toBe(200);
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: `gocardless:${confirmed.id}` } })).toBe(1);
    expect(await paymentsOf(gw, s.debtId)).toHaveLength(1);

    // Days later the bank returns the debit (Bacs ARUDD).
    sandbox().simulate(pp.intentRef!, 'fail');
    await eventually(
      async () => (await gw.ctx.db.payment.findUniqueOrThrow({ where: { id: payment!.id } })).status === 'REFUNDED',
      15_000,
      'the payment reversed',
    );
    const debt = await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } });
    expect(debt.status).toBe('OPEN');
    expect(debt.balance.toFixed(2)).toBe('120.00');
    const resumed = await gw.ctx.db.campaignEnrollment.findUniqueOrThrow({ where: { id: enrolment.id } });
    expect(resumed.status).toBe('ACTIVE');
    expect(resumed.nextStepAt!.getTime()).toBeLessThanOrEqual(Date.now());
    expect(
      await gw.ctx.db.webhookDelivery.count({
        where: { event: 'payment.reversed', payload: { path: ['data', 'paymentId'], equals: payment!.id } },
      }),
    ).toBe(1);
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(
      await gw.ctx.db.conversationEvent.count({ where: { conversationId: conversation.id, type: 'payment.reversed' } }),
    ).toBe(1);
  });
});

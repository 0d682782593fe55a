// Stripe through the official SDK against the local sandbox: the sandbox's
// wire format (keys, idempotency, errors), the debtor paying on the hosted
// page (success, declined, 3-D Secure), webhooks verified with
// stripe.webhooks.constructEvent and applied exactly once, refunds and
// chargebacks reversing the payment and reopening the debt.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api } from '../support/api.js';
import { paymentProvider, webhookSecret } from '../../src/payments/providers.js';
import { signStripePayload } from '../../channels/stripe/sandbox.js';
import type { StripeProvider } from '../../channels/stripe/provider.js';
import { payOnCheckout, paymentsOf, stripeSandbox, verifiedDebtor } from './helpers.js';

describe('Stripe', () => {
  let gw: TestGateway;
  const stripe = () => paymentProvider(gw.ctx, 'stripe') as StripeProvider;

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
      events: ['payment.recorded', 'debt.paid', 'payment.reversed'],
    });
  });
  afterAll(async () => gw?.close());

  it('the sandbox speaks Stripe to the SDK: keys, idempotent creates, errors', async () => {
    const sb = stripeSandbox(gw);
    const wrong = new Stripe('sk_test_wrongwrongwrong', {
      host: '127.0.0.1',
      port: Number(new URL(sb.baseUrl).port),
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    await expect(wrong.customers.create({})).rejects.toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const params: Stripe.Checkout.SessionCreateParams = {
      mode: 'payment',
      success_url: 'http://x.test/ok',
      line_items: [
        { quantity: 1, price_data: { currency: 'usd', unit_amount: 1234, product_data: { name: 'INV-1' } } },
      ],
      metadata: { debtId: 'none' },
    };
    const a = await stripe().client.checkout.sessions.create(params, { idempotencyKey: 'k-1' });
    const b = await stripe().client.checkout.sessions.create(params, { idempotencyKey: 'k-1' });
    expect(b.id).toBe(a.id);
    expect(a).toMatchObject({
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      amount_total: 1234,
      currency: 'usd',
    });
    expect(a.id).toMatch(/^cs_test_/);
    await expect(
      stripe().client.checkout.sessions.create({ ...params, metadata: { debtId: 'other' } }, { idempotencyKey: 'k-1' }),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    await expect(stripe().client.paymentIntents.retrieve('pi_nope')).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      code: 'resource_missing',
    });
  });

  it('refuses webhooks that are unsigned, wrongly signed or stale, storing nothing', async () => {
    const body = JSON.stringify({
      id: 'evt_forged1',
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'pi_x', object: 'payment_intent', amount_received: 100, currency: 'usd', metadata: {} } },
    });
    const post = (headers: Record<string, string>) =>
      fetch(`${gw.url}/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    expect((await post({})).status).toBe(400);
    expect(
      (
        await post({
          'stripe-signature': signStripePayload(body, 'whsec_not_the_secret_at_all', Math.floor(Date.now() / 1000)),
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await post({
          'stripe-signature': signStripePayload(
            body,
            webhookSecret(gw.ctx, 'stripe')!,
            Math.floor(Date.now() / 1000) - 3600,
          ),
        })
      ).status,
    ).toBe(400);
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: 'stripe:evt_forged1' } })).toBe(0);
  });

  it('a debtor pays part of the balance by card: recorded once, balance updated, one thank-you, live in the thread', async () => {
    const { s, page, path } = await verifiedDebtor(gw, { originalAmount: '200.00' });
    await page.post(`${path}/actions/pay`, { debt: s.debtId, amount: '150.00' });
    expect(page.status).toBe(303);
    const checkout = page.location!;
    expect(checkout.startsWith(stripeSandbox(gw).baseUrl)).toBe(true);
    const paid = await payOnCheckout(checkout, '4242 4242 4242 4242');
    expect(paid.status).toBe(303);
    expect(paid.location).toContain(`${path}?checkout=success`);
    const [payment] = await eventually(
      async () => {
        const p = await paymentsOf(gw, s.debtId);
        return p.length ? p : null;
      },
      15_000,
      'the payment recorded from the webhook',
    );
    expect(payment).toMatchObject({ source: 'stripe', currency: 'USD' });
    expect(payment!.amount.toFixed(2)).toBe('150.00');
    expect(payment!.externalRef).toMatch(/^stripe:pi_/);
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).balance.toFixed(2)).toBe('50.00');
    const thanks = await eventually(
      () =>
        gw.ctx.db.message
          .findMany({ where: { debtorId: s.debtorId, intent: 'payment-received' } })
          .then((m) => (m.length ? m : null)),
      15_000,
      'the thank-you',
    );
    expect(thanks).toHaveLength(1);
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(
      await gw.ctx.db.conversationEvent.count({ where: { conversationId: conversation.id, type: 'payment.recorded' } }),
    ).toBe(1);
    expect(
      await gw.ctx.db.webhookDelivery.count({
        where: { event: 'payment.recorded', payload: { path: ['data', 'debt', 'id'], equals: s.debtId } },
      }),
    ).toBe(1);
    // The page shows it.
    await page.get(`${path}?checkout=success`);
    expect(page.html).toContain('$50.00');
    expect(page.html).toContain('Thank you. Your payment is being confirmed');
  });

  it('the same Stripe event delivered three times records one payment', async () => {
    const { s, page, path } = await verifiedDebtor(gw, { originalAmount: '80.00' });
    await page.post(`${path}/actions/pay`, { debt: s.debtId, amount: '30.00' });
    await payOnCheckout(page.location!, '4242424242424242');
    await eventually(async () => (await paymentsOf(gw, s.debtId)).length === 1, 15_000, 'first delivery applied');
    await eventually(
      async () =>
        (await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, intent: 'payment-received' } })) === 1,
      15_000,
      'its thank-you',
    );
    const event = stripeSandbox(gw)
      .eventLog()
      .find(
        (e) =>
          e.type === 'payment_intent.succeeded' &&
          (e.data as { object: { metadata: { debtId: string } } }).object.metadata.debtId === s.debtId,
      )!;
    // Stripe redelivers (the same bytes, a new signature each time), twice more.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${stripeSandbox(gw).baseUrl}/sandbox/events/${event.id}/resend`, { method: 'POST' });
      expect(await r.json()).toMatchObject({ delivered: true, status: 200 });
    }
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: `stripe:${event.id}` } })).toBe(1);
    expect(await paymentsOf(gw, s.debtId)).toHaveLength(1);
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).balance.toFixed(2)).toBe('50.00');
    expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, intent: 'payment-received' } })).toBe(1);
  });

  it('a declined card records nothing; 3-D Secure completes the payment after authentication', async () => {
    const { s, page, path } = await verifiedDebtor(gw, { originalAmount: '90.00' });
    await page.post(`${path}/actions/pay`, { debt: s.debtId, amount: '90.00' });
    const checkout = page.location!;
    const declined = await payOnCheckout(checkout, '4000 0000 0000 0002');
    expect(declined.status).toBe(200);
    expect(declined.html).toContain('Your card was declined.');
    await eventually(
      () => gw.ctx.db.providerPayment.findFirst({ where: { debtId: s.debtId, status: 'failed' } }),
      15_000,
      'the failure recorded',
    );
    expect(await paymentsOf(gw, s.debtId)).toHaveLength(0);
    const challenge = await payOnCheckout(checkout, '4000 0027 6000 3184');
    expect(challenge.location).toMatch(/\/authenticate$/);
    const done = await fetch(`${stripeSandbox(gw).baseUrl}${challenge.location}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'result=complete',
      redirect: 'manual',
    });
    expect(done.status).toBe(303);
    await eventually(async () => (await paymentsOf(gw, s.debtId)).length === 1, 15_000, 'payment after 3-D Secure');
    const debt = await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } });
    expect(debt.status).toBe('PAID');
  });

  it('paid in full cancels pending reminders at once; a refund restores the balance and reopens the debt; a chargeback flags it', async () => {
    const { s, page, path } = await verifiedDebtor(gw, { originalAmount: '120.00' });
    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const queued = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'SMS',
      notBefore: later,
    });
    expect(queued.body.outcome).toBe('defer');
    await page.post(`${path}/actions/pay`, { debt: s.debtId, amount: '120.00' });
    await payOnCheckout(page.location!, '4242424242424242');
    await eventually(
      async () => (await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).status === 'PAID',
      15_000,
      'paid in full',
    );
    // Withdrawn by the same processing that recorded the payment, right after its commit.
    await eventually(
      async () =>
        (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: queued.body.messageId } })).status === 'CANCELLED',
      5_000,
      'the reminder cancelled',
    );
    const hooks = await eventually(
      async () => {
        const rows = await gw.ctx.db.webhookDelivery.findMany({
          where: { payload: { path: ['data', 'debt', 'id'], equals: s.debtId } },
        });
        return rows.length >= 2 ? rows : null;
      },
      5_000,
      'the payment webhooks',
    );
    expect(hooks.map((h) => h.event).sort()).toEqual(['debt.paid', 'payment.recorded']);

    const [payment] = await paymentsOf(gw, s.debtId);
    const pi = payment!.externalRef!.replace('stripe:', '');
    await stripe().refund(pi, `refund:${pi}`);
    await eventually(
      async () => (await gw.ctx.db.payment.findUniqueOrThrow({ where: { id: payment!.id } })).status === 'REFUNDED',
      15_000,
      'refund applied',
    );
    const reopened = await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } });
    expect(reopened.balance.toFixed(2)).toBe('120.00');
    expect(reopened.status).toBe('OPEN');
    expect(
      await gw.ctx.db.webhookDelivery.count({
        where: { event: 'payment.reversed', payload: { path: ['data', 'paymentId'], equals: payment!.id } },
      }),
    ).toBe(1);

    // A second payment, then the card holder's bank disputes it.
    await page.get(path);
    await page.post(`${path}/actions/pay`, { debt: s.debtId, amount: '20.00' });
    await payOnCheckout(page.location!, '4242424242424242');
    const second = await eventually(
      async () => (await paymentsOf(gw, s.debtId)).find((p) => p.status === 'SUCCEEDED'),
      15_000,
      'second payment',
    );
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).balance.toFixed(2)).toBe('100.00');
    await fetch(
      `${stripeSandbox(gw).baseUrl}/sandbox/payment_intents/${second.externalRef!.replace('stripe:', '')}/dispute`,
      { method: 'POST' },
    );
    await eventually(
      async () => (await gw.ctx.db.payment.findUniqueOrThrow({ where: { id: second.id } })).status === 'DISPUTED',
      15_000,
      'chargeback applied',
    );
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).balance.toFixed(2)).toBe('120.00');
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(conversation.flags).toContain('NEEDS_REVIEW');
  });
});

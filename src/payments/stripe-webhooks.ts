// Stripe's webhooks: verified with the SDK's own stripe.webhooks.constructEvent
// (Stripe-Signature t=…,v1=… over the raw body, 300 s tolerance), stored raw
// in inbound_events under the event's id before the 2xx (a redelivered event
// is the same row, applied once), then applied:
// - payment_intent.succeeded → the payment recorded on its debt (idempotent on
//   the PaymentIntent too: externalRef stripe:<pi>), one thank-you message;
// - payment_intent.payment_failed → the attempt marked failed (a plan's
//   instalment goes to its retry schedule);
// - checkout.session.completed / setup_intent.succeeded → the checkout linked
//   to its PaymentIntent; a saved card starts its plan;
// - charge.refunded / charge.dispute.created → the payment reversed or
//   flagged and the debt reopened (reversals.ts).
import type { Express, Request, Response } from 'express';
import type Stripe from 'stripe';
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { minorDigits } from '../domain/debtors.js';
import { headersForStorage, registerProcessor, type ProcessResult } from '../inbound/events-store.js';
import { intake } from '../inbound/intake.js';
import { fromMinorUnits } from '../../channels/payments.js';
import type { StripeProvider } from '../../channels/stripe/provider.js';
import { paymentProvider, webhookSecret } from './providers.js';
import { recordPayment } from './service.js';
import { reversePayment } from './reversals.js';
import { sendThankYou } from './thanks.js';
import { onInstalmentFailed, onInstalmentPaid, onPaymentMethodSaved } from './plans.js';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

export function registerStripeWebhooks(app: Express, ctx: AppContext): void {
  registerProcessor('stripe', 'event', processStripeEvent);
  app.post(STRIPE_WEBHOOK_PATH, async (req: Request, res: Response) => {
    const provider = paymentProvider(ctx, 'stripe') as StripeProvider | null;
    const secret = webhookSecret(ctx, 'stripe');
    const header = req.headers['stripe-signature'];
    if (!provider || !secret)
      return void res.status(404).json({ error: 'not_found', message: 'Stripe is not configured' });
    if (!req.rawBody || typeof header !== 'string')
      return void res.status(400).json({
        error: 'invalid_signature',
        message: 'a signed JSON body (Stripe-Signature) is required',
        details: [{ field: 'stripe-signature', reason: 'is required' }],
      });
    let event: Stripe.Event;
    try {
      event = provider.client.webhooks.constructEvent(req.rawBody, header, secret);
    } catch (err) {
      ctx.log.warn({ reason: (err as Error).message }, 'Stripe webhook refused');
      return void res.status(400).json({
        error: 'invalid_signature',
        message: 'the Stripe-Signature does not match this body',
        details: [{ field: 'stripe-signature', reason: 'does not verify' }],
      });
    }
    if (typeof event.id !== 'string' || !/^evt_[A-Za-z0-9]{1,250}$/.test(event.id))
      return void res.status(400).json({
        error: 'invalid_request',
        message: 'not a Stripe event',
        details: [{ field: 'id', reason: 'must be an evt_ id' }],
      });
    await intake(ctx, {
      provider: 'stripe',
      kind: 'event',
      dedupeKey: `stripe:${event.id}`,
      headers: headersForStorage(req.headers),
      body: req.rawBody,
    });
    res.status(200).json({ received: true });
  });
}

type Meta = Record<string, string> | null | undefined;

async function processStripeEvent(ctx: AppContext, row: InboundEvent): Promise<ProcessResult | void> {
  const event = JSON.parse(Buffer.from(row.body).toString('utf8')) as Stripe.Event;
  switch (event.type) {
    case 'payment_intent.succeeded':
      return applySucceeded(ctx, event.data.object, new Date(event.created * 1000));
    case 'payment_intent.payment_failed': {
      const pi = event.data.object;
      const meta = pi.metadata as Meta;
      const ref = meta?.providerPaymentId;
      const error = pi.last_payment_error
        ? `${pi.last_payment_error.code ?? pi.last_payment_error.type}: ${pi.last_payment_error.message ?? ''}`
        : 'failed';
      if (ref)
        await ctx.db.providerPayment.updateMany({
          where: { id: ref, status: { not: 'succeeded' } },
          data: { status: 'failed', intentRef: pi.id, lastError: error.slice(0, 500) },
        });
      if (meta?.promiseId)
        await onInstalmentFailed(
          ctx,
          { promiseId: meta.promiseId, intentRef: pi.id, error, fromWebhook: true },
          new Date(event.created * 1000),
        );
      return ref || meta?.promiseId ? undefined : { ignored: 'not a payment the gateway started' };
    }
    case 'checkout.session.completed': {
      const s = event.data.object;
      const intent = typeof s.payment_intent === 'string' ? s.payment_intent : (s.payment_intent?.id ?? null);
      const r = await ctx.db.providerPayment.updateMany({
        where: { providerRef: s.id, intentRef: null },
        data: intent ? { intentRef: intent } : { status: s.mode === 'setup' ? 'succeeded' : 'open' },
      });
      return r.count ? undefined : { ignored: "checkout already linked, or not the gateway's" };
    }
    case 'setup_intent.succeeded': {
      const si = event.data.object;
      const meta = si.metadata as Meta;
      if (!meta?.providerPaymentId || typeof si.payment_method !== 'string' || typeof si.customer !== 'string')
        return { ignored: 'not a setup the gateway started' };
      await onPaymentMethodSaved(ctx, {
        providerPaymentId: meta.providerPaymentId,
        customerRef: si.customer,
        paymentMethodRef: si.payment_method,
        provider: 'stripe',
      });
      return;
    }
    case 'charge.refunded': {
      const charge = event.data.object;
      const pi = typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      if (!pi) return { ignored: 'refund of a charge without a PaymentIntent' };
      const total = new Prisma.Decimal(
        fromMinorUnits(charge.amount_refunded, minorDigits(charge.currency.toUpperCase())),
      );
      const r = await reversePayment(ctx, {
        paymentRef: `stripe:${pi}`,
        kind: 'refund',
        totalReversed: total,
        reason: charge.refunds?.data?.[0]?.reason ?? 'refunded',
        source: 'stripe',
      });
      return r.applied ? undefined : { ignored: 'no such payment, or already reversed' };
    }
    case 'charge.dispute.created': {
      const dispute = event.data.object;
      const pi = typeof dispute.payment_intent === 'string' ? dispute.payment_intent : dispute.payment_intent?.id;
      if (!pi) return { ignored: 'dispute without a PaymentIntent' };
      const r = await reversePayment(ctx, {
        paymentRef: `stripe:${pi}`,
        kind: 'chargeback',
        totalReversed: null,
        reason: dispute.reason,
        source: 'stripe',
      });
      return r.applied ? undefined : { ignored: 'no such payment, or already flagged' };
    }
    default:
      return { ignored: `event type ${event.type} is not used` };
  }
}

async function applySucceeded(ctx: AppContext, pi: Stripe.PaymentIntent, paidAt: Date): Promise<ProcessResult | void> {
  const meta = pi.metadata as Meta;
  const debtId = meta?.debtId;
  if (!debtId || !/^[0-9a-f-]{36}$/i.test(debtId))
    return { ignored: 'a PaymentIntent the gateway did not start (no debtId in its metadata)' };
  const debt = await ctx.db.debt.findUnique({ where: { id: debtId }, select: { id: true, debtorId: true } });
  if (!debt) return { ignored: `no debt ${debtId}` };
  const currency = pi.currency.toUpperCase();
  const amount = fromMinorUnits(pi.amount_received, minorDigits(currency));
  const r = await recordPayment(
    ctx,
    { debtId, amount, currency, paidAt, externalRef: `stripe:${pi.id}`, source: 'stripe' },
    { type: 'provider', id: 'stripe' },
  );
  if (meta?.providerPaymentId)
    await ctx.db.providerPayment.updateMany({
      where: { id: meta.providerPaymentId },
      data: { status: 'succeeded', intentRef: pi.id, lastError: null },
    });
  if (r.duplicate) return;
  if (meta?.promiseId) await onInstalmentPaid(ctx, { promiseId: meta.promiseId, paymentId: r.payment.id });
  await sendThankYou(ctx, {
    debtorId: debt.debtorId,
    debtId,
    paymentId: r.payment.id,
    amount: r.payment.amount,
    currency,
    paidAt,
  });
}

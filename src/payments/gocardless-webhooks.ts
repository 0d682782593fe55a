// GoCardless's webhooks: a batch {"events": [...]} verified with the SDK's own
// webhooks.parse (Webhook-Signature, hex HMAC-SHA256 of the raw body; a bad
// signature is answered 498 as GoCardless expects), each event stored raw
// under its id before the 2xx, then applied once:
// - billing_requests fulfilled → the mandate exists: a plan's card-equivalent
//   is saved (the plan starts), or a one-off payment is taken against it;
// - payments confirmed → the payment recorded on its debt (externalRef
//   gocardless:<PM>), one thank-you, an instalment's promise kept;
// - payments failed / charged_back → before confirmation: the attempt failed
//   (an instalment goes to its retry); after it, the payment reversed and the
//   debt reopened (reversals.ts), however many days later.
// The resource's metadata comes with the event (resource_metadata); amounts
// and ids are read back from the API with the SDK.
import type { Express, Request, Response } from 'express';
import { parse } from 'gocardless-nodejs';
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import { minorDigits } from '../domain/debtors.js';
import { headersForStorage, registerProcessor, type ProcessResult } from '../inbound/events-store.js';
import { intake } from '../inbound/intake.js';
import { fromMinorUnits, toMinorUnits } from '../../channels/payments.js';
import type { GoCardlessProvider } from '../../channels/gocardless/provider.js';
import { gcMetadata } from '../../channels/gocardless/provider.js';
import { paymentProvider, webhookSecret } from './providers.js';
import { recordPayment } from './service.js';
import { reversePayment } from './reversals.js';
import { sendThankYou } from './thanks.js';
import { onInstalmentFailed, onInstalmentPaid, onPaymentMethodSaved } from './plans.js';

export const GOCARDLESS_WEBHOOK_PATH = '/webhooks/gocardless';

interface GcEvent {
  id: string;
  resource_type: string;
  action: string;
  created_at: string;
  links: Record<string, string>;
  details?: { cause?: string; description?: string };
  resource_metadata?: Record<string, string>;
}

export function registerGoCardlessWebhooks(app: Express, ctx: AppContext): void {
  registerProcessor('gocardless', 'event', processGoCardlessEvent);
  app.post(GOCARDLESS_WEBHOOK_PATH, async (req: Request, res: Response) => {
    const secret = webhookSecret(ctx, 'gocardless');
    if (!secret || !paymentProvider(ctx, 'gocardless'))
      return void res.status(404).json({ error: 'not_found', message: 'GoCardless is not configured' });
    const header = req.headers['webhook-signature'];
    if (!req.rawBody || typeof header !== 'string')
      return void res.status(498).json({
        error: 'invalid_signature',
        message: 'a signed JSON body (Webhook-Signature) is required',
        details: [{ field: 'webhook-signature', reason: 'is required' }],
      });
    let events: GcEvent[];
    try {
      events = parse(req.rawBody, secret, header) as unknown as GcEvent[];
    } catch {
      return void res.status(498).json({
        error: 'invalid_signature',
        message: 'the Webhook-Signature does not match this body',
        details: [{ field: 'webhook-signature', reason: 'does not verify' }],
      });
    }
    if (
      !Array.isArray(events) ||
      events.length > 250 ||
      events.some((e) => typeof e?.id !== 'string' || !/^EV[0-9A-Z]{1,40}$/.test(e.id))
    ) {
      return void res.status(400).json({
        error: 'invalid_request',
        message: 'not a GoCardless event batch',
        details: [{ field: 'events', reason: 'must be up to 250 events with EV ids' }],
      });
    }
    // Each event is stored on its own (its id is the dedupe key): a redelivered batch stores nothing twice.
    for (const e of events)
      await intake(ctx, {
        provider: 'gocardless',
        kind: 'event',
        dedupeKey: `gocardless:${e.id}`,
        headers: headersForStorage(req.headers),
        body: Buffer.from(JSON.stringify(e)),
      });
    res.status(200).json({ received: events.length });
  });
}

async function processGoCardlessEvent(ctx: AppContext, row: InboundEvent): Promise<ProcessResult | void> {
  const e = JSON.parse(Buffer.from(row.body).toString('utf8')) as GcEvent;
  const gc = paymentProvider(ctx, 'gocardless') as GoCardlessProvider | null;
  if (!gc) return { ignored: 'GoCardless is not configured' };
  const meta = e.resource_metadata ?? {};
  if (e.resource_type === 'billing_requests' && e.action === 'fulfilled') {
    const br = await gc.client.billingRequests.find(e.links.billing_request!);
    const mandate = br.links?.mandate_request_mandate;
    const customer = br.links?.customer;
    const ppId = (br.metadata as Record<string, string> | undefined)?.providerPaymentId ?? meta.providerPaymentId;
    if (!mandate || !customer || !ppId) return { ignored: "billing request without a mandate or not the gateway's" };
    const pp = await ctx.db.providerPayment.findUnique({ where: { id: ppId } });
    if (!pp) return { ignored: `no checkout ${ppId}` };
    if (pp.kind === 'setup') {
      await onPaymentMethodSaved(ctx, {
        providerPaymentId: pp.id,
        customerRef: customer,
        paymentMethodRef: mandate,
        provider: 'gocardless',
      });
      return;
    }
    if (pp.intentRef || !pp.amount) return { ignored: 'payment already taken against this mandate' };
    const digits = minorDigits(pp.currency);
    const payment = await gc.client.payments.create(
      {
        amount: toMinorUnits(pp.amount.toFixed(digits), digits),
        currency: pp.currency,
        links: { mandate },
        metadata: gcMetadata({ providerPaymentId: pp.id, debtId: pp.debtId, debtorId: pp.debtorId }),
      } as never,
      `gc-payment:${pp.id}`,
    );
    await ctx.db.providerPayment.update({
      where: { id: pp.id },
      data: { intentRef: payment.id!, status: 'processing' },
    });
    return;
  }
  if (e.resource_type !== 'payments') return { ignored: `${e.resource_type}.${e.action} is not used` };
  const paymentRef = e.links.payment!;
  if (e.action === 'confirmed') {
    const p = await gc.client.payments.find(paymentRef);
    const m = (p.metadata ?? meta) as Record<string, string>;
    let debtId = m.debtId;
    if (!debtId && m.providerPaymentId)
      debtId = (await ctx.db.providerPayment.findUnique({ where: { id: m.providerPaymentId } }))?.debtId;
    if (!debtId && m.promiseId) debtId = (await ctx.db.promiseToPay.findUnique({ where: { id: m.promiseId } }))?.debtId;
    const debt = debtId
      ? await ctx.db.debt.findUnique({ where: { id: debtId }, select: { id: true, debtorId: true } })
      : null;
    if (!debt) return { ignored: 'a payment the gateway did not take' };
    const currency = String(p.currency);
    const amount = fromMinorUnits(Number(p.amount), minorDigits(currency));
    const paidAt = new Date(e.created_at);
    const r = await recordPayment(
      ctx,
      { debtId: debt.id, amount, currency, paidAt, externalRef: `gocardless:${paymentRef}`, source: 'gocardless' },
      { type: 'provider', id: 'gocardless' },
    );
    if (m.providerPaymentId)
      await ctx.db.providerPayment.updateMany({ where: { id: m.providerPaymentId }, data: { status: 'succeeded' } });
    if (r.duplicate) return;
    if (m.promiseId) await onInstalmentPaid(ctx, { promiseId: m.promiseId, paymentId: r.payment.id });
    await sendThankYou(ctx, {
      debtorId: debt.debtorId,
      debtId: debt.id,
      paymentId: r.payment.id,
      amount: r.payment.amount,
      currency,
      paidAt,
    });
    return;
  }
  if (e.action === 'failed' || e.action === 'charged_back' || e.action === 'late_failure_settled') {
    const recorded = await ctx.db.payment.findUnique({ where: { externalRef: `gocardless:${paymentRef}` } });
    if (recorded) {
      const r = await reversePayment(ctx, {
        paymentRef: `gocardless:${paymentRef}`,
        kind: e.action === 'charged_back' ? 'chargeback' : 'failed_debit',
        totalReversed: null,
        reason: e.details?.cause ?? e.action,
        source: 'gocardless',
      });
      return r.applied ? undefined : { ignored: 'already reversed' };
    }
    // Failed before it was ever confirmed: nothing was recorded; the attempt (or the instalment) failed.
    if (meta.providerPaymentId)
      await ctx.db.providerPayment.updateMany({
        where: { id: meta.providerPaymentId },
        data: {
          status: 'failed',
          lastError: `${e.details?.cause ?? 'failed'}: ${e.details?.description ?? ''}`.slice(0, 500),
        },
      });
    if (meta.promiseId)
      await onInstalmentFailed(
        ctx,
        {
          promiseId: meta.promiseId,
          intentRef: paymentRef,
          error: `${e.details?.cause ?? 'failed'}: ${e.details?.description ?? ''}`,
          fromWebhook: true,
        },
        new Date(e.created_at),
      );
    return;
  }
  return { ignored: `payments.${e.action} needs nothing` };
}

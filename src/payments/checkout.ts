// Starting a payment from the debtor's page: the creditor's provider for the
// debt's currency opens a hosted checkout (pay now, or save a card / mandate
// for a plan); the row in provider_payments says what it is for, so the
// provider's webhook can be applied to the right debt exactly once.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import { minorDigits } from '../domain/debtors.js';
import { toMinorUnits, type PaymentProvider } from '../../channels/payments.js';
import { portalSettingsOf, providerFor } from '../portal/settings.js';
import { paymentProvider } from './providers.js';

export interface CheckoutDebt {
  id: string;
  debtorId: string;
  externalRef: string;
  currency: string;
  creditor: { name: string; portalSettings: Prisma.JsonValue };
}

export function providerForDebt(ctx: AppContext, debt: CheckoutDebt): PaymentProvider | null {
  return paymentProvider(ctx, providerFor(portalSettingsOf(debt.creditor.portalSettings), debt.currency));
}

export async function startCheckout(
  ctx: AppContext,
  debt: CheckoutDebt,
  opts: {
    kind: 'payment' | 'setup';
    amount?: Prisma.Decimal;
    returnUrl: string;
    locale: string;
    promiseId?: string;
    planId?: string;
    customerEmail?: string;
  },
): Promise<{ url: string; providerPaymentId: string } | null> {
  const provider = providerForDebt(ctx, debt);
  if (!provider) return null;
  const id = randomUUID();
  const digits = minorDigits(debt.currency);
  const started = await provider.startCheckout({
    kind: opts.kind,
    ...(opts.amount ? { amountMinor: toMinorUnits(opts.amount.toFixed(digits), digits) } : {}),
    currency: debt.currency,
    description: `${debt.creditor.name} ${debt.externalRef}`,
    successUrl: `${opts.returnUrl}?checkout=success&ref=${id}`,
    cancelUrl: `${opts.returnUrl}?checkout=cancel&ref=${id}`,
    idempotencyKey: `checkout:${id}`,
    metadata: {
      providerPaymentId: id,
      debtId: debt.id,
      debtorId: debt.debtorId,
      ...(opts.planId ? { planId: opts.planId } : {}),
    },
    locale: opts.locale,
    ...(opts.customerEmail ? { customerEmail: opts.customerEmail } : {}),
  });
  await ctx.db.providerPayment.create({
    data: {
      id,
      provider: provider.name,
      providerRef: started.providerRef,
      kind: opts.kind,
      debtId: debt.id,
      debtorId: debt.debtorId,
      amount: opts.amount ?? null,
      currency: debt.currency,
      status: 'open',
      promiseId: opts.promiseId ?? null,
    },
  });
  return { url: started.url, providerPaymentId: id };
}

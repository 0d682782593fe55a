// The one interface every payment provider (channels/stripe, channels/gocardless)
// sits behind. The gateway asks a provider to start a hosted checkout (the
// debtor pays, or saves a card / bank mandate for a plan), to charge a saved
// method off-session (an instalment), and to refund. What happened comes back
// by the provider's signed webhooks, which the provider's module verifies with
// its own SDK (src/payments/<provider>-webhooks.ts); amounts are in the
// currency's minor units, as providers take them.

export type PaymentProviderName = 'stripe' | 'gocardless';

export interface CheckoutRequest {
  /** payment: take `amountMinor` now; setup: save a payment method (card, mandate) for later charges. */
  kind: 'payment' | 'setup';
  amountMinor?: number;
  /** ISO 4217, upper case. */
  currency: string;
  description: string;
  /** Where the debtor's browser comes back to. */
  successUrl: string;
  cancelUrl: string;
  /** Sent as the provider's Idempotency-Key: a retried start creates one checkout. */
  idempotencyKey: string;
  /** Echoed back on the provider's objects and webhooks (debtId, debtorId, providerPaymentId). */
  metadata: Record<string, string>;
  customerEmail?: string;
  /** The page language (e.g. "es"). */
  locale?: string;
}

export interface CheckoutStarted {
  /** The provider's id of the checkout (cs_…, BRQ…). */
  providerRef: string;
  /** The hosted page the debtor's browser is sent to. */
  url: string;
}

export interface OffSessionCharge {
  customerRef: string;
  paymentMethodRef: string;
  amountMinor: number;
  currency: string;
  description: string;
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export interface ChargeResult {
  /** The provider's payment id (pi_…, PM…). */
  ref: string;
  /** succeeded: money taken; processing: a bank debit on its way (a webhook settles it); failed: not taken (see error). */
  status: 'succeeded' | 'processing' | 'failed';
  error?: { code: string; message: string };
}

export interface PaymentProvider {
  readonly name: PaymentProviderName;
  readonly mode: 'live' | 'sandbox';
  /** Origins of the hosted pages the debtor is sent to (the debtor page's form-action allows them). */
  readonly checkoutOrigins: readonly string[];
  startCheckout(req: CheckoutRequest): Promise<CheckoutStarted>;
  chargeSaved(req: OffSessionCharge): Promise<ChargeResult>;
  refund(paymentRef: string, idempotencyKey: string): Promise<{ ref: string }>;
}

/** A provider refused or could not be reached; `transient` faults are worth retrying. */
export class PaymentProviderError extends Error {
  constructor(
    message: string,
    readonly provider: PaymentProviderName,
    readonly code: string,
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'PaymentProviderError';
  }
}

/** Minor units of an amount ("12.34" USD → 1234; "1234" JPY → 1234). */
export function toMinorUnits(amount: string, digits: number): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new Error(`not a decimal amount: ${amount}`);
  const frac = (m[2] ?? '').padEnd(digits, '0');
  if (frac.length > digits && /[1-9]/.test(frac.slice(digits)))
    throw new Error(`${amount} has more than ${digits} decimals`);
  return Number(m[1]) * 10 ** digits + Number(frac.slice(0, digits) || '0');
}

export function fromMinorUnits(minor: number, digits: number): string {
  const s = String(Math.abs(Math.trunc(minor))).padStart(digits + 1, '0');
  return `${minor < 0 ? '-' : ''}${digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s}`;
}

// GoCardless behind the PaymentProvider interface, through the official SDK
// (gocardless-nodejs): a Billing Request with a mandate request and its
// hosted flow for the debtor to authorise a direct debit; payments against
// the mandate (a one-off payment once the mandate exists, or a plan's
// instalment); refunds. Bank debits settle days later, so a charge answers
// `processing` and the webhook tells the outcome. Every create carries an
// Idempotency-Key. GoCardless allows 3 metadata keys: the gateway's ids are
// chosen in order of use. The SDK has no base-URL option; for the sandbox its
// request base is set on its API object (the one place it is read).
import gocardless, { Environments, type GoCardlessClient } from 'gocardless-nodejs';
import {
  PaymentProviderError,
  type ChargeResult,
  type CheckoutRequest,
  type CheckoutStarted,
  type OffSessionCharge,
  type PaymentProvider,
} from '../payments.js';

export interface GoCardlessProviderOptions {
  accessToken: string;
  mode: 'live' | 'sandbox';
  environment: 'live' | 'sandbox';
  /** The local sandbox's base URL, when mode is sandbox. */
  baseUrl?: string;
}

const METADATA_ORDER = ['providerPaymentId', 'promiseId', 'debtId', 'debtorId', 'planId'];
export function gcMetadata(meta: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    METADATA_ORDER.filter((k) => meta[k])
      .slice(0, 3)
      .map((k) => [k, meta[k]!]),
  );
}

const SCHEMES: Record<string, string> = {
  GBP: 'bacs',
  EUR: 'sepa_core',
  USD: 'ach',
  SEK: 'autogiro',
  DKK: 'betalingsservice',
  AUD: 'becs',
  NZD: 'becs_nz',
  CAD: 'pad',
};

export class GoCardlessProvider implements PaymentProvider {
  readonly name = 'gocardless' as const;
  readonly mode: 'live' | 'sandbox';
  readonly checkoutOrigins: readonly string[];
  readonly client: GoCardlessClient;

  constructor(options: GoCardlessProviderOptions) {
    this.mode = options.mode;
    this.client = gocardless(
      options.accessToken,
      options.environment === 'live' ? Environments.Live : Environments.Sandbox,
      { raiseOnIdempotencyConflict: false },
    );
    if (options.baseUrl) {
      (this.client as unknown as { _api: { _baseUrl: string } })._api._baseUrl = options.baseUrl;
      this.checkoutOrigins = [new URL(options.baseUrl).origin];
    } else {
      this.checkoutOrigins = [
        options.environment === 'live' ? 'https://pay.gocardless.com' : 'https://pay-sandbox.gocardless.com',
      ];
    }
  }

  private fault(err: unknown): PaymentProviderError {
    const e = err as { message?: string; code?: number; errorType?: string; errors?: { reason?: string }[] };
    const transient = !e.code || e.code >= 500 || e.code === 429;
    return new PaymentProviderError(
      e.message ?? String(err),
      'gocardless',
      e.errors?.[0]?.reason ?? e.errorType ?? 'unknown',
      transient,
    );
  }

  async startCheckout(req: CheckoutRequest): Promise<CheckoutStarted> {
    const scheme = SCHEMES[req.currency];
    if (!scheme)
      throw new PaymentProviderError(
        `GoCardless has no direct debit scheme for ${req.currency}`,
        'gocardless',
        'unsupported_currency',
        false,
      );
    try {
      // Bank debit needs the mandate first; a one-off payment is taken against it once it exists (webhook).
      const br = await this.client.billingRequests.create(
        { mandate_request: { currency: req.currency, scheme }, metadata: gcMetadata(req.metadata) } as never,
        req.idempotencyKey,
      );
      const flow = await this.client.billingRequestFlows.create(
        {
          redirect_uri: req.successUrl,
          exit_uri: req.cancelUrl,
          links: { billing_request: br.id! },
          ...(req.locale ? { language: req.locale.slice(0, 2) } : {}),
        } as never,
        `${req.idempotencyKey}:flow`,
      );
      return { providerRef: br.id!, url: flow.authorisation_url! };
    } catch (err) {
      throw this.fault(err);
    }
  }

  async chargeSaved(req: OffSessionCharge): Promise<ChargeResult> {
    try {
      const p = await this.client.payments.create(
        {
          amount: req.amountMinor,
          currency: req.currency,
          description: req.description.slice(0, 140),
          links: { mandate: req.paymentMethodRef },
          metadata: gcMetadata(req.metadata),
        } as never,
        req.idempotencyKey,
      );
      return { ref: p.id!, status: p.status === 'failed' || p.status === 'cancelled' ? 'failed' : 'processing' };
    } catch (err) {
      const f = this.fault(err);
      if (!f.transient) return { ref: '', status: 'failed', error: { code: f.code, message: f.message } };
      throw f;
    }
  }

  async refund(paymentRef: string, idempotencyKey: string): Promise<{ ref: string }> {
    try {
      const p = await this.client.payments.find(paymentRef);
      const left = Number(p.amount) - Number(p.amount_refunded ?? 0);
      const r = await this.client.refunds.create(
        { amount: left, total_amount_confirmation: Number(p.amount), links: { payment: paymentRef } } as never,
        idempotencyKey,
      );
      return { ref: r.id! };
    } catch (err) {
      throw this.fault(err);
    }
  }
}

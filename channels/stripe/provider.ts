// Stripe behind the PaymentProvider interface, through the official SDK:
// Checkout Sessions for the debtor's payment (mode payment) and for saving a
// card for a plan (mode setup, with a Customer), off-session PaymentIntents
// for instalments, Refunds. Every create carries an Idempotency-Key. The SDK
// is pointed at the local sandbox by host/port/protocol when there is no live key.
import Stripe from 'stripe';
import {
  PaymentProviderError,
  type ChargeResult,
  type CheckoutRequest,
  type CheckoutStarted,
  type OffSessionCharge,
  type PaymentProvider,
} from '../payments.js';

export interface StripeProviderOptions {
  secretKey: string;
  mode: 'live' | 'sandbox';
  /** Sandbox: where it listens (http://127.0.0.1:PORT). */
  baseUrl?: string;
}

const LOCALES = new Set(['en', 'es', 'fr', 'de', 'it', 'nl', 'pt', 'ja']);

export class StripeProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  readonly mode: 'live' | 'sandbox';
  readonly checkoutOrigins: readonly string[];
  readonly client: Stripe;

  constructor(options: StripeProviderOptions) {
    this.mode = options.mode;
    if (options.baseUrl) {
      const u = new URL(options.baseUrl);
      this.client = new Stripe(options.secretKey, {
        host: u.hostname,
        port: Number(u.port),
        protocol: u.protocol.replace(':', '') as 'http' | 'https',
        maxNetworkRetries: 2,
        telemetry: false,
      });
      this.checkoutOrigins = [u.origin];
    } else {
      this.client = new Stripe(options.secretKey, { maxNetworkRetries: 2 });
      this.checkoutOrigins = ['https://checkout.stripe.com'];
    }
  }

  private fault(err: unknown): PaymentProviderError {
    if (err instanceof Stripe.errors.StripeError) {
      const transient =
        err instanceof Stripe.errors.StripeConnectionError ||
        err instanceof Stripe.errors.StripeAPIError ||
        err instanceof Stripe.errors.StripeRateLimitError;
      return new PaymentProviderError(err.message, 'stripe', err.code ?? err.type, transient);
    }
    return new PaymentProviderError((err as Error).message ?? String(err), 'stripe', 'unknown', true);
  }

  async startCheckout(req: CheckoutRequest): Promise<CheckoutStarted> {
    const currency = req.currency.toLowerCase();
    const locale =
      req.locale && LOCALES.has(req.locale.slice(0, 2))
        ? (req.locale.slice(0, 2) as Stripe.Checkout.SessionCreateParams.Locale)
        : 'auto';
    try {
      let session: Stripe.Checkout.Session;
      if (req.kind === 'payment') {
        if (!req.amountMinor)
          throw new PaymentProviderError('a payment needs an amount', 'stripe', 'amount_missing', false);
        session = await this.client.checkout.sessions.create(
          {
            mode: 'payment',
            line_items: [
              {
                quantity: 1,
                price_data: { currency, unit_amount: req.amountMinor, product_data: { name: req.description } },
              },
            ],
            success_url: req.successUrl,
            cancel_url: req.cancelUrl,
            metadata: req.metadata,
            payment_intent_data: { metadata: req.metadata, description: req.description },
            locale,
            ...(req.customerEmail ? { customer_email: req.customerEmail } : {}),
          },
          { idempotencyKey: req.idempotencyKey },
        );
      } else {
        // A saved card needs a Customer to belong to, for later off-session charges.
        const customer = await this.client.customers.create(
          {
            metadata: { debtorId: req.metadata.debtorId ?? '' },
            ...(req.customerEmail ? { email: req.customerEmail } : {}),
          },
          { idempotencyKey: `${req.idempotencyKey}:customer` },
        );
        session = await this.client.checkout.sessions.create(
          {
            mode: 'setup',
            currency,
            customer: customer.id,
            success_url: req.successUrl,
            cancel_url: req.cancelUrl,
            metadata: req.metadata,
            setup_intent_data: { metadata: req.metadata },
            locale,
          },
          { idempotencyKey: req.idempotencyKey },
        );
      }
      if (!session.url)
        throw new PaymentProviderError('Stripe returned a Checkout Session without a url', 'stripe', 'no_url', true);
      return { providerRef: session.id, url: session.url };
    } catch (err) {
      throw err instanceof PaymentProviderError ? err : this.fault(err);
    }
  }

  async chargeSaved(req: OffSessionCharge): Promise<ChargeResult> {
    try {
      const pi = await this.client.paymentIntents.create(
        {
          amount: req.amountMinor,
          currency: req.currency.toLowerCase(),
          customer: req.customerRef,
          payment_method: req.paymentMethodRef,
          off_session: true,
          confirm: true,
          description: req.description,
          metadata: req.metadata,
        },
        { idempotencyKey: req.idempotencyKey },
      );
      return {
        ref: pi.id,
        status: pi.status === 'succeeded' ? 'succeeded' : pi.status === 'processing' ? 'processing' : 'failed',
      };
    } catch (err) {
      if (err instanceof Stripe.errors.StripeCardError) {
        const pi = (err.raw as { payment_intent?: { id?: string } }).payment_intent;
        return { ref: pi?.id ?? '', status: 'failed', error: { code: err.code ?? 'card_error', message: err.message } };
      }
      throw this.fault(err);
    }
  }

  async refund(paymentRef: string, idempotencyKey: string): Promise<{ ref: string }> {
    try {
      const r = await this.client.refunds.create({ payment_intent: paymentRef }, { idempotencyKey });
      return { ref: r.id };
    } catch (err) {
      throw this.fault(err);
    }
  }
}

// The payments module's start: which payment providers this process uses
// (live with STRIPE_SECRET_KEY / GOCARDLESS_ACCESS_TOKEN, else the local
// sandboxes unless PROVIDERS=live), and the jobs that collect plans.
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { PaymentProvider, PaymentProviderName } from '../../channels/payments.js';
import { StripeProvider } from '../../channels/stripe/provider.js';
import { StripeSandbox } from '../../channels/stripe/sandbox.js';
import { listenOnLoopback, type ListeningServer } from '../sandbox/http-server.js';
import { CallbackDispatcher } from '../sandbox/callback-dispatcher.js';
import { setPaymentProviders } from './providers.js';
import { STRIPE_WEBHOOK_PATH } from './stripe-webhooks.js';

export interface PaymentSandboxes {
  stripe?: StripeSandbox;
}

const sandboxesOf = new WeakMap<AppContext, PaymentSandboxes>();

/** The running payment sandboxes (tests and the sandbox panel drive them). */
export function paymentSandboxes(ctx: AppContext): PaymentSandboxes {
  return sandboxesOf.get(ctx) ?? {};
}

export async function startPayments(ctx: AppContext): Promise<{ stop(): Promise<void> }> {
  const env = ctx.config;
  const providers: Partial<Record<PaymentProviderName, PaymentProvider>> = {};
  const secrets: Partial<Record<PaymentProviderName, string>> = {};
  const servers: ListeningServer[] = [];
  const sandboxes: PaymentSandboxes = {};

  if (env.STRIPE_SECRET_KEY && env.PROVIDERS !== 'sandbox') {
    if (!env.STRIPE_WEBHOOK_SECRET) throw new Error('STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe webhooks could not be verified');
    providers.stripe = new StripeProvider({ secretKey: env.STRIPE_SECRET_KEY, mode: 'live' });
    secrets.stripe = env.STRIPE_WEBHOOK_SECRET;
  } else if (env.PROVIDERS !== 'live') {
    const secretKey = `sk_test_${randomBytes(18).toString('hex')}`;
    const webhookSecret = env.STRIPE_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('base64url')}`;
    const sandbox = new StripeSandbox({ secretKey, webhookSecret, webhookUrl: `${ctx.publicBaseUrl}${STRIPE_WEBHOOK_PATH}`, dispatcher: new CallbackDispatcher() });
    const server = await listenOnLoopback(sandbox.app);
    sandbox.baseUrl = server.baseUrl;
    servers.push(server);
    sandboxes.stripe = sandbox;
    providers.stripe = new StripeProvider({ secretKey, mode: 'sandbox', baseUrl: server.baseUrl });
    secrets.stripe = webhookSecret;
    ctx.log.info({ stripe: server.baseUrl }, 'Stripe sandbox running');
  }
  setPaymentProviders(ctx, providers, secrets);
  sandboxesOf.set(ctx, sandboxes);
  return {
    stop: async () => {
      await sandboxes.stripe?.dispatcher.close().catch(() => undefined);
      for (const s of servers) await s.close().catch(() => undefined);
    },
  };
}

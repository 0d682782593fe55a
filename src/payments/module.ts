// The payments module's start: which payment providers this process uses
// (live with STRIPE_SECRET_KEY / GOCARDLESS_ACCESS_TOKEN, else the local
// sandboxes unless PROVIDERS=live), and the jobs that collect plans.
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { PaymentProvider, PaymentProviderName } from '../../channels/payments.js';
import { StripeProvider } from '../../channels/stripe/provider.js';
import { StripeSandbox } from '../../channels/stripe/sandbox.js';
import { listenOnLoopback, type ListeningServer } from '../../channels/kit/http-server.js';
import { CallbackDispatcher } from '../../channels/kit/callback-dispatcher.js';
import { setPaymentProviders } from './providers.js';
import { STRIPE_WEBHOOK_PATH } from './stripe-webhooks.js';
import { GOCARDLESS_WEBHOOK_PATH } from './gocardless-webhooks.js';
import { GoCardlessProvider } from '../../channels/gocardless/provider.js';
import { GoCardlessSandbox } from '../../channels/gocardless/sandbox.js';

export interface PaymentSandboxes {
  stripe?: StripeSandbox;
  gocardless?: GoCardlessSandbox;
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
    if (!env.STRIPE_WEBHOOK_SECRET)
      throw new Error(
        'STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe webhooks could not be verified',
      );
    providers.stripe = new StripeProvider({ secretKey: env.STRIPE_SECRET_KEY, mode: 'live' });
    secrets.stripe = env.STRIPE_WEBHOOK_SECRET;
  } else if (env.PROVIDERS !== 'live') {
    const secretKey = `sk_test_${randomBytes(18).toString('hex')}`;
    const webhookSecret = env.STRIPE_WEBHOOK_SECRET ?? `whsec_${randomBytes(24).toString('base64url')}`;
    const sandbox = new StripeSandbox({
      secretKey,
      webhookSecret,
      webhookUrl: `${ctx.publicBaseUrl}${STRIPE_WEBHOOK_PATH}`,
      dispatcher: new CallbackDispatcher(),
    });
    const server = await listenOnLoopback(sandbox.app);
    sandbox.baseUrl = server.baseUrl;
    servers.push(server);
    sandboxes.stripe = sandbox;
    providers.stripe = new StripeProvider({ secretKey, mode: 'sandbox', baseUrl: server.baseUrl });
    secrets.stripe = webhookSecret;
    ctx.log.info({ stripe: server.baseUrl }, 'Stripe sandbox running');
  }
  if (env.GOCARDLESS_ACCESS_TOKEN && env.PROVIDERS !== 'sandbox') {
    if (!env.GOCARDLESS_WEBHOOK_SECRET)
      throw new Error(
        'GOCARDLESS_ACCESS_TOKEN is set but GOCARDLESS_WEBHOOK_SECRET is not: GoCardless webhooks could not be verified',
      );
    providers.gocardless = new GoCardlessProvider({
      accessToken: env.GOCARDLESS_ACCESS_TOKEN,
      mode: 'live',
      environment: env.GOCARDLESS_ENVIRONMENT,
    });
    secrets.gocardless = env.GOCARDLESS_WEBHOOK_SECRET;
  } else if (env.PROVIDERS !== 'live') {
    const accessToken = `sandbox_${randomBytes(18).toString('hex')}`;
    const webhookSecret = env.GOCARDLESS_WEBHOOK_SECRET ?? randomBytes(24).toString('base64url');
    const sandbox = new GoCardlessSandbox({
      accessToken,
      webhookSecret,
      webhookUrl: `${ctx.publicBaseUrl}${GOCARDLESS_WEBHOOK_PATH}`,
      dispatcher: new CallbackDispatcher(),
    });
    const server = await listenOnLoopback(sandbox.app);
    sandbox.baseUrl = server.baseUrl;
    servers.push(server);
    sandboxes.gocardless = sandbox;
    providers.gocardless = new GoCardlessProvider({
      accessToken,
      mode: 'sandbox',
      environment: 'sandbox',
      baseUrl: server.baseUrl,
    });
    secrets.gocardless = webhookSecret;
    ctx.log.info({ gocardless: server.baseUrl }, 'GoCardless sandbox running');
  }
  setPaymentProviders(ctx, providers, secrets);
  sandboxesOf.set(ctx, sandboxes);
  return {
    stop: async () => {
      await sandboxes.stripe?.dispatcher.close().catch(() => undefined);
      await sandboxes.gocardless?.dispatcher.close().catch(() => undefined);
      for (const s of servers) await s.close().catch(() => undefined);
    },
  };
}

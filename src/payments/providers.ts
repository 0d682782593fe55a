// The payment providers this process uses, set at start by the payments
// module (src/payments/module.ts): live with the keys from the environment,
// else the local sandboxes (channels/<provider>/sandbox.ts).
import type { AppContext } from '../context.js';
import type { PaymentProvider, PaymentProviderName } from '../../channels/payments.js';

const byContext = new WeakMap<AppContext, Partial<Record<PaymentProviderName, PaymentProvider>>>();
const secrets = new WeakMap<AppContext, Partial<Record<PaymentProviderName, string>>>();

export function setPaymentProviders(
  ctx: AppContext,
  providers: Partial<Record<PaymentProviderName, PaymentProvider>>,
  webhookSecrets: Partial<Record<PaymentProviderName, string>>,
): void {
  byContext.set(ctx, providers);
  secrets.set(ctx, webhookSecrets);
}

/** The signing secret the provider's webhooks are verified with (the sandbox's, generated, or the live endpoint's). */
export function webhookSecret(ctx: AppContext, name: PaymentProviderName): string | null {
  return secrets.get(ctx)?.[name] ?? null;
}

export function paymentProvider(ctx: AppContext, name: PaymentProviderName | 'none'): PaymentProvider | null {
  if (name === 'none') return null;
  return byContext.get(ctx)?.[name] ?? null;
}

export function allPaymentProviders(ctx: AppContext): PaymentProvider[] {
  return Object.values(byContext.get(ctx) ?? {});
}

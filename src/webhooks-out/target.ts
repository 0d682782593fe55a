// Where outgoing webhooks may go. A subscription URL is chosen by whoever holds
// an admin key; without this check the gateway would POST to its own loopback,
// the private network and the cloud metadata service on their behalf. The URL
// is checked when the subscription is made or changed (a clear 400 naming the
// address), and every delivery is checked again at connection time, after DNS
// resolution, by the guarded fetch (src/net) — so a name that resolved to a
// public address at subscription and resolves to 127.0.0.1 later is refused.
// WEBHOOK_ALLOWED_INTERNAL_TARGETS lists the internal receivers allowed on purpose.
import type { AppContext } from '../context.js';
import { addressRefusal, isIpLiteral, TargetAllowList } from '../net/addresses.js';
import { systemResolve, type FetchPolicy } from '../net/guarded-fetch.js';

const policies = new WeakMap<AppContext, { allow: TargetAllowList; policy: FetchPolicy }>();

function policyOf(ctx: AppContext) {
  let p = policies.get(ctx);
  if (!p) {
    const allow = TargetAllowList.parse(ctx.config.WEBHOOK_ALLOWED_INTERNAL_TARGETS);
    p = {
      allow,
      policy: {
        refuseUrl: (url) =>
          url.protocol === 'http:' || url.protocol === 'https:' ? null : 'webhook URLs must be http(s)',
        refuseAddress: (address, hostname) => addressRefusal(address, hostname, allow),
        resolve: (hostname) => (ctx.resolve ?? systemResolve)(hostname),
      },
    };
    policies.set(ctx, p);
  }
  return p;
}

/** The fetch policy of webhook deliveries (one per gateway, so its connections are shared). */
export const webhookFetchPolicy = (ctx: AppContext): FetchPolicy => policyOf(ctx).policy;

/** Why a subscription may not use this URL (refused address, name that does not resolve), or null. */
export async function webhookTargetRefusal(ctx: AppContext, raw: string): Promise<string | null> {
  const url = new URL(raw);
  if (url.username || url.password)
    return 'must not carry credentials in the URL (the signature authenticates deliveries)';
  const { allow, policy } = policyOf(ctx);
  if (isIpLiteral(url.hostname)) return addressRefusal(url.hostname, url.hostname, allow);
  if (allow.allowsHost(url.hostname)) return null;
  let addresses: { address: string }[];
  try {
    addresses = await policy.resolve!(url.hostname);
  } catch {
    return `host ${url.hostname} does not resolve`;
  }
  if (!addresses.length) return `host ${url.hostname} does not resolve`;
  for (const a of addresses) {
    const r = addressRefusal(a.address, url.hostname, allow);
    if (r) return r;
  }
  return null;
}

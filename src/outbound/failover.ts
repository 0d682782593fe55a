// Sending through a channel's providers in order. A send that fails for the
// provider's reasons (5xx, a timeout or lost connection, an auth error, a 429
// that persists after short retries) goes to the next provider; a refusal
// about the recipient (opted out, invalid number) does not — another provider
// would only be asked to contact someone who must not be contacted — nor does
// any other refusal of the request itself. Every choice is kept, for the
// message's decision history and its explanation.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import {
  ProviderError,
  type ChannelAdapter,
  type OutboundPayload,
  type SendRequest,
  type SendResult,
} from '../../channels/types.js';
import { orderFor } from '../provider-routing.js';
import type { ChannelRouting } from '../providers.js';

/** A channel's adapters by provider id, and the order to try them in. */
export interface ChannelProviders {
  adapters: Map<string, ChannelAdapter>;
  routing: ChannelRouting;
}

export interface ProviderAttempt {
  provider: string;
  at: string;
  outcome: 'accepted' | 'failed';
  code?: string;
  httpStatus?: number;
  /** Why the next provider was (or was not) tried. */
  fault?: 'provider' | 'recipient' | 'request';
  message?: string;
}

/** What decided the provider of one send: recorded in the message's decision (decision.providers). */
export interface ProviderRoute {
  /** The order tried for this destination. */
  order: string[];
  /** The destination's country, when a per-country preference put a provider first. */
  preferredFor: string | null;
  attempts: ProviderAttempt[];
  /** The provider that accepted the message, or null when none did. */
  chosen: string | null;
}

/** Which side a failure is on; only provider faults fail over. */
export function faultOf(err: ProviderError): ProviderAttempt['fault'] {
  if (err.effect) return 'recipient';
  if (err.provider === 'gateway') return 'request';
  if (err.transient || err.httpStatus === 401 || err.httpStatus === 403) return 'provider';
  return 'request';
}

/** The destination's ISO country (phone numbers only), for per-country preferences. */
export function destinationCountry(payload: OutboundPayload): string | null {
  if (payload.channel !== 'SMS' && payload.channel !== 'VOICE') return null;
  return parsePhoneNumberFromString(payload.to)?.country ?? null;
}

export class FailoverExhausted extends Error {
  constructor(
    readonly last: ProviderError,
    readonly route: ProviderRoute,
  ) {
    super(last.message);
  }
}

const RATE_LIMIT_RETRIES = 2;
const RATE_LIMIT_BACKOFF_MS = 250;

/**
 * Sends through the providers in order until one accepts. Resolves with its
 * result and the route taken; rejects with FailoverExhausted carrying the
 * last error (whose transient flag decides the outbox's retry) and the route.
 */
export async function sendWithFailover(
  set: ChannelProviders,
  req: SendRequest,
  opts: { sleep?: (ms: number) => Promise<void>; now?: () => Date } = {},
): Promise<{ result: SendResult; route: ProviderRoute }> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? (() => new Date());
  const country = destinationCountry(req.payload);
  const order = orderFor(set.routing, country).filter((id) => set.adapters.has(id));
  const preferred = country ? set.routing.byCountry[country.toUpperCase()] : undefined;
  const route: ProviderRoute = {
    order,
    preferredFor: preferred && order[0] === preferred ? country : null,
    attempts: [],
    chosen: null,
  };
  let last: ProviderError | null = null;
  for (const id of order) {
    const adapter = set.adapters.get(id)!;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await adapter.send(req);
        route.attempts.push({ provider: id, at: now().toISOString(), outcome: 'accepted' });
        route.chosen = id;
        return { result, route };
      } catch (err) {
        const pe =
          err instanceof ProviderError
            ? err
            : new ProviderError((err as Error)?.message ?? String(err), id, 'network', true);
        // A rate limit is the provider asking for a moment, not failing: a few short retries first.
        if (pe.httpStatus === 429 && attempt < RATE_LIMIT_RETRIES) {
          await sleep(RATE_LIMIT_BACKOFF_MS * 2 ** attempt);
          continue;
        }
        const fault = faultOf(pe);
        route.attempts.push({
          provider: id,
          at: now().toISOString(),
          outcome: 'failed',
          code: pe.code,
          ...(pe.httpStatus ? { httpStatus: pe.httpStatus } : {}),
          fault,
          message: pe.message.slice(0, 200),
        });
        last = pe;
        if (fault !== 'provider') throw new FailoverExhausted(pe, route);
        break;
      }
    }
  }
  throw new FailoverExhausted(
    last ?? new ProviderError('no provider configured for this channel', 'gateway', 'no_provider', false),
    route,
  );
}

/** One sentence per choice, for the message's explanation. */
export function explainRoute(route: ProviderRoute): string {
  const parts: string[] = [];
  const first = route.order[0];
  if (first)
    parts.push(
      route.preferredFor
        ? `Provider order ${route.order.join(' → ')} (${first} preferred for ${route.preferredFor}).`
        : `Provider order ${route.order.join(' → ')}.`,
    );
  for (const [i, a] of route.attempts.entries()) {
    if (a.outcome === 'accepted') {
      parts.push(`${a.provider} accepted the message.`);
      continue;
    }
    const what = `${a.provider} failed (${a.code}${a.httpStatus ? `, HTTP ${a.httpStatus}` : ''})`;
    const next = route.attempts[i + 1]?.provider;
    if (a.fault === 'provider')
      parts.push(
        next
          ? `${what}, a provider fault: failed over to ${next}.`
          : `${what}, a provider fault, and no provider was left to try.`,
      );
    else if (a.fault === 'recipient')
      parts.push(`${what}: a refusal about the recipient, so no other provider was tried.`);
    else parts.push(`${what}: the request was refused, so no other provider was tried.`);
  }
  return parts.join(' ');
}

/**
 * The adapter of the channel's first provider: the one recovery asks about a
 * send a crash interrupted (a send that had failed over is found by its
 * provider id, recorded when it was accepted).
 */
export function firstAdapter(set: ChannelProviders): ChannelAdapter {
  const id = set.routing.order.find((p) => set.adapters.has(p));
  if (!id) throw new Error('no provider configured for this channel');
  return set.adapters.get(id)!;
}

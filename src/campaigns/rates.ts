// The per-channel rate syntax of PROVIDER_RATE_LIMITS and Campaign.throttle
// ("SMS=600,EMAIL=1200"). Apart from the throttle (src/campaigns/throttle.ts)
// because src/config.ts validates it at start: this file needs nothing of
// the running app, so config does not import what imports config.
import { z } from 'zod';
import type { Channel } from '../router/index.js';

export const PROVIDER_RATE_LIMITS_VAR = 'PROVIDER_RATE_LIMITS';
export const CHANNELS: readonly Channel[] = ['SMS', 'EMAIL', 'VOICE', 'LETTER'];

export type ChannelRates = Partial<Record<Channel, number>>;

export class ThrottleConfigError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'ThrottleConfigError';
  }
}

const rateValue = z.coerce.number().int().min(1).max(1_000_000);

/** Parses "SMS=600,EMAIL=1200" (channel names any case); empty or unset → no limits. */
export function parseChannelRates(value: string | undefined, field = PROVIDER_RATE_LIMITS_VAR): ChannelRates {
  const out: ChannelRates = {};
  if (!value || !value.trim()) return out;
  for (const part of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, raw] = part.split('=').map((s) => s?.trim());
    const channel = (name ?? '').toUpperCase() as Channel;
    if (!CHANNELS.includes(channel))
      throw new ThrottleConfigError(field, `unknown channel "${name}" (expected ${CHANNELS.join(', ')})`);
    const parsed = rateValue.safeParse(raw);
    if (!parsed.success)
      throw new ThrottleConfigError(
        field,
        `${channel} must be a whole number of messages per minute ≥ 1 (got "${raw ?? ''}")`,
      );
    out[channel] = parsed.data;
  }
  return out;
}

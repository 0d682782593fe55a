// Which providers carry a channel, in which order: SMS_PROVIDERS=a,b is the
// failover order; SMS_PROVIDER_BY_COUNTRY=IN:b puts a provider
// first for numbers of that country. Parsed here once, for the config check
// (src/config.ts) and for the settings (src/providers.ts).
import { pluginsFor } from '../channels/registry.js';
import type { ChannelName } from '../channels/types.js';

export class RoutingConfigError extends Error {}

/** "a, b" → ['a', 'b'], each a registered provider of the channel, once. */
export function parseProviderList(channel: ChannelName, value: string | undefined): string[] {
  const known = pluginsFor(channel).map((p) => p.id);
  if (value === undefined || value.trim() === '') return known.slice(0, 1);
  const ids = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (ids.length === 0) throw new RoutingConfigError(`must name at least one of ${known.join(', ')}`);
  for (const id of ids)
    if (!known.includes(id))
      throw new RoutingConfigError(`names "${id}", which is not a ${channel} provider (known: ${known.join(', ')})`);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new RoutingConfigError(`names "${dup}" twice`);
  return ids;
}

/** "IN:b, GB:a" → { IN: 'b', GB: 'a' }; every provider must be in `order`. */
export function parseCountryPreference(
  value: string | undefined,
  order: string[],
  listName: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined || value.trim() === '') return out;
  for (const entry of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z]{2})\s*:\s*([a-z0-9_-]+)$/i.exec(entry);
    if (!m)
      throw new RoutingConfigError(
        `entry "${entry}" must look like IN:<provider> (ISO country code, colon, provider id)`,
      );
    const country = m[1]!.toUpperCase();
    const id = m[2]!.toLowerCase();
    if (!order.includes(id))
      throw new RoutingConfigError(
        `names "${id}" for ${country}, which ${listName} does not list (${order.join(', ')})`,
      );
    if (out[country]) throw new RoutingConfigError(`names ${country} twice`);
    out[country] = id;
  }
  return out;
}

/** The order to try for one destination: the country's preferred provider first, then the rest in order. */
export function orderFor(
  routing: { order: string[]; byCountry: Record<string, string> },
  country: string | null | undefined,
): string[] {
  const preferred = country ? routing.byCountry[country.toUpperCase()] : undefined;
  return preferred ? [preferred, ...routing.order.filter((id) => id !== preferred)] : [...routing.order];
}

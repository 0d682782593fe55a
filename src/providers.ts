// Which provider each channel uses, and the secrets that go with it. Each
// registered provider (channels/registry.ts) resolves its own settings: with
// no credentials for it (or PROVIDERS=sandbox) its built-in sandbox is used.
// Sandboxes read the same secrets as the real provider (its auth token,
// webhook secret, …) so webhooks are signed and verified the same way;
// unset secrets are generated for this process.
import { pluginById, pluginsFor, plugins, type PluginSettingsMap } from '../channels/registry.js';
import type { BaseSettings, ChannelName, Mode } from '../channels/types.js';
import type { Env } from './config.js';
import { orderFor, parseCountryPreference, parseProviderList } from './provider-routing.js';

export type { Mode };

/** A channel's providers in failover order, and the ones preferred per country. */
export interface ChannelRouting {
  order: string[];
  byCountry: Record<string, string>;
}

export type ProviderSettings = PluginSettingsMap & {
  /** The email provider in use (its id and mode), and the addresses emails go from and replies come back to. */
  email: { mode: Mode; provider: string; from: string; inboundDomain: string };
  routing: Record<ChannelName, ChannelRouting>;
};

/** EMAIL_PROVIDER, or with auto the first email provider whose credentials are set, else the first. */
function emailProvider(env: Env): string {
  const candidates = pluginsFor('EMAIL');
  if (env.EMAIL_PROVIDER !== 'auto') return env.EMAIL_PROVIDER;
  const e = env as unknown as Record<string, unknown>;
  return (candidates.find((p) => p.configured?.(e)) ?? candidates[0]!).id;
}

export function resolveProviders(env: Env): ProviderSettings {
  const forced = env.PROVIDERS;

  const smsOrder = parseProviderList('SMS', env.SMS_PROVIDERS);
  const email = emailProvider(env);
  const routing: Record<ChannelName, ChannelRouting> = {
    SMS: { order: smsOrder, byCountry: parseCountryPreference(env.SMS_PROVIDER_BY_COUNTRY, smsOrder, 'SMS_PROVIDERS') },
    VOICE: { order: pluginsFor('VOICE').map((p) => p.id), byCountry: {} },
    EMAIL: { order: [email], byCountry: {} },
    LETTER: { order: pluginsFor('LETTER').map((p) => p.id), byCountry: {} },
  };
  const selected = new Set(Object.values(routing).flatMap((r) => r.order));
  const pluginSettings = Object.fromEntries(
    plugins.map((p) => [
      p.id,
      p.settings({ env: env as unknown as Record<string, unknown>, forced, selected: selected.has(p.id) }),
    ]),
  ) as PluginSettingsMap;

  return {
    ...pluginSettings,
    email: {
      mode: (pluginSettings as unknown as Record<string, BaseSettings>)[email]!.mode,
      provider: email,
      from: env.EMAIL_FROM,
      inboundDomain: env.INBOUND_EMAIL_DOMAIN,
    },
    routing,
  };
}

/** A registered provider's settings by id. */
export function settingsOf(p: ProviderSettings, id: string): BaseSettings {
  const s = (p as unknown as Record<string, BaseSettings | undefined>)[id];
  if (!s) throw new Error(`no settings for provider ${id}`);
  return s;
}

/** The providers to try for a message on `channel` to a destination in `country`, in order. */
export function providerOrder(p: ProviderSettings, channel: ChannelName, country?: string | null): string[] {
  return orderFor(p.routing[channel], country);
}

/** The number texts and calls come from (the first provider of the channel that has one). */
export function senderNumber(p: ProviderSettings, channel: 'SMS' | 'VOICE'): string | null {
  for (const id of p.routing[channel].order) {
    const plugin = pluginById(id);
    const n = plugin?.sender?.(settingsOf(p, id));
    if (n) return n;
  }
  return null;
}

/** Whether any provider in use runs its sandbox. */
export function anySandbox(p: ProviderSettings): boolean {
  const used = new Set(Object.values(p.routing).flatMap((r) => r.order));
  return [...used].some((id) => {
    const s = (p as unknown as Record<string, BaseSettings | undefined>)[id];
    return s?.mode === 'sandbox';
  });
}

// The one list of providers. Adding a provider is a folder in channels/ and
// a line here; the webhook routes, sandboxes, config schema, admin view, log
// redaction and failover order all come from this list.
import type { ChannelName, ProviderPlugin } from './types.js';
import { lob } from './lob/index.js';
import { sendgrid } from './sendgrid/index.js';
import { smtp } from './smtp/index.js';
import { telnyx } from './telnyx/index.js';
import { twilio } from './twilio/index.js';

export const registry = [twilio, telnyx, sendgrid, smtp, lob] as const;

export type RegisteredPlugin = (typeof registry)[number];
export type ProviderId = RegisteredPlugin['id'];

type SettingsOf<P extends RegisteredPlugin> = ReturnType<P['settings']>;
type SandboxOf<P extends RegisteredPlugin> = Awaited<ReturnType<NonNullable<P['sandbox']>['start']>>;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Each provider's settings under its id (ctx.providers.twilio …). */
export type PluginSettingsMap = { [P in RegisteredPlugin as P['id']]: SettingsOf<P> };
/** Each provider's running sandbox under its id (ctx.sandboxes.twilio …). */
export type PluginSandboxMap = { [P in RegisteredPlugin as P['id']]: SandboxOf<P> };
/** Every provider's environment variables, for src/config.ts. */
export type ProviderEnvShape = UnionToIntersection<RegisteredPlugin['env']>;

export const providerEnv = Object.assign({}, ...registry.map((p) => p.env)) as ProviderEnvShape;

/** A plugin as generic code handles it (settings and sandbox opaque). */
// biome-ignore lint/suspicious/noExplicitAny: the list holds plugins of different settings types.
export type AnyPlugin = ProviderPlugin<string, any, any, any, any>;

export const plugins: readonly AnyPlugin[] = registry;

export function pluginById(id: string): AnyPlugin | undefined {
  return plugins.find((p) => p.id === id);
}

export function pluginsFor(channel: ChannelName): AnyPlugin[] {
  return plugins.filter((p) => p.channels.includes(channel));
}

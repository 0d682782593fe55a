// Picks each channel's adapter: the real provider when it is configured live,
// else the same official SDK pointed at the built-in sandbox. Every
// registered provider (channels/registry.ts) builds its own adapters.
import type { AppContext } from '../context.js';
import { pluginById, plugins } from '../../channels/registry.js';
import type { ChannelAdapter, ChannelName } from '../../channels/types.js';
import { anySandbox, settingsOf } from '../providers.js';
import { startSandboxes, type Sandboxes } from '../sandbox/index.js';
import { drainLocalDispatch, type ChannelAdapters } from './dispatch.js';
import type { ChannelProviders } from './failover.js';

export async function createAdapters(
  ctx: AppContext,
): Promise<{ adapters: ChannelAdapters; sandboxes: Sandboxes | null; close(): Promise<void> }> {
  const p = ctx.providers;
  const sandboxes = anySandbox(p)
    ? await startSandboxes({
        ...Object.fromEntries(
          Object.values(p.routing)
            .flatMap((r) => r.order)
            .map((id) => [id, pluginById(id)?.sandbox?.options(settingsOf(p, id))])
            .filter(([, o]) => o),
        ),
        gateway: { baseUrl: ctx.publicBaseUrl, ...(ctx.inboundSmtp ? { inboundSmtp: ctx.inboundSmtp } : {}) },
      })
    : null;
  if (sandboxes)
    ctx.log.info(
      {
        ...Object.fromEntries(
          plugins.flatMap((pl) => {
            const sb = (sandboxes as unknown as Record<string, unknown>)[pl.id];
            return sb && pl.sandbox?.describe ? [[pl.id, pl.sandbox.describe(sb)]] : [];
          }),
        ),
      },
      'provider sandboxes running',
    );

  // Each provider in use builds its adapters once; a channel's list is its failover order.
  const built = new Map<string, Partial<Record<ChannelName, ChannelAdapter>>>();
  const adaptersOf = (id: string) => {
    const plugin = pluginById(id);
    if (!plugin) return {};
    if (!built.has(id)) {
      const settings = settingsOf(p, id);
      const sandbox = (sandboxes as unknown as Record<string, unknown> | null)?.[id] ?? null;
      built.set(
        id,
        plugin.adapters({
          settings,
          sandbox,
          publicBaseUrl: ctx.publicBaseUrl,
          options: { recordCalls: ctx.config.VOICE_RECORD_CALLS },
        }),
      );
    }
    return built.get(id)!;
  };
  // Each channel's providers, in the order failover tries them.
  const providersFor = (channel: ChannelName): ChannelProviders => {
    const routing = p.routing[channel];
    const adapters = new Map<string, ChannelAdapter>();
    for (const id of routing.order) {
      const a = adaptersOf(id)[channel];
      if (!a) throw new Error(`provider ${id} has no ${channel} adapter`);
      adapters.set(id, a);
    }
    return { adapters, routing };
  };

  const adapters: ChannelAdapters = {
    SMS: providersFor('SMS'),
    VOICE: providersFor('VOICE'),
    EMAIL: providersFor('EMAIL'),
    LETTER: providersFor('LETTER'),
  };
  return {
    adapters,
    sandboxes,
    close: async () => {
      // Sends already handed to an adapter finish before the adapters (and sandboxes) go away.
      await drainLocalDispatch(ctx, ctx.config.SHUTDOWN_TIMEOUT_MS);
      for (const a of built.values()) for (const adapter of Object.values(a)) await adapter?.close?.();
      await sandboxes?.close();
    },
  };
}

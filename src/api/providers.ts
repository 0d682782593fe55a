// REST (admin): what each provider is wired to — sandbox or live, the sender
// it uses, which of its secrets are configured, and the webhook addresses to
// enter in the provider's console. Read-only, and never a secret's value: the
// view answers "is it set?", so an admin screen cannot leak credentials.
import type { Express } from 'express';
import type { AppContext } from '../context.js';
import type { Env } from '../config.js';
import { pluginById } from '../../channels/registry.js';
import type { ProviderView } from '../../channels/types.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { settingsOf } from '../providers.js';

/** Only presence: the value itself must never reach the response. */
const isSet = (config: Env, names: (keyof Env)[]): Record<string, boolean> =>
  Object.fromEntries(names.map((n) => [n, typeof config[n] === 'string' && (config[n] as string).length > 0]));

export function providersView(ctx: AppContext) {
  const { config, providers: p } = ctx;
  const base = ctx.publicBaseUrl;
  const at = (path: string) => `${base}${path}`;

  // Every provider some channel uses, once, in the order channels name them.
  const inUse = [
    ...new Set([...p.routing.SMS.order, ...p.routing.VOICE.order, ...p.routing.EMAIL.order, ...p.routing.LETTER.order]),
  ];
  const pluginViews = inUse.flatMap((id) => {
    const view = pluginById(id)?.view?.(settingsOf(p, id), {
      at,
      isSet: (names) => isSet(config, names as (keyof Env)[]),
      config: config as unknown as Record<string, unknown>,
      inboundSmtp: ctx.inboundSmtp ? `${ctx.inboundSmtp.host}:${ctx.inboundSmtp.port}` : null,
    });
    return view ? [view] : [];
  });

  return {
    publicBaseUrl: base,
    // Without PUBLIC_BASE_URL the addresses are this machine's listen address, which no provider can reach.
    publicBaseUrlConfigured: Boolean(config.PUBLIC_BASE_URL),
    forced: config.PROVIDERS === 'auto' ? null : config.PROVIDERS,
    providers: pluginViews,
  };
}

export const providerRoutes = defineRoutes({
  method: 'get',
  path: '/api/v1/admin/providers',
  tag: 'admin',
  roles: ['ADMIN'],
  summary: 'Provider modes, senders, which secrets are set (never their values) and the webhook URLs to configure',
  responses: { 200: 'Providers', 403: 'Admins only' },
  handler: async (_req, res, ctx) => {
    res.json(providersView(ctx));
  },
});

export function registerProviderRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, providerRoutes);
}

// Every registered provider's webhooks, mounted at the paths the provider is
// configured with: verify (before anything is stored; a refusal leaves no
// trace but a log line), key by the provider's own id, store the raw event
// (the 2xx waits only for that), then process it with the provider's parser
// and the generic writer (provider-events.ts). The raw-event store, dedup and
// retries (events-store.ts, intake.ts) are the same for every provider.
import { createHash } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import { plugins, type AnyPlugin } from '../../channels/registry.js';
import type { AcceptKit, WebhookRoute } from '../../channels/types.js';
import type { AppContext } from '../context.js';
import { httpRefusal, verifier, webhookRequest } from '../http/provider-requests.js';
import { settingsOf } from '../providers.js';
import { headersForStorage, registerProcessor, type RawInbound } from './events-store.js';
import { intake, intakeStatus } from './intake.js';
import { applyProviderEvents, statusUpdate } from './provider-events.js';
import { emailDedupeKey, parseInboundParse } from './email.js';

/** The gateway's help for keying what plugins cannot parse alone. */
function acceptKit(req: Request): AcceptKit {
  return {
    emailFormKey: async (raw, contentType) => {
      try {
        return emailDedupeKey(await parseInboundParse(raw, contentType, raw.length + 1), raw);
      } catch (err) {
        // Unparseable but authenticated: keep it anyway (an agent or a fix can replay it).
        req.log?.warn({ err: (err as Error).message }, 'inbound email form could not be parsed; stored for review');
        return `email-sha256:${createHash('sha256').update(raw).digest('hex')}`;
      }
    },
  };
}

function mountRoute(app: Express, ctx: AppContext, plugin: AnyPlugin, route: WebhookRoute<unknown>): void {
  const settings = () => settingsOf(ctx.providers, plugin.id);
  // Raw routes are authenticated before a (possibly 30 MB) body is read.
  const readRaw =
    route.body === 'raw' ? [express.raw({ type: () => true, limit: ctx.config.INBOUND_EMAIL_MAX_BYTES })] : [];
  const handler = async (req: Request, res: Response) => {
    const wreq = webhookRequest(ctx, req);
    let dedupeKey: string;
    try {
      dedupeKey = await route.accept(wreq, settings(), acceptKit(req));
    } catch (err) {
      throw httpRefusal(err);
    }
    const stored: RawInbound = {
      provider: plugin.id,
      kind: route.kind,
      dedupeKey,
      headers: headersForStorage(req.headers),
      body: wreq.raw,
    };
    const update = route.onArrival?.(wreq);
    if (update) await intakeStatus(ctx, stored, { ...statusUpdate(ctx, plugin, update), ref: update.ref });
    else await intake(ctx, stored);
    const r = route.respond ?? { status: 204 };
    if (r.contentType) res.type(r.contentType);
    if (r.body === undefined) res.status(r.status).end();
    else if (typeof r.body === 'string') res.status(r.status).send(r.body);
    else res.status(r.status).json(r.body);
  };
  for (const path of route.paths) {
    for (const method of route.methods) {
      if (method === 'GET') app.get(path, verifier(ctx, plugin, route.verify), ...readRaw, handler);
      else app.post(path, verifier(ctx, plugin, route.verify), ...readRaw, handler);
    }
  }
}

export function providerWebhookRoutes(app: Express, ctx: AppContext): void {
  for (const plugin of plugins) for (const route of plugin.webhooks ?? []) mountRoute(app, ctx, plugin, route);
}

// Every provider's stored events are parsed by the provider and applied here.
for (const plugin of plugins) {
  for (const route of plugin.webhooks ?? []) {
    registerProcessor(plugin.id, route.kind, async (ctx, event) => {
      const events = await route.parse(
        { kind: event.kind, headers: event.headers as Record<string, unknown>, body: Buffer.from(event.body) },
        settingsOf(ctx.providers, plugin.id),
      );
      return applyProviderEvents(ctx, plugin, events, event, route.batch ?? false);
    });
  }
}

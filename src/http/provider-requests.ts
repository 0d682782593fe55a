// A provider's webhook request as its plugin sees it (channels/types.ts
// WebhookRequest), its verification as Express middleware, and its refusals
// as the gateway's HTTP errors. Shared by the inbound webhooks and the
// outbound call flow.
import type { Request, RequestHandler } from 'express';
import type { AnyPlugin } from '../../channels/registry.js';
import { WebhookRefusal, type WebhookRequest, type WebhookRoute } from '../../channels/types.js';
import type { AppContext } from '../context.js';
import { settingsOf } from '../providers.js';
import { HttpError } from './errors.js';

/** A request as plugins see it: the signed URL (public base behind a proxy), the params, the raw bytes. */
export function webhookRequest(ctx: AppContext, req: Request): WebhookRequest {
  const routeParams = Object.fromEntries(Object.entries(req.params ?? {}).map(([k, v]) => [k, String(v)]));
  const base = { url: ctx.publicBaseUrl + req.originalUrl, headers: req.headers, routeParams };
  if (req.method === 'GET') {
    const q = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    return {
      ...base,
      method: 'GET',
      params: Object.fromEntries(new URLSearchParams(q)),
      raw: Buffer.from(q),
      json: undefined,
    };
  }
  const body = req.body as unknown;
  const isForm = req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
  const params =
    isForm && body && typeof body === 'object' && !Buffer.isBuffer(body)
      ? Object.fromEntries(
          Object.entries(body as Record<string, unknown>).map(([k, v]) => [
            k,
            Array.isArray(v) ? String(v[0]) : String(v),
          ]),
        )
      : {};
  const raw = Buffer.isBuffer(body)
    ? body
    : (req.rawBody ?? (isForm ? Buffer.from(new URLSearchParams(params).toString()) : Buffer.alloc(0)));
  return { ...base, method: 'POST', params, raw, json: Buffer.isBuffer(body) ? undefined : body };
}

/** A plugin's refusal as the gateway's HTTP error (400 naming the fields, 401, 403). */
export function httpRefusal(err: unknown): unknown {
  if (!(err instanceof WebhookRefusal)) return err;
  if (err.status === 400) return new HttpError(400, 'invalid_request', err.message, err.fields);
  return new HttpError(err.status, err.status === 401 ? 'unauthorized' : 'forbidden', err.message);
}

/** Express middleware running a plugin's verify(). */
export function verifier(ctx: AppContext, plugin: AnyPlugin, verify: WebhookRoute<unknown>['verify']): RequestHandler {
  return (req, res, next) => {
    // Through then(): a verify that throws synchronously is caught the same way.
    Promise.resolve()
      .then(() =>
        verify(webhookRequest(ctx, req), settingsOf(ctx.providers, plugin.id), {
          maxAgeSeconds: ctx.config.WEBHOOK_MAX_AGE_SECONDS,
          now: Date.now(),
        }),
      )
      .then(() => next())
      .catch((err: unknown) => {
        if (err instanceof WebhookRefusal && err.status !== 400)
          req.log?.warn({ path: req.path, provider: plugin.id }, `${plugin.name} webhook refused: ${err.message}`);
        if (err instanceof WebhookRefusal) for (const [k, v] of Object.entries(err.headers ?? {})) res.setHeader(k, v);
        next(httpRefusal(err));
      });
  };
}

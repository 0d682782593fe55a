// Authentication of provider webhooks. Each check runs before anything is
// stored: a request that fails it gets 403 (401 when Inbound Parse sent no
// credentials at all) and leaves no trace but a log line.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { AppContext } from '../context.js';
import { safeEqual } from '../auth/api-keys.js';
import { forbidden, HttpError } from '../http/errors.js';

/** The URL the provider signed: the public base (PUBLIC_BASE_URL behind a proxy) plus the path and query as received. */
export const signedUrl = (ctx: AppContext, req: Request) => ctx.publicBaseUrl + req.originalUrl;

/** Unix timestamp in seconds or milliseconds → ms; NaN when unreadable. */
function timestampMs(value: string): number {
  if (!/^\d{9,14}$/.test(value)) return NaN;
  const n = Number(value);
  return n > 1e12 ? n : n * 1000;
}

function fresh(ctx: AppContext, ts: string): boolean {
  const ms = timestampMs(ts);
  return Number.isFinite(ms) && Math.abs(Date.now() - ms) <= ctx.config.WEBHOOK_MAX_AGE_SECONDS * 1000;
}

/** Lob: hex HMAC-SHA256 of `${timestamp}.${raw body}` keyed with the webhook secret, with a replay window. */
export function verifyLob(ctx: AppContext): RequestHandler {
  return (req, _res, next) => {
    const signature = req.header('lob-signature') ?? '';
    const timestamp = req.header('lob-signature-timestamp') ?? '';
    const raw = req.rawBody;
    const expected = raw ? createHmac('sha256', ctx.providers.lob.webhookSecret).update(`${timestamp}.`).update(raw).digest() : null;
    const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : null;
    if (!expected || !given || !timestamp || !timingSafeEqual(expected, given)) {
      req.log?.warn('Lob webhook refused: bad or missing signature');
      return next(forbidden('invalid or missing Lob-Signature'));
    }
    if (!fresh(ctx, timestamp)) return next(forbidden(`webhook timestamp outside the ${ctx.config.WEBHOOK_MAX_AGE_SECONDS} s window (replay?)`));
    next();
  };
}

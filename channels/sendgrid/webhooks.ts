// SendGrid webhooks: Inbound Parse (replies by email) and the Event Webhook
// (delivery events of our emails), verified and parsed into the gateway's
// own types.
//
// An Event Webhook batch is stored once, as received: the signature covers
// the whole body, so only the whole body is evidence. Each event in it is
// then applied on its own (idempotent by sg_event_id): one bad event does not
// undo the others, and a retry of the batch re-applies only what is missing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { headerValue } from '../kit/requests.js';
import { fresh } from '../kit/timestamps.js';
import {
  WebhookRefusal,
  type GatewayStatus,
  type MessageRefReport,
  type ProviderEvent,
  type StatusReport,
  type VerifyOptions,
  type WebhookRequest,
  type WebhookRoute,
} from '../types.js';
import type { SendgridSettings } from './config.js';

export const PATHS = { events: '/webhooks/sendgrid/events', inbound: '/webhooks/sendgrid/inbound' } as const;
export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

const ew = new EventWebhook();
const keys = new Map<string, ReturnType<EventWebhook['convertPublicKeyToECDSA']>>();

/** ECDSA P-256 over timestamp + raw body, with a replay window. */
export function verifyEvents(req: WebhookRequest, s: SendgridSettings, o: VerifyOptions): void {
  const signature = headerValue(req, SIGNATURE_HEADER);
  const timestamp = headerValue(req, TIMESTAMP_HEADER);
  let ok = false;
  if (signature && timestamp && req.raw.length && s.webhookPublicKey) {
    try {
      let key = keys.get(s.webhookPublicKey);
      if (!key) {
        key = ew.convertPublicKeyToECDSA(s.webhookPublicKey);
        keys.set(s.webhookPublicKey, key);
      }
      ok = ew.verifySignature(key, req.raw, signature, timestamp);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new WebhookRefusal(403, 'invalid or missing SendGrid event webhook signature');
  if (!fresh(timestamp!, o.maxAgeSeconds, o.now))
    throw new WebhookRefusal(403, `webhook timestamp outside the ${o.maxAgeSeconds} s window (replay?)`);
}

/** Constant-time comparison (of fixed-length digests, so the length leaks nothing either). */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * Inbound Parse carries no signature; it is authenticated by a shared secret,
 * either as the basic-auth password (any user name) in the configured URL, or
 * as the last path segment (/webhooks/sendgrid/inbound/TOKEN).
 */
export function verifyInboundParse(req: WebhookRequest, s: SendgridSettings): void {
  const token = req.routeParams.token;
  if (token !== undefined) {
    if (!safeEqual(token, s.inboundParseSecret)) throw new WebhookRefusal(403, 'invalid inbound parse token');
    return;
  }
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(headerValue(req, 'authorization') ?? '');
  if (!m)
    throw new WebhookRefusal(401, 'inbound parse requires basic auth or a path token', undefined, {
      'WWW-Authenticate': 'Basic realm="inbound-parse"',
    });
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const password = decoded.slice(decoded.indexOf(':') + 1);
  if (decoded.indexOf(':') < 0 || !safeEqual(password, s.inboundParseSecret))
    throw new WebhookRefusal(403, 'invalid inbound parse credentials');
}

// ── Event Webhook ──

interface SgEvent {
  event?: string;
  email?: string;
  timestamp?: number;
  sg_event_id?: string;
  sg_message_id?: string;
  'smtp-id'?: string;
  type?: string; // bounce | blocked
  reason?: string;
  status?: string;
  response?: string;
  [customArg: string]: unknown;
}

const EVENT_STATUS: Record<string, GatewayStatus | null> = {
  processed: 'QUEUED',
  deferred: null,
  delivered: 'DELIVERED',
  bounce: 'BOUNCED',
  dropped: 'FAILED',
  spamreport: null,
  unsubscribe: null,
  group_unsubscribe: null,
  group_resubscribe: null,
  open: null,
  click: null,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OPT_OUT_EVENTS = new Set(['spamreport', 'unsubscribe', 'group_unsubscribe']);

/** Our message: by a custom arg carrying our id, else SendGrid's message id (X-Message-Id is its prefix), else smtp-id. */
function messageRefs(e: SgEvent): MessageRefReport & { anyOf: unknown[] } {
  const refs: ({ id: string } | { providerMessageId: string } | { rfcMessageId: string })[] = [];
  for (const arg of ['gateway_message_id', 'message_id', 'messageId']) {
    const v = e[arg];
    if (typeof v === 'string' && UUID.test(v)) refs.push({ id: v });
  }
  if (e.sg_message_id)
    refs.push({ providerMessageId: e.sg_message_id }, { providerMessageId: e.sg_message_id.split('.')[0]! });
  const smtpId = e['smtp-id'];
  if (typeof smtpId === 'string') refs.push({ rfcMessageId: smtpId }, { rfcMessageId: smtpId.replace(/^<|>$/g, '') });
  return { anyOf: refs };
}

function eventReport(e: SgEvent): ProviderEvent {
  const name = String(e.event ?? '');
  if (!e.sg_event_id) return { type: 'invalid', reason: `event without sg_event_id (${name})` };
  if (!(name in EVENT_STATUS)) return { type: 'ignored', reason: `untracked SendGrid event ${name}` };
  const report: StatusReport = {
    ref: messageRefs(e),
    status: EVENT_STATUS[name] ?? null,
    providerStatus: e.type && name === 'bounce' ? `bounce:${e.type}` : name,
    providerEventId: `sendgrid:${e.sg_event_id}`,
    errorCode: name === 'bounce' || name === 'dropped' ? (e.status ?? null) : null,
    errorMessage: e.reason ?? e.response ?? null,
    ...(typeof e.timestamp === 'number' ? { occurredAt: new Date(e.timestamp * 1000) } : {}),
    detail: {
      event: name,
      ...(e.type ? { type: e.type } : {}),
      ...(e.reason ? { reason: e.reason } : {}),
      ...(e.status ? { status: e.status } : {}),
    },
    cause: { sgEventId: e.sg_event_id, event: name },
  };
  if (name === 'bounce' && (e.type ?? 'bounce') === 'bounce') {
    // A hard bounce: the address does not exist. "blocked" is temporary and leaves it valid.
    report.consequence = { kind: 'invalid', reason: `hard bounce${e.reason ? `: ${e.reason}` : ''}`.slice(0, 500) };
  }
  if (OPT_OUT_EVENTS.has(name)) {
    const reason = name === 'spamreport' ? 'marked our email as spam' : 'unsubscribed';
    report.consequence = {
      kind: 'opted-out',
      channel: 'EMAIL',
      source: `sendgrid:${name}`,
      flagReason: reason,
      flagDetail: { channel: 'EMAIL' },
    };
    // Also when no debtor has the address on file: it stays opted out if it is added later.
    if (typeof e.email === 'string')
      report.suppressAddress = {
        channel: 'EMAIL',
        address: e.email,
        reason,
        source: `sendgrid:${name}`,
        data: { sgEventId: e.sg_event_id, event: name },
      };
  }
  return { type: 'status', status: report };
}

function parseEvents(body: Buffer): ProviderEvent[] {
  let events: unknown;
  try {
    events = JSON.parse(body.toString('utf8'));
  } catch {
    return [{ type: 'ignored', reason: 'body is not JSON' }];
  }
  if (!Array.isArray(events)) return [{ type: 'ignored', reason: 'body is not an array' }];
  return (events as SgEvent[]).map(eventReport);
}

export const sendgridWebhooks: WebhookRoute<SendgridSettings>[] = [
  {
    kind: 'inbound-email',
    paths: [PATHS.inbound, `${PATHS.inbound}/:token`],
    methods: ['POST'],
    // Authenticated before a (possibly 30 MB) body is read.
    body: 'raw',
    verify: verifyInboundParse,
    accept: (req, _s, kit) => {
      const contentType = headerValue(req, 'content-type') ?? '';
      if (!/^multipart\/form-data/i.test(contentType))
        throw new WebhookRefusal(400, 'Inbound Parse posts multipart/form-data');
      return kit.emailFormKey(req.raw, contentType);
    },
    respond: { status: 200, body: { ok: true } },
    parse: (stored) => [{ type: 'email', raw: stored.body, contentType: String(stored.headers['content-type'] ?? '') }],
  },
  {
    kind: 'events',
    paths: [PATHS.events],
    methods: ['POST'],
    body: 'parsed',
    batch: true,
    verify: verifyEvents,
    accept: (req) => {
      if (!Array.isArray(req.json)) throw new WebhookRefusal(400, 'the Event Webhook posts a JSON array of events');
      return `sendgrid:batch:${createHash('sha256').update(req.raw).digest('hex')}`;
    },
    respond: { status: 200, body: { ok: true } },
    parse: (stored) => parseEvents(stored.body),
  },
];

// Telnyx messaging webhooks: one URL receives inbound messages
// (message.received) and the delivery events of ours (message.sent,
// message.finalized). Each is verified with the SDK's own ed25519 verifier
// (Telnyx-Signature-Ed25519 over `${Telnyx-Timestamp}|${raw body}`, key from
// Mission Control), then parsed into the gateway's own types.
import Telnyx from 'telnyx';
import { headerValue } from '../kit/requests.js';
import {
  WebhookRefusal,
  type GatewayStatus,
  type ProviderEvent,
  type StatusReport,
  type VerifyOptions,
  type WebhookRequest,
  type WebhookRoute,
} from '../types.js';
import type { TelnyxSettings } from './config.js';
import {
  INVALID_NUMBER_CODES,
  OPTED_OUT_CODE,
  TIMESTAMP_HEADER,
  type TelnyxMessageStatus,
  type TelnyxWebhookEnvelope,
} from './wire.js';

export const MESSAGING_WEBHOOK_PATH = '/webhooks/telnyx/messaging';

const STATUS: Record<TelnyxMessageStatus, GatewayStatus | null> = {
  queued: 'QUEUED',
  sending: 'SENDING',
  sent: 'SENT',
  delivered: 'DELIVERED',
  sending_failed: 'FAILED',
  delivery_failed: 'UNDELIVERED',
  // No receipt came back: the carrier has it, nothing more is known.
  delivery_unconfirmed: null,
  webhook_delivered: null,
};

const verifiers = new Map<string, Telnyx>();

export async function verifyTelnyx(req: WebhookRequest, s: TelnyxSettings, o: VerifyOptions): Promise<void> {
  let client = verifiers.get(s.publicKey);
  if (!client) {
    client = new Telnyx({ apiKey: s.apiKey, publicKey: s.publicKey, maxRetries: 0 });
    verifiers.set(s.publicKey, client);
  }
  try {
    const headers = Object.fromEntries(
      Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    await client.webhooks.unwrap(req.raw.toString('utf8'), { headers });
  } catch {
    throw new WebhookRefusal(403, 'invalid or missing Telnyx-Signature-Ed25519');
  }
  // The SDK allows 5 minutes; a stricter WEBHOOK_MAX_AGE_SECONDS applies too.
  const ts = Number(headerValue(req, TIMESTAMP_HEADER));
  if (Math.abs(o.now / 1000 - ts) > o.maxAgeSeconds)
    throw new WebhookRefusal(403, `webhook timestamp outside the ${o.maxAgeSeconds} s window (replay?)`);
}

function envelope(json: unknown): TelnyxWebhookEnvelope {
  const e = json as Partial<TelnyxWebhookEnvelope> | null;
  if (
    !e ||
    typeof e !== 'object' ||
    !e.data ||
    typeof e.data.id !== 'string' ||
    typeof e.data.event_type !== 'string' ||
    !e.data.payload ||
    typeof e.data.payload !== 'object'
  ) {
    throw new WebhookRefusal(400, 'not a Telnyx webhook event', [
      { field: 'data.id', reason: 'is required' },
      { field: 'data.event_type', reason: 'is required' },
      { field: 'data.payload', reason: 'is required' },
    ]);
  }
  return e as TelnyxWebhookEnvelope;
}

/** A delivery event as a status update of the message it names. */
export function statusReport(e: TelnyxWebhookEnvelope): StatusReport | { ignored: string } {
  const p = e.data.payload;
  const recipient = p.to?.[0];
  const providerStatus = String(recipient?.status ?? '').toLowerCase() as TelnyxMessageStatus;
  if (!p.id) return { ignored: 'event names no message' };
  if (!(providerStatus in STATUS)) return { ignored: `unknown message status ${providerStatus}` };
  const error = p.errors?.[0];
  const errorCode = error?.code ? String(error.code) : null;
  const report: StatusReport = {
    ref: { providerMessageId: p.id },
    status: STATUS[providerStatus],
    providerStatus,
    providerEventId: `telnyx:${e.data.id}`,
    errorCode,
    errorMessage: error ? [error.title, error.detail].filter(Boolean).join(': ') : null,
    occurredAt: e.data.occurred_at ? new Date(e.data.occurred_at) : undefined,
    detail: {
      event: e.data.event_type,
      to: recipient?.phone_number,
      from: p.from?.phone_number,
      ...(errorCode ? { errorCode } : {}),
      ...(p.parts ? { parts: p.parts } : {}),
    },
  };
  if (errorCode) report.cause = { errorCode, telnyxEventId: e.data.id };
  if (errorCode === OPTED_OUT_CODE) {
    report.consequence = {
      kind: 'opted-out',
      channel: 'SMS',
      source: `provider:telnyx:${errorCode}`,
      flagReason: `carrier reports the number opted out (Telnyx ${errorCode})`,
    };
  } else if (errorCode && INVALID_NUMBER_CODES.has(errorCode)) {
    report.consequence = { kind: 'invalid', reason: `telnyx:${errorCode}` };
  }
  return report;
}

function parse(stored: { body: Buffer }): ProviderEvent[] {
  let e: TelnyxWebhookEnvelope;
  try {
    e = envelope(JSON.parse(stored.body.toString('utf8')));
  } catch {
    return [{ type: 'ignored', reason: 'body is not a Telnyx event' }];
  }
  const p = e.data.payload;
  if (e.data.event_type === 'message.received') {
    return [
      {
        type: 'message',
        message: {
          channel: 'SMS',
          providerMessageId: p.id,
          from: p.from?.phone_number ?? '',
          to: p.to?.[0]?.phone_number ?? null,
          body: p.text ?? '',
          media: (p.media ?? [])
            .slice(0, 10)
            .map((m) => ({ url: m.url ?? null, contentType: m.content_type ?? undefined })),
        },
      },
    ];
  }
  if (e.data.event_type === 'message.sent' || e.data.event_type === 'message.finalized') {
    const r = statusReport(e);
    return 'ignored' in r ? [{ type: 'ignored', reason: r.ignored }] : [{ type: 'status', status: r }];
  }
  return [{ type: 'ignored', reason: `untracked Telnyx event ${e.data.event_type}` }];
}

export const telnyxWebhooks: WebhookRoute<TelnyxSettings>[] = [
  {
    kind: 'messaging',
    paths: [MESSAGING_WEBHOOK_PATH],
    methods: ['POST'],
    body: 'parsed',
    verify: verifyTelnyx,
    accept: (req) => `telnyx:${envelope(req.json).data.id}`,
    respond: { status: 200, body: { ok: true } },
    onArrival: (req) => {
      // Only a plain delivery step is applied as it is stored; errors (opt-out, invalid number) take the queue and a transaction.
      const e = envelope(req.json);
      if (e.data.event_type !== 'message.sent' && e.data.event_type !== 'message.finalized') return null;
      const r = statusReport(e);
      return 'ignored' in r || r.errorCode ? null : (r as StatusReport & { ref: { providerMessageId: string } });
    },
    parse,
  },
];

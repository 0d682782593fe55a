// Lob letter tracking webhooks: mailed, in transit, delivered, returned to
// sender, failed, and the certified-mail variants. Each is signed in
// Lob-Signature: hex HMAC-SHA256, keyed with the webhook secret, of
// `${Lob-Signature-Timestamp}.${raw body}`. A returned letter marks the
// postal address invalid and the thread for review.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue } from '../kit/requests.js';
import { fresh } from '../kit/timestamps.js';
import {
  WebhookRefusal,
  type GatewayStatus,
  type ProviderEvent,
  type VerifyOptions,
  type WebhookRequest,
  type WebhookRoute,
} from '../types.js';
import type { LobSettings } from './config.js';

export const WEBHOOK_PATH = '/webhooks/lob';
export const SIGNATURE_HEADER = 'lob-signature';

interface LobEvent {
  id?: string;
  event_type?: { id?: string };
  body?: { id?: string; [k: string]: unknown };
  reference_id?: string;
  date_created?: string;
}

export function verifyLob(req: WebhookRequest, s: LobSettings, o: VerifyOptions): void {
  const signature = headerValue(req, SIGNATURE_HEADER) ?? '';
  const timestamp = headerValue(req, 'lob-signature-timestamp') ?? '';
  const expected = req.raw.length
    ? createHmac('sha256', s.webhookSecret).update(`${timestamp}.`).update(req.raw).digest()
    : null;
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : null;
  if (!expected || !given || !timestamp || !timingSafeEqual(expected, given))
    throw new WebhookRefusal(403, 'invalid or missing Lob-Signature');
  if (!fresh(timestamp, o.maxAgeSeconds, o.now))
    throw new WebhookRefusal(403, `webhook timestamp outside the ${o.maxAgeSeconds} s window (replay?)`);
}

/** letter.mailed, letter.certified.delivered, … → our status (null: kept in the history only). */
export function lobStatus(eventType: string): GatewayStatus | null | undefined {
  const step = eventType.replace(/^letter\./, '').replace(/^certified\./, '');
  const map: Record<string, GatewayStatus | null> = {
    created: null,
    rendered_pdf: null,
    rendered_thumbnails: null,
    mailed: 'MAILED',
    in_transit: 'IN_TRANSIT',
    in_local_area: 'IN_TRANSIT',
    processed_for_delivery: 'IN_TRANSIT',
    're-routed': 'IN_TRANSIT',
    pickup_available: 'IN_TRANSIT',
    issue: null,
    delivered: 'DELIVERED',
    returned_to_sender: 'RETURNED',
    failed: 'FAILED',
    deleted: 'CANCELLED',
  };
  return step in map ? map[step] : undefined;
}

function parseLetter(body: Buffer): ProviderEvent[] {
  const e = JSON.parse(body.toString('utf8')) as LobEvent;
  const type = e.event_type?.id ?? '';
  const status = lobStatus(type);
  if (status === undefined) return [{ type: 'ignored', reason: `untracked Lob event ${type}` }];
  const letterId = e.body?.id ?? e.reference_id;
  if (!letterId) return [{ type: 'ignored', reason: 'event names no letter' }];
  return [
    {
      type: 'status',
      status: {
        ref: { providerMessageId: letterId },
        status,
        providerStatus: type,
        providerEventId: `lob:${e.id}`,
        ...(e.date_created ? { occurredAt: new Date(e.date_created) } : {}),
        detail: {
          eventType: type,
          letterId,
          ...(e.body?.tracking_number ? { trackingNumber: e.body.tracking_number } : {}),
        },
        cause: { lobEventId: e.id },
        ...(status === 'RETURNED'
          ? {
              consequence: {
                kind: 'invalid' as const,
                reason: 'letter returned to sender',
                eventReason: 'returned_to_sender',
                reviewReason: 'letter returned to sender; address needs checking',
              },
            }
          : {}),
      },
    },
  ];
}

export const lobWebhooks: WebhookRoute<LobSettings>[] = [
  {
    kind: 'letter',
    paths: [WEBHOOK_PATH],
    methods: ['POST'],
    body: 'parsed',
    verify: verifyLob,
    accept: (req) => {
      const e = req.json as LobEvent | null;
      if (!e || typeof e !== 'object' || typeof e.id !== 'string' || !e.event_type?.id) {
        throw new WebhookRefusal(400, 'not a Lob event', [
          { field: 'id', reason: 'is required' },
          { field: 'event_type.id', reason: 'is required' },
        ]);
      }
      return `lob:${e.id}`;
    },
    respond: { status: 200, body: { ok: true } },
    parse: (stored) => parseLetter(stored.body),
  },
];

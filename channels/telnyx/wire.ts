// Telnyx Messaging API v2 wire details shared by the adapter, the webhook
// parser and the sandbox: the webhook envelope, the error body, the statuses
// and the error codes that say something about the recipient. Checked against
// developers.telnyx.com (Receiving Webhooks for Messaging, Messaging Error
// Codes, API Error Codes) and the telnyx SDK's own types.
import { sign, type KeyObject } from 'node:crypto';

/** A message's per-recipient status (`payload.to[].status`). */
export type TelnyxMessageStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'sending_failed'
  | 'delivery_failed'
  | 'delivery_unconfirmed'
  | 'webhook_delivered';

export interface TelnyxError {
  code: string;
  title: string;
  detail?: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

/** What the API answers with on any error (JSON:API style). */
export interface TelnyxErrorBody {
  errors: TelnyxError[];
}

export interface TelnyxAddress {
  phone_number: string;
  carrier?: string;
  line_type?: string;
  status?: TelnyxMessageStatus;
}

/** A message record: the API's `data` and the webhook's `payload`. */
export interface TelnyxMessagePayload {
  record_type: 'message';
  direction: 'outbound' | 'inbound';
  id: string;
  type: 'SMS' | 'MMS';
  messaging_profile_id: string | null;
  organization_id: string;
  from: TelnyxAddress;
  to: TelnyxAddress[];
  cc: TelnyxAddress[];
  text: string;
  subject: string | null;
  media: { url: string; content_type: string | null; sha256: string | null; size: number | null }[];
  webhook_url: string | null;
  webhook_failover_url: string | null;
  encoding: 'GSM-7' | 'UCS-2';
  parts: number;
  tags: string[];
  cost: { amount: string; currency: string } | null;
  received_at: string;
  sent_at: string | null;
  completed_at: string | null;
  valid_until: string | null;
  errors: TelnyxError[];
  autoresponse_type?: string | null;
}

export type TelnyxEventType = 'message.received' | 'message.sent' | 'message.finalized';

/** Every messaging webhook: `{ data: { event_type, id, occurred_at, payload, record_type }, meta }`. */
export interface TelnyxWebhookEnvelope {
  data: {
    event_type: TelnyxEventType | string;
    id: string;
    occurred_at: string;
    payload: TelnyxMessagePayload;
    record_type: 'event';
  };
  meta: { attempt: number; delivered_to: string };
}

/** Header names Telnyx signs its webhooks with (ed25519 over `${timestamp}|${raw body}`). */
export const SIGNATURE_HEADER = 'telnyx-signature-ed25519';
export const TIMESTAMP_HEADER = 'telnyx-timestamp';

/** Signs a webhook exactly as Telnyx does: base64 ed25519 signature of `${timestamp}|${body}`. */
export function signTelnyxWebhook(privateKey: KeyObject, timestamp: string, body: string): string {
  return sign(null, Buffer.from(`${timestamp}|${body}`), privateKey).toString('base64');
}

/** Error codes about the recipient: a refusal that no other provider would overturn. */
export const OPTED_OUT_CODE = '40300'; // "Blocked due to STOP message" (HTTP 409)
export const INVALID_NUMBER_CODES = new Set([
  '40310', // "Invalid 'to' address"
  '40012', // "Invalid destination number" (carrier, in message.finalized)
  '40001', // "Not routable": a landline or a number no carrier texts
  '10002', // "Invalid phone number"
  '10016', // "Phone number must be in +E.164 format"
]);

/** Telnyx's default opt-out / opt-in keywords (the whole message, any case). */
export const OPT_OUT_KEYWORDS = new Set(['STOP', 'END', 'QUIT']);
export const OPT_IN_KEYWORDS = new Set(['START']);

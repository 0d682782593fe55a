// SMS through Telnyx's Messaging API v2 with the official SDK. `baseURL`
// points the SDK at the local sandbox. The SDK's own retries are off: the
// outbox retries with backoff and, with several SMS providers, fails over.
import Telnyx, { APIError } from 'telnyx';
import { ProviderError, type ChannelAdapter, type ContactPointEffect, type SmsPayload } from '../types.js';
import { INVALID_NUMBER_CODES, OPTED_OUT_CODE, type TelnyxErrorBody } from './wire.js';

export interface TelnyxSmsOptions {
  apiKey: string;
  from: string;
  messagingProfileId?: string;
  /** e.g. https://api.telnyx.com/v2 (default) or the sandbox's …/v2 */
  baseUrl?: string;
  /** Where Telnyx posts this message's message.sent / message.finalized events. */
  webhookUrl: string;
  timeoutMs?: number;
}

export function effectOf(code: string | undefined): ContactPointEffect | undefined {
  if (code === OPTED_OUT_CODE) return 'sms_opted_out';
  if (code && INVALID_NUMBER_CODES.has(code)) return 'number_invalid';
  return undefined;
}

export function toProviderError(err: unknown): ProviderError {
  if (err instanceof APIError && typeof err.status === 'number') {
    const first = (err.error as Partial<TelnyxErrorBody> | undefined)?.errors?.[0];
    const code = first?.code ? String(first.code) : `http_${err.status}`;
    const transient = err.status >= 500 || err.status === 429;
    const message = [first?.title, first?.detail].filter(Boolean).join(': ') || err.message;
    return new ProviderError(message, 'telnyx', code, transient, transient ? undefined : effectOf(code), err.status);
  }
  // No HTTP status: a timeout or a connection failure — worth retrying.
  return new ProviderError((err as Error)?.message ?? 'Telnyx request failed', 'telnyx', 'network', true);
}

export function telnyxSms(o: TelnyxSmsOptions): ChannelAdapter<SmsPayload> {
  const client = new Telnyx({
    apiKey: o.apiKey,
    ...(o.baseUrl ? { baseURL: o.baseUrl } : {}),
    maxRetries: 0,
    timeout: o.timeoutMs ?? 15_000,
  });
  return {
    provider: 'telnyx',
    channel: 'SMS',
    async send({ payload }) {
      try {
        const res = await client.messages.send({
          from: o.from,
          to: payload.to,
          text: payload.text,
          ...(o.messagingProfileId ? { messaging_profile_id: o.messagingProfileId } : {}),
          ...(payload.mediaUrls?.length ? { media_urls: payload.mediaUrls, type: 'MMS' as const } : {}),
          webhook_url: o.webhookUrl,
          use_profile_webhooks: false,
        });
        const id = res.data?.id;
        if (!id) throw new ProviderError('Telnyx accepted the message without an id', 'telnyx', 'no_message_id', true);
        return { provider: 'telnyx', providerMessageId: id, status: 'QUEUED', detail: { parts: res.data?.parts } };
      } catch (err) {
        if (err instanceof ProviderError) throw err;
        throw toProviderError(err);
      }
    },
  };
}

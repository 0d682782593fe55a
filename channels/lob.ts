// Posted letters through Lob's Print & Mail API with the official SDK.
import { Configuration, LettersApi } from '@lob/lob-typescript-sdk';
import { ProviderError, type ChannelAdapter, type LetterPayload, type PostalAddress } from './types.js';

export interface LobOptions {
  apiKey: string;
  /** e.g. https://api.lob.com/v1 (default) or the sandbox's …/v1 */
  basePath?: string;
}

function address(a: PostalAddress) {
  return {
    name: a.name.slice(0, 40),
    address_line1: a.line1,
    address_line2: a.line2 ?? undefined,
    address_city: a.city,
    address_state: a.region ?? undefined,
    address_zip: a.postalCode,
    address_country: a.country as never,
  };
}

export function lobLetters(o: LobOptions): ChannelAdapter<LetterPayload> {
  const api = new LettersApi(new Configuration({ username: o.apiKey, basePath: o.basePath ?? 'https://api.lob.com/v1' }));
  return {
    provider: 'lob',
    channel: 'LETTER',
    // Lob keeps an Idempotency-Key for 24 hours: a repeat within them returns the same letter, never a second print.
    idempotencyWindowMs: 24 * 3600_000,
    async send({ messageId, payload }) {
      try {
        const letter = await api.create(
          {
            description: payload.description.slice(0, 255),
            to: address(payload.to),
            from: address(payload.from),
            // Lob fetches the PDF from this signed, time-limited URL of ours.
            file: payload.pdfUrl,
            color: payload.color ?? false,
            use_type: 'operational',
            mail_type: payload.mailType,
            ...(payload.extraService ? { extra_service: payload.extraService } : {}),
            metadata: { gateway_message_id: messageId },
          } as never,
          messageId, // Idempotency-Key: a retried dispatch never prints twice
        );
        return { provider: 'lob', providerMessageId: letter.id!, status: 'QUEUED', detail: { expectedDeliveryDate: letter.expected_delivery_date, trackingNumber: (letter as { tracking_number?: string }).tracking_number } };
      } catch (err) {
        const e = err as { response?: { status?: number; data?: { error?: { message?: string; code?: string } } }; message?: string };
        const status = e.response?.status;
        const transient = status === undefined || status >= 500 || status === 429;
        const msg = e.response?.data?.error?.message ?? e.message ?? 'Lob request failed';
        const code = e.response?.data?.error?.code ?? (status ? `http_${status}` : 'network');
        throw new ProviderError(msg, 'lob', code, transient, !transient && /address/i.test(msg) ? 'address_invalid' : undefined, status);
      }
    },
  };
}

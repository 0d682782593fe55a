// Posted letters through Lob's Print & Mail API with the official SDK.
import { Configuration, LettersApi } from '@lob/lob-typescript-sdk';
import { ProviderError, type ChannelAdapter, type LetterPayload, type PostalAddress } from '../types.js';

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

type LobExtraService = 'certified' | 'certified_return_receipt' | 'registered';

/**
 * The extra_service Lob can give this destination (lob-openapi
 * letter_extra_service: certified "for domestic destinations", registered
 * "for international addresses"): certified kept for the US, registered
 * instead abroad (and the other way round), nothing sent when none is wanted
 * ("none" from a template is no value of Lob's enum). `substituted` says why
 * the letter goes with another service than asked.
 */
export function lobExtraService(
  wanted: string | null | undefined,
  country: string,
): { extraService: LobExtraService | null; substituted?: string } {
  if (!wanted || wanted === 'none') return { extraService: null };
  const domestic = country.trim().toUpperCase() === 'US';
  if (wanted === 'certified' || wanted === 'certified_return_receipt') {
    return domestic
      ? { extraService: wanted }
      : {
          extraService: 'registered',
          substituted: `${wanted} is offered for US destinations only; registered for ${country}`,
        };
  }
  if (wanted === 'registered') {
    return domestic
      ? {
          extraService: 'certified',
          substituted: 'registered is offered for international destinations only; certified within the US',
        }
      : { extraService: 'registered' };
  }
  return { extraService: null, substituted: `unknown extra service ${wanted}: sent without one` };
}

export function lobLetters(o: LobOptions): ChannelAdapter<LetterPayload> {
  const api = new LettersApi(
    new Configuration({ username: o.apiKey, basePath: o.basePath ?? 'https://api.lob.com/v1' }),
  );
  return {
    provider: 'lob',
    channel: 'LETTER',
    // Lob keeps an Idempotency-Key for 24 hours: a repeat within them returns the same letter, never a second print.
    idempotencyWindowMs: 24 * 3600_000,
    async send({ messageId, payload }) {
      const service = lobExtraService(payload.extraService, payload.to.country);
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
            // Omitted, not "none" or null, when no extra service is wanted.
            ...(service.extraService ? { extra_service: service.extraService } : {}),
            metadata: { gateway_message_id: messageId },
          } as never,
          messageId, // Idempotency-Key: a retried dispatch never prints twice
        );
        return {
          provider: 'lob',
          providerMessageId: letter.id!,
          status: 'QUEUED',
          detail: {
            expectedDeliveryDate: letter.expected_delivery_date,
            trackingNumber: (letter as { tracking_number?: string }).tracking_number,
            extraService: service.extraService,
            ...(service.substituted ? { extraServiceSubstituted: service.substituted } : {}),
          },
        };
      } catch (err) {
        const e = err as {
          response?: { status?: number; data?: { error?: { message?: string; code?: string } } };
          message?: string;
        };
        const status = e.response?.status;
        const transient = status === undefined || status >= 500 || status === 429;
        const msg = e.response?.data?.error?.message ?? e.message ?? 'Lob request failed';
        const code = e.response?.data?.error?.code ?? (status ? `http_${status}` : 'network');
        throw new ProviderError(
          msg,
          'lob',
          code,
          transient,
          !transient && /address/i.test(msg) ? 'address_invalid' : undefined,
          status,
        );
      }
    },
  };
}

/**
 * Twilio REST 2010-04-01 wire details the sandbox must reproduce byte-for-byte
 * closely enough that the official SDK and the gateway's validators accept them.
 */
import twilio from 'twilio';

export const TWILIO_API_VERSION = '2010-04-01';

/** Twilio's legacy JSON error body; the SDK turns it into RestException {status, code, message, moreInfo}. */
export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  toBody(): TwilioErrorBody {
    return { code: this.code, message: this.message, more_info: `https://www.twilio.com/docs/errors/${this.code}`, status: this.status };
  }
}

/** Form fields as Twilio sends them: every value a string. */
export type TwilioParams = Record<string, string>;

/**
 * Signs a webhook exactly as Twilio does (HMAC-SHA1 over URL + sorted params,
 * base64), delegating to the SDK's own helper so both sides share one algorithm.
 */
export function signTwilioWebhook(authToken: string, url: string, params: TwilioParams): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}

export function encodeForm(params: TwilioParams): string {
  return new URLSearchParams(params).toString();
}

/** Twilio renders dates as RFC 2822, e.g. `Thu, 24 Aug 2023 05:01:45 +0000`. */
export function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

// GSM 03.38 basic set; characters outside it force UCS-2 encoding.
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
// Extension table characters cost two septets (escape + char).
const GSM7_EXTENDED = '^{}\\[~]|€\f';

/** Number of SMS segments Twilio bills for a body: GSM-7 160/153 septets, UCS-2 70/67 code units. */
export function countSmsSegments(body: string): number {
  if (body.length === 0) return 1;
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (GSM7_BASIC.includes(ch)) septets += 1;
    else if (GSM7_EXTENDED.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return septets <= 160 ? 1 : Math.ceil(septets / 153);
  const units = body.length; // UTF-16 code units, which is what UCS-2 segments count
  return units <= 70 ? 1 : Math.ceil(units / 67);
}

/** Default opt-out / opt-in keywords Twilio handles itself (exact single word, any case). */
export const OPT_OUT_KEYWORDS = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']);
export const OPT_IN_KEYWORDS = new Set(['START', 'YES', 'UNSTOP']);

const E164 = /^\+[1-9]\d{1,14}$/;
export function isE164(value: string): boolean {
  return E164.test(value);
}

/**
 * Twilio REST 2010-04-01 wire details the sandbox must reproduce byte-for-byte
 * closely enough that the official SDK and the gateway's validators accept them.
 */
import { SegmentedMessage } from 'sms-segments-calculator';
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
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
    };
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

/**
 * Number of SMS segments Twilio bills for a body, by Twilio's own calculator
 * (sms-segments-calculator): GSM-7 160/153 septets or UCS-2 70/67 units, and a
 * character is never split across segments (an extension character's two
 * septets, a surrogate pair's two units) — which ceil(length / 153) gets wrong.
 */
export function countSmsSegments(body: string): number {
  if (body.length === 0) return 1;
  return new SegmentedMessage(body).segmentsCount;
}

/** Default opt-out / opt-in keywords Twilio handles itself (exact single word, any case). */
export const OPT_OUT_KEYWORDS = new Set([
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
]);
export const OPT_IN_KEYWORDS = new Set(['START', 'YES', 'UNSTOP']);

const E164 = /^\+[1-9]\d{1,14}$/;
export function isE164(value: string): boolean {
  return E164.test(value);
}

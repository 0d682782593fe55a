// Signed Twilio inbound SMS at a fixed rate (autocannon), from a process of
// its own: a provider's webhooks come from elsewhere, so the load generator
// (which signs every request) must not share the gateway's event loop, or its
// own pauses would be counted as the gateway's latency. Used by the inbound
// bench (gateway and ceiling alike) as
//   node --import tsx bench/inbound-load.ts '<json LoadRequest>'
// which prints the LoadFigures as JSON on its last line.
import autocannon from 'autocannon';
import twilio from 'twilio';
import { TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from './env.js';
import { benchPhone } from './seed.js';
import { round } from './stats.js';
import { childMain, runChild } from './child.js';

export const SMS_PATH = '/webhooks/twilio/sms';

/** The params Twilio posts for an inbound SMS, with a unique MessageSid. */
export function inboundSmsParams(sid: string, from: string): Record<string, string> {
  return {
    ApiVersion: '2010-04-01',
    AccountSid: TWILIO_ACCOUNT_SID,
    MessageSid: sid,
    SmsSid: sid,
    SmsMessageSid: sid,
    From: from,
    To: '+15005550006',
    Body: 'When is my next payment due?',
    NumMedia: '0',
    NumSegments: '1',
  };
}

/** A form body and X-Twilio-Signature for `params` posted to `url`. */
export function signedForm(url: string, params: Record<string, string>): { body: string; signature: string } {
  return {
    body: new URLSearchParams(params).toString(),
    signature: twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, url, params),
  };
}

export interface LoadFigures {
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  achievedRate: number;
}

export interface LoadRequest {
  baseUrl: string;
  /** The URL the signature covers (the gateway's public base URL). */
  signedBase: string;
  sidPrefix: string;
  areaCode: string;
  rate: number;
  amount: number;
}

async function fire({ baseUrl, signedBase, sidPrefix, areaCode, rate, amount }: LoadRequest): Promise<LoadFigures> {
  let counter = 0;
  const result = await autocannon({
    url: baseUrl,
    connections: 25,
    overallRate: rate,
    amount,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: SMS_PATH,
        // Each request is its own message: the signature covers the params, so sign each one.
        setupRequest: (req) => {
          const i = counter++;
          const sid = `${sidPrefix}${String(i).padStart(10, '0')}`;
          const { body, signature } = signedForm(
            `${signedBase}${SMS_PATH}`,
            inboundSmsParams(sid, benchPhone(areaCode, i)),
          );
          return {
            ...req,
            body,
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
          };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    achievedRate: round(result.requests.average),
  };
}

/** Runs the load from a child process and returns its figures. */
export function fireFromChild(req: LoadRequest): Promise<LoadFigures> {
  return runChild<LoadFigures>('inbound-load.ts', JSON.stringify(req), 'load generator');
}

childMain(import.meta.url, (arg) => fire(JSON.parse(arg) as LoadRequest));

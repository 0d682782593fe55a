import type { CallbackRecord } from '../../kit/callback-dispatcher.js';
import type { TwilioRuntime } from './types.js';
import { encodeForm, signTwilioWebhook, type TwilioParams } from './wire.js';

/**
 * Sends one webhook the way Twilio does: POST form-encoded params, or GET with the
 * params appended to the query string (then the signature covers the full URL and
 * no body params), signed with X-Twilio-Signature using the account's auth token.
 */
export function sendTwilioWebhook(
  runtime: TwilioRuntime,
  kind: string,
  url: string,
  method: 'POST' | 'GET',
  params: TwilioParams,
): Promise<CallbackRecord> {
  if (method === 'GET') {
    const separator = url.includes('?') ? '&' : '?';
    const fullUrl = `${url}${separator}${encodeForm(params)}`;
    return runtime.dispatcher.deliver({
      provider: 'twilio',
      kind,
      method: 'GET',
      url: fullUrl,
      headers: {
        'X-Twilio-Signature': signTwilioWebhook(runtime.authToken, fullUrl, {}),
        'User-Agent': 'TwilioProxy/1.1',
      },
      body: '',
    });
  }
  return runtime.dispatcher.deliver({
    provider: 'twilio',
    kind,
    method: 'POST',
    url,
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8',
      'X-Twilio-Signature': signTwilioWebhook(runtime.authToken, url, params),
      'User-Agent': 'TwilioProxy/1.1',
      // Accept mirrors what Twilio sends to voice/messaging webhooks; gateways answer TwiML.
      Accept: '*/*',
    },
    body: encodeForm(params),
  });
}

export function parseHttpMethod(value: string | undefined, field: string): 'POST' | 'GET' {
  if (value === undefined || value === '') return 'POST';
  const upper = value.toUpperCase();
  if (upper !== 'POST' && upper !== 'GET') throw new Error(`${field} must be GET or POST, got ${value}`);
  return upper;
}

import { randomBytes } from 'node:crypto';

/** Provider-style id: a fixed prefix and `hexChars` lowercase hex digits (Twilio `SM…`, Lob `ltr_…`). */
export function prefixedHexId(prefix: string, hexChars: number): string {
  return (
    prefix +
    randomBytes(Math.ceil(hexChars / 2))
      .toString('hex')
      .slice(0, hexChars)
  );
}

/** URL-safe base64 token of `bytes` random bytes (SendGrid's X-Message-Id / sg_event_id look like this). */
export function base64UrlToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

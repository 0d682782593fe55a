// The envelope sender (Return-Path) of our emails: a VERP address on the
// inbound domain, bounce+<message id>.<mac>@INBOUND_EMAIL_DOMAIN, so the
// delivery-status reports that MTAs send back land on our own inbound paths
// (SendGrid Inbound Parse for the domain, or the SMTP listener) and name the
// message they are about. The MAC keeps a forged "bounce" from invalidating
// an address: only an address we handed out names a message.
// Shared by outbound (which sets it) and inbound (which reads it).
import { createHmac, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function tag(secret: string, hexId: string): string {
  // Hex, not base64: some MTAs fold the case of local parts. 12 hex = 48 bits, ample against guessing by mail.
  return createHmac('sha256', secret).update(`return-path:v1:${hexId}`).digest('hex').slice(0, 12);
}

/** bounce+<32 hex>.<12 hex>@domain: 52 characters of local part (RFC 5321 allows 64). */
export function returnPathFor(secret: string, messageId: string, inboundDomain: string): string {
  if (!UUID.test(messageId)) throw new Error('messageId must be a UUID');
  const hex = messageId.replace(/-/g, '').toLowerCase();
  return `bounce+${hex}.${tag(secret, hex)}@${inboundDomain.toLowerCase()}`;
}

/** The message id a return-path address names, or null when it is not one of ours (or forged). */
export function messageIdOfReturnPath(secret: string, address: string, inboundDomain: string): string | null {
  const m = /^bounce\+([0-9a-f]{32})\.([0-9a-f]{12})@(.+)$/i.exec(address.trim());
  if (!m || m[3]!.toLowerCase() !== inboundDomain.toLowerCase()) return null;
  const hex = m[1]!.toLowerCase();
  const given = Buffer.from(m[2]!.toLowerCase());
  const expected = Buffer.from(tag(secret, hex));
  if (!timingSafeEqual(given, expected)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether an address is on the bounce form at all (signed or not): such mail is never a person's reply. */
export const isReturnPathAddress = (address: string, inboundDomain: string): boolean =>
  /^bounce\+[^@]*@(.+)$/i.exec(address.trim())?.[1]?.toLowerCase() === inboundDomain.toLowerCase();

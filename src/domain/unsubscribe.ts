// Stateless one-click unsubscribe tokens (RFC 8058): the contact point id
// signed with the service secret, so the link works without a lookup table
// and cannot be forged to opt out someone else.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function unsubscribeToken(secret: string, contactPointId: string): string {
  const mac = createHmac('sha256', secret).update(`unsubscribe:${contactPointId}`).digest('base64url').slice(0, 32);
  return `${Buffer.from(contactPointId).toString('base64url')}.${mac}`;
}

export function verifyUnsubscribeToken(secret: string, token: string): string | null {
  const [idPart, mac] = token.split('.');
  if (!idPart || !mac) return null;
  const contactPointId = Buffer.from(idPart, 'base64url').toString('utf8');
  const expected = unsubscribeToken(secret, contactPointId).split('.')[1]!;
  if (expected.length !== mac.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(mac))) return null;
  return contactPointId;
}

export function unsubscribeUrl(publicBaseUrl: string, secret: string, contactPointId: string): string {
  return `${publicBaseUrl}/unsubscribe/${unsubscribeToken(secret, contactPointId)}`;
}

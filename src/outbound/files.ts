// Letter PDFs: kept under DATA_DIR/letters, readable by signed-in principals
// through the API, and by the print provider through a signed, expiring URL.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.js';

export function letterPdfUrl(ctx: AppContext, messageId: string, ttlSeconds = 7 * 24 * 3600): string {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  return `${ctx.publicBaseUrl}/files/letters/${messageId}.pdf?exp=${exp}&sig=${sign(ctx.secret, messageId, exp)}`;
}

function sign(secret: string, messageId: string, exp: number): string {
  return createHmac('sha256', secret).update(`letter:${messageId}:${exp}`).digest('base64url');
}

export function verifyLetterUrl(secret: string, messageId: string, exp: string, sig: string, now = Date.now()): boolean {
  const e = Number(exp);
  if (!Number.isInteger(e) || e * 1000 < now) return false;
  const expected = Buffer.from(sign(secret, messageId, e));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

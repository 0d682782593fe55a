// Letter PDFs: kept under DATA_DIR/letters, readable by signed-in principals
// through the API, and by the print provider through a signed, expiring URL.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.js';

/** Where signed letter links live; the logger redacts everything after it (src/logger.ts SECRET_PATH_PREFIXES). */
export const SIGNED_LETTER_PATH = '/files/letters/signed/';

/**
 * The signed, expiring link of a letter's PDF, all in the path
 * (…/files/letters/signed/<exp>.<sig>/<id>.pdf): Lob accepts a remote file
 * only as https://….pdf with no query string (its remote_file_url pattern).
 */
export function letterPdfUrl(ctx: AppContext, messageId: string, ttlSeconds = 7 * 24 * 3600): string {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  return `${ctx.publicBaseUrl}${SIGNED_LETTER_PATH}${exp}.${sign(ctx.secret, messageId, exp)}/${messageId}.pdf`;
}

function sign(secret: string, messageId: string, exp: number): string {
  return createHmac('sha256', secret).update(`letter:${messageId}:${exp}`).digest('base64url');
}

export function verifyLetterUrl(
  secret: string,
  messageId: string,
  exp: string,
  sig: string,
  now = Date.now(),
): boolean {
  const e = Number(exp);
  if (!Number.isInteger(e) || e * 1000 < now) return false;
  const expected = Buffer.from(sign(secret, messageId, e));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

// The debtor page's session and CSRF tokens.
// - Before the visitor is verified, forms carry a token derived from a random
//   per-browser nonce cookie and the link (double submit: a cross-site page can
//   neither read the cookie nor compute the token).
// - After verification, a session cookie (random, stored hashed, short-lived,
//   bound to one debtor) and the session's own CSRF token in every form.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { derivedKey } from '../secrets.js';

export const SESSION_COOKIE = 'portal_session';
export const NONCE_COOKIE = 'portal_nonce';
export const SESSION_TTL_MS = 30 * 60_000;
const COOKIE_PATH = '/pay';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const csrfKey = (secret: string) => derivedKey(secret, 'dunning-gateway/portal-csrf/v1');

export function cookieOf(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

function setCookie(ctx: AppContext, res: Response, name: string, value: string, maxAgeMs: number | null): void {
  res.cookie(name, value, {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.publicBaseUrl.startsWith('https:'),
    path: COOKIE_PATH,
    ...(maxAgeMs === null ? {} : { maxAge: maxAgeMs }),
  });
}

/** The pre-verification nonce of this browser, set if missing. */
export function ensureNonce(ctx: AppContext, req: Request, res: Response): string {
  const existing = cookieOf(req, NONCE_COOKIE);
  if (existing) return existing;
  const nonce = randomBytes(18).toString('base64url');
  setCookie(ctx, res, NONCE_COOKIE, nonce, null);
  return nonce;
}

export function preCsrfToken(ctx: AppContext, nonce: string, linkToken: string): string {
  return createHmac('sha256', csrfKey(ctx.secret)).update(`pre:${nonce}:${linkToken}`).digest('base64url');
}

export function checkPreCsrf(ctx: AppContext, req: Request, linkToken: string, given: unknown): boolean {
  const nonce = cookieOf(req, NONCE_COOKIE);
  return !!nonce && typeof given === 'string' && safeEqual(preCsrfToken(ctx, nonce, linkToken), given);
}

export interface PortalSessionRow {
  id: string;
  debtorId: string;
  debtId: string;
  csrfToken: string;
  expiresAt: Date;
}

export async function createSession(
  ctx: AppContext,
  res: Response,
  who: { debtorId: string; debtId: string; verifiedBy: string },
  now: Date,
): Promise<PortalSessionRow> {
  const token = randomBytes(32).toString('base64url');
  const row = await ctx.db.portalSession.create({
    data: {
      id: sha256(token),
      debtorId: who.debtorId,
      debtId: who.debtId,
      verifiedBy: who.verifiedBy,
      csrfToken: randomBytes(24).toString('base64url'),
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS),
    },
  });
  setCookie(ctx, res, SESSION_COOKIE, token, SESSION_TTL_MS);
  return row;
}

/** The browser's session for this debtor, if any and not expired (each use extends it). */
export async function sessionFor(
  ctx: AppContext,
  req: Request,
  debtorId: string,
  now: Date,
): Promise<PortalSessionRow | null> {
  const token = cookieOf(req, SESSION_COOKIE);
  if (!token) return null;
  const row = await ctx.db.portalSession.findUnique({ where: { id: sha256(token) } });
  if (!row || row.debtorId !== debtorId || row.expiresAt <= now) return null;
  if (row.expiresAt.getTime() - now.getTime() < SESSION_TTL_MS / 2) {
    await ctx.db.portalSession.update({
      where: { id: row.id },
      data: { expiresAt: new Date(now.getTime() + SESSION_TTL_MS) },
    });
  }
  return row;
}

export function checkSessionCsrf(session: PortalSessionRow, given: unknown): boolean {
  return typeof given === 'string' && safeEqual(session.csrfToken, given);
}

export async function endSession(ctx: AppContext, req: Request, res: Response): Promise<void> {
  const token = cookieOf(req, SESSION_COOKIE);
  if (token) await ctx.db.portalSession.deleteMany({ where: { id: sha256(token) } });
  res.clearCookie(SESSION_COOKIE, { path: COOKIE_PATH });
}

// Browser sessions of the web inbox. The cookie holds a random token; the
// sessions table stores only its sha256, so a database leak yields no usable
// cookie. Cookie-authenticated mutations must carry the session's CSRF token
// in X-CSRF-Token (double submit: a cross-site page cannot read it) and come
// from our own origin (Origin / Referer check). Bearer-key requests are exempt:
// browsers never attach those by themselves.
import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Socket } from 'socket.io';
import type { AppContext } from '../../context.js';
import type { Principal } from '../../auth/principal.js';
import { safeEqual } from '../../auth/api-keys.js';
import { forbidden } from '../../http/errors.js';

export const SESSION_COOKIE = 'dgw_session';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || name in out) continue;
    try {
      out[name] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      /* a malformed cookie is ignored */
    }
  }
  return out;
}

export interface SessionUser {
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
  user: { id: string; email: string; name: string; role: 'ADMIN' | 'AGENT' };
}

export async function createSession(
  ctx: AppContext,
  userId: string,
  req: Request,
): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await ctx.db.session.create({
    data: {
      id: sha256(token),
      userId,
      csrfToken,
      expiresAt,
      ip: req.ip ?? null,
      userAgent: req.get('user-agent')?.slice(0, 300) ?? null,
    },
  });
  return { token, csrfToken, expiresAt };
}

export async function sessionFromToken(ctx: AppContext, token: string | undefined): Promise<SessionUser | null> {
  if (!token || token.length > 200) return null;
  const s = await ctx.db.session.findUnique({
    where: { id: sha256(token) },
    include: { user: { select: { id: true, email: true, name: true, role: true, active: true } } },
  });
  if (!s || s.expiresAt <= new Date() || !s.user.active) return null;
  const { active: _active, ...user } = s.user;
  return { sessionId: s.id, csrfToken: s.csrfToken, expiresAt: s.expiresAt, user };
}

export const sessionToken = (req: Request) => parseCookies(req.headers.cookie)[SESSION_COOKIE];

export async function destroySession(ctx: AppContext, token: string | undefined): Promise<void> {
  if (token) await ctx.db.session.deleteMany({ where: { id: sha256(token) } });
}

/** Secure when the request came over https (req.secure honours TRUST_PROXY's X-Forwarded-Proto). */
export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: Date): void {
  res.cookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: req.secure,
    path: '/',
    expires: expiresAt,
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/' });
}

/** Origins our own pages are served from: this request's host, and PUBLIC_BASE_URL. */
function allowedOrigins(ctx: AppContext, req: Request): Set<string> {
  const set = new Set<string>([`${req.protocol}://${req.get('host') ?? ''}`]);
  try {
    set.add(new URL(ctx.publicBaseUrl).origin);
  } catch {
    /* not a URL: only the request host counts */
  }
  return set;
}

/**
 * Refuses a cross-site request: Origin (or, lacking it, Referer) must name one
 * of our origins. A request with neither comes from a non-browser client and
 * is still bound by the CSRF token.
 */
export function assertSameOrigin(ctx: AppContext, req: Request): void {
  const origin = req.get('origin');
  const referer = req.get('referer');
  let source: string | null = null;
  if (origin && origin !== 'null') source = origin;
  else if (origin === 'null') throw forbidden('cross-site request refused (Origin: null)');
  else if (referer) {
    try {
      source = new URL(referer).origin;
    } catch {
      throw forbidden('cross-site request refused (unparseable Referer)');
    }
  }
  if (source !== null && !allowedOrigins(ctx, req).has(source))
    throw forbidden(`cross-site request refused (origin ${source})`);
}

export const sessionPrincipal = (s: SessionUser): Principal => ({
  type: 'user',
  id: s.user.id,
  role: s.user.role,
  name: s.user.name,
});

/** addPrincipalResolver: the session cookie, with the CSRF and origin checks on mutations. */
export async function resolveSessionPrincipal(req: Request, ctx: AppContext): Promise<Principal | null> {
  const session = await sessionFromToken(ctx, sessionToken(req));
  if (!session) return null;
  if (!SAFE_METHODS.has(req.method)) {
    assertSameOrigin(ctx, req);
    const sent = req.get('x-csrf-token');
    if (!sent || !safeEqual(sent, session.csrfToken))
      throw forbidden('missing or wrong X-CSRF-Token (read it from GET /api/v1/session)');
  }
  return sessionPrincipal(session);
}

/**
 * addSocketAuthResolver: the session cookie sent with the socket.io handshake.
 * The handshake must come from our own origin, so another site cannot open a
 * socket with the agent's cookie.
 */
export async function resolveSocketSession(socket: Socket, ctx: AppContext): Promise<Principal | null> {
  const token = parseCookies(socket.handshake.headers.cookie)[SESSION_COOKIE];
  if (!token) return null;
  const origin = socket.handshake.headers.origin;
  if (origin) {
    const host = socket.handshake.headers.host;
    const ok = [`http://${host}`, `https://${host}`];
    try {
      ok.push(new URL(ctx.publicBaseUrl).origin);
    } catch {
      /* ignore */
    }
    if (!ok.includes(origin)) return null;
  }
  const session = await sessionFromToken(ctx, token);
  if (!session) return null;
  socket.data.userId = session.user.id;
  socket.data.userName = session.user.name;
  return sessionPrincipal(session);
}

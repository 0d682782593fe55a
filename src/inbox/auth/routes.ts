// Sign-in for the web inbox and the admin's user management.
//   POST   /api/v1/session   {email, password}  sign in (sets the cookie; returns csrfToken)
//   GET    /api/v1/session                      who am I + csrfToken
//   DELETE /api/v1/session                      sign out
//   GET|POST /api/v1/users, PATCH /api/v1/users/:id   (admins)
//   GET    /api/v1/inbox/agents                 people a conversation can be assigned to
// Failed sign-ins are limited per client address, and an account is locked
// for LOCK_MS after MAX_FAILED consecutive wrong passwords.
import { senderNumber } from '../../providers.js';
import { plugins } from '../../../channels/registry.js';
import { z } from 'zod';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppContext } from '../../context.js';
import { audit } from '../../audit.js';
import { defineRoutes } from '../../http/api.js';
import { HttpError, notFound, unauthorized } from '../../http/errors.js';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './passwords.js';
import { createUser, normaliseEmail } from './users.js';
import {
  assertSameOrigin,
  clearSessionCookie,
  createSession,
  destroySession,
  sessionFromToken,
  sessionToken,
  setSessionCookie,
} from './sessions.js';

export const MAX_FAILED_LOGINS = 5;
export const LOCK_MS = 15 * 60 * 1000;
const IP_ATTEMPTS = 30;
const IP_WINDOW_SECONDS = 5 * 60;

// One limiter per running gateway (tests run several in one process).
const limiters = new WeakMap<AppContext, RateLimiterMemory>();
const limiterOf = (ctx: AppContext) => {
  let l = limiters.get(ctx);
  if (!l) limiters.set(ctx, (l = new RateLimiterMemory({ points: IP_ATTEMPTS, duration: IP_WINDOW_SECONDS })));
  return l;
};

const userView = (u: {
  id: string;
  email: string;
  name: string;
  role: string;
  active?: boolean;
  lockedUntil?: Date | null;
  lastLoginAt?: Date | null;
  createdAt?: Date;
}) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  ...(u.active !== undefined ? { active: u.active } : {}),
  ...(u.lockedUntil !== undefined
    ? { lockedUntil: u.lockedUntil && u.lockedUntil > new Date() ? u.lockedUntil : null }
    : {}),
  ...(u.lastLoginAt !== undefined ? { lastLoginAt: u.lastLoginAt } : {}),
});

/** What the web app's sandbox panel needs to act as a debtor: the SMS provider, the number and domain debtors write to. */
const sandboxInfo = (ctx: AppContext) =>
  ctx.sandboxes
    ? {
        smsProvider: ctx.providers.routing.SMS.order[0],
        smsNumber: senderNumber(ctx.providers, 'SMS'),
        inboundEmailProvider: plugins.find((p) => p.webhooks?.some((w) => w.kind === 'inbound-email'))?.id ?? null,
        inboundEmailDomain: ctx.providers.email.inboundDomain,
      }
    : null;

const invalidCredentials = () => unauthorized('invalid email or password');

/**
 * Counts one sign-in attempt against an account that is not locked, locking
 * it when this is the MAX_FAILED_LOGINS-th. Null when the account is locked
 * (the attempt is refused unchecked). A right password then resets the count.
 */
async function reserveAttempt(
  ctx: AppContext,
  userId: string,
  now: Date,
): Promise<{ count: number; locked: boolean } | null> {
  const lockUntil = new Date(now.getTime() + LOCK_MS);
  const rows = await ctx.db.$queryRaw<{ count: number; locked: boolean }[]>`
    UPDATE users SET
      failed_logins = CASE WHEN failed_logins + 1 >= ${MAX_FAILED_LOGINS} THEN 0 ELSE failed_logins + 1 END,
      locked_until = CASE WHEN failed_logins + 1 >= ${MAX_FAILED_LOGINS} THEN ${lockUntil} ELSE locked_until END
    WHERE id = ${userId}::uuid AND (locked_until IS NULL OR locked_until <= ${now})
    RETURNING CASE WHEN failed_logins = 0 THEN ${MAX_FAILED_LOGINS} ELSE failed_logins END AS count, (locked_until IS NOT NULL AND locked_until > ${now}) AS locked`;
  return rows[0] ?? null;
}

export const authRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/session',
    tag: 'session',
    public: true,
    summary: 'Sign in with email and password; sets the session cookie and returns the CSRF token',
    body: z.object({ email: z.string().min(3).max(254), password: z.string().min(1).max(1024) }),
    responses: {
      200: 'Signed in',
      401: 'Wrong email or password',
      403: 'Cross-site request',
      423: 'Account temporarily locked',
      429: 'Too many attempts from this address',
    },
    handler: async (req, res, ctx) => {
      assertSameOrigin(ctx, req);
      try {
        await limiterOf(ctx).consume(req.ip ?? 'unknown');
      } catch (e) {
        if (e instanceof RateLimiterRes) {
          res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
          throw new HttpError(429, 'rate_limited', 'too many sign-in attempts from this address; try again later');
        }
        throw e;
      }
      const email = normaliseEmail(req.valid.body.email);
      const user = await ctx.db.user.findUnique({ where: { email } });
      const now = new Date();
      const locked = (until: Date) => {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000))));
        return new HttpError(
          423,
          'locked',
          'account temporarily locked after repeated failed sign-ins; try again later',
          { lockedUntil: until.toISOString() },
        );
      };
      // The attempt is counted before the password is checked, in one statement
      // that also locks the account on the MAX_FAILED_LOGINS-th: a burst of
      // concurrent wrong passwords gets at most that many checks, the rest 423.
      const attempt = user ? await reserveAttempt(ctx, user.id, now) : null;
      if (user && !attempt) {
        const fresh = await ctx.db.user.findUnique({ where: { id: user.id }, select: { lockedUntil: true } });
        throw locked(
          fresh?.lockedUntil && fresh.lockedUntil > now ? fresh.lockedUntil : new Date(now.getTime() + LOCK_MS),
        );
      }
      const ok = await verifyPassword(user?.passwordHash ?? null, req.valid.body.password);
      if (!user || !ok || !user.active) {
        if (user && attempt) {
          await audit(
            ctx.db,
            { type: 'system' },
            {
              action: attempt.locked ? 'auth.locked' : 'auth.login_failed',
              entityType: 'user',
              entityId: user.id,
              data: { failedLogins: attempt.count },
            },
            req,
          );
        }
        throw invalidCredentials();
      }
      await ctx.db.user.update({
        where: { id: user.id },
        data: { failedLogins: 0, lockedUntil: null, lastLoginAt: now },
      });
      const session = await createSession(ctx, user.id, req);
      setSessionCookie(req, res, session.token, session.expiresAt);
      await audit(
        ctx.db,
        { type: 'user', id: user.id, role: user.role, name: user.name },
        { action: 'auth.login', entityType: 'user', entityId: user.id },
        req,
      );
      res.json({ user: userView(user), csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() });
    },
  },
  {
    method: 'get',
    path: '/api/v1/session',
    tag: 'session',
    summary: 'The signed-in user and the CSRF token for mutations',
    responses: { 200: 'Session', 401: 'Not signed in' },
    handler: async (req, res, ctx) => {
      const session = await sessionFromToken(ctx, sessionToken(req));
      if (session) {
        res.setHeader('Cache-Control', 'no-store');
        res.json({
          user: session.user,
          csrfToken: session.csrfToken,
          expiresAt: session.expiresAt.toISOString(),
          sandbox: sandboxInfo(ctx),
        });
        return;
      }
      const p = req.principal!;
      res.json({
        user: { id: p.id ?? null, name: p.name, role: p.role, type: p.type },
        csrfToken: null,
        sandbox: sandboxInfo(ctx),
      });
    },
  },
  {
    method: 'delete',
    path: '/api/v1/session',
    tag: 'session',
    summary: 'Sign out',
    responses: { 204: 'Signed out' },
    handler: async (req, res, ctx) => {
      await destroySession(ctx, sessionToken(req));
      clearSessionCookie(req, res);
      await audit(
        ctx.db,
        req.principal!,
        { action: 'auth.logout', entityType: 'user', entityId: req.principal!.id },
        req,
      );
      res.status(204).end();
    },
  },
  {
    method: 'get',
    path: '/api/v1/users',
    tag: 'admin',
    roles: ['ADMIN'],
    summary: 'List users',
    responses: { 200: 'Users', 403: 'Admins only' },
    handler: async (_req, res, ctx) => {
      const users = await ctx.db.user.findMany({ orderBy: { email: 'asc' } });
      res.json({ users: users.map(userView) });
    },
  },
  {
    method: 'post',
    path: '/api/v1/users',
    tag: 'admin',
    roles: ['ADMIN'],
    summary: 'Create a user; a generated password is returned once',
    body: z.object({
      email: z.string().min(3).max(254),
      name: z.string().max(100).optional(),
      role: z.enum(['ADMIN', 'AGENT']).default('AGENT'),
      password: z.string().min(MIN_PASSWORD_LENGTH).max(1024).optional(),
    }),
    responses: { 201: 'Created', 400: 'Invalid input', 403: 'Admins only', 409: 'Email in use' },
    handler: async (req, res, ctx) => {
      const r = await createUser(ctx.db, req.valid.body);
      await audit(
        ctx.db,
        req.principal!,
        {
          action: 'user.create',
          entityType: 'user',
          entityId: r.user.id,
          data: { email: r.user.email, role: r.user.role },
        },
        req,
      );
      res.status(201).json({ user: r.user, ...(r.generated ? { password: r.password } : {}) });
    },
  },
  {
    method: 'patch',
    path: '/api/v1/users/:id',
    tag: 'admin',
    roles: ['ADMIN'],
    summary: 'Change a user: name, role, active, password, unlock',
    body: z.object({
      name: z.string().min(1).max(100).optional(),
      role: z.enum(['ADMIN', 'AGENT']).optional(),
      active: z.boolean().optional(),
      password: z.string().min(MIN_PASSWORD_LENGTH).max(1024).optional(),
      unlock: z.literal(true).optional(),
    }),
    responses: { 200: 'Updated', 403: 'Admins only', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      const b = req.valid.body;
      const existing = z.string().uuid().safeParse(id).success ? await ctx.db.user.findUnique({ where: { id } }) : null;
      if (!existing) throw notFound('user');
      const passwordHash = b.password ? await hashPassword(b.password) : undefined;
      // The change, the end of the user's sessions and the audit row commit together or not at all.
      const user = await ctx.db.$transaction(async (tx) => {
        const updated = await tx.user.update({
          where: { id },
          data: {
            ...(b.name ? { name: b.name } : {}),
            ...(b.role ? { role: b.role } : {}),
            ...(b.active !== undefined ? { active: b.active } : {}),
            ...(passwordHash ? { passwordHash } : {}),
            ...(b.unlock ? { lockedUntil: null, failedLogins: 0 } : {}),
          },
        });
        // A deactivated user or a changed password ends every open session of that user.
        if (b.active === false || b.password || (b.role && b.role !== existing.role))
          await tx.session.deleteMany({ where: { userId: id } });
        await audit(
          tx,
          req.principal!,
          {
            action: 'user.update',
            entityType: 'user',
            entityId: id,
            data: {
              name: b.name,
              role: b.role,
              active: b.active,
              passwordChanged: Boolean(b.password),
              unlock: b.unlock,
            },
          },
          req,
        );
        return updated;
      });
      res.json({ user: userView(user) });
    },
  },
  {
    method: 'get',
    path: '/api/v1/inbox/agents',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary: 'Active users a conversation can be assigned to',
    responses: { 200: 'Agents' },
    handler: async (_req, res, ctx) => {
      const users = await ctx.db.user.findMany({
        where: { active: true },
        orderBy: { name: 'asc' },
        select: { id: true, name: true, role: true },
      });
      res.json({ agents: users });
    },
  },
);

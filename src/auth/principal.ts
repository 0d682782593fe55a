// Who is calling. Every API route runs `authenticate` and then, where it
// needs one, `requireRole`. Bearer API keys here; the web inbox's session
// cookies plug in as another resolver (src/inbox).
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context.js';
import { forbidden, unauthorized } from '../http/errors.js';
import type { Role } from '../generated/prisma/enums.js';
import { hashKey, safeEqual } from './api-keys.js';

export interface Principal {
  type: 'user' | 'api_key' | 'admin_env';
  id?: string;
  role: Role;
  name: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Other ways to authenticate (e.g. session cookies) register here. */
export type PrincipalResolver = (req: Request, ctx: AppContext) => Promise<Principal | null>;
const resolvers: PrincipalResolver[] = [];
export function addPrincipalResolver(r: PrincipalResolver): void {
  if (!resolvers.includes(r)) resolvers.push(r);
}

async function fromBearer(req: Request, ctx: AppContext): Promise<Principal | null | 'invalid'> {
  const header = req.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return 'invalid';
  return principalFromKey(ctx, m[1]!);
}

/**
 * The principal an API key (or ADMIN_API_KEY) stands for, 'invalid' for an
 * unknown or revoked key. One rule for every way a key arrives: the REST
 * API's Bearer header and the socket.io handshake.
 */
export async function principalFromKey(ctx: AppContext, token: string): Promise<Principal | 'invalid'> {
  if (ctx.config.ADMIN_API_KEY && safeEqual(token, ctx.config.ADMIN_API_KEY)) {
    return { type: 'admin_env', role: 'ADMIN', name: 'ADMIN_API_KEY' };
  }
  const key = await ctx.db.apiKey.findUnique({ where: { hash: hashKey(token) } });
  if (!key || key.revokedAt) return 'invalid';
  // Last use is recorded at most once a minute per key, off the request path;
  // a failure costs only that timestamp, so it is logged, not retried.
  if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() > 60_000) {
    void ctx.db.apiKey
      .update({ where: { id: key.id }, data: { lastUsedAt: new Date() } })
      .catch((err) => ctx.log.warn({ err, apiKeyId: key.id }, 'could not record API key use'));
  }
  return { type: 'api_key', id: key.id, role: key.role, name: key.name };
}

export function authenticate(ctx: AppContext): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    void (async () => {
      const bearer = await fromBearer(req, ctx);
      if (bearer === 'invalid') throw unauthorized('invalid or revoked API key');
      let principal = bearer;
      for (const r of resolvers) {
        if (principal) break;
        principal = await r(req, ctx);
      }
      if (!principal) throw unauthorized('send Authorization: Bearer <api key> or sign in');
      req.principal = principal;
    })().then(() => next(), next);
  };
}

export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.principal) return next(unauthorized());
    if (!roles.includes(req.principal.role)) return next(forbidden(`requires role ${roles.join(' or ')}`));
    next();
  };
}

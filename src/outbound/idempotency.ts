// Idempotency-Key handling for POST requests (Stripe's semantics): the first
// request's response is stored and returned for every retry with the same
// key; the same key with a different body is refused; a retry while the
// first is still running gets 409.
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { AppContext } from '../context.js';
import { HttpError } from '../http/errors.js';
import { isUniqueViolation } from '../db/errors.js';

const KEY = /^[A-Za-z0-9_.:-]{8,200}$/;

export async function withIdempotency(
  ctx: AppContext,
  req: Request,
  res: Response,
  run: (idempotencyKey: string | undefined) => Promise<{ status: number; body: unknown }>,
): Promise<void> {
  const key = req.header('idempotency-key');
  if (key === undefined) {
    const r = await run(undefined);
    res.status(r.status).json(r.body);
    return;
  }
  if (!KEY.test(key))
    throw new HttpError(
      400,
      'invalid_request',
      'Idempotency-Key must be 8-200 characters of letters, digits and _.:-',
      [{ field: 'Idempotency-Key', reason: 'invalid format' }],
    );
  const scope = req.principal
    ? `${req.principal.type}:${req.principal.id ?? req.principal.name}:${req.method} ${req.route?.path ?? req.path}`
    : 'anonymous';
  const requestHash = createHash('sha256')
    .update(JSON.stringify(req.body ?? null))
    .digest('hex');
  try {
    await ctx.db.idempotencyRecord.create({ data: { scope, key, requestHash } });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    const prior = await ctx.db.idempotencyRecord.findUnique({ where: { scope_key: { scope, key } } });
    if (!prior)
      throw new HttpError(409, 'conflict', 'a request with this Idempotency-Key is being processed; retry shortly');
    if (prior.requestHash !== requestHash)
      throw new HttpError(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different request body');
    if (prior.statusCode === null)
      throw new HttpError(409, 'conflict', 'a request with this Idempotency-Key is being processed; retry shortly');
    res.setHeader('Idempotent-Replayed', 'true');
    res.status(prior.statusCode).json(prior.response);
    return;
  }
  let result: { status: number; body: unknown };
  try {
    result = await run(createHash('sha256').update(`${scope}\n${key}`).digest('hex'));
  } catch (e) {
    // 4xx outcomes are final answers and are replayed; anything else may be retried.
    if (e instanceof HttpError && e.status < 500) {
      const body = { error: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
      await ctx.db.idempotencyRecord.update({
        where: { scope_key: { scope, key } },
        data: { statusCode: e.status, response: body as object },
      });
    } else {
      await ctx.db.idempotencyRecord.delete({ where: { scope_key: { scope, key } } }).catch(() => undefined);
    }
    throw e;
  }
  await ctx.db.idempotencyRecord.update({
    where: { scope_key: { scope, key } },
    data: { statusCode: result.status, response: result.body as object },
  });
  res.status(result.status).json(result.body);
}

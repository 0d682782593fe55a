// Small helpers every plugin's webhook parsing and sandbox control routes use.
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { WebhookRequest } from '../types.js';

/** One header of a webhook request (the first, when repeated). */
export function headerValue(req: Pick<WebhookRequest, 'headers'>, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body parsed by `schema`, or null after answering 400 with each field and its reason. */
export function parsedBody<T extends z.ZodType>(schema: T, req: Request, res: Response): z.infer<T> | null {
  const parsed = schema.safeParse(req.body);
  if (parsed.success) return parsed.data;
  res.status(400).json({
    error: 'invalid request',
    issues: parsed.error.issues.map((i) => ({ field: i.path.join('.'), reason: i.message })),
  });
  return null;
}

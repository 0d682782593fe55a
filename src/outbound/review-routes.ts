// REST for messages recovery put before an admin (NEEDS_REVIEW, recovery.ts):
// the list, and the admin's answer — resend or cancel.
import { z } from 'zod';
import { defineRoutes } from '../http/api.js';
import { notFound } from '../http/errors.js';
import { uuid } from '../api/schemas.js';
import { listReviews, resolveReview } from './recovery.js';

export const reviewRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/message-reviews',
    tag: 'outreach',
    roles: ['ADMIN'],
    summary: 'Messages a crash left unsure (NEEDS_REVIEW), newest first, with why each is there',
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
    responses: { 200: 'The messages and their total', 400: 'Invalid input', 403: 'Admins only' },
    handler: async (req, res, ctx) => {
      res.json(await listReviews(ctx, req.valid.query.limit));
    },
  },
  {
    method: 'post',
    path: '/api/v1/messages/:id/review',
    tag: 'outreach',
    roles: ['ADMIN'],
    summary: 'Answer a message in NEEDS_REVIEW: resend it (re-checked before it goes) or cancel it',
    body: z.object({
      action: z.enum(['resend', 'cancel']),
      // Kept in the status history (jsonb): no NUL, no lone surrogate.
      note: z
        .string()
        .trim()
        .min(1)
        .max(500)
        .refine(
          (v) => !/[\u0000]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v),
          'must be text without NUL characters or lone surrogates',
        )
        .optional(),
    }),
    responses: {
      200: 'The message and its new status',
      400: 'Invalid input',
      403: 'Admins only',
      404: 'Not found',
      409: 'Not in NEEDS_REVIEW',
    },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      if (!uuid.safeParse(id).success) throw notFound('message');
      res.json(await resolveReview(ctx, id, req.valid.body.action, req.principal!, req.valid.body.note));
    },
  },
);

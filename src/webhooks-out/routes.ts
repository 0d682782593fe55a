// REST (admin): outgoing webhook subscriptions and their delivery log. The
// signing secret is shown once, at creation (or when rotated).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { badRequest, notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { uuid } from '../api/schemas.js';
import { emitOutgoingEvent, OUTGOING_EVENT_TYPES, WEBHOOK_DELIVER_JOB } from './service.js';
import { webhookTargetRefusal } from './target.js';

const eventName = z.enum([...OUTGOING_EVENT_TYPES, '*'], {
  message: `must be one of ${OUTGOING_EVENT_TYPES.join(', ')} or *`,
});
const hookUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const secret = z.string().min(24, 'must be at least 24 characters').max(200);

const subscriptionInput = z.object({
  url: hookUrl,
  events: z.array(eventName).min(1, 'must list at least one event (or "*")').max(20),
  secret: secret.optional(),
  active: z.boolean().optional(),
});
const subscriptionPatch = z.object({
  url: hookUrl.optional(),
  events: z.array(eventName).min(1).max(20).optional(),
  active: z.boolean().optional(),
  rotateSecret: z.boolean().optional(),
});

const newSecret = () => `whsec_${randomBytes(24).toString('hex')}`;

function serialize(
  s: { id: string; url: string; events: string[]; active: boolean; createdAt: Date; secret: string },
  showSecret = false,
) {
  return {
    id: s.id,
    url: s.url,
    events: s.events,
    active: s.active,
    createdAt: s.createdAt,
    ...(showSecret ? { secret: s.secret } : { secretHint: `${s.secret.slice(0, 10)}…` }),
  };
}

/** 400 naming the url field when the target is internal (or does not resolve). */
async function assertTarget(ctx: AppContext, url: string): Promise<void> {
  const refusal = await webhookTargetRefusal(ctx, url);
  if (refusal)
    throw badRequest(`invalid input: url ${refusal}`, [
      { field: 'url', reason: `${refusal}; internal targets must be listed in WEBHOOK_ALLOWED_INTERNAL_TARGETS` },
    ]);
}

const idOf = (v: unknown) => {
  const id = String(v);
  if (!uuid.safeParse(id).success) throw notFound('webhook subscription');
  return id;
};

export const webhookRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/webhook-subscriptions',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'Subscribe a URL to outgoing events (the signing secret is returned once)',
    body: subscriptionInput,
    responses: { 201: 'Created', 400: 'Invalid input' },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      await assertTarget(ctx, b.url);
      const s = await ctx.db.webhookSubscription.create({
        data: { url: b.url, events: b.events, secret: b.secret ?? newSecret(), active: b.active ?? true },
      });
      await audit(
        ctx.db,
        req.principal!,
        {
          action: 'webhook_subscription.create',
          entityType: 'webhook_subscription',
          entityId: s.id,
          data: { url: s.url, events: s.events },
        },
        req,
      );
      res.status(201).json(serialize(s, true));
    },
  },
  {
    method: 'get',
    path: '/api/v1/webhook-subscriptions',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'List webhook subscriptions',
    responses: { 200: 'Subscriptions' },
    handler: async (_req, res, ctx) => {
      const subs = await ctx.db.webhookSubscription.findMany({ orderBy: { createdAt: 'asc' } });
      res.json({ data: subs.map((s) => serialize(s)) });
    },
  },
  {
    method: 'get',
    path: '/api/v1/webhook-subscriptions/:id',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'Read a webhook subscription',
    responses: { 200: 'Subscription', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const s = await ctx.db.webhookSubscription.findUnique({ where: { id: idOf(req.params.id) } });
      if (!s) throw notFound('webhook subscription');
      res.json(serialize(s));
    },
  },
  {
    method: 'patch',
    path: '/api/v1/webhook-subscriptions/:id',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'Update a subscription: URL, events, active; rotateSecret returns a new secret once',
    body: subscriptionPatch,
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id);
      const { rotateSecret, ...b } = req.valid.body;
      if (b.url) await assertTarget(ctx, b.url);
      if (!(await ctx.db.webhookSubscription.findUnique({ where: { id } }))) throw notFound('webhook subscription');
      const s = await ctx.db.webhookSubscription.update({
        where: { id },
        data: { ...b, ...(rotateSecret ? { secret: newSecret() } : {}) },
      });
      await audit(
        ctx.db,
        req.principal!,
        {
          action: 'webhook_subscription.update',
          entityType: 'webhook_subscription',
          entityId: id,
          data: { changed: Object.keys(req.valid.body) },
        },
        req,
      );
      res.json(serialize(s, Boolean(rotateSecret)));
    },
  },
  {
    method: 'delete',
    path: '/api/v1/webhook-subscriptions/:id',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'Delete a subscription and its delivery log',
    responses: { 204: 'Deleted', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id);
      const r = await ctx.db.webhookSubscription.deleteMany({ where: { id } });
      if (!r.count) throw notFound('webhook subscription');
      await audit(
        ctx.db,
        req.principal!,
        { action: 'webhook_subscription.delete', entityType: 'webhook_subscription', entityId: id },
        req,
      );
      res.status(204).end();
    },
  },
  {
    method: 'get',
    path: '/api/v1/webhook-subscriptions/:id/deliveries',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'Recent deliveries with status, attempts and last error',
    query: z.object({
      status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED']).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    responses: { 200: 'Deliveries', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id);
      if (!(await ctx.db.webhookSubscription.findUnique({ where: { id } }))) throw notFound('webhook subscription');
      const rows = await ctx.db.webhookDelivery.findMany({
        where: { subscriptionId: id, ...(req.valid.query.status ? { status: req.valid.query.status } : {}) },
        orderBy: { createdAt: 'desc' },
        take: req.valid.query.limit,
      });
      res.json({
        data: rows.map((d) => ({
          id: d.id,
          event: d.event,
          status: d.status,
          attempts: d.attempts,
          lastError: d.lastError,
          nextAttemptAt: d.nextAttemptAt,
          deliveredAt: d.deliveredAt,
          createdAt: d.createdAt,
          payload: d.payload,
        })),
      });
    },
  },
  {
    method: 'post',
    path: '/api/v1/webhook-subscriptions/:id/ping',
    tag: 'webhooks',
    roles: ['ADMIN'],
    summary: 'Queue a test delivery to this subscription',
    responses: { 202: 'Queued', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id);
      const s = await ctx.db.webhookSubscription.findUnique({ where: { id } });
      if (!s) throw notFound('webhook subscription');
      // A ping goes to this subscription only, whatever events it listens to.
      const d = await ctx.db.webhookDelivery.create({
        data: {
          subscriptionId: id,
          event: 'ping',
          payload: { id: randomUUID(), type: 'ping', createdAt: new Date().toISOString(), data: {} },
          nextAttemptAt: new Date(),
        },
      });
      await ctx.scheduler.now(WEBHOOK_DELIVER_JOB, { deliveryId: d.id });
      res.status(202).json({ deliveryId: d.id });
    },
  },
);

export { emitOutgoingEvent };

export function registerWebhookRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, webhookRoutes);
}

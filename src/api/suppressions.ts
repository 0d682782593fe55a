// REST: the suppression list (addresses that opted out while no debtor had
// them on file). Admins read it, add an address a creditor says must never be
// contacted, and lift an entry — e.g. when the person asked to be contacted
// again by another route than texting START. Every change is audited.
import type { Express } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { addSuppression, listSuppressions, suppressionAddress } from '../domain/suppressions.js';
import type { Suppression } from '../generated/prisma/client.js';
import { uuid } from './schemas.js';

const channel = z.enum(['SMS', 'EMAIL', 'VOICE'], { message: 'must be SMS, EMAIL or VOICE' });

const serialize = (s: Suppression) => ({
  id: s.id,
  channel: s.channel,
  address: s.address,
  reason: s.reason,
  source: s.source,
  createdAt: s.createdAt.toISOString(),
});

export const suppressionRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/suppressions',
    tag: 'admin',
    roles: ['ADMIN'],
    summary: 'List suppressed addresses, newest first',
    query: z.object({
      channel: channel.optional(),
      address: z.string().max(320).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    responses: { 200: 'Suppressions', 400: 'Invalid filter' },
    handler: async (req, res, ctx) => {
      const q = req.valid.query;
      const address = q.address && q.channel ? suppressionAddress(q.channel, q.address) : q.address;
      const rows = await listSuppressions(ctx.db, { channel: q.channel, address, take: q.limit });
      res.json({ data: rows.map(serialize) });
    },
  },
  {
    method: 'post',
    path: '/api/v1/suppressions',
    tag: 'admin',
    roles: ['ADMIN'],
    summary: 'Suppress an address on a channel (idempotent: an existing entry keeps its first reason)',
    body: z.object({
      channel,
      address: z.string().min(1).max(320),
      reason: z.string().trim().min(1, 'is required').max(500),
    }),
    responses: { 200: 'Already suppressed', 201: 'Suppressed', 400: 'Invalid input' },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      const r = await ctx.db.$transaction(async (tx) => {
        const added = await addSuppression(tx, {
          channel: b.channel,
          address: b.address,
          reason: b.reason,
          source: 'admin',
        });
        if (added.created)
          await audit(
            tx,
            req.principal!,
            {
              action: 'suppression.create',
              entityType: 'suppression',
              entityId: added.suppression.id,
              data: { channel: b.channel, reason: b.reason },
            },
            req,
          );
        return added;
      });
      res.status(r.created ? 201 : 200).json(serialize(r.suppression));
    },
  },
  {
    method: 'delete',
    path: '/api/v1/suppressions/:id',
    tag: 'admin',
    roles: ['ADMIN'],
    summary: 'Lift a suppression (the address may be contacted again where consent allows)',
    responses: { 200: 'Lifted', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      if (!uuid.safeParse(id).success) throw notFound('suppression');
      const removed = await ctx.db.$transaction(async (tx) => {
        const row = await tx.suppression.findUnique({ where: { id } });
        if (!row) throw notFound('suppression');
        await tx.suppression.delete({ where: { id } });
        await audit(
          tx,
          req.principal!,
          {
            action: 'suppression.delete',
            entityType: 'suppression',
            entityId: id,
            data: { channel: row.channel, reason: row.reason },
          },
          req,
        );
        return row;
      });
      res.json(serialize(removed));
    },
  },
);

export function registerSuppressionRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, suppressionRoutes);
}

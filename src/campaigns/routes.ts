// REST (admin): campaigns, their lifecycle and results.
import type { Express } from 'express';
import { z } from 'zod';
import { stringify } from 'csv-stringify/sync';
import type { AppContext } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import { audit } from '../audit.js';
import { conflict, notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes, type RouteSpec } from '../http/api.js';
import { uuid } from '../api/schemas.js';
import { campaignInput, campaignPatch, DEFAULT_STOP_CONDITIONS, type CampaignInput } from './schemas.js';
import { cancelCampaign, pauseCampaign, resumeCampaign, startCampaign } from './control.js';
import { campaignResults, campaignSummaries, resultsCsvRows } from './results.js';
import { previewAudience } from './preview.js';

const include = { steps: { orderBy: { position: 'asc' as const } } } satisfies Prisma.CampaignInclude;

function serializeCampaign(c: Prisma.CampaignGetPayload<{ include: typeof include }>) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    audience: c.audience,
    steps: c.steps.map((s) => ({
      id: s.id,
      position: s.position,
      offsetDays: s.offsetDays,
      anchor: s.anchor,
      intent: s.intent,
      channel: s.channel,
      conditions: s.conditions,
      window: s.window,
    })),
    throttle: c.throttle,
    stopConditions: c.stopConditions,
    cron: c.cron,
    timeZone: c.timeZone,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

const stepRows = (steps: CampaignInput['steps']) =>
  steps.map((s, i) => ({
    position: i + 1,
    offsetDays: s.offsetDays,
    anchor: s.anchor,
    intent: s.intent,
    channel: s.channel ?? null,
    conditions: s.conditions ?? {},
    window: s.window ?? undefined,
  }));

const idOf = (v: unknown) => {
  const id = String(v);
  if (!uuid.safeParse(id).success) throw notFound('campaign');
  return id;
};

const lifecycle = (action: 'start' | 'pause' | 'resume' | 'cancel', summary: string): RouteSpec => ({
  method: 'post',
  path: `/api/v1/campaigns/:id/${action}`,
  tag: 'campaigns',
  roles: ['ADMIN'],
  summary,
  responses: { 200: 'New state', 404: 'Not found', 409: 'Not allowed in the current state' },
  handler: async (req, res, ctx) => {
    const id = idOf(req.params.id);
    const actor = req.principal!;
    let extra: object = {};
    if (action === 'start') await startCampaign(ctx, id, actor);
    else if (action === 'pause') extra = await pauseCampaign(ctx, id, actor);
    else if (action === 'resume') await resumeCampaign(ctx, id, actor);
    else extra = await cancelCampaign(ctx, id, actor);
    const c = await ctx.db.campaign.findUniqueOrThrow({ where: { id }, include });
    res.json({ ...serializeCampaign(c), ...extra });
  },
});

const campaignRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/campaigns',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'Create a campaign (DRAFT): audience, steps, throttle, stop conditions, optional cron',
    body: campaignInput,
    responses: { 201: 'Created', 400: 'Invalid input' },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      const c = await ctx.db.$transaction(async (tx) => {
        const c = await tx.campaign.create({
          data: {
            name: b.name,
            audience: b.audience,
            throttle: b.throttle,
            stopConditions: b.stopConditions ?? DEFAULT_STOP_CONDITIONS,
            cron: b.cron ?? null,
            timeZone: b.timeZone ?? null,
            createdById: req.principal!.type === 'user' ? (req.principal!.id ?? null) : null,
            steps: { create: stepRows(b.steps) },
          },
          include,
        });
        await audit(
          tx,
          req.principal!,
          {
            action: 'campaign.create',
            entityType: 'campaign',
            entityId: c.id,
            data: { name: c.name, steps: c.steps.length },
          },
          req,
        );
        return c;
      });
      res.status(201).json(serializeCampaign(c));
    },
  },
  {
    method: 'get',
    path: '/api/v1/campaigns',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'List campaigns, each with its headline counts (enrolled, sent, delivered, replied, paid)',
    query: z.object({
      status: z.enum(['DRAFT', 'ACTIVE', 'PAUSED', 'CANCELLED', 'COMPLETED']).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    responses: { 200: 'Campaigns' },
    handler: async (req, res, ctx) => {
      const rows = await ctx.db.campaign.findMany({
        where: req.valid.query.status ? { status: req.valid.query.status } : {},
        include,
        orderBy: { createdAt: 'desc' },
        take: req.valid.query.limit,
      });
      // Headline counts for the whole page in one query, so a list costs two round trips, not one per campaign.
      const summaries = await campaignSummaries(
        ctx,
        rows.map((c) => c.id),
      );
      res.json({ data: rows.map((c) => ({ ...serializeCampaign(c), summary: summaries.get(c.id)! })) });
    },
  },
  {
    method: 'get',
    path: '/api/v1/campaigns/:id',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'Read a campaign',
    responses: { 200: 'Campaign', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const c = await ctx.db.campaign.findUnique({ where: { id: idOf(req.params.id) }, include });
      if (!c) throw notFound('campaign');
      res.json(serializeCampaign(c));
    },
  },
  {
    method: 'patch',
    path: '/api/v1/campaigns/:id',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'Update a campaign (steps only while DRAFT; nothing once CANCELLED or COMPLETED)',
    body: campaignPatch,
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found', 409: 'Not editable now' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id);
      const b = req.valid.body;
      const c = await ctx.db.$transaction(async (tx) => {
        const before = await tx.campaign.findUnique({ where: { id } });
        if (!before) throw notFound('campaign');
        if (before.status === 'CANCELLED' || before.status === 'COMPLETED')
          throw conflict(`a ${before.status} campaign cannot be changed`);
        if (b.steps && before.status !== 'DRAFT')
          throw conflict('steps can only be changed while the campaign is a DRAFT', { field: 'steps' });
        if (b.steps) {
          await tx.campaignStep.deleteMany({ where: { campaignId: id } });
          await tx.campaignStep.createMany({
            data: stepRows(b.steps).map((s) => ({ ...s, campaignId: id, window: s.window ?? undefined })),
          });
        }
        const c = await tx.campaign.update({
          where: { id },
          data: {
            ...(b.name !== undefined ? { name: b.name } : {}),
            ...(b.audience !== undefined ? { audience: b.audience } : {}),
            ...(b.throttle !== undefined ? { throttle: b.throttle } : {}),
            ...(b.stopConditions !== undefined ? { stopConditions: b.stopConditions } : {}),
            ...(b.cron !== undefined ? { cron: b.cron } : {}),
            ...(b.timeZone !== undefined ? { timeZone: b.timeZone } : {}),
          },
          include,
        });
        await audit(
          tx,
          req.principal!,
          { action: 'campaign.update', entityType: 'campaign', entityId: id, data: { changed: Object.keys(b) } },
          req,
        );
        return c;
      });
      res.json(serializeCampaign(c));
    },
  },
  lifecycle('start', 'Start: enrol the audience and run the steps'),
  lifecycle('pause', 'Pause: plan nothing new and withdraw messages not yet sent'),
  lifecycle('resume', 'Resume a paused campaign'),
  lifecycle('cancel', 'Cancel: stop every enrolment and cancel pending messages'),
  {
    method: 'get',
    path: '/api/v1/campaigns/:id/preview',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary:
      'Who the campaign would enrol now: count and breakdown by jurisdiction, preferred channel, currency, balance band',
    responses: { 200: 'Preview', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      res.json(await previewAudience(ctx, idOf(req.params.id), new Date()));
    },
  },
  {
    method: 'get',
    path: '/api/v1/campaigns/:id/results',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'Results per campaign and per step',
    responses: { 200: 'Results', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      res.json(await campaignResults(ctx, idOf(req.params.id)));
    },
  },
  {
    method: 'get',
    path: '/api/v1/campaigns/:id/results.csv',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'Results per step as CSV',
    responses: { 200: 'CSV', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const r = await campaignResults(ctx, idOf(req.params.id));
      res
        .type('text/csv')
        .attachment(`campaign-${r.campaign.id}-results.csv`)
        .send(stringify(resultsCsvRows(r), { header: true }));
    },
  },
  {
    method: 'get',
    path: '/api/v1/campaigns/:id/enrollments',
    tag: 'campaigns',
    roles: ['ADMIN'],
    summary: 'Enrolments with their state and step runs',
    query: z.object({
      status: z.enum(['ACTIVE', 'COMPLETED', 'STOPPED']).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      after: uuid.optional(),
    }),
    responses: { 200: 'Enrolments', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id);
      const q = req.valid.query;
      const rows = await ctx.db.campaignEnrollment.findMany({
        where: {
          campaignId: id,
          ...(q.status ? { status: q.status } : {}),
          ...(q.after ? { id: { gt: q.after } } : {}),
        },
        include: { runs: { include: { step: { select: { position: true } } }, orderBy: { createdAt: 'asc' } } },
        orderBy: { id: 'asc' },
        take: q.limit,
      });
      res.json({
        data: rows.map((e) => ({
          id: e.id,
          debtId: e.debtId,
          debtorId: e.debtorId,
          status: e.status,
          stopReason: e.stopReason,
          nextStep: e.nextStep,
          nextStepAt: e.nextStepAt,
          enrolledAt: e.enrolledAt,
          runs: e.runs.map((r) => ({
            step: r.step.position,
            outcome: r.outcome,
            reasons: r.reasons,
            messageId: r.messageId,
            at: r.createdAt,
          })),
        })),
      });
    },
  },
);

export function registerCampaignRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, campaignRoutes);
}

// REST: the message intents the templates offer, with their channels and
// locales — what a campaign step or a composer can pick from.
import type { Express } from 'express';
import type { AppContext } from '../context.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { intentCatalog } from '../templates/catalog.js';

export const templateRoutes = defineRoutes({
  method: 'get',
  path: '/api/v1/templates/intents',
  tag: 'templates',
  summary: 'Template intents with the channels and locales each ships in',
  responses: { 200: 'Intents' },
  handler: async (_req, res, ctx) => {
    res.json({ data: intentCatalog(ctx.templates), locales: ctx.templates.localeList() });
  },
});

export function registerTemplateRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, templateRoutes);
}

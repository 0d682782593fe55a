// The inbound feature: provider webhooks, the SMTP listener, the retry job,
// the conversation/admin/unsubscribe endpoints. Registered in src/modules.ts.
import type { Express } from 'express';
import type { AppContext, ModuleHandle } from '../context.js';
import { attachSockets } from '../http/sockets.js';
import { adminInboundRoutes, conversationRoutes, unsubscribeRoutes } from './api.js';
import { processDueEvents } from './events-store.js';
import { drainIntake } from './intake.js';
import { startSmtpListener } from './smtp-listener.js';
import { providerWebhookRoutes } from './provider-webhooks.js';
// Processors register themselves on import.
import './email.js';

export type { ReplyClassifier, Classification, ReplyIntent } from './classifier.js';
export { setReplyClassifier } from './classifier.js';

const INBOUND_RETRY_JOB = 'inbound.retry';

export function inboundRoutes(app: Express, ctx: AppContext): void {
  providerWebhookRoutes(app, ctx);
  conversationRoutes(app, ctx);
  adminInboundRoutes(app, ctx);
  unsubscribeRoutes(app, ctx);
}

/** socket.io authentication and room subscriptions (a route module so it is in place as early as the HTTP routes). */
export function socketsModule(_app: Express, ctx: AppContext): void {
  attachSockets(ctx);
}

export async function startInbound(ctx: AppContext): Promise<ModuleHandle> {
  ctx.scheduler.define(
    INBOUND_RETRY_JOB,
    async () => {
      await processDueEvents(ctx);
    },
    { concurrency: 1, lockLimit: 1 },
  );
  await ctx.scheduler.every(ctx.config.INBOUND_RETRY_SWEEP_MS, INBOUND_RETRY_JOB);
  const smtp = await startSmtpListener(ctx);
  return {
    stop: async () => {
      await smtp?.close();
      await drainIntake(ctx.config.SHUTDOWN_TIMEOUT_MS);
    },
  };
}

// The one list of feature modules: their HTTP routes and their background
// parts (job definitions, listeners). Add a feature here and nowhere else.
import type { AppContext, ModuleHandle } from './context.js';
import type { RouteModule } from './http/app.js';
import { jsonBody } from './http/body.js';
import { registerDebtorRoutes } from './api/debtors.js';
import { registerSuppressionRoutes } from './api/suppressions.js';
import { registerProviderRoutes } from './api/providers.js';
import { registerTemplateRoutes } from './api/templates.js';
import { registerOutboundRoutes } from './outbound/routes.js';
import { registerVoiceRoutes } from './outbound/voice.js';
import { startOutbound } from './outbound/module.js';
import { registerImportRoutes, waitForRunningImports } from './import/routes.js';
import { registerCampaignRoutes } from './campaigns/routes.js';
import { defineCampaignJobs, scheduleCampaignSettle } from './campaigns/control.js';
import { registerPaymentRoutes } from './payments/routes.js';
import { registerPortalRoutes } from './portal/routes.js';
import { registerStripeWebhooks } from './payments/stripe-webhooks.js';
import { registerGoCardlessWebhooks } from './payments/gocardless-webhooks.js';
import { startPayments } from './payments/module.js';
import { definePlanJobs } from './payments/plans.js';
import { registerWebhookRoutes } from './webhooks-out/routes.js';
import { defineWebhookJobs, startWebhookJobs } from './webhooks-out/service.js';
import { inboundRoutes, socketsModule, startInbound } from './inbound/index.js';
import { registerInboxRoutes, startInbox } from './inbox/index.js';
import { registerComplianceRoutes } from './compliance/routes.js';
import { startCompliance } from './compliance/module.js';

export const routeModules: RouteModule[] = [
  jsonBody,
  registerDebtorRoutes,
  registerSuppressionRoutes,
  registerProviderRoutes,
  registerTemplateRoutes,
  registerOutboundRoutes,
  registerVoiceRoutes,
  registerImportRoutes,
  registerCampaignRoutes,
  registerPaymentRoutes,
  registerPortalRoutes,
  registerStripeWebhooks,
  registerGoCardlessWebhooks,
  registerWebhookRoutes,
  socketsModule,
  inboundRoutes,
  registerInboxRoutes,
  registerComplianceRoutes,
];

export async function startModules(ctx: AppContext): Promise<ModuleHandle[]> {
  const handles: ModuleHandle[] = [];
  handles.push(await startOutbound(ctx));
  handles.push(await startCompliance(ctx));
  handles.push(await startPayments(ctx));
  await definePlanJobs(ctx);
  handles.push({ stop: () => waitForRunningImports(ctx.config.SHUTDOWN_TIMEOUT_MS) });
  defineCampaignJobs(ctx);
  await scheduleCampaignSettle(ctx);
  defineWebhookJobs(ctx);
  await startWebhookJobs(ctx);
  handles.push(await startInbound(ctx));
  handles.push(await startInbox(ctx));
  return handles;
}

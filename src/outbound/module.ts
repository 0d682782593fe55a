// The outbound feature: its routes and, at start, the provider adapters
// (starting the sandboxes where a provider has no credentials), jobs, and
// the sender of the replies inbound asks for (src/messaging/confirmations.ts).
import type { AppContext } from '../context.js';
import type { ModuleHandle } from '../context.js';
import { setConfirmationSender } from '../messaging/confirmations.js';
import { createAdapters } from './adapters.js';
import { confirmationSender } from './confirmations.js';
import { defineDispatchJobs, OUTBOX_SWEEP_JOB, type ChannelAdapters } from './dispatch.js';

let current: ChannelAdapters | null = null;
/** The adapters in use (after start). */
export function channelAdapters(): ChannelAdapters {
  if (!current) throw new Error('outbound module not started');
  return current;
}

export async function startOutbound(ctx: AppContext): Promise<ModuleHandle> {
  const { adapters, sandboxes, close } = await createAdapters(ctx);
  current = adapters;
  setConfirmationSender(confirmationSender);
  ctx.sandboxes = sandboxes;
  defineDispatchJobs(ctx, adapters);
  await ctx.scheduler.every('1 minute', OUTBOX_SWEEP_JOB, {}, { skipImmediate: true } as never);
  return { stop: close };
}

// The outbound feature: its routes and, at start, the provider adapters
// (starting the sandboxes where a provider has no credentials), jobs, and
// the sender of the replies inbound asks for (src/messaging/confirmations.ts).
import type { AppContext } from '../context.js';
import type { ModuleHandle } from '../context.js';
import { setConfirmationSender } from '../messaging/confirmations.js';
import { createAdapters } from './adapters.js';
import { confirmationSender } from './confirmations.js';
import { defineDispatchJobs, OUTBOX_SWEEP_JOB, outboxSweepMs, type ChannelAdapters } from './dispatch.js';
import { RECOVERY_JOB, recoverStranded } from './recovery.js';
import { withHeartbeat } from '../scheduler/heartbeat.js';
import type { Job } from 'agenda';

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
  await ctx.scheduler.every(outboxSweepMs(ctx), OUTBOX_SWEEP_JOB, {}, { skipImmediate: true } as never);
  // Messages stranded in SENDING by a process that died: every half lease (a
  // lease runs out at most that long before it is reconciled), and once now.
  const sweepMs = Math.max(1000, Math.floor(ctx.config.SEND_LEASE_MS / 2));
  const recoveryLock = Math.max(ctx.config.SEND_LEASE_MS, 10_000);
  ctx.scheduler.define(
    RECOVERY_JOB,
    async (job: Job) => {
      await withHeartbeat(job, recoveryLock, () => recoverStranded(ctx, adapters));
    },
    { lockLifetime: recoveryLock } as never,
  );
  await ctx.scheduler.every(sweepMs, RECOVERY_JOB, {}, { skipImmediate: true } as never);
  const atStart = recoverStranded(ctx, adapters).catch((err: unknown) =>
    ctx.log.error({ err }, 'recovery sweep at start failed; the scheduled sweep retries'),
  );
  return {
    stop: async () => {
      await atStart;
      await close();
    },
  };
}

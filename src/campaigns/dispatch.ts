// Dispatch of the messages a wave batch wrote: one Agenda job per second of
// send time (with every message due in that second) instead of one job per
// message, so scheduling 100,000 messages costs a few hundred job inserts.
// Each message still goes through dispatchMessage, which claims it, checks
// the router again at send time and hands it to its provider; a message not
// due yet when its job runs is re-scheduled there on its own. If the process
// dies before these jobs are saved, the outbox sweep picks the messages up.
import type { AppContext } from '../context.js';
import { dispatchMessage } from '../outbound/dispatch.js';
import { channelAdapters } from '../outbound/module.js';
import { withHeartbeat } from '../scheduler/heartbeat.js';

export const CAMPAIGN_DISPATCH_JOB = 'campaign-dispatch';
/** Messages handed to providers at once by one job. */
const DISPATCH_CONCURRENCY = 8;

interface DispatchJobData {
  campaignId: string;
  messageIds: string[];
}

/** `lockLifetime`: how long after its last touch a job of a process that died is taken over. */
export function defineCampaignDispatchJob(ctx: AppContext, lockLifetime: number): void {
  ctx.scheduler.define<DispatchJobData>(
    CAMPAIGN_DISPATCH_JOB,
    async (job) =>
      withHeartbeat(job, lockLifetime, async () => {
        const ids = [...job.attrs.data.messageIds];
        const adapters = channelAdapters();
        const worker = async () => {
          for (let id = ids.shift(); id; id = ids.shift()) {
            try {
              await dispatchMessage(ctx, adapters, id);
            } catch (err) {
              // One message's fault must not hold back the others; the sweep retries it.
              ctx.log.warn(
                { err, messageId: id, campaignId: job.attrs.data.campaignId },
                'campaign message dispatch failed; the outbox sweep will retry',
              );
            }
          }
        };
        await Promise.all(Array.from({ length: DISPATCH_CONCURRENCY }, worker));
      }),
    { concurrency: 4, lockLifetime, removeOnComplete: true } as never,
  );
}

/** Schedules dispatch of `messages` grouped by the second they are due in. */
export async function scheduleCampaignDispatch(
  ctx: AppContext,
  campaignId: string,
  messages: readonly { id: string; at: Date }[],
): Promise<void> {
  const bySecond = new Map<number, string[]>();
  for (const m of messages) {
    const second = Math.ceil(m.at.getTime() / 1000) * 1000;
    const list = bySecond.get(second);
    if (list) list.push(m.id);
    else bySecond.set(second, [m.id]);
  }
  const nowMs = Date.now();
  for (const [second, messageIds] of [...bySecond].sort((a, b) => a[0] - b[0])) {
    try {
      if (second <= nowMs) await ctx.scheduler.now(CAMPAIGN_DISPATCH_JOB, { campaignId, messageIds });
      else await ctx.scheduler.schedule(new Date(second), CAMPAIGN_DISPATCH_JOB, { campaignId, messageIds });
    } catch (err) {
      // The messages are safely in the outbox; the sweep will pick them up.
      ctx.log.warn(
        { err, campaignId, messages: messageIds.length },
        'could not schedule campaign dispatch; the outbox sweep will retry',
      );
    }
  }
}

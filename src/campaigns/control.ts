// Campaign lifecycle and its Agenda jobs.
//
//   DRAFT --start--> ACTIVE --pause--> PAUSED --resume--> ACTIVE
//   any but COMPLETED/CANCELLED --cancel--> CANCELLED;  ACTIVE --(nothing left)--> COMPLETED
//
// Jobs (all keyed by campaignId, so one document per campaign):
//   campaign-enrol  once at start: enrols the audience in batches, then runs a wave
//   campaign-recur  for campaigns with `cron`: enrols debts that newly match, each tick
//   campaign-wave   every minute while the campaign lives: sends what is due, batch by batch
//   campaign-dispatch  hands one second's worth of a batch's messages to their providers (dispatch.ts)
//   campaign-settle    every few seconds: completes campaigns whose last open messages settled
// A running job touches its lock; a crashed run is picked up again by Agenda
// CAMPAIGN_STALL_TIMEOUT_MS after its last touch, and the step runs and
// idempotency keys make the repeat send nothing twice. A campaign completes
// only when every message it planned has a final state (results.ts,
// OPEN_STATUSES): one still in the outbox, SENDING or NEEDS_REVIEW keeps it
// ACTIVE, and the settle job completes it once they are done.
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { audit } from '../audit.js';
import { conflict, notFound } from '../http/errors.js';
import { cancelPendingMessages } from '../outbound/service.js';
import { completeIfDone, enrolAudience, runDueSteps } from './runner.js';
import { defineCampaignDispatchJob } from './dispatch.js';
import { ADMIN_ROOM, campaignRoom } from '../conversations/live.js';
import { withHeartbeat } from '../scheduler/heartbeat.js';

export const CAMPAIGN_ENROL_JOB = 'campaign-enrol';
export const CAMPAIGN_RECUR_JOB = 'campaign-recur';
export const CAMPAIGN_WAVE_JOB = 'campaign-wave';
export const CAMPAIGN_SETTLE_JOB = 'campaign-settle';
/** How often campaigns with nothing left but open messages are checked for completion. */
const SETTLE_EVERY_MS = 5_000;
const PAUSE_REASON = 'campaign paused';

type Actor = Principal | { type: 'system'; id?: string };
interface JobData {
  campaignId: string;
}

export function defineCampaignJobs(ctx: AppContext): void {
  const lockLifetime = ctx.config.CAMPAIGN_STALL_TIMEOUT_MS;
  defineCampaignDispatchJob(ctx, lockLifetime);
  const wave = async (campaignId: string) => {
    const report = await runDueSteps(ctx, campaignId);
    if (report.status === 'ACTIVE' && report.remainingDue === 0 && (await completeIfDone(ctx, campaignId)))
      await removeCampaignJobs(ctx, campaignId);
  };
  ctx.scheduler.define<JobData>(
    CAMPAIGN_ENROL_JOB,
    async (job) => {
      await withHeartbeat(job, lockLifetime, async () => {
        await enrolAudience(ctx, job.attrs.data.campaignId);
        await wave(job.attrs.data.campaignId);
      });
    },
    { concurrency: 2, lockLifetime, removeOnComplete: true },
  );
  ctx.scheduler.define<JobData>(
    CAMPAIGN_RECUR_JOB,
    async (job) => {
      await withHeartbeat(job, lockLifetime, () => enrolAudience(ctx, job.attrs.data.campaignId));
    },
    { concurrency: 2, lockLifetime },
  );
  ctx.scheduler.define<JobData>(
    CAMPAIGN_WAVE_JOB,
    async (job) => {
      await withHeartbeat(job, lockLifetime, () => wave(job.attrs.data.campaignId));
    },
    { concurrency: 4, lockLifetime },
  );
  ctx.scheduler.define(
    CAMPAIGN_SETTLE_JOB,
    async () => {
      await settleCampaigns(ctx);
    },
    { lockLifetime: Math.max(lockLifetime, 10_000) } as never,
  );
}

/** Starts the settle job (once per gateway; one job document shared by every process). */
export async function scheduleCampaignSettle(ctx: AppContext): Promise<void> {
  await ctx.scheduler.every(SETTLE_EVERY_MS, CAMPAIGN_SETTLE_JOB, {}, { skipImmediate: true } as never);
}

/**
 * Completes the ACTIVE campaigns that have planned everything (no active
 * enrolment) once their open messages settle, without waiting for the next
 * wave minute. completeIfDone checks the rest (audience, cron, open messages).
 */
export async function settleCampaigns(ctx: AppContext): Promise<string[]> {
  const candidates = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT c.id::text AS id FROM campaigns c
     WHERE c.status = 'ACTIVE' AND c.cron IS NULL
       AND NOT EXISTS (SELECT 1 FROM campaign_enrollments e WHERE e.campaign_id = c.id AND e.status = 'ACTIVE')`;
  const completed: string[] = [];
  for (const { id } of candidates) {
    if (await completeIfDone(ctx, id)) {
      await removeCampaignJobs(ctx, id);
      completed.push(id);
    }
  }
  return completed;
}

async function scheduleCampaignJobs(
  ctx: AppContext,
  c: { id: string; cron: string | null; timeZone: string | null },
): Promise<void> {
  await ctx.scheduler.now(CAMPAIGN_ENROL_JOB, { campaignId: c.id });
  await scheduleWaveJob(ctx, c.id);
  if (c.cron) {
    await ctx.scheduler
      .create(CAMPAIGN_RECUR_JOB, { campaignId: c.id })
      .repeatEvery(c.cron, { timezone: c.timeZone ?? 'UTC', skipImmediate: true })
      .unique({ 'data.campaignId': c.id })
      .save();
  }
}

async function scheduleWaveJob(ctx: AppContext, campaignId: string): Promise<void> {
  await ctx.scheduler
    .create(CAMPAIGN_WAVE_JOB, { campaignId })
    .repeatEvery('1 minute', { skipImmediate: true })
    .unique({ 'data.campaignId': campaignId })
    .save();
}

export async function removeCampaignJobs(ctx: AppContext, campaignId: string): Promise<void> {
  for (const name of [CAMPAIGN_ENROL_JOB, CAMPAIGN_RECUR_JOB, CAMPAIGN_WAVE_JOB]) {
    await ctx.scheduler
      .cancel({ name, data: { campaignId } })
      .catch((err: unknown) => ctx.log.warn({ err, campaignId, name }, 'could not remove campaign job'));
  }
}

function publishStatus(ctx: AppContext, campaignId: string, status: string, extra: object = {}) {
  ctx.io
    .to(campaignRoom(campaignId))
    .to(ADMIN_ROOM)
    .emit('campaign.status', { campaignId, status, ...extra });
}

async function transition(
  ctx: AppContext,
  id: string,
  from: string[],
  to: 'ACTIVE' | 'PAUSED' | 'CANCELLED',
  action: string,
  actor: Actor,
) {
  const c = await ctx.db.campaign.findUnique({ where: { id }, include: { steps: true } });
  if (!c) throw notFound('campaign');
  if (!from.includes(c.status)) throw conflict(`cannot ${action} a ${c.status} campaign`, { status: c.status });
  if (action === 'start' && !c.steps.length) throw conflict('the campaign has no steps');
  const r = await ctx.db.campaign.updateMany({ where: { id, status: c.status }, data: { status: to } });
  if (!r.count) throw conflict('the campaign changed meanwhile; retry');
  await audit(ctx.db, actor, {
    action: `campaign.${action}`,
    entityType: 'campaign',
    entityId: id,
    data: { from: c.status, to },
  });
  publishStatus(ctx, id, to);
  return c;
}

/** DRAFT → ACTIVE; with `schedule: false` no jobs are created (the caller drives enrolAudience/runDueSteps, e.g. with its own clock). */
export async function startCampaign(
  ctx: AppContext,
  id: string,
  actor: Actor,
  opts: { schedule?: boolean } = {},
): Promise<void> {
  const c = await transition(ctx, id, ['DRAFT'], 'ACTIVE', 'start', actor);
  if (opts.schedule !== false) await scheduleCampaignJobs(ctx, c);
}

/** ACTIVE → PAUSED: nothing new is planned, and messages not yet handed to a provider are withdrawn (re-planned on resume). */
export async function pauseCampaign(
  ctx: AppContext,
  id: string,
  actor: Actor,
  now = new Date(),
): Promise<{ messagesWithdrawn: number }> {
  await transition(ctx, id, ['ACTIVE'], 'PAUSED', 'pause', actor);
  const withdrawn = await cancelPendingMessages(ctx, { campaignId: id }, PAUSE_REASON);
  // Rewind the step of each withdrawn message: its run is deleted (a fresh run
  // id = a fresh idempotency key) and the enrolment is due again on resume.
  const messages = await ctx.db.message.findMany({
    where: { campaignId: id, status: 'CANCELLED', errorMessage: PAUSE_REASON },
    select: { id: true },
  });
  const runs = await ctx.db.campaignStepRun.findMany({
    where: { messageId: { in: messages.map((m) => m.id) } },
    include: { step: true, enrollment: true },
  });
  for (const run of runs) {
    await ctx.db.$transaction([
      ctx.db.campaignStepRun.delete({ where: { id: run.id } }),
      ctx.db.campaignEnrollment.updateMany({
        where: { id: run.enrollmentId, status: 'ACTIVE', nextStep: run.step.position + 1 },
        data: { nextStep: run.step.position, nextStepAt: now },
      }),
    ]);
  }
  return { messagesWithdrawn: withdrawn };
}

export async function resumeCampaign(
  ctx: AppContext,
  id: string,
  actor: Actor,
  opts: { schedule?: boolean } = {},
): Promise<void> {
  const c = await transition(ctx, id, ['PAUSED'], 'ACTIVE', 'resume', actor);
  // The per-minute wave job is still there (pause keeps it); make sure it is, without re-enrolling.
  if (opts.schedule !== false) await scheduleWaveJob(ctx, c.id);
}

/** Any live state → CANCELLED: enrolments stop, pending messages are cancelled, jobs removed. */
export async function cancelCampaign(
  ctx: AppContext,
  id: string,
  actor: Actor,
): Promise<{ messagesCancelled: number; enrollmentsStopped: number }> {
  await transition(ctx, id, ['DRAFT', 'ACTIVE', 'PAUSED'], 'CANCELLED', 'cancel', actor);
  await removeCampaignJobs(ctx, id);
  const stopped = await ctx.db.campaignEnrollment.updateMany({
    where: { campaignId: id, status: 'ACTIVE' },
    data: { status: 'STOPPED', stopReason: 'CANCELLED', nextStepAt: null },
  });
  const cancelled = await cancelPendingMessages(ctx, { campaignId: id }, 'campaign cancelled');
  return { messagesCancelled: cancelled, enrollmentsStopped: stopped.count };
}

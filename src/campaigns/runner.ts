// Campaign execution: enrolment of the audience and the waves that send due
// steps, both in batches (one Agenda job run handles many enrolments).
//
// Per due enrolment, in order:
//   1. stop conditions of the campaign (PAID, CEASE, DISPUTE, OPTED_OUT_ALL,
//      REPLIED stop it; an active PROMISE holds it until the day after the
//      promised date);
//   2. the step's own conditions (no reply / payment / promise since the
//      previous step), which skip the step;
//   3. a CampaignStepRun row (unique per enrolment and step) is claimed, its
//      id is the message's idempotency key, so a wave resumed after a crash
//      finds the run and gets the same message back instead of a second one;
//   4. timing: not before the step's due time, inside the step's local window,
//      and in a free throttle slot (see planner.ts), checked against the
//      router's own decision on the debtor's snapshot;
//   5. requestOutreach — the router decides again under the debtor's lock and
//      enforces consent, quiet hours and limits; the outcome is recorded on the run;
//   6. the enrolment moves to its next step (or COMPLETED).
import type { AppContext } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Campaign, CampaignEnrollment, CampaignStep } from '../generated/prisma/client.js';
import { createRouter, resolveLocation, type Channel, type Decision, type RoutedDecision } from '../router/index.js';
import { loadSnapshot } from '../outbound/snapshot.js';
import { requestOutreach, routerIntent } from '../outbound/service.js';
import type { Intent } from '../templates/index.js';
import { ADMIN_ROOM, campaignRoom } from '../conversations/live.js';
import { audienceWhere } from './audience.js';
import { insideWindow, stepDueAt, ThrottleLedger, windowStart } from './planner.js';
import type { Audience, StepConditions, StepWindow, Throttle } from './schemas.js';

const router = createRouter();
const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;


/** Router reasons that explain a normal decision rather than a block or a delay. */
const INFORMATIONAL_RULES = new Set([
  'consent.ok', 'channel.explicit', 'channel.preferred', 'channel.default_order', 'preference.fallback', 'hours.allowed',
  'timezone.resolved', 'jurisdiction.resolved', 'window.not_before', 'limit.not_applied',
]);
const isDeferralRule = (rule: string) => rule === 'quiet_hours' || rule === 'quiet_hours.no_common_window' || rule === 'inconvenient_time' || rule.startsWith('limit.');

export interface WaveOptions {
  now?: Date;
  /** Enrolments per batch (default 200). */
  batchSize?: number;
  /** Stop after this many batches (the job re-runs for the rest); default unlimited. */
  maxBatches?: number;
}

export interface WaveReport {
  campaignId: string;
  processed: number;
  queued: number;
  deferred: number;
  refused: number;
  suppressed: number;
  skipped: number;
  held: number;
  errors: number;
  /** Enrolments still due after this run (more batches to go). */
  remainingDue: number;
  status: string;
}

// One wave per campaign at a time in this process; across processes Agenda's
// job lock does the same, and the run/idempotency keys make overlap harmless.
const locks = new Map<string, Promise<unknown>>();
function serialized<T>(campaignId: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(campaignId) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  locks.set(campaignId, settled);
  void settled.then(() => {
    if (locks.get(campaignId) === settled) locks.delete(campaignId);
  });
  return next;
}

type CampaignWithSteps = Campaign & { steps: CampaignStep[] };

function publish(ctx: AppContext, campaignId: string, event: string, payload: object): void {
  ctx.io.to(campaignRoom(campaignId)).to(ADMIN_ROOM).emit(event, { campaignId, ...payload });
}

/** Enrols matching, never-enrolled debts in batches; returns how many were enrolled. */
export async function enrolAudience(ctx: AppContext, campaignId: string, opts: { now?: Date; batchSize?: number } = {}): Promise<number> {
  return serialized(campaignId, async () => {
    const now = opts.now ?? new Date();
    const batchSize = opts.batchSize ?? 500;
    const campaign = await ctx.db.campaign.findUnique({ where: { id: campaignId }, include: { steps: { orderBy: { position: 'asc' } } } });
    if (!campaign || campaign.status !== 'ACTIVE' || !campaign.steps.length) return 0;
    const first = campaign.steps[0]!;
    const where = audienceWhere(campaign.audience as Audience, campaignId, now);
    let total = 0;
    for (;;) {
      const debts = await ctx.db.debt.findMany({ where, select: { id: true, debtorId: true, dueDate: true }, orderBy: { id: 'asc' }, take: batchSize });
      if (!debts.length) break;
      const r = await ctx.db.campaignEnrollment.createMany({
        data: debts.map((d) => ({ campaignId, debtId: d.id, debtorId: d.debtorId, enrolledAt: now, nextStep: 1, nextStepAt: stepDueAt(first, now, d.dueDate) })),
        skipDuplicates: true,
      });
      total += r.count;
      publish(ctx, campaignId, 'campaign.progress', { phase: 'enrol', enrolled: total });
      if (debts.length < batchSize) break;
      // Paused or cancelled meanwhile: stop enrolling.
      const status = (await ctx.db.campaign.findUnique({ where: { id: campaignId }, select: { status: true } }))?.status;
      if (status !== 'ACTIVE') break;
    }
    if (total) ctx.log.info({ campaignId, enrolled: total }, 'campaign enrolment');
    return total;
  });
}

/** Runs the steps that are due at `now`, batch by batch. */
export async function runDueSteps(ctx: AppContext, campaignId: string, opts: WaveOptions = {}): Promise<WaveReport> {
  return serialized(campaignId, () => runDueStepsNow(ctx, campaignId, opts));
}

async function runDueStepsNow(ctx: AppContext, campaignId: string, opts: WaveOptions): Promise<WaveReport> {
  const now = opts.now ?? new Date();
  const batchSize = opts.batchSize ?? 200;
  const report: WaveReport = { campaignId, processed: 0, queued: 0, deferred: 0, refused: 0, suppressed: 0, skipped: 0, held: 0, errors: 0, remainingDue: 0, status: 'ACTIVE' };
  const campaign = await ctx.db.campaign.findUnique({ where: { id: campaignId }, include: { steps: { orderBy: { position: 'asc' } } } });
  if (!campaign) return { ...report, status: 'MISSING' };
  report.status = campaign.status;
  if (campaign.status !== 'ACTIVE') return report;
  const ledger = new ThrottleLedger(campaign.throttle as Throttle, (channel, minute) =>
    ctx.db.message.count({ where: { campaignId, channel: channel as Channel, status: { not: 'CANCELLED' }, scheduledAt: { gte: minute, lt: new Date(minute.getTime() + MINUTE_MS) } } }),
  );
  const dueWhere = { campaignId, status: 'ACTIVE' as const, nextStepAt: { lte: now } };
  for (let batch = 0; opts.maxBatches === undefined || batch < opts.maxBatches; batch++) {
    const enrollments = await ctx.db.campaignEnrollment.findMany({ where: dueWhere, orderBy: [{ nextStepAt: 'asc' }, { id: 'asc' }], take: batchSize });
    if (!enrollments.length) break;
    for (const e of enrollments) {
      report.processed += 1;
      try {
        const outcome = await processEnrollment(ctx, campaign, e, now, ledger);
        report[outcome] += 1;
      } catch (err) {
        report.errors += 1;
        ctx.log.warn({ err, campaignId, enrollmentId: e.id }, 'campaign step failed; retrying in 5 minutes');
        await ctx.db.campaignEnrollment.updateMany({ where: { id: e.id, status: 'ACTIVE' }, data: { nextStepAt: new Date(now.getTime() + 5 * MINUTE_MS) } });
      }
    }
    publish(ctx, campaignId, 'campaign.progress', { phase: 'wave', ...report });
    const status = (await ctx.db.campaign.findUnique({ where: { id: campaignId }, select: { status: true } }))?.status ?? 'MISSING';
    report.status = status;
    if (status !== 'ACTIVE') break;
  }
  report.remainingDue = await ctx.db.campaignEnrollment.count({ where: dueWhere });
  return report;
}

type Outcome = 'queued' | 'deferred' | 'refused' | 'suppressed' | 'skipped' | 'held';

function uniqueRules(d: Decision, keep: (rule: string) => boolean): string[] {
  return [...new Set(d.reasons.map((r) => r.rule as string).filter(keep))];
}

async function processEnrollment(ctx: AppContext, campaign: CampaignWithSteps, e: CampaignEnrollment, now: Date, ledger: ThrottleLedger): Promise<Outcome> {
  const step = campaign.steps[e.nextStep - 1];
  if (!step) {
    await ctx.db.campaignEnrollment.updateMany({ where: { id: e.id, status: 'ACTIVE' }, data: { status: 'COMPLETED', nextStepAt: null } });
    return 'skipped';
  }
  const debt = await ctx.db.debt.findUniqueOrThrow({
    where: { id: e.debtId },
    include: { debtor: { include: { contactPoints: { include: { consents: true } } } }, promises: { where: { status: 'ACTIVE' }, orderBy: { dueDate: 'desc' } } },
  });
  const stops = new Set(campaign.stopConditions);

  // 1. stop conditions
  const restrictions = new Set([...debt.restrictions, ...debt.debtor.restrictions]);
  const stopReason = (() => {
    if (stops.has('PAID') && (['PAID', 'SETTLED', 'CLOSED', 'WRITTEN_OFF'].includes(debt.status) || debt.balance.lte(0))) return 'PAID';
    if (stops.has('CEASE') && restrictions.has('CEASE_COMMUNICATION')) return 'CEASE';
    if (stops.has('DISPUTE') && (debt.status === 'DISPUTED' || restrictions.has('DISPUTE_UNDER_REVIEW'))) return 'DISPUTE';
    if (stops.has('OPTED_OUT_ALL') && optedOutEverywhere(debt.debtor.contactPoints)) return 'OPTED_OUT_ALL';
    return null;
  })() ?? (stops.has('REPLIED') && (await repliedSince(ctx, e.debtorId, e.enrolledAt)) ? 'REPLIED' : null);
  if (stopReason) {
    await recordRun(ctx, e, step, now, 'suppressed', [`stop.${stopReason}`]);
    await ctx.db.campaignEnrollment.updateMany({ where: { id: e.id, status: 'ACTIVE' }, data: { status: 'STOPPED', stopReason, nextStepAt: null } });
    return 'suppressed';
  }
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const keptPromise = debt.promises.find((p) => p.dueDate.getTime() >= today);
  if (stops.has('PROMISE') && keptPromise) {
    // Held, not stopped: if the promise is broken the cadence picks up again.
    await ctx.db.campaignEnrollment.updateMany({ where: { id: e.id, status: 'ACTIVE', nextStep: e.nextStep }, data: { nextStepAt: new Date(keptPromise.dueDate.getTime() + DAY_MS) } });
    return 'held';
  }

  // 2. the step's own conditions, since the previous step (or enrolment)
  const previous = await ctx.db.campaignStepRun.findFirst({ where: { enrollmentId: e.id, stepId: { not: step.id } }, orderBy: { createdAt: 'desc' } });
  const since = previous?.createdAt ?? e.enrolledAt;
  const cond = (step.conditions ?? {}) as StepConditions;
  const skipReasons: string[] = [];
  if (cond.noReplySincePrevious && (await repliedSince(ctx, e.debtorId, since))) skipReasons.push('condition.replied');
  if (cond.noPaymentSincePrevious && (await ctx.db.payment.findFirst({ where: { debtId: e.debtId, createdAt: { gt: since } }, select: { id: true } }))) skipReasons.push('condition.paid');
  if (cond.noPromiseSincePrevious && (await ctx.db.promiseToPay.findFirst({ where: { debtId: e.debtId, createdAt: { gt: since } }, select: { id: true } }))) skipReasons.push('condition.promised');
  if (skipReasons.length) {
    await recordRun(ctx, e, step, now, 'skipped', skipReasons);
    await advance(ctx, campaign, e, step, now, now);
    return 'skipped';
  }

  // 3. claim the run (its id is the idempotency key)
  let run = await ctx.db.campaignStepRun.findUnique({ where: { enrollmentId_stepId: { enrollmentId: e.id, stepId: step.id } } });
  if (run && run.outcome !== 'pending') {
    // Done before a crash, but the enrolment was not advanced: advance only.
    const m = run.messageId ? await ctx.db.message.findUnique({ where: { id: run.messageId }, select: { scheduledAt: true } }) : null;
    await advance(ctx, campaign, e, step, now, m?.scheduledAt ?? now);
    return run.outcome as Outcome;
  }
  if (!run) {
    try {
      run = await ctx.db.campaignStepRun.create({ data: { enrollmentId: e.id, stepId: step.id, outcome: 'pending', createdAt: now } });
    } catch (err) {
      if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')) throw err;
      run = await ctx.db.campaignStepRun.findUniqueOrThrow({ where: { enrollmentId_stepId: { enrollmentId: e.id, stepId: step.id } } });
    }
  }

  // 4. timing: due time, step window, throttle slot
  const due = stepDueAt(step, e.enrolledAt, debt.dueDate);
  const notBefore = await planSendTime(ctx, campaign, step, e, new Date(Math.max(due.getTime(), now.getTime())), now, ledger);

  // 5. through the router, under the debtor's lock
  const result = notBefore
    ? await requestOutreach(
        ctx,
        { debtorId: e.debtorId, debtId: e.debtId, intent: step.intent as Intent, channel: (step.channel ?? undefined) as Channel | undefined, notBefore: notBefore.at, campaignId: campaign.id, idempotencyKey: run.id, now },
        { type: 'system', name: `campaign:${campaign.id}` },
      )
    : null;
  let outcome: Outcome;
  let reasons: string[];
  let sendAt = now;
  if (!result) {
    outcome = 'refused';
    reasons = ['window.no_common_window'];
  } else if (result.outcome === 'refuse') {
    outcome = 'refused';
    reasons = uniqueRules(result.decision, (r) => !INFORMATIONAL_RULES.has(r));
  } else {
    const d = result.decision as RoutedDecision;
    sendAt = new Date(d.sendAt);
    if (!result.duplicate) await ledger.take(d.channel, sendAt);
    const deferrals = uniqueRules(d, isDeferralRule);
    outcome = deferrals.length ? 'deferred' : 'queued';
    reasons = deferrals.length ? deferrals : notBefore!.throttled ? ['throttle'] : [];
  }
  await ctx.db.campaignStepRun.update({ where: { id: run.id }, data: { outcome, reasons, messageId: result && result.outcome !== 'refuse' ? result.messageId : null } });
  // 6. next step
  await advance(ctx, campaign, e, step, now, sendAt);
  return outcome;
}

/**
 * Earliest time ≥ from that the router accepts for this debtor, inside the
 * step window and with room in the throttle; null if the step window is never
 * open in all the debtor's zones. Pure over one snapshot, so it is cheap to
 * iterate; requestOutreach decides for real afterwards.
 */
async function planSendTime(ctx: AppContext, campaign: CampaignWithSteps, step: CampaignStep, e: CampaignEnrollment, from: Date, now: Date, ledger: ThrottleLedger): Promise<{ at: Date; throttled: boolean } | null> {
  const window = (step.window ?? null) as StepWindow | null;
  const throttled = Object.keys((campaign.throttle ?? {}) as object).length > 0;
  if (!window && !throttled) return { at: from, throttled: false };
  const snapshot = await loadSnapshot(ctx.db, e.debtorId, now);
  if (!snapshot) return { at: from, throttled: false };
  const zones = resolveLocation(snapshot, router.config).zones;
  let earliest = from;
  let moved = false;
  for (let i = 0; i < 500; i++) {
    const t = window ? windowStart(earliest, zones, window) : earliest;
    if (!t) return null;
    const d = router.decide({ debtorId: e.debtorId, debtId: e.debtId, intent: routerIntent(step.intent), channel: (step.channel ?? undefined) as Channel | undefined, notBefore: t }, snapshot);
    if (d.outcome === 'refuse') return { at: t, throttled: moved };
    const s = d.sendAt;
    if (window && !insideWindow(s, zones, window)) {
      earliest = new Date(s.getTime() + MINUTE_MS);
      continue;
    }
    if (!(await ledger.hasRoom(d.channel, s))) {
      earliest = await ledger.slot(d.channel, s);
      moved = true;
      continue;
    }
    // Spread inside the minute: the k-th message of the minute goes k·60/rate s after its start.
    const slot = await ledger.slot(d.channel, s);
    return { at: slot, throttled: moved || slot.getTime() > s.getTime() };
  }
  return { at: earliest, throttled: moved };
}

function optedOutEverywhere(points: { kind: string; valid: boolean; consents: { channel: string; state: string }[] }[]): boolean {
  const channelsOf: Record<string, string[]> = { PHONE: ['SMS', 'VOICE'], EMAIL: ['EMAIL'], ADDRESS: ['LETTER'] };
  const usable = points.filter((p) => p.valid);
  if (!usable.length) return false;
  return usable.every((p) => (channelsOf[p.kind] ?? []).every((ch) => p.consents.find((c) => c.channel === ch)?.state === 'REVOKED'));
}

async function repliedSince(ctx: AppContext, debtorId: string, since: Date): Promise<boolean> {
  return Boolean(await ctx.db.message.findFirst({ where: { debtorId, direction: 'INBOUND', createdAt: { gt: since } }, select: { id: true } }));
}

async function recordRun(ctx: AppContext, e: CampaignEnrollment, step: CampaignStep, now: Date, outcome: Outcome, reasons: string[]): Promise<void> {
  await ctx.db.campaignStepRun.upsert({
    where: { enrollmentId_stepId: { enrollmentId: e.id, stepId: step.id } },
    create: { enrollmentId: e.id, stepId: step.id, outcome, reasons, createdAt: now },
    update: { outcome, reasons },
  });
}

/** Moves the enrolment past `step`; the next step is due no earlier than a minute after this one goes out. */
async function advance(ctx: AppContext, campaign: CampaignWithSteps, e: CampaignEnrollment, step: CampaignStep, now: Date, sentAt: Date): Promise<void> {
  const next = campaign.steps[step.position]; // positions are 1-based
  if (!next) {
    await ctx.db.campaignEnrollment.updateMany({ where: { id: e.id, status: 'ACTIVE', nextStep: step.position }, data: { status: 'COMPLETED', nextStep: step.position + 1, nextStepAt: null } });
    return;
  }
  const debt = await ctx.db.debt.findUniqueOrThrow({ where: { id: e.debtId }, select: { dueDate: true } });
  const due = stepDueAt(next, e.enrolledAt, debt.dueDate).getTime();
  const nextAt = new Date(Math.max(due, sentAt.getTime() + MINUTE_MS, now.getTime() + MINUTE_MS));
  await ctx.db.campaignEnrollment.updateMany({ where: { id: e.id, status: 'ACTIVE', nextStep: step.position }, data: { nextStep: step.position + 1, nextStepAt: nextAt } });
}

/** ACTIVE and nothing left to do (no active enrolment, no cron, nobody left to enrol) → COMPLETED. */
export async function completeIfDone(ctx: AppContext, campaignId: string, now = new Date()): Promise<boolean> {
  const c = await ctx.db.campaign.findUnique({ where: { id: campaignId } });
  if (!c || c.status !== 'ACTIVE' || c.cron) return false;
  if (await ctx.db.campaignEnrollment.findFirst({ where: { campaignId, status: 'ACTIVE' }, select: { id: true } })) return false;
  if (await ctx.db.debt.findFirst({ where: audienceWhere(c.audience as Audience, campaignId, now), select: { id: true } })) return false;
  const r = await ctx.db.campaign.updateMany({ where: { id: campaignId, status: 'ACTIVE' }, data: { status: 'COMPLETED' } });
  if (r.count) publish(ctx, campaignId, 'campaign.status', { status: 'COMPLETED' });
  return r.count > 0;
}

// Campaign execution: enrolment of the audience and the waves that send due
// steps, both in batches (one Agenda job run handles many enrolments).
//
// Enrolment is one INSERT … SELECT over the audience filter. A wave takes the
// due enrolments batch by batch, several batches at once (WAVE_CONCURRENCY);
// each batch is planned and written in one transaction by wave-batch.ts. Letters, runs left half-done by a crash of
// this single path, and batches whose transaction fails go through
// processEnrollment below, one enrolment at a time, with the same rules.
//
// Per due enrolment, in order (1, 2 and the window of 4 are decided by
// next-step.ts, the same function the batch path uses):
//   1. stop conditions of the campaign (PAID, CEASE, DISPUTE, OPTED_OUT_ALL,
//      REPLIED stop it; an active PROMISE holds it until the day after the
//      promised date);
//   2. the step's own conditions (no reply / payment / promise since the
//      previous step), which skip the step;
//   3. a CampaignStepRun row (unique per enrolment and step) is claimed, its
//      id is the message's idempotency key, so a wave resumed after a crash
//      finds the run and gets the same message back instead of a second one;
//   4. timing: not before the step's due time, inside the step's local window,
//      and in a free throttle slot (send-time.ts), checked against the
//      router's own decision on the debtor's snapshot;
//   5. requestOutreach — the router decides again under the debtor's lock and
//      enforces consent, quiet hours and limits; the outcome is recorded on the run;
//   6. the enrolment moves to its next step (or COMPLETED).
import type { AppContext } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import type { CampaignEnrollment, CampaignStep } from '../generated/prisma/client.js';
import type { Channel, RoutedDecision } from '../router/index.js';
import { loadSnapshot } from '../outbound/snapshot.js';
import { requestOutreach, routerIntent } from '../outbound/service.js';
import { TemplateError, type Intent } from '../templates/index.js';
import { HttpError } from '../http/errors.js';
import { ADMIN_ROOM, campaignRoom, publishTimeline } from '../conversations/live.js';
import { audienceSql } from './audience.js';
import { afterStep, factsNeeded, nextStep, type EnrollmentFacts } from './next-step.js';
import { planSend } from './send-time.js';
import { MinuteLedger, providerRateLimits } from './throttle.js';
import type { ChannelRates } from './rates.js';
import {
  INFORMATIONAL_RULES,
  isDeferralRule,
  planBatch,
  uniqueRules,
  type CampaignWithSteps,
  type Outcome,
} from './wave-batch.js';
import { scheduleCampaignDispatch } from './dispatch.js';
import { openMessages } from './results.js';
import type { Audience, StepWindow } from './schemas.js';
import { isUniqueViolation } from '../db/errors.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/**
 * Batches of one wave planned at once, each in its own transaction. A batch's
 * work alternates between this process (decisions, rendering) and PostgreSQL
 * (locks, reads, index and foreign-key work of the writes); one batch at a
 * time leaves one side idle while the other works. With three, one batch is
 * decided here while two are read or written in PostgreSQL, which keeps two
 * cores busy (measured on 2 cores: 1 → 2 → 3 batches, 18.5 s → 13.9 s → 8.6 s
 * for 10,000 debtors, same conditions, back to back).
 */
const WAVE_CONCURRENCY = 3;

export interface WaveOptions {
  now?: Date;
  /** Enrolments per batch (default 500). */
  batchSize?: number;
  /** Stop after this many batches (the job re-runs for the rest); default unlimited. */
  maxBatches?: number;
  /** Start no new batch after this time (epoch ms); the batches under way finish. */
  deadline?: number;
  /** Batches planned at once, each in its own transaction (default WAVE_CONCURRENCY). */
  concurrency?: number;
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

function publish(ctx: AppContext, campaignId: string, event: string, payload: object): void {
  ctx.io
    .to(campaignRoom(campaignId))
    .to(ADMIN_ROOM)
    .emit(event, { campaignId, ...payload });
}

/**
 * Enrols matching, never-enrolled debts in one INSERT … SELECT (a debt is
 * enrolled in a campaign at most once, so a recurring run adds only debts
 * that newly match); returns how many were enrolled.
 */
export async function enrolAudience(ctx: AppContext, campaignId: string, opts: { now?: Date } = {}): Promise<number> {
  return serialized(campaignId, async () => {
    const now = opts.now ?? new Date();
    const campaign = await ctx.db.campaign.findUnique({
      where: { id: campaignId },
      include: { steps: { orderBy: { position: 'asc' } } },
    });
    if (!campaign || campaign.status !== 'ACTIVE' || !campaign.steps.length) return 0;
    const first = campaign.steps[0]!;
    const offsetMs = first.offsetDays * DAY_MS;
    // When step 1 falls due (planner.stepDueAt, in SQL): enrolment time or the due date (00:00 UTC), plus the offset.
    const firstDue =
      first.anchor === 'DUE_DATE'
        ? Prisma.sql`(d.due_date::timestamp AT TIME ZONE 'UTC') + ${offsetMs} * interval '1 millisecond'`
        : Prisma.sql`${new Date(now.getTime() + offsetMs)}::timestamptz`;
    const enrolled = await ctx.db.$executeRaw`
      INSERT INTO campaign_enrollments (id, campaign_id, debt_id, debtor_id, status, next_step, next_step_at, enrolled_at, updated_at)
      SELECT gen_random_uuid(), ${campaignId}::uuid, d.id, d.debtor_id, 'ACTIVE', 1, ${firstDue}, ${now}, now()
        FROM debts d
       WHERE ${audienceSql(campaign.audience as Audience, campaignId, now)}
          -- paused or cancelled meanwhile: enrol nobody
         AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = ${campaignId}::uuid AND c.status = 'ACTIVE')
      ON CONFLICT (campaign_id, debt_id) DO NOTHING`;
    const total = await ctx.db.campaignEnrollment.count({ where: { campaignId } });
    publish(ctx, campaignId, 'campaign.progress', { phase: 'enrol', enrolled: total, added: enrolled });
    if (enrolled) ctx.log.info({ campaignId, enrolled }, 'campaign enrolment');
    return enrolled;
  });
}

/** Runs the steps that are due at `now`, batch by batch. */
export async function runDueSteps(ctx: AppContext, campaignId: string, opts: WaveOptions = {}): Promise<WaveReport> {
  return serialized(campaignId, () => runDueStepsNow(ctx, campaignId, opts));
}

async function runDueStepsNow(ctx: AppContext, campaignId: string, opts: WaveOptions): Promise<WaveReport> {
  const now = opts.now ?? new Date();
  const batchSize = opts.batchSize ?? 500;
  const concurrency = opts.concurrency ?? WAVE_CONCURRENCY;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize: must be a whole number ≥ 1, got ${batchSize}`);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 8)
    throw new RangeError(`concurrency: must be a whole number from 1 to 8, got ${concurrency}`);
  const report: WaveReport = {
    campaignId,
    processed: 0,
    queued: 0,
    deferred: 0,
    refused: 0,
    suppressed: 0,
    skipped: 0,
    held: 0,
    errors: 0,
    remainingDue: 0,
    status: 'ACTIVE',
  };
  const campaign = await ctx.db.campaign.findUnique({
    where: { id: campaignId },
    include: { steps: { orderBy: { position: 'asc' } } },
  });
  if (!campaign) return { ...report, status: 'MISSING' };
  report.status = campaign.status;
  if (campaign.status !== 'ACTIVE') return report;
  const providerRates = providerRateLimits(ctx);
  // Under a throttle every batch holds an exclusive lock (the campaign's, or a
  // provider channel's) for its whole transaction, so batches side by side
  // would only wait on each other: one at a time then.
  const throttled =
    Object.keys((campaign.throttle ?? {}) as object).length > 0 || Object.keys(providerRates).length > 0;
  const workers = throttled ? 1 : concurrency;
  const dueWhere = { campaignId, status: 'ACTIVE' as const, nextStepAt: { lte: now } };
  // What follows a batch's commit (publishing its events, saving its dispatch
  // jobs) only touches the job table and sockets, so it runs while the next
  // batch is planned; one at a time and in commit order, and all awaited before
  // the wave returns. The slow path stays in line: it locks debtors itself.
  let afterCommit: Promise<void> = Promise.resolve();
  const queueAfterCommit = (work: () => Promise<void>) => {
    // A failure here must not skip the work queued after it: the messages are in the outbox either way (the sweep dispatches them).
    afterCommit = afterCommit
      .then(work)
      .catch((err: unknown) =>
        ctx.log.warn(
          { err, campaignId },
          'post-commit work of a wave batch failed; the outbox sweep will dispatch its messages',
        ),
      );
  };

  // Batches are handed out one claim at a time (claims are chained, so two
  // workers never read the same due rows): the earliest due enrolments not in
  // a batch under way. An enrolment stays "in flight" until its batch is
  // committed and its slow-path leftovers are done; by then it is no longer
  // due (advanced, held, stopped or rescheduled), so no later claim sees it.
  const inFlight = new Set<string>();
  let claimed = 0;
  let stopping = false;
  let claims: Promise<unknown> = Promise.resolve();
  const nextDue = (exclude: string[]) =>
    ctx.db.$queryRaw<{ id: string; debtorId: string }[]>`
      SELECT id::text AS id, debtor_id::text AS "debtorId" FROM campaign_enrollments
       WHERE campaign_id = ${campaignId}::uuid AND status = 'ACTIVE' AND next_step_at <= ${now} AND id <> ALL(${exclude}::uuid[])
       ORDER BY next_step_at, id
       LIMIT ${batchSize}`;
  const claim = (): Promise<{ id: string; debtorId: string }[]> => {
    const next = claims.then(async () => {
      if (stopping) return [];
      if (opts.maxBatches !== undefined && claimed >= opts.maxBatches) return [];
      // The deadline stops new batches, never the first one (a wave always makes progress).
      if (claimed > 0 && opts.deadline !== undefined && Date.now() >= opts.deadline) return [];
      const due = await nextDue([...inFlight]);
      if (due.length) {
        claimed += 1;
        for (const d of due) inFlight.add(d.id);
      }
      return due;
    });
    claims = next.catch(() => undefined);
    return next;
  };

  const planOne = async (due: { id: string; debtorId: string }[]) => {
    let slowPath: CampaignEnrollment[];
    try {
      const planned = await planBatch(ctx, campaign, due, now, providerRates);
      for (const [k, n] of Object.entries(planned.counts)) {
        report[k as Outcome | 'errors'] += n;
        report.processed += n;
      }
      queueAfterCommit(async () => {
        publishTimeline(ctx.io, planned.events);
        await scheduleCampaignDispatch(ctx, campaignId, planned.dispatch);
      });
      slowPath = planned.slowPath;
    } catch (err) {
      // The batch rolled back as a whole; take its enrolments one at a time so one bad row cannot stall the wave.
      ctx.log.warn({ err, campaignId, batch: due.length }, 'wave batch failed; planning its enrolments one by one');
      slowPath = await ctx.db.campaignEnrollment.findMany({
        where: { id: { in: due.map((d) => d.id) }, status: 'ACTIVE', nextStepAt: { lte: now } },
      });
    }
    for (const e of slowPath) {
      report.processed += 1;
      try {
        const outcome = await processEnrollment(ctx, campaign, e, now, providerRates);
        report[outcome] += 1;
      } catch (err) {
        report.errors += 1;
        ctx.log.warn({ err, campaignId, enrollmentId: e.id }, 'campaign step failed; retrying in 5 minutes');
        await ctx.db.campaignEnrollment.updateMany({
          where: { id: e.id, status: 'ACTIVE' },
          data: { nextStepAt: new Date(now.getTime() + 5 * MINUTE_MS) },
        });
      }
    }
    const progress = { phase: 'wave', ...report };
    queueAfterCommit(async () => publish(ctx, campaignId, 'campaign.progress', progress));
  };

  // Several batches at once, on disjoint enrolments and each in its own
  // transaction: one batch's decisions (JavaScript) run while another's reads
  // and writes run in PostgreSQL, so the two halves of the work overlap. Two
  // batches holding the same debtor (a debtor with two debts due) are ordered
  // by the debtor's row lock, as any two plans for one debtor are.
  const worker = async () => {
    for (;;) {
      const due = await claim();
      if (!due.length) return;
      try {
        await planOne(due);
      } finally {
        for (const d of due) inFlight.delete(d.id);
      }
      // Paused or cancelled meanwhile: no new batch (those under way finish).
      const current = await ctx.db.campaign.findUnique({ where: { id: campaignId }, select: { status: true } });
      if ((current?.status ?? 'MISSING') !== 'ACTIVE') {
        report.status = current?.status ?? 'MISSING';
        stopping = true;
      }
    }
  };
  try {
    const settled = await Promise.allSettled(
      Array.from({ length: workers }, () =>
        worker().catch((err: unknown) => {
          stopping = true;
          throw err;
        }),
      ),
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    await afterCommit;
  }
  report.remainingDue = await ctx.db.campaignEnrollment.count({ where: dueWhere });
  return report;
}

/** The single-enrolment path (letters, half-done runs, failed batches); the same rules as wave-batch.ts (next-step.ts). */
async function processEnrollment(
  ctx: AppContext,
  campaign: CampaignWithSteps,
  e: CampaignEnrollment,
  now: Date,
  providerRates: ChannelRates,
): Promise<Outcome> {
  // Without the batch's channel locks: the provider limit is counted, but two processes may race for a minute's last slot here.
  const ledger = new MinuteLedger(ctx.db, campaign.id, (campaign.throttle ?? {}) as ChannelRates, providerRates);
  if (!campaign.steps[e.nextStep - 1]) {
    await ctx.db.campaignEnrollment.updateMany({
      where: { id: e.id, status: 'ACTIVE' },
      data: { status: 'COMPLETED', nextStepAt: null },
    });
    return 'skipped';
  }
  const next = nextStep(campaign, await loadFacts(ctx, campaign, e), now);
  if (next.kind === 'complete') return 'skipped'; // not reached: the step exists
  const step = next.step;

  // 1. stop conditions, and holds
  if (next.kind === 'stop') {
    await recordRun(ctx, e, step, now, 'suppressed', [`stop.${next.reason}`]);
    await ctx.db.campaignEnrollment.updateMany({
      where: { id: e.id, status: 'ACTIVE' },
      data: { status: 'STOPPED', stopReason: next.reason, nextStepAt: null },
    });
    return 'suppressed';
  }
  if (next.kind === 'hold') {
    await ctx.db.campaignEnrollment.updateMany({
      where: { id: e.id, status: 'ACTIVE', nextStep: e.nextStep },
      data: { nextStepAt: next.until },
    });
    return 'held';
  }

  // 2. the step's own conditions
  if (next.kind === 'skip') {
    await recordRun(ctx, e, step, now, 'skipped', next.reasons);
    await advance(ctx, campaign, e, step, now, now);
    return 'skipped';
  }

  // 3. claim the run (its id is the idempotency key)
  let run = await ctx.db.campaignStepRun.findUnique({
    where: { enrollmentId_stepId: { enrollmentId: e.id, stepId: step.id } },
  });
  if (run && run.outcome !== 'pending') {
    // Done before a crash, but the enrolment was not advanced: advance only.
    const m = run.messageId
      ? await ctx.db.message.findUnique({ where: { id: run.messageId }, select: { scheduledAt: true } })
      : null;
    await advance(ctx, campaign, e, step, now, m?.scheduledAt ?? now);
    return run.outcome as Outcome;
  }
  if (!run) {
    try {
      run = await ctx.db.campaignStepRun.create({
        data: { enrollmentId: e.id, stepId: step.id, outcome: 'pending', createdAt: now },
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      run = await ctx.db.campaignStepRun.findUniqueOrThrow({
        where: { enrollmentId_stepId: { enrollmentId: e.id, stepId: step.id } },
      });
    }
  }

  // 4. timing: due time, step window, throttle slot
  const notBefore = await planSendTime(ctx, campaign, step, e, next.window, next.from, now, ledger);

  // 5. through the router, under the debtor's lock
  let templateRefusal: string | null = null;
  const result = notBefore
    ? await requestOutreach(
        ctx,
        {
          debtorId: e.debtorId,
          debtId: e.debtId,
          intent: step.intent as Intent,
          channel: (step.channel ?? undefined) as Channel | undefined,
          notBefore: notBefore.at,
          campaignId: campaign.id,
          idempotencyKey: run.id,
          now,
        },
        { type: 'system', name: `campaign:${campaign.id}` },
      ).catch((err: unknown) => {
        // A step whose text cannot be rendered for this debtor (no template for the
        // chosen channel, a value missing) fails the same way on every retry: record
        // it as refused with the template's reason instead of retrying for ever.
        const code = templateErrorCode(err);
        if (!code) throw err;
        templateRefusal = `template.${code}`;
        return null;
      })
    : null;
  let outcome: Outcome;
  let reasons: string[];
  let sendAt = now;
  if (templateRefusal) {
    outcome = 'refused';
    reasons = [templateRefusal];
  } else if (!result) {
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
  await ctx.db.campaignStepRun.update({
    where: { id: run.id },
    data: { outcome, reasons, messageId: result && result.outcome !== 'refuse' ? result.messageId : null },
  });
  // 6. next step
  await advance(ctx, campaign, e, step, now, sendAt);
  return outcome;
}

/** The template error code of a failed outreach request, or null for any other failure. */
function templateErrorCode(err: unknown): string | null {
  if (err instanceof TemplateError) return err.code;
  if (err instanceof HttpError && err.code === 'template_error') {
    const code = (err.details as { code?: unknown } | undefined)?.code;
    return typeof code === 'string' ? code : 'error';
  }
  return null;
}

/** The facts next-step.ts decides on, for one enrolment (only those its campaign's rules read). */
async function loadFacts(
  ctx: AppContext,
  campaign: CampaignWithSteps,
  e: CampaignEnrollment,
): Promise<EnrollmentFacts> {
  const needs = factsNeeded(campaign);
  const step = campaign.steps[e.nextStep - 1]!;
  const latest = { orderBy: { createdAt: 'desc' as const }, select: { createdAt: true } };
  const [debt, lastReply, lastPayment, lastPromise, previous] = await Promise.all([
    ctx.db.debt.findUniqueOrThrow({
      where: { id: e.debtId },
      include: {
        debtor: { include: { contactPoints: { include: { consents: true } } } },
        promises: { where: { status: 'ACTIVE' }, orderBy: { dueDate: 'desc' }, take: 1 },
      },
    }),
    // An automatic reply (out-of-office) is not the debtor replying.
    needs.replies
      ? ctx.db.message.findFirst({
          where: {
            debtorId: e.debtorId,
            direction: 'INBOUND',
            OR: [{ intent: null }, { intent: { not: 'auto_reply' } }],
          },
          ...latest,
        })
      : null,
    needs.payments ? ctx.db.payment.findFirst({ where: { debtId: e.debtId }, ...latest }) : null,
    needs.promises ? ctx.db.promiseToPay.findFirst({ where: { debtId: e.debtId }, ...latest }) : null,
    ctx.db.campaignStepRun.findFirst({ where: { enrollmentId: e.id, stepId: { not: step.id } }, ...latest }),
  ]);
  return {
    nextStep: e.nextStep,
    enrolledAt: e.enrolledAt,
    debt,
    debtorRestrictions: debt.debtor.restrictions,
    contactPoints: debt.debtor.contactPoints.map((p) => ({
      kind: p.kind,
      valid: p.valid,
      consents: Object.fromEntries(p.consents.map((c) => [c.channel, c.state])),
    })),
    lastReplyAt: lastReply?.createdAt ?? null,
    lastPaymentAt: lastPayment?.createdAt ?? null,
    lastPromiseAt: lastPromise?.createdAt ?? null,
    activePromiseDue: debt.promises[0]?.dueDate ?? null,
    previousRunAt: previous?.createdAt ?? null,
  };
}

/**
 * The time to ask requestOutreach for: the earliest the router accepts for
 * this debtor, inside the step window and with room in the throttle
 * (send-time.ts on the debtor's snapshot); null if the step window is never
 * open in all the debtor's zones.
 */
async function planSendTime(
  ctx: AppContext,
  campaign: CampaignWithSteps,
  step: CampaignStep,
  e: CampaignEnrollment,
  window: StepWindow | null,
  from: Date,
  now: Date,
  ledger: MinuteLedger,
): Promise<{ at: Date; throttled: boolean } | null> {
  const throttled =
    Object.keys((campaign.throttle ?? {}) as object).length > 0 ||
    (['SMS', 'EMAIL', 'VOICE', 'LETTER'] as const).some((c) => ledger.limited(c));
  if (!window && !throttled) return { at: from, throttled: false };
  const snapshot = await loadSnapshot(ctx.db, e.debtorId, now);
  if (!snapshot) return { at: from, throttled: false };
  const req = {
    debtorId: e.debtorId,
    debtId: e.debtId,
    intent: routerIntent(step.intent),
    channel: (step.channel ?? undefined) as Channel | undefined,
  };
  const planned = await planSend(snapshot, req, window, from, ledger);
  if (!planned) return null;
  // A refusal is asked for at the time it was found (requestOutreach records it); a send at the time it may go.
  return {
    at: planned.decision.outcome === 'refuse' ? planned.at : planned.decision.sendAt,
    throttled: planned.throttled,
  };
}

async function recordRun(
  ctx: AppContext,
  e: CampaignEnrollment,
  step: CampaignStep,
  now: Date,
  outcome: Outcome,
  reasons: string[],
): Promise<void> {
  await ctx.db.campaignStepRun.upsert({
    where: { enrollmentId_stepId: { enrollmentId: e.id, stepId: step.id } },
    create: { enrollmentId: e.id, stepId: step.id, outcome, reasons, createdAt: now },
    update: { outcome, reasons },
  });
}

/** Moves the enrolment past `step` (next-step.ts afterStep). */
async function advance(
  ctx: AppContext,
  campaign: CampaignWithSteps,
  e: CampaignEnrollment,
  step: CampaignStep,
  now: Date,
  sentAt: Date,
): Promise<void> {
  const debt = await ctx.db.debt.findUniqueOrThrow({ where: { id: e.debtId }, select: { dueDate: true } });
  const a = afterStep(campaign, step, { enrolledAt: e.enrolledAt, dueDate: debt.dueDate }, now, sentAt);
  await ctx.db.campaignEnrollment.updateMany({
    where: { id: e.id, status: 'ACTIVE', nextStep: step.position },
    data: a,
  });
}

/** ACTIVE and nothing left to do (no active enrolment, no cron, nobody left to enrol, no open message) → COMPLETED. */
export async function completeIfDone(ctx: AppContext, campaignId: string, now = new Date()): Promise<boolean> {
  const c = await ctx.db.campaign.findUnique({ where: { id: campaignId } });
  if (!c || c.status !== 'ACTIVE' || c.cron) return false;
  if (await ctx.db.campaignEnrollment.findFirst({ where: { campaignId, status: 'ACTIVE' }, select: { id: true } }))
    return false;
  const left = await ctx.db.$queryRaw<
    { more: boolean }[]
  >`SELECT EXISTS (SELECT 1 FROM debts d WHERE ${audienceSql(c.audience as Audience, campaignId, now)}) AS more`;
  if (left[0]?.more) return false;
  // Every message it planned has a final state: none in the outbox, claimed but unanswered, or waiting for an admin.
  if ((await openMessages(ctx, campaignId)).total > 0) return false;
  const r = await ctx.db.campaign.updateMany({
    where: { id: campaignId, status: 'ACTIVE' },
    data: { status: 'COMPLETED' },
  });
  if (r.count) publish(ctx, campaignId, 'campaign.status', { status: 'COMPLETED' });
  return r.count > 0;
}

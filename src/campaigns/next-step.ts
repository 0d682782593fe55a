// What happens next to one due enrolment, decided from facts both paths load
// their own way: the wave batch (wave-batch.ts) reads them for hundreds of
// enrolments in a few queries, the single path (runner.ts) one enrolment at a
// time. The rules live here once, pure, so the two paths cannot drift apart:
//   1. no step left → the enrolment completes;
//   2. stop conditions of the campaign (PAID, CEASE, DISPUTE, OPTED_OUT_ALL,
//      REPLIED) stop it; an active PROMISE holds it until the day after the
//      promised date (held, not stopped: a broken promise resumes the cadence);
//   3. the step's own conditions (no reply / payment / promise since the
//      previous step, or enrolment) skip the step;
//   4. otherwise the step is sent, not before its due time and inside its
//      local window (the search for a time the router and the throttle accept
//      is send-time.ts).
// After a step, afterStep says when the next one is due.
import type { CampaignStep } from '../generated/prisma/client.js';
import { isClosedDebt, type Channel } from '../router/index.js';
import { stepDueAt } from './planner.js';
import type { StepConditions, StepWindow } from './schemas.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export type StopReason = 'PAID' | 'CEASE' | 'DISPUTE' | 'OPTED_OUT_ALL' | 'REPLIED';

export interface EnrollmentFacts {
  /** 1-based position of the step that is due. */
  nextStep: number;
  enrolledAt: Date;
  debt: { status: string; balance: { lte(n: number): boolean }; dueDate: Date; restrictions: readonly string[] };
  debtorRestrictions: readonly string[];
  /** The debtor's contact points with each channel's consent state. */
  contactPoints: readonly { kind: string; valid: boolean; consents: Partial<Record<Channel, string>> }[];
  /** Latest message from the debtor, automatic replies (out-of-office) not counted (null: none, or not needed). */
  lastReplyAt: Date | null;
  /** Latest payment and promise recorded on the debt (null: none, or not needed). */
  lastPaymentAt: Date | null;
  lastPromiseAt: Date | null;
  /** Latest due date of the debt's active promises. */
  activePromiseDue: Date | null;
  /** When the enrolment's run of another step was made (the step conditions count from it). */
  previousRunAt: Date | null;
}

export interface CampaignRules {
  steps: readonly CampaignStep[];
  stopConditions: readonly string[];
}

export type NextStep =
  | { kind: 'complete' }
  | { kind: 'stop'; step: CampaignStep; reason: StopReason }
  | { kind: 'hold'; step: CampaignStep; until: Date }
  | { kind: 'skip'; step: CampaignStep; reasons: string[] }
  /** Send the step: not before `from` (its due time, or now), inside `window` when it has one. */
  | { kind: 'send'; step: CampaignStep; from: Date; window: StepWindow | null };

const CHANNELS_OF: Record<string, Channel[]> = { PHONE: ['SMS', 'VOICE'], EMAIL: ['EMAIL'], ADDRESS: ['LETTER'] };

/** Every usable contact point has revoked every channel it could carry (and there is at least one). */
export function optedOutEverywhere(points: EnrollmentFacts['contactPoints']): boolean {
  const usable = points.filter((p) => p.valid);
  if (!usable.length) return false;
  return usable.every((p) => (CHANNELS_OF[p.kind] ?? []).every((ch) => p.consents[ch] === 'REVOKED'));
}

const after = (at: Date | null, since: Date) => at !== null && at.getTime() > since.getTime();

function stopReason(stops: ReadonlySet<string>, f: EnrollmentFacts): StopReason | null {
  const restrictions = new Set([...f.debt.restrictions, ...f.debtorRestrictions]);
  if (stops.has('PAID') && (isClosedDebt(f.debt.status) || f.debt.balance.lte(0))) return 'PAID';
  if (stops.has('CEASE') && restrictions.has('CEASE_COMMUNICATION')) return 'CEASE';
  if (stops.has('DISPUTE') && (f.debt.status === 'DISPUTED' || restrictions.has('DISPUTE_UNDER_REVIEW')))
    return 'DISPUTE';
  if (stops.has('OPTED_OUT_ALL') && optedOutEverywhere(f.contactPoints)) return 'OPTED_OUT_ALL';
  if (stops.has('REPLIED') && after(f.lastReplyAt, f.enrolledAt)) return 'REPLIED';
  return null;
}

/** Which facts a campaign's rules read, so a path loads only those. */
export function factsNeeded(campaign: CampaignRules): {
  replies: boolean;
  payments: boolean;
  promises: boolean;
  activePromises: boolean;
} {
  const cond = (s: CampaignStep) => (s.conditions ?? {}) as StepConditions;
  return {
    replies: campaign.stopConditions.includes('REPLIED') || campaign.steps.some((s) => cond(s).noReplySincePrevious),
    payments: campaign.steps.some((s) => cond(s).noPaymentSincePrevious),
    promises: campaign.steps.some((s) => cond(s).noPromiseSincePrevious),
    activePromises: campaign.stopConditions.includes('PROMISE'),
  };
}

export function nextStep(campaign: CampaignRules, f: EnrollmentFacts, now: Date): NextStep {
  const step = campaign.steps[f.nextStep - 1];
  if (!step) return { kind: 'complete' };
  const stops = new Set(campaign.stopConditions);

  const reason = stopReason(stops, f);
  if (reason) return { kind: 'stop', step, reason };
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (stops.has('PROMISE') && f.activePromiseDue && f.activePromiseDue.getTime() >= today) {
    return { kind: 'hold', step, until: new Date(f.activePromiseDue.getTime() + DAY_MS) };
  }

  const since = f.previousRunAt ?? f.enrolledAt;
  const cond = (step.conditions ?? {}) as StepConditions;
  const skip: string[] = [];
  if (cond.noReplySincePrevious && after(f.lastReplyAt, since)) skip.push('condition.replied');
  if (cond.noPaymentSincePrevious && after(f.lastPaymentAt, since)) skip.push('condition.paid');
  if (cond.noPromiseSincePrevious && after(f.lastPromiseAt, since)) skip.push('condition.promised');
  if (skip.length) return { kind: 'skip', step, reasons: skip };

  const due = stepDueAt(step, f.enrolledAt, f.debt.dueDate);
  return {
    kind: 'send',
    step,
    from: new Date(Math.max(due.getTime(), now.getTime())),
    window: (step.window ?? null) as StepWindow | null,
  };
}

export type Advance =
  | { status: 'COMPLETED'; nextStep: number; nextStepAt: null }
  | { status: 'ACTIVE'; nextStep: number; nextStepAt: Date };

/** The enrolment past `step`: the next step is due no earlier than a minute after this one goes out (and a minute from now). */
export function afterStep(
  campaign: CampaignRules,
  step: CampaignStep,
  f: Pick<EnrollmentFacts, 'enrolledAt'> & { dueDate: Date },
  now: Date,
  sentAt: Date,
): Advance {
  const next = campaign.steps[step.position]; // positions are 1-based
  if (!next) return { status: 'COMPLETED', nextStep: step.position + 1, nextStepAt: null };
  const due = stepDueAt(next, f.enrolledAt, f.dueDate).getTime();
  return {
    status: 'ACTIVE',
    nextStep: step.position + 1,
    nextStepAt: new Date(Math.max(due, sentAt.getTime() + MINUTE_MS, now.getTime() + MINUTE_MS)),
  };
}

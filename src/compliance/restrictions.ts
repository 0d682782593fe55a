// What a restriction does the moment it is recorded (docs/domain.md §2.2.3, §2.2.10, §2.6):
// every queued message it forbids is withdrawn and every campaign enrolment it stops is
// stopped, as a payment in full does (src/payments/service.ts) — instead of each message
// being refused only when its send time comes. The router decides what a restriction
// forbids (a cease still permits the three §1006.6(c) notices; a dispute its verification),
// so the queue is re-decided with it, under the debtor's lock the send path takes too.
// When a temporary restriction ends (Breathing Space, a dispute answered, an attorney who
// consents), the enrolments it stopped resume.
import type { AppContext } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import { createRouter, type ContactRestriction, type Decision } from '../router/index.js';
import { lockDebtor, loadSnapshot } from '../outbound/snapshot.js';
import { routerIntent } from '../outbound/service.js';
import { moveStatus } from '../messaging/status.js';
import { publishTimeline } from '../conversations/live.js';
import type { TimelineEvent } from '../conversations/thread.js';
import { audit } from '../audit.js';

const router = createRouter();

/** The stop reason an enrolment gets, per restriction (shown in campaign results as stoppedByReason). */
// CEASE is the campaigns' own stop reason for a cease (for good); a dispute pauses, so it gets a
// reason of its own: a campaign told to stop on a dispute (stop condition DISPUTE) stays stopped.
export const STOP_REASON: Readonly<Record<ContactRestriction, string>> = {
  CEASE_COMMUNICATION: 'CEASE',
  DISPUTE_UNDER_REVIEW: 'DISPUTE_PAUSE',
  BANKRUPTCY: 'BANKRUPTCY',
  ATTORNEY_REPRESENTED: 'ATTORNEY',
  DECEASED: 'DECEASED',
  MORATORIUM: 'MORATORIUM',
};
/** Restrictions that end: their enrolments resume when the debt may be contacted again. */
export const RESUMABLE_STOP_REASONS: readonly string[] = ['DISPUTE_PAUSE', 'ATTORNEY', 'MORATORIUM'];

const RULE_TO_RESTRICTION: Readonly<Record<string, ContactRestriction>> = {
  'restriction.cease_communication': 'CEASE_COMMUNICATION',
  'restriction.dispute_under_review': 'DISPUTE_UNDER_REVIEW',
  'restriction.bankruptcy': 'BANKRUPTCY',
  'restriction.attorney_represented': 'ATTORNEY_REPRESENTED',
  'restriction.deceased': 'DECEASED',
  'restriction.moratorium': 'MORATORIUM',
};

/** The restriction that refuses this decision, if a restriction is what refuses it. */
function refusingRestriction(d: Decision): ContactRestriction | null {
  if (d.outcome !== 'refuse') return null;
  for (const r of d.reasons) {
    const restriction = RULE_TO_RESTRICTION[r.rule];
    if (restriction) return restriction;
  }
  return null;
}

/** An ordinary collection message: what a campaign step sends. Refused ⇒ the debt's enrolments stop. */
const PROBE_INTENT = 'past_due_notice';

export interface Withdrawal {
  messagesCancelled: number;
  enrollmentsStopped: number;
  enrollmentsResumed: number;
}

/**
 * Re-decides the debtor's queued messages and enrolments under the restrictions in force now:
 * withdraws what they forbid, resumes enrolments a lifted restriction had stopped.
 */
export async function applyRestrictions(
  ctx: AppContext,
  debtorId: string,
  cause: string,
  now = new Date(),
): Promise<Withdrawal> {
  const events: TimelineEvent[] = [];
  const result = await ctx.db.$transaction(
    async (tx) => {
      events.length = 0;
      if (!(await lockDebtor(tx, debtorId)))
        return { messagesCancelled: 0, enrollmentsStopped: 0, enrollmentsResumed: 0 };
      const snapshot = await loadSnapshot(tx, debtorId, now);
      if (!snapshot) return { messagesCancelled: 0, enrollmentsStopped: 0, enrollmentsResumed: 0 };
      let messagesCancelled = 0;
      const queued = await tx.message.findMany({
        where: {
          debtorId,
          direction: 'OUTBOUND',
          status: { in: ['PENDING', 'SCHEDULED'] },
          debtId: { not: null },
          intent: { not: null },
        },
        select: { id: true, debtId: true, intent: true, channel: true, conversationId: true },
      });
      for (const m of queued) {
        const decision = router.decide(
          { debtorId, debtId: m.debtId!, intent: routerIntent(m.intent!), channel: m.channel },
          snapshot,
        );
        const restriction = refusingRestriction(decision);
        if (!restriction) continue;
        const reason = `withdrawn: ${restriction} (${cause})`;
        const reasons = decision.reasons.map((r) => ({ rule: r.rule, detail: r.detail }));
        const step = await moveStatus(tx, {
          id: m.id,
          to: 'CANCELLED',
          data: { countsAsAttempt: false, errorMessage: reason },
          history: { detail: { reason, reasons } },
          timeline: { conversationId: m.conversationId, payload: { reason } },
        });
        if (step.event) events.push(step.event);
        if (step.moved) messagesCancelled += 1;
      }
      let enrollmentsStopped = 0;
      let enrollmentsResumed = 0;
      for (const debt of snapshot.debts) {
        const restriction = refusingRestriction(
          router.decide({ debtorId, debtId: debt.id, intent: PROBE_INTENT }, snapshot),
        );
        if (restriction) {
          enrollmentsStopped += await stopEnrollments(tx, debt.id, STOP_REASON[restriction]);
        } else {
          enrollmentsResumed += await resumeEnrollments(tx, debt.id, now);
        }
      }
      if (messagesCancelled || enrollmentsStopped || enrollmentsResumed) {
        await audit(
          tx,
          { type: 'system' },
          {
            action: 'restriction.apply',
            entityType: 'debtor',
            entityId: debtorId,
            data: { cause, messagesCancelled, enrollmentsStopped, enrollmentsResumed },
          },
        );
      }
      return { messagesCancelled, enrollmentsStopped, enrollmentsResumed };
    },
    { timeout: 20_000, maxWait: 15_000 },
  );
  publishTimeline(ctx.io, events);
  return result;
}

async function stopEnrollments(tx: Prisma.TransactionClient, debtId: string, stopReason: string): Promise<number> {
  const r = await tx.campaignEnrollment.updateMany({
    where: { debtId, status: 'ACTIVE' },
    data: { status: 'STOPPED', stopReason, nextStepAt: null },
  });
  return r.count;
}

/** Enrolments a temporary restriction stopped go on from the step they were at, due now. */
async function resumeEnrollments(tx: Prisma.TransactionClient, debtId: string, now: Date): Promise<number> {
  const data = { status: 'ACTIVE' as const, stopReason: null, nextStepAt: now };
  const campaign = { status: { in: ['ACTIVE' as const, 'PAUSED' as const] } };
  const held = await tx.campaignEnrollment.updateMany({
    where: { debtId, status: 'STOPPED', stopReason: { in: ['ATTORNEY', 'MORATORIUM'] }, campaign },
    data,
  });
  const disputed = await tx.campaignEnrollment.updateMany({
    where: {
      debtId,
      status: 'STOPPED',
      stopReason: 'DISPUTE_PAUSE',
      campaign: { ...campaign, NOT: { stopConditions: { has: 'DISPUTE' } } },
    },
    data,
  });
  return held.count + disputed.count;
}

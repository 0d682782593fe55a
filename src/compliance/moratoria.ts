// UK Breathing Space (Debt Respite Scheme (Breathing Space Moratorium and Mental Health Crisis
// Moratorium) (England and Wales) Regulations 2020; docs/domain.md §2.6). While a moratorium is in
// force the debtor may not be asked to pay: the snapshot turns it into the MORATORIUM
// restriction (src/outbound/snapshot.ts), queued reminders are withdrawn when it is recorded
// (restrictions.ts) and the enrolments it stopped resume on its end date by themselves.
//   - standard: 60 days from its start (reg. 26), unless cancelled earlier;
//   - mental health crisis: until it is ended — 30 days after the crisis treatment ends
//     (reg. 32), recorded then as its end.
import type { AppContext } from '../context.js';
import { applyRestrictions, type Withdrawal } from './restrictions.js';

export const STANDARD_MORATORIUM_DAYS = 60;
export const MORATORIUM_END_JOB = 'moratorium-ends';

/** The end of a moratorium as recorded: a standard one ends 60 days after it starts unless told otherwise. */
export function moratoriumEnd(
  kind: 'STANDARD' | 'MENTAL_HEALTH_CRISIS',
  startsAt: Date,
  endsAt: Date | null | undefined,
): Date | null {
  if (endsAt) return endsAt;
  return kind === 'STANDARD' ? new Date(startsAt.getTime() + STANDARD_MORATORIUM_DAYS * 86_400_000) : null;
}

/**
 * Resumes what every moratorium that has ended by `now` held (once each): the debtor's
 * enrolments go on from their step, due at once, and the router no longer refuses reminders.
 * Run every minute by the scheduler; a test drives it with its own clock.
 */
export async function resumeEndedMoratoria(
  ctx: AppContext,
  now = new Date(),
): Promise<{ moratoria: number } & Withdrawal> {
  const ended = await ctx.db.moratorium.findMany({
    where: { resumedAt: null, OR: [{ endsAt: { lte: now } }, { endedAt: { lte: now } }] },
    select: { id: true, debtorId: true },
    take: 500,
  });
  const total = { moratoria: 0, messagesCancelled: 0, enrollmentsStopped: 0, enrollmentsResumed: 0 };
  for (const m of ended) {
    const r = await applyRestrictions(ctx, m.debtorId, 'Breathing Space ended', now);
    await ctx.db.moratorium.updateMany({ where: { id: m.id, resumedAt: null }, data: { resumedAt: now } });
    total.moratoria += 1;
    total.messagesCancelled += r.messagesCancelled;
    total.enrollmentsStopped += r.enrollmentsStopped;
    total.enrollmentsResumed += r.enrollmentsResumed;
  }
  return total;
}

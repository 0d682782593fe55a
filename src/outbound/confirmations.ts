// The one confirmation after an opt-out (TCPA 47 CFR 64.1200, Reg F
// §1006.14(h)): a single text saying the request will be honoured — no
// balance, no link — sent as a reply to the message the debtor just sent, on
// the same medium. The router allows exactly this intent to a point whose
// consent was just revoked, and nothing else.
import type { AppContext } from '../context.js';
import { requestOutreach } from './service.js';

export interface ConfirmationTarget {
  debtorId: string;
  contactPointId: string;
  channel: 'SMS' | 'EMAIL' | 'VOICE';
}

export async function sendOptOutConfirmation(ctx: AppContext, target: ConfirmationTarget): Promise<void> {
  if (target.channel === 'VOICE') return; // keypad 9 is confirmed on the call itself
  // The template needs no debt details; any of the debtor's debts anchors the message.
  const debt = await ctx.db.debt.findFirst({ where: { debtorId: target.debtorId }, orderBy: { updatedAt: 'desc' } });
  if (!debt) {
    ctx.log.warn({ debtorId: target.debtorId }, 'opt-out confirmation skipped: debtor has no debt on file');
    return;
  }
  const now = new Date();
  const r = await requestOutreach(
    ctx,
    {
      debtorId: target.debtorId,
      debtId: debt.id,
      intent: 'opt-out-confirmation',
      channel: target.channel,
      replyTo: { channel: target.channel, receivedAt: now, contactPointId: target.contactPointId },
      idempotencyKey: `opt-out-confirmation:${target.contactPointId}:${target.channel}:${now.toISOString().slice(0, 16)}`,
      now,
    },
    { type: 'system', id: 'opt-out-confirmation' },
  );
  if (r.outcome === 'refuse') {
    throw new Error(`opt-out confirmation refused: ${r.decision.reasons.map((x) => x.rule).join(', ')}`);
  }
}

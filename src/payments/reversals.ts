// A recorded payment that the provider takes back: a refund (cumulative, may
// be partial), a chargeback, or a bank debit that failed days after it was
// reported paid. The amount goes back on the balance, a debt that was PAID is
// reopened and the campaigns it left because it was paid resume at once; the
// thread shows it live, the audit log keeps it, payment.reversed goes out.
// Idempotent: the payment's reversed amount is cumulative, so a repeated or
// reordered event reverses nothing twice.
import type { AppContext } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import { audit } from '../audit.js';
import { appendEvent, ensureConversation } from '../conversations/thread.js';
import { addFlags, inThread } from '../messaging/thread-writer.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import { minorDigits } from '../domain/debtors.js';

export type ReversalKind = 'refund' | 'chargeback' | 'failed_debit';

export interface Reversal {
  /** The payment's externalRef (stripe:pi_…, gocardless:PM…). */
  paymentRef: string;
  kind: ReversalKind;
  /** Total reversed so far by the provider (refunds add up); null: the whole payment. */
  totalReversed: Prisma.Decimal | null;
  reason: string;
  source: string;
}

export async function reversePayment(ctx: AppContext, r: Reversal): Promise<{ applied: boolean; reopened: boolean }> {
  return inThread(ctx, async (tx, out) => {
    const found = await tx.payment.findUnique({ where: { externalRef: r.paymentRef } });
    if (!found) return { applied: false, reopened: false };
    await tx.$queryRaw`SELECT id FROM debts WHERE id = ${found.debtId}::uuid FOR UPDATE`;
    const payment = await tx.payment.findUniqueOrThrow({ where: { id: found.id } });
    const target = Prisma.Decimal.min(r.totalReversed ?? payment.amount, payment.amount);
    const delta = target.minus(payment.reversedAmount);
    if (delta.lte(0) && !(r.kind === 'chargeback' && payment.status !== 'DISPUTED'))
      return { applied: false, reopened: false };
    const before = await tx.debt.findUniqueOrThrow({ where: { id: payment.debtId }, include: { creditor: true } });
    const balance = before.balance.plus(Prisma.Decimal.max(delta, 0));
    const reopen = before.status === 'PAID' && balance.gt(0);
    const status = r.kind === 'chargeback' ? 'DISPUTED' : target.gte(payment.amount) ? 'REFUNDED' : payment.status;
    await tx.payment.update({
      where: { id: payment.id },
      data: {
        reversedAmount: Prisma.Decimal.max(target, payment.reversedAmount),
        status,
        reversedAt: new Date(),
        reversalReason: `${r.kind}: ${r.reason}`.slice(0, 500),
      },
    });
    const debt = await tx.debt.update({
      where: { id: before.id },
      data: { balance, ...(reopen ? { status: 'OPEN' } : {}) },
      include: { creditor: true },
    });
    let resumed = 0;
    if (reopen) {
      // The campaigns it left because it was paid pick it up again at their next step, now.
      const r2 = await tx.campaignEnrollment.updateMany({
        where: { debtId: before.id, status: 'STOPPED', stopReason: 'PAID' },
        data: { status: 'ACTIVE', stopReason: null, nextStepAt: new Date() },
      });
      resumed = r2.count;
    }
    const digits = minorDigits(debt.currency);
    const data = {
      paymentId: payment.id,
      paymentRef: r.paymentRef,
      kind: r.kind,
      reason: r.reason,
      amount: Prisma.Decimal.max(delta, 0).toFixed(digits),
      currency: debt.currency,
      balanceBefore: before.balance.toFixed(digits),
      balanceAfter: balance.toFixed(digits),
      reopened: reopen,
      enrollmentsResumed: resumed,
    };
    await audit(
      tx,
      { type: 'provider', id: r.source },
      { action: 'payment.reverse', entityType: 'debt', entityId: debt.id, data },
    );
    const conversation = await ensureConversation(tx, debt.debtorId);
    out.events.push(await appendEvent(tx, conversation.id, 'payment.reversed', { debtId: debt.id, ...data }));
    await addFlags(tx, conversation.id, ['NEEDS_REVIEW'], { reason: `payment ${r.kind}`, debtId: debt.id }, out);
    await emitOutgoingEvent(
      ctx,
      'payment.reversed',
      {
        ...data,
        debt: {
          id: debt.id,
          externalRef: debt.externalRef,
          creditorRef: debt.creditor.externalRef,
          balance: balance.toFixed(digits),
          status: debt.status,
        },
      },
      { tx },
    );
    return { applied: true, reopened: reopen };
  });
}

// One thank-you per payment: the payment-received message, keyed by the
// payment's id, so a redelivered provider event or a retried job sends none
// twice. A failure is logged and audited, never fatal to recording the payment.
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { requestOutreach } from '../outbound/service.js';

export async function sendThankYou(
  ctx: AppContext,
  p: { debtorId: string; debtId: string; paymentId: string; amount: string; currency: string; paidAt: Date },
): Promise<void> {
  try {
    const r = await requestOutreach(
      ctx,
      {
        debtorId: p.debtorId,
        debtId: p.debtId,
        intent: 'payment-received',
        vars: { paymentAmount: p.amount, paymentDate: p.paidAt.toISOString().slice(0, 10) },
        idempotencyKey: `payment-received:${p.paymentId}`,
      },
      { type: 'system', id: 'payments' },
    );
    if (r.outcome === 'refuse') {
      await audit(
        ctx.db,
        { type: 'system', id: 'payments' },
        {
          action: 'payment.thanks_refused',
          entityType: 'debt',
          entityId: p.debtId,
          data: { paymentId: p.paymentId, reasons: r.decision.reasons.map((x) => x.rule) },
        },
      );
    }
  } catch (err) {
    ctx.log.error({ err, paymentId: p.paymentId }, 'thank-you message could not be requested');
  }
}

// Replies the gateway sends on its own, because the debtor's text asked for
// them — never a collection attempt:
// - the one confirmation after an opt-out (TCPA 47 CFR 64.1200, Reg F
//   §1006.14(h)): a single text saying the request will be honoured, no
//   balance, no link. The router allows exactly this intent to a point whose
//   consent was just revoked, and nothing else;
// - the answer to HELP/INFO: who we are, how to reach us, "Reply STOP". The
//   router allows it only as the reply to that text, to that number, and not
//   after a revocation or suppression.
// Both go through requestOutreach as a reply on the same medium, so they are
// recorded, routed and dispatched like every other message. Inbound asks for
// them through src/messaging/confirmations.ts; the outbound module plugs this
// sender in at start.
import type { AppContext } from '../context.js';
import type { ConfirmationSender, ConfirmationTarget } from '../messaging/confirmations.js';
import { CLOSED_DEBT_STATUSES } from '../router/index.js';
import type { Intent } from '../templates/index.js';
import { requestOutreach } from './service.js';

/** The debt that anchors a reply with no debt details: an open one if any, else the latest. */
async function anchorDebt(ctx: AppContext, debtorId: string) {
  return (
    (await ctx.db.debt.findFirst({
      where: { debtorId, status: { notIn: [...CLOSED_DEBT_STATUSES] } },
      orderBy: { updatedAt: 'desc' },
    })) ?? (await ctx.db.debt.findFirst({ where: { debtorId }, orderBy: { updatedAt: 'desc' } }))
  );
}

async function sendReply(ctx: AppContext, intent: Intent, target: ConfirmationTarget): Promise<void> {
  const debt = await anchorDebt(ctx, target.debtorId);
  if (!debt) {
    ctx.log.warn({ debtorId: target.debtorId, intent }, 'automatic reply skipped: debtor has no debt on file');
    return;
  }
  const now = new Date();
  // Keyed by the message answered when known; else by the minute (a retried request within it is the same reply).
  const key = target.inboundMessageId ?? now.toISOString().slice(0, 16);
  const r = await requestOutreach(
    ctx,
    {
      debtorId: target.debtorId,
      debtId: debt.id,
      intent,
      channel: target.channel,
      replyTo: {
        channel: target.channel,
        receivedAt: now,
        contactPointId: target.contactPointId,
        ...(target.inboundMessageId ? { messageId: target.inboundMessageId } : {}),
      },
      idempotencyKey: `${intent}:${target.contactPointId}:${target.channel}:${key}`,
      now,
    },
    { type: 'system', id: intent },
  );
  if (r.outcome === 'refuse') {
    throw new Error(`${intent} refused: ${r.decision.reasons.map((x) => x.rule).join(', ')}`);
  }
  // Not a collection attempt: it must not use up the debtor's contact limits for later messages.
  if (!r.duplicate) await ctx.db.message.update({ where: { id: r.messageId }, data: { countsAsAttempt: false } });
}

async function sendOptOutConfirmation(ctx: AppContext, target: ConfirmationTarget): Promise<void> {
  if (target.channel === 'VOICE') return; // keypad 9 is confirmed on the call itself
  await sendReply(ctx, 'opt-out-confirmation', target);
}

/** The answer to an SMS HELP/INFO keyword. Other media have no keyword to answer. */
async function sendHelpReply(ctx: AppContext, target: ConfirmationTarget): Promise<void> {
  if (target.channel !== 'SMS') return;
  await sendReply(ctx, 'help', target);
}

export const confirmationSender: ConfirmationSender = { sendOptOutConfirmation, sendHelpReply };

// Asking for the replies the gateway sends on its own because the debtor's
// text asked for them: the one opt-out confirmation and the HELP answer.
// Inbound decides that one is due; only the outbound pipeline can send it
// (router, outbox, dispatch). Inbound must not import outbound, so the
// outbound module plugs its sender in here at start (src/outbound/module.ts)
// and inbound asks through this port.
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';

export interface ConfirmationTarget {
  debtorId: string;
  contactPointId: string;
  channel: 'SMS' | 'EMAIL' | 'VOICE';
  /** The debtor's message being answered: one answer per message, whatever retries happen. */
  inboundMessageId?: string;
}

export interface ConfirmationSender {
  sendOptOutConfirmation(ctx: AppContext, target: ConfirmationTarget): Promise<void>;
  sendHelpReply(ctx: AppContext, target: ConfirmationTarget): Promise<void>;
}

// One sender per process: every gateway in it runs the same outbound code, and each call carries its own ctx.
let sender: ConfirmationSender | null = null;

export function setConfirmationSender(s: ConfirmationSender): void {
  sender = s;
}

/**
 * Asks the outbound side for the one opt-out confirmation (TCPA: one text,
 * no balance, no link) or the HELP answer. A failure is audited, not
 * retried: a second confirmation would break the one-message rule worse than
 * a missing one.
 */
export async function requestConfirmation(
  ctx: AppContext,
  kind: 'opt_out' | 'help',
  target: ConfirmationTarget,
): Promise<void> {
  let outcome: 'requested' | 'unavailable' | 'failed' = 'requested';
  let error: string | undefined;
  try {
    const fn = kind === 'opt_out' ? sender?.sendOptOutConfirmation : sender?.sendHelpReply;
    if (!fn) outcome = 'unavailable';
    else await fn(ctx, target);
  } catch (err) {
    outcome = 'failed';
    error = (err as Error).message;
    ctx.log.error({ err, contactPointId: target.contactPointId, kind }, 'confirmation could not be requested');
  }
  if (outcome !== 'requested')
    ctx.log.warn({ kind, outcome, contactPointId: target.contactPointId }, 'no confirmation sent');
  await audit(
    ctx.db,
    { type: 'system' },
    {
      action: kind === 'opt_out' ? 'consent.confirmation' : 'sms.help_reply',
      entityType: 'contact_point',
      entityId: target.contactPointId,
      data: { channel: target.channel, outcome, ...(error ? { error } : {}) },
    },
  );
}

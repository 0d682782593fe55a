// Turns a routed request into message content: the template variables from
// the debtor and debt records, and the rendered text for the chosen channel.
// A missing variable is refused by the template engine (never a blank).
import type { Prisma } from '../generated/prisma/client.js';
import type { AppContext } from '../context.js';
import { minorDigits } from '../domain/debtors.js';
import { unsubscribeUrl } from '../inbound/consent.js';
import type { Intent, MessageVars, RenderedMessage } from '../templates/index.js';

type Debt = Prisma.DebtGetPayload<{ include: { creditor: true } }>;
type Debtor = { id: string; fullName: string; locale: string; jurisdiction: string | null };

export function daysPastDue(dueDate: Date, now: Date): number {
  const ms = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - dueDate.getTime();
  return Math.max(0, Math.floor(ms / 86_400_000));
}

export function paymentLink(ctx: AppContext, debt: Debt): string {
  if (debt.paymentLink) return debt.paymentLink;
  const base = ctx.config.PAYMENT_LINK_BASE ?? `${ctx.publicBaseUrl}/pay`;
  return `${base.replace(/\/$/, '')}/${debt.id}`;
}

export function templateVars(ctx: AppContext, opts: { debtor: Debtor; debt: Debt; contactPointId: string; now: Date; agentName?: string; extra?: Record<string, string> }): MessageVars {
  const { debtor, debt } = opts;
  const digits = minorDigits(debt.currency);
  const finalDate = new Date(opts.now.getTime() + 14 * 86_400_000).toISOString().slice(0, 10);
  return {
    debtorName: debtor.fullName,
    companyName: ctx.config.COMPANY_NAME,
    creditorName: debt.creditor.name,
    agentName: opts.agentName ?? ctx.config.AGENT_NAME,
    callbackNumber: ctx.config.AGENT_PHONE_NUMBER ?? ctx.providers.twilio.from,
    accountReference: debt.externalRef,
    voicemailBusinessName: ctx.config.VOICEMAIL_BUSINESS_NAME,
    amount: debt.balance.toFixed(digits),
    currency: debt.currency,
    dueDate: debt.dueDate.toISOString().slice(0, 10),
    finalDate,
    daysPastDue: daysPastDue(debt.dueDate, opts.now),
    paymentLink: paymentLink(ctx, debt),
    unsubscribeLink: unsubscribeUrl(ctx, { contactPointId: opts.contactPointId }),
    ...opts.extra,
  };
}

export function renderFor(
  ctx: AppContext,
  opts: { intent: Intent; channel: 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER'; locale: string; vars: MessageVars; firstCommunication: boolean; jurisdiction: string | null },
): RenderedMessage {
  return ctx.templates.render({
    intent: opts.intent,
    channel: opts.channel.toLowerCase() as 'sms',
    locale: opts.locale,
    vars: opts.vars,
    firstCommunication: opts.firstCommunication,
    jurisdiction: opts.jurisdiction,
  });
}

/** The text stored as the message body (what an agent reads in the thread). */
export function bodyOf(r: RenderedMessage): { body: string; subject?: string; html?: string; segments?: number; encoding?: string } {
  switch (r.channel) {
    case 'sms':
      return { body: r.text, segments: r.segments, encoding: r.encoding };
    case 'email':
      return { body: r.text, subject: r.subject, html: r.html };
    case 'voice':
      return { body: `${r.say}\n\n${r.menu}\n\n[voicemail] ${r.voicemail}` };
    case 'letter':
      return { body: r.body, subject: r.subject };
  }
}

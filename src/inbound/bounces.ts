// A delivery-status report about one of our emails, applied to that email:
// never a message in the thread, never a reply.received. The report names
// its message by our VERP return path (bounce+<id>.<mac>@inbound domain), by
// our Message-ID (<uuid@inbound domain>) in the returned headers, or — for a
// report sent to the Reply-To instead — by the failed recipient within the
// thread the reply token names.
//
// Hard bounce (the address is unusable): the message is BOUNCED and the
// contact point is marked invalid with the reason, so the router skips it
// (rule contact_point.invalid). Soft bounce: recorded in the message's status
// history and timeline; the address stays valid. A "delayed" report changes
// nothing else (the sending MTA keeps retrying it); a report that the MTA
// gave up on a transient failure marks the message FAILED, and the next step
// of its campaign or an agent tries again by the usual policy.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Message } from '../generated/prisma/client.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import { messageIdOfReturnPath } from '../conversations/return-path.js';
import type { EmailReport } from './email-reports.js';
import type { ProcessResult } from './events-store.js';
import { replyTokens } from './matching.js';
import { applyStatus } from '../messaging/status.js';
import type { Tx, TxOutcome } from '../messaging/thread-writer.js';

type Bounce = Extract<EmailReport, { kind: 'bounce' }>;

export interface BounceMail {
  to: string[];
  cc: string[];
  envelopeTo: string[];
  inReplyTo: string | null;
  references: string[];
  text: string;
  reportParts: string[];
}

/** How far back a report found only by its recipient address may point (MTAs give up after ~5 days). */
const BY_ADDRESS_WINDOW_MS = 30 * 24 * 3600_000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Our message ids the report refers to: the VERP address first, then our Message-IDs it quotes. */
function referencedMessageIds(ctx: AppContext, mail: BounceMail, raw: Buffer): string[] {
  const domain = ctx.providers.email.inboundDomain;
  const ids = new Set<string>();
  for (const rcpt of [...mail.envelopeTo, ...mail.to, ...mail.cc]) {
    const id = messageIdOfReturnPath(ctx.secret, rcpt, domain);
    if (id) ids.add(id);
  }
  const ours = new RegExp(
    `<?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@${escapeRegExp(domain)}>?`,
    'gi',
  );
  for (const text of [
    mail.inReplyTo ?? '',
    ...mail.references,
    mail.text,
    ...mail.reportParts,
    raw.toString('latin1'),
  ]) {
    for (const m of text.matchAll(ours)) ids.add(m[1]!.toLowerCase());
  }
  return [...ids];
}

async function findBouncedMessages(ctx: AppContext, mail: BounceMail, report: Bounce, raw: Buffer): Promise<Message[]> {
  const ids = referencedMessageIds(ctx, mail, raw);
  if (ids.length) {
    const found = await ctx.db.message.findMany({
      where: { id: { in: ids }, direction: 'OUTBOUND', channel: 'EMAIL' },
    });
    if (found.length) return found;
  }
  // Sent to the Reply-To (reply+TOKEN) by a server that ignores the return path: the failed address in that thread.
  const addresses = report.recipients.map((r) => r.address).filter((a): a is string => Boolean(a));
  const tokens = replyTokens([...mail.envelopeTo, ...mail.to, ...mail.cc], ctx.providers.email.inboundDomain);
  if (!addresses.length || !tokens.length) return [];
  const conversations = await ctx.db.conversation.findMany({
    where: { replyToken: { in: tokens } },
    select: { id: true },
  });
  if (!conversations.length) return [];
  const out: Message[] = [];
  for (const address of new Set(addresses)) {
    const m = await ctx.db.message.findFirst({
      where: {
        conversationId: { in: conversations.map((c) => c.id) },
        direction: 'OUTBOUND',
        channel: 'EMAIL',
        toAddress: { equals: address, mode: 'insensitive' },
        createdAt: { gt: new Date(Date.now() - BY_ADDRESS_WINDOW_MS) },
      },
      orderBy: { createdAt: 'desc' },
    });
    if (m) out.push(m);
  }
  return out;
}

async function invalidateAddress(
  tx: Tx,
  message: Message,
  reason: string,
  out: TxOutcome,
  cause: Record<string, unknown>,
): Promise<void> {
  if (!message.contactPointId) return;
  await tx.contactPoint.update({
    where: { id: message.contactPointId },
    data: { valid: false, invalidReason: reason.slice(0, 500), invalidAt: new Date() },
  });
  await audit(
    tx,
    { type: 'system' },
    {
      action: 'contact_point.invalidate',
      entityType: 'contact_point',
      entityId: message.contactPointId,
      data: { reason, ...cause },
    },
  );
  out.events.push(
    await appendEvent(tx, message.conversationId, 'contact_point.invalid', {
      contactPointId: message.contactPointId,
      reason,
      ...cause,
    }),
  );
}

/** Applies the report to each message it names; IGNORED (with the reason) when it names none of ours. */
export async function applyBounce(
  ctx: AppContext,
  mail: BounceMail,
  report: Bounce,
  raw: Buffer,
  inboundEventId: string | undefined,
): Promise<ProcessResult> {
  const messages = await findBouncedMessages(ctx, mail, report, raw);
  const summary = report.recipients.map((r) => `${r.address ?? '?'} ${r.status ?? ''}`.trim()).join(', ');
  if (!messages.length)
    return {
      ignored: `${report.severity} bounce (${report.reason}) naming no email of ours: ${summary}`.slice(0, 1000),
    };
  const source = inboundEventId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  for (const message of messages) {
    const to = message.toAddress?.toLowerCase() ?? null;
    const recipient = report.recipients.find((r) => r.address && r.address === to) ?? report.recipients[0]!;
    const hard = recipient.severity === 'hard';
    const gaveUp = !hard && recipient.action === 'failed';
    const detail = {
      report: report.format,
      severity: recipient.severity,
      action: recipient.action,
      status: recipient.status,
      recipient: recipient.address,
      diagnostic: recipient.diagnostic?.slice(0, 500) ?? null,
      inboundEventId: inboundEventId ?? null,
    };
    await applyStatus(ctx, {
      ref: { id: message.id },
      status: hard ? 'BOUNCED' : gaveUp ? 'FAILED' : null,
      providerStatus: `dsn:${recipient.severity}${recipient.action ? `:${recipient.action}` : ''}`,
      providerEventId: `dsn:${source}:${message.id}`,
      errorCode: recipient.status,
      errorMessage: recipient.diagnostic,
      detail,
      effects: async (tx, m, out) => {
        if (hard) {
          const reason =
            `email_invalid: hard bounce ${recipient.status ?? ''}${recipient.diagnostic ? ` ${recipient.diagnostic}` : ''}`
              .replace(/\s+/g, ' ')
              .trim();
          await invalidateAddress(tx, m, reason, out, {
            messageId: m.id,
            status: recipient.status,
            inboundEventId: inboundEventId ?? null,
          });
        } else {
          out.events.push(
            await appendEvent(
              tx,
              m.conversationId,
              'message.soft_bounce',
              { messageId: m.id, ...detail },
              { touch: false },
            ),
          );
        }
      },
    });
  }
  return {};
}

// What the gateway does about a reply once it is understood: consent
// changes, debtor restrictions and conversation flags, all inside the
// transaction that stores the message (so a retried event never does them
// twice), plus after-commit requests for the opt-out confirmation / HELP text.
//
// Decisions (stricter reading where the rule is unclear, per domain.md):
// - A written "stop contacting me" (text or email are writing under Reg F)
//   sets the debtor restriction CEASE_COMMUNICATION at once (§1006.6(c)) and
//   flags CEASE + NEEDS_REVIEW; an agent lifts it if it was misread.
// - A dispute sets DISPUTE_UNDER_REVIEW (FDCPA §1692g(b), CONC 7.14: pause
//   collection until the dispute is answered) and flags DISPUTE + NEEDS_REVIEW.
// - Free-text revocations revoke at once (TCPA: any reasonable means) and
//   flag NEEDS_REVIEW so an agent confirms the reading.
// - "Wrong number" marks that number invalid (a third party must not be
//   contacted again) and flags WRONG_NUMBER + NEEDS_REVIEW.
// - An opt-out from an address that is on no debtor's file (STOP from an
//   unknown number, "unsubscribe" from an unknown email address) puts the
//   address on the suppression list, so a debtor created later with it is
//   still refused; START/UNSTOP from it lifts the SMS suppression.
// Outgoing webhooks (src/webhooks-out/service.ts) are written in the same
// transaction: opt_out.recorded (via changeConsent, and for suppressions),
// dispute.opened, cease.requested and conversation.flagged for new flags.
import type { AppContext } from '../context.js';
import type { Channel, ContactRestriction, ConversationFlag } from '../generated/prisma/enums.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import {
  addSuppression,
  removeSuppression,
  suppressionAddress,
  type SuppressionChannel,
} from '../domain/suppressions.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import type { Classification, SmsKeyword } from './classifier.js';
import { changeConsent } from '../messaging/consent.js';
import { restrictionsChanged } from '../messaging/restrictions.js';
import { requestConfirmation } from '../messaging/confirmations.js';
import { addFlags, removeFlags, type Tx, type TxOutcome } from '../messaging/thread-writer.js';

export interface ReplyContext {
  conversationId: string;
  debtorId: string | null;
  messageId: string;
  channel: Channel;
  /** The sender's contact point on file for this debtor, if any. */
  contactPointId: string | null;
  /** Phone replies: every contact point (any debtor) holding that number — opt-outs bind the number. */
  numberContactPointIds?: string[];
  keyword?: SmsKeyword | null;
  classification: Classification;
  /** The sender as received (E.164 phone, case-folded email). */
  fromAddress: string;
  /** Whether any debtor has this sender's number/address on file. */
  senderOnFile: boolean;
  /** The stored raw event this reply came from (the source of a suppression). */
  inboundEventId?: string | null;
}

/** Flags whose addition is announced to outgoing-webhook subscribers as conversation.flagged. */
const ANNOUNCED_FLAGS: readonly ConversationFlag[] = [
  'PROMISE_TO_PAY',
  'ALREADY_PAID',
  'HARDSHIP',
  'CALLBACK_REQUEST',
  'WRONG_NUMBER',
];

async function debtorContactPoints(tx: Tx, debtorId: string | null, kind: 'PHONE' | 'EMAIL'): Promise<string[]> {
  if (!debtorId) return [];
  const rows = await tx.contactPoint.findMany({ where: { debtorId, kind }, select: { id: true } });
  return rows.map((r) => r.id);
}

async function addRestriction(
  ctx: AppContext,
  tx: Tx,
  debtorId: string,
  restriction: ContactRestriction,
  cause: Record<string, unknown>,
  conversationId: string,
  out: TxOutcome,
): Promise<void> {
  const debtor = await tx.debtor.findUnique({ where: { id: debtorId }, select: { restrictions: true } });
  if (!debtor || debtor.restrictions.includes(restriction)) return;
  await tx.debtor.update({ where: { id: debtorId }, data: { restrictions: [...debtor.restrictions, restriction] } });
  // Once committed, what it forbids is withdrawn at once (queued messages, campaign enrolments).
  out.after.push(() => restrictionsChanged(ctx, { debtorId, cause: `${restriction} from a reply` }));
  await audit(
    tx,
    { type: 'system' },
    { action: 'debtor.restrict', entityType: 'debtor', entityId: debtorId, data: { restriction, ...cause } },
  );
  out.events.push(await appendEvent(tx, conversationId, 'debtor.restricted', { debtorId, restriction, ...cause }));
}

export async function applyReplyActions(ctx: AppContext, tx: Tx, r: ReplyContext, out: TxOutcome): Promise<void> {
  const cause = { messageId: r.messageId };
  const flags = new Set<ConversationFlag>();
  const { intents, extracted } = r.classification;
  const sameNumber = r.numberContactPointIds ?? (r.contactPointId ? [r.contactPointId] : []);
  let smsRevokedIds: string[] = [];

  const revoke = async (ids: string[], channel: Channel, source: string) =>
    ids.length
      ? changeConsent(
          tx,
          { ctx, contactPointIds: ids, channel, state: 'REVOKED', source, conversationId: r.conversationId, cause },
          out,
        )
      : [];
  // Opt-outs of an address on no debtor's file: channel → why.
  const suppress = new Map<SuppressionChannel, string>();

  // Carrier keywords first: exact words with fixed meaning.
  if (r.keyword === 'opt_out') {
    smsRevokedIds = await revoke(sameNumber, 'SMS', 'sms:STOP');
    flags.add('OPT_OUT');
    if (!r.senderOnFile) suppress.set('SMS', 'replied with an opt-out keyword (STOP)');
  } else if (r.keyword === 'opt_in') {
    const granted = sameNumber.length
      ? await changeConsent(
          tx,
          {
            contactPointIds: sameNumber,
            channel: 'SMS',
            state: 'GRANTED',
            source: 'sms:START',
            conversationId: r.conversationId,
            cause,
          },
          out,
        )
      : [];
    if (r.channel === 'SMS') await liftSuppression(tx, r, out);
    if (granted.length && r.debtorId) {
      const stillRevoked = await tx.channelConsent.count({
        where: { state: 'REVOKED', contactPoint: { debtorId: r.debtorId } },
      });
      if (stillRevoked === 0)
        await removeFlags(tx, r.conversationId, ['OPT_OUT'], { reason: 'opted back in', ...cause }, out);
    }
  } else if (r.keyword === 'help') {
    if (r.debtorId && r.contactPointId) {
      const target = {
        debtorId: r.debtorId,
        contactPointId: r.contactPointId,
        channel: 'SMS' as const,
        inboundMessageId: r.messageId,
      };
      out.after.push(() => requestConfirmation(ctx, 'help', target));
    }
  }

  // Free text.
  const freeTextRevocation = intents.some(
    (i) => i === 'opt_out' || i === 'opt_out_sms' || i === 'opt_out_email' || i === 'opt_out_voice' || i === 'cease',
  );
  if (!r.keyword && freeTextRevocation) {
    flags.add('OPT_OUT');
    flags.add('NEEDS_REVIEW');
    const emailTargets =
      r.channel === 'EMAIL' && r.contactPointId
        ? [r.contactPointId]
        : await debtorContactPoints(tx, r.debtorId, 'EMAIL');
    const phoneTargets = [...new Set([...sameNumber, ...(await debtorContactPoints(tx, r.debtorId, 'PHONE'))])];
    if (intents.includes('opt_out')) {
      // The medium it arrived on.
      if (r.channel === 'SMS') smsRevokedIds.push(...(await revoke(sameNumber, 'SMS', 'sms:free-text')));
      if (r.channel === 'EMAIL') await revoke(emailTargets, 'EMAIL', 'email:reply');
      if (!r.senderOnFile && (r.channel === 'SMS' || r.channel === 'EMAIL'))
        suppress.set(r.channel, 'asked in writing to stop');
    }
    if (intents.includes('opt_out_sms'))
      smsRevokedIds.push(
        ...(await revoke(
          r.channel === 'SMS' ? sameNumber : phoneTargets,
          'SMS',
          `${r.channel.toLowerCase()}:free-text`,
        )),
      );
    if (intents.includes('opt_out_email')) await revoke(emailTargets, 'EMAIL', `${r.channel.toLowerCase()}:reply`);
    if (intents.includes('opt_out_voice'))
      await revoke(phoneTargets, 'VOICE', `${r.channel.toLowerCase()}:stop-calling`);
    if (!r.senderOnFile) {
      // Only the sender's own address is known: the medium it wrote from.
      if (r.channel === 'SMS' && intents.includes('opt_out_sms')) suppress.set('SMS', 'asked in writing to stop texts');
      if (r.channel === 'SMS' && intents.includes('opt_out_voice'))
        suppress.set('VOICE', 'asked in writing to stop calls');
      if (r.channel === 'EMAIL' && intents.includes('opt_out_email'))
        suppress.set('EMAIL', 'asked in writing to stop emails');
    }
    if (intents.includes('cease')) {
      flags.add('CEASE');
      if (!r.senderOnFile && (r.channel === 'SMS' || r.channel === 'EMAIL'))
        suppress.set(r.channel, 'asked in writing to stop all contact');
      // TCPA: the text itself revokes texting to that number too.
      if (r.channel === 'SMS') smsRevokedIds.push(...(await revoke(sameNumber, 'SMS', 'sms:cease')));
      if (r.debtorId)
        await addRestriction(
          ctx,
          tx,
          r.debtorId,
          'CEASE_COMMUNICATION',
          { ...cause, rule: 'Reg F §1006.6(c)', channel: r.channel },
          r.conversationId,
          out,
        );
    }
  }

  // The classifier was unsure (an unread "stop", a refusal, a lawyer, an ambiguous date): an agent reads it.
  if (r.classification.review?.length) flags.add('NEEDS_REVIEW');

  if (intents.includes('dispute')) {
    flags.add('DISPUTE');
    flags.add('NEEDS_REVIEW');
    if (r.debtorId)
      await addRestriction(
        ctx,
        tx,
        r.debtorId,
        'DISPUTE_UNDER_REVIEW',
        { ...cause, rule: 'FDCPA §1692g(b); CONC 7.14' },
        r.conversationId,
        out,
      );
  }
  if (intents.includes('already_paid')) flags.add('ALREADY_PAID');
  if (intents.includes('promise_to_pay')) flags.add('PROMISE_TO_PAY');
  if (intents.includes('hardship')) flags.add('HARDSHIP');
  if (intents.includes('callback_request')) flags.add('CALLBACK_REQUEST');
  if (intents.includes('wrong_number')) {
    flags.add('WRONG_NUMBER');
    flags.add('NEEDS_REVIEW');
    if (r.contactPointId) {
      await tx.contactPoint.update({
        where: { id: r.contactPointId },
        data: { valid: false, invalidReason: 'wrong_number: reply says so', invalidAt: new Date() },
      });
      await audit(
        tx,
        { type: 'system' },
        {
          action: 'contact_point.invalidate',
          entityType: 'contact_point',
          entityId: r.contactPointId,
          data: { reason: 'wrong_number', ...cause },
        },
      );
      out.events.push(
        await appendEvent(tx, r.conversationId, 'contact_point.invalid', {
          contactPointId: r.contactPointId,
          reason: 'wrong_number',
          ...cause,
        }),
      );
    }
  }

  const added = await addFlags(
    tx,
    r.conversationId,
    [...flags],
    {
      ...cause,
      channel: r.channel,
      intents,
      extracted,
      confidence: r.classification.confidence,
      ...(r.keyword ? { keyword: r.keyword } : {}),
      ...(r.classification.review?.length ? { review: r.classification.review } : {}),
    },
    out,
  );
  await announceFlags(ctx, tx, r, added);

  for (const [channel, reason] of suppress) {
    let address: string;
    try {
      address = suppressionAddress(channel, r.fromAddress);
    } catch {
      continue; // a short code or malformed sender: no address we could ever send to
    }
    const { created } = await addSuppression(tx, {
      channel,
      address,
      reason,
      source: r.inboundEventId ?? `message:${r.messageId}`,
    });
    if (!created) continue;
    await audit(
      tx,
      { type: 'system' },
      {
        action: 'suppression.add',
        entityType: 'suppression',
        entityId: `${channel}:${r.fromAddress}`,
        data: { channel, reason, ...cause },
      },
    );
    out.events.push(
      await appendEvent(tx, r.conversationId, 'suppression.added', {
        channel,
        address: r.fromAddress,
        reason,
        ...cause,
      }),
    );
    await emitOutgoingEvent(
      ctx,
      'opt_out.recorded',
      {
        channel,
        address: r.fromAddress,
        contactPointId: null,
        debtorId: null,
        source: 'suppression',
        reason,
        conversationId: r.conversationId,
        ...cause,
      },
      { tx },
    );
  }

  // One confirmation to the number, only when this reply actually opted it out.
  if (r.channel === 'SMS' && smsRevokedIds.length > 0 && r.debtorId) {
    const own = r.contactPointId && smsRevokedIds.includes(r.contactPointId) ? r.contactPointId : null;
    if (own) {
      const target = {
        debtorId: r.debtorId,
        contactPointId: own,
        channel: 'SMS' as const,
        inboundMessageId: r.messageId,
      };
      out.after.push(() => requestConfirmation(ctx, 'opt_out', target));
    }
  }
}

/** START/UNSTOP from a suppressed number takes it off the SMS list (the number itself opted back in). */
async function liftSuppression(tx: Tx, r: ReplyContext, out: TxOutcome): Promise<void> {
  let removed: Awaited<ReturnType<typeof removeSuppression>>;
  try {
    removed = await removeSuppression(tx, 'SMS', r.fromAddress);
  } catch {
    return; // not an E.164 sender (short code, alphanumeric): nothing can be on the list under it
  }
  if (!removed) return;
  const cause = { messageId: r.messageId };
  await audit(
    tx,
    { type: 'system' },
    {
      action: 'suppression.remove',
      entityType: 'suppression',
      entityId: `SMS:${r.fromAddress}`,
      data: { previousReason: removed.reason, ...cause },
    },
  );
  out.events.push(
    await appendEvent(tx, r.conversationId, 'suppression.removed', {
      channel: 'SMS',
      address: r.fromAddress,
      ...cause,
    }),
  );
}

/** Outgoing webhooks for flags this reply newly raised on the conversation. */
async function announceFlags(ctx: AppContext, tx: Tx, r: ReplyContext, added: ConversationFlag[]): Promise<void> {
  if (added.length === 0) return;
  const base = {
    conversationId: r.conversationId,
    debtorId: r.debtorId,
    messageId: r.messageId,
    channel: r.channel,
    intents: r.classification.intents,
    extracted: r.classification.extracted,
  };
  if (added.includes('DISPUTE')) await emitOutgoingEvent(ctx, 'dispute.opened', base, { tx });
  if (added.includes('CEASE')) await emitOutgoingEvent(ctx, 'cease.requested', base, { tx });
  for (const flag of added.filter((f) => ANNOUNCED_FLAGS.includes(f))) {
    await emitOutgoingEvent(ctx, 'conversation.flagged', { ...base, flag }, { tx });
  }
}

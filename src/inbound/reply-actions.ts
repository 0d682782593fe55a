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
import type { AppContext } from '../context.js';
import type { Channel, ContactRestriction, ConversationFlag } from '../generated/prisma/enums.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import type { Classification, SmsKeyword } from './classifier.js';
import { changeConsent, requestConfirmation } from './consent.js';
import { addFlags, removeFlags, type Tx, type TxOutcome } from './thread-writer.js';

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
}

async function debtorContactPoints(tx: Tx, debtorId: string | null, kind: 'PHONE' | 'EMAIL'): Promise<string[]> {
  if (!debtorId) return [];
  const rows = await tx.contactPoint.findMany({ where: { debtorId, kind }, select: { id: true } });
  return rows.map((r) => r.id);
}

async function addRestriction(tx: Tx, debtorId: string, restriction: ContactRestriction, cause: Record<string, unknown>, conversationId: string, out: TxOutcome): Promise<void> {
  const debtor = await tx.debtor.findUnique({ where: { id: debtorId }, select: { restrictions: true } });
  if (!debtor || debtor.restrictions.includes(restriction)) return;
  await tx.debtor.update({ where: { id: debtorId }, data: { restrictions: [...debtor.restrictions, restriction] } });
  await audit(tx, { type: 'system' }, { action: 'debtor.restrict', entityType: 'debtor', entityId: debtorId, data: { restriction, ...cause } });
  out.events.push(await appendEvent(tx, conversationId, 'debtor.restricted', { debtorId, restriction, ...cause }));
}

export async function applyReplyActions(ctx: AppContext, tx: Tx, r: ReplyContext, out: TxOutcome): Promise<void> {
  const cause = { messageId: r.messageId };
  const flags = new Set<ConversationFlag>();
  const { intents, extracted } = r.classification;
  const sameNumber = r.numberContactPointIds ?? (r.contactPointId ? [r.contactPointId] : []);
  let smsRevokedIds: string[] = [];

  const revoke = async (ids: string[], channel: Channel, source: string) =>
    ids.length ? changeConsent(tx, { contactPointIds: ids, channel, state: 'REVOKED', source, conversationId: r.conversationId, cause }, out) : [];

  // Carrier keywords first: exact words with fixed meaning.
  if (r.keyword === 'opt_out') {
    smsRevokedIds = await revoke(sameNumber, 'SMS', 'sms:STOP');
    flags.add('OPT_OUT');
  } else if (r.keyword === 'opt_in') {
    const granted = sameNumber.length
      ? await changeConsent(tx, { contactPointIds: sameNumber, channel: 'SMS', state: 'GRANTED', source: 'sms:START', conversationId: r.conversationId, cause }, out)
      : [];
    if (granted.length && r.debtorId) {
      const stillRevoked = await tx.channelConsent.count({ where: { state: 'REVOKED', contactPoint: { debtorId: r.debtorId } } });
      if (stillRevoked === 0) await removeFlags(tx, r.conversationId, ['OPT_OUT'], { reason: 'opted back in', ...cause }, out);
    }
  } else if (r.keyword === 'help') {
    if (r.debtorId && r.contactPointId) {
      const target = { debtorId: r.debtorId, contactPointId: r.contactPointId, channel: 'SMS' as const };
      out.after.push(() => requestConfirmation(ctx, 'help', target));
    }
  }

  // Free text.
  const freeTextRevocation = intents.some((i) => i === 'opt_out' || i === 'opt_out_sms' || i === 'opt_out_email' || i === 'opt_out_voice' || i === 'cease');
  if (!r.keyword && freeTextRevocation) {
    flags.add('OPT_OUT');
    flags.add('NEEDS_REVIEW');
    const emailTargets = r.channel === 'EMAIL' && r.contactPointId ? [r.contactPointId] : await debtorContactPoints(tx, r.debtorId, 'EMAIL');
    const phoneTargets = [...new Set([...sameNumber, ...(await debtorContactPoints(tx, r.debtorId, 'PHONE'))])];
    if (intents.includes('opt_out')) {
      // The medium it arrived on.
      if (r.channel === 'SMS') smsRevokedIds.push(...(await revoke(sameNumber, 'SMS', 'sms:free-text')));
      if (r.channel === 'EMAIL') await revoke(emailTargets, 'EMAIL', 'email:reply');
    }
    if (intents.includes('opt_out_sms')) smsRevokedIds.push(...(await revoke(r.channel === 'SMS' ? sameNumber : phoneTargets, 'SMS', `${r.channel.toLowerCase()}:free-text`)));
    if (intents.includes('opt_out_email')) await revoke(emailTargets, 'EMAIL', `${r.channel.toLowerCase()}:reply`);
    if (intents.includes('opt_out_voice')) await revoke(phoneTargets, 'VOICE', `${r.channel.toLowerCase()}:stop-calling`);
    if (intents.includes('cease')) {
      flags.add('CEASE');
      // TCPA: the text itself revokes texting to that number too.
      if (r.channel === 'SMS') smsRevokedIds.push(...(await revoke(sameNumber, 'SMS', 'sms:cease')));
      if (r.debtorId) await addRestriction(tx, r.debtorId, 'CEASE_COMMUNICATION', { ...cause, rule: 'Reg F §1006.6(c)', channel: r.channel }, r.conversationId, out);
    }
  }

  if (intents.includes('dispute')) {
    flags.add('DISPUTE');
    flags.add('NEEDS_REVIEW');
    if (r.debtorId) await addRestriction(tx, r.debtorId, 'DISPUTE_UNDER_REVIEW', { ...cause, rule: 'FDCPA §1692g(b); CONC 7.14' }, r.conversationId, out);
  }
  if (intents.includes('already_paid')) flags.add('ALREADY_PAID');
  if (intents.includes('promise_to_pay')) flags.add('PROMISE_TO_PAY');
  if (intents.includes('hardship')) flags.add('HARDSHIP');
  if (intents.includes('callback_request')) flags.add('CALLBACK_REQUEST');
  if (intents.includes('wrong_number')) {
    flags.add('WRONG_NUMBER');
    flags.add('NEEDS_REVIEW');
    if (r.contactPointId) {
      await tx.contactPoint.update({ where: { id: r.contactPointId }, data: { valid: false, invalidReason: 'wrong_number: reply says so', invalidAt: new Date() } });
      await audit(tx, { type: 'system' }, { action: 'contact_point.invalidate', entityType: 'contact_point', entityId: r.contactPointId, data: { reason: 'wrong_number', ...cause } });
      out.events.push(await appendEvent(tx, r.conversationId, 'contact_point.invalid', { contactPointId: r.contactPointId, reason: 'wrong_number', ...cause }));
    }
  }

  await addFlags(tx, r.conversationId, [...flags], { ...cause, channel: r.channel, intents, extracted, confidence: r.classification.confidence, ...(r.keyword ? { keyword: r.keyword } : {}) }, out);

  // One confirmation to the number, only when this reply actually opted it out.
  if (r.channel === 'SMS' && smsRevokedIds.length > 0 && r.debtorId) {
    const own = r.contactPointId && smsRevokedIds.includes(r.contactPointId) ? r.contactPointId : null;
    if (own) {
      const target = { debtorId: r.debtorId, contactPointId: own, channel: 'SMS' as const };
      out.after.push(() => requestConfirmation(ctx, 'opt_out', target));
    }
  }
}

// What a verified debtor can do on the page. Each action lands in the
// debtor's thread (a `portal.*` timeline event, live for agents), in the audit
// log (actor: the debtor), and fires the matching outgoing webhook. The debt
// is always checked to be the session's debtor's own.
import type { AppContext } from '../context.js';
import type { Channel } from '../generated/prisma/enums.js';
import { Prisma } from '../generated/prisma/client.js';
import { audit } from '../audit.js';
import { appendEvent, ensureConversation } from '../conversations/thread.js';
import { changeConsent, sameAddressContactPoints } from '../messaging/consent.js';
import { addFlags, inThread, type Tx, type TxOutcome } from '../messaging/thread-writer.js';
import { cancelPendingMessages } from '../outbound/service.js';
import { recordPromise, stopEnrollmentsForDebt } from '../payments/service.js';
import { parseInconvenientTimes } from '../router/windows.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import { HttpError } from '../http/errors.js';
import { minorDigits } from '../domain/debtors.js';
import { CLOSED_STATUSES } from './view.js';

export interface Visitor {
  debtorId: string;
  /** The request's address, for the audit log. */
  ip?: string;
}

const actor = (v: Visitor) => ({ type: 'debtor' as const, id: v.debtorId });
const req = (v: Visitor) => (v.ip ? ({ ip: v.ip, id: '' } as unknown as import('express').Request) : undefined);

/** A refusal the page shows in words (never a stack trace): `key` names the text in the locale files. */
export class PortalInputError extends Error {
  constructor(
    readonly key: string,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(key);
    this.name = 'PortalInputError';
  }
}

/** The debt, if it is this debtor's; else a 404 that says nothing about other debts. */
export async function ownDebt(ctx: AppContext | { db: Tx }, v: Visitor, debtId: string) {
  const debt = /^[0-9a-f-]{36}$/i.test(debtId)
    ? await ctx.db.debt.findUnique({ where: { id: debtId }, include: { creditor: true } })
    : null;
  if (!debt || debt.debtorId !== v.debtorId) throw new HttpError(404, 'not_found', 'no such account');
  return debt;
}

/** Appends the action to the debtor's thread, audits it, and writes its webhook in the same transaction. */
async function logAction(
  ctx: AppContext,
  tx: Tx,
  out: TxOutcome,
  v: Visitor,
  action: string,
  data: Record<string, unknown>,
  webhook?: { type: Parameters<typeof emitOutgoingEvent>[1]; payload: Record<string, unknown> },
) {
  const conversation = await ensureConversation(tx, v.debtorId);
  out.events.push(await appendEvent(tx, conversation.id, `portal.${action}`, { source: 'debtor-page', ...data }));
  await audit(tx, actor(v), { action: `portal.${action}`, entityType: 'debtor', entityId: v.debtorId, data }, req(v));
  if (webhook)
    await emitOutgoingEvent(
      ctx,
      webhook.type,
      { conversationId: conversation.id, debtorId: v.debtorId, source: 'debtor-page', ...webhook.payload },
      { tx },
    );
  return conversation;
}

/** Appends to the thread and audits, in a transaction of its own (for actions whose record is written by a service). */
export async function noteAction(
  ctx: AppContext,
  v: Visitor,
  action: string,
  data: Record<string, unknown>,
): Promise<void> {
  await inThread(ctx, (tx, out) => logAction(ctx, tx, out, v, action, data));
}

const amountPattern = /^\d{1,13}(\.\d{1,4})?$/;

export function parseAmount(raw: unknown, digits: number, min: Prisma.Decimal, max: Prisma.Decimal): Prisma.Decimal {
  const text = typeof raw === 'string' ? raw.trim().replace(/,/g, '') : '';
  const invalid = () =>
    new PortalInputError('pay_amount_invalid', { min: min.toFixed(digits), max: max.toFixed(digits) });
  if (!amountPattern.test(text)) throw invalid();
  const amount = new Prisma.Decimal(text);
  if (amount.decimalPlaces() > digits || amount.lt(min) || amount.gt(max)) throw invalid();
  return amount;
}

/** Promise to pay `amount` by `date` (YYYY-MM-DD, tomorrow … the creditor's limit). */
export async function promiseToPay(
  ctx: AppContext,
  v: Visitor,
  input: { debtId: string; date: unknown; amount: unknown; maxDays: number },
  now: Date,
) {
  const debt = await ownDebt(ctx, v, input.debtId);
  const today = now.toISOString().slice(0, 10);
  const max = new Date(now.getTime() + input.maxDays * 86_400_000).toISOString().slice(0, 10);
  const date = typeof input.date === 'string' ? input.date.trim() : '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || date <= today || date > max)
    throw new PortalInputError('promise_invalid', { max });
  const digits = minorDigits(debt.currency);
  const amount = parseAmount(input.amount, digits, new Prisma.Decimal(1).div(10 ** digits), debt.balance);
  const r = await recordPromise(ctx, debt.id, { amount: amount.toFixed(digits), dueDate: date }, actor(v));
  await noteAction(ctx, v, 'promise', {
    debtId: debt.id,
    promiseId: r.promise.id,
    amount: amount.toFixed(digits),
    currency: debt.currency,
    dueDate: date,
  });
  return { amount: amount.toFixed(digits), date };
}

/**
 * A dispute: the debt is under review (DISPUTED, DISPUTE_UNDER_REVIEW), its
 * campaigns stop and its pending reminders are withdrawn (FDCPA §1692g(b),
 * CONC 7.14); the thread is flagged DISPUTE for an agent to answer.
 */
export async function dispute(ctx: AppContext, v: Visitor, input: { debtId: string; reason: unknown }) {
  const reason = typeof input.reason === 'string' ? input.reason.replace(/\u0000/g, '').trim() : '';
  if (!reason || reason.length > 2000) throw new PortalInputError('dispute_reason_required');
  const ref = await inThread(ctx, async (tx, out) => {
    await tx.$queryRaw`SELECT id FROM debts WHERE id = ${input.debtId}::uuid FOR UPDATE`;
    const debt = await ownDebt({ db: tx }, v, input.debtId);
    const restrictions = debt.restrictions.includes('DISPUTE_UNDER_REVIEW')
      ? debt.restrictions
      : [...debt.restrictions, 'DISPUTE_UNDER_REVIEW' as const];
    if (!(CLOSED_STATUSES as readonly string[]).includes(debt.status))
      await tx.debt.update({ where: { id: debt.id }, data: { status: 'DISPUTED', restrictions } });
    const stopped = await stopEnrollmentsForDebt(tx, debt.id, 'DISPUTE');
    const conversation = await logAction(
      ctx,
      tx,
      out,
      v,
      'dispute',
      { debtId: debt.id, debtRef: debt.externalRef, reason, enrollmentsStopped: stopped },
      {
        type: 'dispute.opened',
        payload: {
          debtId: debt.id,
          debtRef: debt.externalRef,
          creditorRef: debt.creditor.externalRef,
          reason,
          channel: 'WEB',
        },
      },
    );
    await addFlags(tx, conversation.id, ['DISPUTE', 'NEEDS_REVIEW'], { source: 'debtor-page', debtId: debt.id }, out);
    return `D-${debt.externalRef}-${Date.now().toString(36).toUpperCase()}`;
  });
  const cancelled = await cancelPendingMessages(ctx, { debtId: input.debtId }, 'debt disputed by the debtor');
  return { ref, cancelled };
}

const CHANNELS: Channel[] = ['SMS', 'EMAIL', 'VOICE', 'LETTER'];
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Contact preferences the router obeys: preferred channel first, one daily inconvenient window, language. */
export async function setPreferences(
  ctx: AppContext,
  v: Visitor,
  input: { channel: unknown; from: unknown; to: unknown; locale: unknown },
) {
  const channel =
    typeof input.channel === 'string' && (CHANNELS as string[]).includes(input.channel)
      ? (input.channel as Channel)
      : null;
  const from = typeof input.from === 'string' ? input.from.trim() : '';
  const to = typeof input.to === 'string' ? input.to.trim() : '';
  let inconvenient: { days: number[]; from: string; to: string }[] = [];
  if (from || to) {
    if (!HHMM.test(from) || !HHMM.test(to) || from === to) throw new PortalInputError('prefs_invalid');
    inconvenient = [{ days: [1, 2, 3, 4, 5, 6, 7], from, to }];
    parseInconvenientTimes(inconvenient); // the router's own reading, so what is saved is what it obeys
  }
  const locale = input.locale === 'es' || input.locale === 'en' ? input.locale : null;
  await inThread(ctx, async (tx, out) => {
    await tx.contactPreferences.upsert({
      where: { debtorId: v.debtorId },
      create: { debtorId: v.debtorId, channelOrder: channel ? [channel] : [], inconvenientTimes: inconvenient },
      update: { channelOrder: channel ? [channel] : [], inconvenientTimes: inconvenient },
    });
    if (locale) await tx.debtor.update({ where: { id: v.debtorId }, data: { locale } });
    const data = { preferredChannel: channel, inconvenientTimes: inconvenient, locale };
    await logAction(ctx, tx, out, v, 'preferences', data, { type: 'preferences.updated', payload: data });
  });
  return { channel, inconvenient, locale };
}

/** Opts the debtor out of one channel at every address of that kind on file (Reg F §1006.14(h)). */
export async function optOut(ctx: AppContext, v: Visitor, input: { channel: unknown }) {
  const channel =
    input.channel === 'SMS' || input.channel === 'EMAIL' || input.channel === 'VOICE' ? input.channel : null;
  if (!channel)
    throw new HttpError(400, 'invalid_request', 'channel must be SMS, EMAIL or VOICE', [
      { field: 'channel', reason: 'must be SMS, EMAIL or VOICE' },
    ]);
  const kind = channel === 'EMAIL' ? 'EMAIL' : 'PHONE';
  await inThread(ctx, async (tx, out) => {
    const points = await tx.contactPoint.findMany({ where: { debtorId: v.debtorId, kind }, select: { id: true } });
    const conversation = await ensureConversation(tx, v.debtorId);
    const ids = new Set<string>();
    for (const p of points) for (const id of await sameAddressContactPoints(tx, p.id)) ids.add(id);
    await changeConsent(
      tx,
      {
        ctx,
        contactPointIds: [...ids],
        channel,
        state: 'REVOKED',
        source: 'portal:opt-out',
        conversationId: conversation.id,
        cause: { source: 'debtor-page' },
      },
      out,
    );
    await addFlags(
      tx,
      conversation.id,
      ['OPT_OUT'],
      { reason: 'opted out on the debtor page', channel, source: 'debtor-page' },
      out,
    );
    await logAction(ctx, tx, out, v, 'opt_out', { channel, contactPoints: points.length });
  });
  // Queued messages on that channel are refused when they leave: dispatch re-checks consent.
  return { channel };
}

/** A call-back request: a CALLBACK_REQUEST flag is the agents' task in the inbox. */
export async function requestCallback(ctx: AppContext, v: Visitor, input: { when: unknown }) {
  const when =
    typeof input.when === 'string'
      ? input.when
          .replace(/\u0000/g, '')
          .trim()
          .slice(0, 200)
      : '';
  await inThread(ctx, async (tx, out) => {
    const conversation = await logAction(
      ctx,
      tx,
      out,
      v,
      'callback_requested',
      { when: when || null },
      { type: 'conversation.flagged', payload: { flag: 'CALLBACK_REQUEST', when: when || null, channel: 'WEB' } },
    );
    await addFlags(tx, conversation.id, ['CALLBACK_REQUEST'], { source: 'debtor-page', when: when || null }, out);
    // Back to the agents' open queue: the request is a task.
    await tx.conversation.update({ where: { id: conversation.id }, data: { status: 'OPEN', snoozedUntil: null } });
  });
}

// Payments and promises to pay from the creditor's system.
//
// A payment decrements the balance exactly (Decimal, never a float) under the
// debt's row lock, idempotently by externalRef. When the balance reaches zero
// the debt is PAID, leaves every campaign at once (enrolments STOPPED, reason
// PAID) and every pending message about it is cancelled — nobody is chased
// for money they have paid. A promise to pay sets the debt PROMISED; campaigns
// with the PROMISE stop condition hold their steps while it is kept.
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { audit } from '../audit.js';
import { Prisma } from '../generated/prisma/client.js';
import { HttpError, conflict, notFound } from '../http/errors.js';
import { cancelPendingMessages } from '../outbound/service.js';
import { isClosedDebt } from '../router/index.js';
import { serializeDebt, minorDigits } from '../domain/debtors.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import { isUniqueViolation } from '../db/errors.js';
import { appendEvent, ensureConversation } from '../conversations/thread.js';
import { publishTimeline } from '../conversations/live.js';

export type Actor = Principal | { type: 'system' | 'provider' | 'debtor'; id?: string };

export interface PaymentInput {
  debtId?: string;
  creditorRef?: string;
  debtRef?: string;
  /** Decimal string, > 0. */
  amount: string;
  currency: string;
  paidAt: Date;
  /** The payment's id in the creditor's system: a repeated call with it records nothing new. */
  externalRef?: string;
  source?: string;
}

export interface PaymentResult {
  payment: {
    id: string;
    debtId: string;
    amount: string;
    currency: string;
    paidAt: Date;
    externalRef: string | null;
    source: string | null;
    createdAt: Date;
  };
  debt: ReturnType<typeof serializeDebt>;
  duplicate: boolean;
  paidInFull: boolean;
  enrollmentsStopped: number;
  messagesCancelled: number;
}

function serializePayment(p: {
  id: string;
  debtId: string;
  amount: Prisma.Decimal;
  currency: string;
  paidAt: Date;
  externalRef: string | null;
  source: string | null;
  createdAt: Date;
}) {
  return {
    id: p.id,
    debtId: p.debtId,
    amount: p.amount.toFixed(minorDigits(p.currency)),
    currency: p.currency,
    paidAt: p.paidAt,
    externalRef: p.externalRef,
    source: p.source,
    createdAt: p.createdAt,
  };
}

async function resolveDebtId(
  ctx: AppContext,
  input: { debtId?: string; creditorRef?: string; debtRef?: string },
): Promise<string> {
  if (input.debtId) return input.debtId;
  const debt = await ctx.db.debt.findFirst({
    where: { externalRef: input.debtRef!, creditor: { externalRef: input.creditorRef! } },
    select: { id: true },
  });
  if (!debt) throw notFound('debt');
  return debt.id;
}

/** Stops the debt's active enrolments for `reason` (PAID, PROMISE, …); returns how many. */
export async function stopEnrollmentsForDebt(
  db: Prisma.TransactionClient | AppContext['db'],
  debtId: string,
  reason: string,
  campaignIds?: string[],
): Promise<number> {
  const r = await db.campaignEnrollment.updateMany({
    where: { debtId, status: 'ACTIVE', ...(campaignIds ? { campaignId: { in: campaignIds } } : {}) },
    data: { status: 'STOPPED', stopReason: reason, nextStepAt: null },
  });
  return r.count;
}

export async function recordPayment(ctx: AppContext, input: PaymentInput, actor: Actor): Promise<PaymentResult> {
  const debtId = await resolveDebtId(ctx, input);
  const amount = new Prisma.Decimal(input.amount);
  if (amount.lte(0))
    throw new HttpError(400, 'invalid_request', 'amount must be greater than zero', [
      { field: 'amount', reason: 'must be greater than zero' },
    ]);

  const outcome = await ctx.db
    .$transaction(
      async (tx) => {
        if (input.externalRef) {
          const existing = await tx.payment.findUnique({ where: { externalRef: input.externalRef } });
          if (existing) {
            if (existing.debtId !== debtId || !existing.amount.eq(amount))
              throw conflict('externalRef was already used for a different payment', { field: 'externalRef' });
            const debt = await tx.debt.findUniqueOrThrow({ where: { id: debtId }, include: { creditor: true } });
            return { payment: existing, debt, duplicate: true, paidInFull: false, stopped: 0, event: null };
          }
        }
        const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM debts WHERE id = ${debtId}::uuid FOR UPDATE`;
        if (!locked.length) throw notFound('debt');
        const before = await tx.debt.findUniqueOrThrow({ where: { id: debtId } });
        if (before.currency !== input.currency) {
          throw new HttpError(
            400,
            'invalid_request',
            `currency ${input.currency} does not match the debt's currency ${before.currency}`,
            [{ field: 'currency', reason: `must be ${before.currency}` }],
          );
        }
        const balance = before.balance.minus(amount);
        const paidInFull = balance.lte(0) && !isClosedDebt(before.status);
        const payment = await tx.payment.create({
          data: {
            debtId,
            amount,
            currency: input.currency,
            paidAt: input.paidAt,
            externalRef: input.externalRef ?? null,
            source: input.source ?? null,
          },
        });
        const debt = await tx.debt.update({
          where: { id: debtId },
          data: { balance, ...(paidInFull ? { status: 'PAID' } : {}) },
          include: { creditor: true },
        });
        let stopped = 0;
        if (paidInFull) {
          stopped = await stopEnrollmentsForDebt(tx, debtId, 'PAID');
          // A promise is kept once the debt is paid.
          await tx.promiseToPay.updateMany({ where: { debtId, status: 'ACTIVE' }, data: { status: 'KEPT' } });
        }
        // The agents see it in the debtor's thread, live (published after the commit).
        const conversation = await ensureConversation(tx, debt.debtorId);
        const event = await appendEvent(tx, conversation.id, 'payment.recorded', {
          debtId,
          paymentId: payment.id,
          amount: amount.toFixed(minorDigits(input.currency)),
          currency: input.currency,
          source: input.source ?? null,
          balance: balance.toFixed(minorDigits(input.currency)),
          paidInFull,
        });
        await audit(tx, actor, {
          action: 'payment.record',
          entityType: 'debt',
          entityId: debtId,
          data: {
            paymentId: payment.id,
            amount: amount.toString(),
            currency: input.currency,
            externalRef: input.externalRef,
            balanceBefore: before.balance.toString(),
            balanceAfter: balance.toString(),
            paidInFull,
            enrollmentsStopped: stopped,
          },
        });
        return { payment, debt, duplicate: false, paidInFull, stopped, event };
      },
      { timeout: 20_000 },
    )
    .catch((e: unknown) => {
      // Two concurrent calls with one externalRef: the loser reports a conflict-free duplicate via retry.
      if (isUniqueViolation(e) && input.externalRef) return null;
      throw e;
    });
  if (!outcome) return recordPayment(ctx, input, actor);

  let cancelled = 0;
  if (outcome.event) publishTimeline(ctx.io, [outcome.event]);
  if (!outcome.duplicate) {
    // After the commit: the dispatch job re-checks the debt status anyway, so a
    // message racing this cancel is refused at send time (debt closed).
    if (outcome.debt.status === 'PAID' || outcome.paidInFull)
      cancelled = await cancelPendingMessages(ctx, { debtId }, 'debt paid in full');
    const payload = {
      payment: serializePayment(outcome.payment),
      debt: {
        id: debtId,
        externalRef: outcome.debt.externalRef,
        creditorRef: outcome.debt.creditor.externalRef,
        balance: outcome.debt.balance.toFixed(minorDigits(outcome.debt.currency)),
        status: outcome.debt.status,
      },
    };
    await emitOutgoingEvent(ctx, 'payment.recorded', payload);
    if (outcome.paidInFull) await emitOutgoingEvent(ctx, 'debt.paid', payload);
  }
  return {
    payment: serializePayment(outcome.payment),
    debt: serializeDebt(outcome.debt),
    duplicate: outcome.duplicate,
    paidInFull: outcome.paidInFull,
    enrollmentsStopped: outcome.stopped,
    messagesCancelled: cancelled,
  };
}

export interface PromiseInput {
  amount: string;
  dueDate: string; // YYYY-MM-DD
  planId?: string;
}

export async function recordPromise(ctx: AppContext, debtId: string, input: PromiseInput, actor: Actor) {
  const r = await recordPromises(ctx, debtId, [input], actor);
  return { promise: r.promises[0]!, debt: r.debt };
}

/**
 * Records promises to pay on one debt in one transaction under the debt's row
 * lock: one promise, or a payment plan (several instalments sharing `plan.id`,
 * whose total may not exceed the balance; the debt becomes PAYMENT_PLAN).
 * Campaigns that stop on a promise withdraw their pending messages.
 */
export async function recordPromises(
  ctx: AppContext,
  debtId: string,
  inputs: readonly PromiseInput[],
  actor: Actor,
  plan?: { id: string },
) {
  const amounts = inputs.map((input, i) => {
    const amount = new Prisma.Decimal(input.amount);
    if (amount.lte(0))
      throw new HttpError(400, 'invalid_request', 'amount must be greater than zero', [
        { field: inputs.length > 1 ? `instalments.${i}.amount` : 'amount', reason: 'must be greater than zero' },
      ]);
    return amount;
  });
  const { promises, debt, campaignIds } = await ctx.db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM debts WHERE id = ${debtId}::uuid FOR UPDATE`;
    if (!locked.length) throw notFound('debt');
    const before = await tx.debt.findUniqueOrThrow({ where: { id: debtId } });
    if (isClosedDebt(before.status))
      throw conflict(`the debt is ${before.status}; a ${plan ? 'payment plan' : 'promise'} cannot be recorded`);
    if (plan) {
      const total = amounts.reduce((sum, a) => sum.plus(a), new Prisma.Decimal(0));
      if (total.gt(before.balance)) {
        throw new HttpError(400, 'invalid_request', 'the instalments add up to more than the balance', [
          {
            field: 'instalments',
            reason: `total ${total.toFixed(2)} exceeds the balance ${before.balance.toFixed(2)}`,
          },
        ]);
      }
    }
    const promises = [];
    for (const [i, input] of inputs.entries()) {
      const promise = await tx.promiseToPay.create({
        data: {
          debtId,
          amount: amounts[i]!,
          dueDate: new Date(`${input.dueDate}T00:00:00Z`),
          planId: plan?.id ?? input.planId ?? null,
          createdById: actor.type === 'user' ? (actor.id ?? null) : null,
        },
      });
      await audit(tx, actor, {
        action: 'promise.create',
        entityType: 'debt',
        entityId: debtId,
        data: {
          promiseId: promise.id,
          amount: amounts[i]!.toString(),
          dueDate: input.dueDate,
          ...(plan ? { planId: plan.id } : {}),
        },
      });
      promises.push(promise);
    }
    const status =
      plan && ['OPEN', 'PROMISED'].includes(before.status)
        ? 'PAYMENT_PLAN'
        : before.status === 'OPEN'
          ? 'PROMISED'
          : before.status;
    const debt = await tx.debt.update({
      where: { id: debtId },
      data: status !== before.status ? { status } : {},
      include: { creditor: true },
    });
    if (plan)
      await audit(tx, actor, {
        action: 'payment_plan.create',
        entityType: 'debt',
        entityId: debtId,
        data: {
          planId: plan.id,
          instalments: inputs.length,
          total: amounts.reduce((s, a) => s.plus(a), new Prisma.Decimal(0)).toFixed(2),
        },
      });
    // Campaigns that hold steps on a promise: their pending messages for this debt are withdrawn.
    const enrolments = await tx.campaignEnrollment.findMany({
      where: { debtId, status: 'ACTIVE', campaign: { stopConditions: { has: 'PROMISE' } } },
      select: { campaignId: true },
    });
    return { promises, debt, campaignIds: enrolments.map((e) => e.campaignId) };
  });
  for (const campaignId of campaignIds)
    await cancelPendingMessages(ctx, { debtId, campaignId }, 'promise to pay recorded');
  const serialized = promises.map((p) => serializePromise(p, debt.currency));
  const debtRef = {
    id: debtId,
    externalRef: debt.externalRef,
    creditorRef: debt.creditor.externalRef,
    status: debt.status,
  };
  for (const promise of serialized) await emitOutgoingEvent(ctx, 'promise.created', { promise, debt: debtRef });
  return { promises: serialized, debt: serializeDebt(debt) };
}

export function serializePromise(
  p: {
    id: string;
    debtId: string;
    amount: Prisma.Decimal;
    dueDate: Date;
    planId: string | null;
    status: string;
    createdAt: Date;
  },
  currency: string,
) {
  return {
    id: p.id,
    debtId: p.debtId,
    amount: p.amount.toFixed(minorDigits(currency)),
    dueDate: p.dueDate.toISOString().slice(0, 10),
    planId: p.planId,
    status: p.status,
    createdAt: p.createdAt,
  };
}

export { serializePayment };

// Plans that collect themselves. The debtor picks a plan on the debtor page
// within the creditor's rules (instalments, minimum amount, interval) and
// saves a card (a Checkout Session in setup mode: a SetupIntent); once the
// card is saved the instalments become promises to pay sharing the plan's id
// and the debt is on PAYMENT_PLAN. The plan job charges each instalment on its
// date off-session; the provider's webhook records the payment (exactly once,
// like any other) and keeps the promise. A failed charge is retried after the
// creditor's retry days and the debtor is told, with a link to use another
// card; after the creditor's limit the plan is broken: its promises BROKEN,
// the debt OPEN, and the campaigns that held for it resume. One-off promises
// are tracked by the same job: kept when paid by their date, else broken.
// The job's clock is injectable (setPaymentsClock) so tests fix "today".
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import { audit } from '../audit.js';
import { appendEvent, ensureConversation } from '../conversations/thread.js';
import { inThread, type Tx, type TxOutcome } from '../messaging/thread-writer.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import { requestOutreach } from '../outbound/service.js';
import { minorDigits } from '../domain/debtors.js';
import { toMinorUnits } from '../../channels/payments.js';
import { portalSettingsOf } from '../portal/settings.js';
import { providerForDebt, startCheckout, type CheckoutDebt } from './checkout.js';
import { paymentProvider } from './providers.js';
import { recordPromises } from './service.js';

export const PLAN_JOB = 'payment-plans';
/** How long a charge the job started holds its instalment before another run may try it (a crash mid-charge). */
const CHARGE_LEASE_MS = 15 * 60_000;

const clocks = new WeakMap<AppContext, () => Date>();
/** Tests fix the plan job's "now" (the date instalments fall due against). */
export function setPaymentsClock(ctx: AppContext, clock: (() => Date) | null): void {
  if (clock) clocks.set(ctx, clock);
  else clocks.delete(ctx);
}
export const paymentsNow = (ctx: AppContext) => (clocks.get(ctx) ?? (() => new Date()))();

/** Refusals the debtor page shows in words (the key names a text in the locale files). */
export class PlanInputError extends Error {
  constructor(
    readonly key: string,
    readonly vars: Record<string, string | number> = {},
  ) {
    super(key);
    this.name = 'PlanInputError';
  }
}

const debtorActor = (debtorId: string) => ({ type: 'debtor' as const, id: debtorId });
const planActor = { type: 'system' as const, id: 'payment-plans' };

async function threadEvent(
  ctx: AppContext,
  tx: Tx,
  out: TxOutcome,
  debtorId: string,
  type: string,
  data: Record<string, unknown>,
) {
  const conversation = await ensureConversation(tx, debtorId);
  out.events.push(await appendEvent(tx, conversation.id, type, data));
  return conversation;
}

export interface PlanChoice {
  count: unknown;
  first: unknown;
  returnUrl: string;
  locale: string;
}

/** The instalments of a plan: equal amounts rounded up to the currency's unit, the last one taking the rest. */
export function planSchedule(
  balance: Prisma.Decimal,
  count: number,
  digits: number,
  first: string,
  intervalDays: number,
): { amount: string; dueDate: string }[] {
  const each = balance.div(count).toDecimalPlaces(digits, Prisma.Decimal.ROUND_UP);
  const last = balance.minus(each.times(count - 1));
  const start = Date.parse(`${first}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => ({
    amount: (i === count - 1 ? last : each).toFixed(digits),
    dueDate: new Date(start + i * intervalDays * 86_400_000).toISOString().slice(0, 10),
  }));
}

/** Starts a plan chosen on the debtor page: the plan waits for its card; returns the provider's page to save one. */
export async function startPlan(
  ctx: AppContext,
  debtorId: string,
  debt: CheckoutDebt & { balance: Prisma.Decimal; status: string },
  choice: PlanChoice,
  now: Date,
): Promise<{ url: string; planId: string }> {
  const settings = portalSettingsOf(debt.creditor.portalSettings);
  const rules = settings.plans;
  if (!rules.enabled || !['OPEN', 'PROMISED'].includes(debt.status) || !providerForDebt(ctx, debt))
    throw new PlanInputError('plan_unavailable');
  const count = Number(choice.count);
  const digits = minorDigits(debt.currency);
  if (!Number.isInteger(count) || count < 2 || count > rules.maxInstalments)
    throw new PlanInputError('plan_unavailable');
  const today = now.toISOString().slice(0, 10);
  const max = new Date(now.getTime() + settings.maxPromiseDays * 86_400_000).toISOString().slice(0, 10);
  const first = typeof choice.first === 'string' ? choice.first.trim() : '';
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(first) ||
    Number.isNaN(Date.parse(`${first}T00:00:00Z`)) ||
    first < today ||
    first > max
  )
    throw new PlanInputError('promise_invalid', { max });
  const schedule = planSchedule(debt.balance, count, digits, first, rules.intervalDays);
  if (
    schedule.some((s) => new Prisma.Decimal(s.amount).lte(0)) ||
    new Prisma.Decimal(schedule[0]!.amount).lt(rules.minInstalment)
  )
    throw new PlanInputError('plan_unavailable');
  const planId = randomUUID();
  const provider = providerForDebt(ctx, debt)!;
  await ctx.db.paymentPlan.create({
    data: {
      id: planId,
      debtId: debt.id,
      debtorId,
      provider: provider.name,
      status: 'pending_method',
      schedule,
      maxFailedCharges: rules.maxFailedCharges,
      retryDays: rules.retryDays,
    },
  });
  const started = await startCheckout(ctx, debt, {
    kind: 'setup',
    returnUrl: choice.returnUrl,
    locale: choice.locale,
    planId,
  });
  if (!started) throw new PlanInputError('plan_unavailable');
  await ctx.db.providerPayment.update({ where: { id: started.providerPaymentId }, data: { planId } });
  await inThread(ctx, async (tx, out) => {
    await threadEvent(ctx, tx, out, debtorId, 'portal.plan_started', {
      source: 'debtor-page',
      debtId: debt.id,
      planId,
      instalments: schedule,
    });
    await audit(tx, debtorActor(debtorId), {
      action: 'portal.plan_started',
      entityType: 'debt',
      entityId: debt.id,
      data: { planId, instalments: count, first },
    });
  });
  return { url: started.url, planId };
}

/** Another card for the debt's active plan (after a failed charge). */
export async function startCardUpdate(
  ctx: AppContext,
  debtorId: string,
  debt: CheckoutDebt,
  returnUrl: string,
  locale: string,
): Promise<{ url: string }> {
  const plan = await ctx.db.paymentPlan.findFirst({ where: { debtId: debt.id, debtorId, status: 'active' } });
  if (!plan) throw new PlanInputError('plan_unavailable');
  const started = await startCheckout(ctx, debt, { kind: 'setup', returnUrl, locale, planId: plan.id });
  if (!started) throw new PlanInputError('plan_unavailable');
  await ctx.db.providerPayment.update({ where: { id: started.providerPaymentId }, data: { planId: plan.id } });
  return { url: started.url };
}

/** A card (or mandate) was saved for a plan: the plan starts, or an active plan's waiting instalment is tried again now. */
export async function onPaymentMethodSaved(
  ctx: AppContext,
  saved: { providerPaymentId: string; customerRef: string; paymentMethodRef: string; provider: string },
): Promise<void> {
  const pp = await ctx.db.providerPayment.findUnique({ where: { id: saved.providerPaymentId } });
  if (!pp?.planId) return;
  await ctx.db.providerPayment.update({ where: { id: pp.id }, data: { status: 'succeeded' } });
  const claimed = await ctx.db.paymentPlan.updateMany({
    where: { id: pp.planId, status: 'pending_method' },
    data: { status: 'active', customerRef: saved.customerRef, paymentMethodRef: saved.paymentMethodRef },
  });
  const plan = await ctx.db.paymentPlan.findUniqueOrThrow({ where: { id: pp.planId } });
  if (claimed.count === 0) {
    if (plan.status !== 'active') return;
    await ctx.db.paymentPlan.update({
      where: { id: plan.id },
      data: { customerRef: saved.customerRef, paymentMethodRef: saved.paymentMethodRef },
    });
    await ctx.db.promiseToPay.updateMany({
      where: { planId: plan.id, status: 'ACTIVE', nextChargeAt: null, chargeAttempts: { gt: 0 } },
      data: { nextChargeAt: paymentsNow(ctx) },
    });
    return;
  }
  const schedule = plan.schedule as { amount: string; dueDate: string }[];
  try {
    await recordPromises(ctx, plan.debtId, schedule, debtorActor(plan.debtorId), { id: plan.id });
  } catch (err) {
    // The debt closed (paid, disputed) while the card was being saved: nothing to collect.
    await ctx.db.paymentPlan.update({ where: { id: plan.id }, data: { status: 'cancelled' } });
    ctx.log.warn({ err, planId: plan.id }, 'plan could not start');
    return;
  }
  await ctx.db
    .$executeRaw`UPDATE promises_to_pay SET next_charge_at = due_date::timestamptz WHERE plan_id = ${plan.id}::uuid AND status = 'ACTIVE'`;
  await inThread(ctx, async (tx, out) => {
    const debt = await tx.debt.findUniqueOrThrow({ where: { id: plan.debtId }, include: { creditor: true } });
    const data = { planId: plan.id, debtId: plan.debtId, instalments: schedule, provider: plan.provider };
    const conversation = await threadEvent(ctx, tx, out, plan.debtorId, 'plan.created', data);
    await audit(tx, planActor, { action: 'plan.activate', entityType: 'debt', entityId: plan.debtId, data });
    await emitOutgoingEvent(
      ctx,
      'plan.created',
      {
        ...data,
        conversationId: conversation.id,
        debtorId: plan.debtorId,
        debt: {
          id: debt.id,
          externalRef: debt.externalRef,
          creditorRef: debt.creditor.externalRef,
          currency: debt.currency,
        },
      },
      { tx },
    );
  });
}

/** An instalment's payment was recorded: that promise is kept; a plan with none left is completed. */
export async function onInstalmentPaid(ctx: AppContext, p: { promiseId: string; paymentId: string }): Promise<void> {
  const promise = await ctx.db.promiseToPay.findUnique({ where: { id: p.promiseId } });
  if (!promise?.planId) return;
  await ctx.db.promiseToPay.updateMany({
    where: { id: promise.id, status: { in: ['ACTIVE', 'KEPT'] } },
    data: { status: 'KEPT', nextChargeAt: null },
  });
  await ctx.db.paymentPlan.updateMany({ where: { id: promise.planId }, data: { failedCharges: 0 } });
  const left = await ctx.db.promiseToPay.count({ where: { planId: promise.planId, status: 'ACTIVE' } });
  if (left === 0)
    await ctx.db.paymentPlan.updateMany({
      where: { id: promise.planId, status: 'active' },
      data: { status: 'completed' },
    });
  await inThread(ctx, async (tx, out) => {
    await threadEvent(
      ctx,
      tx,
      out,
      (await tx.debt.findUniqueOrThrow({ where: { id: promise.debtId } })).debtorId,
      'plan.instalment_paid',
      { planId: promise.planId, promiseId: promise.id, paymentId: p.paymentId, completed: left === 0 },
    );
  });
}

/**
 * An instalment's charge failed (reported by the charge call and again by the
 * provider's webhook: counted once per charge id). Retried after the plan's
 * retry days, the debtor told; at the limit the plan is broken.
 */
export async function onInstalmentFailed(
  ctx: AppContext,
  f: { promiseId: string; intentRef: string; error: string; fromWebhook?: boolean },
  now = paymentsNow(ctx),
): Promise<void> {
  const outcome = await inThread(ctx, async (tx, out) => {
    const [row] = await tx.$queryRaw<
      { id: string }[]
    >`SELECT id FROM promises_to_pay WHERE id = ${f.promiseId}::uuid FOR UPDATE`;
    if (!row) return null;
    const promise = await tx.promiseToPay.findUniqueOrThrow({ where: { id: f.promiseId } });
    if (!promise.planId || promise.status !== 'ACTIVE' || promise.lastChargeRef === f.intentRef) return null;
    // A charge the plan job is making itself: its own answer decides (the webhook only stands in when the job did not hear back).
    if (f.fromWebhook && promise.lastChargeRef?.startsWith('job:')) return null;
    const plan = await tx.paymentPlan.update({
      where: { id: promise.planId },
      data: { failedCharges: { increment: 1 } },
    });
    const debt = await tx.debt.findUniqueOrThrow({ where: { id: promise.debtId }, include: { creditor: true } });
    const broken = plan.failedCharges >= plan.maxFailedCharges;
    const data = {
      planId: plan.id,
      promiseId: promise.id,
      chargeRef: f.intentRef,
      error: f.error.slice(0, 300),
      failedCharges: plan.failedCharges,
      limit: plan.maxFailedCharges,
    };
    if (!broken) {
      const retryAt = new Date(now.getTime() + plan.retryDays * 86_400_000);
      await tx.promiseToPay.update({
        where: { id: promise.id },
        data: { lastChargeRef: f.intentRef, nextChargeAt: retryAt },
      });
      await threadEvent(ctx, tx, out, plan.debtorId, 'plan.charge_failed', { ...data, retryAt: retryAt.toISOString() });
      await audit(tx, planActor, {
        action: 'plan.charge_failed',
        entityType: 'debt',
        entityId: debt.id,
        data: { ...data, retryAt: retryAt.toISOString() },
      });
      return { broken: false, plan, debt, promise };
    }
    await tx.promiseToPay.update({ where: { id: promise.id }, data: { lastChargeRef: f.intentRef } });
    await tx.paymentPlan.update({ where: { id: plan.id }, data: { status: 'broken' } });
    await tx.promiseToPay.updateMany({
      where: { planId: plan.id, status: 'ACTIVE' },
      data: { status: 'BROKEN', nextChargeAt: null },
    });
    if (debt.status === 'PAYMENT_PLAN') await tx.debt.update({ where: { id: debt.id }, data: { status: 'OPEN' } });
    const resumed = await tx.campaignEnrollment.updateMany({
      where: { debtId: debt.id, status: 'STOPPED', stopReason: 'PROMISE' },
      data: { status: 'ACTIVE', stopReason: null, nextStepAt: now },
    });
    const conversation = await threadEvent(ctx, tx, out, plan.debtorId, 'plan.broken', {
      ...data,
      enrollmentsResumed: resumed.count,
    });
    await audit(tx, planActor, { action: 'plan.broken', entityType: 'debt', entityId: debt.id, data });
    await emitOutgoingEvent(
      ctx,
      'plan.broken',
      {
        ...data,
        conversationId: conversation.id,
        debtorId: plan.debtorId,
        debt: { id: debt.id, externalRef: debt.externalRef, creditorRef: debt.creditor.externalRef },
      },
      { tx },
    );
    return { broken: true, plan, debt, promise };
  });
  if (outcome && !outcome.broken) {
    // Told once per failed charge, with the link to use another card.
    const r = await requestOutreach(
      ctx,
      {
        debtorId: outcome.plan.debtorId,
        debtId: outcome.debt.id,
        intent: 'instalment-failed',
        vars: { installmentAmount: outcome.promise.amount.toFixed(minorDigits(outcome.debt.currency)) },
        idempotencyKey: `instalment-failed:${outcome.promise.id}:${f.intentRef}`,
      },
      planActor,
    ).catch((err: unknown) => {
      ctx.log.error({ err, promiseId: f.promiseId }, 'could not tell the debtor about the failed instalment');
      return null;
    });
    if (r?.outcome === 'refuse')
      ctx.log.warn(
        { promiseId: f.promiseId, reasons: r.decision.reasons.map((x) => x.rule) },
        'failed-instalment message refused',
      );
  }
}

export interface PlanRunReport {
  charged: number;
  failed: number;
  kept: number;
  broken: number;
}

/** One run of the plan job at `now`: charge the instalments due, and settle one-off promises whose date has passed. */
export async function runPlanCharges(ctx: AppContext, now = paymentsNow(ctx)): Promise<PlanRunReport> {
  const report: PlanRunReport = { charged: 0, failed: 0, kept: 0, broken: 0 };
  const due = await ctx.db.$queryRaw<{ id: string }[]>`
    SELECT p.id::text AS id FROM promises_to_pay p JOIN payment_plans pl ON pl.id = p.plan_id
     WHERE p.status = 'ACTIVE' AND pl.status = 'active' AND p.next_charge_at <= ${now} ORDER BY p.next_charge_at LIMIT 200`;
  for (const { id } of due) {
    // Claimed by one statement with a lease: a second process (or run) finds nothing to charge, and a job that
    // dies mid-charge leaves the instalment due again when the lease runs out (a kept one is no longer ACTIVE).
    const [claimed] = await ctx.db.$queryRaw<{ attempts: number }[]>`
      UPDATE promises_to_pay SET next_charge_at = ${new Date(now.getTime() + CHARGE_LEASE_MS)}, charge_attempts = charge_attempts + 1, last_charge_ref = 'job:' || (charge_attempts + 1)
       WHERE id = ${id}::uuid AND status = 'ACTIVE' AND next_charge_at <= ${now} RETURNING charge_attempts AS attempts`;
    if (!claimed) continue;
    const promise = await ctx.db.promiseToPay.findUniqueOrThrow({
      where: { id },
      include: { debt: { include: { creditor: true } } },
    });
    const plan = await ctx.db.paymentPlan.findUniqueOrThrow({ where: { id: promise.planId! } });
    const provider = paymentProvider(ctx, plan.provider as 'stripe' | 'gocardless');
    if (!provider || !plan.customerRef || !plan.paymentMethodRef) {
      await ctx.db.promiseToPay.update({ where: { id }, data: { nextChargeAt: new Date(now.getTime() + 3600_000) } });
      continue;
    }
    const digits = minorDigits(promise.debt.currency);
    try {
      const result = await provider.chargeSaved({
        customerRef: plan.customerRef,
        paymentMethodRef: plan.paymentMethodRef,
        amountMinor: toMinorUnits(promise.amount.toFixed(digits), digits),
        currency: promise.debt.currency,
        description: `${promise.debt.creditor.name} ${promise.debt.externalRef} instalment ${promise.dueDate.toISOString().slice(0, 10)}`,
        idempotencyKey: `instalment:${id}:${claimed.attempts}`,
        metadata: { debtId: promise.debtId, debtorId: plan.debtorId, promiseId: id, planId: plan.id },
      });
      await audit(ctx.db, planActor, {
        action: 'plan.charge',
        entityType: 'debt',
        entityId: promise.debtId,
        data: {
          planId: plan.id,
          promiseId: id,
          attempt: claimed.attempts,
          chargeRef: result.ref,
          status: result.status,
          ...(result.error ? { error: result.error } : {}),
        },
      });
      if (result.status === 'failed') {
        report.failed += 1;
        await onInstalmentFailed(
          ctx,
          {
            promiseId: id,
            intentRef: result.ref || `attempt:${id}:${claimed.attempts}`,
            error: `${result.error?.code ?? 'failed'}: ${result.error?.message ?? ''}`,
          },
          now,
        );
      } else {
        report.charged += 1;
        // A bank debit on its way: its webhook settles it (no lease retry meanwhile).
        if (result.status === 'processing')
          await ctx.db.promiseToPay.update({
            where: { id },
            data: { nextChargeAt: null, lastChargeRef: `pending:${result.ref}` },
          });
      }
    } catch (err) {
      // The provider could not be reached: the instalment is tried again in an hour, nothing counted against the plan.
      ctx.log.warn({ err, promiseId: id }, 'instalment charge failed to reach the provider; retrying in an hour');
      await ctx.db.promiseToPay.update({
        where: { id },
        data: { nextChargeAt: new Date(now.getTime() + 3600_000), lastChargeRef: null },
      });
    }
  }
  const settled = await settleOneOffPromises(ctx, now);
  report.kept += settled.kept;
  report.broken += settled.broken;
  return report;
}

/** A promise whose date has passed: kept if the payments since it was made cover it, else broken (and the held cadence resumes). */
async function settleOneOffPromises(ctx: AppContext, now: Date): Promise<{ kept: number; broken: number }> {
  const today = new Date(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
  const lapsed = await ctx.db.promiseToPay.findMany({
    where: { planId: null, status: 'ACTIVE', dueDate: { lt: today } },
    take: 500,
  });
  let kept = 0;
  let broken = 0;
  for (const p of lapsed) {
    const paid = await ctx.db.payment.aggregate({
      where: {
        debtId: p.debtId,
        status: 'SUCCEEDED',
        paidAt: { gte: p.createdAt, lt: new Date(p.dueDate.getTime() + 86_400_000) },
      },
      _sum: { amount: true },
    });
    const ok = (paid._sum.amount ?? new Prisma.Decimal(0)).gte(p.amount);
    const changed = await ctx.db.promiseToPay.updateMany({
      where: { id: p.id, status: 'ACTIVE' },
      data: { status: ok ? 'KEPT' : 'BROKEN' },
    });
    if (!changed.count) continue;
    if (ok) kept += 1;
    else broken += 1;
    await inThread(ctx, async (tx, out) => {
      const debt = await tx.debt.findUniqueOrThrow({ where: { id: p.debtId } });
      const active = await tx.promiseToPay.count({ where: { debtId: p.debtId, status: 'ACTIVE' } });
      if (!ok && debt.status === 'PROMISED' && active === 0)
        await tx.debt.update({ where: { id: debt.id }, data: { status: 'OPEN' } });
      await threadEvent(ctx, tx, out, debt.debtorId, ok ? 'promise.kept' : 'promise.broken', {
        promiseId: p.id,
        debtId: p.debtId,
        amount: p.amount.toFixed(minorDigits(debt.currency)),
        dueDate: p.dueDate.toISOString().slice(0, 10),
      });
      await audit(tx, planActor, {
        action: ok ? 'promise.kept' : 'promise.broken',
        entityType: 'debt',
        entityId: p.debtId,
        data: { promiseId: p.id },
      });
    });
  }
  return { kept, broken };
}

export async function definePlanJobs(ctx: AppContext): Promise<void> {
  ctx.scheduler.define(
    PLAN_JOB,
    async () => {
      await runPlanCharges(ctx);
    },
    { concurrency: 1 } as never,
  );
  await ctx.scheduler.every('1 minute', PLAN_JOB, undefined, { skipImmediate: true } as never);
}

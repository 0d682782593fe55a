// Plans that collect themselves: chosen on the debtor page within the
// creditor's rules, a card saved in the Stripe sandbox (SetupIntent), each
// instalment charged off-session by the plan job on its date (fixed clock),
// failed charges retried and the debtor told, the plan broken at the
// creditor's limit; one-off promises tracked kept or broken.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api } from '../support/api.js';
import { runPlanCharges } from '../../src/payments/plans.js';
import { payOnCheckout, paymentsOf, verifiedDebtor } from './helpers.js';

const DAY = 86_400_000;

describe('self-collecting plans', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'test-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
      WEBHOOK_ALLOWED_INTERNAL_TARGETS: '127.0.0.1',
    });
    await api(gw).post('/api/v1/webhook-subscriptions', {
      url: 'http://127.0.0.1:9/hook',
      events: ['plan.created', 'plan.broken', 'payment.recorded'],
    });
  });
  afterAll(async () => gw?.close());

  async function planWithCard(card: string, originalAmount = '300.00') {
    const { s, page, path } = await verifiedDebtor(gw, { originalAmount });
    expect(page.html).toContain('Pay in instalments');
    const today = new Date().toISOString().slice(0, 10);
    await page.post(`${path}/actions/plan`, { debt: s.debtId, count: '3', first: today });
    expect(page.status).toBe(303);
    const saved = await payOnCheckout(page.location!, card);
    expect(saved.status).toBe(303);
    const plan = await eventually(
      () => gw.ctx.db.paymentPlan.findFirst({ where: { debtId: s.debtId, status: 'active' } }),
      15_000,
      'the plan active once the card is saved',
    );
    await eventually(
      async () =>
        (await gw.ctx.db.promiseToPay.count({ where: { planId: plan.id, nextChargeAt: { not: null } } })) === 3,
      10_000,
      'its instalments scheduled',
    );
    return { s, page, path, plan, today };
  }

  it('charges the first instalment on its date with the saved card; the promise is kept and the balance drops', async () => {
    const { s, plan, today } = await planWithCard('4242 4242 4242 4242');
    expect(plan.customerRef).toMatch(/^cus_/);
    expect(plan.paymentMethodRef).toMatch(/^pm_/);
    const promises = await gw.ctx.db.promiseToPay.findMany({ where: { planId: plan.id }, orderBy: { dueDate: 'asc' } });
    expect(promises.map((p) => p.amount.toFixed(2))).toEqual(['100.00', '100.00', '100.00']);
    expect(promises[0]!.dueDate.toISOString().slice(0, 10)).toBe(today);
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).status).toBe('PAYMENT_PLAN');
    // The day before: nothing is due.
    expect((await runPlanCharges(gw.ctx, new Date(Date.parse(`${today}T00:00:00Z`) - DAY))).charged).toBe(0);
    // On the date (fixed clock): the first instalment, and only it.
    const report = await runPlanCharges(gw.ctx, new Date(Date.parse(`${today}T10:00:00Z`)));
    expect(report.charged).toBe(1);
    expect((await runPlanCharges(gw.ctx, new Date(Date.parse(`${today}T10:05:00Z`)))).charged).toBe(0);
    await eventually(
      async () => (await paymentsOf(gw, s.debtId)).length === 1,
      15_000,
      'the instalment recorded from the webhook',
    );
    await eventually(
      async () =>
        (await gw.ctx.db.promiseToPay.findUniqueOrThrow({ where: { id: promises[0]!.id } })).status === 'KEPT',
      10_000,
      'promise kept',
    );
    const debt = await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } });
    expect(debt.balance.toFixed(2)).toBe('200.00');
    expect(debt.status).toBe('PAYMENT_PLAN');
    expect(
      await gw.ctx.db.webhookDelivery.count({
        where: { event: 'plan.created', payload: { path: ['data', 'planId'], equals: plan.id } },
      }),
    ).toBe(1);
  });

  it('a failed charge is retried on schedule and the debtor told; at the limit the plan is broken and the debt reopened', async () => {
    // This test card saves fine and declines every later charge.
    const { s, plan, today } = await planWithCard('4000 0000 0000 0341');
    const first = Date.parse(`${today}T10:00:00Z`);
    expect((await runPlanCharges(gw.ctx, new Date(first))).failed).toBe(1);
    // Reported by the charge call and again by the webhook: counted once.
    await eventually(
      async () =>
        (await gw.ctx.db.inboundEvent.count({
          where: { provider: 'stripe', status: { in: ['PROCESSED', 'IGNORED'] }, body: { not: Buffer.alloc(0) } },
        })) > 0,
      5_000,
      'webhooks processed',
    );
    await eventually(
      () => gw.ctx.db.message.findFirst({ where: { debtorId: s.debtorId, intent: 'instalment-failed' } }),
      15_000,
      'the debtor told',
    );
    const afterFirst = await gw.ctx.db.paymentPlan.findUniqueOrThrow({ where: { id: plan.id } });
    expect(afterFirst.failedCharges).toBe(1);
    const waiting = await gw.ctx.db.promiseToPay.findFirstOrThrow({
      where: { planId: plan.id },
      orderBy: { dueDate: 'asc' },
    });
    expect(waiting.status).toBe('ACTIVE');
    expect(waiting.nextChargeAt!.getTime()).toBe(first + 3 * DAY); // the creditor's retryDays
    const told = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: s.debtorId, intent: 'instalment-failed' },
    });
    expect(told.body).toMatch(/\/pay\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/);
    expect(told.body).toContain('$100.00');
    // Not retried before its day; on its day it fails again: the creditor's limit (2) is reached.
    expect((await runPlanCharges(gw.ctx, new Date(first + 2 * DAY))).failed).toBe(0);
    expect((await runPlanCharges(gw.ctx, new Date(first + 3 * DAY))).failed).toBe(1);
    const broken = await eventually(
      async () => {
        const p = await gw.ctx.db.paymentPlan.findUniqueOrThrow({ where: { id: plan.id } });
        return p.status === 'broken' ? p : null;
      },
      10_000,
      'plan broken',
    );
    expect(broken.failedCharges).toBe(2);
    expect((await gw.ctx.db.promiseToPay.findMany({ where: { planId: plan.id } })).map((p) => p.status)).toEqual([
      'BROKEN',
      'BROKEN',
      'BROKEN',
    ]);
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).status).toBe('OPEN');
    expect(
      await gw.ctx.db.webhookDelivery.count({
        where: { event: 'plan.broken', payload: { path: ['data', 'planId'], equals: plan.id } },
      }),
    ).toBe(1);
    expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, intent: 'instalment-failed' } })).toBe(1);
    expect(await paymentsOf(gw, s.debtId)).toHaveLength(0);
  });

  it('a promise to pay is kept when paid by its date, broken when not', async () => {
    const a = await verifiedDebtor(gw, { originalAmount: '50.00' });
    const b = await verifiedDebtor(gw, { originalAmount: '50.00' });
    const date = new Date(Date.now() + 2 * DAY).toISOString().slice(0, 10);
    await a.page.post(`${a.path}/actions/promise`, { debt: a.s.debtId, date, amount: '20.00' });
    await b.page.post(`${b.path}/actions/promise`, { debt: b.s.debtId, date, amount: '20.00' });
    expect(
      (await api(gw).post('/api/v1/payments', { debtId: a.s.debtId, amount: '20.00', currency: 'USD' })).status,
    ).toBe(201);
    const report = await runPlanCharges(gw.ctx, new Date(Date.parse(`${date}T00:00:00Z`) + 1.5 * DAY));
    expect(report.kept).toBeGreaterThanOrEqual(1);
    expect(report.broken).toBeGreaterThanOrEqual(1);
    expect((await gw.ctx.db.promiseToPay.findFirstOrThrow({ where: { debtId: a.s.debtId } })).status).toBe('KEPT');
    expect((await gw.ctx.db.promiseToPay.findFirstOrThrow({ where: { debtId: b.s.debtId } })).status).toBe('BROKEN');
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: b.s.debtId } })).status).toBe('OPEN');
  });
});

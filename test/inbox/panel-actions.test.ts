// The debtor panel's actions through the API an agent's session uses: a
// payment plan (instalments sharing a plan id; the debt becomes PAYMENT_PLAN),
// a consent change per contact point and channel, and linking an unmatched
// conversation to a debtor found by search — each audited with who did it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, seedDebtor } from '../support/api.js';
import { createAgent, login, type SessionClient } from './session.js';

describe('debtor panel actions', () => {
  let gw: TestGateway;
  let ana: SessionClient;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'panel-actions-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    ana = await login(gw, await createAgent(gw, 'AGENT', 'Ana'));
  });
  afterAll(async () => gw?.close());

  it('records a payment plan: ordered instalments within the balance, shown on the panel', async () => {
    const d = await seedDebtor(gw, { fullName: 'Paula Plan' });
    const outOfOrder = await ana.call('POST', `/api/v1/debts/${d.debtId}/payment-plans`, {
      instalments: [
        { amount: '100.00', dueDate: '2027-02-01' },
        { amount: '100.00', dueDate: '2027-01-01' },
      ],
    });
    expect(outOfOrder.status).toBe(400);
    expect(outOfOrder.body.details[0].field).toBe('instalments.1.dueDate');
    const tooMuch = await ana.call('POST', `/api/v1/debts/${d.debtId}/payment-plans`, {
      instalments: [
        { amount: '1000.00', dueDate: '2027-01-01' },
        { amount: '1000.00', dueDate: '2027-02-01' },
      ],
    });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.details[0].field).toBe('instalments');
    // A refused plan leaves nothing behind: it is recorded whole or not at all.
    expect(await gw.ctx.db.promiseToPay.count({ where: { debtId: d.debtId } })).toBe(0);

    const plan = await ana.call('POST', `/api/v1/debts/${d.debtId}/payment-plans`, {
      instalments: [1, 2, 3].map((m) => ({ amount: '400.00', dueDate: `2027-0${m}-15` })),
    });
    expect(plan.status).toBe(201);
    expect(plan.body.debt.status).toBe('PAYMENT_PLAN');
    expect(plan.body.promises.map((p: { planId: string }) => p.planId)).toEqual([
      plan.body.planId,
      plan.body.planId,
      plan.body.planId,
    ]);
    const panel = (await ana.call('GET', `/api/v1/inbox/debtors/${d.debtorId}/panel`)).body;
    const debt = panel.debts.find((x: { id: string }) => x.id === d.debtId);
    expect(debt.status).toBe('PAYMENT_PLAN');
    expect(debt.activePromises.map((p: { dueDate: string; amount: string }) => `${p.amount}@${p.dueDate}`)).toEqual([
      '400.00@2027-01-15',
      '400.00@2027-02-15',
      '400.00@2027-03-15',
    ]);
    expect(
      await gw.ctx.db.auditEvent.count({
        where: { action: 'promise.create', entityId: d.debtId, actorId: ana.user.id },
      }),
    ).toBe(3);
    expect(
      await gw.ctx.db.auditEvent.count({
        where: { action: 'payment_plan.create', entityId: d.debtId, actorId: ana.user.id },
      }),
    ).toBe(1);
  });

  it('changes consent for one channel of one contact point, and the router follows it', async () => {
    const d = await seedDebtor(gw, { fullName: 'Conrad Consent' });
    const r = await ana.call('PATCH', `/api/v1/contact-points/${d.phoneId}`, { consents: { SMS: 'REVOKED' } });
    expect(r.status).toBe(200);
    expect(r.body.consents.SMS.state).toBe('REVOKED');
    expect(r.body.consents.VOICE.state).toBe('GRANTED');
    const panel = (await ana.call('GET', `/api/v1/inbox/debtors/${d.debtorId}/panel`)).body;
    expect(panel.allowance.channels.find((a: { channel: string }) => a.channel === 'SMS').outcome).toBe('refuse');
    const row = await gw.ctx.db.auditEvent.findFirstOrThrow({
      where: { action: 'consent.change', entityId: d.phoneId },
    });
    expect(row.actorId).toBe(ana.user.id);
  });

  it('links an unmatched conversation to a debtor found by search, adding the sender as a contact point', async () => {
    const d = await seedDebtor(gw, { fullName: 'Ursula Unmatched' });
    const stranger = '+13125550777';
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from: stranger,
      to: gw.ctx.providers.twilio.from,
      body: 'this is Ursula from my new phone',
    });
    const unmatched = await eventually(
      () => gw.ctx.db.conversation.findFirst({ where: { unmatchedAddress: stranger } }),
      10_000,
      'unmatched conversation',
    );
    const found = await ana.call('GET', `/api/v1/debtors?q=${encodeURIComponent('ursula unm')}`);
    expect(found.body.data.map((x: { id: string }) => x.id)).toEqual([d.debtorId]);
    const linked = await ana.call('POST', `/api/v1/conversations/${unmatched.id}/link`, {
      debtorId: d.debtorId,
      addContactPoint: true,
    });
    expect(linked.status).toBe(200);
    expect(linked.body.messagesMoved).toBe(1);
    const thread = (await ana.call('GET', `/api/v1/inbox/conversations/${linked.body.conversationId}`)).body;
    expect(thread.conversation.debtorId).toBe(d.debtorId);
    expect(thread.messages.map((m: { body: string }) => m.body)).toContain('this is Ursula from my new phone');
    expect(await gw.ctx.db.contactPoint.count({ where: { debtorId: d.debtorId, value: stranger } })).toBe(1);
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'conversation.link', actorId: ana.user.id } })).toBe(1);
  });
});

// Issue 20: who collects decides the regime. A first-party creditor's US messages carry no
// debt-collector disclosure and its calls are not held by the Reg F 7-in-7 presumption; an
// agency's carry the disclosure and are; every decision names the regime. Time-barred debts:
// suit wording refused when the message is rendered, California's notice added. The TCPA's
// revocation deadline shown next to the immediate suppression.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { createAgent, login, type SessionClient } from '../inbox/session.js';
import { tcpaRevocationDeadline } from '../../src/domain/tcpa.js';

const rules = (d: { reasons: { rule: string }[] }) => d.reasons.map((r) => r.rule);

describe('the regime: first-party creditor or collection agency', () => {
  let gw: TestGateway;
  let ana: SessionClient;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'regime-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'regime-lob-webhook-secret',
    });
    ana = await login(gw, await createAgent(gw, 'AGENT', 'Ana'));
  });
  afterAll(async () => gw?.close());

  const send = async (s: { debtorId: string; debtId: string }, body: Record<string, unknown>) => {
    const r = await api(gw).post('/api/v1/outreach', { debtorId: s.debtorId, debtId: s.debtId, ...body });
    if (r.status !== 202) throw new Error(`outreach ${r.status}: ${JSON.stringify(r.body).slice(0, 600)}`);
    return r.body;
  };

  it("a first-party creditor's US messages carry no debt-collector disclosure; an agency's do", async () => {
    const own = await seedDebtor(
      gw,
      {},
      { creditor: { externalRef: 'utility-own', name: 'Own Utility', kind: 'FIRST_PARTY' } },
    );
    const agency = await seedDebtor(gw, {}, { creditor: { externalRef: 'agency-1', name: 'Acme Utilities' } });
    expect((await api(gw).get(`/api/v1/debts/${own.debtId}`)).body.creditor.kind).toBe('FIRST_PARTY');
    expect((await api(gw).get(`/api/v1/debts/${agency.debtId}`)).body.creditor.kind).toBe('AGENCY');
    for (const [s, regime, disclosed] of [
      [own, 'regime.first_party_creditor', false],
      [agency, 'regime.debt_collector', true],
    ] as const) {
      const sms = await send(s, { intent: 'past-due-notice', channel: 'SMS' });
      const email = await send(s, { intent: 'past-due-notice', channel: 'EMAIL' });
      const letter = await send(s, { intent: 'past-due-notice', channel: 'LETTER' });
      for (const r of [sms, email, letter]) {
        expect(rules(r.decision)).toContain(regime);
        const body = (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: r.messageId } })).body;
        expect(/debt collector/i.test(body)).toBe(disclosed);
      }
    }
  });

  it('a creditor becomes first-party through the admin API; the 7-in-7 presumption then no longer holds its calls', async () => {
    const s = await seedDebtor(gw, {}, { creditor: { externalRef: `switch-${Date.now()}`, name: 'Switching Co' } });
    const debt = (await api(gw).get(`/api/v1/debts/${s.debtId}`)).body;
    const history = Array.from({ length: 7 }, (_, i) => ({
      debtId: s.debtId,
      kind: 'call',
      outcome: 'voicemail',
      occurredAt: new Date(Date.now() - (i + 1) * 3_600_000).toISOString(),
      externalRef: `vm-${i}`,
    }));
    expect((await api(gw).post(`/api/v1/debtors/${s.debtorId}/contact-history`, { entries: history })).status).toBe(
      201,
    );
    const asAgency = await send(s, { intent: 'friendly-reminder', channel: 'VOICE' });
    expect(asAgency.outcome).toBe('defer');
    expect(rules(asAgency.decision)).toContain('limit.regf_call_7in7');
    const patched = await api(gw).patch(`/api/v1/creditors/${debt.creditor.id}`, { kind: 'FIRST_PARTY' });
    expect(patched.status).toBe(200);
    expect(patched.body.kind).toBe('FIRST_PARTY');
    const listed = await api(gw).get('/api/v1/creditors');
    expect(listed.body.data.find((c: { id: string }) => c.id === debt.creditor.id).kind).toBe('FIRST_PARTY');
    const asCreditor = await send(s, {
      intent: 'friendly-reminder',
      channel: 'VOICE',
      notBefore: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(rules(asCreditor.decision)).not.toContain('limit.regf_call_7in7');
    expect(rules(asCreditor.decision)).toContain('regime.first_party_creditor');
  });

  it('suit wording about a time-barred debt is refused when rendered; the same words pass on a debt in time', async () => {
    const barred = await seedDebtor(gw, { fullName: 'Tim Barred' }, { timeBarred: true });
    const from = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: barred.phoneId! } })).value;
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({ from, to: gw.ctx.providers.twilio.from, body: 'who is this?' });
    const c = await eventually(
      () => gw.ctx.db.conversation.findUnique({ where: { debtorId: barred.debtorId } }),
      10_000,
      'conversation',
    );
    const threat = 'Pay this week or we will file a lawsuit.';
    const preview = await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/preview`, {
      channel: 'SMS',
      text: threat,
    });
    expect(preview.status).toBe(200);
    expect(preview.body.content).toBeNull();
    expect(preview.body.contentError).toMatchObject({ code: 'forbidden_content' });
    expect(preview.body.contentError.message).toContain('1006.26(b)');
    const reply = await ana.call('POST', `/api/v1/conversations/${c.id}/reply`, { channel: 'SMS', text: threat });
    expect(reply.status).toBe(422);
    expect(reply.body.error).toBe('template_error');
    expect(await gw.ctx.db.message.count({ where: { debtorId: barred.debtorId, direction: 'OUTBOUND' } })).toBe(0);
    // The same debt once it is no longer marked time-barred: the words are an agent's to choose.
    await api(gw).patch(`/api/v1/debts/${barred.debtId}`, { timeBarred: false });
    const fine = await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/preview`, {
      channel: 'SMS',
      text: threat,
    });
    expect(fine.body.contentError).toBeNull();
  });

  it("a time-barred debt in California carries the state's notice in written messages", async () => {
    const s = await seedDebtor(
      gw,
      {
        contactPoints: [
          { kind: 'EMAIL', value: `cal.${Date.now()}@example.net` },
          {
            kind: 'ADDRESS',
            line1: '200 Spring St',
            city: 'Los Angeles',
            region: 'CA',
            postalCode: '90012',
            country: 'US',
          },
        ],
      },
      { timeBarred: true, jurisdiction: 'US-CA', dueDate: '2024-01-15' },
    );
    const r = await send(s, { intent: 'friendly-reminder', channel: 'EMAIL' });
    const body = (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: r.messageId } })).body;
    expect(body).toContain(
      'The law limits how long you can be sued on a debt. Because of the age of your debt, we will not sue you for it.',
    );
    expect(body).toMatch(/may continue to report it to the credit reporting agencies/);
  });

  it('a revocation shows the immediate suppression and the TCPA deadline of 10 business days', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).patch(`/api/v1/contact-points/${s.phoneId}`, { consents: { SMS: 'REVOKED' } });
    expect(r.status).toBe(200);
    const sms = r.body.consents.SMS;
    expect(sms.state).toBe('REVOKED');
    expect(sms.revocation).toMatchObject({
      honouredAt: sms.changedAt,
      legalDeadline: tcpaRevocationDeadline(new Date(sms.changedAt)),
      rule: '47 CFR 64.1200(a)(10)',
    });
    // The deadline counts business days: weekends and federal holidays do not count.
    expect(tcpaRevocationDeadline(new Date('2026-12-18T15:00:00Z'))).toBe('2027-01-05'); // Christmas and New Year's Day skipped
    expect(tcpaRevocationDeadline(new Date('2026-06-01T15:00:00Z'))).toBe('2026-06-15'); // Juneteenth is after it
    expect(tcpaRevocationDeadline(new Date('2026-06-10T15:00:00Z'))).toBe('2026-06-25'); // Juneteenth (Fri 19th) skipped
  });
});

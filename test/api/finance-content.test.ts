// Issue 17 "correct content, no silent failures", through the API: wording by
// the debt's state, audiences that compare money within one currency, ISO 4217
// currencies, debts that cannot change debtor by upsert, every jurisdiction the
// router knows accepted by the templates, and a step without a template for its
// channel refused with a named reason in the results instead of retried for ever.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

const DAY_MS = 86_400_000;
const isoDaysFromToday = (n: number) => new Date(Date.now() + n * DAY_MS).toISOString().slice(0, 10);

describe('finance: correct content and no silent failures', () => {
  let gw: TestGateway;
  const message = async (id: string) => (await api(gw).get(`/api/v1/messages/${id}`)).body;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'finance-twilio-token-123456',
    });
  });
  afterAll(async () => gw?.close());

  it('refuses a currency that is not ISO 4217, naming the field and the reason', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/debts', {
      externalRef: 'INV-XYZ',
      creditor: { externalRef: 'acme', name: 'Acme Utilities' },
      debtorId: s.debtorId,
      originalAmount: '10.00',
      currency: 'XYZ',
      dueDate: '2026-10-01',
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/currency/);
    expect(JSON.stringify(r.body)).toMatch(/not an ISO 4217 currency code/);
    // A real code still goes through.
    const ok = await api(gw).post('/api/v1/debts', {
      externalRef: 'INV-JPY',
      creditor: { externalRef: 'acme', name: 'Acme Utilities' },
      debtorId: s.debtorId,
      originalAmount: '1000',
      currency: 'JPY',
      dueDate: '2026-10-01',
    });
    expect(ok.status).toBe(201);
  });

  it('refuses to move a debt to another debtor by upsert (409 with the reason), and keeps it where it was', async () => {
    const a = await seedDebtor(gw, {}, { externalRef: 'INV-MOVE-1' });
    const b = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/debts', {
      externalRef: 'INV-MOVE-1',
      creditor: { externalRef: 'acme', name: 'Acme Utilities' },
      debtorId: b.debtorId,
      originalAmount: '1250.00',
      currency: 'USD',
      dueDate: '2026-10-01',
    });
    expect(r.status).toBe(409);
    expect(r.body.message).toMatch(/belongs to another debtor/);
    expect((await api(gw).get(`/api/v1/debts/${a.debtId}`)).body.debtorId).toBe(a.debtorId);
    // The same debtor may still update its own debt.
    const same = await api(gw).post('/api/v1/debts', {
      externalRef: 'INV-MOVE-1',
      creditor: { externalRef: 'acme', name: 'Acme Utilities' },
      debtorId: a.debtorId,
      originalAmount: '1250.00',
      balance: '1000.00',
      currency: 'USD',
      dueDate: '2026-10-01',
    });
    expect(same.status).toBe(200);
  });

  it('words a friendly reminder by the debt state: overdue by N days, due today, due soon', async () => {
    const cases: [number, RegExp][] = [
      [-150, /was due on .* and is now 150 days overdue/],
      [0, /is due today/],
      [5, /is due on /],
    ];
    for (const [offset, expected] of cases) {
      const s = await seedDebtor(gw, {}, { dueDate: isoDaysFromToday(offset) });
      const r = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
      });
      expect(r.status).toBe(202);
      const m = await eventually(
        async () => {
          const x = await message(r.body.messageId);
          return x.body ? x : null;
        },
        20_000,
        'the rendered message',
      );
      expect(m.body).toMatch(expected);
      if (offset < 0) expect(m.body).not.toMatch(/is due on/);
    }
  });

  it('renders for a US-NY-NYC debtor (the template layer accepts every jurisdiction the router knows)', async () => {
    for (const jurisdiction of ['US-NY-NYC', 'US-MA', 'US-WA', 'CA-ON', 'GB', 'IN']) {
      // The renderer itself takes the code (it once refused "US-NY-NYC" as "not an ISO 3166 code").
      expect(
        gw.ctx.templates.render({
          intent: 'friendly-reminder',
          channel: 'sms',
          locale: 'en',
          firstCommunication: true,
          jurisdiction,
          vars: {
            debtorName: 'A',
            companyName: 'B',
            creditorName: 'C',
            amount: '10.00',
            currency: 'USD',
            dueDate: '2026-01-01',
            daysPastDue: 3,
            paymentLink: 'https://pay.example/x',
          },
        }).channel,
      ).toBe('sms');
      const s = await seedDebtor(gw, { jurisdiction });
      const r = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'EMAIL',
      });
      expect(JSON.stringify(r.body)).not.toMatch(/ISO 3166/);
      // Either a reminder or a refusal that names the rule (NYC: written consent for email); never a template error.
      expect(r.body.error).not.toBe('template_error');
      if (r.status === 202) expect(r.body.messageId).toBeTruthy();
      else {
        expect([r.status, r.body.error]).toEqual([422, 'refused']);
        if (jurisdiction === 'US-NY-NYC') expect(r.body.message).toMatch(/nyc/);
      }
    }
  });

  it('compares an audience balance within one currency: INR 100 is not in "USD over 100"', async () => {
    const creditor = { externalRef: 'fx-co', name: 'FX Co' };
    const usd = await seedDebtor(gw, {}, { creditor, originalAmount: '150.00', currency: 'USD' });
    const inr = await seedDebtor(gw, {}, { creditor, originalAmount: '150.00', currency: 'INR' });
    // Without a currency the band is refused, naming the field.
    const bad = await api(gw).post('/api/v1/campaigns', {
      name: 'no currency',
      audience: { creditorRefs: ['fx-co'], balance: { min: '100' } },
      steps: [{ offsetDays: 0, intent: 'friendly-reminder', channel: 'EMAIL' }],
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/audience\.balance\.currency|"currency"/);
    const c = await api(gw).post('/api/v1/campaigns', {
      name: 'USD over 100',
      audience: { creditorRefs: ['fx-co'], balance: { min: '100', currency: 'USD' } },
      steps: [{ offsetDays: 0, intent: 'friendly-reminder', channel: 'EMAIL' }],
    });
    expect(c.status).toBe(201);
    expect((await api(gw).post(`/api/v1/campaigns/${c.body.id}/start`)).status).toBe(200);
    const enrolled = await eventually(
      async () => {
        const rows = await gw.ctx.db.campaignEnrollment.findMany({ where: { campaignId: c.body.id } });
        return rows.length ? rows : null;
      },
      20_000,
      'enrolment',
    );
    expect(enrolled.map((e) => e.debtId)).toEqual([usd.debtId]);
    expect(enrolled.map((e) => e.debtId)).not.toContain(inr.debtId);
  });

  it('refuses a step whose channel has no template for its intent, with the reason in the results, and moves on', async () => {
    // friendly-reminder ships no letter: the step cannot be rendered for anyone.
    await seedDebtor(gw, { tags: ['no-template'] });
    const c = await api(gw).post('/api/v1/campaigns', {
      name: 'letter reminder',
      audience: { tags: ['no-template'] },
      steps: [{ offsetDays: 0, intent: 'friendly-reminder', channel: 'LETTER' }],
    });
    expect(c.status).toBe(201);
    expect((await api(gw).post(`/api/v1/campaigns/${c.body.id}/start`)).status).toBe(200);
    const results = await eventually(
      async () => {
        const r = await api(gw).get(`/api/v1/campaigns/${c.body.id}/results`);
        return r.body.steps?.[0]?.refused?.total === 1 ? r.body : null;
      },
      45_000,
      'the refused step in the results',
    );
    expect(Object.keys(results.steps[0].refused.byReason)).toEqual(['template.unknown_template']);
    const e = await gw.ctx.db.campaignEnrollment.findFirstOrThrow({ where: { campaignId: c.body.id } });
    // Not left ACTIVE with a retry in five minutes: the one-step campaign is done for this debt.
    expect(e.status === 'COMPLETED' || e.nextStepAt === null).toBe(true);
  });
});

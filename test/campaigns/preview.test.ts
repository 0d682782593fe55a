// A draft campaign's preview counts exactly the debts that starting it enrols,
// broken down by jurisdiction, preferred channel, currency and balance band.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('campaign preview', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox' });
  });
  afterAll(async () => gw?.close());

  it('counts and breaks down the audience, and the started campaign enrols the same debts', async () => {
    const creditor = { externalRef: 'preview-co', name: 'Preview Co' };
    await seedDebtor(
      gw,
      { jurisdiction: 'US-NY-NYC', preferences: { channelOrder: ['EMAIL'] } },
      { creditor, originalAmount: '50.00' },
    );
    await seedDebtor(gw, { jurisdiction: 'US-MA' }, { creditor, originalAmount: '750.00' });
    const two = await seedDebtor(gw, { jurisdiction: 'GB' }, { creditor, originalAmount: '6000.00', currency: 'GBP' });
    await api(gw).post('/api/v1/debts', {
      externalRef: 'PV-2',
      creditor,
      debtorId: two.debtorId,
      originalAmount: '120.00',
      currency: 'GBP',
      dueDate: '2026-10-01',
    });
    await seedDebtor(gw, {}, { creditor: { externalRef: 'elsewhere', name: 'Elsewhere' } }); // outside the audience

    const c = await api(gw).post('/api/v1/campaigns', {
      name: 'preview',
      audience: { creditorRefs: ['preview-co'] },
      steps: [{ offsetDays: 0, intent: 'friendly-reminder', channel: 'EMAIL' }],
    });
    expect(c.status).toBe(201);
    const p = await api(gw).get(`/api/v1/campaigns/${c.body.id}/preview`);
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({
      status: 'DRAFT',
      count: 4,
      debtors: 3,
      byJurisdiction: { 'US-NY-NYC': 1, 'US-MA': 1, GB: 2 },
      byPreferredChannel: { EMAIL: 1, none: 3 },
      byCurrency: { USD: { debts: 2, balance: '800.00' }, GBP: { debts: 2, balance: '6120.00' } },
      byBalanceBand: { 'USD under 100': 1, 'USD 500–1000': 1, 'GBP 100–500': 1, 'GBP 5000 and over': 1 },
    });

    expect((await api(gw).post(`/api/v1/campaigns/${c.body.id}/start`)).status).toBe(200);
    const enrolled = await eventually(
      async () => {
        const n = await gw.ctx.db.campaignEnrollment.count({ where: { campaignId: c.body.id } });
        return n > 0 ? n : null;
      },
      20_000,
      'enrolment',
    );
    expect(enrolled).toBe(p.body.count);
  });

  it('is 404 for an unknown campaign', async () => {
    expect((await api(gw).get('/api/v1/campaigns/00000000-0000-4000-8000-000000000000/preview')).status).toBe(404);
  });
});

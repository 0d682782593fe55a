import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, startTestGateway, type TestGateway } from '../support/gateway.js';
import { CAMPAIGN_RECUR_JOB, startCampaign } from '../../src/campaigns/control.js';
import { completeIfDone, enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { chicagoPhone, seed, todayAtUtc } from './seed.js';

const DAY = 86_400_000;
const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';

describe('recurring (cron) campaigns', () => {
  let gw: TestGateway;
  const system = { type: 'system' as const };
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY });
    await seed(
      gw.ctx.db,
      Array.from({ length: 3 }, (_, i) => ({
        ref: `R${i}`,
        debts: [`R${i}-1`],
        phone: chicagoPhone(i),
        creditor: 'REC',
      })),
    );
  });
  afterAll(async () => gw?.close());

  it('each run enrols only the debts that newly match; active and finished enrolments are not enrolled again', async () => {
    const t1 = new Date(todayAtUtc(17).getTime() + DAY);
    const campaign = await gw.ctx.db.campaign.create({
      data: {
        name: 'monthly',
        cron: '0 9 1 * *',
        audience: { creditorRefs: ['REC'] },
        stopConditions: ['PAID'],
        steps: {
          create: [
            { position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' },
            { position: 2, offsetDays: 10, intent: 'past-due-notice', channel: 'SMS' },
          ],
        },
      },
    });
    await startCampaign(gw.ctx, campaign.id, system, { schedule: false });
    expect(await enrolAudience(gw.ctx, campaign.id, { now: t1 })).toBe(3);
    expect((await runDueSteps(gw.ctx, campaign.id, { now: t1 })).queued).toBe(3);
    const first = await gw.ctx.db.campaignEnrollment.findMany({
      where: { campaignId: campaign.id },
      orderBy: { id: 'asc' },
    });

    // A month later: two new debts (one of an existing debtor), the old ones still active at step 2.
    await seed(gw.ctx.db, [
      { ref: 'R0', debts: ['R0-2'], phone: chicagoPhone(0), creditor: 'REC' },
      { ref: 'R9', debts: ['R9-1'], phone: chicagoPhone(9), creditor: 'REC' },
    ]);
    const t2 = new Date(t1.getTime() + 30 * DAY);
    expect(await enrolAudience(gw.ctx, campaign.id, { now: t2 })).toBe(2);
    const after = await gw.ctx.db.campaignEnrollment.findMany({ where: { campaignId: campaign.id } });
    expect(after).toHaveLength(5);
    for (const e of first)
      expect(after.find((x) => x.id === e.id)).toMatchObject({
        enrolledAt: e.enrolledAt,
        nextStep: 2,
        status: 'ACTIVE',
      });
    expect(
      after
        .filter((e) => e.enrolledAt.getTime() === t2.getTime())
        .map((e) => e.debtId)
        .sort(),
    ).toEqual(
      (await gw.ctx.db.debt.findMany({ where: { externalRef: { in: ['R0-2', 'R9-1'] } } })).map((d) => d.id).sort(),
    );

    // Everybody finishes; the next run enrols nobody again, and a cron campaign never completes by itself.
    const t3 = new Date(t2.getTime() + 20 * DAY);
    await runDueSteps(gw.ctx, campaign.id, { now: t2 });
    await runDueSteps(gw.ctx, campaign.id, { now: t3 });
    expect(await gw.ctx.db.campaignEnrollment.count({ where: { campaignId: campaign.id, status: 'ACTIVE' } })).toBe(0);
    expect(await enrolAudience(gw.ctx, campaign.id, { now: new Date(t3.getTime() + 30 * DAY) })).toBe(0);
    expect(await completeIfDone(gw.ctx, campaign.id, t3)).toBe(false);
    expect((await gw.ctx.db.campaign.findUniqueOrThrow({ where: { id: campaign.id } })).status).toBe('ACTIVE');
  });

  it('the Agenda recurrence job is created with the campaign’s cron and enrols new debts when it runs', async () => {
    const res = await fetch(`${gw.url}/api/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'weekly',
        cron: '0 9 * * 1',
        audience: { creditorRefs: ['JOB'] },
        steps: [{ offsetDays: 30, intent: 'friendly-reminder', channel: 'SMS' }],
      }),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    await gw.ctx.db.campaign.update({ where: { id }, data: { status: 'DRAFT' } });
    await seed(gw.ctx.db, [{ ref: 'J1', debts: ['J1-1'], phone: chicagoPhone(50), creditor: 'JOB' }]);
    expect(
      (
        await fetch(`${gw.url}/api/v1/campaigns/${id}/start`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
        })
      ).status,
    ).toBe(200);
    await eventually(
      async () => (await gw.ctx.db.campaignEnrollment.count({ where: { campaignId: id } })) === 1,
      20_000,
      'the start job to enrol the first debt',
    );
    const { jobs } = await gw.ctx.scheduler.queryJobs({ name: CAMPAIGN_RECUR_JOB });
    const recur = jobs.find((j) => (j.data as { campaignId?: string }).campaignId === id);
    expect(recur?.repeatInterval).toBe('0 9 * * 1');

    await seed(gw.ctx.db, [{ ref: 'J2', debts: ['J2-1'], phone: chicagoPhone(51), creditor: 'JOB' }]);
    // Run the recurrence now instead of waiting for Monday 09:00.
    await gw.ctx.scheduler.now(CAMPAIGN_RECUR_JOB, { campaignId: id });
    await eventually(
      async () => (await gw.ctx.db.campaignEnrollment.count({ where: { campaignId: id } })) === 2,
      20_000,
      'the recurrence to enrol the new debt',
    );
    const perDebt = await gw.ctx.db.campaignEnrollment.groupBy({
      by: ['debtId'],
      where: { campaignId: id },
      _count: { _all: true },
    });
    expect(perDebt.every((g) => g._count._all === 1)).toBe(true);
  });
});

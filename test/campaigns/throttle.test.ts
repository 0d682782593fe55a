import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startCampaign } from '../../src/campaigns/control.js';
import { enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { parseChannelRates, PROVIDER_RATE_LIMITS_VAR, ThrottleConfigError } from '../../src/campaigns/rates.js';
import { chicagoPhone, seed, todayAtUtc } from './seed.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

function perMinute(messages: { scheduledAt: Date | null }[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of messages) {
    const k = Math.floor(m.scheduledAt!.getTime() / MINUTE);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

describe('throttle: messages per minute per channel', () => {
  let gw: TestGateway;
  // 11:00 in Chicago tomorrow: planned, not yet due for the real dispatcher.
  const now = new Date(todayAtUtc(17).getTime() + DAY);
  const system = { type: 'system' as const };

  beforeAll(async () => {
    // The provider's SMS limit, shared by every campaign.
    gw = await startTestGateway({ [PROVIDER_RATE_LIMITS_VAR]: 'SMS=5' });
    await seed(gw.ctx.db, [
      ...Array.from({ length: 14 }, (_, i) => ({
        ref: `A${i}`,
        debts: [`A${i}-1`],
        phone: chicagoPhone(i),
        email: `a${i}@example.com`,
        creditor: 'CA',
      })),
      ...Array.from({ length: 14 }, (_, i) => ({
        ref: `B${i}`,
        debts: [`B${i}-1`],
        phone: chicagoPhone(100 + i),
        creditor: 'CB',
      })),
    ]);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('validates the provider limits, naming the variable and the problem', () => {
    expect(parseChannelRates('sms=600, EMAIL=1200')).toEqual({ SMS: 600, EMAIL: 1200 });
    expect(parseChannelRates('')).toEqual({});
    expect(() => parseChannelRates('FAX=1')).toThrow(ThrottleConfigError);
    expect(() => parseChannelRates('SMS=0')).toThrow(/PROVIDER_RATE_LIMITS: SMS must be a whole number/);
    expect(() => parseChannelRates('SMS=abc')).toThrow(/got "abc"/);
  });

  it('two campaigns planned at once never exceed the provider limit in any minute, nor their own', async () => {
    const create = (name: string, creditor: string, throttle: Record<string, number>) =>
      gw.ctx.db.campaign.create({
        data: {
          name,
          audience: { creditorRefs: [creditor] },
          stopConditions: ['PAID'],
          throttle,
          steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
        },
      });
    const a = await create('A', 'CA', { SMS: 3 });
    const b = await create('B', 'CB', {});
    for (const c of [a, b]) {
      await startCampaign(gw.ctx, c.id, system, { schedule: false });
      expect(await enrolAudience(gw.ctx, c.id, { now })).toBe(14);
    }
    // Both waves at the same clock, concurrently, in small batches (many transactions interleave).
    const [ra, rb] = await Promise.all([
      runDueSteps(gw.ctx, a.id, { now, batchSize: 4 }),
      runDueSteps(gw.ctx, b.id, { now, batchSize: 4 }),
    ]);
    expect([ra.processed, ra.errors, rb.processed, rb.errors]).toEqual([14, 0, 14, 0]);

    const all = await gw.ctx.db.message.findMany({
      where: { channel: 'SMS', campaignId: { in: [a.id, b.id] } },
      select: { scheduledAt: true, campaignId: true },
    });
    expect(all).toHaveLength(28);
    const minutes = perMinute(all);
    expect(Math.max(...minutes.values())).toBe(5); // full minutes, never more
    expect(minutes.size).toBeGreaterThanOrEqual(Math.ceil(28 / 5));
    expect(Math.max(...perMinute(all.filter((m) => m.campaignId === a.id)).values())).toBeLessThanOrEqual(3);
    // Nothing is planned before the clock.
    expect(all.every((m) => m.scheduledAt!.getTime() >= now.getTime())).toBe(true);
    const runs = await gw.ctx.db.campaignStepRun.findMany({
      where: { enrollment: { campaignId: { in: [a.id, b.id] } } },
    });
    expect(runs.filter((r) => r.reasons.includes('throttle')).length).toBeGreaterThan(0);
  });

  it('a later wave counts what earlier waves already placed in a minute', async () => {
    await seed(
      gw.ctx.db,
      Array.from({ length: 3 }, (_, i) => ({
        ref: `C${i}`,
        debts: [`C${i}-1`],
        phone: chicagoPhone(200 + i),
        creditor: 'CC',
      })),
    );
    const c = await gw.ctx.db.campaign.create({
      data: {
        name: 'C',
        audience: { creditorRefs: ['CC'] },
        stopConditions: ['PAID'],
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
    });
    await startCampaign(gw.ctx, c.id, system, { schedule: false });
    await enrolAudience(gw.ctx, c.id, { now });
    expect((await runDueSteps(gw.ctx, c.id, { now })).processed).toBe(3);
    const all = await gw.ctx.db.message.findMany({
      where: { channel: 'SMS', direction: 'OUTBOUND' },
      select: { scheduledAt: true },
    });
    expect(all).toHaveLength(31);
    expect(Math.max(...perMinute(all).values())).toBe(5);
  });
});

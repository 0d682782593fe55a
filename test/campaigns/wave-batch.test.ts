import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { loadSnapshot } from '../../src/outbound/snapshot.js';
import { addSuppression } from '../../src/domain/suppressions.js';
import { requestOutreach } from '../../src/outbound/service.js';
import { loadBatchDebts, loadBatchSnapshots } from '../../src/campaigns/snapshots.js';
import { audienceSql, audienceWhere } from '../../src/campaigns/audience.js';
import { startCampaign } from '../../src/campaigns/control.js';
import { enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { planBatch } from '../../src/campaigns/wave-batch.js';
import { CAMPAIGN_DISPATCH_JOB } from '../../src/campaigns/dispatch.js';
import type { Audience } from '../../src/campaigns/schemas.js';
import type { RouterSnapshot } from '../../src/router/index.js';
import { chicagoPhone, seed, todayAtUtc } from './seed.js';

const DAY = 86_400_000;
// Contact points created in one statement tie on createdAt, where loadSnapshot's order is undefined: compare by id.
const byAt = (s: RouterSnapshot) => ({
  ...s,
  contactPoints: [...s.contactPoints].sort((a, b) => a.id.localeCompare(b.id)),
  history: [...s.history].sort(
    (a, b) => a.at.getTime() - b.at.getTime() || String(a.channel).localeCompare(String(b.channel)),
  ),
  debts: [...s.debts].sort((a, b) => a.id.localeCompare(b.id)),
});

describe('wave batches', () => {
  let gw: TestGateway;
  // 11:00 in Chicago tomorrow: what the wave plans is not yet due for the real dispatcher.
  const now = new Date(todayAtUtc(17).getTime() + DAY);
  const system = { type: 'system' as const };

  beforeAll(async () => {
    gw = await startTestGateway();
    await seed(gw.ctx.db, [
      { ref: 'A', debts: ['A-1', 'A-2'], phone: chicagoPhone(1), email: 'a@example.com' },
      { ref: 'B', debts: ['B-1'], phone: chicagoPhone(2), tags: 'vip' },
      { ref: 'C', debts: ['C-1'], phone: chicagoPhone(3), creditor: 'OTHER' },
      ...Array.from({ length: 12 }, (_, i) => ({
        ref: `L${i}`,
        debts: [`L${i}-1`, `L${i}-2`],
        phone: chicagoPhone(10 + i),
        creditor: 'LIMITS',
      })),
      ...Array.from({ length: 10 }, (_, i) => ({
        ref: `P${i}`,
        debts: [`P${i}-1`],
        phone: chicagoPhone(40 + i),
        creditor: 'PIPELINE',
      })),
    ]);
    // History and preferences for the snapshot comparison.
    const a = await gw.ctx.db.debtor.findUniqueOrThrow({ where: { externalRef: 'A' } });
    await gw.ctx.db.contactPreferences.create({
      data: {
        debtorId: a.id,
        channelOrder: ['EMAIL', 'SMS'],
        contactLimits: { SMS: { max: 1, days: 7 } },
        inconvenientTimes: [{ days: [1], from: '08:00', to: '09:00' }],
      },
    });
    const debt = await gw.ctx.db.debt.findFirstOrThrow({ where: { debtorId: a.id } });
    // Reserved for a week ahead: the real dispatcher (on the wall clock) leaves it alone while the loaders are compared.
    await requestOutreach(
      gw.ctx,
      {
        debtorId: a.id,
        debtId: debt.id,
        intent: 'friendly-reminder',
        channel: 'EMAIL',
        now: new Date(now.getTime() - 2 * DAY),
        notBefore: new Date(now.getTime() + 7 * DAY),
      },
      system,
    );
    await gw.ctx.db.debt.update({
      where: { id: debt.id },
      data: { lastPhoneConversationAt: new Date(now.getTime() - DAY) },
    });
  });
  afterAll(async () => gw?.close());

  it('loads the same router snapshots for a batch as loadSnapshot does one by one', async () => {
    const debtors = await gw.ctx.db.debtor.findMany({ select: { id: true } });
    // One of A's phones is on the suppression list: both loaders must carry it to the router.
    const aPhone = await gw.ctx.db.contactPoint.findFirstOrThrow({
      where: { debtor: { externalRef: 'A' }, kind: 'PHONE' },
    });
    await addSuppression(gw.ctx.db, {
      channel: 'SMS',
      address: aPhone.value,
      reason: 'STOP before on file',
      source: 'test',
    });
    const { snapshots, debtors: rows } = await loadBatchSnapshots(
      gw.ctx.db,
      [...debtors.map((d) => d.id), debtors[0]!.id],
      now,
    );
    expect(snapshots.size).toBe(debtors.length);
    expect(rows.size).toBe(debtors.length);
    for (const { id } of debtors) {
      const single = (await loadSnapshot(gw.ctx.db, id, now))!;
      expect(byAt(snapshots.get(id)!)).toEqual(byAt(single));
    }
    const a = await gw.ctx.db.debtor.findUniqueOrThrow({ where: { externalRef: 'A' } });
    // the comparison is not vacuous: history, preferences and the conversation entry are there
    expect(
      snapshots
        .get(a.id)!
        .history.map((h) => h.kind)
        .sort(),
    ).toEqual(['conversation', 'email']);
    expect(snapshots.get(a.id)!.preferences?.channelOrder).toEqual(['EMAIL', 'SMS']);
    expect(snapshots.get(a.id)!.contactPoints.find((c) => c.id === aPhone.id)?.suppressions).toEqual({
      SMS: 'STOP before on file',
    });
  });

  it('reads the batch debts with their creditors exactly as Prisma returns them', async () => {
    // Rendering takes these rows: amounts (Decimal), the DATE due date and every other field must match Prisma's mapping.
    const a = await gw.ctx.db.debtor.findUniqueOrThrow({ where: { externalRef: 'A' } });
    const debt = await gw.ctx.db.debt.findFirstOrThrow({ where: { debtorId: a.id } });
    await gw.ctx.db.debt.update({
      where: { id: debt.id },
      data: { balance: '1234.5678', paymentLink: 'https://pay.example/x', tags: ['t1', 't2'] },
    });
    const viaPrisma = await gw.ctx.db.debt.findMany({ include: { creditor: true } });
    const viaSql = await loadBatchDebts(gw.ctx.db, [...viaPrisma.map((d) => d.id), viaPrisma[0]!.id]);
    expect(viaSql.size).toBe(viaPrisma.length);
    for (const d of viaPrisma) {
      const raw = viaSql.get(d.id)!;
      expect({ ...raw, balance: raw.balance.toString(), originalAmount: raw.originalAmount.toString() }).toEqual({
        ...d,
        balance: d.balance.toString(),
        originalAmount: d.originalAmount.toString(),
      });
    }
    expect(viaSql.get(debt.id)!.balance.toFixed(2)).toBe('1234.57');
  });

  it('selects the same debts with the SQL audience as with the Prisma one', async () => {
    const audiences: Audience[] = [
      {},
      { creditorRefs: ['OTHER'] },
      { tags: ['vip'] },
      { balance: { min: '100', max: '200' }, daysPastDue: { min: 1 } },
      { daysPastDue: { max: 5 } },
      { jurisdictions: ['US'] },
      { jurisdictions: ['IN'] },
      { status: ['PAID'] },
      { noContactDays: 30 },
    ];
    const campaignId = '00000000-0000-4000-8000-000000000000';
    for (const audience of audiences) {
      const viaPrisma = (
        await gw.ctx.db.debt.findMany({ where: audienceWhere(audience, campaignId, now), select: { id: true } })
      )
        .map((d) => d.id)
        .sort();
      const viaSql = (
        await gw.ctx.db.$queryRaw<
          { id: string }[]
        >`SELECT d.id::text AS id FROM debts d WHERE ${audienceSql(audience, campaignId, now)}`
      )
        .map((d) => d.id)
        .sort();
      expect([audience, viaSql]).toEqual([audience, viaPrisma]);
    }
  });

  it('keeps contact limits across debts of one debtor in a batch and against concurrent sends', async () => {
    // Every LIMITS debtor may get one SMS per 7 days; each has two debts in the campaign.
    const limited = await gw.ctx.db.debtor.findMany({ where: { externalRef: { startsWith: 'L' } } });
    for (const d of limited)
      await gw.ctx.db.contactPreferences.create({
        data: { debtorId: d.id, contactLimits: { SMS: { max: 1, days: 7 } } },
      });
    const campaign = await gw.ctx.db.campaign.create({
      data: {
        name: 'limits',
        audience: { creditorRefs: ['LIMITS'] },
        stopConditions: ['PAID'],
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
    });
    await startCampaign(gw.ctx, campaign.id, system, { schedule: false });
    expect(await enrolAudience(gw.ctx, campaign.id, { now })).toBe(24);
    // An agent's send to half of them races the wave; the debtor lock serialises the two.
    const racing = limited.slice(0, 6);
    const [wave, ...direct] = await Promise.all([
      runDueSteps(gw.ctx, campaign.id, { now, batchSize: 8 }),
      ...racing.map(async (d) => {
        const debt = await gw.ctx.db.debt.findFirstOrThrow({ where: { debtorId: d.id } });
        return requestOutreach(
          gw.ctx,
          { debtorId: d.id, debtId: debt.id, intent: 'friendly-reminder', channel: 'SMS', now },
          system,
        );
      }),
    ]);
    expect(wave.processed).toBe(24);
    expect(wave.errors).toBe(0);
    expect(direct.every((r) => r.outcome !== 'refuse')).toBe(true);
    // At most one SMS per debtor goes out in the 7 days from now; every other one is deferred past them.
    for (const d of limited) {
      const sms = await gw.ctx.db.message.findMany({
        where: { debtorId: d.id, channel: 'SMS', status: { not: 'CANCELLED' } },
        orderBy: { scheduledAt: 'asc' },
      });
      expect(sms.length).toBeGreaterThanOrEqual(2);
      const inWeek = sms.filter((m) => m.scheduledAt!.getTime() < now.getTime() + 7 * DAY);
      expect([d.externalRef, inWeek.length]).toEqual([d.externalRef, 1]);
    }
    const runs = await gw.ctx.db.campaignStepRun.findMany({ where: { enrollment: { campaignId: campaign.id } } });
    expect(runs).toHaveLength(24);
    expect(
      runs.filter((r) => r.outcome === 'deferred').every((r) => r.reasons.includes('limit.debtor_preference')),
    ).toBe(true);
    expect(runs.filter((r) => r.outcome === 'deferred').length).toBeGreaterThanOrEqual(12);
    // Timeline: every message has its own consecutive sequence number in its conversation.
    const events = await gw.ctx.db.conversationEvent.findMany({
      where: { conversation: { debtorId: { in: limited.map((d) => d.id) } } },
    });
    const byConversation = new Map<string, number[]>();
    for (const e of events)
      byConversation.set(e.conversationId, [...(byConversation.get(e.conversationId) ?? []), e.seq]);
    for (const seqs of byConversation.values()) expect(seqs.sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i + 1));
    // Running the wave again changes nothing (every run is recorded once).
    expect((await runDueSteps(gw.ctx, campaign.id, { now })).processed).toBe(0);
  });

  it('plans batches side by side: a debtor in two batches at once is planned once, then again on what the first wrote', async () => {
    // Ten debtors with two debts each, one SMS per 7 days allowed. Every first
    // debt is due a minute before every second one, so with batches of ten the
    // two batches planned at once hold the same ten debtors.
    await seed(
      gw.ctx.db,
      Array.from({ length: 10 }, (_, i) => ({
        ref: `S${i}`,
        debts: [`S${i}-1`, `S${i}-2`],
        phone: chicagoPhone(60 + i),
        creditor: 'SIDE',
      })),
    );
    const debtors = await gw.ctx.db.debtor.findMany({ where: { externalRef: { startsWith: 'S' } } });
    for (const d of debtors)
      await gw.ctx.db.contactPreferences.create({
        data: { debtorId: d.id, contactLimits: { SMS: { max: 1, days: 7 } } },
      });
    const campaign = await gw.ctx.db.campaign.create({
      data: {
        name: 'side by side',
        audience: { creditorRefs: ['SIDE'] },
        stopConditions: ['PAID'],
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
    });
    await startCampaign(gw.ctx, campaign.id, system, { schedule: false });
    expect(await enrolAudience(gw.ctx, campaign.id, { now })).toBe(20);
    await gw.ctx.db.$executeRaw`
      UPDATE campaign_enrollments e SET next_step_at = ${now}::timestamptz - (CASE WHEN d.external_ref LIKE '%-1' THEN 2 ELSE 1 END) * interval '1 minute'
        FROM debts d WHERE d.id = e.debt_id AND e.campaign_id = ${campaign.id}::uuid`;

    const wave = await runDueSteps(gw.ctx, campaign.id, { now, batchSize: 10, concurrency: 2 });
    expect([wave.processed, wave.errors, wave.remainingDue]).toEqual([20, 0, 0]);
    // Whichever batch took a debtor's lock first sent at once; the other saw that message and deferred past the week.
    for (const d of debtors) {
      const sms = await gw.ctx.db.message.findMany({
        where: { debtorId: d.id, channel: 'SMS' },
        orderBy: { scheduledAt: 'asc' },
      });
      expect([
        d.externalRef,
        sms.length,
        sms.filter((m) => m.scheduledAt!.getTime() < now.getTime() + 7 * DAY).length,
      ]).toEqual([d.externalRef, 2, 1]);
    }
    const runs = await gw.ctx.db.campaignStepRun.findMany({ where: { enrollment: { campaignId: campaign.id } } });
    expect(runs.map((r) => r.outcome).sort()).toEqual([...Array(10).fill('deferred'), ...Array(10).fill('queued')]);
    expect(
      runs.filter((r) => r.outcome === 'deferred').every((r) => r.reasons.includes('limit.debtor_preference')),
    ).toBe(true);
    // Each conversation's timeline: seqs 1 and 2, none shared, none skipped.
    const events = await gw.ctx.db.conversationEvent.findMany({
      where: { conversation: { debtorId: { in: debtors.map((d) => d.id) } } },
    });
    const byConversation = new Map<string, number[]>();
    for (const e of events)
      byConversation.set(e.conversationId, [...(byConversation.get(e.conversationId) ?? []), e.seq]);
    expect(byConversation.size).toBe(10);
    for (const seqs of byConversation.values()) expect(seqs.sort((a, b) => a - b)).toEqual([1, 2]);
  });

  it('keeps a campaign’s own throttle when its batches are planned at the same time (its lock is exclusive then)', async () => {
    await seed(
      gw.ctx.db,
      Array.from({ length: 8 }, (_, i) => ({
        ref: `T${i}`,
        debts: [`T${i}-1`],
        phone: chicagoPhone(80 + i),
        creditor: 'THROTTLED',
      })),
    );
    const created = await gw.ctx.db.campaign.create({
      data: {
        name: 'throttled',
        audience: { creditorRefs: ['THROTTLED'] },
        stopConditions: ['PAID'],
        throttle: { SMS: 2 },
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
    });
    await startCampaign(gw.ctx, created.id, system, { schedule: false });
    expect(await enrolAudience(gw.ctx, created.id, { now })).toBe(8);
    const campaign = await gw.ctx.db.campaign.findUniqueOrThrow({
      where: { id: created.id },
      include: { steps: { orderBy: { position: 'asc' } } },
    });
    const due = await gw.ctx.db.campaignEnrollment.findMany({
      where: { campaignId: campaign.id },
      select: { id: true, debtorId: true },
    });
    // Four transactions at once (as two processes' waves could run them), no provider limit: only the campaign lock orders them.
    const chunks = [0, 2, 4, 6].map((i) => due.slice(i, i + 2));
    const results = await Promise.all(chunks.map((chunk) => planBatch(gw.ctx, campaign, chunk, now, {})));
    expect(results.reduce((n, r) => n + r.counts.queued + r.counts.deferred, 0)).toBe(8);
    const sms = await gw.ctx.db.message.findMany({ where: { campaignId: campaign.id }, select: { scheduledAt: true } });
    const perMinute = new Map<number, number>();
    for (const m of sms)
      perMinute.set(
        Math.floor(m.scheduledAt!.getTime() / 60_000),
        (perMinute.get(Math.floor(m.scheduledAt!.getTime() / 60_000)) ?? 0) + 1,
      );
    expect(sms).toHaveLength(8);
    expect([...perMinute.values()]).toEqual([2, 2, 2, 2]);
  });

  it('stops at the deadline after a whole batch, and has saved every dispatch job when a wave returns', async () => {
    const campaign = await gw.ctx.db.campaign.create({
      data: {
        name: 'pipeline',
        audience: { creditorRefs: ['PIPELINE'] },
        stopConditions: ['PAID'],
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
    });
    await startCampaign(gw.ctx, campaign.id, system, { schedule: false });
    expect(await enrolAudience(gw.ctx, campaign.id, { now })).toBe(10);
    const dispatchedIds = async () => {
      const jobs = await gw.ctx.db.$queryRaw<
        { ids: string[] }[]
      >`SELECT data->'messageIds' AS ids FROM agenda_jobs WHERE name = ${CAMPAIGN_DISPATCH_JOB} AND data->>'campaignId' = ${campaign.id}`;
      return jobs.flatMap((j) => j.ids).sort();
    };
    const outbox = async () =>
      (await gw.ctx.db.message.findMany({ where: { campaignId: campaign.id }, select: { id: true } }))
        .map((m) => m.id)
        .sort();

    // A deadline already passed: the first batch is still planned whole, then the wave stops.
    const first = await runDueSteps(gw.ctx, campaign.id, { now, batchSize: 3, deadline: Date.now() });
    expect([first.processed, first.queued + first.deferred, first.remainingDue]).toEqual([3, 3, 7]);
    expect(await dispatchedIds()).toEqual(await outbox());

    // The rest in several batches: each batch's dispatch jobs are saved while the next is planned, all before the wave returns.
    const rest = await runDueSteps(gw.ctx, campaign.id, { now, batchSize: 3 });
    expect([rest.processed, rest.errors, rest.remainingDue]).toEqual([7, 0, 0]);
    const ids = await outbox();
    expect(ids).toHaveLength(10);
    expect(await dispatchedIds()).toEqual(ids);
    // One message per enrolment, one run per enrolment: nothing planned twice across batches.
    expect(await gw.ctx.db.campaignStepRun.count({ where: { enrollment: { campaignId: campaign.id } } })).toBe(10);
  });
});

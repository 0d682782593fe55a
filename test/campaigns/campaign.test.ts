import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { DateTime } from 'luxon';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { importStream } from '../../src/import/importer.js';
import { startCampaign } from '../../src/campaigns/control.js';
import { enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { ensureConversation } from '../../src/conversations/thread.js';

const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';
const headers = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };
const DAY = 86_400_000;

const HEADER =
  'debtor_external_ref,full_name,jurisdiction,time_zone,phone,phone_consent_sms,phone_consent_voice,email,email_consent,address_line1,city,region,postal_code,country,creditor_ref,debt_ref,amount,currency,due_date,debt_tags';
// ref → [csv row, the zone its local hours are checked in]
const DEBTORS: Record<string, [string, string]> = {
  NY: [
    'NY,Nia York,,,+12125552671,yes,,nia@example.com,,1 Broadway,New York,NY,10004,US,C1,NY-1,100.00,USD,2026-01-01,cycle-1',
    'America/New_York',
  ],
  LA: [
    'LA,Lou Angel,,,+13105552672,yes,,lou@example.com,,200 Spring St,Los Angeles,CA,90012,US,C1,LA-1,250.00,USD,2026-01-01,cycle-1',
    'America/Los_Angeles',
  ],
  IN: [
    'IN,Indu Rao,IN,Asia/Kolkata,+919876543210,yes,,indu@example.in,,,,,,,C1,IN-1,5000.00,INR,2026-01-01,cycle-1',
    'Asia/Kolkata',
  ],
  UK: [
    'UK,Uma King,,,+447911123456,yes,,uma@example.co.uk,,10 Downing St,London,,SW1A 2AA,GB,C1,UK-1,80.00,GBP,2026-01-01,cycle-1',
    'Europe/London',
  ],
  OPT: [
    'OPT,Otto Out,,,+13125552605,REVOKED,REVOKED,otto@example.com,REVOKED,,,,,,C1,OPT-1,60.00,USD,2026-01-01,cycle-1',
    'America/Chicago',
  ],
  PAY: [
    'PAY,Pat Payer,,,+16175552606,yes,,pat@example.com,,5 Main St,Boston,MA,02108,US,C1,PAY-1,75.50,USD,2026-01-01,cycle-1',
    'America/New_York',
  ],
  REP: [
    'REP,Rey Replier,,,+12065552607,yes,,rey@example.com,,9 Pike St,Seattle,WA,98101,US,C1,REP-1,40.00,USD,2026-01-01,cycle-1',
    'America/Los_Angeles',
  ],
  OUT: [
    'OUT,Not In Audience,,,+13125552608,yes,,out@example.com,,1 Main St,Chicago,IL,60601,US,C1,OUT-1,10.00,USD,2026-01-01,other',
    'America/Chicago',
  ],
};

async function api<T = Record<string, unknown>>(
  gw: TestGateway,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${gw.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
  };
}

function localMinutes(at: Date, zone: string): number {
  const d = DateTime.fromJSDate(at, { zone });
  return d.hour * 60 + d.minute;
}

describe('a three-step campaign over a seeded audience', () => {
  let gw: TestGateway;
  let campaignId: string;
  const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  const system = { type: 'system' as const };

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY });
    const csv = [HEADER, ...Object.values(DEBTORS).map(([row]) => row)].join('\n');
    const summary = await importStream(gw.ctx.db, Readable.from([csv]), { format: 'csv' });
    expect(summary.errors).toEqual([]);
  });
  afterAll(async () => gw?.close());

  const debtorOf = async (ref: string) => gw.ctx.db.debtor.findUniqueOrThrow({ where: { externalRef: ref } });
  const enrollmentOf = async (ref: string) =>
    gw.ctx.db.campaignEnrollment.findFirstOrThrow({
      where: { campaignId, debtor: { externalRef: ref } },
      include: { runs: { include: { step: true } } },
    });

  it('creates the campaign through the API and validates it', async () => {
    const bad = await api<{ details: { field: string }[] }>(gw, 'POST', '/api/v1/campaigns', {
      name: 'x',
      steps: [{ offsetDays: 0, intent: 'nope' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.details[0]!.field).toBe('steps.0.intent');
    const res = await api<{ id: string; status: string; steps: unknown[] }>(gw, 'POST', '/api/v1/campaigns', {
      name: 'January cycle',
      audience: { tags: ['cycle-1'], daysPastDue: { min: 1 }, status: ['OPEN', 'PROMISED'] },
      steps: [
        {
          offsetDays: 0,
          anchor: 'ENROLLMENT',
          intent: 'friendly-reminder',
          channel: null,
          window: { from: '10:00', to: '16:00' },
        },
        { offsetDays: 3, anchor: 'ENROLLMENT', intent: 'past-due-notice', channel: 'EMAIL' },
        {
          offsetDays: 7,
          anchor: 'ENROLLMENT',
          intent: 'final-notice',
          channel: 'SMS',
          conditions: { noPaymentSincePrevious: true },
        },
      ],
      throttle: { SMS: 2, EMAIL: 2 },
      stopConditions: ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL', 'REPLIED'],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'DRAFT' });
    expect(res.body.steps).toHaveLength(3);
    campaignId = res.body.id;
    // Driven with our own clock below: active, but no Agenda jobs.
    await startCampaign(gw.ctx, campaignId, system, { schedule: false });
    expect((await api(gw, 'POST', `/api/v1/campaigns/${campaignId}/start`)).status).toBe(409);
  });

  it('step 1: enrols the audience, schedules inside each debtor’s local step window, suppresses the opted-out debtor', async () => {
    expect(await enrolAudience(gw.ctx, campaignId, { now: t0 })).toBe(7);
    expect(await enrolAudience(gw.ctx, campaignId, { now: t0 })).toBe(0); // never twice
    const report = await runDueSteps(gw.ctx, campaignId, { now: t0, batchSize: 3 });
    expect(report.processed).toBe(7);
    expect(report.suppressed).toBe(1);

    const messages = await gw.ctx.db.message.findMany({ where: { campaignId }, include: { debtor: true } });
    expect(messages).toHaveLength(6);
    for (const m of messages) {
      const zone = DEBTORS[m.debtor!.externalRef!]![1];
      const local = localMinutes(m.scheduledAt!, zone);
      expect([m.debtor!.externalRef, local >= 10 * 60 && local < 16 * 60]).toEqual([m.debtor!.externalRef, true]);
      expect(m.scheduledAt!.getTime()).toBeGreaterThanOrEqual(t0.getTime());
    }
    const opt = await enrollmentOf('OPT');
    expect(opt).toMatchObject({ status: 'STOPPED', stopReason: 'OPTED_OUT_ALL' });
    expect(opt.runs.map((r) => [r.outcome, r.reasons])).toEqual([['suppressed', ['stop.OPTED_OUT_ALL']]]);
  });

  it('between steps: a payment in full stops the debt’s enrolment and cancels its pending message; a reply is recorded', async () => {
    const pay = await debtorOf('PAY');
    const debt = await gw.ctx.db.debt.findFirstOrThrow({ where: { debtorId: pay.id } });
    const r1 = await api<{ debt: { balance: string; status: string } }>(gw, 'POST', '/api/v1/payments', {
      creditorRef: 'C1',
      debtRef: 'PAY-1',
      amount: '25.25',
      currency: 'USD',
      externalRef: 'pmt-1',
    });
    expect(r1.status).toBe(201);
    expect(r1.body.debt).toMatchObject({ balance: '50.25', status: 'OPEN' });
    const r2 = await api<{ debt: { balance: string; status: string }; enrollmentsStopped: number }>(
      gw,
      'POST',
      '/api/v1/payments',
      { debtId: debt.id, amount: '50.25', currency: 'USD', externalRef: 'pmt-2' },
    );
    expect(r2.status).toBe(201);
    expect(r2.body.debt).toMatchObject({ balance: '0.00', status: 'PAID' });
    expect(r2.body.enrollmentsStopped).toBe(1);
    // the same payment again: nothing new
    const r3 = await api<{ duplicate: boolean; debt: { balance: string } }>(gw, 'POST', '/api/v1/payments', {
      debtId: debt.id,
      amount: '50.25',
      currency: 'USD',
      externalRef: 'pmt-2',
    });
    expect(r3.status).toBe(200);
    expect(r3.body).toMatchObject({ duplicate: true, debt: { balance: '0.00' } });
    expect(await enrollmentOf('PAY')).toMatchObject({ status: 'STOPPED', stopReason: 'PAID' });
    const payMessages = await gw.ctx.db.message.findMany({ where: { campaignId, debtorId: pay.id } });
    for (const m of payMessages)
      expect(['CANCELLED', 'SENT', 'DELIVERED', 'QUEUED', 'SENDING', 'FAILED']).toContain(m.status);
    expect(payMessages.filter((m) => m.status === 'PENDING' || m.status === 'SCHEDULED')).toHaveLength(0);

    const rep = await debtorOf('REP');
    const conversation = await ensureConversation(gw.ctx.db, rep.id);
    await gw.ctx.db.message.create({
      data: {
        conversationId: conversation.id,
        debtorId: rep.id,
        direction: 'INBOUND',
        channel: 'SMS',
        status: 'RECEIVED',
        body: 'I will call you',
        createdAt: new Date(t0.getTime() + DAY),
      },
    });
    // An out-of-office is not a reply (src/inbound/email-reports.ts): NY's enrolment must carry on.
    const ny = await debtorOf('NY');
    const nyConversation = await ensureConversation(gw.ctx.db, ny.id);
    await gw.ctx.db.message.create({
      data: {
        conversationId: nyConversation.id,
        debtorId: ny.id,
        direction: 'INBOUND',
        channel: 'EMAIL',
        status: 'RECEIVED',
        intent: 'auto_reply',
        body: 'I am out of the office until Monday.',
        createdAt: new Date(t0.getTime() + DAY),
      },
    });
  });

  it('steps 2 and 3: the paid debt gets nothing more, the replier stops, nobody gets a step twice, throttle and hours hold', async () => {
    const r2 = await runDueSteps(gw.ctx, campaignId, { now: new Date(t0.getTime() + 3 * DAY + 3600_000) });
    expect(r2.processed).toBe(5); // NY, LA, IN, UK, REP (PAY and OPT stopped)
    expect(r2.suppressed).toBe(1);
    expect(await enrollmentOf('REP')).toMatchObject({ status: 'STOPPED', stopReason: 'REPLIED' });
    expect((await enrollmentOf('NY')).stopReason).toBeNull();
    const r3 = await runDueSteps(gw.ctx, campaignId, { now: new Date(t0.getTime() + 7 * DAY + 3600_000) });
    expect(r3.processed).toBe(4);
    // nothing left; running again changes nothing
    expect((await runDueSteps(gw.ctx, campaignId, { now: new Date(t0.getTime() + 30 * DAY) })).processed).toBe(0);

    const pay = await debtorOf('PAY');
    const afterPayment = await gw.ctx.db.message.count({
      where: { campaignId, debtorId: pay.id, intent: { not: 'friendly-reminder' } },
    });
    expect(afterPayment).toBe(0);

    const messages = await gw.ctx.db.message.findMany({ where: { campaignId }, include: { debtor: true } });
    const runs = await gw.ctx.db.campaignStepRun.findMany({ where: { enrollment: { campaignId } } });
    const perStep = new Map<string, number>();
    for (const r of runs)
      perStep.set(`${r.enrollmentId}|${r.stepId}`, (perStep.get(`${r.enrollmentId}|${r.stepId}`) ?? 0) + 1);
    expect([...perStep.values()].every((n) => n === 1)).toBe(true);
    const perDebtorIntent = new Map<string, number>();
    for (const m of messages)
      perDebtorIntent.set(`${m.debtorId}|${m.intent}`, (perDebtorIntent.get(`${m.debtorId}|${m.intent}`) ?? 0) + 1);
    expect([...perDebtorIntent.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(runs.filter((r) => r.messageId).map((r) => r.messageId)).size).toBe(messages.length);

    for (const m of messages) {
      const local = localMinutes(m.scheduledAt!, DEBTORS[m.debtor!.externalRef!]![1]);
      expect([m.debtor!.externalRef, m.intent, local >= 8 * 60 && local < 21 * 60]).toEqual([
        m.debtor!.externalRef,
        m.intent,
        true,
      ]);
    }
    // throttle: at most 2 per channel per minute
    const perMinute = new Map<string, number>();
    for (const m of messages.filter((x) => x.status !== 'CANCELLED')) {
      const k = `${m.channel}|${Math.floor(m.scheduledAt!.getTime() / 60_000)}`;
      perMinute.set(k, (perMinute.get(k) ?? 0) + 1);
    }
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(2);
    expect(messages.filter((m) => m.intent === 'past-due-notice').every((m) => m.channel === 'EMAIL')).toBe(true);
  });

  it('reports results per step as JSON and CSV', async () => {
    const r = await api<{
      enrolled: number;
      enrollments: { stoppedByReason: Record<string, number> };
      steps: { position: number; suppressed: { byReason: Record<string, number> }; queued: number }[];
      total: { paid: number };
    }>(gw, 'GET', `/api/v1/campaigns/${campaignId}/results`);
    expect(r.status).toBe(200);
    expect(r.body.enrolled).toBe(7);
    expect(r.body.enrollments.stoppedByReason).toEqual({ OPTED_OUT_ALL: 1, PAID: 1, REPLIED: 1 });
    expect(r.body.steps[0]!.suppressed.byReason).toEqual({ 'stop.OPTED_OUT_ALL': 1 });
    expect(r.body.steps[1]!.suppressed.byReason).toEqual({ 'stop.REPLIED': 1 });
    expect(r.body.steps[0]!.queued).toBe(6);
    expect(r.body.total.paid).toBe(1);
    const csv = await api<string>(gw, 'GET', `/api/v1/campaigns/${campaignId}/results.csv`);
    expect(csv.status).toBe(200);
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toMatch(/^step,intent,channel,enrolled,runs,queued/);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toContain('stop.OPTED_OUT_ALL:1');
  });

  it('runs through Agenda when started by the API; pause withdraws pending messages, resume re-plans them', async () => {
    const created = await api<{ id: string }>(gw, 'POST', '/api/v1/campaigns', {
      name: 'Agenda-driven',
      audience: { tags: ['other'] },
      steps: [
        { offsetDays: 0, intent: 'friendly-reminder', channel: 'EMAIL', window: { from: '10:00', to: '10:30' } },
        { offsetDays: 5, intent: 'past-due-notice', channel: 'EMAIL' },
      ],
    });
    const id = created.body.id;
    expect((await api(gw, 'POST', `/api/v1/campaigns/${id}/start`)).body).toMatchObject({ status: 'ACTIVE' });
    const { eventually } = await import('../support/gateway.js');
    const message = await eventually(
      () => gw.ctx.db.message.findFirst({ where: { campaignId: id } }),
      20_000,
      'the enrol job to queue step 1',
    );
    expect(['SCHEDULED', 'PENDING', 'SENDING', 'QUEUED', 'SENT', 'DELIVERED']).toContain(message.status);
    if (message.status === 'SCHEDULED') {
      const paused = await api<{ status: string; messagesWithdrawn: number }>(
        gw,
        'POST',
        `/api/v1/campaigns/${id}/pause`,
      );
      expect(paused.body).toMatchObject({ status: 'PAUSED', messagesWithdrawn: 1 });
      const e = await gw.ctx.db.campaignEnrollment.findFirstOrThrow({
        where: { campaignId: id },
        include: { runs: true },
      });
      expect([e.nextStep, e.runs.length]).toEqual([1, 0]);
      expect((await api(gw, 'POST', `/api/v1/campaigns/${id}/resume`)).body).toMatchObject({ status: 'ACTIVE' });
      await runDueSteps(gw.ctx, id);
      const live = await gw.ctx.db.message.findMany({ where: { campaignId: id, status: { not: 'CANCELLED' } } });
      expect(live).toHaveLength(1);
      expect(live[0]!.id).not.toBe(message.id);
    }
    expect((await api(gw, 'POST', `/api/v1/campaigns/${id}/cancel`)).body).toMatchObject({ status: 'CANCELLED' });
    expect(await gw.ctx.db.message.count({ where: { campaignId: id, status: { in: ['PENDING', 'SCHEDULED'] } } })).toBe(
      0,
    );
  });

  it('cancel stops every enrolment and cancels pending messages', async () => {
    const r = await api<{ status: string; enrollmentsStopped: number }>(
      gw,
      'POST',
      `/api/v1/campaigns/${campaignId}/cancel`,
    );
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('CANCELLED');
    expect(await gw.ctx.db.message.count({ where: { campaignId, status: { in: ['PENDING', 'SCHEDULED'] } } })).toBe(0);
    expect(await gw.ctx.db.campaignEnrollment.count({ where: { campaignId, status: 'ACTIVE' } })).toBe(0);
  });
});

// Issue 20, "facts a collector must be able to record": contact history from before the
// gateway (API and CSV import) counted by 7-in-7 and the state caps like the gateway's own;
// direct prior consent to more calls; an attorney and what lifts the restriction; India's loan
// type; UK Breathing Space with its start and end, reminders resuming on the end date (fixed clock).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { DateTime } from 'luxon';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { importStream } from '../../src/import/importer.js';
import { startCampaign } from '../../src/campaigns/control.js';
import { enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { resumeEndedMoratoria } from '../../src/compliance/moratoria.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const rules = (d: { reasons: { rule: string }[] }) => d.reasons.map((r) => r.rule);
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('recordable compliance facts', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'facts-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'facts-lob-webhook-secret',
    });
  });
  afterAll(async () => gw?.close());

  const outreach = (s: { debtorId: string; debtId: string }, body: Record<string, unknown>) =>
    api(gw).post('/api/v1/outreach', { debtorId: s.debtorId, debtId: s.debtId, ...body });
  const history = (debtorId: string, entries: Record<string, unknown>[]) =>
    api(gw).post(`/api/v1/debtors/${debtorId}/contact-history`, { entries });

  it('imported calls count toward 7-in-7 when they connected or left a voicemail, not when busy or unanswered', async () => {
    const s = await seedDebtor(gw);
    const busy = Array.from({ length: 7 }, (_, i) => ({
      debtId: s.debtId,
      kind: 'call',
      outcome: i % 2 ? 'busy' : 'no_answer',
      occurredAt: ago((i + 1) * HOUR),
    }));
    const r = await history(s.debtorId, busy);
    expect(r.status).toBe(201);
    expect(r.body.data.every((e: { countsAsAttempt: boolean }) => !e.countsAsAttempt)).toBe(true);
    const free = await outreach(s, {
      intent: 'friendly-reminder',
      channel: 'VOICE',
      notBefore: new Date(Date.now() + 60_000).toISOString(),
    });
    expect(rules(free.body.decision)).not.toContain('limit.regf_call_7in7');

    const voicemails = Array.from({ length: 7 }, (_, i) => ({
      debtId: s.debtId,
      kind: 'voicemail',
      occurredAt: ago((i + 1) * HOUR + 30_000),
      externalRef: `vm-${i}`,
    }));
    expect((await history(s.debtorId, voicemails)).status).toBe(201);
    // The same file sent again adds nothing.
    const again = await history(s.debtorId, voicemails);
    expect(again.body.data).toHaveLength(0);
    expect(again.body.duplicates).toHaveLength(7);
    // The reservation above is one call; the 7 voicemails make more than 7 in 7 days.
    const held = await outreach(s, { intent: 'friendly-reminder', channel: 'VOICE' });
    expect(held.status).toBe(202);
    expect(held.body.outcome).toBe('defer');
    expect(rules(held.body.decision)).toContain('limit.regf_call_7in7');
    const listed = await api(gw).get(`/api/v1/debtors/${s.debtorId}/contact-history`);
    expect(listed.body.data).toHaveLength(14);
  });

  it('an imported telephone conversation stops calls for 7 days (the conversation day is day 1)', async () => {
    const s = await seedDebtor(gw);
    expect(
      (await history(s.debtorId, [{ debtId: s.debtId, kind: 'conversation', occurredAt: ago(2 * HOUR) }])).status,
    ).toBe(201);
    const r = await outreach(s, { intent: 'friendly-reminder', channel: 'VOICE' });
    expect(r.body.outcome).toBe('defer');
    expect(rules(r.body.decision)).toContain('limit.regf_after_conversation');
    // A text is no call: it goes now.
    expect((await outreach(s, { intent: 'friendly-reminder', channel: 'SMS' })).body.outcome).toBe('send');
  });

  it('bad history is refused with the field and the reason', async () => {
    const s = await seedDebtor(gw);
    const other = await seedDebtor(gw);
    const noOutcome = await history(s.debtorId, [{ debtId: s.debtId, kind: 'call', occurredAt: ago(HOUR) }]);
    expect(noOutcome.status).toBe(400);
    expect(noOutcome.body.details[0]).toMatchObject({ field: 'entries.0.outcome' });
    const future = await history(s.debtorId, [{ kind: 'text', occurredAt: new Date(Date.now() + DAY).toISOString() }]);
    expect(future.status).toBe(400);
    expect(future.body.details[0]).toMatchObject({ field: 'entries.0.occurredAt', reason: 'is in the future' });
    const foreign = await history(s.debtorId, [{ debtId: other.debtId, kind: 'letter', occurredAt: ago(HOUR) }]);
    expect(foreign.status).toBe(404);
    const wrongChannel = await history(s.debtorId, [{ kind: 'text', channel: 'EMAIL', occurredAt: ago(HOUR) }]);
    expect(wrongChannel.status).toBe(400);
  });

  it('a CSV import brings the history and the creditor role; it counts against the Massachusetts cap', async () => {
    const ref = `MA-${Date.now()}`;
    const header =
      'debtor_external_ref,full_name,time_zone,phone,phone_is_mobile,phone_consent_sms,phone_consent_voice,address_line1,city,region,postal_code,country,creditor_ref,creditor_name,creditor_kind,debt_ref,amount,currency,due_date,contact_kind,contact_outcome,contact_at,contact_ref';
    const base = `${ref},Molly Mass,America/New_York,+16175550188,true,GRANTED,GRANTED,5 Main St,Boston,MA,02108,US,own-${ref},Boston Water,first party,${ref}-1,80.00,USD,2026-09-01`;
    const csv = [
      header,
      `${base},call,voicemail,${ago(2 * HOUR)},c1`,
      `${base},text,,${ago(3 * HOUR)},c2`,
      `${base},call,busy,${ago(4 * HOUR)},c3`,
    ].join('\n');
    const summary = await importStream(gw.ctx.db, Readable.from([csv]), { format: 'csv' });
    expect(summary.errors).toEqual([]);
    const debtor = await gw.ctx.db.debtor.findUniqueOrThrow({
      where: { externalRef: ref },
      include: { debts: { include: { creditor: true } } },
    });
    expect(debtor.debts[0]!.creditor.kind).toBe('FIRST_PARTY');
    const rows = await gw.ctx.db.contactHistory.findMany({
      where: { debtorId: debtor.id },
      orderBy: { occurredAt: 'desc' },
    });
    expect(rows.map((h) => [h.kind, h.outcome, h.debtId, h.source])).toEqual([
      ['call', 'voicemail', debtor.debts[0]!.id, 'import'],
      ['text', null, debtor.debts[0]!.id, 'import'],
      ['call', 'busy', debtor.debts[0]!.id, 'import'],
    ]);
    // Massachusetts: 2 calls/texts per 7 days per debt — a creditor's rule too. The voicemail and the text are 2; the busy call none.
    const r = await outreach(
      { debtorId: debtor.id, debtId: debtor.debts[0]!.id },
      { intent: 'friendly-reminder', channel: 'SMS' },
    );
    expect(r.body.outcome).toBe('defer');
    expect(rules(r.body.decision)).toContain('limit.ma_calls_texts');
    expect(rules(r.body.decision)).toContain('regime.first_party_creditor');
    // A bad contact column is a row error naming the column.
    const bad = await importStream(gw.ctx.db, Readable.from([[header, `${base},call,,${ago(HOUR)},c4`].join('\n')]), {
      format: 'csv',
    });
    expect(bad.errors[0]).toMatchObject({ field: 'contact_outcome' });
  });

  it('direct prior consent to more calls lifts 7-in-7 for the next 7 days', async () => {
    const s = await seedDebtor(gw);
    await history(
      s.debtorId,
      Array.from({ length: 7 }, (_, i) => ({ debtId: s.debtId, kind: 'voicemail', occurredAt: ago((i + 1) * HOUR) })),
    );
    expect(
      (
        await outreach(s, {
          intent: 'friendly-reminder',
          channel: 'VOICE',
          notBefore: new Date(Date.now() + 60_000).toISOString(),
        })
      ).body.outcome,
    ).toBe('defer');
    const consent = await api(gw).post(`/api/v1/debts/${s.debtId}/call-consents`, {
      givenAt: ago(60_000),
      givenBy: 'Jordan Rivera (the debtor), on the phone',
      via: 'inbound call',
    });
    expect(consent.status).toBe(201);
    expect(consent.body.rule).toBe('Reg F 12 CFR 1006.14(b)(3)');
    const r = await outreach(s, { intent: 'friendly-reminder', channel: 'VOICE' });
    expect(r.body.outcome).toBe('send');
    expect(rules(r.body.decision)).toContain('limit.regf_call_consent');
    expect(
      (await api(gw).post(`/api/v1/debts/${s.debtId}/call-consents`, { givenAt: ago(-DAY), givenBy: 'x' })).status,
    ).toBe(400);
  });

  it('an attorney bars contact and withdraws the queue at once; consent or no response lifts it', async () => {
    const s = await seedDebtor(gw);
    const queued = await outreach(s, {
      intent: 'final-notice',
      channel: 'EMAIL',
      notBefore: new Date(Date.now() + HOUR).toISOString(),
    });
    expect(queued.body.outcome).toBe('defer');
    const put = await api(gw).put(`/api/v1/debtors/${s.debtorId}/attorney`, {
      debtId: s.debtId,
      name: 'Avery Counsel',
      firm: 'Counsel & Co',
      address: { line1: '1 Court Sq', city: 'Chicago', region: 'IL', postalCode: '60602', country: 'US' },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      status: 'REPRESENTING',
      contactWithDebtor: 'barred',
      address: { city: 'Chicago' },
    });
    expect((await api(gw).get(`/api/v1/messages/${queued.body.messageId}`)).body.status).toBe('CANCELLED');
    const refused = await outreach(s, { intent: 'friendly-reminder', channel: 'SMS' });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain('restriction.attorney_represented');
    for (const status of ['CONSENTED', 'UNRESPONSIVE']) {
      const lifted = await api(gw).put(`/api/v1/debtors/${s.debtorId}/attorney`, {
        debtId: s.debtId,
        name: 'Avery Counsel',
        status,
      });
      expect(lifted.body.contactWithDebtor).toBe('allowed');
      const r = await outreach(s, { intent: 'friendly-reminder', channel: 'EMAIL' });
      expect(r.status).toBe(202);
      expect(rules(r.body.decision)).toContain('restriction.attorney_lifted');
    }
    expect((await api(gw).get(`/api/v1/debtors/${s.debtorId}/attorney`)).body.data).toHaveLength(1);
  });

  it("India: the RBI's 19:00 limit binds a personal loan, not a microfinance loan", async () => {
    const s = await seedDebtor(
      gw,
      {
        jurisdiction: 'IN',
        timeZone: 'Asia/Kolkata',
        locale: 'en',
        contactPoints: [
          { kind: 'PHONE', value: '+919876500011', isMobile: true, consents: { SMS: 'GRANTED', VOICE: 'GRANTED' } },
        ],
      },
      { currency: 'INR', originalAmount: '5000.00', loanType: 'PERSONAL' },
    );
    const micro = await api(gw).post('/api/v1/debts', {
      externalRef: `MF-${Date.now()}`,
      creditor: { externalRef: 'mfi', name: 'Village MFI' },
      debtorId: s.debtorId,
      originalAmount: '2000.00',
      currency: 'INR',
      dueDate: '2026-10-01',
      loanType: 'MICROFINANCE',
    });
    expect(micro.body.loanType).toBe('MICROFINANCE');
    // 19:30 in Kolkata: after the RBI's hours, inside Reg F's baseline.
    let at = DateTime.now().setZone('Asia/Kolkata').set({ hour: 19, minute: 30, second: 0, millisecond: 0 });
    if (at.toMillis() < Date.now()) at = at.plus({ days: 1 });
    const personal = await outreach(s, { intent: 'friendly-reminder', channel: 'VOICE', notBefore: at.toISO() });
    expect(DateTime.fromISO(personal.body.decision.sendAt).setZone('Asia/Kolkata').hour).toBe(8);
    const mf = await outreach(
      { debtorId: s.debtorId, debtId: micro.body.id },
      { intent: 'friendly-reminder', channel: 'VOICE', notBefore: at.toISO() },
    );
    expect(new Date(mf.body.decision.sendAt).getTime()).toBe(at.toMillis());
    expect(rules(mf.body.decision)).toContain('jurisdiction.not_applicable');
  });

  it('UK Breathing Space: reminders stop at once and resume on the end date by themselves (fixed clock)', async () => {
    const tag = `bs-${Math.random().toString(36).slice(2, 8)}`;
    const s = await seedDebtor(
      gw,
      {
        jurisdiction: 'GB',
        timeZone: 'Europe/London',
        contactPoints: [
          { kind: 'EMAIL', value: `uma.${tag}@example.co.uk` },
          { kind: 'ADDRESS', line1: '10 Downing St', city: 'London', postalCode: 'SW1A 2AA', country: 'GB' },
        ],
      },
      { currency: 'GBP', originalAmount: '80.00', tags: [tag] },
    );
    const campaign = await api(gw).post('/api/v1/campaigns', {
      name: `bs ${tag}`,
      audience: { tags: [tag] },
      steps: [{ offsetDays: 1, intent: 'past-due-notice', channel: 'EMAIL' }],
    });
    await startCampaign(gw.ctx, campaign.body.id, { type: 'system' }, { schedule: false });
    expect(await enrolAudience(gw.ctx, campaign.body.id)).toBe(1);
    const queued = await outreach(s, {
      intent: 'friendly-reminder',
      channel: 'EMAIL',
      notBefore: new Date(Date.now() + HOUR).toISOString(),
    });

    const startsAt = new Date(Date.now() - DAY);
    const recorded = await api(gw).post(`/api/v1/debtors/${s.debtorId}/moratoria`, {
      kind: 'STANDARD',
      startsAt: startsAt.toISOString(),
      reference: 'BS-123',
    });
    expect(recorded.status).toBe(201);
    const endsAt = new Date(recorded.body.endsAt);
    expect(endsAt.getTime() - startsAt.getTime()).toBe(60 * DAY);
    expect(recorded.body.inForce).toBe(true);
    expect((await api(gw).get(`/api/v1/messages/${queued.body.messageId}`)).body.status).toBe('CANCELLED');
    const enrolment = () => gw.ctx.db.campaignEnrollment.findFirstOrThrow({ where: { campaignId: campaign.body.id } });
    expect(await enrolment()).toMatchObject({ status: 'STOPPED', stopReason: 'MORATORIUM' });
    const during = await outreach(s, { intent: 'friendly-reminder', channel: 'EMAIL' });
    expect(during.status).toBe(422);
    expect(during.body.message).toContain('restriction.moratorium');

    // The day before its end nothing resumes; on the end date everything it held does.
    expect((await resumeEndedMoratoria(gw.ctx, new Date(endsAt.getTime() - 60_000))).moratoria).toBe(0);
    expect((await enrolment()).status).toBe('STOPPED');
    const resumed = await resumeEndedMoratoria(gw.ctx, endsAt);
    expect(resumed).toMatchObject({ moratoria: 1, enrollmentsResumed: 1 });
    expect(await enrolment()).toMatchObject({ status: 'ACTIVE', stopReason: null, nextStepAt: endsAt });
    const wave = await runDueSteps(gw.ctx, campaign.body.id, { now: endsAt });
    expect(wave.queued + wave.deferred).toBe(1);
    const sent = await gw.ctx.db.message.findFirstOrThrow({ where: { campaignId: campaign.body.id } });
    expect(sent.scheduledAt!.getTime()).toBeGreaterThanOrEqual(endsAt.getTime());
    // Once is enough.
    expect((await resumeEndedMoratoria(gw.ctx, new Date(endsAt.getTime() + DAY))).moratoria).toBe(0);
  });

  it('a mental health crisis moratorium runs until it is ended', async () => {
    const s = await seedDebtor(gw);
    const m = await api(gw).post(`/api/v1/debtors/${s.debtorId}/moratoria`, {
      kind: 'MENTAL_HEALTH_CRISIS',
      startsAt: ago(DAY),
    });
    expect(m.body.endsAt).toBeNull();
    expect((await resumeEndedMoratoria(gw.ctx, new Date(Date.now() + 400 * DAY))).moratoria).toBe(0);
    const end = new Date(Date.now() + 30 * DAY);
    const ended = await api(gw).post(`/api/v1/moratoria/${m.body.id}/end`, { endsAt: end.toISOString() });
    expect(ended.status).toBe(200);
    expect((await outreach(s, { intent: 'friendly-reminder', channel: 'EMAIL' })).status).toBe(422);
    expect((await resumeEndedMoratoria(gw.ctx, end)).moratoria).toBe(1);
    expect((await api(gw).post(`/api/v1/moratoria/${m.body.id}/end`, { endsAt: end.toISOString() })).status).toBe(409);
  });
});

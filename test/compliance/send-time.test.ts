// Issue 20, "wrong at the moment of sending", through the public API against the sandboxes:
// calls that never connected do not count toward a call limit, a voicemail does; the first
// message that actually reaches the debtor carries the full mini-Miranda, whatever was booked
// first; a send 90 days ahead is decided by the ordinary window; a deferred message's page
// answers 200; a cease withdraws queued messages and enrolments at once (shown in the
// campaign's results); one thank-you per payment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { dispatchMessage } from '../../src/outbound/dispatch.js';
import { channelAdapters } from '../../src/outbound/module.js';
import { startCampaign } from '../../src/campaigns/control.js';
import { enrolAudience } from '../../src/campaigns/runner.js';

const FULL = 'This is an attempt to collect a debt';
const SHORT = 'This communication is from a debt collector.';

describe('compliance at the moment of sending', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'comply-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'comply-lob-webhook-secret',
    });
  });
  afterAll(async () => gw?.close());

  const message = async (id: string) => (await api(gw).get(`/api/v1/messages/${id}`)).body;
  const waitStatus = (id: string, statuses: string[]) =>
    eventually(
      async () => {
        const m = await message(id);
        return statuses.includes(m.status) ? m : null;
      },
      20_000,
      `${id} ${statuses.join('/')}`,
    );
  const outreach = (body: Record<string, unknown>) => api(gw).post('/api/v1/outreach', body);

  it('a busy, unanswered or failed call does not count toward a call limit; a voicemail does', async () => {
    const s = await seedDebtor(gw);
    // One call a week, by the debtor's own preference: what counts decides whether the next call may go now.
    expect(
      (
        await api(gw).put(`/api/v1/debtors/${s.debtorId}/preferences`, {
          contactLimits: { VOICE: { max: 1, days: 7 } },
        })
      ).status,
    ).toBe(200);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    const call = async () => {
      const r = await outreach({ debtorId: s.debtorId, debtId: s.debtId, intent: 'past-due-notice', channel: 'VOICE' });
      expect(r.status).toBe(202);
      return r.body;
    };
    for (const [answer, status] of [
      ['busy', 'BUSY'],
      ['no-answer', 'NO_ANSWER'],
      ['failed', 'FAILED'],
    ] as const) {
      gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer });
      const r = await call();
      expect(r.outcome).toBe('send');
      await waitStatus(r.messageId, [status]);
      const row = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: r.messageId } });
      expect(row.countsAsAttempt).toBe(false);
    }
    gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer: 'machine_end_beep' });
    const voicemail = await call();
    expect(voicemail.outcome).toBe('send');
    const left = await waitStatus(voicemail.messageId, ['COMPLETED']);
    expect(left.callOutcome).toMatchObject({ outcome: 'voicemail' });
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: voicemail.messageId } })).countsAsAttempt).toBe(
      true,
    );
    // Now the week's one call is used: the next is deferred by the limit.
    const next = await call();
    expect(next.outcome).toBe('defer');
    expect(next.decision.reasons.map((r: { rule: string }) => r.rule)).toContain('limit.debtor_preference');
  });

  it('the first message that reaches the debtor carries the full disclosure, even when another was booked first', async () => {
    const s = await seedDebtor(gw);
    // Booked first, to leave in an hour.
    const later = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
      notBefore: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(later.status).toBe(202);
    expect(later.body.outcome).toBe('defer');
    // Booked second, leaves now: it is the first communication.
    const now = await outreach({ debtorId: s.debtorId, debtId: s.debtId, intent: 'past-due-notice', channel: 'EMAIL' });
    expect(now.status).toBe(202);
    const delivered = await waitStatus(now.body.messageId, ['DELIVERED']);
    expect(delivered.body).toContain(FULL);
    // The booked one leaves at its time: the debtor has been reached, so it says the short form.
    const booked = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: later.body.messageId } });
    await dispatchMessage(gw.ctx, channelAdapters(), booked.id, booked.scheduledAt!);
    const sent = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: booked.id } });
        return m.providerMessageId ? m : null;
      },
      20_000,
      'the booked SMS handed to Twilio',
    );
    const sms = gw.ctx.sandboxes!.twilio.getMessage(sent.providerMessageId!)!;
    expect(sms.body).toContain(SHORT);
    expect(sms.body).not.toContain(FULL);
  });

  it('a message booked while another is only queued still carries the full disclosure', async () => {
    const s = await seedDebtor(gw);
    const first = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
      notBefore: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const second = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'EMAIL',
      notBefore: new Date(Date.now() + 1_800_000).toISOString(),
    });
    for (const r of [first, second]) expect(r.status).toBe(202);
    // Neither has reached the debtor: each is rendered as a first communication.
    for (const r of [first, second])
      expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: r.body.messageId } })).body).toContain(FULL);
  });

  it('a send 90 days ahead is decided by the ordinary window, and its page answers 200', async () => {
    const s = await seedDebtor(gw);
    const notBefore = new Date(Date.now() + 90 * 86_400_000);
    const r = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'EMAIL',
      notBefore: notBefore.toISOString(),
    });
    expect(r.status).toBe(202);
    expect(r.body.outcome).toBe('defer');
    const rules = r.body.decision.reasons.map((x: { rule: string }) => x.rule);
    expect(rules).not.toContain('quiet_hours.no_common_window');
    const sendAt = new Date(r.body.decision.sendAt).getTime();
    expect(sendAt).toBeGreaterThanOrEqual(notBefore.getTime());
    expect(sendAt - notBefore.getTime()).toBeLessThan(86_400_000);
    const page = await api(gw).get(`/api/v1/messages/${r.body.messageId}`);
    expect(page.status).toBe(200);
    expect(page.body.status).toBe('SCHEDULED');
    expect(page.body.decision.explanation).toContain(`Deferred: send "friendly_reminder" by EMAIL`);
    expect(page.body.decision.explanation).toContain(new Date(r.body.decision.sendAt).toISOString());
  });

  it('a cease withdraws queued messages and stops enrolments at once; the campaign results show it', async () => {
    const tag = `cease-${Math.random().toString(36).slice(2, 8)}`;
    const s = await seedDebtor(gw, {}, { tags: [tag] });
    const created = await api(gw).post('/api/v1/campaigns', {
      name: `cease ${tag}`,
      audience: { tags: [tag] },
      steps: [{ offsetDays: 2, intent: 'past-due-notice', channel: 'EMAIL' }],
      stopConditions: ['PAID'],
    });
    expect(created.status).toBe(201);
    await startCampaign(gw.ctx, created.body.id, { type: 'system' }, { schedule: false });
    expect(await enrolAudience(gw.ctx, created.body.id)).toBe(1);
    const queued = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'final-notice',
      channel: 'SMS',
      notBefore: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(queued.body.outcome).toBe('defer');

    const patched = await api(gw).patch(`/api/v1/debtors/${s.debtorId}`, { restrictions: ['CEASE_COMMUNICATION'] });
    expect(patched.status).toBe(200);
    // At once, not at the message's send time.
    const withdrawn = await message(queued.body.messageId);
    expect(withdrawn.status).toBe('CANCELLED');
    expect(withdrawn.errorMessage).toMatch(/withdrawn: CEASE_COMMUNICATION/);
    const enrolment = await gw.ctx.db.campaignEnrollment.findFirstOrThrow({ where: { campaignId: created.body.id } });
    expect(enrolment).toMatchObject({ status: 'STOPPED', stopReason: 'CEASE', nextStepAt: null });
    const results = await api(gw).get(`/api/v1/campaigns/${created.body.id}/results`);
    expect(results.body.enrollments).toMatchObject({ active: 0, stopped: 1, stoppedByReason: { CEASE: 1 } });
  });

  it('a social-media channel is refused with its rule, not as an invalid channel', async () => {
    const s = await seedDebtor(gw);
    const r = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SOCIAL_MEDIA_PUBLIC',
    });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('privacy.social_media');
    expect(JSON.stringify(r.body)).toContain('1006.22(f)(4)');
  });

  it('one thank-you per payment', async () => {
    const s = await seedDebtor(gw, {}, { originalAmount: '300.00' });
    const none = await outreach({ debtorId: s.debtorId, debtId: s.debtId, intent: 'payment-received', channel: 'SMS' });
    expect(none.status).toBe(422);
    expect(none.body.error).toBe('no_payment');
    const paid = await api(gw).post('/api/v1/payments', {
      debtId: s.debtId,
      amount: '100.00',
      currency: 'USD',
      externalRef: `pay-${s.debtId}`,
    });
    expect(paid.status).toBe(201);
    const first = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'payment-received',
      channel: 'SMS',
    });
    expect(first.status).toBe(202);
    const body = (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: first.body.messageId } })).body;
    expect(body).toContain('$100.00');
    const again = await outreach({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'payment-received',
      channel: 'EMAIL',
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('already_thanked');
    // A second payment gets its own.
    expect(
      (
        await api(gw).post('/api/v1/payments', {
          debtId: s.debtId,
          amount: '50.00',
          currency: 'USD',
          externalRef: `pay2-${s.debtId}`,
        })
      ).status,
    ).toBe(201);
    expect(
      (await outreach({ debtorId: s.debtorId, debtId: s.debtId, intent: 'payment-received', channel: 'EMAIL' })).status,
    ).toBe(202);
  });
});

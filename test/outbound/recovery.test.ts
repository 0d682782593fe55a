// Recovery of messages a dead process left SENDING, channel by channel, against
// the provider sandboxes through the official SDKs: the policy of
// src/outbound/recovery.ts (RECOVERY_POLICY), the admin's review, the lease
// renewal that keeps a live claim from being taken over, and a campaign that
// stays ACTIVE while one of its messages waits for review.
import { firstAdapter } from '../../src/outbound/failover.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, middayZone, outreach, seedDebtor } from '../support/api.js';
import { recoverStranded, RECOVERY_POLICY, LOOKUP_TRIES } from '../../src/outbound/recovery.js';
import { channelAdapters } from '../../src/outbound/module.js';
import { holdLease } from '../../src/outbound/lease.js';
import { MAX_ATTEMPTS } from '../../src/outbound/dispatch.js';
import { startCampaign, settleCampaigns } from '../../src/campaigns/control.js';
import { completeIfDone, enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { campaignResults } from '../../src/campaigns/results.js';
import { chicagoPhone, seed } from '../campaigns/seed.js';

const DEAD = 'dead-host:4242:0badc0de';

/** Puts a message back as a process that died with it would have left it: SENDING, no provider id, its lease run out. */
async function strand(gw: TestGateway, id: string, extra: Record<string, unknown> = {}): Promise<void> {
  // The provider's callbacks (and the send that answered them) are over first: nothing moves it on behind the test's back.
  await gw.ctx.sandboxes!.callbacks.idle();
  await gw.ctx.db.message.update({
    where: { id },
    data: {
      status: 'SENDING',
      provider: null,
      providerMessageId: null,
      sentAt: null,
      deliveredAt: null,
      claimedBy: DEAD,
      claimedAt: new Date(Date.now() - 60_000),
      leaseUntil: new Date(Date.now() - 1000),
      ...extra,
    },
  });
}

describe('recovery of stranded messages, by channel', () => {
  let gw: TestGateway;
  const { message, waitStatus, send } = outreach(() => gw);
  /** A message written but never handed over: deferred to tomorrow, so nothing sends it meanwhile. */
  const unsent = async (channel: string, intent = 'friendly-reminder') => {
    const s = await seedDebtor(gw);
    const id = await send({
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent,
      channel,
      notBefore: new Date(Date.now() + 86_400_000).toISOString(),
    });
    return { ...s, id, to: (await gw.ctx.db.message.findUniqueOrThrow({ where: { id } })).toAddress! };
  };
  const recover = async () => recoverStranded(gw.ctx, channelAdapters());
  /** A sweep that reconciles `id` and nothing else (a row another transaction holds is skipped until the next sweep). */
  const only = async (id: string) => {
    const done = await eventually(
      async () => {
        const d = await recover();
        return d.length ? d : null;
      },
      10_000,
      `a sweep that takes ${id} over`,
    );
    expect(done.map((d) => d.messageId)).toEqual([id]);
    return done[0]!;
  };
  const history = async (id: string) =>
    (await message(id)).statusHistory as {
      status: string;
      providerStatus: string | null;
      detail: Record<string, unknown> | null;
    }[];
  const audits = async (id: string) =>
    (
      await gw.ctx.db.auditEvent.findMany({ where: { entityType: 'message', entityId: id }, orderBy: { id: 'asc' } })
    ).map((a) => a.action);

  beforeAll(async () => {
    // A lease of 10 minutes: the scheduled sweep (every 5 minutes) stays out of the way of the sweeps run here.
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      SEND_LEASE_MS: '600000',
      TWILIO_AUTH_TOKEN: 'recovery-twilio-token-1234',
      LOB_WEBHOOK_SECRET: 'recovery-lob-webhook-secret',
    });
  });
  afterAll(async () => gw?.close());

  it('keeps the policy in one table: texts and emails are re-sent, calls and letters go to an admin', () => {
    expect(Object.fromEntries(Object.entries(RECOVERY_POLICY).map(([c, p]) => [c, p.otherwise]))).toEqual({
      SMS: 'resend',
      EMAIL: 'resend',
      VOICE: 'review',
      LETTER: 'review',
    });
  });

  it("SMS that reached Twilio is adopted from Twilio's message list, not sent again", async () => {
    const s = await seedDebtor(gw);
    const id = await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'friendly-reminder', channel: 'SMS' });
    const sent = await waitStatus(id, ['DELIVERED']);
    const twilio = gw.ctx.sandboxes!.twilio;
    expect(twilio.listMessages({ to: sent.to })).toHaveLength(1);
    await strand(gw, id);

    const r = await only(id);
    expect(r.action).toBe('adopt');
    const m = await message(id);
    expect(m.providerMessageId).toBe(sent.providerMessageId);
    expect(m.status).toBe('DELIVERED');
    expect(twilio.listMessages({ to: sent.to })).toHaveLength(1);
    const adopted = (await history(id)).find((e) => e.detail?.recovery === 'adopt')!;
    expect(adopted.detail).toMatchObject({ providerMessageId: sent.providerMessageId, expiredClaim: { by: DEAD } });
    expect(await audits(id)).toContain('message.adopt');
  });

  it('SMS Twilio never got is re-sent through the outbox, once', async () => {
    const { id, to } = await unsent('SMS');
    await strand(gw, id);
    const r = await only(id);
    expect(r).toMatchObject({ action: 'resend', reason: expect.stringContaining('no record') });
    await waitStatus(id, ['DELIVERED']);
    expect(gw.ctx.sandboxes!.twilio.listMessages({ to })).toHaveLength(1);
    const statuses = (await history(id)).map((e) => e.status);
    // the resend returned it to the outbox; dispatch claimed it again (a new attempt) and sent it
    expect(statuses.slice(statuses.indexOf('PENDING'))).toEqual(
      expect.arrayContaining(['PENDING', 'QUEUED', 'DELIVERED']),
    );
    expect((await message(id)).attempts).toBe(1);
    expect(await audits(id)).toContain('message.resend');
  });

  it('a call Twilio placed is adopted with its outcome; a call it never placed is placed', async () => {
    const s = await seedDebtor(gw);
    const placed = await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'past-due-notice', channel: 'VOICE' });
    const done = await waitStatus(placed, ['COMPLETED']);
    await strand(gw, placed);
    expect((await only(placed)).action).toBe('adopt');
    expect(await message(placed)).toMatchObject({ status: 'COMPLETED', providerMessageId: done.providerMessageId });
    expect(gw.ctx.sandboxes!.twilio.listCalls({ to: done.to })).toHaveLength(1);

    const never = await unsent('VOICE', 'past-due-notice');
    await strand(gw, never.id);
    expect((await only(never.id)).action).toBe('resend');
    await waitStatus(never.id, ['COMPLETED']);
    expect(gw.ctx.sandboxes!.twilio.listCalls({ to: never.to })).toHaveLength(1);
  });

  it('a call Twilio cannot be asked about goes to an admin after the lookup tries; so do two calls that could each be it', async () => {
    const down = await unsent('VOICE', 'past-due-notice');
    await strand(gw, down.id);
    const twilio = gw.ctx.sandboxes!.twilio;
    for (let i = 1; i < LOOKUP_TRIES; i++) {
      twilio.failNextRequests(1, 500);
      expect((await only(down.id)).action).toBe('lookup_failed');
      expect((await message(down.id)).status).toBe('SENDING');
      await strand(gw, down.id); // its new lease, run out
    }
    twilio.failNextRequests(1, 500);
    expect((await only(down.id)).action).toBe('review');
    expect(await message(down.id)).toMatchObject({ status: 'NEEDS_REVIEW', errorCode: 'stranded' });
    expect(twilio.listCalls({ to: down.to })).toHaveLength(0);
    expect((await history(down.id)).filter((e) => e.detail?.recovery === 'lookup_failed')).toHaveLength(
      LOOKUP_TRIES - 1,
    );

    const twice = await unsent('VOICE', 'past-due-notice');
    twilio.setCallScript(twice.to, { answer: 'busy' });
    for (let i = 0; i < 2; i++) {
      await firstAdapter(channelAdapters().VOICE).send({
        messageId: `other-${i}`,
        payload: { channel: 'VOICE', to: twice.to, machineDetection: false, record: false },
      });
    }
    await strand(gw, twice.id);
    const r = await only(twice.id);
    expect(r).toMatchObject({ action: 'review', reason: expect.stringContaining('2 twilio records') });
    expect(twilio.listCalls({ to: twice.to })).toHaveLength(2);
  });

  it('email (no key, no lookup) is re-sent', async () => {
    const { id, to } = await unsent('EMAIL', 'past-due-notice');
    await strand(gw, id);
    expect((await only(id)).reason).toMatch(/no idempotency key and cannot be asked/);
    await waitStatus(id, ['DELIVERED']);
    expect(gw.ctx.sandboxes!.sendgrid.listMessages({ to })).toHaveLength(1);
  });

  it("a letter is replayed with its Idempotency-Key inside Lob's 24 hours (one letter), and goes to an admin after them", async () => {
    const s = await seedDebtor(gw);
    const id = await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'final-notice', channel: 'LETTER' });
    const sent = await waitStatus(id, ['QUEUED', 'MAILED', 'IN_TRANSIT', 'DELIVERED']);
    const lob = gw.ctx.sandboxes!.lob;
    const letters = lob.listLetters().length;
    await strand(gw, id);
    expect((await only(id)).action).toBe('replay');
    const replayed = await waitStatus(id, ['QUEUED', 'MAILED', 'IN_TRANSIT', 'DELIVERED']);
    expect(replayed.providerMessageId).toBe(sent.providerMessageId);
    expect(lob.listLetters()).toHaveLength(letters);
    expect(replayed.attempts).toBe(sent.attempts + 1);

    await strand(gw, id, { createdAt: new Date(Date.now() - 25 * 3600_000) });
    const r = await only(id);
    expect(r.action).toBe('review');
    expect(lob.listLetters()).toHaveLength(letters);
  });

  it('a message stranded MAX_ATTEMPTS times goes to an admin, whatever its channel', async () => {
    const { id } = await unsent('SMS');
    await strand(gw, id, { attempts: MAX_ATTEMPTS });
    expect(await only(id)).toMatchObject({
      action: 'review',
      reason: expect.stringContaining(`${MAX_ATTEMPTS} attempts`),
    });
  });

  it('an admin lists the messages in review and resends or cancels them; each answer is in the history and the audit', async () => {
    const a = await unsent('VOICE', 'past-due-notice');
    const b = await unsent('VOICE', 'past-due-notice');
    for (const x of [a, b]) {
      await strand(gw, x.id, { attempts: MAX_ATTEMPTS });
      await recover();
    }
    const list = await api(gw).get('/api/v1/message-reviews');
    expect(list.status).toBe(200);
    const listed = list.body.data.map((m: { id: string }) => m.id);
    expect(listed).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(list.body.data.find((m: { id: string }) => m.id === a.id)).toMatchObject({
      channel: 'VOICE',
      reason: expect.stringContaining('attempts'),
      detail: { recovery: 'review' },
    });

    expect((await api(gw).post(`/api/v1/messages/${a.id}/review`, { action: 'retry' })).status).toBe(400);
    expect(
      (await api(gw).post(`/api/v1/messages/${a.id}/review`, { action: 'cancel', note: 'bad\u0000note' })).status,
    ).toBe(400);
    const resent = await api(gw).post(`/api/v1/messages/${a.id}/review`, {
      action: 'resend',
      note: 'checked the Twilio console: no call',
    });
    expect(resent.body).toEqual({ id: a.id, status: 'PENDING' });
    await waitStatus(a.id, ['COMPLETED']);
    expect(gw.ctx.sandboxes!.twilio.listCalls({ to: a.to })).toHaveLength(1);

    expect((await api(gw).post(`/api/v1/messages/${b.id}/review`, { action: 'cancel' })).body).toEqual({
      id: b.id,
      status: 'CANCELLED',
    });
    expect((await api(gw).post(`/api/v1/messages/${b.id}/review`, { action: 'resend' })).status).toBe(409);
    expect((await api(gw).post('/api/v1/messages/not-a-uuid/review', { action: 'resend' })).status).toBe(404);
    const cancelled = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: b.id } });
    // It may have rung: it still counts toward the debtor's limits.
    expect(cancelled.countsAsAttempt).toBe(true);
    expect(await audits(a.id)).toEqual(expect.arrayContaining(['message.review', 'message.review_resend']));
    expect(await audits(b.id)).toEqual(expect.arrayContaining(['message.review', 'message.review_cancel']));
    expect((await history(a.id)).find((e) => e.detail?.review === 'review_resend')?.detail).toMatchObject({
      note: 'checked the Twilio console: no call',
    });
  });

  it('a campaign stays ACTIVE while one of its messages waits for review, and completes once it is answered', async () => {
    const zone = middayZone();
    await seed(gw.ctx.db, [{ ref: 'RV-1', debts: ['RV-1-A'], phone: chicagoPhone(7001), zone, creditor: 'RVCRED' }]);
    const campaign = await gw.ctx.db.campaign.create({
      data: {
        name: 'review keeps it open',
        audience: { creditorRefs: ['RVCRED'] },
        stopConditions: ['PAID'],
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
    });
    await startCampaign(gw.ctx, campaign.id, { type: 'system' }, { schedule: false });
    await enrolAudience(gw.ctx, campaign.id);
    expect((await runDueSteps(gw.ctx, campaign.id)).queued).toBe(1);
    const m = await gw.ctx.db.message.findFirstOrThrow({ where: { campaignId: campaign.id } });
    await waitStatus(m.id, ['DELIVERED']);
    await strand(gw, m.id, { attempts: MAX_ATTEMPTS });
    await recover();

    expect(await completeIfDone(gw.ctx, campaign.id)).toBe(false);
    expect(await settleCampaigns(gw.ctx)).not.toContain(campaign.id);
    const results = await campaignResults(gw.ctx, campaign.id);
    expect(results.campaign.status).toBe('ACTIVE');
    expect(results.open).toEqual({ total: 1, byStatus: { NEEDS_REVIEW: 1 } });
    expect(results.steps[0]!.needsReview).toBe(1);

    await api(gw).post(`/api/v1/messages/${m.id}/review`, { action: 'cancel' });
    // The settle job (every 5 s) completes it; a sweep run here may be the one that does.
    await eventually(
      async () => {
        await settleCampaigns(gw.ctx);
        return (await campaignResults(gw.ctx, campaign.id)).campaign.status === 'COMPLETED';
      },
      15_000,
      'the campaign to complete',
    );
  });
});

describe('the lease on a claim', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', SEND_LEASE_MS: '2000' });
  });
  afterAll(async () => gw?.close());

  it('is renewed while its process works on it, and once released the scheduled sweep reconciles it', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
      notBefore: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const id = r.body.messageId as string;
    const { leaseOwner } = await import('../../src/outbound/lease.js');
    const start = new Date();
    await gw.ctx.db.message.update({
      where: { id },
      data: {
        status: 'SENDING',
        claimedBy: leaseOwner(gw.ctx),
        claimedAt: start,
        leaseUntil: new Date(start.getTime() + 2000),
      },
    });
    const release = holdLease(gw.ctx, id);
    // Past two whole leases, it is still this process's claim and still SENDING, its lease moved on.
    await eventually(async () => Date.now() > start.getTime() + 4500, 10_000, 'two leases');
    const held = await gw.ctx.db.message.findUniqueOrThrow({ where: { id } });
    expect(held.status).toBe('SENDING');
    expect(held.leaseUntil!.getTime()).toBeGreaterThan(Date.now());
    release();
    const recovered = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id }, include: { statusEvents: true } });
        return m.statusEvents.some((e) => (e.detail as { recovery?: string } | null)?.recovery === 'resend') ? m : null;
      },
      20_000,
      'the scheduled sweep',
    );
    expect(
      recovered.statusEvents.find((e) => (e.detail as { recovery?: string } | null)?.recovery === 'resend')!.detail,
    ).toMatchObject({ expiredClaim: { by: leaseOwner(gw.ctx) } });
  });
});

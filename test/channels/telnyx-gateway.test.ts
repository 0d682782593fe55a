// Telnyx end to end through the gateway, as the Twilio path is tested: a
// send through the official SDK against the Telnyx sandbox, its signed status
// webhooks moving the message to DELIVERED, an inbound SMS landing in the
// debtor's thread, and STOP revoking consent with one confirmation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { eventually, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('Telnyx as the SMS provider', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', SMS_PROVIDERS: 'telnyx' });
  });
  afterAll(async () => gw?.close());

  const sb = () => gw.ctx.sandboxes!.telnyx;
  const phoneOf = async (id: string) => (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id } })).value;

  it('sends through Telnyx and applies its signed status webhooks', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(r.status).toBe(202);
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findUnique({ where: { id: r.body.messageId } });
        return row?.status === 'DELIVERED' ? row : null;
      },
      15_000,
      'message delivered',
    );
    expect(m).toMatchObject({ provider: 'telnyx', toAddress: phone });
    const sent = sb().listMessages({ to: phone, direction: 'outbound' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.id).toBe(m.providerMessageId);
    expect(sent[0]!.text).toBe(m.body);
    const history = await gw.ctx.db.messageStatusEvent.findMany({ where: { messageId: m.id }, orderBy: { id: 'asc' } });
    expect(history.map((e) => e.providerStatus)).toEqual(expect.arrayContaining(['sent', 'delivered']));
    // Every webhook the sandbox sent was accepted (signature verified by the SDK's verifier).
    expect(gw.ctx.sandboxes!.callbacks.list({ provider: 'telnyx' }).every((c) => c.state === 'delivered')).toBe(true);
  });

  it('refuses an unsigned or re-signed webhook and stores nothing', async () => {
    const before = await gw.ctx.db.inboundEvent.count();
    const body = JSON.stringify({
      data: {
        event_type: 'message.received',
        id: '0b8c4f1e-8b1e-4a5e-9c59-2c2f2d6b0a11',
        occurred_at: new Date().toISOString(),
        payload: {
          id: 'x',
          from: { phone_number: '+13125550000' },
          to: [{ phone_number: '+15550000142' }],
          text: 'hi',
        },
        record_type: 'event',
      },
      meta: { attempt: 1, delivered_to: '' },
    });
    const res = await fetch(`${gw.url}/webhooks/telnyx/messaging`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'telnyx-timestamp': String(Math.floor(Date.now() / 1000)),
        'telnyx-signature-ed25519': Buffer.alloc(64, 1).toString('base64'),
      },
      body,
    });
    expect(res.status).toBe(403);
    expect(await gw.ctx.db.inboundEvent.count()).toBe(before);
  });

  it('lands an inbound SMS in the debtor thread', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    const r = await sb().simulateInboundSms({ from: phone, body: 'Can I pay on Friday?' });
    expect(r.status).toBe(200);
    const msg = await eventually(
      () => gw.ctx.db.message.findFirst({ where: { providerMessageId: r.id } }),
      10_000,
      'inbound message',
    );
    expect(msg).toMatchObject({
      direction: 'INBOUND',
      channel: 'SMS',
      provider: 'telnyx',
      debtorId: s.debtorId,
      contactPointId: s.phoneId,
      body: 'Can I pay on Friday?',
    });
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(msg.conversationId).toBe(conversation.id);
  });

  it('STOP revokes SMS consent, sends one confirmation through Telnyx, and the next SMS is refused', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    expect((await sb().simulateInboundSms({ from: phone, body: 'STOP' })).status).toBe(200);
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'SMS' } },
          })
        )?.state === 'REVOKED',
      10_000,
      'consent revoked',
    );
    const outbound = await eventually(
      async () => {
        const rows = await gw.ctx.db.message.findMany({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } });
        return rows.length === 1 && rows[0]!.provider ? rows : null;
      },
      15_000,
      'confirmation',
    );
    expect(outbound[0]).toMatchObject({ intent: 'opt-out-confirmation', provider: 'telnyx' });
    expect(outbound[0]!.body).not.toMatch(/\$|http|1,250/);
    const next = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(next.status).toBe(422);
    expect(JSON.stringify(next.body.details)).toContain('consent.revoked');
  });
});

describe('Two SMS providers: failover, shared opt-outs, one thread', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', SMS_PROVIDERS: 'twilio,telnyx' });
  });
  afterAll(async () => gw?.close());

  const phoneOf = async (id: string) => (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id } })).value;
  const sendSms = async (s: { debtorId: string; debtId: string }) => {
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(r.status).toBe(202);
    return r.body.messageId as string;
  };
  const settled = (id: string) =>
    eventually(
      async () => {
        const m = await gw.ctx.db.message.findUnique({ where: { id } });
        return m && ['DELIVERED', 'FAILED', 'UNDELIVERED'].includes(m.status) ? m : null;
      },
      15_000,
      'message settled',
    );

  it('fails over to Telnyx when Twilio answers 500, and says so in the decision history and explanation', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    gw.ctx.sandboxes!.twilio.failNextRequests(1, 500);
    const m = await settled(await sendSms(s));
    expect(m).toMatchObject({ status: 'DELIVERED', provider: 'telnyx' });
    expect(gw.ctx.sandboxes!.twilio.listMessages({ to: phone })).toHaveLength(0);
    expect(gw.ctx.sandboxes!.telnyx.listMessages({ to: phone })).toHaveLength(1);
    const view = await api(gw).get(`/api/v1/messages/${m.id}`);
    const [route] = view.body.decision.providerRoutes;
    expect(route).toMatchObject({
      order: ['twilio', 'telnyx'],
      chosen: 'telnyx',
      attempts: [
        { provider: 'twilio', outcome: 'failed', code: '20500', httpStatus: 500, fault: 'provider' },
        { provider: 'telnyx', outcome: 'accepted' },
      ],
    });
    expect(view.body.decision.explanation).toMatch(
      /twilio failed \(20500, HTTP 500\), a provider fault: failed over to telnyx/,
    );
    expect(view.body.statusHistory).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          providerStatus: 'failover',
          errorCode: '20500',
          detail: expect.objectContaining({ failover: expect.objectContaining({ from: 'twilio', to: 'telnyx' }) }),
        }),
      ]),
    );
  });

  it('fails over on a 429 only after short retries of the same provider', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    // Two 429s are absorbed by the retries: Twilio still carries the message.
    gw.ctx.sandboxes!.twilio.failNextRequests(2, 429);
    expect(await settled(await sendSms(s))).toMatchObject({ status: 'DELIVERED', provider: 'twilio' });
    // Three are not: Telnyx carries the next one.
    gw.ctx.sandboxes!.twilio.failNextRequests(3, 429);
    const m = await settled(await sendSms(s));
    expect(m).toMatchObject({ status: 'DELIVERED', provider: 'telnyx' });
    expect(gw.ctx.sandboxes!.telnyx.listMessages({ to: phone })).toHaveLength(1);
  });

  it('does not fail over a refusal about the recipient (invalid number)', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    gw.ctx.sandboxes!.twilio.markInvalid(phone);
    const m = await settled(await sendSms(s));
    expect(m).toMatchObject({ status: 'FAILED', errorCode: '21211' });
    expect(gw.ctx.sandboxes!.telnyx.listMessages({ to: phone })).toHaveLength(0);
    const view = await api(gw).get(`/api/v1/messages/${m.id}`);
    expect(view.body.decision.explanation).toMatch(/a refusal about the recipient, so no other provider was tried/);
    expect((await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).valid).toBe(false);
  });

  it('a STOP received through Telnyx blocks the next text through Twilio', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    await gw.ctx.sandboxes!.telnyx.simulateInboundSms({ from: phone, body: 'STOP' });
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'SMS' } },
          })
        )?.state === 'REVOKED',
      10_000,
      'consent revoked',
    );
    const next = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(next.status).toBe(422);
    expect(JSON.stringify(next.body.details)).toContain('consent.revoked');
    // Only the one confirmation went out (through the first provider); no reminder reached either sandbox.
    await eventually(
      async () =>
        (await gw.ctx.db.message.findFirst({ where: { debtorId: s.debtorId, intent: 'opt-out-confirmation' } }))
          ?.provider,
      15_000,
      'confirmation sent',
    );
    const reminders = [
      ...gw.ctx.sandboxes!.twilio.listMessages({ to: phone }),
      ...gw.ctx.sandboxes!.telnyx.listMessages({ to: phone, direction: 'outbound' }),
    ];
    expect(reminders).toHaveLength(1);
  });

  it('inbound texts through both providers land in the one thread of the debtor', async () => {
    const s = await seedDebtor(gw);
    const phone = await phoneOf(s.phoneId!);
    const viaTwilio = await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from: phone,
      to: gw.ctx.providers.twilio.from,
      body: 'First, via one number',
    });
    const viaTelnyx = await gw.ctx.sandboxes!.telnyx.simulateInboundSms({ from: phone, body: 'Second, via the other' });
    const a = await eventually(
      () => gw.ctx.db.message.findFirst({ where: { providerMessageId: viaTwilio.messageSid } }),
      10_000,
      'twilio inbound',
    );
    const b = await eventually(
      () => gw.ctx.db.message.findFirst({ where: { providerMessageId: viaTelnyx.id } }),
      10_000,
      'telnyx inbound',
    );
    expect([a.provider, b.provider]).toEqual(['twilio', 'telnyx']);
    expect(a.conversationId).toBe(b.conversationId);
    expect(await gw.ctx.db.conversation.count({ where: { debtorId: s.debtorId } })).toBe(1);
  });

  it('lists both SMS providers in the admin view', async () => {
    const r = await api(gw).get('/api/v1/admin/providers');
    expect(r.body.providers.map((p: { id: string }) => p.id)).toEqual(['twilio', 'telnyx', 'email', 'lob']);
  });
});

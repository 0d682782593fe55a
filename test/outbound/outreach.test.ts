// Outbound end to end: API → router → outbox → dispatch job → official SDK →
// provider sandbox, plus refusals, idempotency, retries and provider errors.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { reserveSendSlot, type SendSlot } from '../../src/outbound/dispatch.js';

const TWILIO_AUTH_TOKEN = 'test-twilio-token-123456';

describe('outreach', () => {
  let gw: TestGateway;
  const sb = () => gw.ctx.sandboxes!;
  const message = async (id: string) => (await api(gw).get(`/api/v1/messages/${id}`)).body;
  const waitStatus = (id: string, statuses: string[], what = statuses.join('/')) =>
    eventually(
      async () => {
        const m = await message(id);
        return statuses.includes(m.status) ? m : null;
      },
      20_000,
      what,
    );

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN,
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
      SEND_CONCURRENCY: '3',
    });
  });
  afterAll(async () => gw?.close());

  it('sends an SMS through the Twilio SDK to the sandbox and stores the decision', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(r.status).toBe(202);
    expect(r.body.outcome).toBe('send');
    expect(r.body.decision.reasons.map((x: { rule: string }) => x.rule)).toContain('channel.explicit');
    const m = await waitStatus(r.body.messageId, ['QUEUED', 'SENT', 'DELIVERED']);
    expect(m.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    const sent = sb().twilio.getMessage(m.providerMessageId)!;
    expect(sent.to).toBe(m.to);
    expect(sent.body).toContain('Reply STOP');
    expect(sent.body).toContain('debt collector'); // first communication carries the disclosure
    expect(m.segments).toBeGreaterThan(1);
    expect(m.encoding).toBe('GSM-7');
    expect(m.decision.explanation).toMatch(/SMS/);
  });

  it('claims a message due now in the transaction that decides it and hands it to the provider on commit', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(r.status).toBe(202);
    const m = await waitStatus(r.body.messageId, ['DELIVERED']);
    // Born SENDING with the router's reasons (no PENDING row waiting for a dispatch), one attempt.
    expect(m.statusHistory[0]).toMatchObject({
      status: 'SENDING',
      detail: { reasons: expect.arrayContaining(['channel.explicit']) },
    });
    expect(m.statusHistory.some((e: { status: string }) => e.status === 'PENDING')).toBe(false);
    expect(m.attempts).toBe(1);
  });

  it('queues a message due now as PENDING when no send slot is free, and dispatches it with the send-time re-check', async () => {
    const slots: SendSlot[] = [];
    for (let slot = reserveSendSlot(gw.ctx); slot; slot = reserveSendSlot(gw.ctx)) slots.push(slot);
    expect(slots.length).toBe(3); // SEND_CONCURRENCY
    try {
      const s = await seedDebtor(gw);
      const r = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
      });
      expect(r.status).toBe(202);
      const m = await waitStatus(r.body.messageId, ['DELIVERED']);
      expect(m.statusHistory[0].status).toBe('PENDING');
      expect(m.attempts).toBe(1);
    } finally {
      for (const slot of slots) slot.release();
    }
    // Given back, the slots serve the next request.
    const again = reserveSendSlot(gw.ctx);
    expect(again).not.toBeNull();
    again!.release();
  });

  it('sends an email with Message-ID, a Reply-To token, one-click List-Unsubscribe and both parts', async () => {
    const s = await seedDebtor(gw, { preferences: { channelOrder: ['EMAIL'] } });
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
    });
    expect(r.status).toBe(202);
    expect(r.body.decision.channel).toBe('EMAIL');
    const m = await waitStatus(r.body.messageId, ['QUEUED', 'SENT', 'DELIVERED']);
    const mail = sb().sendgrid.getMessage(m.providerMessageId)!;
    expect(mail).toBeDefined();
    const conv = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    const json = JSON.stringify(mail);
    expect(json).toContain(`reply+${conv.replyToken}@`);
    expect(json).toContain(`<${m.id}@`);
    expect(json).toContain('List-Unsubscribe=One-Click');
    expect(json).toMatch(/\/unsubscribe\//);
    expect(json).toContain('text/plain');
    expect(json).toContain('text/html');
  });

  it('prints a letter: PDF stored and linked, mail type and extra service from the template', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'final-notice',
      channel: 'LETTER',
    });
    expect(r.status).toBe(202);
    const m = await waitStatus(r.body.messageId, ['QUEUED', 'MAILED', 'IN_TRANSIT', 'DELIVERED']);
    expect(m.providerMessageId).toMatch(/^ltr_/);
    const pdf = await fetch(`${gw.url}${m.pdf}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(pdf.status).toBe(200);
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    const letter = sb()
      .lob.listLetters?.()
      .find((l: { letter: { id: string } }) => l.letter.id === m.providerMessageId) as
      | { letter: Record<string, unknown> }
      | undefined;
    expect(letter?.letter.mail_type).toBe('usps_first_class');
    expect(letter?.letter.extra_service).toBe('certified');
  });

  it('refuses an explicit channel the debtor opted out of, naming the rule, and never sends', async () => {
    const s = await seedDebtor(gw);
    await api(gw).patch(`/api/v1/contact-points/${s.phoneId}`, { consents: { SMS: 'REVOKED' } });
    const before = sb().twilio.listMessages().length;
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(r.status).toBe(422);
    expect(r.body.error).toBe('refused');
    expect(JSON.stringify(r.body.details)).toContain('consent.revoked');
    expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId } })).toBe(0);
    expect(sb().twilio.listMessages().length).toBe(before);
  });

  it('falls back from an opted-out preferred channel and records why', async () => {
    const s = await seedDebtor(gw, { preferences: { channelOrder: ['SMS', 'EMAIL'] } });
    await api(gw).patch(`/api/v1/contact-points/${s.phoneId}`, { consents: { SMS: 'REVOKED' } });
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
    });
    expect(r.status).toBe(202);
    expect(r.body.decision.channel).toBe('EMAIL');
    const stored = await message(r.body.messageId);
    const rules = stored.decision.reasons.map((x: { rule: string }) => x.rule);
    expect(rules).toContain('preference.fallback');
    expect(rules).toContain('consent.revoked');
  });

  it('a retried request with the same Idempotency-Key returns the first result and calls the provider once', async () => {
    const s = await seedDebtor(gw);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    const body = {
      debtorId: s.debtId ? s.debtorId : '',
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    };
    const headers = { 'Idempotency-Key': `retry-${s.debtId}` };
    const [a, b] = await Promise.all([
      api(gw).post('/api/v1/outreach', body, headers),
      api(gw).post('/api/v1/outreach', body, headers),
    ]);
    const c = await api(gw).post('/api/v1/outreach', body, headers);
    const ok = [a, b, c].filter((x) => x.status === 202);
    expect(ok.length).toBeGreaterThanOrEqual(2); // a concurrent duplicate may get 409 "in progress"
    expect(new Set(ok.map((x) => x.body.messageId)).size).toBe(1);
    expect(c.headers.get('idempotent-replayed')).toBe('true');
    await waitStatus(c.body.messageId, ['QUEUED', 'SENT', 'DELIVERED']);
    expect(sb().twilio.listMessages({ to: phone }).length).toBe(1);
    const reused = await api(gw).post('/api/v1/outreach', { ...body, intent: 'past-due-notice' }, headers);
    expect(reused.status).toBe(422);
    expect(reused.body.error).toBe('idempotency_key_reused');
  });

  it('retries a transient provider error (HTTP 500) with backoff and then sends', async () => {
    const s = await seedDebtor(gw);
    sb().twilio.failNextRequests(1, 500);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    const m = await waitStatus(r.body.messageId, ['QUEUED', 'SENT', 'DELIVERED']);
    expect(m.attempts).toBe(2);
    expect(m.statusHistory.map((e: { status: string }) => e.status)).toEqual(
      expect.arrayContaining(['PENDING', 'QUEUED']),
    );
    expect(m.statusHistory.find((e: { errorCode: string | null }) => e.errorCode)?.errorCode).toBe('20500');
  });

  it('a permanent 21610 fails the message with the code and records the SMS opt-out; 21211 marks the number invalid', async () => {
    const s = await seedDebtor(gw);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    sb().twilio.optOut(phone);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    const m = await waitStatus(r.body.messageId, ['FAILED']);
    expect(m.errorCode).toBe('21610');
    const consent = await gw.ctx.db.channelConsent.findUniqueOrThrow({
      where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'SMS' } },
    });
    expect(consent.state).toBe('REVOKED');

    const t = await seedDebtor(gw);
    const phone2 = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: t.phoneId! } })).value;
    sb().twilio.markInvalid(phone2);
    const r2 = await api(gw).post('/api/v1/outreach', {
      debtorId: t.debtorId,
      debtId: t.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    const m2 = await waitStatus(r2.body.messageId, ['FAILED']);
    expect(m2.errorCode).toBe('21211');
    expect((await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: t.phoneId! } })).valid).toBe(false);
  });

  it('rejects bad input with field-level errors', async () => {
    const r = await api(gw).post('/api/v1/outreach', { debtorId: 'nope', intent: '' });
    expect(r.status).toBe(400);
    const fields = r.body.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['debtorId', 'debtId']));
    const d = await api(gw).post('/api/v1/debts', {
      externalRef: 'x',
      creditor: { externalRef: 'c', name: 'C' },
      debtorExternalRef: 'x',
      originalAmount: 12.5,
      currency: 'usd',
      dueDate: '2026-02-30',
    });
    expect(d.status).toBe(400);
    const f2 = d.body.details.map((x: { field: string }) => x.field);
    expect(f2).toEqual(expect.arrayContaining(['originalAmount', 'currency', 'dueDate']));
  });

  it('requires an API key, and serves the OpenAPI document', async () => {
    const r = await fetch(`${gw.url}/api/v1/debtors`);
    expect(r.status).toBe(401);
    const bad = await api(gw, 'dgw_not-a-real-key').get('/api/v1/debtors');
    expect(bad.status).toBe(401);
    const doc = await (await fetch(`${gw.url}/api/openapi.json`)).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/outreach', '/api/v1/debtors', '/api/v1/messages/{id}']),
    );
  });
});

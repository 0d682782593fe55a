// The composer through the API: free-text replies by SMS and email carry the
// compliance parts (disclosure, STOP / unsubscribe link) and go through the
// router; the preview shows the text and the router's decision (including a
// refusal and its reason) and writes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { createAgent, login, type SessionClient } from './session.js';

describe('composer: free text and preview', () => {
  let gw: TestGateway;
  let ana: SessionClient;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'compose-test-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    ana = await login(gw, await createAgent(gw, 'AGENT', 'Ana'));
  });
  afterAll(async () => gw?.close());

  /** A debtor who texted in, so there is a conversation to answer. */
  async function conversationFor(fullName: string, overrides: Record<string, unknown> = {}) {
    const d = await seedDebtor(gw, { fullName, ...overrides });
    const from = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: d.phoneId! } })).value;
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from,
      to: gw.ctx.providers.twilio.from,
      body: 'what do I owe?',
    });
    const c = await eventually(
      () => gw.ctx.db.conversation.findUnique({ where: { debtorId: d.debtorId } }),
      10_000,
      'conversation',
    );
    return { ...d, conversationId: c.id };
  }

  it('free-text SMS: preview shows the text with disclosure and STOP, the reply sends exactly that and reaches delivered', async () => {
    const d = await conversationFor('Fiona Freetext');
    const auditBefore = await gw.ctx.db.auditEvent.count();
    const preview = await ana.call('POST', `/api/v1/inbox/conversations/${d.conversationId}/preview`, {
      channel: 'SMS',
      text: 'Hi Fiona, you owe 1,250.00. Can we talk today?',
    });
    expect(preview.status).toBe(200);
    expect(preview.body.decision).toMatchObject({ outcome: 'send', summary: 'allowed now', channel: 'SMS' });
    expect(preview.body.content.text).toMatch(/^Hi Fiona, you owe 1,250\.00\. Can we talk today\? /);
    expect(preview.body.content.text).toMatch(/debt collector/);
    expect(preview.body.content.text).toMatch(/Reply STOP to opt out\.$/);
    expect(preview.body.content.segments).toBeGreaterThanOrEqual(1);
    // A preview reserves nothing and records nothing.
    expect(await gw.ctx.db.message.count({ where: { debtorId: d.debtorId, direction: 'OUTBOUND' } })).toBe(0);
    expect(await gw.ctx.db.auditEvent.count()).toBe(auditBefore);

    const sent = await ana.call('POST', `/api/v1/conversations/${d.conversationId}/reply`, {
      channel: 'SMS',
      text: 'Hi Fiona, you owe 1,250.00. Can we talk today?',
    });
    expect(sent.status).toBe(202);
    const msg = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUnique({ where: { id: sent.body.messageId } });
        return m?.status === 'DELIVERED' ? m : null;
      },
      30_000,
      'free-text SMS delivered',
    );
    expect(msg).toMatchObject({
      intent: 'free-text',
      channel: 'SMS',
      body: preview.body.content.text,
      createdById: ana.user.id,
    });
    const auditRow = await gw.ctx.db.auditEvent.findFirstOrThrow({
      where: { action: 'conversation.reply', entityId: d.conversationId },
    });
    expect(auditRow.actorId).toBe(ana.user.id);
    expect(auditRow.data).toMatchObject({ intent: 'free-text', channel: 'SMS', freeTextLength: 46, messageId: msg.id });
  }, 60_000);

  it('free-text email needs a subject and carries the unsubscribe link in text and HTML', async () => {
    const d = await conversationFor('Eli Email');
    const noSubject = await ana.call('POST', `/api/v1/conversations/${d.conversationId}/reply`, {
      channel: 'EMAIL',
      text: 'Details attached below.',
    });
    expect(noSubject.status).toBe(400);
    expect(noSubject.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'subject' })]));
    const both = await ana.call('POST', `/api/v1/inbox/conversations/${d.conversationId}/preview`, {
      channel: 'SMS',
      text: 'x',
      intent: 'friendly-reminder',
    });
    expect(both.status).toBe(400);

    const body = {
      channel: 'EMAIL',
      subject: 'Your account <ref>',
      text: 'Hello Eli,\n\nHere is what we discussed: pay 100 a month.',
    };
    const preview = await ana.call('POST', `/api/v1/inbox/conversations/${d.conversationId}/preview`, body);
    expect(preview.status).toBe(200);
    expect(preview.body.content.subject).toBe('Your account <ref>');
    expect(preview.body.content.text).toMatch(/unsubscribe here: http\S+\/unsubscribe\/\S+$/);
    const sent = await ana.call('POST', `/api/v1/conversations/${d.conversationId}/reply`, body);
    expect(sent.status).toBe(202);
    const msg = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: sent.body.messageId } });
    expect(msg.subject).toBe('Your account <ref>');
    expect(msg.body).toBe(preview.body.content.text);
    // The agent's text is escaped in the HTML; the unsubscribe link is an anchor.
    expect(msg.html).toContain('<title>Your account &#60;ref&#62;</title>');
    expect(msg.html).toMatch(/<a href="http[^"]+\/unsubscribe\/[^"]+">/);
  }, 60_000);

  it('preview shows a refusal and its reason before anything is sent; free text cannot pass a cease-communication', async () => {
    const revoked = await conversationFor('Rita Revoked');
    await api(gw).patch(`/api/v1/contact-points/${revoked.phoneId}`, { consents: { SMS: 'REVOKED' } });
    const preview = await ana.call('POST', `/api/v1/inbox/conversations/${revoked.conversationId}/preview`, {
      channel: 'SMS',
      intent: 'past-due-notice',
    });
    expect(preview.status).toBe(200);
    expect(preview.body.decision.outcome).toBe('refuse');
    expect(preview.body.decision.summary).toBe('not allowed');
    expect(preview.body.decision.reasons.map((r: { rule: string }) => r.rule)).toContain('consent.revoked');
    // The text is still shown, so the agent sees what would have gone out.
    expect(preview.body.content.text).toMatch(/Rita Revoked/);
    const refused = await ana.call('POST', `/api/v1/conversations/${revoked.conversationId}/reply`, {
      channel: 'SMS',
      intent: 'past-due-notice',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.details.reasons.map((r: { rule: string }) => r.rule)).toContain('consent.revoked');

    const ceased = await conversationFor('Cesar Cease');
    expect(
      (await api(gw).patch(`/api/v1/debtors/${ceased.debtorId}`, { restrictions: ['CEASE_COMMUNICATION'] })).status,
    ).toBe(200);
    const ceasePreview = await ana.call('POST', `/api/v1/inbox/conversations/${ceased.conversationId}/preview`, {
      channel: 'SMS',
      text: 'Please pay now',
    });
    expect(ceasePreview.body.decision.outcome).toBe('refuse');
    expect(ceasePreview.body.decision.explanation).toMatch(/CEASE_COMMUNICATION/);
    const ceaseReply = await ana.call('POST', `/api/v1/conversations/${ceased.conversationId}/reply`, {
      channel: 'SMS',
      text: 'Please pay now',
    });
    expect(ceaseReply.status).toBe(422);
    expect(
      await gw.ctx.db.message.count({
        where: { debtorId: { in: [revoked.debtorId, ceased.debtorId] }, direction: 'OUTBOUND' },
      }),
    ).toBe(0);
    expect(
      await gw.ctx.db.auditEvent.count({ where: { action: 'conversation.reply_refused', actorId: ana.user.id } }),
    ).toBe(2);
  }, 60_000);
});

// The inbox API without a browser: list filters and search, snooze reopened by
// a reply, the stale-reply guard, notes and the debtor panel.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { createAgent, login, type SessionClient } from './session.js';

describe('inbox API', () => {
  let gw: TestGateway;
  let ana: SessionClient;
  let ben: SessionClient;
  const inbound = async (phoneId: string, body: string) => {
    const from = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: phoneId } })).value;
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({ from, to: gw.ctx.providers.twilio.from, body });
    return from;
  };
  // The thread is made a statement before the message lands in it: wait for the message, not just the thread.
  const conversationOf = (debtorId: string) =>
    eventually(
      () => gw.ctx.db.conversation.findFirst({ where: { debtorId, messages: { some: { direction: 'INBOUND' } } } }),
      10_000,
      'conversation with its inbound message',
    );

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'inbox-api-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    ana = await login(gw, await createAgent(gw, 'AGENT', 'Ana'));
    ben = await login(gw, await createAgent(gw, 'AGENT', 'Ben'));
  });
  afterAll(async () => gw?.close());

  it('lists by last activity and finds by name, phone digits and message text; unassigned/mine views', async () => {
    const s = await seedDebtor(gw, { fullName: 'Quentin Searchable' });
    const phone = await inbound(s.phoneId!, 'my invoice number is ZX-9981');
    const c = await conversationOf(s.debtorId);
    const find = async (q: string) =>
      (await ana.call('GET', `/api/v1/inbox/conversations?q=${encodeURIComponent(q)}`)).body.conversations.map(
        (x: { id: string }) => x.id,
      );
    expect(await find('searchable')).toContain(c.id);
    expect(await find(`(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(8)}`)).toContain(c.id);
    expect(await find('zx-9981')).toContain(c.id);
    expect(await find('nothing-like-this')).not.toContain(c.id);
    const unassigned = (await ana.call('GET', '/api/v1/inbox/conversations?view=unassigned')).body.conversations.map(
      (x: { id: string }) => x.id,
    );
    expect(unassigned).toContain(c.id);
    expect((await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/claim`, {})).status).toBe(200);
    expect((await ben.call('POST', `/api/v1/inbox/conversations/${c.id}/claim`, {})).status).toBe(409);
    const mine = (await ana.call('GET', '/api/v1/inbox/conversations?view=mine')).body.conversations;
    expect(mine.map((x: { id: string }) => x.id)).toEqual([c.id]);
    expect(mine[0].assignee.name).toBe('Ana');
    const all = (await ana.call('GET', '/api/v1/inbox/conversations')).body.conversations as {
      lastActivityAt: string;
    }[];
    expect([...all].sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt))).toEqual(all);
  });

  it('a snoozed conversation reopens when the debtor writes again', async () => {
    const s = await seedDebtor(gw);
    await inbound(s.phoneId!, 'call me tomorrow');
    const c = await conversationOf(s.debtorId);
    const until = new Date(Date.now() + 86_400_000).toISOString();
    const r = await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/status`, {
      status: 'SNOOZED',
      snoozedUntil: until,
    });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('SNOOZED');
    expect((await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/status`, { status: 'SNOOZED' })).status).toBe(
      400,
    );
    await inbound(s.phoneId!, 'actually, now works');
    await eventually(
      async () => (await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: c.id } })).status === 'OPEN',
      10_000,
      'reopened',
    );
    expect(
      await gw.ctx.db.auditEvent.count({
        where: { action: 'conversation.status', entityId: c.id, actorId: ana.user.id },
      }),
    ).toBe(1);
  });

  it('blocks a reply when someone else replied after the agent opened the conversation, and returns that reply', async () => {
    const s = await seedDebtor(gw);
    await inbound(s.phoneId!, 'hello?');
    const c = await conversationOf(s.debtorId);
    const opened = (await ana.call('GET', `/api/v1/inbox/conversations/${c.id}`)).body.conversation.lastSeq;
    const first = await ben.call('POST', `/api/v1/conversations/${c.id}/reply`, {
      channel: 'SMS',
      intent: 'friendly-reminder',
      openedAtSeq: opened,
    });
    expect(first.status).toBe(202);
    const stale = await ana.call('POST', `/api/v1/conversations/${c.id}/reply`, {
      channel: 'SMS',
      intent: 'friendly-reminder',
      openedAtSeq: opened,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.details.events[0].payload.messageId).toBe(first.body.messageId);
    expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } })).toBe(1);
  });

  it('refuses a reply over an opted-out channel with the reasons and sends nothing', async () => {
    const s = await seedDebtor(gw);
    await inbound(s.phoneId!, 'who is this');
    await api(gw).patch(`/api/v1/contact-points/${s.phoneId}`, { consents: { SMS: 'REVOKED' } });
    const c = await conversationOf(s.debtorId);
    const r = await ana.call('POST', `/api/v1/conversations/${c.id}/reply`, {
      channel: 'SMS',
      intent: 'friendly-reminder',
    });
    expect(r.status).toBe(422);
    expect(r.body.details.reasons.map((x: { rule: string }) => x.rule)).toContain('consent.revoked');
    expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } })).toBe(0);
    const panel = (await ana.call('GET', `/api/v1/inbox/debtors/${s.debtorId}/panel`)).body;
    expect(panel.allowance.channels.find((a: { channel: string }) => a.channel === 'SMS').outcome).toBe('refuse');
    expect(panel.contactPoints.find((cp: { kind: string }) => cp.kind === 'PHONE').consents.SMS.state).toBe('REVOKED');
    expect(panel.debts[0].daysPastDue).toBeGreaterThan(0);
  });

  it('notes land in the timeline and the audit log', async () => {
    const s = await seedDebtor(gw);
    await inbound(s.phoneId!, 'ok');
    const c = await conversationOf(s.debtorId);
    const r = await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/notes`, { body: 'promised Friday' });
    expect(r.status).toBe(201);
    const events = (await ana.call('GET', `/api/v1/conversations/${c.id}/events?after=0`)).body.events;
    expect(
      events.some(
        (e: { type: string; payload: { body?: string } }) =>
          e.type === 'note.created' && e.payload.body === 'promised Friday',
      ),
    ).toBe(true);
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'note.create', entityId: c.id } })).toBe(1);
  });
});

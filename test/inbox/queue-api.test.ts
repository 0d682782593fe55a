// The work queue over the API: views (unanswered oldest first, mine,
// promises due today, broken promises, callbacks, disputes, by balance),
// keyset pagination that reaches every conversation and stays stable while
// new ones arrive, per-agent unread counts, the first-response target,
// reference search, flag and restriction changes with reasons (a cease needs
// an admin) and the activity they leave in the thread.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { createAgent, login, type SessionClient } from './session.js';
import { seedConversations } from './seed-queue.js';

describe('work queue API', () => {
  let gw: TestGateway;
  let ana: SessionClient;
  let ben: SessionClient;
  let boss: SessionClient;
  const inbound = async (phoneId: string, body: string) => {
    const from = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: phoneId } })).value;
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({ from, to: gw.ctx.providers.twilio.from, body });
  };
  const conversationOf = (debtorId: string) =>
    eventually(
      () => gw.ctx.db.conversation.findFirst({ where: { debtorId, messages: { some: { direction: 'INBOUND' } } } }),
      10_000,
      'conversation with its inbound message',
    );
  const page = async (who: SessionClient, query: string) => {
    const r = await who.call('GET', `/api/v1/inbox/conversations?${query}`);
    if (r.status !== 200) throw new Error(`list ${query}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { conversations: any[]; nextCursor: string | null; sla: { firstResponseMinutes: number } };
  };
  /** Every row of a view, page by page; `between` runs after the first page (to add rows mid-walk). */
  const walk = async (who: SessionClient, query: string, limit: number, between?: () => Promise<void>) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let first = true;
    do {
      const r = await page(who, `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      ids.push(...r.conversations.map((c) => c.id));
      cursor = r.nextCursor;
      if (first && between) await between();
      first = false;
    } while (cursor);
    return ids;
  };

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'queue-api-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
      INBOX_FIRST_RESPONSE_SLA_MINUTES: '30',
    });
    ana = await login(gw, await createAgent(gw, 'AGENT', 'Ana'));
    ben = await login(gw, await createAgent(gw, 'AGENT', 'Ben'));
    boss = await login(gw, await createAgent(gw, 'ADMIN', 'Boss'));
  });
  afterAll(async () => gw?.close());

  it('reaches every one of 250 conversations page by page, oldest waiting first, without repeats while new ones arrive', async () => {
    const seeded = await seedConversations(gw, 250);
    const unanswered = await walk(ana, 'view=unanswered', 40, async () => {
      // New arrivals while the agent reads on: they sort after the ones already owed, and nothing shifts under the cursor.
      await seedConversations(gw, 5, { minutesAgoFrom: 6 });
    });
    expect(new Set(unanswered).size).toBe(unanswered.length);
    const mine = unanswered.filter((id) => seeded.conversationIds.includes(id));
    expect(mine).toEqual(seeded.conversationIds);
    expect(unanswered.length).toBe(255);
    const all = await walk(ana, 'view=all', 64);
    expect(new Set(all).size).toBe(all.length);
    for (const id of seeded.conversationIds) expect(all).toContain(id);

    const first = (await page(ana, 'view=unanswered&limit=2')).conversations[0];
    expect(first.id).toBe(seeded.conversationIds[0]);
    expect(first.waitingSince).toBeTruthy();
    expect(first.unread).toBe(true);
    expect((await page(ana, 'view=unanswered&limit=1')).sla.firstResponseMinutes).toBe(30);
    // by balance: the largest owed first (seeded balances grow with i).
    const byBalance = (await page(ana, 'view=by_balance&limit=3')).conversations;
    expect(Number(byBalance[0].balance.amount)).toBeGreaterThanOrEqual(Number(byBalance[1].balance.amount));

    // Reference search: an invoice number typed with other punctuation, and an account reference.
    const ref = seeded.invoiceRefs[41]!;
    const hits = (await page(ana, `q=${encodeURIComponent(ref.replace(/-/g, ' '))}`)).conversations.map((c) => c.id);
    expect(hits).toEqual([seeded.conversationIds[41]]);
    const exact = (await page(ana, `q=${encodeURIComponent(ref.toLowerCase())}`)).conversations.map((c) => c.id);
    expect(exact).toEqual([seeded.conversationIds[41]]);

    // A cursor is only one the list gave out; hostile search text is refused by field.
    expect((await ana.call('GET', '/api/v1/inbox/conversations?view=unanswered&cursor=bm9wZQ')).status).toBe(400);
    const bad = await ana.call('GET', `/api/v1/inbox/conversations?q=${encodeURIComponent('a\u0000b')}`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/q/);
    expect((await ana.call('GET', '/api/v1/inbox/conversations?q=100%25_')).status).toBe(200);
  }, 60_000);

  it('counts per view: unread for each agent until they open it, overdue past the target, answered leaves the unanswered view', async () => {
    const s = await seedDebtor(gw, { fullName: 'Una Unread' });
    await inbound(s.phoneId!, 'Is my balance right?');
    const c = await conversationOf(s.debtorId);
    const counts = async (who: SessionClient) =>
      Object.fromEntries(((await who.call('GET', '/api/v1/inbox/views')).body.views as any[]).map((v) => [v.view, v]));
    const before = await counts(ana);
    expect(before.unanswered.unread).toBeGreaterThan(0);
    // Of the 250 seeded 260 to 11 minutes ago, 230 wrote more than the 30 minute target ago; the newest 20 and Una not.
    expect(before.unanswered.overdue).toBe(230);
    expect((await ana.call('GET', `/api/v1/inbox/conversations/${c.id}`)).status).toBe(200);
    const after = await counts(ana);
    expect(after.unanswered.unread).toBe(before.unanswered.unread - 1);
    expect((await counts(ben)).unanswered.unread).toBe(before.unanswered.unread);

    const reply = await ana.call('POST', `/api/v1/conversations/${c.id}/reply`, {
      channel: 'SMS',
      intent: 'friendly-reminder',
    });
    expect(reply.status).toBe(202);
    const ids = (await page(ana, `view=unanswered&ids=${c.id}`)).conversations;
    expect(ids).toEqual([]);
    // The debtor writes again: owed again, from that message on.
    await inbound(s.phoneId!, 'Thanks, one more question');
    await eventually(
      async () => (await page(ana, `view=unanswered&ids=${c.id}`)).conversations.length === 1,
      10_000,
      'unanswered again',
    );
    const row = (await page(ana, `view=unanswered&ids=${c.id}`)).conversations[0];
    expect(new Date(row.waitingSince).getTime()).toBeGreaterThan(
      new Date(reply.body.messageId ? Date.now() - 60_000 : 0).getTime(),
    );
    // Resolving lets it go too.
    expect((await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/status`, { status: 'RESOLVED' })).status).toBe(
      200,
    );
    expect((await page(ana, `view=unanswered&ids=${c.id}`)).conversations).toEqual([]);
  }, 60_000);

  it('promises due today, broken promises, disputes and mine views', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const p = await seedDebtor(gw, { fullName: 'Pia Promise' });
    await inbound(p.phoneId!, 'I will pay today');
    const pc = await conversationOf(p.debtorId);
    await gw.ctx.db.promiseToPay.create({
      data: { debtId: p.debtId, amount: '50', dueDate: new Date(`${today}T00:00:00Z`) },
    });
    const b = await seedDebtor(gw, { fullName: 'Bo Broken' });
    await inbound(b.phoneId!, 'sorry, next week');
    const bc = await conversationOf(b.debtorId);
    await gw.ctx.db.promiseToPay.create({
      data: { debtId: b.debtId, amount: '50', dueDate: new Date(Date.now() - 3 * 86_400_000) },
    });
    const d = await seedDebtor(gw, { fullName: 'Dee Dispute' });
    await inbound(d.phoneId!, 'I dispute this debt, it is not mine');
    const dc = await conversationOf(d.debtorId);

    const ids = async (view: string) =>
      (await walk(ana, `view=${view}&tz=UTC`, 200)).filter((id) => [pc.id, bc.id, dc.id].includes(id));
    expect(await ids('promises_today')).toEqual([pc.id]);
    expect(await ids('broken_promises')).toEqual([bc.id]);
    await eventually(async () => (await ids('disputes')).includes(dc.id), 10_000, 'dispute flagged');
    expect(await ids('disputes')).toEqual([dc.id]);
    expect((await ana.call('POST', `/api/v1/inbox/conversations/${bc.id}/claim`, {})).status).toBe(200);
    expect((await page(ana, 'view=mine')).conversations.map((c) => c.id)).toEqual([bc.id]);
    expect((await page(ben, 'view=mine')).conversations).toEqual([]);
  }, 60_000);

  it('clears a wrong flag with a reason; a cease is lifted only by an admin; both are in the thread activity with who did it', async () => {
    const s = await seedDebtor(gw, { fullName: 'Cy Cease' });
    await inbound(s.phoneId!, 'Stop contacting me at this work email');
    const c = await conversationOf(s.debtorId);
    await eventually(
      async () =>
        (await gw.ctx.db.debtor.findUniqueOrThrow({ where: { id: s.debtorId } })).restrictions.includes(
          'CEASE_COMMUNICATION',
        ),
      10_000,
      'cease read from the reply',
    );

    expect(
      (await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/flags`, { flag: 'NEEDS_REVIEW', change: 'remove' }))
        .status,
    ).toBe(400);
    const cleared = await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/flags`, {
      flag: 'NEEDS_REVIEW',
      change: 'remove',
      reason: 'read it: only the work email',
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.flags).not.toContain('NEEDS_REVIEW');
    const denied = await ana.call('POST', `/api/v1/inbox/debtors/${s.debtorId}/restrictions`, {
      restriction: 'CEASE_COMMUNICATION',
      change: 'remove',
      reason: 'only the work email',
    });
    expect(denied.status).toBe(403);
    const lifted = await boss.call('POST', `/api/v1/inbox/debtors/${s.debtorId}/restrictions`, {
      restriction: 'CEASE_COMMUNICATION',
      change: 'remove',
      reason: 'debtor asked only about the work email',
    });
    expect(lifted.status).toBe(200);
    expect(lifted.body.restrictions).not.toContain('CEASE_COMMUNICATION');
    expect(
      (
        await ana.call('POST', `/api/v1/inbox/conversations/${c.id}/flags`, {
          flag: 'CEASE',
          change: 'remove',
          reason: 'lifted by Boss',
        })
      ).status,
    ).toBe(403);

    const thread = (await ben.call('GET', `/api/v1/inbox/conversations/${c.id}`)).body;
    const texts = thread.activity.map((a: any) => `${a.actor.name}: ${a.text}`);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Ana: cleared the flag needs review — “read it: only the work email”/),
        expect.stringMatching(/^Boss: lifted the restriction cease communication/),
        expect.stringMatching(/restricted contact: cease communication \(read from a reply\)/),
      ]),
    );
    expect(
      await gw.ctx.db.auditEvent.count({
        where: { action: 'debtor.unrestrict', entityId: s.debtorId, actorId: boss.user.id },
      }),
    ).toBe(1);
  }, 60_000);
});

// The debtor's page end to end on the real gateway: the signed link from a
// delivered SMS, identity first (one-time code through the Twilio sandbox, or
// a fact on file), locks after repeated failures (also under parallel
// guesses), nothing revealed to the wrong person, and the debtor's actions
// landing in the thread, the audit log and the outgoing webhooks.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor, type SeededDebtor } from '../support/api.js';
import { checkPortalToken, externalPortalUrl, portalToken } from '../../src/portal/links.js';
import { PageClient } from './client.js';

const TWILIO_AUTH_TOKEN = 'test-twilio-token-123456';

describe('debtor page', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN,
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
      WEBHOOK_ALLOWED_INTERNAL_TARGETS: '127.0.0.1',
    });
    await api(gw).post('/api/v1/webhook-subscriptions', {
      url: 'http://127.0.0.1:9/hook',
      events: ['promise.created', 'dispute.opened', 'opt_out.recorded', 'conversation.flagged', 'preferences.updated'],
    });
  });
  afterAll(async () => gw?.close());

  /** Sends a reminder by SMS and returns the link it carried (as delivered by the sandbox). */
  async function linkFromSms(s: SeededDebtor): Promise<string> {
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
        return row?.providerMessageId ? row : null;
      },
      20_000,
      'the reminder handed to Twilio',
    );
    const sms = gw.ctx.sandboxes!.twilio.getMessage(m.providerMessageId!)!;
    const link = /https?:\/\/\S+\/pay\/[A-Za-z0-9_.-]+/.exec(sms.body)?.[0];
    expect(link).toBeDefined();
    return link!.replace(/[.,]$/, '');
  }

  /** The one-time code the sandbox delivered to the debtor's phone. */
  async function codeSentTo(debtorId: string): Promise<string> {
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findFirst({
          where: { debtorId, intent: 'verification-code' },
          orderBy: { createdAt: 'desc' },
        });
        return row?.providerMessageId ? row : null;
      },
      20_000,
      'the code message handed to Twilio',
    );
    const sms = gw.ctx.sandboxes!.twilio.getMessage(m.providerMessageId!)!;
    return /\b(\d{6})\b/.exec(sms.body)![1]!;
  }

  const revealsNothing = (html: string) => {
    for (const secret of ['1,250', '1250', 'Acme Utilities', 'INV-', 'Jordan']) expect(html).not.toContain(secret);
  };

  it('links in a message are signed for the debtor, the debt and the contact point, and expire', async () => {
    const s = await seedDebtor(gw);
    const link = await linkFromSms(s);
    const token = link.split('/pay/')[1]!;
    const check = await checkPortalToken(gw.ctx.secret, token, async (id) => (id === s.debtId ? s.debtorId : null));
    expect(check).toMatchObject({
      ok: true,
      link: { debtorId: s.debtorId, debtId: s.debtId, contactPointId: s.phoneId },
    });
    // The external portal keeps the documented ?debt=<id> shape (and the base's own query).
    expect(externalPortalUrl('https://pay.example.com/portal?src=sms', s.debtId)).toBe(
      `https://pay.example.com/portal?src=sms&debt=${s.debtId}`,
    );
  });

  it('shows nothing before identity is proved, and sends the code to where the link went', async () => {
    const s = await seedDebtor(gw);
    const link = await linkFromSms(s);
    const c = new PageClient(gw.url);
    await c.get(link);
    expect(c.status).toBe(200);
    expect(c.html).toContain('Confirm it is you');
    revealsNothing(c.html);
    await c.post(`${new URL(link).pathname}/code`, {});
    expect(c.status).toBe(200);
    expect(c.html).toMatch(/We sent a code to ••• \d{4}/);
    revealsNothing(c.html);
    const codeMessage = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: s.debtorId, intent: 'verification-code' },
    });
    expect(codeMessage).toMatchObject({ channel: 'SMS', contactPointId: s.phoneId, countsAsAttempt: false });
    const code = await codeSentTo(s.debtorId);
    await c.post(`${new URL(link).pathname}/verify`, { method: 'code', value: code });
    expect(c.status).toBe(200);
    expect(c.html).toContain('Your account with Acme Utilities');
    expect(c.html).toContain('$1,250.00');
    // A code works once.
    const again = new PageClient(gw.url);
    await again.get(link);
    await again.post(`${new URL(link).pathname}/verify`, { method: 'code', value: code });
    expect(again.status).toBe(401);
    revealsNothing(again.html);
    expect(
      await gw.ctx.db.auditEvent.count({ where: { entityId: s.debtorId, action: 'portal.verify.succeeded' } }),
    ).toBe(1);
  });

  it('wrong code ×N → locked, and the right code is then refused with nothing revealed', async () => {
    const s = await seedDebtor(gw);
    const link = await linkFromSms(s);
    const path = new URL(link).pathname;
    const c = new PageClient(gw.url);
    await c.get(link);
    await c.post(`${path}/code`, {});
    const code = await codeSentTo(s.debtorId);
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) {
      await c.post(`${path}/verify`, { method: 'code', value: wrong });
      expect(c.status).toBe(401);
      expect(c.html).toContain(`locked - ${5 - i}`);
      revealsNothing(c.html);
    }
    await c.post(`${path}/verify`, { method: 'code', value: wrong });
    expect(c.status).toBe(423);
    expect(c.html).toContain('This page is locked for now');
    const fresh = new PageClient(gw.url);
    await fresh.get(link);
    expect(fresh.status).toBe(423);
    revealsNothing(fresh.html);
    // Even the right code does not open a locked page.
    const retry = new PageClient(gw.url);
    await retry.get(link);
    expect(retry.status).toBe(423);
    expect(retry.html).not.toContain('name="csrf"');
    const row = await gw.ctx.db.portalAccess.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(row.failedAttempts).toBe(5);
    expect(row.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 25 * 60_000);
    const actions = (
      await gw.ctx.db.auditEvent.findMany({ where: { entityId: s.debtorId, action: { startsWith: 'portal.verify' } } })
    ).map((a) => a.action);
    expect(actions.filter((a) => a === 'portal.verify.failed')).toHaveLength(4);
    expect(actions).toContain('portal.verify.locked');
  });

  it('parallel wrong guesses cannot pass the limit: the count is atomic', async () => {
    const s = await seedDebtor(gw);
    await api(gw).put('/api/v1/creditors/acme/portal-settings', { verification: ['code', 'postcode'] });
    const link = await linkFromSms(s);
    const path = new URL(link).pathname;
    const c = new PageClient(gw.url);
    await c.get(link);
    const csrf = c.csrf();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const x = new PageClient(gw.url);
        x.copyCookiesFrom(c);
        x.html = `name="csrf" value="${csrf}"`;
        return x
          .post(`${path}/verify`, { method: 'postcode', value: `9${String(i).padStart(4, '0')}` })
          .then(() => x.status);
      }),
    );
    // Exactly four failures counted and every later guess refused as locked, however they interleaved
    // (a failure's answer may already show the lock another guess set meanwhile).
    expect(results.every((st) => st === 401 || st === 423)).toBe(true);
    expect(results.filter((st) => st === 401).length).toBeLessThanOrEqual(4);
    const verdicts = (
      await gw.ctx.db.auditEvent.findMany({ where: { entityId: s.debtorId, action: { startsWith: 'portal.verify' } } })
    ).map((a) => a.action);
    expect(verdicts.filter((a) => a === 'portal.verify.failed')).toHaveLength(4);
    expect(verdicts.filter((a) => a === 'portal.verify.locked')).toHaveLength(8);
    const row = await gw.ctx.db.portalAccess.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(row.failedAttempts).toBe(5);
    // The right postcode, now: still locked.
    const right = new PageClient(gw.url);
    right.copyCookiesFrom(c);
    right.html = `name="csrf" value="${csrf}"`;
    await right.post(`${path}/verify`, { method: 'postcode', value: '60606' });
    expect(right.status).toBe(423);
    revealsNothing(right.html);
    await api(gw).put('/api/v1/creditors/acme/portal-settings', {});
  });

  it("another debtor's link reveals nothing, and a session of one debtor does not open another's page", async () => {
    await api(gw).put('/api/v1/creditors/acme/portal-settings', { verification: ['postcode'] });
    const a = await seedDebtor(gw);
    const b = await seedDebtor(gw, {
      contactPoints: [
        { kind: 'PHONE', value: '+13125550177', isMobile: true, consents: { SMS: 'GRANTED' } },
        { kind: 'ADDRESS', line1: '1 Main St', city: 'Boston', region: 'MA', postalCode: '02108', country: 'US' },
      ],
    });
    const linkA = await linkFromSms(a);
    const linkB = await linkFromSms(b);
    const c = new PageClient(gw.url);
    await c.get(linkB);
    await c.post(`${new URL(linkB).pathname}/verify`, { method: 'postcode', value: '02108' });
    expect(c.html).toContain('Your account with');
    // B's session on A's link: the identity check again, nothing of A's shown.
    await c.get(linkA);
    expect(c.html).toContain('Confirm it is you');
    revealsNothing(c.html);
    // B's token edited to name A's debt: refused as a link that does not work.
    const tokenB = new URL(linkB).pathname.split('/pay/')[1]!;
    const raw = Buffer.from(tokenB.split('.')[0]!, 'base64url');
    Buffer.from(a.debtId.replace(/-/g, ''), 'hex').copy(raw, 0);
    await c.get(`/pay/${raw.toString('base64url')}.${tokenB.split('.')[1]}`);
    expect(c.status).toBe(404);
    expect(c.html).toContain('This link does not work');
    revealsNothing(c.html);
    await api(gw).put('/api/v1/creditors/acme/portal-settings', {});
  });

  it('a tampered or expired link gets a clear page, not a stack trace', async () => {
    const s = await seedDebtor(gw);
    const link = await linkFromSms(s);
    const c = new PageClient(gw.url);
    const tampered = link.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A'));
    await c.get(tampered);
    expect(c.status).toBe(404);
    expect(c.html).toContain('This link does not work');
    for (const junk of [
      'x',
      '%00',
      'a'.repeat(5000),
      '%ED%A0%80',
      '..%2F..%2Fetc%2Fpasswd',
      `${'A'.repeat(48)}.${'B'.repeat(16)}`,
    ]) {
      await c.get(`/pay/${junk}`);
      expect([400, 404, 414, 431]).toContain(c.status);
      if (c.status < 414) expect(c.html).toContain('This link does not work');
      expect(c.html).not.toMatch(/at \w+ \(|node_modules|Error:/);
    }
    const expired = portalToken(gw.ctx.secret, {
      debtorId: s.debtorId,
      debtId: s.debtId,
      contactPointId: s.phoneId!,
      expiresAt: Math.floor(Date.now() / 1000) - 60,
    });
    await c.get(`/pay/${expired}`);
    expect(c.status).toBe(410);
    expect(c.html).toContain('This link has expired');
    revealsNothing(c.html);
  });

  it("the debtor's actions land in the thread, the audit log and the webhooks; forms need the CSRF token", async () => {
    await api(gw).put('/api/v1/creditors/acme/portal-settings', { verification: ['postcode', 'date_of_birth'] });
    const s = await seedDebtor(gw, { dateOfBirth: '1984-05-06' });
    const link = await linkFromSms(s);
    const path = new URL(link).pathname;
    const c = new PageClient(gw.url);
    await c.get(link);
    await c.post(`${path}/verify`, { method: 'date_of_birth', value: '1984-05-06' });
    expect(c.html).toContain('Your account with Acme Utilities');

    // Without the token: refused, nothing done.
    await c.post(`${path}/actions/callback`, { when: 'evenings' }, { csrf: false });
    expect(c.status).toBe(403);
    await c.get(path);

    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    await c.post(`${path}/actions/promise`, { debt: s.debtId, date: tomorrow, amount: '300.00' });
    expect(c.status).toBe(200);
    expect(c.html).toContain('We recorded your promise');
    expect((await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).status).toBe('PROMISED');

    await c.post(`${path}/actions/preferences`, { channel: 'EMAIL', from: '12:00', to: '14:00', locale: 'es' });
    expect(c.html).toContain('Sus preferencias de contacto están guardadas');
    expect(c.html).toContain('lang="es"');
    const prefs = await gw.ctx.db.contactPreferences.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(prefs.channelOrder).toEqual(['EMAIL']);
    expect(prefs.inconvenientTimes).toEqual([{ days: [1, 2, 3, 4, 5, 6, 7], from: '12:00', to: '14:00' }]);

    await c.post(`${path}/actions/opt-out`, { channel: 'SMS' });
    expect(
      (
        await gw.ctx.db.channelConsent.findUniqueOrThrow({
          where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'SMS' } },
        })
      ).state,
    ).toBe('REVOKED');

    await c.post(`${path}/actions/callback`, { when: 'after 6pm' });
    await c.post(`${path}/actions/dispute`, { debt: s.debtId, reason: 'I never had an account with Acme.' });
    expect(c.html).toContain('Recibimos su disputa');
    const debt = await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } });
    expect(debt.status).toBe('DISPUTED');
    expect(debt.restrictions).toContain('DISPUTE_UNDER_REVIEW');

    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(conversation.flags).toEqual(expect.arrayContaining(['DISPUTE', 'CALLBACK_REQUEST', 'OPT_OUT']));
    const types = (await gw.ctx.db.conversationEvent.findMany({ where: { conversationId: conversation.id } })).map(
      (e) => e.type,
    );
    expect(types).toEqual(
      expect.arrayContaining([
        'portal.promise',
        'portal.preferences',
        'portal.opt_out',
        'portal.callback_requested',
        'portal.dispute',
      ]),
    );
    const audits = (await gw.ctx.db.auditEvent.findMany({ where: { actorType: 'debtor', actorId: s.debtorId } })).map(
      (a) => a.action,
    );
    expect(audits).toEqual(
      expect.arrayContaining([
        'portal.verify.succeeded',
        'portal.promise',
        'portal.dispute',
        'portal.preferences',
        'portal.opt_out',
        'portal.callback_requested',
        'promise.create',
      ]),
    );
    const hooks = (
      await gw.ctx.db.webhookDelivery.findMany({
        where: { payload: { path: ['data', 'debtorId'], equals: s.debtorId } },
      })
    ).map((d) => d.event);
    expect(hooks).toEqual(
      expect.arrayContaining(['dispute.opened', 'preferences.updated', 'opt_out.recorded', 'conversation.flagged']),
    );
    expect(
      await gw.ctx.db.webhookDelivery.count({
        where: { event: 'promise.created', payload: { path: ['data', 'debt', 'id'], equals: s.debtId } },
      }),
    ).toBe(1);
    await api(gw).put('/api/v1/creditors/acme/portal-settings', {});
  });

  it("speaks the debtor's language, and so does the unsubscribe page", async () => {
    const s = await seedDebtor(gw, { locale: 'es' });
    const link = await linkFromSms(s);
    const c = new PageClient(gw.url);
    await c.get(link);
    expect(c.html).toContain('<html lang="es"');
    expect(c.html).toContain('Confirme que es usted');
    await c.get(`${new URL(link).pathname}?lang=en`);
    expect(c.html).toContain('Confirm it is you');
    const { unsubscribeUrl } = await import('../../src/messaging/consent.js');
    const page = await fetch(unsubscribeUrl(gw.ctx, { contactPointId: s.emailId! }));
    const html = await page.text();
    expect(html).toContain('<html lang="es"');
    expect(html).toContain('¿Dejar de enviar correos a esta dirección?');
  });
});

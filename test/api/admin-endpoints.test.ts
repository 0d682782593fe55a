// Endpoints behind the admin pages: the providers view (no secret values,
// admins only), the template intents listing, and the campaign list's
// per-campaign summary (one query; the same numbers as each campaign's results).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor, type SeededDebtor } from '../support/api.js';
import { createAgent, login, type SessionClient } from '../inbox/session.js';

const SECRETS = {
  TWILIO_AUTH_TOKEN: 'providers-test-twilio-token-9f8e7d',
  LOB_WEBHOOK_SECRET: 'providers-test-lob-secret-1a2b3c',
  SENDGRID_INBOUND_SECRET: 'providers-test-parse-secret-4d5e6f',
  APP_SECRET: 'providers-test-app-secret-0123456789abcdef0123',
};

describe('admin endpoints', () => {
  let gw: TestGateway;
  let admin: SessionClient;
  let agent: SessionClient;

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', ...SECRETS });
    admin = await login(gw, await createAgent(gw, 'ADMIN', 'Ada'));
    agent = await login(gw, await createAgent(gw, 'AGENT', 'Abe'));
  });
  afterAll(async () => gw?.close());

  describe('GET /api/v1/admin/providers', () => {
    it('shows modes, senders, which secrets are set and the webhook URLs — never a secret value', async () => {
      const r = await admin.call('GET', '/api/v1/admin/providers');
      expect(r.status).toBe(200);
      // No PUBLIC_BASE_URL here (the sandbox calls back to this process): the addresses use the listen address, flagged as such.
      const base = gw.ctx.publicBaseUrl;
      expect(r.body.publicBaseUrl).toBe(base);
      expect(r.body.publicBaseUrlConfigured).toBe(false);
      const byId = Object.fromEntries(r.body.providers.map((p: { id: string }) => [p.id, p]));
      expect(Object.keys(byId).sort()).toEqual(['email', 'lob', 'twilio']);

      expect(byId.twilio).toMatchObject({
        mode: 'sandbox',
        sender: { from: gw.ctx.providers.twilio.from },
        secrets: { TWILIO_AUTH_TOKEN: true, TWILIO_ACCOUNT_SID: false },
      });
      expect(byId.twilio.webhooks.map((w: { url: string | null }) => w.url)).toEqual(
        expect.arrayContaining([`${base}/webhooks/twilio/sms`, `${base}/webhooks/twilio/status`]),
      );
      expect(byId.email).toMatchObject({
        name: 'SendGrid',
        mode: 'sandbox',
        sender: { from: gw.ctx.config.EMAIL_FROM },
        secrets: { SENDGRID_API_KEY: false, SENDGRID_INBOUND_SECRET: true },
      });
      expect(byId.email.webhooks.map((w: { url: string }) => w.url)).toEqual([
        `${base}/webhooks/sendgrid/events`,
        `${base}/webhooks/sendgrid/inbound`,
      ]);
      expect(byId.lob).toMatchObject({
        mode: 'sandbox',
        secrets: { LOB_API_KEY: false, LOB_WEBHOOK_SECRET: true },
        webhooks: [{ url: `${base}/webhooks/lob` }],
      });

      // Neither the configured secrets nor the ones the sandbox generated for this process appear anywhere.
      const text = JSON.stringify(r.body);
      const p = gw.ctx.providers;
      const secretValues = [
        ...Object.values(SECRETS),
        ADMIN_KEY,
        gw.ctx.secret,
        p.twilio.authToken,
        p.twilio.accountSid,
        p.sendgrid.apiKey,
        p.sendgrid.webhookPrivateKeyPem ?? '',
        p.lob.apiKey,
        p.lob.webhookSecret,
        p.sendgrid.inboundParseSecret,
      ];
      for (const value of secretValues.filter((v) => v.length >= 8)) expect(text).not.toContain(value);
    });

    it('is for admins only', async () => {
      expect((await agent.call('GET', '/api/v1/admin/providers')).status).toBe(403);
      expect((await fetch(`${gw.url}/api/v1/admin/providers`)).status).toBe(401);
    });
  });

  describe('API keys', () => {
    it('records when a key was last used', async () => {
      const created = await api(gw).post('/api/v1/api-keys', { name: 'last-used', role: 'AGENT' });
      expect(created.status).toBe(201);
      const listed = async () =>
        ((await api(gw).get('/api/v1/api-keys')).body.data as { id: string; lastUsedAt: string | null }[]).find(
          (k) => k.id === created.body.id,
        )!;
      expect((await listed()).lastUsedAt).toBeNull();
      expect((await api(gw, created.body.key).get('/api/v1/templates/intents')).status).toBe(200);
      const used = await eventually(async () => (await listed()).lastUsedAt, 5_000, 'lastUsedAt recorded');
      expect(Date.now() - new Date(used).getTime()).toBeLessThan(60_000);
    });
  });

  describe('GET /api/v1/templates/intents', () => {
    it('lists every intent with the channels and locales its templates ship in', async () => {
      const r = await agent.call('GET', '/api/v1/templates/intents');
      expect(r.status).toBe(200);
      const byIntent = Object.fromEntries(r.body.data.map((i: { intent: string }) => [i.intent, i]));
      // The listing follows what is loaded, so compare with the registry itself.
      expect(Object.keys(byIntent).sort()).toEqual(
        [...new Set(gw.ctx.templates.list().map((id) => id.split('/')[1]))].sort(),
      );
      expect(byIntent['letter-of-demand'].channels.map((c: { channel: string }) => c.channel)).toEqual([
        'EMAIL',
        'LETTER',
      ]);
      expect(byIntent.help.channels.map((c: { channel: string }) => c.channel)).toEqual(['SMS']);
      const reminderSms = byIntent['friendly-reminder'].channels.find((c: { channel: string }) => c.channel === 'SMS');
      expect(reminderSms.locales).toEqual(
        gw.ctx.templates
          .list()
          .filter((id) => id.endsWith('/friendly-reminder/sms'))
          .map((id) => id.split('/')[0])
          .sort(),
      );
      expect(reminderSms.locales).toContain('en');
      expect(r.body.locales).toEqual(gw.ctx.templates.localeList());
    });

    it('needs a signed-in user or key', async () => {
      expect((await fetch(`${gw.url}/api/v1/templates/intents`)).status).toBe(401);
    });
  });

  describe('GET /api/v1/campaigns summary', () => {
    const creditor = { externalRef: 'summary-creditor', name: 'Summary Utilities' };
    let debtors: SeededDebtor[];

    it('carries enrolled, sent, delivered, replied and paid per campaign, equal to its results', async () => {
      debtors = [];
      for (let i = 0; i < 3; i++) debtors.push(await seedDebtor(gw, { fullName: `Summary Person ${i}` }, { creditor }));
      const a = api(gw);
      const running = await a.post('/api/v1/campaigns', {
        name: 'Summary running',
        audience: { creditorRefs: [creditor.externalRef], daysPastDue: { min: 1 } },
        steps: [{ offsetDays: 0, anchor: 'ENROLLMENT', intent: 'friendly-reminder', channel: 'SMS' }],
        stopConditions: ['CEASE'],
      });
      expect(running.status).toBe(201);
      const draft = await a.post('/api/v1/campaigns', {
        name: 'Summary draft',
        audience: { creditorRefs: ['nobody'] },
        steps: [{ offsetDays: 0, intent: 'friendly-reminder' }],
      });
      expect(draft.status).toBe(201);
      expect((await a.post(`/api/v1/campaigns/${running.body.id}/start`)).status).toBe(200);

      const results = () => a.get(`/api/v1/campaigns/${running.body.id}/results`).then((r) => r.body);
      let last: unknown;
      await eventually(
        async () => {
          last = await results();
          return (last as { total: { delivered: number } }).total.delivered === 3;
        },
        30_000,
        'three reminders delivered',
      ).catch((e) => {
        throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}`);
      });

      // One debtor pays a part, another replies by SMS.
      expect(
        (await a.post('/api/v1/payments', { debtId: debtors[0]!.debtId, amount: '10.00', currency: 'USD' })).status,
      ).toBe(201);
      const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: debtors[1]!.phoneId! } })).value;
      expect(
        (
          await gw.ctx.sandboxes!.twilio.simulateInboundSms({
            from: phone,
            to: gw.ctx.providers.twilio.from,
            body: 'I will call you tomorrow',
          })
        ).delivered,
      ).toBe(true);
      const final = await eventually(
        async () => {
          const r = await results();
          return r.total.replied === 1 && r.total.paid === 1 && r;
        },
        15_000,
        'reply and payment counted',
      );

      const list = await a.get('/api/v1/campaigns');
      expect(list.status).toBe(200);
      const row = (id: string) => list.body.data.find((c: { id: string }) => c.id === id);
      expect(row(running.body.id).summary).toEqual({ enrolled: 3, sent: 3, delivered: 3, replied: 1, paid: 1 });
      expect(row(running.body.id).summary).toEqual({
        enrolled: final.enrolled,
        sent: final.total.sent,
        delivered: final.total.delivered,
        replied: final.total.replied,
        paid: final.total.paid,
      });
      expect(row(draft.body.id).summary).toEqual({ enrolled: 0, sent: 0, delivered: 0, replied: 0, paid: 0 });
    });
  });
});

// Replies end to end through the provider sandboxes: HELP/INFO answered once,
// opt-outs from addresses on no file kept on the suppression list (and lifted
// by START), outgoing webhooks for replies and opt-outs, and two simultaneous
// first texts landing in one conversation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { eventually } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { verifySignature } from '../../src/webhooks-out/sign.js';
import { addSuppression } from '../../src/domain/suppressions.js';
import { unsubscribeUrl } from '../../src/messaging/consent.js';
import {
  basicAuth,
  inboundParseForm,
  PARSE_SECRET,
  postSendgridEvents,
  startInboundGateway,
  type InboundGateway,
} from './helpers.js';

describe('replies end to end', () => {
  let gw: InboundGateway;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const HOOK_SECRET = 'whsec_replies_e2e_0123456789abcdef';
  // A link key left by an earlier version under DATA_DIR/secrets: links it signed must keep working.
  const LEGACY_LINK_KEY = 'legacy-unsubscribe-key-0123456789abcdef';

  beforeAll(async () => {
    gw = await startInboundGateway({
      PROVIDERS: 'sandbox',
      ADMIN_API_KEY: ADMIN_KEY,
      WEBHOOK_ALLOWED_INTERNAL_TARGETS: '127.0.0.1',
    });
    fs.mkdirSync(path.join(gw.dataDir, 'secrets'), { recursive: true });
    fs.writeFileSync(path.join(gw.dataDir, 'secrets', 'unsubscribe.key'), LEGACY_LINK_KEY);
    // The creditor's system, at its wire: it stores what it is sent and answers 204.
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  });
  afterAll(async () => {
    await gw?.close();
    // Not started when beforeAll failed: closing nothing must not hang the suite.
    if (receiver) {
      receiver.closeAllConnections();
      await new Promise((r) => receiver.close(r));
    }
  });

  const sandbox = () => gw.ctx.sandboxes!.twilio;
  const ourNumber = () => gw.ctx.providers.twilio.from;
  const phoneOf = async (id: string) => (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id } })).value;
  const text = (from: string, body: string) => sandbox().simulateInboundSms({ from, to: ourNumber(), body });
  const processed = (messageSid: string) =>
    eventually(
      async () =>
        (await gw.ctx.db.inboundEvent.findUnique({ where: { dedupeKey: `twilio:sms:${messageSid}` } }))?.status ===
        'PROCESSED',
      10_000,
      `inbound ${messageSid} processed`,
    );
  const helpAudits = (contactPointId: string) =>
    gw.ctx.db.auditEvent.findMany({
      where: { action: 'sms.help_reply', entityId: contactPointId },
      orderBy: { at: 'asc' },
    });

  describe('HELP / INFO', () => {
    it('answers HELP with exactly one help text that reaches DELIVERED, and lowercase "info" too', async () => {
      const s = await seedDebtor(gw);
      const phone = await phoneOf(s.phoneId!);

      const first = await text(phone, 'HELP');
      expect(first.status).toBe(200);
      await processed(first.messageSid);
      // The audit entry is written once the reply was requested (or refused): after it, nothing more comes.
      await eventually(async () => (await helpAudits(s.phoneId!)).length === 1, 10_000, 'help reply requested');
      expect((await helpAudits(s.phoneId!))[0]!.data).toMatchObject({ outcome: 'requested' });
      const reply = await eventually(
        async () => {
          const rows = await gw.ctx.db.message.findMany({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } });
          return rows.length === 1 && rows[0]!.status === 'DELIVERED' ? rows[0]! : null;
        },
        15_000,
        'help reply delivered',
      );
      expect(reply.intent).toBe('help');
      expect(reply.channel).toBe('SMS');
      expect(reply.toAddress).toBe(phone);
      expect(reply.countsAsAttempt).toBe(false);
      expect(reply.body).toContain('Reply STOP to opt out');
      expect(reply.body).not.toMatch(/\$|https?:|1,250/);
      const atProvider = sandbox().listMessages({ to: phone, direction: 'outbound-api' });
      expect(atProvider).toHaveLength(1);
      expect(atProvider[0]!.body).toBe(reply.body);

      const second = await text(phone, 'info');
      await processed(second.messageSid);
      await eventually(async () => (await helpAudits(s.phoneId!)).length === 2, 10_000, 'second help reply requested');
      await eventually(
        async () => {
          const rows = await gw.ctx.db.message.findMany({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } });
          return rows.length === 2 && rows.every((r) => r.intent === 'help' && r.status === 'DELIVERED');
        },
        15_000,
        'second help reply delivered',
      );
      expect(sandbox().listMessages({ to: phone, direction: 'outbound-api' })).toHaveLength(2);
      // HELP is a keyword, not a reply to classify or flag.
      const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
      expect(conversation.flags).not.toContain('NEEDS_REVIEW');
    });

    it('sends no help text to a number whose SMS consent is revoked', async () => {
      const s = await seedDebtor(gw);
      const phone = await phoneOf(s.phoneId!);
      await gw.ctx.db.channelConsent.update({
        where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'SMS' } },
        data: { state: 'REVOKED', source: 'test' },
      });
      const r = await text(phone, 'Help');
      await processed(r.messageSid);
      const [entry] = await eventually(
        async () => {
          const rows = await helpAudits(s.phoneId!);
          return rows.length === 1 ? rows : null;
        },
        10_000,
        'help reply decided',
      );
      expect(entry!.data).toMatchObject({ outcome: 'failed' });
      expect(String((entry!.data as { error?: string }).error)).toContain('consent.revoked');
      expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } })).toBe(0);
      expect(sandbox().listMessages({ to: phone, direction: 'outbound-api' })).toHaveLength(0);
    });

    it('is never sent on request: the API refuses intent help without a message to answer', async () => {
      const s = await seedDebtor(gw);
      const r = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'help',
        channel: 'SMS',
      });
      expect(r.status).toBe(422);
      expect(JSON.stringify(r.body.details)).toContain('reply_to.required');
    });
  });

  describe('suppression list', () => {
    it('STOP from an unknown number suppresses it; a debtor added later is refused SMS; START lifts it', async () => {
      const unknown = '+14155550142';
      const stop = await text(unknown, 'STOP');
      await processed(stop.messageSid);
      const event = await gw.ctx.db.inboundEvent.findUniqueOrThrow({
        where: { dedupeKey: `twilio:sms:${stop.messageSid}` },
      });
      const row = await gw.ctx.db.suppression.findUniqueOrThrow({
        where: { channel_address: { channel: 'SMS', address: unknown } },
      });
      expect(row).toMatchObject({ channel: 'SMS', address: unknown, source: event.id });
      expect(row.reason).toMatch(/STOP/);
      // Nothing is sent to an address on no file (no debtor, no confirmation).
      expect(sandbox().listMessages({ to: unknown, direction: 'outbound-api' })).toHaveLength(0);

      const s = await seedDebtor(gw, {
        contactPoints: [
          { kind: 'PHONE', value: unknown, isMobile: true, consents: { SMS: 'GRANTED', VOICE: 'GRANTED' } },
          { kind: 'EMAIL', value: `later.${Date.now()}@example.net` },
        ],
      });
      const refused = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
      });
      expect(refused.status).toBe(422);
      const reasons = refused.body.details.decision.reasons as { rule: string; detail: string }[];
      expect(reasons.find((r) => r.rule === 'address.suppressed')?.detail).toMatch(/suppression list/);
      // Calls are a different channel: the SMS opt-out does not bar them.
      const call = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'VOICE',
      });
      expect(call.status).toBe(202);

      const start = await text(unknown, 'START');
      await processed(start.messageSid);
      expect(await gw.ctx.db.suppression.count({ where: { channel: 'SMS', address: unknown } })).toBe(0);
      expect(
        await gw.ctx.db.auditEvent.count({ where: { action: 'suppression.remove', entityId: `SMS:${unknown}` } }),
      ).toBe(1);
      const allowed = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
      });
      expect(allowed.status).toBe(202);
      await eventually(
        async () =>
          (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: allowed.body.messageId } })).status === 'DELIVERED',
        15_000,
        'SMS delivered after START',
      );
    });

    it('admins list, add and lift suppressions through the API (audited); agents may not; bad input names the field', async () => {
      const s = await seedDebtor(gw);
      const phone = await phoneOf(s.phoneId!);
      const agent = await api(gw).post('/api/v1/api-keys', { name: 'agent-suppressions', role: 'AGENT' });
      expect(agent.status).toBe(201);
      expect(
        (
          await api(gw, agent.body.key).post('/api/v1/suppressions', {
            channel: 'SMS',
            address: phone,
            reason: 'creditor request',
          })
        ).status,
      ).toBe(403);
      expect((await api(gw, agent.body.key).get('/api/v1/suppressions')).status).toBe(403);

      const bad = await api(gw).post('/api/v1/suppressions', { channel: 'SMS', address: '555-0100', reason: 'x' });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body)).toContain('address');
      const noReason = await api(gw).post('/api/v1/suppressions', { channel: 'SMS', address: phone, reason: '  ' });
      expect(noReason.status).toBe(400);
      expect(JSON.stringify(noReason.body)).toContain('reason');

      const added = await api(gw).post('/api/v1/suppressions', {
        channel: 'SMS',
        address: phone,
        reason: 'creditor request',
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ channel: 'SMS', address: phone, reason: 'creditor request', source: 'admin' });
      expect(
        (await api(gw).post('/api/v1/suppressions', { channel: 'SMS', address: phone, reason: 'again' })).status,
      ).toBe(200);
      const listed = await api(gw).get(`/api/v1/suppressions?channel=SMS&address=${encodeURIComponent(phone)}`);
      expect(listed.body.data.map((r: { id: string }) => r.id)).toEqual([added.body.id]);
      const refused = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
      });
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.body.details)).toContain('address.suppressed');

      const lifted = await api(gw).delete(`/api/v1/suppressions/${added.body.id}`);
      expect(lifted.status).toBe(200);
      expect((await api(gw).delete(`/api/v1/suppressions/${added.body.id}`)).status).toBe(404);
      const audits = await gw.ctx.db.auditEvent.findMany({
        where: { entityId: added.body.id },
        orderBy: { at: 'asc' },
      });
      expect(audits.map((a) => a.action)).toEqual(['suppression.create', 'suppression.delete']);
      const allowed = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
      });
      expect(allowed.status).toBe(202);
    });

    it('a message queued before the suppression is cancelled at send time with the reason', async () => {
      const s = await seedDebtor(gw);
      const phone = await phoneOf(s.phoneId!);
      const queued = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
        notBefore: new Date(Date.now() + 2_000).toISOString(),
      });
      expect(queued.status).toBe(202);
      expect(queued.body.outcome).toBe('defer');
      await addSuppression(gw.ctx.db, {
        channel: 'SMS',
        address: phone,
        reason: 'opted out with another sender',
        source: 'admin',
      });
      const m = await eventually(
        async () => {
          const row = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: queued.body.messageId } });
          return row.status === 'CANCELLED' ? row : null;
        },
        15_000,
        'queued SMS cancelled at send time',
      );
      expect(JSON.stringify(m.decision)).toContain('address.suppressed');
      expect(sandbox().listMessages({ to: phone, direction: 'outbound-api' })).toHaveLength(0);
    });

    it('a spam report for an email address on no file suppresses it for email', async () => {
      const address = `Nobody.${Date.now()}@Example.org`;
      const res = await postSendgridEvents(gw, [
        {
          email: address,
          event: 'spamreport',
          timestamp: Math.floor(Date.now() / 1000),
          sg_event_id: `sg-${Date.now()}`,
          sg_message_id: 'gone.filter0001',
        },
      ]);
      expect(res.status).toBe(200);
      const row = await eventually(
        () =>
          gw.ctx.db.suppression.findUnique({
            where: { channel_address: { channel: 'EMAIL', address: address.toLowerCase() } },
          }),
        10_000,
        'email suppression',
      );
      expect(row.reason).toBe('marked our email as spam');
      const event = await gw.ctx.db.inboundEvent.findFirstOrThrow({
        where: { provider: 'sendgrid', kind: 'events' },
        orderBy: { receivedAt: 'desc' },
      });
      expect(row.source).toBe(event.id);
      await eventually(
        async () =>
          (await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: event.id } })).status === 'PROCESSED',
        10_000,
        'batch processed',
      );

      const s = await seedDebtor(gw, { contactPoints: [{ kind: 'EMAIL', value: address }] });
      const refused = await api(gw).post('/api/v1/outreach', {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'EMAIL',
      });
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.body.details)).toContain('address.suppressed');
    });
  });

  describe('email opt-outs', () => {
    it('an "unsubscribe" email from an address on no file suppresses it for email', async () => {
      const stranger = `Stranger.${Date.now()}@Elsewhere.example`;
      const res = await fetch(`${gw.url}/webhooks/sendgrid/inbound`, {
        method: 'POST',
        headers: { authorization: basicAuth('sendgrid', PARSE_SECRET) },
        body: inboundParseForm({
          headers: `Message-ID: <unsub-${Date.now()}@elsewhere.example>\r\n`,
          from: stranger,
          to: 'collections@example.com',
          subject: 'unsubscribe',
          text: 'Stop emailing me.',
        }),
      });
      expect(res.status).toBe(200);
      const row = await eventually(
        () =>
          gw.ctx.db.suppression.findUnique({
            where: { channel_address: { channel: 'EMAIL', address: stranger.toLowerCase() } },
          }),
        10_000,
        'email suppression',
      );
      const event = await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: row.source! } });
      expect(event).toMatchObject({ provider: 'sendgrid', kind: 'inbound-email' });
      const message = await gw.ctx.db.message.findFirstOrThrow({
        where: { fromAddress: stranger.toLowerCase() },
        include: { conversation: true },
      });
      expect(message.conversation.unmatchedAddress).toBe(stranger.toLowerCase());
    });

    it('signs unsubscribe links with a key derived from the app secret, and still honours links signed with the old key file', async () => {
      const s = await seedDebtor(gw);
      const url = unsubscribeUrl(gw.ctx, { contactPointId: s.emailId! });
      const [idPart, macPart] = url.split('/unsubscribe/')[1]!.split('.');
      const derived = createHmac('sha256', gw.ctx.secret).update('dunning-gateway/unsubscribe-link/v1').digest();
      const macWith = (key: string | Buffer) =>
        createHmac('sha256', key).update(`unsubscribe:v1:${s.emailId}`).digest().subarray(0, 18).toString('base64url');
      expect(macPart).toBe(macWith(derived));
      expect(macPart).not.toBe(macWith(gw.ctx.secret)); // never the raw app secret

      const forged = await fetch(`${gw.url}/unsubscribe/${idPart}.${macWith('not-our-key')}`, { method: 'POST' });
      expect(forged.status).toBe(404);
      const legacy = await fetch(`${gw.url}/unsubscribe/${idPart}.${macWith(LEGACY_LINK_KEY)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(legacy.status).toBe(200);
      const consent = await gw.ctx.db.channelConsent.findUniqueOrThrow({
        where: { contactPointId_channel: { contactPointId: s.emailId!, channel: 'EMAIL' } },
      });
      expect(consent).toMatchObject({ state: 'REVOKED', source: 'email:list-unsubscribe' });
    });
  });

  describe('outgoing webhooks', () => {
    it('delivers signed reply.received, opt_out.recorded, dispute.opened and conversation.flagged events', async () => {
      const sub = await api(gw).post('/api/v1/webhook-subscriptions', {
        url: receiverUrl,
        events: ['reply.received', 'opt_out.recorded', 'dispute.opened', 'conversation.flagged'],
        secret: HOOK_SECRET,
      });
      expect(sub.status).toBe(201);
      const s = await seedDebtor(gw);
      const phone = await phoneOf(s.phoneId!);

      const reply = await text(phone, 'I will pay $100 on 2031-04-01');
      await processed(reply.messageSid);
      const message = await gw.ctx.db.message.findUniqueOrThrow({ where: { providerMessageId: reply.messageSid } });
      const stop = await text(phone, 'STOP');
      await processed(stop.messageSid);
      await text(phone, 'This is not my debt, I dispute it');

      const events = await eventually(
        () => {
          const parsed = received.map((r) => ({
            ...r,
            json: JSON.parse(r.body) as { type: string; data: Record<string, unknown> },
          }));
          const ours = parsed.filter((p) => p.json.data.debtorId === s.debtorId);
          const types = ours.map((p) => p.json.type);
          return ['reply.received', 'opt_out.recorded', 'dispute.opened', 'conversation.flagged'].every((t) =>
            types.includes(t),
          ) && types.filter((t) => t === 'reply.received').length === 3
            ? ours
            : null;
        },
        20_000,
        'webhook deliveries',
      );
      for (const e of events) {
        expect(verifySignature(HOOK_SECRET, String(e.headers['x-gateway-signature']), e.body)).toBe(true);
        expect(verifySignature('some-other-secret-0123456789', String(e.headers['x-gateway-signature']), e.body)).toBe(
          false,
        );
      }
      const firstReply = events.find((e) => e.json.type === 'reply.received' && e.json.data.messageId === message.id)!;
      expect(firstReply.json.data).toMatchObject({
        channel: 'SMS',
        from: phone,
        text: 'I will pay $100 on 2031-04-01',
        intents: expect.arrayContaining(['promise_to_pay']),
      });
      expect(events.find((e) => e.json.type === 'conversation.flagged')!.json.data).toMatchObject({
        flag: 'PROMISE_TO_PAY',
        messageId: message.id,
      });
      expect(events.filter((e) => e.json.type === 'opt_out.recorded').map((e) => e.json.data)).toEqual([
        expect.objectContaining({ channel: 'SMS', address: phone, contactPointId: s.phoneId, source: 'sms:STOP' }),
      ]);
    });
  });

  describe('threading', () => {
    it('two simultaneous first texts from one debtor open one conversation holding both', async () => {
      const s = await seedDebtor(gw);
      const phone = await phoneOf(s.phoneId!);
      expect(await gw.ctx.db.conversation.count({ where: { debtorId: s.debtorId } })).toBe(0);
      const [a, b] = await Promise.all([text(phone, 'first of two'), text(phone, 'second of two')]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.messageSid).not.toBe(b.messageSid);
      await Promise.all([processed(a.messageSid), processed(b.messageSid)]);
      const conversations = await gw.ctx.db.conversation.findMany({
        where: { debtorId: s.debtorId },
        include: { messages: true },
      });
      expect(conversations).toHaveLength(1);
      expect(conversations[0]!.messages.map((m) => m.body).sort()).toEqual(['first of two', 'second of two']);
    });
  });
});

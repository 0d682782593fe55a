import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fs from 'node:fs';
import { io as connectSocket, type Socket } from 'socket.io-client';
import { eventually } from '../support/gateway.js';
import {
  ADMIN_KEY,
  inboundSms,
  postTwilio,
  seedDebtor,
  seedOutbound,
  sid,
  startInboundGateway,
  TWILIO_SID,
  TWILIO_TOKEN,
  type InboundGateway,
} from './helpers.js';

describe('Twilio webhooks', () => {
  let gw: InboundGateway;
  let media: http.Server;
  let mediaUrl: string;
  const mediaAuth: string[] = [];
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)]);
  const mp3 = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(700, 0)]);

  beforeAll(async () => {
    // Twilio's media host, at its wire: basic auth, then the bytes.
    media = http.createServer((req, res) => {
      mediaAuth.push(String(req.headers.authorization));
      if (req.url === '/media/photo') {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length });
        res.end(jpeg);
      } else if (req.url === '/Recordings/RE1.mp3') {
        res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': mp3.length });
        res.end(mp3);
      } else if (req.url === '/media/huge') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.end(Buffer.alloc(5000, 1));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => media.listen(0, '127.0.0.1', () => r()));
    mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
    // Media is fetched only from Twilio's own hosts; this stand-in is listed as one.
    gw = await startInboundGateway({ ATTACHMENT_MAX_BYTES: '2000', INBOUND_MEDIA_ORIGINS: mediaUrl });
  });
  afterAll(async () => {
    await gw?.close();
    // Not started when beforeAll failed: closing nothing must not hang the suite.
    if (media) {
      media.closeAllConnections();
      await new Promise((r) => media.close(r));
    }
  });

  const inboundCount = () => gw.ctx.db.inboundEvent.count();

  it('stores a signed inbound SMS in the debtor thread, answering TwiML', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550101' });
    const params = inboundSms('+14155550101', 'Can I pay next week?');
    const res = await postTwilio(gw, '/webhooks/twilio/sms', params);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const msg = await eventually(
      () => gw.ctx.db.message.findUnique({ where: { providerMessageId: params.MessageSid! } }),
      10_000,
      'message',
    );
    expect(msg).toMatchObject({
      direction: 'INBOUND',
      status: 'RECEIVED',
      channel: 'SMS',
      debtorId: debtor.id,
      contactPointId: phone!.id,
      fromAddress: '+14155550101',
      body: 'Can I pay next week?',
    });
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: debtor.id } });
    expect(msg.conversationId).toBe(conversation.id);
    expect(conversation.lastInboundChannel).toBe('SMS');
    // The event is marked processed just after the message's transaction commits.
    const ev = await eventually(
      async () => {
        const row = await gw.ctx.db.inboundEvent.findUniqueOrThrow({
          where: { dedupeKey: `twilio:sms:${params.MessageSid}` },
        });
        return row.status === 'PROCESSED' ? row : null;
      },
      10_000,
      'event processed',
    );
    expect(Buffer.from(ev.body).toString()).toContain('Body=Can+I+pay+next+week');
  });

  it('refuses a missing or wrong signature with 403 and stores nothing', async () => {
    const before = await inboundCount();
    const params = inboundSms('+14155550101', 'forged');
    expect((await postTwilio(gw, '/webhooks/twilio/sms', params, { signature: null })).status).toBe(403);
    expect((await postTwilio(gw, '/webhooks/twilio/sms', params, { signature: 'bm90IGEgc2lnbmF0dXJl' })).status).toBe(
      403,
    );
    // Signed for other params than those sent.
    const res = await fetch(`${gw.url}/webhooks/twilio/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'abc' },
      body: new URLSearchParams({ MessageSid: sid('SM'), MessageStatus: 'delivered' }).toString(),
    });
    expect(res.status).toBe(403);
    for (const p of [
      '/webhooks/twilio/voice/status',
      '/webhooks/twilio/voice/amd',
      '/webhooks/twilio/voice/recording',
    ]) {
      expect(
        (await postTwilio(gw, p, { CallSid: sid('CA'), CallStatus: 'completed' }, { signature: null })).status,
      ).toBe(403);
    }
    expect(await inboundCount()).toBe(before);
    expect(await gw.ctx.db.message.count({ where: { body: 'forged' } })).toBe(0);
  });

  it('yields one message when the same inbound SMS arrives three times', async () => {
    await seedDebtor(gw, { phone: '+14155550102' });
    const params = inboundSms('+14155550102', 'hello three times');
    const answers = await Promise.all([1, 2, 3].map(() => postTwilio(gw, '/webhooks/twilio/sms', params)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    await postTwilio(gw, '/webhooks/twilio/sms', params);
    await eventually(
      async () =>
        (await gw.ctx.db.inboundEvent.findUnique({ where: { dedupeKey: `twilio:sms:${params.MessageSid}` } }))
          ?.status === 'PROCESSED',
    );
    expect(await gw.ctx.db.inboundEvent.count({ where: { dedupeKey: `twilio:sms:${params.MessageSid}` } })).toBe(1);
    expect(await gw.ctx.db.message.count({ where: { body: 'hello three times' } })).toBe(1);
  });

  it('STOP revokes SMS consent at once, flags OPT_OUT and audits; START grants it again', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550103' });
    await gw.ctx.db.channelConsent.create({
      data: { contactPointId: phone!.id, channel: 'SMS', state: 'GRANTED', source: 'import' },
    });
    const stop = inboundSms('+14155550103', '  stop ');
    await postTwilio(gw, '/webhooks/twilio/sms', stop);
    const consent = await eventually(
      async () => {
        const c = await gw.ctx.db.channelConsent.findUnique({
          where: { contactPointId_channel: { contactPointId: phone!.id, channel: 'SMS' } },
        });
        return c?.state === 'REVOKED' ? c : null;
      },
      10_000,
      'SMS consent revoked',
    );
    expect(consent.source).toBe('sms:STOP');
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: debtor.id } });
    expect(conversation.flags).toContain('OPT_OUT');
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'consent.revoke', entityId: phone!.id } })).toBe(1);
    // The confirmation request is made (and audited) once, whatever the outbound side answers.
    await eventually(() =>
      gw.ctx.db.auditEvent
        .count({ where: { action: 'consent.confirmation', entityId: phone!.id } })
        .then((n) => n === 1),
    );

    // A second STOP changes nothing and asks for no second confirmation.
    await postTwilio(gw, '/webhooks/twilio/sms', inboundSms('+14155550103', 'STOP'));
    await eventually(() =>
      gw.ctx.db.message.count({ where: { debtorId: debtor.id, direction: 'INBOUND' } }).then((n) => n === 2),
    );
    await eventually(() =>
      gw.ctx.db.inboundEvent.count({ where: { status: 'RECEIVED', kind: 'sms' } }).then((n) => n === 0),
    );
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'consent.confirmation', entityId: phone!.id } })).toBe(
      1,
    );

    await postTwilio(gw, '/webhooks/twilio/sms', inboundSms('+14155550103', 'Start'));
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: phone!.id, channel: 'SMS' } },
          })
        )?.state === 'GRANTED',
    );
    const after = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: debtor.id } });
    expect(after.flags).not.toContain('OPT_OUT');
  });

  it('a free-text revocation revokes and asks an agent to review; a cease request restricts the debtor', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550104' });
    await postTwilio(gw, '/webhooks/twilio/sms', inboundSms('+14155550104', "Please don't text me again"));
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: phone!.id, channel: 'SMS' } },
          })
        )?.state === 'REVOKED',
    );
    let c = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: debtor.id } });
    expect(c.flags).toEqual(expect.arrayContaining(['OPT_OUT', 'NEEDS_REVIEW']));

    await postTwilio(
      gw,
      '/webhooks/twilio/sms',
      inboundSms('+14155550104', 'Stop contacting me. I dispute this debt.'),
    );
    const d = await eventually(
      async () => {
        const row = await gw.ctx.db.debtor.findUniqueOrThrow({ where: { id: debtor.id } });
        return row.restrictions.includes('CEASE_COMMUNICATION') ? row : null;
      },
      10_000,
      'cease restriction',
    );
    expect(d.restrictions).toContain('DISPUTE_UNDER_REVIEW');
    c = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: debtor.id } });
    expect(c.flags).toEqual(expect.arrayContaining(['CEASE', 'DISPUTE']));
  });

  it('flags a promise to pay with the amount and date it names', async () => {
    const { debtor } = await seedDebtor(gw, { phone: '+14155550105' });
    await postTwilio(gw, '/webhooks/twilio/sms', inboundSms('+14155550105', 'I will pay $150 on 2031-03-05'));
    const flagEvent = await eventually(() =>
      gw.ctx.db.conversationEvent.findFirst({ where: { type: 'flag.added', conversation: { debtorId: debtor.id } } }),
    );
    expect(flagEvent.payload).toMatchObject({
      flag: 'PROMISE_TO_PAY',
      extracted: { amount: { value: '150', currency: 'USD' }, date: '2031-03-05' },
    });
  });

  it('sends an unknown number to an unmatched conversation', async () => {
    const params = inboundSms('+14155550999', 'who is this?');
    await postTwilio(gw, '/webhooks/twilio/sms', params);
    const msg = await eventually(() =>
      gw.ctx.db.message.findUnique({
        where: { providerMessageId: params.MessageSid! },
        include: { conversation: true },
      }),
    );
    expect(msg.debtorId).toBeNull();
    expect(msg.conversation.unmatchedAddress).toBe('+14155550999');
    expect(msg.conversation.flags).toContain('UNMATCHED');
  });

  it('stores MMS media fetched with Twilio basic auth, and skips oversize media with the reason', async () => {
    const { debtor } = await seedDebtor(gw, { phone: '+14155550106' });
    const params = inboundSms('+14155550106', 'receipt attached', {
      NumMedia: '2',
      MediaUrl0: `${mediaUrl}/media/photo`,
      MediaContentType0: 'image/jpeg',
      MediaUrl1: `${mediaUrl}/media/huge`,
      MediaContentType1: 'image/png',
    });
    await postTwilio(gw, '/webhooks/twilio/sms', params);
    const msg = await eventually(
      () =>
        gw.ctx.db.message.findUnique({
          where: { providerMessageId: params.MessageSid! },
          include: { attachments: true },
        }),
      10_000,
      'MMS message',
    );
    expect(msg.debtorId).toBe(debtor.id);
    expect(msg.attachments).toHaveLength(1);
    expect(msg.attachments[0]).toMatchObject({ contentType: 'image/jpeg', size: jpeg.length });
    expect(fs.readFileSync(msg.attachments[0]!.path).equals(jpeg)).toBe(true);
    expect(mediaAuth).toContain(`Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
    const created = await gw.ctx.db.conversationEvent.findFirstOrThrow({
      where: {
        conversationId: msg.conversationId,
        type: 'message.created',
        payload: { path: ['message', 'id'], equals: msg.id },
      },
    });
    expect((created.payload as { skippedAttachments: { reason: string }[] }).skippedAttachments[0]!.reason).toMatch(
      /larger than 2000 bytes/,
    );
  });

  it('moves message status forward only and keeps every callback as history', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550107' });
    const out = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: sid('SM') });
    const status = (s: string, extra: Record<string, string> = {}) =>
      postTwilio(gw, '/webhooks/twilio/status', {
        MessageSid: out.providerMessageId!,
        MessageStatus: s,
        AccountSid: TWILIO_SID,
        To: '+14155550107',
        ...extra,
      });
    expect((await status('delivered')).status).toBe(204);
    await eventually(
      async () => (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: out.id } })).status === 'DELIVERED',
    );
    await status('sent'); // late
    await status('delivered'); // duplicate
    await eventually(() => gw.ctx.db.messageStatusEvent.count({ where: { messageId: out.id } }).then((n) => n === 2));
    await eventually(() =>
      gw.ctx.db.inboundEvent.count({ where: { kind: 'status', status: 'RECEIVED' } }).then((n) => n === 0),
    );
    const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: out.id } });
    expect(m.status).toBe('DELIVERED');
    expect(m.deliveredAt).not.toBeNull();
    expect(await gw.ctx.db.messageStatusEvent.count({ where: { messageId: out.id } })).toBe(2);
  });

  it('treats error 21610 on a status callback as an SMS opt-out', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550108' });
    const out = await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: sid('SM') });
    await postTwilio(gw, '/webhooks/twilio/status', {
      MessageSid: out.providerMessageId!,
      MessageStatus: 'failed',
      ErrorCode: '21610',
    });
    const consent = await eventually(() =>
      gw.ctx.db.channelConsent.findUnique({
        where: { contactPointId_channel: { contactPointId: phone!.id, channel: 'SMS' } },
      }),
    );
    expect(consent).toMatchObject({ state: 'REVOKED', source: 'provider:21610' });
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: out.id } })).status).toBe('FAILED');
  });

  it('records call status, answering-machine result and recording (audio fetched with basic auth) on the call', async () => {
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550109' });
    const call = await seedOutbound(gw, debtor.id, phone!.id, 'VOICE', { providerMessageId: sid('CA') });
    await postTwilio(gw, '/webhooks/twilio/voice/amd', {
      CallSid: call.providerMessageId!,
      AnsweredBy: 'machine_end_beep',
      AccountSid: TWILIO_SID,
    });
    await postTwilio(gw, '/webhooks/twilio/voice/status', {
      CallSid: call.providerMessageId!,
      CallStatus: 'completed',
      CallDuration: '37',
      AccountSid: TWILIO_SID,
    });
    await postTwilio(gw, '/webhooks/twilio/voice/recording', {
      CallSid: call.providerMessageId!,
      RecordingSid: sid('RE'),
      RecordingUrl: `${mediaUrl}/Recordings/RE1`,
      RecordingStatus: 'completed',
      RecordingDuration: '20',
    });
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findUniqueOrThrow({
          where: { id: call.id },
          include: { attachments: true },
        });
        const o = row.callOutcome as Record<string, unknown> | null;
        return row.status === 'COMPLETED' && o?.answeredBy && o?.recording && row.attachments.length ? row : null;
      },
      10_000,
      'call outcome',
    );
    expect(m.callOutcome).toMatchObject({
      answeredBy: 'machine_end_beep',
      durationSec: 37,
      recording: { durationSec: 20 },
    });
    expect(m.attachments[0]).toMatchObject({ contentType: 'audio/mpeg', size: mp3.length });
    expect(fs.readFileSync(m.attachments[0]!.path).equals(mp3)).toBe(true);
  });

  it('keeps an event whose processing failed, retries it by the job, and lands the message once', async () => {
    // A failure from the database, outside our code: a trigger refuses the first insert of this body.
    const db = gw.ctx.db;
    await db.$executeRawUnsafe(`CREATE SEQUENCE test_fail_once_seq`);
    await db.$executeRawUnsafe(`CREATE FUNCTION test_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.body = 'fail me once' AND nextval('test_fail_once_seq') = 1 THEN RAISE EXCEPTION 'injected failure for the retry test'; END IF;
        RETURN NEW;
      END $$`);
    await db.$executeRawUnsafe(
      `CREATE TRIGGER test_fail_once BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION test_fail_once()`,
    );
    await seedDebtor(gw, { phone: '+14155550110' });
    const params = inboundSms('+14155550110', 'fail me once');
    expect((await postTwilio(gw, '/webhooks/twilio/sms', params)).status).toBe(200);
    const key = `twilio:sms:${params.MessageSid}`;
    const failed = await eventually(
      async () => {
        const e = await db.inboundEvent.findUnique({ where: { dedupeKey: key } });
        return e && e.attempts >= 1 && e.lastError ? e : null;
      },
      10_000,
      'first failure',
    );
    expect(failed.lastError).toMatch(/injected failure/);
    const done = await eventually(
      async () => {
        const e = await db.inboundEvent.findUniqueOrThrow({ where: { dedupeKey: key } });
        return e.status === 'PROCESSED' ? e : null;
      },
      20_000,
      'retry by the job',
    );
    expect(done.attempts).toBe(2);
    expect(await db.message.count({ where: { body: 'fail me once' } })).toBe(1);
  });

  it('lists failed events and replays one for admins only', async () => {
    const db = gw.ctx.db;
    // A status callback for a message nobody knows fails (it may have overtaken the send).
    const ghost = sid('SM');
    await postTwilio(gw, '/webhooks/twilio/status', { MessageSid: ghost, MessageStatus: 'delivered' });
    const key = `twilio:status:${ghost}:delivered`;
    await eventually(
      async () => (await db.inboundEvent.findUnique({ where: { dedupeKey: key } }))?.status === 'FAILED',
    );
    const list = await fetch(`${gw.url}/api/v1/admin/inbound-events?status=FAILED`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(list.status).toBe(200);
    const { events } = (await list.json()) as { events: { id: string; dedupeKey: string }[] };
    const row = events.find((e) => e.dedupeKey === key)!;
    expect(row).toBeDefined();
    expect((await fetch(`${gw.url}/api/v1/admin/inbound-events?status=FAILED`)).status).toBe(401);

    // The message appears (the send is recorded); the replay now succeeds.
    const { debtor, phone } = await seedDebtor(gw, { phone: '+14155550111' });
    await seedOutbound(gw, debtor.id, phone!.id, 'SMS', { providerMessageId: ghost });
    const replay = await fetch(`${gw.url}/api/v1/admin/inbound-events/${row.id}/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({ status: 'PROCESSED' });
    expect(await db.auditEvent.count({ where: { action: 'inbound_event.replay', entityId: row.id } })).toBe(1);
    expect((await db.message.findUniqueOrThrow({ where: { providerMessageId: ghost } })).status).toBe('DELIVERED');
  });

  describe('live events', () => {
    let socket: Socket;
    afterAll(() => {
      socket?.disconnect();
    });

    it('refuses a socket without a valid token', async () => {
      const bad = connectSocket(gw.url, { auth: { token: 'nope' }, transports: ['websocket'], reconnection: false });
      const err = await new Promise<Error>((resolve) => bad.on('connect_error', resolve));
      expect(err.message).toMatch(/invalid|authentication/);
      bad.disconnect();
    });

    it('delivers the new message, with its seq, to a client in the conversation room', async () => {
      const { debtor } = await seedDebtor(gw, { phone: '+14155550112' });
      const conversation = await gw.ctx.db.conversation.create({
        data: { debtorId: debtor.id, replyToken: `tok${Date.now()}` },
      });
      socket = connectSocket(gw.url, { auth: { token: ADMIN_KEY }, transports: ['websocket'], reconnection: false });
      await new Promise<void>((resolve, reject) => {
        socket.on('connect', () => resolve());
        socket.on('connect_error', reject);
      });
      const ack = (await socket.emitWithAck('subscribe', { conversationId: conversation.id })) as {
        ok: boolean;
        lastSeq: number;
      };
      expect(ack).toMatchObject({ ok: true, lastSeq: 0 });
      await socket.emitWithAck('inbox:subscribe', {});
      const received: {
        type: string;
        seq: number;
        conversationId: string;
        payload: { message?: { body: string; channel: string } };
      }[] = [];
      const inbox: { conversationId: string }[] = [];
      socket.on('timeline', (ev) => received.push(ev));
      socket.on('inbox', (s) => inbox.push(s));
      await postTwilio(gw, '/webhooks/twilio/sms', inboundSms('+14155550112', 'live hello'));
      const ev = await eventually(() => received.find((e) => e.type === 'message.created'), 10_000, 'timeline event');
      expect(ev).toMatchObject({
        conversationId: conversation.id,
        seq: 1,
        payload: { message: { body: 'live hello', channel: 'SMS' } },
      });
      await eventually(() => inbox.some((s) => s.conversationId === conversation.id), 5_000, 'inbox summary');

      // A reconnecting client fetches what it missed by seq.
      const res = await fetch(`${gw.url}/api/v1/conversations/${conversation.id}/events?after=0`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      const body = (await res.json()) as { events: { seq: number; type: string }[] };
      expect(body.events[0]).toMatchObject({ seq: 1, type: 'message.created' });
      const convo = (await (
        await fetch(`${gw.url}/api/v1/conversations/${conversation.id}`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        })
      ).json()) as { messages: { body: string }[] };
      expect(convo.messages.map((m) => m.body)).toEqual(['live hello']);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { eventually } from '../support/gateway.js';
import { unsubscribeUrl } from '../../src/messaging/consent.js';
import {
  ADMIN_KEY,
  basicAuth,
  INBOUND_DOMAIN,
  inboundParseForm,
  PARSE_SECRET,
  postLob,
  postSendgridEvents,
  seedDebtor,
  seedOutbound,
  startInboundGateway,
  type InboundGateway,
} from './helpers.js';

function composeMime(opts: {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
  inReplyTo?: string;
  references?: string;
}): Promise<Buffer> {
  return new MailComposer({ ...opts, headers: {} }).compile().build();
}

describe('email replies and delivery events', () => {
  let gw: InboundGateway;
  beforeAll(async () => {
    gw = await startInboundGateway();
  });
  afterAll(async () => gw?.close());

  const postParse = (form: FormData, opts: { auth?: string | null; path?: string } = {}) =>
    fetch(`${gw.url}${opts.path ?? '/webhooks/sendgrid/inbound'}`, {
      method: 'POST',
      headers: opts.auth === null ? {} : { authorization: opts.auth ?? basicAuth('sendgrid', PARSE_SECRET) },
      body: form,
    });

  const conversationOf = (debtorId: string) => gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId } });

  it('matches an email by the Reply-To token alone and marks a sender not on file (parsed Inbound Parse, basic auth)', async () => {
    const { debtor } = await seedDebtor(gw, { email: 'dana@example.org' });
    const conversation = await gw.ctx.db.conversation.create({
      data: { debtorId: debtor.id, replyToken: 'tokenabc123' },
    });
    const form = inboundParseForm(
      {
        headers:
          'Message-ID: <reply-1@mail.example.net>\r\nFrom: Sam Spouse <sam@elsewhere.net>\r\nTo: reply+tokenabc123@inbound.example.com\r\nSubject: Re: Your account\r\n',
        from: 'Sam Spouse <sam@elsewhere.net>',
        to: `reply+tokenabc123@${INBOUND_DOMAIN}`,
        subject: 'Re: Your account',
        text: 'She is away until Monday.',
        envelope: JSON.stringify({ to: [`reply+tokenabc123@${INBOUND_DOMAIN}`], from: 'sam@elsewhere.net' }),
        charsets: JSON.stringify({ to: 'UTF-8', text: 'UTF-8' }),
        'attachment-info': JSON.stringify({
          attachment1: { filename: 'note.pdf', type: 'application/pdf' },
          attachment2: { filename: 'run.exe', type: 'application/x-msdownload' },
        }),
        attachments: '2',
      },
      [
        {
          field: 'attachment1',
          filename: 'note.pdf',
          contentType: 'application/pdf',
          content: Buffer.from('%PDF-1.4 test'),
        },
        {
          field: 'attachment2',
          filename: 'run.exe',
          contentType: 'application/x-msdownload',
          content: Buffer.from('MZ'),
        },
      ],
    );
    expect((await postParse(form)).status).toBe(200);
    const msg = await eventually(
      () =>
        gw.ctx.db.message.findUnique({
          where: { rfcMessageId: 'reply-1@mail.example.net' },
          include: { attachments: true },
        }),
      10_000,
      'email message',
    );
    expect(msg).toMatchObject({
      conversationId: conversation.id,
      debtorId: debtor.id,
      channel: 'EMAIL',
      direction: 'INBOUND',
      fromAddress: 'sam@elsewhere.net',
      fromUnknownAddress: true,
      contactPointId: null,
    });
    expect(msg.attachments.map((a) => a.filename)).toEqual(['note.pdf']);
    expect((await conversationOf(debtor.id)).flags).toContain('UNKNOWN_SENDER_ADDRESS');
  });

  it('matches a raw-MIME reply by In-Reply-To although sent from another address (path token)', async () => {
    const { debtor, email } = await seedDebtor(gw, { email: 'lee@example.org' });
    const ours = await seedOutbound(gw, debtor.id, email!.id, 'EMAIL', {
      rfcMessageId: '<reminder-77@collections.example.com>',
      providerMessageId: 'sgAbC123',
    });
    const mime = await composeMime({
      from: 'Lee at work <lee.l@employer.example>',
      to: 'collections@example.com',
      subject: 'Re: Reminder',
      text: 'I already paid this last week.\n\nOn Mon, Collections wrote:\n> Reply STOP to opt out. unsubscribe',
      messageId: '<raw-reply-2@employer.example>',
      inReplyTo: '<reminder-77@collections.example.com>',
      references: '<reminder-77@collections.example.com>',
    });
    const form = inboundParseForm({
      email: mime.toString('utf8'),
      envelope: JSON.stringify({ to: ['collections@example.com'], from: 'lee.l@employer.example' }),
    });
    expect((await postParse(form, { auth: null, path: `/webhooks/sendgrid/inbound/${PARSE_SECRET}` })).status).toBe(
      200,
    );
    const msg = await eventually(
      () => gw.ctx.db.message.findUnique({ where: { rfcMessageId: 'raw-reply-2@employer.example' } }),
      10_000,
      'raw reply',
    );
    expect(msg).toMatchObject({
      conversationId: ours.conversationId,
      debtorId: debtor.id,
      fromUnknownAddress: true,
      inReplyTo: 'reminder-77@collections.example.com',
    });
    const c = await conversationOf(debtor.id);
    expect(c.flags).toEqual(expect.arrayContaining(['ALREADY_PAID', 'UNKNOWN_SENDER_ADDRESS']));
    // The quoted footer of our own email is not read as an opt-out.
    expect(c.flags).not.toContain('OPT_OUT');
  });

  it('refuses Inbound Parse without the secret, storing nothing', async () => {
    const before = await gw.ctx.db.inboundEvent.count();
    const form = () =>
      inboundParseForm({
        from: 'x@y.z',
        to: `reply+zzz@${INBOUND_DOMAIN}`,
        text: 'hi',
        headers: 'Message-ID: <forged@x>\r\n',
      });
    const missing = await postParse(form(), { auth: null });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/Basic/);
    expect((await postParse(form(), { auth: basicAuth('sendgrid', 'wrong-secret-value') })).status).toBe(403);
    expect((await postParse(form(), { auth: null, path: '/webhooks/sendgrid/inbound/not-the-secret' })).status).toBe(
      403,
    );
    expect(await gw.ctx.db.inboundEvent.count()).toBe(before);
  });

  it('opts an address out of email on an "unsubscribe" reply', async () => {
    const { debtor, email } = await seedDebtor(gw, { email: 'kim@example.org' });
    const form = inboundParseForm({
      headers: 'Message-ID: <unsub-3@example.org>\r\n',
      from: 'Kim <KIM@example.org>',
      to: 'collections@example.com',
      subject: 'unsubscribe',
      text: 'Please stop emailing me.',
    });
    await postParse(form);
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: email!.id, channel: 'EMAIL' } },
          })
        )?.state === 'REVOKED',
      10_000,
      'email consent revoked',
    );
    expect((await conversationOf(debtor.id)).flags).toContain('OPT_OUT');
  });

  it('opens an unmatched conversation for an unknown sender, and linking moves its messages into the debtor thread', async () => {
    const { debtor } = await seedDebtor(gw, { email: 'pat@example.org' });
    const target = await gw.ctx.db.conversation.create({ data: { debtorId: debtor.id, replyToken: 'tokenpat' } });
    await gw.ctx.db.conversationEvent.create({
      data: { conversationId: target.id, seq: 1, type: 'note.created', payload: {} },
    });
    await gw.ctx.db.conversation.update({ where: { id: target.id }, data: { lastSeq: 1 } });
    await postParse(
      inboundParseForm({
        headers: 'Message-ID: <stranger-1@new.example>\r\n',
        from: 'stranger@new.example',
        to: 'collections@example.com',
        subject: 'Hello',
        text: 'Is this about my account?',
      }),
    );
    const msg = await eventually(() =>
      gw.ctx.db.message.findUnique({
        where: { rfcMessageId: 'stranger-1@new.example' },
        include: { conversation: true },
      }),
    );
    expect(msg.debtorId).toBeNull();
    expect(msg.conversation).toMatchObject({ unmatchedAddress: 'stranger@new.example', flags: ['UNMATCHED'] });

    const link = (body: unknown) =>
      fetch(`${gw.url}/api/v1/conversations/${msg.conversationId}/link`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await link({ debtorId: 'nope' })).status).toBe(400);
    const res = await link({ debtorId: debtor.id });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ conversationId: target.id, messagesMoved: 1 });
    const moved = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: msg.id } });
    expect(moved).toMatchObject({ conversationId: target.id, debtorId: debtor.id });
    expect(await gw.ctx.db.conversation.findUnique({ where: { id: msg.conversationId } })).toBeNull();
    const events = await gw.ctx.db.conversationEvent.findMany({
      where: { conversationId: target.id },
      orderBy: { seq: 'asc' },
    });
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, 'note.created'],
      [2, 'message.created'],
      [3, 'conversation.linked'],
    ]);
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'conversation.link', entityId: target.id } })).toBe(1);
    // Linking twice is refused: the unmatched thread is gone.
    expect((await link({ debtorId: debtor.id })).status).toBe(404);
  });

  it('applies signed SendGrid events once each: delivered, hard bounce, spam report', async () => {
    const a = await seedDebtor(gw, { email: 'ann@example.org' });
    const b = await seedDebtor(gw, { email: 'bob@example.org' });
    const c = await seedDebtor(gw, { email: 'cy@example.org' });
    const m1 = await seedOutbound(gw, a.debtor.id, a.email!.id, 'EMAIL', { providerMessageId: 'xmsgid0001' });
    const m2 = await seedOutbound(gw, b.debtor.id, b.email!.id, 'EMAIL', { providerMessageId: 'xmsgid0002' });
    const m3 = await seedOutbound(gw, c.debtor.id, c.email!.id, 'EMAIL', { providerMessageId: 'xmsgid0003' });
    const ts = Math.floor(Date.now() / 1000);
    const batch = [
      {
        email: 'ann@example.org',
        timestamp: ts,
        event: 'processed',
        sg_event_id: 'ev-proc-1',
        sg_message_id: 'xmsgid0001.filter0001.1.0',
      },
      {
        email: 'ann@example.org',
        timestamp: ts,
        event: 'delivered',
        sg_event_id: 'ev-del-1',
        sg_message_id: 'xmsgid0001.filter0001.1.0',
        response: '250 OK',
      },
      {
        email: 'bob@example.org',
        timestamp: ts,
        event: 'bounce',
        type: 'bounce',
        status: '5.1.1',
        reason: 'user unknown',
        sg_event_id: 'ev-bnc-2',
        sg_message_id: 'xmsgid0002.filter0001.2.0',
      },
      {
        email: 'cy@example.org',
        timestamp: ts,
        event: 'spamreport',
        sg_event_id: 'ev-spam-3',
        sg_message_id: 'xmsgid0003.filter0001.3.0',
      },
    ];
    expect((await postSendgridEvents(gw, batch)).status).toBe(200);
    await eventually(
      async () =>
        (await gw.ctx.db.messageStatusEvent.count({ where: { messageId: { in: [m1.id, m2.id, m3.id] } } })) === 4,
      10_000,
      'status events',
    );
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: m1.id } })).status).toBe('DELIVERED');
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: m2.id } })).status).toBe('BOUNCED');
    expect(await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: b.email!.id } })).toMatchObject({
      valid: false,
    });
    await eventually(
      async () =>
        (
          await gw.ctx.db.channelConsent.findUnique({
            where: { contactPointId_channel: { contactPointId: c.email!.id, channel: 'EMAIL' } },
          })
        )?.state === 'REVOKED',
    );

    // The same events again, re-batched: nothing new.
    expect((await postSendgridEvents(gw, [batch[1], batch[2]])).status).toBe(200);
    await eventually(
      async () =>
        (await gw.ctx.db.inboundEvent.count({
          where: { provider: 'sendgrid', kind: 'events', status: 'PROCESSED' },
        })) === 2,
    );
    expect(await gw.ctx.db.messageStatusEvent.count({ where: { messageId: { in: [m1.id, m2.id, m3.id] } } })).toBe(4);
  });

  it('refuses SendGrid events with a bad, missing or stale signature, storing nothing', async () => {
    const before = await gw.ctx.db.inboundEvent.count();
    const events = [{ event: 'delivered', sg_event_id: 'ev-x', sg_message_id: 'xmsgid0001.f' }];
    expect((await postSendgridEvents(gw, events, { tamper: true })).status).toBe(403);
    expect((await postSendgridEvents(gw, events, { noSignature: true })).status).toBe(403);
    expect((await postSendgridEvents(gw, events, { timestamp: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(
      403,
    );
    expect(await gw.ctx.db.inboundEvent.count()).toBe(before);
  });

  it('receives a reply through the SMTP listener into the right thread, and refuses other domains', async () => {
    const { debtor } = await seedDebtor(gw, { email: 'mo@example.org' });
    await gw.ctx.db.conversation.create({ data: { debtorId: debtor.id, replyToken: 'tokensmtp1' } });
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gw.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      const info = await transport.sendMail({
        from: 'Mo <mo@example.org>',
        to: `reply+tokensmtp1@${INBOUND_DOMAIN}`,
        subject: 'Re: balance',
        text: 'Please call me after 6pm.',
        messageId: '<smtp-reply-1@example.org>',
      });
      expect(info.accepted).toEqual([`reply+tokensmtp1@${INBOUND_DOMAIN}`]);
      await expect(
        transport.sendMail({ from: 'mo@example.org', to: 'someone@other.example', subject: 'relay?', text: 'x' }),
      ).rejects.toThrow(/relaying|550/);
    } finally {
      transport.close();
    }
    const msg = await eventually(
      () => gw.ctx.db.message.findUnique({ where: { rfcMessageId: 'smtp-reply-1@example.org' } }),
      10_000,
      'SMTP message',
    );
    expect(msg).toMatchObject({
      debtorId: debtor.id,
      provider: 'smtp',
      fromUnknownAddress: false,
      body: expect.stringContaining('call me after 6pm'),
    });
    expect((await conversationOf(debtor.id)).flags).toContain('CALLBACK_REQUEST');
  });

  it('one-click unsubscribe: GET shows a confirmation, POST revokes email consent, forged tokens fail', async () => {
    const { debtor, email } = await seedDebtor(gw, { email: 'uno@example.org' });
    const url = unsubscribeUrl(gw.ctx, { contactPointId: email!.id });
    expect(url.startsWith(`${gw.ctx.publicBaseUrl}/unsubscribe/`)).toBe(true);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form method="post"/);
    expect(await gw.ctx.db.channelConsent.count({ where: { contactPointId: email!.id } })).toBe(0);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(
      await gw.ctx.db.channelConsent.findUniqueOrThrow({
        where: { contactPointId_channel: { contactPointId: email!.id, channel: 'EMAIL' } },
      }),
    ).toMatchObject({ state: 'REVOKED', source: 'email:list-unsubscribe' });
    expect((await conversationOf(debtor.id)).flags).toContain('OPT_OUT');
    const forged = url.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(
      (
        await fetch(forged, {
          method: 'POST',
          body: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).status,
    ).toBe(404);
  });

  describe('Lob tracking events', () => {
    it('moves a letter through mailed → delivered, once per event id', async () => {
      const { debtor, address } = await seedDebtor(gw, { address: true });
      const letter = await seedOutbound(gw, debtor.id, address!.id, 'LETTER', {
        providerMessageId: 'ltr_4868c3b754655f90',
      });
      const event = (id: string, type: string) => ({
        id,
        event_type: { id: type, resource: 'letters', object: 'event_type' },
        body: { id: letter.providerMessageId, object: 'letter' },
        reference_id: letter.providerMessageId,
        date_created: new Date().toISOString(),
        object: 'event',
      });
      expect((await postLob(gw, event('evt_mailed_1', 'letter.mailed'))).status).toBe(200);
      expect((await postLob(gw, event('evt_delivered_1', 'letter.delivered'))).status).toBe(200);
      expect((await postLob(gw, event('evt_delivered_1', 'letter.delivered'))).status).toBe(200);
      await eventually(
        async () => (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: letter.id } })).status === 'DELIVERED',
        10_000,
        'delivered',
      );
      expect(await gw.ctx.db.messageStatusEvent.count({ where: { messageId: letter.id } })).toBe(2);
    });

    it('marks the address invalid when a letter is returned to sender', async () => {
      const { debtor, address } = await seedDebtor(gw, { address: true });
      const letter = await seedOutbound(gw, debtor.id, address!.id, 'LETTER', {
        providerMessageId: 'ltr_returned0000001',
      });
      await postLob(gw, {
        id: 'evt_rts_1',
        event_type: { id: 'letter.returned_to_sender' },
        body: { id: letter.providerMessageId },
        date_created: new Date().toISOString(),
      });
      await eventually(
        async () => (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: address!.id } })).valid === false,
        10_000,
        'address invalid',
      );
      expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: letter.id } })).status).toBe('RETURNED');
    });

    it('refuses a bad signature or a stale timestamp, storing nothing', async () => {
      const before = await gw.ctx.db.inboundEvent.count();
      const ev = { id: 'evt_forged', event_type: { id: 'letter.delivered' }, body: { id: 'ltr_x' } };
      expect((await postLob(gw, ev, { secret: 'not-the-secret' })).status).toBe(403);
      expect((await postLob(gw, ev, { timestamp: String(Date.now() - 3_600_000) })).status).toBe(403);
      expect(await gw.ctx.db.inboundEvent.count()).toBe(before);
    });
  });
});

// Delivery-status reports and automatic replies, through both inbound email
// paths (the SMTP listener, SendGrid Inbound Parse raw and parsed), from
// real-shaped fixtures (test/inbound/fixtures). A hard bounce marks the address
// invalid and the message BOUNCED; a soft one is only recorded; neither becomes
// a message in the thread or a reply.received. An auto-reply stays in the
// thread marked as such: no flag, no consent change, no "replied".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { eventually } from '../support/gateway.js';
import { freePort } from '../support/ports.js';
import { parseRawMime } from '../../src/inbound/email.js';
import { detectReport } from '../../src/inbound/email-reports.js';
import { messageIdOfReturnPath, returnPathFor } from '../../src/conversations/return-path.js';
import { smtpEmail } from '../../channels/smtp/adapter.js';
import {
  basicAuth,
  INBOUND_DOMAIN,
  inboundParseForm,
  PARSE_SECRET,
  seedDebtor,
  startInboundGateway,
  type InboundGateway,
} from './helpers.js';

const FIXTURES = path.resolve('test/inbound/fixtures');
const fixtureNames = (dir: string) =>
  fs
    .readdirSync(path.join(FIXTURES, dir))
    .filter((f) => f.endsWith('.eml'))
    .sort();

function fixture(
  dir: string,
  name: string,
  vars: { RCPT: string; ADDR: string; MSGID: string },
): { raw: Buffer; expect: string | null } {
  let text = fs.readFileSync(path.join(FIXTURES, dir, name), 'utf8');
  const expectLine = /^X-Fixture-Expect: (\w+)\r?\n/.exec(text);
  if (expectLine) text = text.slice(expectLine[0].length);
  for (const [k, v] of Object.entries(vars)) text = text.split(`{{${k}}}`).join(v);
  return { raw: Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8'), expect: expectLine?.[1] ?? null };
}

const report = async (raw: Buffer, envelopeFrom: string | null = null) => {
  const mail = await parseRawMime(raw, [], envelopeFrom);
  return detectReport({
    headers: mail.headers,
    subject: mail.subject,
    from: mail.from,
    fromName: mail.fromName,
    text: mail.text,
    reportParts: mail.reportParts,
    envelopeFrom: mail.envelopeFrom,
  });
};

describe('detecting reports (pure)', () => {
  const vars = {
    RCPT: `bounce+x@${INBOUND_DOMAIN}`,
    ADDR: 'dana@example.org',
    MSGID: `<${randomUUID()}@${INBOUND_DOMAIN}>`,
  };

  it.each(fixtureNames('bounces'))('bounce %s: kind, severity and failed address', async (name) => {
    const { raw, expect: severity } = fixture('bounces', name, vars);
    const r = await report(raw);
    expect(r.kind).toBe('bounce');
    if (r.kind !== 'bounce') return;
    expect(r.severity).toBe(severity);
    expect(r.recipients.map((x) => x.address)).toContain('dana@example.org');
  });

  it.each(fixtureNames('auto-replies'))('auto-reply %s', async (name) => {
    const { raw } = fixture('auto-replies', name, vars);
    expect((await report(raw)).kind).toBe('auto_reply');
  });

  it("a person's reply is neither, even when it talks about being away or a failed payment", async () => {
    const raws = [
      'From: Dana <dana@example.org>\r\nTo: reply+abc@inbound.example.com\r\nSubject: Re: Your balance is overdue\r\nMessage-ID: <p1@example.org>\r\n\r\nI was out of the office last week. The payment could not be delivered by my bank, I will try again Friday.\r\n',
      'From: Dana <dana@example.org>\r\nTo: reply+abc@inbound.example.com\r\nSubject: Out of work - can we set up a plan?\r\nAuto-Submitted: no\r\nMessage-ID: <p2@example.org>\r\n\r\nI lost my job, can I pay $50 a month?\r\n',
    ];
    for (const raw of raws) expect((await report(Buffer.from(raw))).kind).toBe('reply');
  });

  it('an RFC 3464 report of successful delivery is no bounce', async () => {
    const raw = Buffer.from(
      'From: MAILER-DAEMON@mx.example.net\r\nTo: x@inbound.example.com\r\nSubject: Successful Mail Delivery Report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nDelivered.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; dana@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n--b--\r\n',
    );
    expect((await report(raw)).kind).toBe('report_success');
  });

  it('the VERP return path names its message only with a valid MAC', () => {
    const id = randomUUID();
    const address = returnPathFor('s'.repeat(32), id, INBOUND_DOMAIN);
    expect(address).toMatch(
      new RegExp(`^bounce\\+[0-9a-f]{32}\\.[0-9a-f]{12}@${INBOUND_DOMAIN.replace(/\./g, '\\.')}$`),
    );
    expect(address.split('@')[0]!.length).toBeLessThanOrEqual(64);
    expect(
      messageIdOfReturnPath(
        's'.repeat(32),
        address.toUpperCase().replace(INBOUND_DOMAIN.toUpperCase(), INBOUND_DOMAIN),
        INBOUND_DOMAIN,
      ),
    ).toBe(id);
    expect(messageIdOfReturnPath('t'.repeat(32), address, INBOUND_DOMAIN)).toBeNull();
    expect(
      messageIdOfReturnPath('s'.repeat(32), address.replace(/\.[0-9a-f]{12}@/, '.000000000000@'), INBOUND_DOMAIN),
    ).toBeNull();
    expect(
      messageIdOfReturnPath('s'.repeat(32), address.replace(INBOUND_DOMAIN, 'other.example'), INBOUND_DOMAIN),
    ).toBeNull();
  });
});

describe('the SMTP adapter sends with the VERP return path', () => {
  it("MAIL FROM is the payload's returnPath, the header From stays ours", async () => {
    const port = await freePort();
    const seen: { mailFrom: string | null; rcpt: string[]; raw: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          seen.push({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            rcpt: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          cb();
        });
      },
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    const adapter = smtpEmail({ url: `smtp://127.0.0.1:${port}` });
    try {
      const id = randomUUID();
      const returnPath = returnPathFor('k'.repeat(32), id, INBOUND_DOMAIN);
      await adapter.send({
        messageId: id,
        payload: {
          channel: 'EMAIL',
          to: 'dana@example.org',
          from: 'collections@example.com',
          subject: 'Your balance',
          text: 'Hello',
          html: '<p>Hello</p>',
          replyTo: `reply+tok@${INBOUND_DOMAIN}`,
          messageIdHeader: `<${id}@${INBOUND_DOMAIN}>`,
          listUnsubscribeUrl: 'https://example.com/u/x',
          returnPath,
        },
      });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.mailFrom).toBe(returnPath);
      expect(seen[0]!.rcpt).toEqual(['dana@example.org']);
      expect(seen[0]!.raw).toMatch(/^From: .*collections@example\.com/m);
    } finally {
      await adapter.close?.();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('bounces and auto-replies through the gateway', () => {
  let gw: InboundGateway;
  beforeAll(async () => {
    gw = await startInboundGateway();
    // A subscriber to reply.received, so an announcement would leave a delivery row behind.
    await gw.ctx.db.webhookSubscription.create({
      data: { url: 'http://127.0.0.1:9/hook', secret: 'whsec-test-0123456789', events: ['reply.received'] },
    });
  });
  afterAll(async () => gw?.close());

  async function seedSent(email: string) {
    const { debtor, email: cp } = await seedDebtor(gw, { email });
    const conversation = await gw.ctx.db.conversation.create({
      data: { debtorId: debtor.id, replyToken: randomUUID().replace(/-/g, '').slice(0, 16) },
    });
    const id = randomUUID();
    const message = await gw.ctx.db.message.create({
      data: {
        id,
        conversationId: conversation.id,
        debtorId: debtor.id,
        contactPointId: cp!.id,
        direction: 'OUTBOUND',
        channel: 'EMAIL',
        status: 'SENT',
        toAddress: email,
        subject: 'Your balance is overdue',
        body: 'If you have already paid, thank you. To stop these emails, unsubscribe here.',
        rfcMessageId: `<${id}@${INBOUND_DOMAIN}>`,
        providerMessageId: `<${id}@${INBOUND_DOMAIN}>`,
        provider: 'smtp',
      },
    });
    return {
      debtor,
      cp: cp!,
      conversation,
      message,
      returnPath: returnPathFor(gw.ctx.secret, id, INBOUND_DOMAIN),
      replyTo: `reply+${conversation.replyToken}@${INBOUND_DOMAIN}`,
      msgId: `<${id}@${INBOUND_DOMAIN}>`,
    };
  }

  async function smtpSend(raw: Buffer, rcpt: string, mailFrom = '') {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gw.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      return await transport.sendMail({ envelope: { from: mailFrom, to: [rcpt] }, raw });
    } finally {
      transport.close();
    }
  }

  const postParse = (form: FormData) =>
    fetch(`${gw.url}/webhooks/sendgrid/inbound`, {
      method: 'POST',
      headers: { authorization: basicAuth('sendgrid', PARSE_SECRET) },
      body: form,
    });

  const inboundOf = (conversationId: string) =>
    gw.ctx.db.message.findMany({ where: { conversationId, direction: 'INBOUND' } });
  const announcements = async (conversationId: string) =>
    (await gw.ctx.db.webhookDelivery.findMany({ where: { event: 'reply.received' } })).filter((d) =>
      JSON.stringify(d.payload).includes(conversationId),
    ).length;
  const processed = (dedupe: string) =>
    eventually(
      async () => {
        const e = await gw.ctx.db.inboundEvent.findFirst({ where: { dedupeKey: { contains: dedupe } } });
        return e && (e.status === 'PROCESSED' || e.status === 'IGNORED') ? e : null;
      },
      10_000,
      `inbound event ${dedupe} processed`,
    );

  it('SMTP listener: accepts a DSN for the VERP return path (no more 550), bounces the message and invalidates the address', async () => {
    const s = await seedSent('gone@example.org');
    const { raw } = fixture('bounces', 'postfix-user-unknown.eml', {
      RCPT: s.returnPath,
      ADDR: 'gone@example.org',
      MSGID: s.msgId,
    });
    const info = await smtpSend(raw, s.returnPath);
    expect(info.accepted).toEqual([s.returnPath]);
    const cp = await eventually(
      async () => {
        const c = await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.cp.id } });
        return c.valid ? null : c;
      },
      10_000,
      'contact point invalid',
    );
    expect(cp.invalidReason).toMatch(/^email_invalid: hard bounce 5\.1\.1/);
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: s.message.id } })).status).toBe('BOUNCED');
    const statuses = await gw.ctx.db.messageStatusEvent.findMany({ where: { messageId: s.message.id } });
    expect(statuses.map((e) => e.providerStatus)).toContain('dsn:hard:failed');
    expect(await inboundOf(s.conversation.id)).toHaveLength(0);
    expect(await announcements(s.conversation.id)).toBe(0);
    const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: s.conversation.id } });
    expect(conversation.flags).toEqual([]);
    const timeline = await gw.ctx.db.conversationEvent.findMany({ where: { conversationId: s.conversation.id } });
    expect(timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['message.status', 'contact_point.invalid']));
  });

  it('SMTP listener: a forged VERP address (bad MAC) is not taken for our message', async () => {
    const s = await seedSent('forged@example.org');
    const forged = s.returnPath.replace(/\.[0-9a-f]{12}@/, '.0123456789ab@');
    const { raw } = fixture('bounces', 'qmail.eml', {
      RCPT: forged,
      ADDR: 'forged@example.org',
      MSGID: '<not-ours@elsewhere.example>',
    });
    await smtpSend(raw, forged);
    const e = await processed('qmail');
    expect(e.status).toBe('IGNORED');
    expect(e.lastError).toMatch(/naming no email of ours/);
    expect((await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.cp.id } })).valid).toBe(true);
  });

  it('SMTP listener: a delayed (4.x.x) report is recorded as a soft bounce; the address stays valid', async () => {
    const s = await seedSent('slow@example.org');
    const { raw } = fixture('bounces', 'postfix-delayed.eml', {
      RCPT: s.returnPath,
      ADDR: 'slow@example.org',
      MSGID: s.msgId,
    });
    await smtpSend(raw, s.returnPath);
    const ev = await eventually(
      () =>
        gw.ctx.db.messageStatusEvent.findFirst({
          where: { messageId: s.message.id, providerStatus: { startsWith: 'dsn:' } },
        }),
      10_000,
      'soft bounce recorded',
    );
    expect(ev).toMatchObject({ providerStatus: 'dsn:soft:delayed', errorCode: '4.4.1', status: 'SENT' });
    expect((await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.cp.id } })).valid).toBe(true);
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: s.message.id } })).status).toBe('SENT');
    expect(await inboundOf(s.conversation.id)).toHaveLength(0);
  });

  it('Inbound Parse raw: a Gmail bounce sent to the Reply-To is matched by our Message-ID and invalidates the address', async () => {
    const s = await seedSent('nouser@example.org');
    const { raw } = fixture('bounces', 'gmail-no-such-account.eml', {
      RCPT: s.replyTo,
      ADDR: 'nouser@example.org',
      MSGID: s.msgId,
    });
    const form = inboundParseForm({
      email: raw.toString('utf8'),
      envelope: JSON.stringify({ to: [s.replyTo], from: '' }),
      to: s.replyTo,
      from: 'Mail Delivery Subsystem <mailer-daemon@googlemail.com>',
      subject: 'Delivery Status Notification (Failure)',
    });
    expect((await postParse(form)).status).toBe(200);
    await eventually(
      async () => !(await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.cp.id } })).valid,
      10_000,
      'address invalid',
    );
    expect((await gw.ctx.db.message.findUniqueOrThrow({ where: { id: s.message.id } })).status).toBe('BOUNCED');
    expect(await inboundOf(s.conversation.id)).toHaveLength(0);
    expect(await announcements(s.conversation.id)).toBe(0);
    // Our own quoted reminder in the returned message revoked nothing.
    expect(await gw.ctx.db.channelConsent.count({ where: { contactPointId: s.cp.id, state: 'REVOKED' } })).toBe(0);
  });

  it('Inbound Parse parsed: an Exim plain-text bounce (no DSN) for the VERP address', async () => {
    const s = await seedSent('exim@example.org');
    const { raw } = fixture('bounces', 'exim-plain.eml', {
      RCPT: s.returnPath,
      ADDR: 'exim@example.org',
      MSGID: s.msgId,
    });
    const text = raw.toString('utf8');
    const split = text.indexOf('\r\n\r\n');
    const form = inboundParseForm({
      headers: text.slice(0, split + 2),
      from: 'Mail Delivery System <Mailer-Daemon@host.example.net>',
      to: s.returnPath,
      subject: 'Mail delivery failed: returning message to sender',
      text: text.slice(split + 4),
      envelope: JSON.stringify({ to: [s.returnPath], from: '' }),
      charsets: JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8', text: 'us-ascii' }),
    });
    expect((await postParse(form)).status).toBe(200);
    await eventually(
      async () => !(await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.cp.id } })).valid,
      10_000,
      'address invalid',
    );
    expect(await inboundOf(s.conversation.id)).toHaveLength(0);
  });

  it('auto-replies stay in the thread, marked, with no flag, no opt-out, no reply.received and no "replied"', async () => {
    const cases: { name: string; path: 'smtp' | 'raw' | 'parsed'; to: 'reply' | 'verp' }[] = [
      { name: 'exchange-automatic-reply.eml', path: 'smtp', to: 'reply' },
      { name: 'zimbra-es.eml', path: 'raw', to: 'reply' },
      { name: 'gmail-vacation.eml', path: 'parsed', to: 'reply' },
      { name: 'null-sender-vacation.eml', path: 'smtp', to: 'verp' },
      { name: 'cpanel-autoresponder.eml', path: 'raw', to: 'verp' },
    ];
    for (const c of cases) {
      const address = `${c.name.replace(/\W/g, '')}@example.org`;
      const s = await seedSent(address);
      const rcpt = c.to === 'reply' ? s.replyTo : s.returnPath;
      const { raw } = fixture('auto-replies', c.name, { RCPT: rcpt, ADDR: address, MSGID: s.msgId });
      if (c.path === 'smtp') await smtpSend(raw, rcpt, c.name.startsWith('null') ? '' : address);
      else if (c.path === 'raw')
        expect(
          (
            await postParse(
              inboundParseForm({
                email: raw.toString('utf8'),
                envelope: JSON.stringify({ to: [rcpt], from: address }),
              }),
            )
          ).status,
        ).toBe(200);
      else {
        const text = raw.toString('utf8');
        const split = text.indexOf('\r\n\r\n');
        const parsed = await parseRawMime(raw);
        expect(
          (
            await postParse(
              inboundParseForm({
                headers: text.slice(0, split + 2),
                from: address,
                to: rcpt,
                subject: parsed.subject ?? '',
                text: parsed.text,
                envelope: JSON.stringify({ to: [rcpt], from: address }),
              }),
            )
          ).status,
        ).toBe(200);
      }
      const [msg] = await eventually(
        async () => {
          const rows = await inboundOf(s.conversation.id);
          return rows.length ? rows : null;
        },
        10_000,
        `auto-reply ${c.name} in the thread`,
      );
      expect(msg).toMatchObject({ intent: 'auto_reply', debtorId: s.debtor.id });
      const conversation = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: s.conversation.id } });
      expect({ name: c.name, flags: conversation.flags }).toEqual({ name: c.name, flags: [] });
      expect(await gw.ctx.db.channelConsent.count({ where: { contactPointId: s.cp.id, state: 'REVOKED' } })).toBe(0);
      expect((await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.cp.id } })).valid).toBe(true);
      expect(await announcements(s.conversation.id)).toBe(0);
    }
  });

  it('reads only what the sender wrote: an Outlook reply quoting our footer revokes nothing, a bottom-posted unsubscribe does; the full text is kept', async () => {
    const outlook = await seedSent('outlook@example.org');
    const quoted = `Thanks, I paid online today.\r\n\r\n________________________________\r\nFrom: Example Collections <collections@example.com>\r\nSent: Monday, January 5, 2026 10:00 AM\r\nTo: outlook@example.org\r\nSubject: Your balance is overdue\r\n\r\nIf you have already paid, thank you. To stop these emails, unsubscribe here.\r\n`;
    await smtpSend(
      Buffer.from(
        `From: <outlook@example.org>\r\nTo: ${outlook.replyTo}\r\nSubject: RE: Your balance is overdue\r\nMessage-ID: <o-${randomUUID()}@example.org>\r\n\r\n${quoted}`,
      ),
      outlook.replyTo,
      'outlook@example.org',
    );
    const [msg] = await eventually(
      async () => ((await inboundOf(outlook.conversation.id)).length ? inboundOf(outlook.conversation.id) : null),
      10_000,
      'outlook reply',
    );
    expect(msg!.body).toContain('unsubscribe here');
    const c1 = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: outlook.conversation.id } });
    expect(c1.flags).toContain('ALREADY_PAID');
    expect(c1.flags).not.toContain('OPT_OUT');
    expect(await gw.ctx.db.channelConsent.count({ where: { contactPointId: outlook.cp.id, state: 'REVOKED' } })).toBe(
      0,
    );

    const bottom = await seedSent('bottom@example.org');
    const text = `On Mon, Jan 5, 2026 at 10:00 AM Example Collections <collections@example.com> wrote:\r\n> If you have already paid, thank you.\r\n\r\nPlease stop emailing me.\r\n`;
    await smtpSend(
      Buffer.from(
        `From: <bottom@example.org>\r\nTo: ${bottom.replyTo}\r\nSubject: Re: Your balance is overdue\r\nMessage-ID: <b-${randomUUID()}@example.org>\r\n\r\n${text}`,
      ),
      bottom.replyTo,
      'bottom@example.org',
    );
    await eventually(
      async () =>
        (await gw.ctx.db.channelConsent.count({
          where: { contactPointId: bottom.cp.id, channel: 'EMAIL', state: 'REVOKED' },
        })) === 1,
      10_000,
      'bottom-posted opt-out revokes email',
    );
  });

  it("a person's reply in the same setup is announced (the checks above can fail)", async () => {
    const s = await seedSent('real@example.org');
    const raw = Buffer.from(
      `From: Real <real@example.org>\r\nTo: ${s.replyTo}\r\nSubject: Re: Your balance is overdue\r\nMessage-ID: <real-${randomUUID()}@example.org>\r\nIn-Reply-To: ${s.msgId}\r\n\r\nPlease call me tomorrow.\r\n`,
    );
    await smtpSend(raw, s.replyTo, 'real@example.org');
    await eventually(async () => (await announcements(s.conversation.id)) === 1, 10_000, 'reply.received');
    const [msg] = await inboundOf(s.conversation.id);
    expect(msg!.intent).toBeNull();
    expect((await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: s.conversation.id } })).flags).toContain(
      'CALLBACK_REQUEST',
    );
  });
});

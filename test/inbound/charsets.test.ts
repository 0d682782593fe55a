// Charsets and unstorable text on the inbound email paths. Inbound Parse raw
// mode carries the MIME bytes in the `email` field: they are parsed as bytes
// (windows-1252, ISO-8859-8, ISO-2022-JP bodies decode right); parsed mode
// honours the `charsets` field. NULs and lone surrogates are removed before
// storage; what can never be processed is dead-lettered with its reason.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { eventually } from '../support/gateway.js';
import { dataRejection } from '../../src/db/errors.js';
import { storableText } from '../../src/inbound/storable-text.js';
import {
  ADMIN_KEY,
  basicAuth,
  INBOUND_DOMAIN,
  PARSE_SECRET,
  seedDebtor,
  startInboundGateway,
  type InboundGateway,
} from './helpers.js';

/** A multipart/form-data body as SendGrid writes it: field values are raw bytes, with no charset of their own. */
function multipart(fields: Record<string, Buffer | string>): { body: Buffer; contentType: string } {
  const boundary = `xYzZY${randomUUID().replace(/-/g, '')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`),
      Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8'),
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

const mime = (headers: string, body: Buffer) =>
  Buffer.concat([Buffer.from(headers.replace(/\n/g, '\r\n') + '\r\n\r\n'), body]);

describe('charsets and unstorable text', () => {
  let gw: InboundGateway;
  beforeAll(async () => {
    gw = await startInboundGateway({ INBOUND_MAX_ATTEMPTS: '50' });
  });
  afterAll(async () => gw?.close());

  const post = (f: { body: Buffer; contentType: string }) =>
    fetch(`${gw.url}/webhooks/sendgrid/inbound`, {
      method: 'POST',
      headers: { authorization: basicAuth('sendgrid', PARSE_SECRET), 'content-type': f.contentType },
      body: new Uint8Array(f.body),
    });
  const landed = (rfcMessageId: string) =>
    eventually(() => gw.ctx.db.message.findUnique({ where: { rfcMessageId } }), 10_000, `message ${rfcMessageId}`);

  async function thread(email: string) {
    const { debtor } = await seedDebtor(gw, { email });
    const c = await gw.ctx.db.conversation.create({
      data: { debtorId: debtor.id, replyToken: randomUUID().replace(/-/g, '').slice(0, 16) },
    });
    return `reply+${c.replyToken}@${INBOUND_DOMAIN}`;
  }

  it.each([
    [
      'windows-1252',
      Buffer.from([0x93, 0x50, 0x61, 0x79, 0xe9, 0x94, 0x20, 0x96, 0x20, 0x80, 0x35, 0x30]),
      '\u201cPayé\u201d \u2013 €50',
    ],
    [
      'ISO-8859-8',
      Buffer.from([0xf9, 0xec, 0xe5, 0xed, 0x2c, 0x20, 0xf9, 0xe9, 0xec, 0xee, 0xfa, 0xe9]),
      'שלום, שילמתי',
    ],
    ['ISO-2022-JP', Buffer.from('1b244224392447244b3b594a272424245e2437243f1b2842', 'hex'), 'すでに支払いました'],
  ])('raw mode parses the MIME bytes: %s', async (charset, bytes, expected) => {
    const rcpt = await thread(`raw-${charset.toLowerCase()}@example.org`);
    const id = `raw-${charset}-${randomUUID()}@example.org`;
    const raw = mime(
      `From: <raw-${charset.toLowerCase()}@example.org>\nTo: ${rcpt}\nSubject: Re: balance\nMessage-ID: <${id}>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: 8bit`,
      bytes,
    );
    expect(
      (
        await post(
          multipart({
            email: raw,
            to: rcpt,
            from: 'x',
            envelope: JSON.stringify({ to: [rcpt], from: 'x@example.org' }),
            charsets: JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8' }),
          }),
        )
      ).status,
    ).toBe(200);
    const msg = await landed(id);
    expect(msg.body.trim()).toBe(expected);
    expect(msg.body).not.toContain('\ufffd');
  });

  it('parsed mode honours the charsets field (and guesses windows-1252 for undeclared 8-bit text)', async () => {
    const rcpt = await thread('parsed@example.org');
    const cases = [
      {
        id: `p1-${randomUUID()}@example.org`,
        charsets: { text: 'iso-8859-1', subject: 'windows-1252', from: 'UTF-8' },
        text: Buffer.from('Ya pagu\xe9, se\xf1or.', 'latin1'),
        subject: Buffer.from([0x93, 0x52, 0x65, 0x94]),
        expect: { body: 'Ya pagué, señor.', subject: '\u201cRe\u201d' },
      },
      {
        id: `p2-${randomUUID()}@example.org`,
        charsets: { text: 'ISO-2022-JP', subject: 'UTF-8' },
        text: Buffer.from('1b244224392447244b3b594a272424245e2437243f1b2842', 'hex'),
        subject: Buffer.from('Re: 残高', 'utf8'),
        expect: { body: 'すでに支払いました', subject: 'Re: 残高' },
      },
      {
        id: `p3-${randomUUID()}@example.org`,
        charsets: { subject: 'UTF-8' },
        text: Buffer.from('J\xe1 paguei', 'latin1'),
        subject: Buffer.from('Re: saldo'),
        expect: { body: 'Já paguei', subject: 'Re: saldo' },
      },
    ];
    for (const c of cases) {
      const form = multipart({
        headers: `Message-ID: <${c.id}>\r\nFrom: Pat <parsed@example.org>\r\nTo: ${rcpt}\r\n`,
        from: 'Pat <parsed@example.org>',
        to: rcpt,
        subject: c.subject,
        text: c.text,
        envelope: JSON.stringify({ to: [rcpt], from: 'parsed@example.org' }),
        charsets: JSON.stringify(c.charsets),
      });
      expect((await post(form)).status).toBe(200);
      const msg = await landed(c.id);
      expect({ body: msg.body, subject: msg.subject }).toEqual(c.expect);
    }
  });

  it('NULs and lone surrogates are removed before storage; the email lands', async () => {
    const rcpt = await thread('nul@example.org');
    const id = `nul-${randomUUID()}@example.org`;
    const raw = mime(
      `From: <nul@example.org>\nTo: ${rcpt}\nSubject: Re: bal\u0000ance\nMessage-ID: <${id}>\nContent-Type: text/plain; charset=utf-8`,
      Buffer.from('I paid\u0000 yesterday.\u0001', 'utf8'),
    );
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gw.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await transport.sendMail({ envelope: { from: 'nul@example.org', to: [rcpt] }, raw });
    } finally {
      transport.close();
    }
    const msg = await landed(id);
    expect(msg.body.trim()).toBe('I paid yesterday.');
    expect(msg.subject).toBe('Re: balance');
    expect(storableText('a\ud800b\udc00c\ud83d\ude00')).toBe('abc\ud83d\ude00');
  });

  it('the database refusing data is recognised as permanent (real PostgreSQL, SQLSTATE 22021)', async () => {
    const err = await gw.ctx.db.$queryRawUnsafe('SELECT $1::text AS t', 'a\u0000b').then(
      () => null,
      (e: unknown) => e,
    );
    expect(dataRejection(err)).toBe('22021');
    expect(dataRejection(new Error('connection reset'))).toBeNull();
  });

  it('what can never be processed is dead-lettered at once with its reason, listed for admins, and not retried', async () => {
    const id = `nofrom-${randomUUID()}@example.org`;
    const rcpt = await thread('nofrom@example.org');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gw.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    try {
      await transport.sendMail({
        envelope: { from: 'x@example.org', to: [rcpt] },
        raw: mime(`To: ${rcpt}\nSubject: hi\nMessage-ID: <${id}>`, Buffer.from('no sender')),
      });
    } finally {
      transport.close();
    }
    const broken = multipart({ email: Buffer.from('x') });
    const mangled = { body: broken.body.subarray(0, broken.body.length - 20), contentType: broken.contentType };
    expect((await post(mangled)).status).toBe(200);

    const dead = await eventually(
      async () => {
        const res = await fetch(`${gw.url}/api/v1/admin/inbound-events?status=DEAD_LETTER`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        });
        const { events: items } = (await res.json()) as { events: { id: string; lastError: string }[] };
        return items.length >= 2 ? items : null;
      },
      10_000,
      'two dead letters listed',
    );
    const reasons = dead.map((d) => d.lastError).join('\n');
    expect(reasons).toMatch(/email has no From address/);
    expect(reasons).toMatch(/cannot be parsed/);
    const rows = await gw.ctx.db.inboundEvent.findMany({ where: { status: 'DEAD_LETTER' } });
    for (const r of rows) expect({ attempts: r.attempts, next: r.nextAttemptAt }).toEqual({ attempts: 1, next: null });
  });
});

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nodemailer from 'nodemailer';
import { SmtpSandbox, sendDebtorReply, type SmtpMessage } from '../../channels/smtp/sandbox.js';

let relay: SmtpSandbox;
let authedRelay: SmtpSandbox;

beforeAll(async () => {
  relay = await new SmtpSandbox({ rejectRecipients: ['gone@example.com'] }).start();
  authedRelay = await new SmtpSandbox({ auth: { user: 'gateway', pass: 'relay-pass' } }).start();
});
afterAll(async () => {
  await relay.close();
  await authedRelay.close();
});

function transport(port: number, auth?: { user: string; pass: string }) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    ...(auth ? { auth } : {}),
  });
}

describe('SMTP sandbox', () => {
  it('accepts outbound mail from nodemailer, parses it and emits an event', async () => {
    expect(relay.host).toBe('127.0.0.1');
    expect(relay.port).toBeGreaterThan(0);
    const arrived = new Promise<SmtpMessage>((resolve) => relay.once('message', resolve));
    const pdf = Buffer.from('%PDF-1.4 statement');
    const info = await transport(relay.port).sendMail({
      from: 'Acme Collections <collections@acme.example>',
      to: 'debtor@example.com',
      cc: 'guarantor@example.com',
      replyTo: 'reply+conv_7@inbound.acme.example',
      subject: 'Statement of account',
      text: 'Balance: $120.00',
      html: '<p>Balance: <b>$120.00</b></p>',
      messageId: '<msg_7@acme.example>',
      headers: { 'List-Unsubscribe': '<mailto:unsubscribe@acme.example>' },
      attachments: [{ filename: 'statement.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    expect(info.response).toMatch(/^250 /);
    const message = await arrived;
    expect(message).toMatchObject({
      envelope: { mailFrom: 'collections@acme.example', rcptTo: ['debtor@example.com', 'guarantor@example.com'] },
      messageId: '<msg_7@acme.example>',
      to: ['debtor@example.com'],
      cc: ['guarantor@example.com'],
      replyTo: 'reply+conv_7@inbound.acme.example',
      subject: 'Statement of account',
      html: '<p>Balance: <b>$120.00</b></p>',
    });
    expect(message.text?.trim()).toBe('Balance: $120.00');
    expect(message.headers['list-unsubscribe']).toContain('unsubscribe@acme.example');
    expect(message.attachments).toHaveLength(1);
    expect(message.attachments[0]).toMatchObject({
      filename: 'statement.pdf',
      contentType: 'application/pdf',
      byteLength: pdf.length,
    });
    expect(message.attachments[0]!.content.equals(pdf)).toBe(true);
    expect(relay.listMessages({ to: 'guarantor@example.com' })).toEqual([message]);
  });

  it('refuses scripted recipients with 550 and, when auth is configured, bad credentials', async () => {
    await expect(
      transport(relay.port).sendMail({ from: 'a@acme.example', to: 'gone@example.com', subject: 's', text: 'x' }),
    ).rejects.toMatchObject({ responseCode: 550 });
    await expect(
      transport(authedRelay.port, { user: 'gateway', pass: 'wrong' }).sendMail({
        from: 'a@acme.example',
        to: 'd@example.com',
        subject: 's',
        text: 'x',
      }),
    ).rejects.toMatchObject({ code: 'EAUTH' });
    await expect(
      transport(authedRelay.port).sendMail({ from: 'a@acme.example', to: 'd@example.com', subject: 's', text: 'x' }),
    ).rejects.toBeDefined();
    await transport(authedRelay.port, { user: 'gateway', pass: 'relay-pass' }).sendMail({
      from: 'a@acme.example',
      to: 'd@example.com',
      subject: 'ok',
      text: 'x',
    });
    const stored = await authedRelay.waitForMessage((m) => m.subject === 'ok');
    expect(stored.authenticatedUser).toBe('gateway');
    expect(authedRelay.messages).toHaveLength(1);
  });

  it('sends a reply as the debtor, threaded to our message, to another SMTP listener', async () => {
    // A second sandbox stands in for the gateway's inbound SMTP listener.
    const inbound = await new SmtpSandbox().start();
    try {
      const sent = await sendDebtorReply({
        host: inbound.host,
        port: inbound.port,
        from: 'Dee Debtor <debtor@example.com>',
        to: 'reply+conv_7@inbound.acme.example',
        subject: 'Re: Statement of account',
        text: 'Can I pay in two instalments?',
        inReplyTo: '<msg_7@acme.example>',
        references: ['<msg_7@acme.example>'],
      });
      expect(sent.accepted).toEqual(['reply+conv_7@inbound.acme.example']);
      const got = await inbound.waitForMessage((m) => m.messageId === sent.messageId);
      expect(got).toMatchObject({
        inReplyTo: '<msg_7@acme.example>',
        references: ['<msg_7@acme.example>'],
        from: '"Dee Debtor" <debtor@example.com>',
      });
    } finally {
      await inbound.close();
    }
  });
});

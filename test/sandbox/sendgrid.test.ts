import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { MailService } from '@sendgrid/mail';
import { Client } from '@sendgrid/client';
import eventWebhook from '@sendgrid/eventwebhook';
import busboy from 'busboy';
import { simpleParser } from 'mailparser';
import { startHarness, SENDGRID_KEY, type Harness } from './harness.js';
import type { ReceivedRequest } from './fake-gateway.js';

const { EventWebhook, EventWebhookHeader } = eventWebhook;

let h: Harness;
let mail: MailService;

type SgEvent = Record<string, unknown> & { event: string; email: string; sg_message_id: string; sg_event_id: string };

function verify(req: ReceivedRequest, publicKey: string, body = req.rawBody.toString('utf8')): boolean {
  const ew = new EventWebhook();
  return ew.verifySignature(
    ew.convertPublicKeyToECDSA(publicKey),
    body,
    String(req.headers[EventWebhookHeader.SIGNATURE().toLowerCase()]),
    String(req.headers[EventWebhookHeader.TIMESTAMP().toLowerCase()]),
  );
}

function eventsFor(messageId: string): { batches: ReceivedRequest[]; events: SgEvent[] } {
  const batches = h.gateway
    .requestsTo('/webhooks/sendgrid/events')
    .filter((r) => r.rawBody.toString().includes(messageId));
  return { batches, events: batches.flatMap((b) => JSON.parse(b.rawBody.toString()) as SgEvent[]) };
}

async function parseMultipart(req: ReceivedRequest) {
  const fields: Record<string, string> = {};
  const files: Record<string, { filename: string; mimeType: string; bytes: Buffer }> = {};
  await new Promise<void>((resolve, reject) => {
    const parser = busboy({ headers: { 'content-type': String(req.headers['content-type']) } });
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on(
        'end',
        () => (files[name] = { filename: info.filename ?? '', mimeType: info.mimeType, bytes: Buffer.concat(chunks) }),
      );
    });
    parser.on('close', resolve);
    parser.on('error', reject);
    Readable.from(req.rawBody).pipe(parser);
  });
  return { fields, files };
}

/** @sendgrid/mail pointed at the sandbox (its typings hide `.client`, so configure a Client and hand it over). */
function mailServiceAt(baseUrl: string, apiKey: string): MailService {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', baseUrl);
  const service = new MailService();
  service.setClient(client);
  return service;
}

beforeAll(async () => {
  h = await startHarness({
    sendgrid: { apiKey: SENDGRID_KEY, inboundParseAuth: { username: 'parse', password: 's3cret' } },
  });
  mail = mailServiceAt(h.sandboxes.sendgrid.baseUrl, SENDGRID_KEY);
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.sandboxes.callbacks.idle();
  h.sandboxes.sendgrid.reset();
  h.gateway.reset();
});

describe('SendGrid sandbox — mail send through @sendgrid/mail', () => {
  it('answers 202 with X-Message-Id, stores the message and posts signed processed → delivered batches', async () => {
    const [response] = await mail.send({
      to: { email: 'debtor@example.com', name: 'Dee Debtor' },
      from: { email: 'collections@acme.example', name: 'Acme Collections' },
      replyTo: 'reply+conv_123@inbound.acme.example',
      subject: 'Invoice 42 is 30 days overdue',
      text: 'Please pay $120.00. Unsubscribe: https://acme.example/u',
      html: '<p>Please pay <b>$120.00</b>.</p>',
      headers: { 'List-Unsubscribe': '<https://acme.example/u>', 'X-Conversation-Id': 'conv_123' },
      customArgs: { message_id: 'msg_1', tenant: 'acme' },
      categories: ['dunning'],
    });
    expect(response.statusCode).toBe(202);
    const messageId = String(response.headers['x-message-id']);
    expect(messageId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const stored = h.sandboxes.sendgrid.getMessage(messageId)!;
    expect(stored).toMatchObject({
      subject: 'Invoice 42 is 30 days overdue',
      replyTo: { email: 'reply+conv_123@inbound.acme.example' },
      headers: { 'List-Unsubscribe': '<https://acme.example/u>', 'X-Conversation-Id': 'conv_123' },
      customArgs: { message_id: 'msg_1', tenant: 'acme' },
      text: 'Please pay $120.00. Unsubscribe: https://acme.example/u',
    });
    expect(stored.recipients.map((r) => r.email)).toEqual(['debtor@example.com']);

    const { batches, events } = await h.gateway.waitFor('two event batches', () => {
      const got = eventsFor(messageId);
      return got.batches.length === 2 ? got : undefined;
    });
    expect(events.map((e) => e.event)).toEqual(['processed', 'delivered']);
    for (const e of events) {
      expect(e).toMatchObject({
        email: 'debtor@example.com',
        message_id: 'msg_1',
        tenant: 'acme',
        category: ['dunning'],
      });
      expect(e.sg_message_id.startsWith(`${messageId}.filter`)).toBe(true);
      expect(typeof e.timestamp).toBe('number');
    }
    expect(new Set(events.map((e) => e.sg_event_id)).size).toBe(2);
    expect(events[0]!['smtp-id']).toBe(`<${messageId}@geopod-ismtpd-sandbox>`);

    const publicKey = h.sandboxes.sendgrid.publicKey;
    for (const batch of batches) expect(verify(batch, publicKey)).toBe(true);
    const tampered = batches[1]!.rawBody.toString().replace('"delivered"', '"bounce"');
    expect(verify(batches[1]!, publicKey, tampered)).toBe(false);
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    expect(verify(batches[1]!, otherKey)).toBe(false);
  });

  it('plays scripted outcomes: bounce, dropped (no processed), spamreport after delivery', async () => {
    h.sandboxes.sendgrid.setOutcome('bounces@example.com', 'bounce');
    h.sandboxes.sendgrid.setOutcome('dropped@example.com', 'dropped');
    h.sandboxes.sendgrid.setOutcome('angry@example.com', 'spamreport');
    const [response] = await mail.send({
      personalizations: [
        { to: [{ email: 'bounces@example.com' }], customArgs: { debtor: 'd1' } },
        { to: [{ email: 'dropped@example.com' }], customArgs: { debtor: 'd2' } },
        { to: [{ email: 'angry@example.com' }], customArgs: { debtor: 'd3' } },
      ],
      from: 'collections@acme.example',
      subject: 'Reminder',
      text: 'Please pay.',
    });
    const messageId = String(response.headers['x-message-id']);
    const { events } = await h.gateway.waitFor('spamreport', () => {
      const got = eventsFor(messageId);
      return got.events.some((e) => e.event === 'spamreport') ? got : undefined;
    });
    const byEmail = (email: string) => events.filter((e) => e.email === email).map((e) => e.event);
    expect(byEmail('bounces@example.com')).toEqual(['processed', 'bounce']);
    expect(byEmail('dropped@example.com')).toEqual(['dropped']);
    expect(byEmail('angry@example.com')).toEqual(['processed', 'delivered', 'spamreport']);
    const bounce = events.find((e) => e.event === 'bounce')!;
    expect(bounce).toMatchObject({ status: '5.1.1', type: 'bounce', debtor: 'd1' });
    // Each recipient gets its own sg_message_id under the same X-Message-Id.
    expect(new Set(events.map((e) => e.sg_message_id)).size).toBe(3);
  });

  it('rejects malformed bodies with SendGrid error JSON and bad keys with 401', async () => {
    const client = new Client();
    client.setApiKey(SENDGRID_KEY);
    client.setDefaultRequest('baseUrl', h.sandboxes.sendgrid.baseUrl);
    let error:
      | {
          code: number;
          response: { body: { errors: { field: string | null; message: string; help: string | null }[] } };
        }
      | undefined;
    try {
      await client.request({
        method: 'POST',
        url: '/v3/mail/send',
        body: {
          personalizations: [{ to: [{ email: 'not-an-address' }] }],
          from: { email: 'a@acme.example' },
          content: [
            { type: 'text/html', value: '<p>x</p>' },
            { type: 'text/plain', value: 'x' },
          ],
        },
      });
    } catch (err) {
      error = err as typeof error;
    }
    expect(error?.code).toBe(400);
    const fields = error!.response.body.errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['personalizations.0.to.0.email', 'subject', 'content.1.type']));
    expect(error!.response.body.errors.every((e) => typeof e.message === 'string' && e.message.length > 0)).toBe(true);

    const reserved = await fetch(`${h.sandboxes.sendgrid.baseUrl}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SENDGRID_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        personalizations: [{ to: [{ email: 'd@example.com' }] }],
        from: { email: 'a@acme.example' },
        subject: 's',
        content: [{ type: 'text/plain', value: 'x' }],
        headers: { 'Reply-To': 'x@y.z' },
        custom_args: { n: 5 },
      }),
    });
    expect(reserved.status).toBe(400);
    const reservedBody = (await reserved.json()) as { errors: { field: string }[] };
    expect(reservedBody.errors.map((e) => e.field)).toEqual(['headers', 'custom_args.n']);

    const other = mailServiceAt(h.sandboxes.sendgrid.baseUrl, 'SG.wrong-key');
    await expect(
      other.send({ to: 'd@example.com', from: 'a@acme.example', subject: 's', text: 'x' }),
    ).rejects.toMatchObject({ code: 401 });
    expect(h.sandboxes.sendgrid.listMessages()).toHaveLength(0);
  });

  it('injects 500s for the next N sends', async () => {
    h.sandboxes.sendgrid.failNextRequests(1, 500);
    const msg = { to: 'd@example.com', from: 'a@acme.example', subject: 's', text: 'x' };
    await expect(mail.send(msg)).rejects.toMatchObject({ code: 500 });
    const [ok] = await mail.send(msg);
    expect(ok.statusCode).toBe(202);
  });

  it('signs with a configured private key and exposes the matching public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const custom = await startHarness({
      sendgrid: {
        apiKey: SENDGRID_KEY,
        webhookPrivateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    try {
      const expected = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      expect(custom.sandboxes.sendgrid.publicKey).toBe(expected);
      const record = await custom.sandboxes.sendgrid.postEventBatch([
        { email: 'd@example.com', event: 'open', timestamp: 1 },
      ]);
      expect(record?.state).toBe('delivered');
      expect(verify(custom.gateway.received[0]!, expected)).toBe(true);
    } finally {
      await custom.close();
    }
  });
});

describe('SendGrid sandbox — Inbound Parse as the debtor', () => {
  it('posts the parsed multipart form with attachments, envelope and basic auth', async () => {
    const pdf = Buffer.from('%PDF-1.4 fake receipt');
    const result = await h.sandboxes.sendgrid.simulateInboundEmail({
      from: 'Dee Debtor <debtor@example.com>',
      to: 'reply+conv_123@inbound.acme.example',
      subject: 'Re: Invoice 42',
      text: 'I paid yesterday, receipt attached.',
      html: '<p>I paid yesterday</p>',
      inReplyTo: '<msg_1@acme.example>',
      attachments: [{ filename: 'receipt.pdf', contentType: 'application/pdf', content: pdf }],
    });
    expect(result.status).toBe(200);
    const req = h.gateway.requestsTo('/webhooks/sendgrid/inbound')[0]!;
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from('parse:s3cret').toString('base64')}`);
    const { fields, files } = await parseMultipart(req);
    expect(fields).toMatchObject({
      from: 'Dee Debtor <debtor@example.com>',
      to: 'reply+conv_123@inbound.acme.example',
      subject: 'Re: Invoice 42',
      text: 'I paid yesterday, receipt attached.',
      html: '<p>I paid yesterday</p>',
      attachments: '1',
      SPF: 'pass',
    });
    expect(JSON.parse(fields.envelope!)).toEqual({
      to: ['reply+conv_123@inbound.acme.example'],
      from: 'debtor@example.com',
    });
    expect(JSON.parse(fields['attachment-info']!)).toEqual({
      attachment1: { filename: 'receipt.pdf', name: 'receipt.pdf', type: 'application/pdf' },
    });
    expect(JSON.parse(fields.charsets!)).toMatchObject({ text: 'UTF-8', html: 'UTF-8' });
    expect(fields.headers).toMatch(/^In-Reply-To: <msg_1@acme\.example>\r$/m);
    expect(files.attachment1).toMatchObject({ filename: 'receipt.pdf', mimeType: 'application/pdf' });
    expect(files.attachment1!.bytes.equals(pdf)).toBe(true);
  });

  it('posts the raw variant with the full MIME message in `email`', async () => {
    await h.sandboxes.sendgrid.simulateInboundEmail(
      {
        from: 'debtor@example.com',
        to: 'reply+conv_9@inbound.acme.example',
        subject: 'STOP emailing me',
        text: 'stop',
      },
      { raw: true },
    );
    const { fields } = await parseMultipart(h.gateway.requestsTo('/webhooks/sendgrid/inbound')[0]!);
    expect(fields.text).toBeUndefined();
    const parsed = await simpleParser(fields.email!);
    expect(parsed.subject).toBe('STOP emailing me');
    expect(parsed.text?.trim()).toBe('stop');
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').toBe('reply+conv_9@inbound.acme.example');
  });
});

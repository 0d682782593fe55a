import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import twilio from 'twilio';
import { Configuration, LettersApi, type LetterEditable } from '@lob/lob-typescript-sdk';
import { listenOnLoopback, type ListeningServer } from '../../channels/kit/http-server.js';
import { CallbackDispatcher } from '../../src/sandbox/index.js';
import { SmtpSandbox } from '../../channels/smtp/sandbox.js';
import { sandboxControlRouter } from '../../src/sandbox/control-router.js';
import { startHarness, LOB_KEY, TWILIO_SID, TWILIO_TOKEN, type Harness } from './harness.js';

const FROM = '+15005550006';

describe('startSandboxes — callback delivery guarantees', () => {
  let h: Harness;
  let client: ReturnType<typeof twilio>;
  beforeAll(async () => {
    h = await startHarness();
    client = twilio(TWILIO_SID, TWILIO_TOKEN);
    client.api.baseUrl = h.sandboxes.twilio.baseUrl;
  });
  afterAll(async () => {
    await h.close();
  });

  it('retries a callback the gateway refuses with 5xx, keeping each attempt, without reordering', async () => {
    let calls = 0;
    h.gateway.on('/flaky', (_req, res) => {
      calls += 1;
      res.status(calls <= 2 ? 503 : 200).end();
    });
    const message = await client.messages.create({
      to: '+14155550150',
      from: FROM,
      body: 'x',
      statusCallback: `${h.gateway.baseUrl}/flaky`,
    });
    // idle(): the whole status progression, retries included, has finished and been recorded.
    await h.sandboxes.callbacks.idle();
    expect(h.gateway.requestsTo('/flaky').map((r) => r.form.MessageStatus)).toEqual([
      'queued',
      'queued',
      'queued',
      'sent',
      'delivered',
    ]);
    const records = h.sandboxes.callbacks.list({ provider: 'twilio' }).filter((r) => r.url.endsWith('/flaky'));
    expect(records.map((r) => r.kind)).toEqual([
      'message-status:queued',
      'message-status:sent',
      'message-status:delivered',
    ]);
    expect(records[0]!.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
    expect(records.every((r) => r.state === 'delivered')).toBe(true);
    expect(message.sid).toMatch(/^SM/);
  });

  it('delivers a burst of callbacks over a bounded pool of kept-alive connections, not one connection each', async () => {
    const dispatcher = new CallbackDispatcher({ connectionsPerOrigin: 3 });
    const app = express();
    let open = 0;
    let mostOpen = 0;
    app.post('/burst', (_req, res) => {
      // Answered a little later, so the burst really is pending at once.
      setTimeout(() => res.status(204).end(), 5);
    });
    const server = await listenOnLoopback(app);
    const sockets = new Set<unknown>();
    server.server.on('connection', (socket) => {
      sockets.add(socket);
      open += 1;
      mostOpen = Math.max(mostOpen, open);
      socket.on('close', () => (open -= 1));
    });
    try {
      const records = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          dispatcher.deliver({
            provider: 'twilio',
            kind: 'burst',
            url: `${server.baseUrl}/burst`,
            headers: { 'content-type': 'text/plain' },
            body: `n=${i}`,
          }),
        ),
      );
      expect(records.every((r) => r.state === 'delivered' && r.responseStatus === 204)).toBe(true);
      expect(sockets.size).toBeLessThanOrEqual(3);
      expect(mostOpen).toBeLessThanOrEqual(3);
    } finally {
      await dispatcher.close();
      await server.close();
    }
  });

  it('records callbacks that never got through instead of losing them', async () => {
    const closed = await listenOnLoopback(express());
    const deadUrl = `${closed.baseUrl}/status`;
    await closed.close();
    await client.messages.create({ to: '+14155550151', from: FROM, body: 'x', statusCallback: deadUrl });
    await h.sandboxes.callbacks.idle();
    const failed = h.sandboxes.callbacks.list({ state: 'failed' }).filter((r) => r.url === deadUrl);
    expect(failed.map((r) => r.kind)).toEqual([
      'message-status:queued',
      'message-status:sent',
      'message-status:delivered',
    ]);
    for (const record of failed) {
      expect(record.attempts).toHaveLength(3);
      expect(record.attempts.every((a) => a.error !== undefined && a.status === undefined)).toBe(true);
    }
    // The message itself still progressed: the carrier does not wait for the webhook.
    expect(h.sandboxes.twilio.listMessages({ to: '+14155550151' })[0]!.status).toBe('delivered');
  });

  it('close() waits for in-flight simulations so no webhook is cut off', async () => {
    const slow = await startHarness({ callbackDelayMs: 60 });
    const letters = new LettersApi(
      new Configuration({ username: LOB_KEY, basePath: `${slow.sandboxes.lob.baseUrl}/v1` }),
    );
    const letter = await letters.create({
      to: { name: 'Dee', address_line1: '185 Berry St', address_zip: '94107' },
      from: { company: 'Acme', address_line1: '1 Main St', address_zip: '02108' },
      file: '<p>Demand</p>',
      color: false,
      use_type: 'operational',
    } as unknown as LetterEditable);
    expect(slow.gateway.requestsTo('/webhooks/lob')).toHaveLength(0);
    await slow.sandboxes.close();
    const types = slow.gateway
      .requestsTo('/webhooks/lob')
      .map((r) => (JSON.parse(r.rawBody.toString()) as { event_type: { id: string } }).event_type.id);
    expect(types.at(-1)).toBe('letter.processed_for_delivery');
    expect(types).toHaveLength(7);
    expect(slow.sandboxes.lob.getLetter(letter.id)!.eventsSent).toEqual(types);
    await slow.gateway.close();
  });
});

describe('sandboxControlRouter — inspection and acting as the debtor', () => {
  let h: Harness;
  let inboundSmtp: SmtpSandbox;
  let control: ListeningServer;
  const post = (path: string, body: unknown) =>
    fetch(`${control.baseUrl}/sandbox${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = async <T>(path: string) => (await (await fetch(`${control.baseUrl}/sandbox${path}`)).json()) as T;

  beforeAll(async () => {
    inboundSmtp = await new SmtpSandbox().start();
    h = await startHarness({}, { inboundSmtp: { host: inboundSmtp.host, port: inboundSmtp.port } });
    const app = express();
    app.use('/sandbox', sandboxControlRouter(h.sandboxes));
    control = await listenOnLoopback(app);
  });
  afterAll(async () => {
    await control.close();
    await h.close();
    await inboundSmtp.close();
  });

  it('posts an inbound SMS to the gateway and lists it', async () => {
    const res = await post('/twilio/inbound-sms', { from: '+14155550160', to: FROM, body: 'Call me after 6pm' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { status: number }).status).toBe(200);
    const inbound = h.gateway.requestsTo('/webhooks/twilio/sms')[0]!;
    expect(inbound.form.Body).toBe('Call me after 6pm');
    expect(
      twilio.validateRequest(TWILIO_TOKEN, String(inbound.headers['x-twilio-signature']), inbound.url, inbound.form),
    ).toBe(true);
    const listed = await get<{ direction: string; body: string }[]>('/twilio/messages?to=' + encodeURIComponent(FROM));
    expect(listed).toEqual([expect.objectContaining({ direction: 'inbound', body: 'Call me after 6pm' })]);
    const callbacks = await get<{ provider: string; kind: string; state: string }[]>('/callbacks?provider=twilio');
    expect(callbacks).toEqual([expect.objectContaining({ kind: 'inbound-sms', state: 'delivered' })]);
  });

  it('rejects invalid debtor actions with the field and reason', async () => {
    const res = await post('/twilio/inbound-sms', { from: '4155550160', to: FROM, body: 'x' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { issues: { field: string; reason: string }[] };
    expect(body.issues).toEqual([expect.objectContaining({ field: 'from', reason: 'must be an E.164 phone number' })]);
  });

  it('posts an inbound email through Inbound Parse and replies over SMTP as the debtor', async () => {
    const parse = await post('/sendgrid/inbound-email', {
      from: 'debtor@example.com',
      to: 'reply+c1@inbound.acme.example',
      subject: 'Re: invoice',
      text: 'disputed',
      raw: true,
    });
    expect(((await parse.json()) as { status: number }).status).toBe(200);
    const parseReq = h.gateway.requestsTo('/webhooks/sendgrid/inbound')[0]!;
    expect(String(parseReq.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    expect(parseReq.rawBody.toString()).toContain('name="email"');

    const reply = await post('/smtp/reply', {
      from: 'debtor@example.com',
      to: 'reply+c1@inbound.acme.example',
      subject: 'Re: invoice',
      text: 'I can pay $50 now',
      inReplyTo: '<m1@acme.example>',
    });
    expect(reply.status).toBe(200);
    const got = await inboundSmtp.waitForMessage((m) => m.subject === 'Re: invoice');
    expect(got).toMatchObject({
      inReplyTo: '<m1@acme.example>',
      envelope: { rcptTo: ['reply+c1@inbound.acme.example'] },
    });
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { startHarness, TWILIO_SID, TWILIO_TOKEN, type Harness } from './harness.js';
import type { ReceivedRequest } from './fake-gateway.js';

const FROM = '+15005550006';

let h: Harness;
let client: ReturnType<typeof twilio>;

function sdkClient(token = TWILIO_TOKEN) {
  const c = twilio(TWILIO_SID, token);
  c.api.baseUrl = h.sandboxes.twilio.baseUrl;
  return c;
}

function signatureValid(req: ReceivedRequest, params: Record<string, string> = req.form, url = req.url): boolean {
  return twilio.validateRequest(TWILIO_TOKEN, String(req.headers['x-twilio-signature']), url, params);
}

async function rejection(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number; code: number; message: string; moreInfo: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { constructor: { name: string }; status: number; code: number; message: string; moreInfo: string };
    return { name: e.constructor.name, status: e.status, code: e.code, message: e.message, moreInfo: e.moreInfo };
  }
  throw new Error('expected the SDK call to fail');
}

beforeAll(async () => {
  h = await startHarness();
  client = sdkClient();
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.sandboxes.callbacks.idle();
  h.sandboxes.twilio.reset();
  h.gateway.reset();
});

describe('Twilio sandbox — messages through the official SDK', () => {
  it('accepts a send, returns the Message resource and posts signed queued → sent → delivered callbacks in order', async () => {
    const statusUrl = `${h.gateway.baseUrl}/cb/sms-status?leg=1`;
    const message = await client.messages.create({
      to: '+14155550123',
      from: FROM,
      body: 'Your invoice is overdue. Reply STOP to opt out.',
      statusCallback: statusUrl,
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message.numSegments).toBe('1');
    expect(message.accountSid).toBe(TWILIO_SID);
    expect(message.direction).toBe('outbound-api');
    expect(message.dateCreated).toBeInstanceOf(Date);

    const callbacks = await h.gateway.waitFor('three status callbacks', () => {
      const got = h.gateway.requestsTo('/cb/sms-status');
      return got.length === 3 ? got : undefined;
    });
    expect(callbacks.map((c) => c.form.MessageStatus)).toEqual(['queued', 'sent', 'delivered']);
    for (const cb of callbacks) {
      expect(cb.form).toMatchObject({
        MessageSid: message.sid,
        SmsSid: message.sid,
        SmsStatus: cb.form.MessageStatus,
        To: '+14155550123',
        From: FROM,
        AccountSid: TWILIO_SID,
        ApiVersion: '2010-04-01',
      });
      expect(signatureValid(cb)).toBe(true);
    }
    // Tampering with any signed parameter, or the URL, must break the signature.
    const delivered = callbacks[2]!;
    expect(signatureValid(delivered, { ...delivered.form, MessageStatus: 'failed' })).toBe(false);
    expect(signatureValid(delivered, delivered.form, delivered.url.replace('leg=1', 'leg=2'))).toBe(false);
    expect(
      twilio.validateRequest(
        'another-token',
        String(delivered.headers['x-twilio-signature']),
        delivered.url,
        delivered.form,
      ),
    ).toBe(false);

    const fetched = await client.messages(message.sid).fetch();
    expect(fetched.status).toBe('delivered');
    expect(fetched.dateSent).toBeInstanceOf(Date);
  });

  it('sends callbacks to the gateway default status URL when the send names none, and counts UCS-2 segments', async () => {
    const body = 'Привет! '.repeat(20); // 160 UTF-16 units, Cyrillic forces UCS-2: ceil(160/67) = 3
    const message = await client.messages.create({ to: '+14155550124', from: FROM, body });
    expect(message.numSegments).toBe('3');
    const got = await h.gateway.waitFor('default status callbacks', () => {
      const list = h.gateway.requestsTo('/webhooks/twilio/status').filter((r) => r.form.MessageSid === message.sid);
      return list.length === 3 ? list : undefined;
    });
    expect(got.every((r) => signatureValid(r))).toBe(true);
  });

  it('reports undelivered with the scripted ErrorCode and accepted → queued for Messaging Service sends', async () => {
    h.sandboxes.twilio.setSmsOutcome('+14155550125', { status: 'undelivered', errorCode: 30006 });
    const mg = `MG${'a'.repeat(32)}`;
    const message = await client.messages.create({
      to: '+14155550125',
      messagingServiceSid: mg,
      body: 'hello',
      statusCallback: `${h.gateway.baseUrl}/cb/mg`,
    });
    expect(message.status).toBe('accepted');
    expect(message.from).toBeNull();
    const got = await h.gateway.waitFor('undelivered', () => {
      const list = h.gateway.requestsTo('/cb/mg');
      return list.length === 4 ? list : undefined;
    });
    expect(got.map((r) => r.form.MessageStatus)).toEqual(['accepted', 'queued', 'sent', 'undelivered']);
    expect(got[3]!.form.ErrorCode).toBe('30006');
    expect(got[3]!.form.MessagingServiceSid).toBe(mg);
    expect(got[3]!.form.From).toBe(FROM);
    expect(got.every((r) => signatureValid(r))).toBe(true);
    const fetched = await client.messages(message.sid).fetch();
    expect(fetched.errorCode).toBe(30006);
  });

  it('surfaces Twilio errors as RestException with the real codes', async () => {
    h.sandboxes.twilio.optOut('+14155550126');
    const optedOut = await rejection(client.messages.create({ to: '+14155550126', from: FROM, body: 'x' }));
    expect(optedOut).toMatchObject({
      name: 'RestException',
      status: 400,
      code: 21610,
      moreInfo: 'https://www.twilio.com/docs/errors/21610',
    });

    const malformed = await rejection(client.messages.create({ to: '+1555', from: FROM, body: 'x' }));
    expect(malformed).toMatchObject({ name: 'RestException', status: 400, code: 21211 });
    const notE164 = await rejection(client.messages.create({ to: '4155550127', from: FROM, body: 'x' }));
    expect(notE164.code).toBe(21211);
    h.sandboxes.twilio.markInvalid('+14155550127');
    const configuredInvalid = await rejection(client.messages.create({ to: '+14155550127', from: FROM, body: 'x' }));
    expect(configuredInvalid.code).toBe(21211);

    const noBody = await rejection(client.messages.create({ to: '+14155550128', from: FROM }));
    expect(noBody.code).toBe(21602);

    const badAuth = await rejection(
      sdkClient('wrong-token').messages.create({ to: '+14155550128', from: FROM, body: 'x' }),
    );
    expect(badAuth).toMatchObject({ status: 401, code: 20003 });

    // No message was stored for any refused request.
    expect(h.sandboxes.twilio.listMessages()).toHaveLength(0);
  });

  it('injects 500 and 429 faults for the next N requests, then recovers', async () => {
    h.sandboxes.twilio.failNextRequests(2, 500);
    const first = await rejection(client.messages.create({ to: '+14155550129', from: FROM, body: 'x' }));
    const second = await rejection(client.messages.create({ to: '+14155550129', from: FROM, body: 'x' }));
    expect([first.status, first.code, second.code]).toEqual([500, 20500, 20500]);
    h.sandboxes.twilio.failNextRequests(1, 429);
    const limited = await rejection(client.messages.create({ to: '+14155550129', from: FROM, body: 'x' }));
    expect(limited).toMatchObject({ name: 'RestException', status: 429, code: 20429 });
    const ok = await client.messages.create({ to: '+14155550129', from: FROM, body: 'x' });
    expect(ok.status).toBe('queued');
    expect(h.sandboxes.twilio.listMessages()).toHaveLength(1);
  });
});

describe('Twilio sandbox — voice calls', () => {
  it('answers as a human, follows Gather with the scripted digits and a Redirect, and records the TwiML', async () => {
    h.gateway.on('/voice/start', (_req, res) => {
      res
        .type('text/xml')
        .send(
          '<?xml version="1.0"?><Response><Gather action="/voice/menu?step=1" numDigits="1"><Say>This is a debt collector. Press 1 to pay, 2 to talk to us.</Say></Gather><Say>We did not get an answer.</Say></Response>',
        );
    });
    h.gateway.on('/voice/menu', (req, res) => {
      res
        .type('text/xml')
        .send(`<Response><Say>You pressed ${req.form.Digits}.</Say><Redirect>/voice/bye</Redirect></Response>`);
    });
    h.gateway.on('/voice/bye', (_req, res) => {
      res.type('text/xml').send('<Response><Say>Goodbye.</Say><Hangup/></Response>');
    });
    const to = '+14155550130';
    h.sandboxes.twilio.setCallScript(to, { answer: 'human', digits: ['1'] });
    const call = await client.calls.create({
      to,
      from: FROM,
      url: `${h.gateway.baseUrl}/voice/start`,
      statusCallback: `${h.gateway.baseUrl}/cb/call`,
      statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      machineDetection: 'Enable',
    });
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.status).toBe('queued');

    const statuses = await h.gateway.waitFor('call completed', () => {
      const list = h.gateway.requestsTo('/cb/call');
      return list.at(-1)?.form.CallStatus === 'completed' ? list : undefined;
    });
    expect(statuses.map((s) => s.form.CallStatus)).toEqual(['initiated', 'ringing', 'in-progress', 'completed']);
    expect(Number(statuses[3]!.form.CallDuration)).toBeGreaterThan(0);
    expect(statuses.every((s) => signatureValid(s))).toBe(true);

    const start = h.gateway.requestsTo('/voice/start')[0]!;
    expect(start.form).toMatchObject({
      CallSid: call.sid,
      CallStatus: 'in-progress',
      AnsweredBy: 'human',
      From: FROM,
      To: to,
    });
    expect(signatureValid(start)).toBe(true);
    const menu = h.gateway.requestsTo('/voice/menu')[0]!;
    expect(menu.form.Digits).toBe('1');
    expect(menu.url).toBe(`${h.gateway.baseUrl}/voice/menu?step=1`);
    expect(signatureValid(menu)).toBe(true);
    expect(h.gateway.requestsTo('/voice/bye')).toHaveLength(1);

    const recorded = h.sandboxes.twilio.getCall(call.sid)!;
    expect(recorded.documents.map((d) => d.url)).toEqual([
      `${h.gateway.baseUrl}/voice/start`,
      `${h.gateway.baseUrl}/voice/menu?step=1`,
      `${h.gateway.baseUrl}/voice/bye`,
    ]);
    expect(recorded.performed.filter((v) => v.verb === 'Say').map((v) => v.text)).toEqual([
      'This is a debt collector. Press 1 to pay, 2 to talk to us.',
      'You pressed 1.',
      'Goodbye.',
    ]);
    const fetched = await client.calls(call.sid).fetch();
    expect(fetched.status).toBe('completed');
    expect(fetched.answeredBy).toBe('human');
  });

  it('lets an answering machine hear the message without pressing digits', async () => {
    h.gateway.on('/voice/vm', (_req, res) => {
      res
        .type('text/xml')
        .send(
          '<Response><Gather action="/voice/never"><Say>Press 1</Say></Gather><Say>Please call Acme back.</Say></Response>',
        );
    });
    const to = '+14155550131';
    h.sandboxes.twilio.setCallScript(to, { answer: 'machine_end_beep', digits: ['1'] });
    const call = await client.calls.create({
      to,
      from: FROM,
      url: `${h.gateway.baseUrl}/voice/vm`,
      statusCallback: `${h.gateway.baseUrl}/cb/vm`,
      machineDetection: 'DetectMessageEnd',
    });
    await h.gateway.waitFor('completed', () =>
      h.gateway.requestsTo('/cb/vm').find((r) => r.form.CallStatus === 'completed'),
    );
    // Only the completed event by default.
    expect(h.gateway.requestsTo('/cb/vm')).toHaveLength(1);
    expect(h.gateway.requestsTo('/voice/vm')[0]!.form.AnsweredBy).toBe('machine_end_beep');
    expect(h.gateway.requestsTo('/voice/never')).toHaveLength(0);
    expect(
      h.sandboxes.twilio
        .getCall(call.sid)!
        .performed.filter((v) => v.verb === 'Say')
        .map((v) => v.text),
    ).toEqual(['Press 1', 'Please call Acme back.']);
  });

  it('reports busy and no-answer without fetching the TwiML', async () => {
    for (const [to, answer] of [
      ['+14155550132', 'busy'],
      ['+14155550133', 'no-answer'],
    ] as const) {
      h.sandboxes.twilio.setCallScript(to, { answer });
      await client.calls.create({
        to,
        from: FROM,
        url: `${h.gateway.baseUrl}/voice/unused`,
        statusCallback: `${h.gateway.baseUrl}/cb/${answer}`,
        statusCallbackEvent: ['ringing', 'completed'],
      });
      const list = await h.gateway.waitFor(answer, () => {
        const got = h.gateway.requestsTo(`/cb/${answer}`);
        return got.length === 2 ? got : undefined;
      });
      expect(list.map((r) => r.form.CallStatus)).toEqual(['ringing', answer]);
      expect(list[1]!.form.CallDuration).toBe('0');
    }
    expect(h.gateway.requestsTo('/voice/unused')).toHaveLength(0);
  });
});

describe('Twilio sandbox — acting as the debtor', () => {
  it('posts a signed inbound SMS webhook and sends the TwiML <Message> reply', async () => {
    h.gateway.on('/webhooks/twilio/sms', (_req, res) => {
      res.type('text/xml').send('<Response><Message>Thanks, an agent will reply soon.</Message></Response>');
    });
    const result = await h.sandboxes.twilio.simulateInboundSms({
      from: '+14155550140',
      to: FROM,
      body: 'I already paid last week',
      mediaUrls: ['https://example.com/receipt.jpg'],
    });
    expect(result.status).toBe(200);
    const inbound = h.gateway.requestsTo('/webhooks/twilio/sms')[0]!;
    expect(inbound.form).toMatchObject({
      MessageSid: result.messageSid,
      SmsMessageSid: result.messageSid,
      AccountSid: TWILIO_SID,
      From: '+14155550140',
      To: FROM,
      Body: 'I already paid last week',
      NumMedia: '1',
      MediaUrl0: 'https://example.com/receipt.jpg',
      MediaContentType0: 'image/jpeg',
      FromCountry: 'US',
      SmsStatus: 'received',
    });
    expect(signatureValid(inbound)).toBe(true);
    expect(result.replies).toHaveLength(1);
    expect(result.replies[0]).toMatchObject({
      to: '+14155550140',
      from: FROM,
      body: 'Thanks, an agent will reply soon.',
      direction: 'outbound-reply',
    });
  });

  it('honours STOP like Twilio: the number is opted out, replies and later sends fail with 21610', async () => {
    h.gateway.on('/webhooks/twilio/sms', (req, res) => {
      res
        .type('text/xml')
        .send(
          req.form.Body === 'stop'
            ? '<Response><Message>You will get no more texts.</Message></Response>'
            : '<Response/>',
        );
    });
    const res = await fetch(`${h.sandboxes.twilio.baseUrl}/sandbox/inbound-sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+14155550141', to: FROM, body: 'stop' }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { status: number; replies: { status: string; errorCode: number }[] };
    expect(answer.status).toBe(200);
    // Twilio blocks even a TwiML reply to a number that just opted out.
    expect(answer.replies).toEqual([expect.objectContaining({ status: 'failed', errorCode: 21610 })]);
    expect(h.sandboxes.twilio.isOptedOut('+14155550141')).toBe(true);
    const err = await rejection(client.messages.create({ to: '+14155550141', from: FROM, body: 'x' }));
    expect(err.code).toBe(21610);
    await h.sandboxes.twilio.simulateInboundSms({ from: '+14155550141', to: FROM, body: 'START' });
    expect((await client.messages.create({ to: '+14155550141', from: FROM, body: 'welcome back' })).status).toBe(
      'queued',
    );

    const listed = (await (await fetch(`${h.sandboxes.twilio.baseUrl}/sandbox/messages?to=%2B14155550141`)).json()) as {
      direction: string;
    }[];
    expect(listed.map((m) => m.direction)).toEqual(['outbound-reply', 'outbound-api']);
  });
});

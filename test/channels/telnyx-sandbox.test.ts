// The Telnyx sandbox against the official SDK: sends answer in Telnyx's wire
// format, every webhook verifies with the SDK's own ed25519 verifier, STOP
// blocks further sends with 40300, and faults look like Telnyx's.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import Telnyx from 'telnyx';
import { CallbackDispatcher } from '../../channels/kit/callback-dispatcher.js';
import { FakeGateway } from '../sandbox/fake-gateway.js';
import { sandboxKeyPair } from '../../channels/telnyx/config.js';
import { startTelnyxSandbox, type RunningTelnyxSandbox } from '../../channels/telnyx/sandbox.js';
import { telnyxSms } from '../../channels/telnyx/sms.js';
import { verifyTelnyx, MESSAGING_WEBHOOK_PATH } from '../../channels/telnyx/webhooks.js';
import { ProviderError } from '../../channels/types.js';
import type { TelnyxWebhookEnvelope } from '../../channels/telnyx/wire.js';

const API_KEY = 'KEY0123456789ABCDEF';
const FROM = '+15550000142';
const keys = sandboxKeyPair();
const settings = { mode: 'sandbox' as const, apiKey: API_KEY, publicKey: keys.publicKey, from: FROM };

let gateway: FakeGateway;
let callbacks: CallbackDispatcher;
let sb: RunningTelnyxSandbox;
let sdk: Telnyx;

const events = () =>
  gateway
    .requestsTo(MESSAGING_WEBHOOK_PATH)
    .map((r) => JSON.parse(r.rawBody.toString('utf8')) as TelnyxWebhookEnvelope);

beforeAll(async () => {
  gateway = await new FakeGateway().start();
  callbacks = new CallbackDispatcher({ initialBackoffMs: 20, maxAttempts: 2 });
  sb = await startTelnyxSandbox(
    { apiKey: API_KEY, privateKeyPem: keys.privateKeyPem, from: FROM },
    { gatewayBaseUrl: gateway.baseUrl, callbacks, callbackDelayMs: 5 },
  );
  sdk = new Telnyx({ apiKey: API_KEY, publicKey: keys.publicKey, baseURL: `${sb.baseUrl}/v2`, maxRetries: 0 });
});
afterAll(async () => {
  await callbacks.close();
  await sb.close();
  await gateway.close();
});
beforeEach(async () => {
  await callbacks.idle();
  sb.reset();
  gateway.reset();
});

describe('Telnyx sandbox', () => {
  it('sends through the SDK and posts message.sent then message.finalized, each verified by the SDK', async () => {
    const res = await sdk.messages.send({
      from: FROM,
      to: '+14155550123',
      text: 'Your invoice is overdue',
      webhook_url: `${gateway.baseUrl}${MESSAGING_WEBHOOK_PATH}`,
      use_profile_webhooks: false,
    });
    expect(res.data).toMatchObject({
      record_type: 'message',
      direction: 'outbound',
      type: 'SMS',
      from: { phone_number: FROM },
      to: [{ phone_number: '+14155550123', status: 'queued' }],
      text: 'Your invoice is overdue',
      parts: 1,
      encoding: 'GSM-7',
    });
    expect(res.data!.id).toMatch(/^[0-9a-f-]{36}$/);
    await gateway.waitFor('two webhooks', () => gateway.requestsTo(MESSAGING_WEBHOOK_PATH).length >= 2);
    await callbacks.idle();
    const received = gateway.requestsTo(MESSAGING_WEBHOOK_PATH);
    expect(events().map((e) => [e.data.event_type, e.data.payload.to[0]!.status])).toEqual([
      ['message.sent', 'sent'],
      ['message.finalized', 'delivered'],
    ]);
    for (const r of received) {
      await expect(
        sdk.webhooks.unwrap(r.rawBody.toString('utf8'), { headers: r.headers as Record<string, string> }),
      ).resolves.toMatchObject({ data: { record_type: 'event' } });
      // The gateway's check (the same SDK verifier plus the replay window) accepts it too.
      await expect(
        verifyTelnyx(
          { method: 'POST', url: r.url, headers: r.headers, raw: r.rawBody, params: {}, json: null, routeParams: {} },
          settings,
          { maxAgeSeconds: 600, now: Date.now() },
        ),
      ).resolves.toBeUndefined();
    }
    // A body changed by one byte no longer verifies.
    const tampered = received[0]!.rawBody.toString('utf8').replace('sent', 'sEnt');
    await expect(
      sdk.webhooks.unwrap(tampered, { headers: received[0]!.headers as Record<string, string> }),
    ).rejects.toThrow(/signature/i);
    expect((await sdk.messages.retrieve(res.data!.id!)).data).toMatchObject({ to: [{ status: 'delivered' }] });
  });

  it('reports a carrier failure in message.finalized with its error code', async () => {
    sb.setOutcome('+14155550124', { status: 'delivery_failed', errorCode: '40012' });
    await sdk.messages.send({
      from: FROM,
      to: '+14155550124',
      text: 'x',
      webhook_url: `${gateway.baseUrl}${MESSAGING_WEBHOOK_PATH}`,
    });
    await gateway.waitFor('finalized', () => events().find((e) => e.data.event_type === 'message.finalized'));
    const finalized = events().find((e) => e.data.event_type === 'message.finalized')!;
    expect(finalized.data.payload.to[0]!.status).toBe('delivery_failed');
    expect(finalized.data.payload.errors).toEqual([expect.objectContaining({ code: '40012' })]);
  });

  it('an inbound STOP reaches the profile webhook signed, and sends to that number then fail with 40300 (409)', async () => {
    const r = await sb.simulateInboundSms({ from: '+14155550125', body: 'STOP' });
    expect(r.delivered).toBe(true);
    const [inbound] = gateway.requestsTo(MESSAGING_WEBHOOK_PATH);
    const event = (await sdk.webhooks.unwrap(inbound!.rawBody.toString('utf8'), {
      headers: inbound!.headers as Record<string, string>,
    })) as unknown as TelnyxWebhookEnvelope;
    expect(event.data).toMatchObject({
      event_type: 'message.received',
      payload: {
        direction: 'inbound',
        from: { phone_number: '+14155550125' },
        to: [{ phone_number: FROM }],
        text: 'STOP',
      },
    });
    const adapter = telnyxSms({
      apiKey: API_KEY,
      from: FROM,
      baseUrl: `${sb.baseUrl}/v2`,
      webhookUrl: `${gateway.baseUrl}${MESSAGING_WEBHOOK_PATH}`,
    });
    const err = await adapter
      .send({ messageId: 'm1', payload: { channel: 'SMS', to: '+14155550125', text: 'hello' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({
      provider: 'telnyx',
      code: '40300',
      httpStatus: 409,
      transient: false,
      effect: 'sms_opted_out',
    });
  });

  it('answers like Telnyx to a bad key, an invalid number, a fault and a rate limit', async () => {
    const adapter = (apiKey = API_KEY) =>
      telnyxSms({
        apiKey,
        from: FROM,
        baseUrl: `${sb.baseUrl}/v2`,
        webhookUrl: `${gateway.baseUrl}${MESSAGING_WEBHOOK_PATH}`,
      });
    const send = (a: ReturnType<typeof adapter>, to = '+14155550126') =>
      a.send({ messageId: 'm', payload: { channel: 'SMS', to, text: 'x' } }).catch((e: unknown) => e as ProviderError);
    expect(await send(adapter('KEYwrong0000000'))).toMatchObject({
      code: '10009',
      httpStatus: 401,
      transient: false,
      effect: undefined,
    });
    sb.markInvalid('+14155550127');
    expect(await send(adapter(), '+14155550127')).toMatchObject({
      code: '40310',
      httpStatus: 400,
      transient: false,
      effect: 'number_invalid',
    });
    sb.failNextRequests(1, 500);
    expect(await send(adapter())).toMatchObject({ code: '10007', httpStatus: 500, transient: true });
    sb.failNextRequests(1, 429);
    expect(await send(adapter())).toMatchObject({ code: '10011', httpStatus: 429, transient: true });
    await expect(
      adapter().send({ messageId: 'm', payload: { channel: 'SMS', to: '+14155550126', text: 'ok' } }),
    ).resolves.toMatchObject({ provider: 'telnyx', status: 'QUEUED' });
  });

  it('refuses a webhook with no signature or an old timestamp', async () => {
    const raw = Buffer.from(JSON.stringify({ data: { id: 'x' } }));
    const req = (headers: Record<string, string>) => ({
      method: 'POST' as const,
      url: '',
      headers,
      raw,
      params: {},
      json: null,
      routeParams: {},
    });
    await expect(verifyTelnyx(req({}), settings, { maxAgeSeconds: 600, now: Date.now() })).rejects.toMatchObject({
      status: 403,
    });
    await expect(
      verifyTelnyx(
        req({ 'telnyx-signature-ed25519': 'AAAA', 'telnyx-timestamp': String(Math.floor(Date.now() / 1000) - 4000) }),
        settings,
        { maxAgeSeconds: 600, now: Date.now() },
      ),
    ).rejects.toMatchObject({ status: 403 });
  });
});

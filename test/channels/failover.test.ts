// The failover order with the official SDKs against both sandboxes: a
// per-country preference puts its provider first, an auth error fails over,
// a recipient refusal does not; and the routing settings are checked at
// start with a message naming the variable.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeGateway } from '../sandbox/fake-gateway.js';
import { startSandboxes, type Sandboxes } from '../../src/sandbox/index.js';
import { twilioSms } from '../../channels/twilio/adapters.js';
import { telnyxSms } from '../../channels/telnyx/sms.js';
import type { ChannelAdapter } from '../../channels/types.js';
import { FailoverExhausted, sendWithFailover, type ChannelProviders } from '../../src/outbound/failover.js';
import { ConfigError, loadConfig } from '../../src/config.js';

const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'failover-auth-token-0123456789';
const TELNYX_KEY = 'KEYFAILOVER0123456789';

let gateway: FakeGateway;
let sb: Sandboxes;
let set: ChannelProviders;

beforeAll(async () => {
  gateway = await new FakeGateway().start();
  sb = await startSandboxes({
    twilio: { accountSid: SID, authToken: TOKEN },
    telnyx: { apiKey: TELNYX_KEY },
    gateway: { baseUrl: gateway.baseUrl },
    callbackDelayMs: 5,
  });
  const adapters = new Map<string, ChannelAdapter>([
    [
      'twilio',
      twilioSms({
        accountSid: SID,
        authToken: TOKEN,
        from: '+15005550006',
        baseUrl: sb.twilio.baseUrl,
        statusCallbackUrl: `${gateway.baseUrl}/webhooks/twilio/status`,
      }),
    ],
    [
      'telnyx',
      telnyxSms({
        apiKey: TELNYX_KEY,
        from: sb.telnyx.from,
        baseUrl: `${sb.telnyx.baseUrl}/v2`,
        webhookUrl: `${gateway.baseUrl}/webhooks/telnyx/messaging`,
      }),
    ],
  ]);
  set = { adapters, routing: { order: ['twilio', 'telnyx'], byCountry: { IN: 'telnyx' } } };
});
afterAll(async () => {
  await sb.close();
  await gateway.close();
});
beforeEach(async () => {
  await sb.callbacks.idle();
  sb.twilio.reset();
  sb.telnyx.reset();
});

const send = (to: string) =>
  sendWithFailover(
    set,
    { messageId: 'm', payload: { channel: 'SMS', to, text: 'Reminder' } },
    { sleep: async () => undefined },
  );

describe('sendWithFailover', () => {
  it('tries the preferred provider first for numbers of its country, the configured order elsewhere', async () => {
    const india = await send('+919876543210');
    expect(india.route).toMatchObject({ order: ['telnyx', 'twilio'], preferredFor: 'IN', chosen: 'telnyx' });
    expect(sb.telnyx.listMessages({ to: '+919876543210' })).toHaveLength(1);
    const us = await send('+13125550111');
    expect(us.route).toMatchObject({ order: ['twilio', 'telnyx'], preferredFor: null, chosen: 'twilio' });
  });

  it('fails over on an auth error of the preferred provider', async () => {
    sb.telnyx.failNextRequests(1, 401);
    const r = await send('+919876543211');
    expect(r.route.attempts).toMatchObject([
      { provider: 'telnyx', outcome: 'failed', code: '10009', httpStatus: 401, fault: 'provider' },
      { provider: 'twilio', outcome: 'accepted' },
    ]);
    expect(r.result.provider).toBe('twilio');
  });

  it('stops at a recipient refusal, and reports the last provider fault when every provider failed', async () => {
    sb.twilio.optOut('+13125550112');
    const refused = await send('+13125550112').catch((e: unknown) => e as FailoverExhausted);
    expect(refused).toBeInstanceOf(FailoverExhausted);
    expect((refused as FailoverExhausted).last).toMatchObject({ code: '21610', effect: 'sms_opted_out' });
    expect((refused as FailoverExhausted).route.attempts).toHaveLength(1);
    expect(sb.telnyx.listMessages({ to: '+13125550112' })).toHaveLength(0);

    sb.twilio.failNextRequests(1, 500);
    sb.telnyx.failNextRequests(1, 503);
    const down = (await send('+13125550113').catch((e: unknown) => e)) as FailoverExhausted;
    expect(down.last).toMatchObject({ provider: 'telnyx', httpStatus: 503, transient: true });
    expect(down.route.attempts.map((a) => a.provider)).toEqual(['twilio', 'telnyx']);
  });
});

describe('routing settings', () => {
  const problem = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return null;
    } catch (err) {
      return err instanceof ConfigError ? `${err.variable}: ${err.problem}` : String(err);
    }
  };
  it('names the variable and the reason', () => {
    expect(problem({ SMS_PROVIDERS: 'twilio,telnyx' })).toBeNull();
    expect(problem({ SMS_PROVIDERS: 'twilio,carrier-pigeon' })).toMatch(
      /^SMS_PROVIDERS: names "carrier-pigeon", which is not a SMS provider/,
    );
    expect(problem({ SMS_PROVIDERS: 'twilio,twilio' })).toMatch(/^SMS_PROVIDERS: names "twilio" twice/);
    expect(problem({ SMS_PROVIDERS: 'twilio', SMS_PROVIDER_BY_COUNTRY: 'IN:telnyx' })).toMatch(
      /^SMS_PROVIDER_BY_COUNTRY: names "telnyx" for IN, which SMS_PROVIDERS does not list/,
    );
    expect(problem({ SMS_PROVIDERS: 'twilio,telnyx', SMS_PROVIDER_BY_COUNTRY: 'India=telnyx' })).toMatch(
      /^SMS_PROVIDER_BY_COUNTRY: entry "India=telnyx" must look like IN:<provider>/,
    );
  });
});

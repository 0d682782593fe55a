import { startSandboxes, type Sandboxes, type StartSandboxesOptions } from '../../src/sandbox/index.js';
import { FakeGateway } from './fake-gateway.js';

export const TWILIO_SID = `AC${'0123456789abcdef'.repeat(2)}`;
export const TWILIO_TOKEN = 'sandbox-auth-token-0123456789';
export const SENDGRID_KEY = 'SG.sandbox-key.0123456789';
export const LOB_KEY = 'test_0123456789abcdef';
export const LOB_SECRET = 'lob-webhook-secret-xyz';

export interface Harness {
  gateway: FakeGateway;
  sandboxes: Sandboxes;
  close(): Promise<void>;
}

export async function startHarness(
  overrides: Partial<StartSandboxesOptions> = {},
  gatewayExtras: Omit<StartSandboxesOptions['gateway'], 'baseUrl'> = {},
): Promise<Harness> {
  const gateway = await new FakeGateway().start();
  const sandboxes = await startSandboxes({
    twilio: { accountSid: TWILIO_SID, authToken: TWILIO_TOKEN },
    sendgrid: { apiKey: SENDGRID_KEY },
    lob: { apiKey: LOB_KEY, webhookSecret: LOB_SECRET },
    gateway: { baseUrl: gateway.baseUrl, ...gatewayExtras },
    callbackDelayMs: 5,
    callbackRetry: { initialBackoffMs: 20, maxAttempts: 3 },
    ...overrides,
  });
  return {
    gateway,
    sandboxes,
    close: async () => {
      await sandboxes.close();
      await gateway.close();
    },
  };
}

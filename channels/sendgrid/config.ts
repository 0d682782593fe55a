// SendGrid's environment variables and the settings resolved from them. In
// sandbox mode without a verification key the sandbox gets an ECDSA P-256
// pair of its own: it signs the Event Webhook, the gateway verifies it, as
// with SendGrid's signed Event Webhook.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { apiBaseUrl } from '../kit/env.js';
import { resolveMode, type BaseSettings, type SettingsInput } from '../types.js';

export const sendgridEnv = {
  SENDGRID_API_KEY: z.string().min(10).optional(),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().min(40).optional(),
  SENDGRID_API_BASE_URL: apiBaseUrl,
  SENDGRID_INBOUND_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
};

export interface SendgridSettings extends BaseSettings {
  apiKey: string;
  /** Base64 DER (SPKI) key the Event Webhook is verified with. */
  webhookPublicKey: string;
  /** Sandbox only: the private half it signs with. */
  webhookPrivateKeyPem?: string;
  /** Shared secret Inbound Parse must present (basic-auth password or path token). */
  inboundParseSecret: string;
  /** Live only: another API host. */
  apiBaseUrl?: string;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function sendgridSettings(input: SettingsInput): SendgridSettings {
  const apiKey = str(input.env.SENDGRID_API_KEY);
  const mode = resolveMode(input, Boolean(apiKey), 'SendGrid (SENDGRID_API_KEY)');
  let webhookPublicKey = str(input.env.SENDGRID_WEBHOOK_PUBLIC_KEY) ?? '';
  let webhookPrivateKeyPem: string | undefined;
  if (mode === 'sandbox' && !webhookPublicKey) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    webhookPublicKey = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    webhookPrivateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  return {
    mode,
    apiKey: apiKey ?? `SG.sandbox.${randomBytes(16).toString('hex')}`,
    webhookPublicKey,
    webhookPrivateKeyPem,
    inboundParseSecret: str(input.env.SENDGRID_INBOUND_SECRET) ?? randomBytes(16).toString('hex'),
    apiBaseUrl: str(input.env.SENDGRID_API_BASE_URL),
  };
}

// Which provider each channel uses, and the secrets that go with it. With no
// credentials for a provider (or PROVIDERS=sandbox) the built-in sandbox of
// that provider is used. Sandboxes read the same secrets as the real provider
// (TWILIO_AUTH_TOKEN, LOB_WEBHOOK_SECRET, …) so webhooks are signed and
// verified the same way; unset secrets are generated for this process.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Env } from './config.js';

export type Mode = 'live' | 'sandbox';

export interface ProviderSettings {
  twilio: { mode: Mode; accountSid: string; authToken: string; messagingServiceSid?: string; from: string; /** live only: another API host */ apiBaseUrl?: string };
  email: { mode: Mode; provider: 'sendgrid' | 'smtp'; from: string; inboundDomain: string };
  sendgrid: { apiKey: string; webhookPublicKey: string; /** sandbox only */ webhookPrivateKeyPem?: string; /** live only: another API host */ apiBaseUrl?: string };
  smtp: { url?: string };
  lob: { mode: Mode; apiKey: string; webhookSecret: string; /** live only: another API host (…/v1) */ apiBaseUrl?: string };
  /** Shared secret SendGrid Inbound Parse must present (basic-auth password or path token). */
  inboundParseSecret: string;
}

const hex = (n: number) => randomBytes(n).toString('hex');

export function resolveProviders(env: Env): ProviderSettings {
  const forced = env.PROVIDERS;
  const live = (hasCredentials: boolean, name: string): Mode => {
    if (forced === 'sandbox') return 'sandbox';
    if (forced === 'live' && !hasCredentials) throw new Error(`PROVIDERS=live but ${name} credentials are not set`);
    return hasCredentials ? 'live' : 'sandbox';
  };

  const twilioMode = live(Boolean(env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && (env.TWILIO_FROM || env.TWILIO_MESSAGING_SERVICE_SID)), 'Twilio (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID)');
  const emailProvider: 'sendgrid' | 'smtp' =
    env.EMAIL_PROVIDER === 'sendgrid' ? 'sendgrid' : env.EMAIL_PROVIDER === 'smtp' ? 'smtp' : env.SENDGRID_API_KEY ? 'sendgrid' : env.SMTP_URL ? 'smtp' : 'sendgrid';
  const emailMode = live(emailProvider === 'sendgrid' ? Boolean(env.SENDGRID_API_KEY) : Boolean(env.SMTP_URL), emailProvider === 'sendgrid' ? 'SendGrid (SENDGRID_API_KEY)' : 'SMTP (SMTP_URL)');
  const lobMode = live(Boolean(env.LOB_API_KEY), 'Lob (LOB_API_KEY)');

  let webhookPublicKey = env.SENDGRID_WEBHOOK_PUBLIC_KEY ?? '';
  let webhookPrivateKeyPem: string | undefined;
  if (emailMode === 'sandbox' && emailProvider === 'sendgrid' && !webhookPublicKey) {
    // SendGrid signs its Event Webhook with ECDSA P-256; the sandbox needs a key pair.
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    webhookPublicKey = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    webhookPrivateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  return {
    twilio: {
      mode: twilioMode,
      accountSid: env.TWILIO_ACCOUNT_SID ?? `AC${hex(16)}`,
      authToken: env.TWILIO_AUTH_TOKEN ?? hex(16),
      messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID,
      from: env.TWILIO_FROM ?? '+15005550006',
      apiBaseUrl: env.TWILIO_API_BASE_URL,
    },
    email: { mode: emailMode, provider: emailProvider, from: env.EMAIL_FROM, inboundDomain: env.INBOUND_EMAIL_DOMAIN },
    sendgrid: { apiKey: env.SENDGRID_API_KEY ?? `SG.sandbox.${hex(16)}`, webhookPublicKey, webhookPrivateKeyPem, apiBaseUrl: env.SENDGRID_API_BASE_URL },
    smtp: { url: env.SMTP_URL },
    lob: { mode: lobMode, apiKey: env.LOB_API_KEY ?? `test_${hex(16)}`, webhookSecret: env.LOB_WEBHOOK_SECRET ?? hex(16), apiBaseUrl: env.LOB_API_BASE_URL },
    inboundParseSecret: env.SENDGRID_INBOUND_SECRET ?? hex(16),
  };
}

// Telnyx as a plugin: SMS through the official `telnyx` SDK, its messaging
// webhooks (ed25519-signed), its sandbox. Registered in channels/registry.ts.
import { definePlugin } from '../types.js';
import { telnyxEnv, telnyxSettings, type TelnyxSettings } from './config.js';
import {
  startTelnyxSandbox,
  telnyxControlRoutes,
  type RunningTelnyxSandbox,
  type TelnyxSandboxOptions,
} from './sandbox.js';
import { telnyxSms } from './sms.js';
import { MESSAGING_WEBHOOK_PATH, telnyxWebhooks } from './webhooks.js';
import { SIGNATURE_HEADER } from './wire.js';

export const telnyx = definePlugin<
  'telnyx',
  TelnyxSettings,
  RunningTelnyxSandbox,
  TelnyxSandboxOptions,
  typeof telnyxEnv
>({
  secretEnv: ['TELNYX_API_KEY'],
  configured: (env) => Boolean(env.TELNYX_API_KEY && env.TELNYX_PUBLIC_KEY && env.TELNYX_FROM),
  id: 'telnyx',
  name: 'Telnyx',
  channels: ['SMS'],
  env: telnyxEnv,
  settings: telnyxSettings,
  adapters: ({ settings, sandbox, publicBaseUrl }) => ({
    SMS: telnyxSms({
      apiKey: settings.apiKey,
      from: settings.from,
      messagingProfileId: settings.messagingProfileId,
      baseUrl: settings.mode === 'sandbox' && sandbox ? `${sandbox.baseUrl}/v2` : undefined,
      webhookUrl: `${publicBaseUrl}${MESSAGING_WEBHOOK_PATH}`,
    }),
  }),
  webhooks: telnyxWebhooks,
  // Inbound MMS media: links on Telnyx's own hosts, public (no credentials); INBOUND_MEDIA_ORIGINS adds a proxy.
  media: { hosts: [{ host: /^[a-z0-9-]+(\.[a-z0-9-]+)*\.telnyx\.com$/, credentials: false }] },
  redactHeaders: [SIGNATURE_HEADER],
  sender: (s) => s.from,
  view: (s, v) => ({
    id: 'telnyx',
    name: 'Telnyx',
    channels: ['SMS'],
    mode: s.mode,
    sender: { from: s.from, messagingProfileId: s.messagingProfileId ?? null },
    secrets: v.isSet(['TELNYX_API_KEY', 'TELNYX_PUBLIC_KEY']),
    webhooks: [
      {
        purpose: 'Messaging (incoming SMS and delivery status)',
        method: 'POST',
        url: v.at(MESSAGING_WEBHOOK_PATH),
        note: 'Messaging profile → Inbound Settings → Webhook URL; verified by Telnyx-Signature-Ed25519 with TELNYX_PUBLIC_KEY',
      },
    ],
  }),
  sandbox: {
    // As with Twilio Advanced Opt-Out: the gateway sends the one confirmation itself.
    options: (s) => ({
      apiKey: s.apiKey,
      from: s.from,
      defaultOptOutHandling: false,
      ...(s.privateKeyPem ? { privateKeyPem: s.privateKeyPem } : {}),
    }),
    start: startTelnyxSandbox,
    control: telnyxControlRoutes,
    describe: (sb) => sb.baseUrl,
  },
});

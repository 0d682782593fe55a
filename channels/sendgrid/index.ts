// SendGrid as a plugin: email through the official @sendgrid/mail, its Event
// Webhook (ECDSA-signed) and Inbound Parse, its sandbox. Registered in
// channels/registry.ts.
import { definePlugin } from '../types.js';
import { sendgridEmail } from './adapter.js';
import { sendgridEnv, sendgridSettings, type SendgridSettings } from './config.js';
import {
  sendgridControlRoutes,
  startSendgridSandbox,
  type RunningSendgridSandbox,
  type SendgridSandboxStartOptions,
} from './sandbox/start.js';
import { PATHS, SIGNATURE_HEADER, sendgridWebhooks } from './webhooks.js';

export const sendgrid = definePlugin<
  'sendgrid',
  SendgridSettings,
  RunningSendgridSandbox,
  SendgridSandboxStartOptions,
  typeof sendgridEnv
>({
  id: 'sendgrid',
  name: 'SendGrid',
  channels: ['EMAIL'],
  env: sendgridEnv,
  configured: (env) => Boolean(env.SENDGRID_API_KEY),
  settings: sendgridSettings,
  adapters: ({ settings, sandbox }) => ({
    EMAIL: sendgridEmail({
      apiKey: settings.apiKey,
      baseUrl: settings.mode === 'sandbox' && sandbox ? sandbox.baseUrl : settings.apiBaseUrl,
    }),
  }),
  webhooks: sendgridWebhooks,
  redactHeaders: [SIGNATURE_HEADER],
  // /webhooks/sendgrid/inbound/<SENDGRID_INBOUND_SECRET>
  secretPaths: [`${PATHS.inbound}/`],
  view: (s, v) => {
    const domain = String(v.config.INBOUND_EMAIL_DOMAIN ?? '');
    return {
      id: 'email',
      name: 'SendGrid',
      channels: ['EMAIL'],
      mode: s.mode,
      sender: { from: String(v.config.EMAIL_FROM ?? ''), replyDomain: domain, inboundSmtp: v.inboundSmtp },
      secrets: v.isSet(['SENDGRID_API_KEY', 'SENDGRID_WEBHOOK_PUBLIC_KEY', 'SENDGRID_INBOUND_SECRET']),
      webhooks: [
        {
          purpose: 'Event Webhook (delivery, bounces, opens)',
          method: 'POST',
          url: v.at(PATHS.events),
          note: 'Mail Settings → Event Webhook, signed; verified with SENDGRID_WEBHOOK_PUBLIC_KEY',
        },
        // The token form is shown with a placeholder: the secret is the admin's to paste, not ours to print.
        {
          purpose: 'Inbound Parse (replies)',
          method: 'POST',
          url: v.at(PATHS.inbound),
          note: `Inbound Parse for ${domain}; basic-auth password SENDGRID_INBOUND_SECRET, or ${v.at(PATHS.inbound)}/<SENDGRID_INBOUND_SECRET>`,
        },
      ],
    };
  },
  sandbox: {
    options: (s) => ({
      apiKey: s.apiKey,
      ...(s.webhookPrivateKeyPem ? { webhookPrivateKeyPem: s.webhookPrivateKeyPem } : {}),
      inboundParseAuth: { username: 'sendgrid', password: s.inboundParseSecret },
    }),
    start: startSendgridSandbox,
    control: sendgridControlRoutes,
    describe: (sb) => sb.baseUrl,
  },
});

// Twilio as a plugin: SMS and reminder calls through the official `twilio`
// SDK, its webhooks (X-Twilio-Signature), the TwiML of the call flow, its
// sandbox. Registered in channels/registry.ts.
import { definePlugin } from '../types.js';
import { twilioSms, twilioVoice } from './adapters.js';
import { twilioCallFlow } from './call-flow.js';
import { twilioConfigured, twilioEnv, twilioSettings, type TwilioSettings } from './config.js';
import { TWILIO_MEDIA_HOSTS } from './media-hosts.js';
import {
  startTwilioSandbox,
  twilioControlRoutes,
  type RunningTwilioSandbox,
  type TwilioSandboxStartOptions,
} from './sandbox/start.js';
import { PATHS, twilioWebhooks } from './webhooks.js';

export const twilio = definePlugin<
  'twilio',
  TwilioSettings,
  RunningTwilioSandbox,
  TwilioSandboxStartOptions,
  typeof twilioEnv
>({
  id: 'twilio',
  name: 'Twilio',
  channels: ['SMS', 'VOICE'],
  env: twilioEnv,
  secretEnv: ['TWILIO_AUTH_TOKEN'],
  configured: twilioConfigured,
  settings: twilioSettings,
  adapters: ({ settings, sandbox, publicBaseUrl }) => {
    const o = {
      accountSid: settings.accountSid,
      authToken: settings.authToken,
      from: settings.from,
      messagingServiceSid: settings.mode === 'live' ? settings.messagingServiceSid : undefined,
      baseUrl: settings.mode === 'sandbox' && sandbox ? sandbox.baseUrl : settings.apiBaseUrl,
    };
    return {
      SMS: twilioSms({ ...o, statusCallbackUrl: `${publicBaseUrl}${PATHS.status}` }),
      VOICE: twilioVoice({
        ...o,
        statusCallbackUrl: `${publicBaseUrl}${PATHS.voiceStatus}`,
        answerUrl: (messageId) => `${publicBaseUrl}${PATHS.voiceAnswer.replace(':messageId', messageId)}`,
        recordingStatusCallbackUrl: `${publicBaseUrl}${PATHS.voiceRecording}`,
      }),
    };
  },
  webhooks: twilioWebhooks,
  callFlow: twilioCallFlow,
  // Media and recordings are served behind the account's basic auth, on the API hosts only.
  media: {
    hosts: TWILIO_MEDIA_HOSTS,
    authorization: (s) => `Basic ${Buffer.from(`${s.accountSid}:${s.authToken}`).toString('base64')}`,
  },
  redactHeaders: ['x-twilio-signature'],
  sender: (s) => s.from,
  view: (s, v) => ({
    id: 'twilio',
    name: 'Twilio',
    channels: ['SMS', 'VOICE'],
    mode: s.mode,
    sender: {
      from: s.from,
      messagingServiceSid: s.messagingServiceSid ?? null,
      agentPhoneNumber: (v.config.AGENT_PHONE_NUMBER as string | undefined) ?? null,
    },
    secrets: v.isSet(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN']),
    webhooks: [
      {
        purpose: 'Incoming SMS',
        method: 'POST',
        url: v.at(PATHS.sms),
        note: 'Phone number (or Messaging Service) → "A message comes in"; verified by X-Twilio-Signature with TWILIO_AUTH_TOKEN',
      },
      {
        purpose: 'SMS delivery status',
        method: 'POST',
        url: v.at(PATHS.status),
        note: 'Messaging Service → status callback; verified by X-Twilio-Signature',
      },
      {
        purpose: 'Voice calls',
        method: 'POST',
        url: null,
        note: 'set by the gateway on each call (/webhooks/twilio/voice/…); nothing to configure',
      },
    ],
  }),
  sandbox: {
    // As with Twilio Advanced Opt-Out: the gateway sends the one confirmation itself.
    options: (s) => ({
      accountSid: s.accountSid,
      authToken: s.authToken,
      messagingServiceNumber: s.from,
      defaultOptOutHandling: false,
    }),
    start: startTwilioSandbox,
    control: twilioControlRoutes,
    describe: (sb) => sb.baseUrl,
  },
});

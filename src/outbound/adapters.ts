// Picks each channel's adapter: the real provider when it is configured live,
// else the same official SDK pointed at the built-in sandbox.
import type { AppContext } from '../context.js';
import { twilioSms, twilioVoice } from '../../channels/twilio.js';
import { sendgridEmail } from '../../channels/sendgrid.js';
import { smtpEmail } from '../../channels/smtp.js';
import { lobLetters } from '../../channels/lob.js';
import { startSandboxes, type Sandboxes } from '../sandbox/index.js';
import { drainLocalDispatch, type ChannelAdapters } from './dispatch.js';

export async function createAdapters(ctx: AppContext): Promise<{ adapters: ChannelAdapters; sandboxes: Sandboxes | null; close(): Promise<void> }> {
  const p = ctx.providers;
  const needSandbox = p.twilio.mode === 'sandbox' || p.email.mode === 'sandbox' || p.lob.mode === 'sandbox';
  const sandboxes = needSandbox
    ? await startSandboxes({
        // As with Twilio Advanced Opt-Out: the gateway sends the one confirmation itself.
        twilio: { accountSid: p.twilio.accountSid, authToken: p.twilio.authToken, messagingServiceNumber: p.twilio.from, defaultOptOutHandling: false },
        sendgrid: { apiKey: p.sendgrid.apiKey, webhookPrivateKeyPem: p.sendgrid.webhookPrivateKeyPem, inboundParseAuth: { username: 'sendgrid', password: p.inboundParseSecret } },
        lob: { apiKey: p.lob.apiKey, webhookSecret: p.lob.webhookSecret },
        gateway: { baseUrl: ctx.publicBaseUrl, ...(ctx.inboundSmtp ? { inboundSmtp: ctx.inboundSmtp } : {}) },
      })
    : null;
  if (sandboxes) ctx.log.info({ twilio: sandboxes.twilio.baseUrl, sendgrid: sandboxes.sendgrid.baseUrl, lob: sandboxes.lob.baseUrl, smtp: `${sandboxes.smtp.host}:${sandboxes.smtp.port}` }, 'provider sandboxes running');

  const twilioOpts = {
    accountSid: p.twilio.accountSid,
    authToken: p.twilio.authToken,
    from: p.twilio.from,
    messagingServiceSid: p.twilio.mode === 'live' ? p.twilio.messagingServiceSid : undefined,
    baseUrl: p.twilio.mode === 'sandbox' ? sandboxes!.twilio.baseUrl : p.twilio.apiBaseUrl,
  };
  const email =
    p.email.provider === 'sendgrid'
      ? sendgridEmail({ apiKey: p.sendgrid.apiKey, baseUrl: p.email.mode === 'sandbox' ? sandboxes!.sendgrid.baseUrl : p.sendgrid.apiBaseUrl })
      : smtpEmail({ url: p.email.mode === 'sandbox' ? `smtp://${sandboxes!.smtp.host}:${sandboxes!.smtp.port}` : p.smtp.url! });
  const adapters: ChannelAdapters = {
    SMS: twilioSms(twilioOpts),
    VOICE: twilioVoice(twilioOpts),
    EMAIL: email,
    LETTER: lobLetters({ apiKey: p.lob.apiKey, basePath: p.lob.mode === 'sandbox' ? `${sandboxes!.lob.baseUrl}/v1` : p.lob.apiBaseUrl }),
  };
  return {
    adapters,
    sandboxes,
    close: async () => {
      // Sends already handed to an adapter finish before the adapters (and sandboxes) go away.
      await drainLocalDispatch(ctx, ctx.config.SHUTDOWN_TIMEOUT_MS);
      await email.close?.();
      await sandboxes?.close();
    },
  };
}

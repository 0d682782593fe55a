/**
 * Starts the local provider sandboxes (Twilio, SendGrid, Lob, SMTP) on loopback
 * ports, wired to deliver their webhooks to the gateway, so the whole outreach
 * loop runs on one machine with no provider accounts.
 */
import { CallbackDispatcher, type CallbackDispatcherOptions } from './callback-dispatcher.js';
import { listenOnLoopback, type ListeningServer } from './http-server.js';
import { LobSandbox } from './lob.js';
import { SendGridSandbox } from './sendgrid.js';
import { SmtpSandbox, sendDebtorReply, type DebtorReplyInput, type SmtpSandboxOptions } from './smtp.js';
import { TwilioSandbox } from './twilio.js';

export { CallbackDispatcher } from './callback-dispatcher.js';
export type { CallbackRecord, CallbackRequest, CallbackAttempt, SandboxProvider } from './callback-dispatcher.js';
export * from './twilio.js';
export * from './sendgrid.js';
export * from './lob.js';
export * from './smtp.js';

/** Where on the gateway each provider's webhooks land. */
export interface GatewayWebhookPaths {
  twilioStatus: string;
  twilioSms: string;
  sendgridEvents: string;
  sendgridInbound: string;
  lob: string;
}

export const DEFAULT_GATEWAY_PATHS: GatewayWebhookPaths = {
  twilioStatus: '/webhooks/twilio/status',
  twilioSms: '/webhooks/twilio/sms',
  sendgridEvents: '/webhooks/sendgrid/events',
  sendgridInbound: '/webhooks/sendgrid/inbound',
  lob: '/webhooks/lob',
};

export interface StartSandboxesOptions {
  twilio: { accountSid: string; authToken: string; port?: number; messagingServiceNumber?: string; defaultOptOutHandling?: boolean };
  sendgrid: { apiKey: string; webhookPrivateKeyPem?: string; port?: number; inboundParseAuth?: { username: string; password: string } };
  lob: { apiKey: string; webhookSecret: string; port?: number };
  smtp?: SmtpSandboxOptions;
  gateway: {
    /** Where callbacks go, e.g. `http://127.0.0.1:3000`. */
    baseUrl: string;
    paths?: Partial<GatewayWebhookPaths>;
    /** The gateway's own inbound SMTP listener, target of `smtp.replyAsDebtor`. */
    inboundSmtp?: { host: string; port: number; auth?: { user: string; pass: string } };
  };
  /** Pause between successive simulated events; default 20 ms. */
  callbackDelayMs?: number;
  /** Retry policy for webhooks the gateway fails to accept. */
  callbackRetry?: CallbackDispatcherOptions;
}

export type ReplyAsDebtorInput = Omit<DebtorReplyInput, 'host' | 'port' | 'auth'>;

export interface Sandboxes {
  twilio: TwilioSandbox & { baseUrl: string; accountSid: string };
  sendgrid: SendGridSandbox & { baseUrl: string };
  lob: LobSandbox & { baseUrl: string };
  smtp: SmtpSandbox & { replyAsDebtor(input: ReplyAsDebtorInput): ReturnType<typeof sendDebtorReply> };
  /** Every webhook the sandboxes sent, with each attempt and the gateway's answer. */
  callbacks: CallbackDispatcher;
  gatewayUrls: GatewayWebhookPaths;
  /** Waits for in-flight simulations and callbacks, then stops every server. */
  close(): Promise<void>;
}

function validateBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`gateway.baseUrl must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`gateway.baseUrl must be http(s), got ${value}`);
  return value.replace(/\/+$/, '');
}

export async function startSandboxes(options: StartSandboxesOptions): Promise<Sandboxes> {
  const base = validateBaseUrl(options.gateway.baseUrl);
  const paths = { ...DEFAULT_GATEWAY_PATHS, ...(options.gateway.paths ?? {}) };
  const urls = Object.fromEntries(Object.entries(paths).map(([key, path]) => [key, `${base}${path}`])) as unknown as GatewayWebhookPaths;
  const dispatcher = new CallbackDispatcher(options.callbackRetry);
  const callbackDelayMs = options.callbackDelayMs ?? 20;

  const twilio = new TwilioSandbox({
    accountSid: options.twilio.accountSid,
    authToken: options.twilio.authToken,
    dispatcher,
    callbackDelayMs,
    defaultStatusCallbackUrl: urls.twilioStatus,
    inboundSmsUrl: urls.twilioSms,
    ...(options.twilio.messagingServiceNumber ? { messagingServiceNumber: options.twilio.messagingServiceNumber } : {}),
    ...(options.twilio.defaultOptOutHandling !== undefined ? { defaultOptOutHandling: options.twilio.defaultOptOutHandling } : {}),
  });
  const sendgrid = new SendGridSandbox({
    apiKey: options.sendgrid.apiKey,
    dispatcher,
    callbackDelayMs,
    eventWebhookUrl: urls.sendgridEvents,
    inboundParseUrl: urls.sendgridInbound,
    ...(options.sendgrid.webhookPrivateKeyPem ? { webhookPrivateKeyPem: options.sendgrid.webhookPrivateKeyPem } : {}),
    ...(options.sendgrid.inboundParseAuth ? { inboundParseAuth: options.sendgrid.inboundParseAuth } : {}),
  });
  const lob = new LobSandbox({
    apiKey: options.lob.apiKey,
    webhookSecret: options.lob.webhookSecret,
    dispatcher,
    callbackDelayMs,
    webhookUrl: urls.lob,
  });
  const smtp = new SmtpSandbox(options.smtp);

  const servers: ListeningServer[] = [];
  try {
    servers.push(await listenOnLoopback(twilio.app, options.twilio.port ?? 0));
    servers.push(await listenOnLoopback(sendgrid.app, options.sendgrid.port ?? 0));
    servers.push(await listenOnLoopback(lob.app, options.lob.port ?? 0));
    await smtp.start();
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  const [twilioServer, sendgridServer, lobServer] = servers as [ListeningServer, ListeningServer, ListeningServer];

  const replyAsDebtor = (input: ReplyAsDebtorInput) => {
    const target = options.gateway.inboundSmtp;
    if (!target) return Promise.reject(new Error('gateway.inboundSmtp is not configured'));
    return sendDebtorReply({ ...input, host: target.host, port: target.port, ...(target.auth ? { auth: target.auth } : {}) });
  };

  let closing: Promise<void> | null = null;
  return {
    twilio: Object.assign(twilio, { baseUrl: twilioServer.baseUrl, accountSid: options.twilio.accountSid }),
    sendgrid: Object.assign(sendgrid, { baseUrl: sendgridServer.baseUrl }),
    lob: Object.assign(lob, { baseUrl: lobServer.baseUrl }),
    smtp: Object.assign(smtp, { replyAsDebtor }),
    callbacks: dispatcher,
    gatewayUrls: urls,
    close: () => {
      closing ??= (async () => {
        await dispatcher.close();
        await Promise.all([...servers.map((s) => s.close()), smtp.close()]);
      })();
      return closing;
    },
  };
}

// SMTP as a plugin: email through any relay with nodemailer; its sandbox is a
// local SMTP server that keeps what it receives and can "reply as the
// debtor" to the gateway's own inbound listener. Registered in
// channels/registry.ts.
import type { Router } from 'express';
import { z } from 'zod';
import { parsedBody } from '../kit/requests.js';
import { definePlugin, resolveMode, type BaseSettings, type SandboxRuntime } from '../types.js';
import { smtpEmail } from './adapter.js';
import {
  SmtpSandbox,
  sendDebtorReply,
  type DebtorReplyInput,
  type SmtpMessage,
  type SmtpSandboxOptions,
} from './sandbox.js';

export const smtpEnv = {
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
};

export interface SmtpSettings extends BaseSettings {
  url?: string;
}

export type ReplyAsDebtorInput = Omit<DebtorReplyInput, 'host' | 'port' | 'auth'>;

async function startSmtpSandbox(o: Partial<SmtpSandboxOptions>, runtime: SandboxRuntime) {
  const smtp = new SmtpSandbox(o);
  await smtp.start();
  const replyAsDebtor = (input: ReplyAsDebtorInput) => {
    const target = runtime.inboundSmtp;
    if (!target) return Promise.reject(new Error('gateway.inboundSmtp is not configured'));
    return sendDebtorReply({
      ...input,
      host: target.host,
      port: target.port,
      ...(target.auth ? { auth: target.auth } : {}),
    });
  };
  return Object.assign(smtp, { replyAsDebtor });
}

export type RunningSmtpSandbox = Awaited<ReturnType<typeof startSmtpSandbox>>;

/** Attachments' bytes stay out of listings; their size and hash identify them. */
function summarise(message: SmtpMessage) {
  return { ...message, raw: undefined, attachments: message.attachments.map(({ content: _content, ...rest }) => rest) };
}

const replySchema = z.object({
  from: z.string().min(3),
  to: z.string().min(3),
  subject: z.string().max(998),
  text: z.string().optional(),
  html: z.string().optional(),
  inReplyTo: z.string().optional(),
  references: z.union([z.string(), z.array(z.string())]).optional(),
});

function smtpControlRoutes(router: Router, sandbox: RunningSmtpSandbox): void {
  router.get('/messages', (req, res) => {
    res.json(sandbox.listMessages({ to: typeof req.query.to === 'string' ? req.query.to : undefined }).map(summarise));
  });
  router.post('/reply', async (req, res) => {
    const data = parsedBody(replySchema, req, res);
    if (!data) return;
    res.json(await sandbox.replyAsDebtor(data));
  });
}

export const smtp = definePlugin<'smtp', SmtpSettings, RunningSmtpSandbox, SmtpSandboxOptions, typeof smtpEnv>({
  id: 'smtp',
  name: 'SMTP',
  channels: ['EMAIL'],
  env: smtpEnv,
  // The URL carries the relay's password.
  secretEnv: ['SMTP_URL'],
  configured: (env) => Boolean(env.SMTP_URL),
  settings: (input) => {
    const url = typeof input.env.SMTP_URL === 'string' && input.env.SMTP_URL ? input.env.SMTP_URL : undefined;
    return { mode: resolveMode(input, Boolean(url), 'SMTP (SMTP_URL)'), url };
  },
  adapters: ({ settings, sandbox }) => ({
    EMAIL: smtpEmail({
      url: settings.mode === 'sandbox' && sandbox ? `smtp://${sandbox.host}:${sandbox.port}` : settings.url!,
    }),
  }),
  view: (s, v) => ({
    id: 'email',
    name: 'SMTP',
    channels: ['EMAIL'],
    mode: s.mode,
    sender: {
      from: String(v.config.EMAIL_FROM ?? ''),
      replyDomain: String(v.config.INBOUND_EMAIL_DOMAIN ?? ''),
      inboundSmtp: v.inboundSmtp,
    },
    secrets: v.isSet(['SMTP_URL']),
    webhooks: [],
  }),
  sandbox: {
    options: () => ({}),
    start: startSmtpSandbox,
    control: smtpControlRoutes,
    describe: (sb) => `${sb.host}:${sb.port}`,
  },
});

// Starting the SendGrid sandbox for the gateway (or a test) and its routes in
// the sandbox control panel (/sandbox/sendgrid/…).
import type { Router } from 'express';
import { z } from 'zod';
import { parsedBody } from '../../kit/requests.js';
import { listenOnLoopback } from '../../kit/http-server.js';
import type { SandboxRuntime } from '../../types.js';
import { PATHS } from '../webhooks.js';
import { SendGridSandbox } from './index.js';

export interface SendgridSandboxStartOptions {
  apiKey: string;
  webhookPrivateKeyPem?: string;
  port?: number;
  inboundParseAuth?: { username: string; password: string };
}

export async function startSendgridSandbox(o: Partial<SendgridSandboxStartOptions>, runtime: SandboxRuntime) {
  const sandbox = new SendGridSandbox({
    apiKey: o.apiKey ?? 'SG.sandbox.key',
    dispatcher: runtime.callbacks,
    callbackDelayMs: runtime.callbackDelayMs,
    eventWebhookUrl: `${runtime.gatewayBaseUrl}${PATHS.events}`,
    inboundParseUrl: `${runtime.gatewayBaseUrl}${PATHS.inbound}`,
    ...(o.webhookPrivateKeyPem ? { webhookPrivateKeyPem: o.webhookPrivateKeyPem } : {}),
    ...(o.inboundParseAuth ? { inboundParseAuth: o.inboundParseAuth } : {}),
  });
  const server = await listenOnLoopback(sandbox.app, o.port ?? 0);
  return Object.assign(sandbox, { baseUrl: server.baseUrl, close: () => server.close() });
}

export type RunningSendgridSandbox = Awaited<ReturnType<typeof startSendgridSandbox>>;

const inboundEmailSchema = z.object({
  from: z.string().min(3),
  to: z.string().min(3),
  cc: z.string().optional(),
  subject: z.string().max(998),
  text: z.string().optional(),
  html: z.string().optional(),
  inReplyTo: z.string().optional(),
  references: z.union([z.string(), z.array(z.string())]).optional(),
  raw: z.boolean().optional(),
});

export function sendgridControlRoutes(router: Router, sandbox: RunningSendgridSandbox): void {
  router.get('/messages', (req, res) => {
    res.json(sandbox.listMessages({ to: typeof req.query.to === 'string' ? req.query.to : undefined }));
  });
  router.post('/inbound-email', async (req, res) => {
    const data = parsedBody(inboundEmailSchema, req, res);
    if (!data) return;
    const { raw, ...input } = data;
    const result = await sandbox.simulateInboundEmail(input, { raw: raw ?? false });
    res.json({ status: result.status, delivered: result.delivered, responseBody: result.responseBody });
  });
}

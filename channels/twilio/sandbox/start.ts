// Starting the Twilio sandbox for the gateway (or a test) and its routes in
// the sandbox control panel (/sandbox/twilio/…).
import type { Router } from 'express';
import { z } from 'zod';
import { parsedBody } from '../../kit/requests.js';
import { listenOnLoopback } from '../../kit/http-server.js';
import type { SandboxRuntime } from '../../types.js';
import { PATHS } from '../webhooks.js';
import { TwilioSandbox } from './index.js';

export interface TwilioSandboxStartOptions {
  accountSid: string;
  authToken: string;
  port?: number;
  messagingServiceNumber?: string;
  defaultOptOutHandling?: boolean;
}

export async function startTwilioSandbox(o: Partial<TwilioSandboxStartOptions>, runtime: SandboxRuntime) {
  const accountSid = o.accountSid ?? `AC${'0'.repeat(32)}`;
  const sandbox = new TwilioSandbox({
    accountSid,
    authToken: o.authToken ?? 'sandbox-auth-token',
    dispatcher: runtime.callbacks,
    callbackDelayMs: runtime.callbackDelayMs,
    defaultStatusCallbackUrl: `${runtime.gatewayBaseUrl}${PATHS.status}`,
    inboundSmsUrl: `${runtime.gatewayBaseUrl}${PATHS.sms}`,
    ...(o.messagingServiceNumber ? { messagingServiceNumber: o.messagingServiceNumber } : {}),
    ...(o.defaultOptOutHandling !== undefined ? { defaultOptOutHandling: o.defaultOptOutHandling } : {}),
  });
  const server = await listenOnLoopback(sandbox.app, o.port ?? 0);
  return Object.assign(sandbox, { baseUrl: server.baseUrl, accountSid, close: () => server.close() });
}

export type RunningTwilioSandbox = Awaited<ReturnType<typeof startTwilioSandbox>>;

const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 phone number');
const inboundSmsSchema = z.object({
  from: e164,
  to: e164,
  body: z.string().max(1600),
  mediaUrls: z.array(z.url()).max(10).optional(),
});

export function twilioControlRoutes(router: Router, sandbox: RunningTwilioSandbox): void {
  const query = (v: unknown) => (typeof v === 'string' ? v : undefined);
  router.get('/messages', (req, res) => {
    res.json(sandbox.listMessages({ to: query(req.query.to) }));
  });
  router.get('/messages/:sid', (req, res) => {
    const message = sandbox.getMessage(req.params.sid);
    if (!message) res.status(404).json({ error: `no message ${req.params.sid}` });
    else res.json(message);
  });
  router.get('/calls', (req, res) => {
    res.json(sandbox.listCalls({ to: query(req.query.to) }));
  });
  router.get('/calls/:sid', (req, res) => {
    const call = sandbox.getCall(req.params.sid);
    if (!call) res.status(404).json({ error: `no call ${req.params.sid}` });
    else res.json(call);
  });
  router.post('/inbound-sms', async (req, res) => {
    const data = parsedBody(inboundSmsSchema, req, res);
    if (!data) return;
    res.json(await sandbox.simulateInboundSms(data));
  });
}

/**
 * Local stand-in for Telnyx's Messaging API v2: POST/GET /v2/messages with
 * Telnyx's JSON wire format, bearer-key auth and error bodies, and the
 * messaging webhooks (message.sent, message.finalized, message.received)
 * signed with ed25519 exactly as Telnyx signs them, so the SDK's own verifier
 * accepts them. Telnyx's default STOP handling is reproduced: after an
 * inbound STOP, sends to that number fail with 40300 (HTTP 409).
 */
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import { isValidPhoneNumber } from 'libphonenumber-js';
import { listenOnLoopback } from '../kit/http-server.js';
import type { SandboxRuntime } from '../types.js';
import { sandboxKeyPair } from './config.js';
import {
  OPT_IN_KEYWORDS,
  OPT_OUT_KEYWORDS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signTelnyxWebhook,
  type TelnyxError,
  type TelnyxEventType,
  type TelnyxMessagePayload,
  type TelnyxMessageStatus,
  type TelnyxWebhookEnvelope,
} from './wire.js';

export interface TelnyxSandboxOptions {
  apiKey: string;
  /** PEM of the ed25519 private key webhooks are signed with; generated when absent. */
  privateKeyPem: string;
  /** The number of the sandbox account (the debtor's texts go to it). */
  from: string;
  /** The messaging profile's webhook URL: inbound messages, and delivery events of sends that name none. */
  profileWebhookUrl: string;
  port?: number;
  /**
   * Telnyx's default keyword handling: an inbound STOP blocks further sends
   * (40300) and Telnyx answers it itself. With the messaging profile's
   * opt-out handling left to the application, the gateway sends its one
   * confirmation and enforces the opt-out in its router. Default true.
   */
  defaultOptOutHandling?: boolean;
}

/** What the sandbox carrier does with a message to a given number. */
export type TelnyxOutcome =
  | { status: 'delivered' }
  | { status: 'delivery_failed' | 'sending_failed'; errorCode?: string };

export interface SandboxTelnyxMessage {
  payload: TelnyxMessagePayload;
  history: { status: TelnyxMessageStatus; at: string }[];
}

export interface TelnyxInboundInput {
  from: string;
  to?: string;
  body: string;
  mediaUrls?: string[];
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: TelnyxError,
  ) {
    super(error.title);
  }
}

const e164 = /^\+[1-9]\d{1,14}$/;
const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const GSM7 = /^[\n\r !"#$%&'()*+,\-./0-9:;<=>?@A-Z[\\\]^_a-z{|}~£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà€]*$/;

function parts(text: string): { encoding: 'GSM-7' | 'UCS-2'; parts: number } {
  const gsm = GSM7.test(text);
  const [single, multi] = gsm ? [160, 153] : [70, 67];
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', parts: text.length <= single ? 1 : Math.ceil(text.length / multi) };
}

export class TelnyxSandbox {
  readonly app: Express;
  private readonly messages = new Map<string, SandboxTelnyxMessage>();
  private readonly optedOut = new Set<string>();
  private readonly invalid = new Set<string>();
  private readonly outcomes = new Map<string, TelnyxOutcome>();
  private faults: { remaining: number; status: 500 | 429 | 401 | 503 } = { remaining: 0, status: 500 };
  private readonly key: KeyObject;
  readonly organizationId = randomUUID();
  readonly messagingProfileId = randomUUID();

  constructor(
    private readonly o: TelnyxSandboxOptions,
    private readonly runtime: SandboxRuntime,
  ) {
    this.key = createPrivateKey(o.privateKeyPem);
    this.app = this.buildApp();
  }

  get from(): string {
    return this.o.from;
  }

  // ---- control ----

  /** As if the number had texted STOP: sends to it fail with 40300. */
  optOut(number: string): void {
    this.optedOut.add(number);
  }
  isOptedOut(number: string): boolean {
    return this.optedOut.has(number);
  }
  /** A well-formed number no carrier serves: sends fail with 40310. */
  markInvalid(number: string): void {
    this.invalid.add(number);
  }
  setOutcome(number: string, outcome: TelnyxOutcome): void {
    this.outcomes.set(number, outcome);
  }
  /** The next `count` API requests fail with this status (10007, 10011 or 10009 bodies). */
  failNextRequests(count: number, status: 500 | 503 | 429 | 401 = 500): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
    this.faults = { remaining: count, status };
  }
  reset(): void {
    this.messages.clear();
    this.optedOut.clear();
    this.invalid.clear();
    this.outcomes.clear();
    this.faults = { remaining: 0, status: 500 };
  }

  listMessages(filter: { to?: string; direction?: 'outbound' | 'inbound' } = {}): TelnyxMessagePayload[] {
    return [...this.messages.values()]
      .map((m) => m.payload)
      .filter(
        (p) =>
          (!filter.to || p.to[0]?.phone_number === filter.to) &&
          (!filter.direction || p.direction === filter.direction),
      );
  }
  getMessage(id: string): SandboxTelnyxMessage | undefined {
    return this.messages.get(id);
  }

  // ---- "act as the debtor" ----

  /** Posts a signed message.received to the profile's webhook, as Telnyx does when the debtor texts our number. */
  async simulateInboundSms(
    input: TelnyxInboundInput,
  ): Promise<{ id: string; status: number | null; delivered: boolean; responseBody: string | null }> {
    const to = input.to ?? this.o.from;
    for (const [field, value] of [
      ['from', input.from],
      ['to', to],
    ] as const) {
      if (typeof value !== 'string' || !e164.test(value))
        throw new Error(`${field} must be an E.164 phone number, got ${JSON.stringify(value)}`);
    }
    if (typeof input.body !== 'string') throw new Error('body must be a string');
    // Telnyx's own keyword handling runs before the message is forwarded.
    const keyword = input.body.trim().toUpperCase();
    if (this.o.defaultOptOutHandling !== false) {
      if (OPT_OUT_KEYWORDS.has(keyword)) this.optedOut.add(input.from);
      if (OPT_IN_KEYWORDS.has(keyword)) this.optedOut.delete(input.from);
    }
    const now = new Date().toISOString();
    const payload: TelnyxMessagePayload = {
      ...this.basePayload('inbound', input.body),
      from: { phone_number: input.from, carrier: 'T-MOBILE USA, INC.', line_type: 'Wireless' },
      to: [{ phone_number: to, status: 'webhook_delivered', carrier: 'TELNYX LLC', line_type: 'VoIP' }],
      media: (input.mediaUrls ?? []).map((url) => ({ url, content_type: null, sha256: null, size: null })),
      type: input.mediaUrls?.length ? 'MMS' : 'SMS',
      webhook_url: this.o.profileWebhookUrl,
      received_at: now,
      autoresponse_type: OPT_OUT_KEYWORDS.has(keyword) ? 'STOP' : OPT_IN_KEYWORDS.has(keyword) ? 'START' : null,
    };
    this.messages.set(payload.id, { payload, history: [{ status: 'webhook_delivered', at: now }] });
    const record = await this.webhook('message.received', payload, this.o.profileWebhookUrl);
    return {
      id: payload.id,
      status: record.responseStatus ?? null,
      delivered: record.state === 'delivered',
      responseBody: record.responseBody ?? null,
    };
  }

  // ---- messages ----

  private basePayload(direction: 'outbound' | 'inbound', text: string): TelnyxMessagePayload {
    const { encoding, parts: count } = parts(text);
    return {
      record_type: 'message',
      direction,
      id: randomUUID(),
      type: 'SMS',
      messaging_profile_id: this.messagingProfileId,
      organization_id: this.organizationId,
      from: { phone_number: this.o.from },
      to: [],
      cc: [],
      text,
      subject: null,
      media: [],
      webhook_url: null,
      webhook_failover_url: null,
      encoding,
      parts: count,
      tags: [],
      cost: null,
      received_at: new Date().toISOString(),
      sent_at: null,
      completed_at: null,
      valid_until: null,
      errors: [],
    };
  }

  private createMessage(body: Record<string, unknown>): TelnyxMessagePayload {
    const to = body.to;
    if (typeof to !== 'string' || to === '')
      throw new ApiError(400, {
        code: '10004',
        title: 'Missing required parameter',
        detail: "The 'to' parameter is required.",
        source: { pointer: '/to' },
      });
    if (!e164.test(to))
      throw new ApiError(400, {
        code: '10016',
        title: 'Phone number must be in +E.164 format',
        detail: `The 'to' number ${to} is not in +E.164 format.`,
        source: { pointer: '/to' },
      });
    if (!isValidPhoneNumber(to) || this.invalid.has(to))
      throw new ApiError(400, {
        code: '40310',
        title: "Invalid 'to' address",
        detail: `The 'to' address ${to} is invalid.`,
        source: { pointer: '/to' },
      });
    const from = typeof body.from === 'string' && body.from ? body.from : null;
    if (!from && typeof body.messaging_profile_id !== 'string')
      throw new ApiError(400, {
        code: '10004',
        title: 'Missing required parameter',
        detail: "The 'from' parameter is required.",
        source: { pointer: '/from' },
      });
    const text = typeof body.text === 'string' ? body.text : '';
    const mediaUrls = Array.isArray(body.media_urls)
      ? body.media_urls.filter((u): u is string => typeof u === 'string')
      : [];
    if (!text && mediaUrls.length === 0)
      throw new ApiError(400, {
        code: '10004',
        title: 'Missing required parameter',
        detail: "The 'text' or 'media_urls' parameter is required.",
        source: { pointer: '/text' },
      });
    const webhookUrl = typeof body.webhook_url === 'string' && body.webhook_url ? body.webhook_url : null;
    if (webhookUrl) {
      try {
        new URL(webhookUrl);
      } catch {
        throw new ApiError(400, {
          code: '10003',
          title: 'Invalid URL',
          detail: 'The URL provided was invalid, malformed, or too long.',
          source: { pointer: '/webhook_url' },
        });
      }
    }
    if (this.optedOut.has(to)) {
      throw new ApiError(409, {
        code: '40300',
        title: 'Blocked due to STOP message',
        detail: `Messages cannot be sent from ${from ?? this.o.from} to ${to} due to an existing block rule.`,
      });
    }
    const payload: TelnyxMessagePayload = {
      ...this.basePayload('outbound', text),
      from: { phone_number: from ?? this.o.from, carrier: 'TELNYX LLC', line_type: 'VoIP' },
      to: [{ phone_number: to, status: 'queued', carrier: 'T-MOBILE USA, INC.', line_type: 'Wireless' }],
      media: mediaUrls.map((url) => ({ url, content_type: null, sha256: null, size: null })),
      type: mediaUrls.length ? 'MMS' : 'SMS',
      messaging_profile_id:
        typeof body.messaging_profile_id === 'string' ? body.messaging_profile_id : this.messagingProfileId,
      webhook_url: webhookUrl,
      webhook_failover_url: typeof body.webhook_failover_url === 'string' ? body.webhook_failover_url : null,
      valid_until: new Date(Date.now() + 3600_000).toISOString(),
    };
    const message: SandboxTelnyxMessage = { payload, history: [{ status: 'queued', at: payload.received_at }] };
    this.messages.set(payload.id, message);
    const useProfile = body.use_profile_webhooks !== false;
    const target = webhookUrl ?? (useProfile ? this.o.profileWebhookUrl : null);
    this.runtime.callbacks.track(this.lifecycle(message, target));
    return payload;
  }

  /** queued → sent (message.sent) → delivered or failed (message.finalized), one signed webhook per step. */
  private async lifecycle(m: SandboxTelnyxMessage, url: string | null): Promise<void> {
    const to = m.payload.to[0]!;
    const outcome = this.outcomes.get(to.phone_number) ?? { status: 'delivered' };
    const steps: TelnyxMessageStatus[] =
      outcome.status === 'sending_failed' ? ['sending_failed'] : ['sent', outcome.status];
    for (const status of steps) {
      await wait(this.runtime.callbackDelayMs);
      const now = new Date().toISOString();
      to.status = status;
      m.history.push({ status, at: now });
      if (status === 'sent') m.payload.sent_at = now;
      if (status !== 'sent') {
        m.payload.completed_at = now;
        if (status !== 'delivered') {
          const code =
            ('errorCode' in outcome && outcome.errorCode) || (status === 'sending_failed' ? '40008' : '40006');
          m.payload.errors = [
            {
              code,
              title:
                code === '40008'
                  ? 'Undeliverable'
                  : code === '40300'
                    ? 'Blocked due to STOP message'
                    : 'Recipient server unavailable',
            },
          ];
        }
      }
      if (url) await this.webhook(status === 'sent' ? 'message.sent' : 'message.finalized', m.payload, url);
    }
  }

  private webhook(eventType: TelnyxEventType, payload: TelnyxMessagePayload, url: string) {
    const envelope: TelnyxWebhookEnvelope = {
      data: {
        event_type: eventType,
        id: randomUUID(),
        occurred_at: new Date().toISOString(),
        payload: structuredClone(payload),
        record_type: 'event',
      },
      meta: { attempt: 1, delivered_to: url },
    };
    const body = JSON.stringify(envelope);
    const timestamp = String(Math.floor(Date.now() / 1000));
    return this.runtime.callbacks.deliver({
      provider: 'telnyx',
      kind: eventType,
      url,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'telnyx-webhooks',
        [SIGNATURE_HEADER]: signTelnyxWebhook(this.key, timestamp, body),
        [TIMESTAMP_HEADER]: timestamp,
      },
      body,
    });
  }

  // ---- HTTP ----

  private authenticate(req: Request): void {
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m || m[1] !== this.o.apiKey) {
      throw new ApiError(401, {
        code: '10009',
        title: 'Authentication failed',
        detail: 'The required authentication headers were either invalid or not included in the request.',
      });
    }
  }

  private injectFault(): void {
    if (this.faults.remaining <= 0) return;
    this.faults.remaining -= 1;
    const s = this.faults.status;
    if (s === 429)
      throw new ApiError(429, {
        code: '10011',
        title: 'Too many requests',
        detail: 'You have exceeded the maximum number of allowed requests.',
      });
    if (s === 401)
      throw new ApiError(401, {
        code: '10009',
        title: 'Authentication failed',
        detail: 'The required authentication headers were either invalid or not included in the request.',
      });
    throw new ApiError(s, { code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' });
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    const api = express.Router();
    api.use(express.json({ limit: '1mb' }));
    api.use((req, _res, next) => {
      this.authenticate(req);
      this.injectFault();
      next();
    });
    api.post('/messages', (req, res) => {
      res.status(200).json({ data: this.createMessage((req.body ?? {}) as Record<string, unknown>) });
    });
    api.get('/messages/:id', (req, res) => {
      const m = this.messages.get(req.params.id);
      if (!m)
        throw new ApiError(404, {
          code: '10005',
          title: 'Resource not found',
          detail: 'The requested resource or URL could not be found.',
        });
      res.json({ data: m.payload });
    });
    app.use('/v2', api);
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (err instanceof ApiError) {
        res.status(err.status).json({ errors: [err.error] });
        return;
      }
      const status = (err as { status?: number }).status ?? 500;
      res.status(status).json({
        errors: [
          status === 400
            ? { code: '10015', title: 'Bad Request', detail: 'The request failed because it was not well-formed.' }
            : { code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' },
        ],
      });
    });
    return app;
  }
}

/** Starts the sandbox on loopback; a missing key pair or API key is generated. */
export async function startTelnyxSandbox(options: Partial<TelnyxSandboxOptions>, runtime: SandboxRuntime) {
  const o: TelnyxSandboxOptions = {
    apiKey: options.apiKey ?? `KEY${randomUUID().replace(/-/g, '').toUpperCase()}`,
    privateKeyPem: options.privateKeyPem ?? sandboxKeyPair().privateKeyPem,
    from: options.from ?? '+15550000142',
    profileWebhookUrl: options.profileWebhookUrl ?? `${runtime.gatewayBaseUrl}/webhooks/telnyx/messaging`,
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.defaultOptOutHandling !== undefined ? { defaultOptOutHandling: options.defaultOptOutHandling } : {}),
  };
  const sandbox = new TelnyxSandbox(o, runtime);
  const server = await listenOnLoopback(sandbox.app, o.port ?? 0);
  return Object.assign(sandbox, { baseUrl: server.baseUrl, apiKey: o.apiKey, close: () => server.close() });
}

export type RunningTelnyxSandbox = Awaited<ReturnType<typeof startTelnyxSandbox>>;

export function telnyxControlRoutes(router: Router, sandbox: RunningTelnyxSandbox): void {
  router.get('/messages', (req, res) => {
    res.json(sandbox.listMessages({ to: typeof req.query.to === 'string' ? req.query.to : undefined }));
  });
  router.get('/messages/:id', (req, res) => {
    const m = sandbox.getMessage(req.params.id);
    if (!m) res.status(404).json({ error: `no message ${req.params.id}` });
    else res.json(m);
  });
  router.post('/inbound-sms', async (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const issues: { field: string; reason: string }[] = [];
    if (typeof b.from !== 'string' || !e164.test(b.from))
      issues.push({ field: 'from', reason: 'must be an E.164 phone number' });
    if (b.to !== undefined && (typeof b.to !== 'string' || !e164.test(b.to)))
      issues.push({ field: 'to', reason: 'must be an E.164 phone number' });
    if (typeof b.body !== 'string' || b.body.length > 1600)
      issues.push({ field: 'body', reason: 'must be a string of at most 1600 characters' });
    if (issues.length) return res.status(400).json({ error: 'invalid request', issues });
    res.json(
      await sandbox.simulateInboundSms({
        from: b.from as string,
        ...(typeof b.to === 'string' ? { to: b.to } : {}),
        body: b.body as string,
      }),
    );
  });
}

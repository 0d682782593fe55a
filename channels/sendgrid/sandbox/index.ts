/**
 * Local stand-in for SendGrid's v3 Mail Send API and Event Webhook: validates
 * the mail body like the real API, keeps each accepted message, and posts
 * ECDSA-signed event batches (processed, delivered, bounce…) to the gateway.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { CallbackDispatcher, CallbackRecord } from '../../kit/callback-dispatcher.js';
import { base64UrlToken } from '../../kit/ids.js';
import {
  postInboundParse,
  type InboundEmailInput,
  type InboundParseOptions,
  type InboundParseResult,
} from './inbound.js';
import { validateMailSend, type EmailAddress, type MailSendBody, type SendGridFieldError } from './validation.js';

export type { MailSendBody, SendGridFieldError, EmailAddress } from './validation.js';
export type { InboundEmailInput, InboundEmailAttachment, InboundParseOptions, InboundParseResult } from './inbound.js';

/** What the sandbox mailbox provider does with mail to an address. */
export type EmailOutcome = 'delivered' | 'deferred' | 'bounce' | 'dropped' | 'spamreport';

export interface SandboxEmailRecipient {
  email: string;
  name?: string;
  kind: 'to' | 'cc' | 'bcc';
  personalizationIndex: number;
  sgMessageId: string;
  outcome: EmailOutcome;
  /** Top-level custom_args merged with the personalization's, as they appear in events. */
  customArgs: Record<string, string>;
}

export interface SandboxEmailAttachment {
  filename: string;
  type: string | null;
  disposition: string | null;
  contentId: string | null;
  byteLength: number;
  sha256: string;
}

export interface SandboxEmail {
  /** The X-Message-Id SendGrid answered with. */
  messageId: string;
  receivedAt: Date;
  from: EmailAddress;
  replyTo: EmailAddress | null;
  replyToList: EmailAddress[];
  subject: string | null;
  text: string | null;
  html: string | null;
  /** Top-level headers merged with the first personalization's (what a single-recipient send carries). */
  headers: Record<string, string>;
  customArgs: Record<string, string>;
  categories: string[];
  templateId: string | null;
  attachments: SandboxEmailAttachment[];
  recipients: SandboxEmailRecipient[];
  /** mail_settings.sandbox_mode.enable: validated, not sent, no events. */
  sandboxMode: boolean;
  /** The request body exactly as received (parsed JSON). */
  request: MailSendBody;
}

export interface SendGridSandboxOptions {
  apiKey: string;
  dispatcher: CallbackDispatcher;
  /** The gateway's Event Webhook URL; null disables events. */
  eventWebhookUrl: string | null;
  /** PKCS#8 or SEC1 PEM of a P-256 key; a fresh one is generated when absent. */
  webhookPrivateKeyPem?: string;
  callbackDelayMs?: number;
  /** The gateway's Inbound Parse URL (the parse domain's destination URL). */
  inboundParseUrl?: string | null;
  /** Basic auth SendGrid puts in the parse URL (https://user:pass@host/…), sent as an Authorization header. */
  inboundParseAuth?: { username: string; password: string };
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function errorBody(errors: SendGridFieldError[]) {
  return { errors };
}

export class SendGridSandbox {
  readonly app: Express;
  /** Base64 DER (SPKI) public key — what SendGrid shows as the "Verification Key" of a signed Event Webhook. */
  readonly publicKey: string;
  readonly publicKeyPem: string;
  private readonly privateKey: KeyObject;
  private readonly apiKey: string;
  private readonly dispatcher: CallbackDispatcher;
  private eventWebhookUrl: string | null;
  private readonly callbackDelayMs: number;
  private readonly messages: SandboxEmail[] = [];
  private readonly outcomes = new Map<string, EmailOutcome>();
  private faults: { remaining: number; status: 500 | 429 } = { remaining: 0, status: 500 };
  private readonly inboundParseUrl: string | null;
  private readonly inboundParseAuth: { username: string; password: string } | undefined;

  constructor(options: SendGridSandboxOptions) {
    this.inboundParseUrl = options.inboundParseUrl ?? null;
    this.inboundParseAuth = options.inboundParseAuth;
    this.apiKey = options.apiKey;
    this.dispatcher = options.dispatcher;
    this.eventWebhookUrl = options.eventWebhookUrl;
    this.callbackDelayMs = options.callbackDelayMs ?? 20;
    this.privateKey = options.webhookPrivateKeyPem
      ? createPrivateKey(options.webhookPrivateKeyPem)
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    if (
      this.privateKey.asymmetricKeyType !== 'ec' ||
      this.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
    ) {
      throw new Error('webhookPrivateKeyPem must be an EC P-256 (prime256v1) private key');
    }
    const publicKey = createPublicKey(this.privateKey);
    this.publicKey = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    this.app = this.buildApp();
  }

  // ---- control ----

  setOutcome(email: string, outcome: EmailOutcome): void {
    this.outcomes.set(email.toLowerCase(), outcome);
  }
  failNextRequests(count: number, status: 500 | 429 = 500): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
    this.faults = { remaining: count, status };
  }
  setEventWebhookUrl(url: string | null): void {
    this.eventWebhookUrl = url;
  }
  reset(): void {
    this.messages.length = 0;
    this.outcomes.clear();
    this.faults = { remaining: 0, status: 500 };
  }

  // ---- inspection ----

  listMessages(filter: { to?: string } = {}): SandboxEmail[] {
    const to = filter.to?.toLowerCase();
    return this.messages.filter((m) => !to || m.recipients.some((r) => r.email.toLowerCase() === to));
  }
  getMessage(messageId: string): SandboxEmail | undefined {
    return this.messages.find((m) => m.messageId === messageId);
  }

  /** Signs a payload exactly as SendGrid's Event Webhook does: ECDSA P-256/SHA-256 over timestamp + raw body, DER, base64. */
  signEventPayload(timestamp: string, rawBody: string): string {
    return sign('sha256', Buffer.from(timestamp + rawBody, 'utf8'), this.privateKey).toString('base64');
  }

  /** "Act as the debtor": posts an Inbound Parse request for an email the debtor sends to the parse domain. */
  async simulateInboundEmail(
    input: InboundEmailInput,
    options: InboundParseOptions & { url?: string } = {},
  ): Promise<InboundParseResult> {
    const url = options.url ?? this.inboundParseUrl;
    if (!url) throw new Error('no Inbound Parse URL configured (inboundParseUrl)');
    const basicAuth = options.basicAuth ?? this.inboundParseAuth;
    return postInboundParse(this.dispatcher, url, input, { ...options, ...(basicAuth ? { basicAuth } : {}) });
  }

  // ---- mail send ----

  private accept(body: MailSendBody): SandboxEmail {
    const messageId = base64UrlToken(16);
    const sandboxMode = body.mail_settings?.sandbox_mode?.enable === true;
    const recipients: SandboxEmailRecipient[] = [];
    const timeHex = Math.floor(Date.now() / 1000)
      .toString(16)
      .toUpperCase();
    const pod = `${base64UrlToken(4)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
    body.personalizations.forEach((p, personalizationIndex) => {
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        for (const address of p[kind] ?? []) {
          recipients.push({
            email: address.email,
            ...(address.name ? { name: address.name } : {}),
            kind,
            personalizationIndex,
            // SendGrid's per-recipient id: the X-Message-Id, then the filter host and a recipient counter.
            sgMessageId: `${messageId}.filterdrecv-${pod}-1-${timeHex}-${recipients.length}.0`,
            outcome: this.outcomes.get(address.email.toLowerCase()) ?? 'delivered',
            customArgs: { ...(body.custom_args ?? {}), ...(p.custom_args ?? {}) },
          });
        }
      }
    });
    const text = body.content?.find((c) => c.type === 'text/plain')?.value ?? null;
    const html = body.content?.find((c) => c.type === 'text/html')?.value ?? null;
    const message: SandboxEmail = {
      messageId,
      receivedAt: new Date(),
      from: body.from,
      replyTo: body.reply_to ?? null,
      replyToList: body.reply_to_list ?? [],
      subject: body.subject ?? body.personalizations[0]?.subject ?? null,
      text,
      html,
      headers: { ...(body.headers ?? {}), ...(body.personalizations[0]?.headers ?? {}) },
      customArgs: body.custom_args ?? {},
      categories: body.categories ?? [],
      templateId: body.template_id ?? null,
      attachments: (body.attachments ?? []).map((a) => {
        const bytes = Buffer.from(a.content, 'base64');
        return {
          filename: a.filename,
          type: a.type ?? null,
          disposition: a.disposition ?? null,
          contentId: a.content_id ?? null,
          byteLength: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
        };
      }),
      recipients,
      sandboxMode,
      request: body,
    };
    this.messages.push(message);
    if (!sandboxMode) this.dispatcher.track(this.deliverEvents(message));
    return message;
  }

  private baseEvent(message: SandboxEmail, recipient: SandboxEmailRecipient, event: string): Record<string, unknown> {
    return {
      // custom_args first: SendGrid never lets them overwrite its own event fields.
      ...recipient.customArgs,
      email: recipient.email,
      timestamp: Math.floor(Date.now() / 1000),
      'smtp-id': `<${message.messageId}@geopod-ismtpd-sandbox>`,
      event,
      sg_event_id: base64UrlToken(16),
      sg_message_id: recipient.sgMessageId,
      ...(message.categories.length > 0 ? { category: message.categories } : {}),
      ...(message.request.asm ? { asm_group_id: message.request.asm.group_id } : {}),
    };
  }

  /** processed (or dropped) → deferred → delivered/bounce → spamreport, one signed batch per stage. */
  private async deliverEvents(message: SandboxEmail): Promise<void> {
    const stage = (build: (r: SandboxEmailRecipient) => Record<string, unknown> | null) =>
      message.recipients.map(build).filter((e): e is Record<string, unknown> => e !== null);

    const batches: Record<string, unknown>[][] = [
      stage((r) =>
        r.outcome === 'dropped'
          ? { ...this.baseEvent(message, r, 'dropped'), reason: 'Bounced Address', status: '5.0.0' }
          : this.baseEvent(message, r, 'processed'),
      ),
      stage((r) =>
        r.outcome === 'deferred'
          ? {
              ...this.baseEvent(message, r, 'deferred'),
              response:
                '450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.',
              attempt: '1',
            }
          : null,
      ),
      stage((r) => {
        if (r.outcome === 'dropped') return null;
        if (r.outcome === 'bounce') {
          return {
            ...this.baseEvent(message, r, 'bounce'),
            reason: '550 5.1.1 The email account that you tried to reach does not exist.',
            status: '5.1.1',
            type: 'bounce',
            bounce_classification: 'Invalid Address',
          };
        }
        return { ...this.baseEvent(message, r, 'delivered'), response: '250 2.0.0 OK', ip: '167.89.0.1', tls: 1 };
      }),
      stage((r) => (r.outcome === 'spamreport' ? this.baseEvent(message, r, 'spamreport') : null)),
    ];
    for (const batch of batches) {
      if (batch.length === 0) continue;
      await wait(this.callbackDelayMs);
      await this.postEventBatch(batch);
    }
  }

  /** Posts one Event Webhook batch, signed; exposed so tests can send hand-made events too. */
  postEventBatch(events: Record<string, unknown>[]): Promise<CallbackRecord | null> {
    if (!this.eventWebhookUrl) return Promise.resolve(null);
    const rawBody = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    return this.dispatcher.deliver({
      provider: 'sendgrid',
      kind: `events:${[...new Set(events.map((e) => String(e.event)))].join(',')}`,
      url: this.eventWebhookUrl,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'SendGrid Event API',
        'X-Twilio-Email-Event-Webhook-Signature': this.signEventPayload(timestamp, rawBody),
        'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
      },
      body: rawBody,
    });
  }

  // ---- HTTP ----

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    app.post(
      '/v3/mail/send',
      (req: Request, res: Response, next: NextFunction) => {
        const header = req.headers.authorization;
        if (!header) {
          res.status(401).json(errorBody([{ field: null, message: 'authorization required', help: null }]));
          return;
        }
        if (header !== `Bearer ${this.apiKey}`) {
          res.status(401).json(
            errorBody([
              {
                field: null,
                message: 'The provided authorization grant is invalid, expired, or revoked',
                help: null,
              },
            ]),
          );
          return;
        }
        if (this.faults.remaining > 0) {
          this.faults.remaining -= 1;
          const message = this.faults.status === 429 ? 'too many requests' : 'internal server error';
          res.status(this.faults.status).json(errorBody([{ field: null, message, help: null }]));
          return;
        }
        next();
      },
      express.json({ limit: '30mb', type: () => true }),
      (req: Request, res: Response) => {
        const errors = validateMailSend(req.body);
        if (errors.length > 0) {
          res.status(400).json(errorBody(errors));
          return;
        }
        const message = this.accept(req.body as MailSendBody);
        if (message.sandboxMode) {
          res.status(200).end();
          return;
        }
        res.status(202).set('X-Message-Id', message.messageId).end();
      },
    );

    app.get('/sandbox/messages', (req, res) => {
      res.json(this.listMessages({ to: typeof req.query.to === 'string' ? req.query.to : undefined }));
    });
    app.get('/sandbox/messages/:id', (req, res) => {
      const message = this.getMessage(req.params.id);
      if (!message) res.status(404).json({ error: `no message ${req.params.id}` });
      else res.json(message);
    });
    app.get('/sandbox/public-key', (_req, res) => {
      res.json({ public_key: this.publicKey });
    });

    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const status = (err as { status?: number }).status ?? 500;
      // Malformed JSON: SendGrid answers a bare "Bad Request" error.
      res
        .status(status)
        .json(
          errorBody([{ field: null, message: status === 400 ? 'Bad Request' : 'internal server error', help: null }]),
        );
    });
    return app;
  }
}

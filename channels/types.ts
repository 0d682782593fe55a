// The one interface every provider adapter implements. The outbox dispatcher
// (src/outbound) hands an adapter a fully rendered message and gets back the
// provider's id — or a ProviderError that says whether retrying can help and
// what the failure means for the contact point. Adapters know their provider's
// API and nothing about debtors, routing or the database.
import type { Router } from 'express';
import type { CallbackDispatcher } from './kit/callback-dispatcher.js';
import type { z } from 'zod';

export type ChannelName = 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER';

export interface PostalAddress {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postalCode: string;
  country: string; // ISO 3166-1 alpha-2
}

export interface SmsPayload {
  channel: 'SMS';
  to: string; // E.164
  text: string;
  mediaUrls?: string[];
}

export interface EmailPayload {
  channel: 'EMAIL';
  to: string;
  from: string;
  fromName?: string;
  subject: string;
  text: string;
  html: string;
  /** reply+TOKEN@INBOUND_EMAIL_DOMAIN: replies thread back to the conversation. */
  replyTo: string;
  /** Our own RFC 5322 Message-ID, "<uuid@domain>", for In-Reply-To matching. */
  messageIdHeader: string;
  /** Envelope sender (VERP bounce+…@INBOUND_EMAIL_DOMAIN): where bounces go. Providers that handle bounces themselves ignore it. */
  returnPath?: string;
  /** RFC 8058 one-click unsubscribe URL (POST). */
  listUnsubscribeUrl: string;
  /** Echoed back by providers in events (SendGrid custom_args). */
  customArgs?: Record<string, string>;
}

export interface VoicePayload {
  channel: 'VOICE';
  to: string; // E.164
  machineDetection: boolean;
  /** Record the call (the provider posts the finished recording to its recording webhook). */
  record: boolean;
}

export interface LetterPayload {
  channel: 'LETTER';
  to: PostalAddress;
  from: PostalAddress;
  pdf: Buffer;
  /** A time-limited URL the print provider fetches the same PDF from (Lob takes a URL or HTML). */
  pdfUrl: string;
  description: string;
  mailType: 'usps_first_class' | 'usps_standard';
  extraService?: 'certified' | 'certified_return_receipt' | 'registered' | null;
  color?: boolean;
}

export type OutboundPayload = SmsPayload | EmailPayload | VoicePayload | LetterPayload;

export interface SendRequest<P extends OutboundPayload = OutboundPayload> {
  /** Our message id: also the provider idempotency key where the provider supports one. */
  messageId: string;
  payload: P;
}

export interface SendResult {
  provider: string; // 'twilio', 'sendgrid', 'smtp', 'lob'
  providerMessageId: string;
  /** Status right after the provider accepted it (e.g. QUEUED, SENT for SMTP). */
  status: 'QUEUED' | 'SENT' | 'RINGING' | 'MAILED';
  detail?: Record<string, unknown>;
}

/** What a permanent failure means for the contact point it was sent to. */
export type ContactPointEffect = 'sms_opted_out' | 'number_invalid' | 'email_invalid' | 'address_invalid';

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly provider: string,
    /** The provider's own error code (Twilio 21610, SMTP 550, HTTP 422 …). */
    readonly code: string,
    /** True when retrying later may succeed (5xx, 429, timeouts, connection errors). */
    readonly transient: boolean,
    readonly effect?: ContactPointEffect,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** What recovery asks a provider about a send whose outcome a crash lost (src/outbound/recovery.ts). */
export interface SentQuery<P extends OutboundPayload = OutboundPayload> {
  messageId: string;
  payload: P;
  /** The provider's record, if any, was made after this (the claim, less clock skew). */
  since: Date;
}

/** A provider's record that may be the send in question. */
export interface SentCandidate {
  providerMessageId: string;
  /** Its status now, in the gateway's terms (null: nothing beyond "accepted" can be said). */
  status:
    | 'QUEUED'
    | 'SENT'
    | 'DELIVERED'
    | 'UNDELIVERED'
    | 'FAILED'
    | 'RINGING'
    | 'IN_PROGRESS'
    | 'COMPLETED'
    | 'BUSY'
    | 'NO_ANSWER'
    | 'CANCELLED'
    | null;
  providerStatus: string;
  createdAt: Date;
  /** True when the record matches the content too (an SMS body), not only the destination and time. */
  exact: boolean;
}

export interface ChannelAdapter<P extends OutboundPayload = OutboundPayload> {
  readonly provider: string;
  readonly channel: P['channel'];
  send(req: SendRequest<P>): Promise<SendResult>;
  close?(): Promise<void>;
  /**
   * The provider keeps our messageId as an idempotency key for this long after
   * the first request: a repeat within it returns the first result and never
   * sends twice (Lob: 24 h). Absent: a repeat is a second send.
   */
  readonly idempotencyWindowMs?: number;
  /** Asks the provider which of its records could be this send (e.g. Twilio's message and call lists). Absent: it cannot be asked. */
  findSent?(q: SentQuery<P>): Promise<SentCandidate[]>;
}

// ── Providers as plugins ─────────────────────────────────────────────────
// A provider is one folder, channels/<id>/, that exports one ProviderPlugin:
// its config (env vars), its adapters (official SDK), its webhooks (verified,
// then parsed into the gateway's own types below), its call flow where it
// does voice, its admin view and its local sandbox. channels/registry.ts
// lists them; nothing outside channels/ names one. Plugins never touch the
// database: they say what a webhook means (ProviderEvent) and generic code in
// src/inbound applies it, so consent, opt-outs and threads stay the debtor's.

export type Mode = 'live' | 'sandbox';

/** The gateway's message statuses a provider event may move a message to (a subset of the MessageStatus enum). */
export type GatewayStatus =
  | 'QUEUED'
  | 'SENDING'
  | 'SENT'
  | 'DELIVERED'
  | 'UNDELIVERED'
  | 'FAILED'
  | 'CANCELLED'
  | 'BOUNCED'
  | 'RINGING'
  | 'IN_PROGRESS'
  | 'COMPLETED'
  | 'BUSY'
  | 'NO_ANSWER'
  | 'MAILED'
  | 'IN_TRANSIT'
  | 'RETURNED';

/** Every plugin's settings carry its mode; the rest is the plugin's own. */
export interface BaseSettings {
  mode: Mode;
}

export interface SettingsInput {
  /** The validated environment (every plugin's variables included). */
  env: Record<string, unknown>;
  /** PROVIDERS: sandbox | live | auto. */
  forced: 'sandbox' | 'live' | 'auto';
  /** Whether another plugin or setting selected this one for a channel (an unselected plugin never forces live). */
  selected: boolean;
}

/** Live when the provider's credentials are present (or PROVIDERS=live insists), else its sandbox. */
export function resolveMode(input: SettingsInput, hasCredentials: boolean, what: string): Mode {
  if (input.forced === 'sandbox') return 'sandbox';
  if (input.forced === 'live' && input.selected && !hasCredentials)
    throw new Error(`PROVIDERS=live but ${what} credentials are not set`);
  return hasCredentials ? 'live' : 'sandbox';
}

export interface AdapterInput<S, Sb> {
  settings: S;
  /** Where the provider calls back (PUBLIC_BASE_URL, else the local listen address). */
  publicBaseUrl: string;
  /** The plugin's running sandbox, when settings.mode is 'sandbox'. */
  sandbox: Sb | null;
  /** Gateway options a provider's sends depend on. */
  options: { recordCalls: boolean };
}

// ── Webhooks ──

/** One webhook request as a plugin sees it: enough to verify and to key it, nothing of Express. */
export interface WebhookRequest {
  method: 'GET' | 'POST';
  /** The URL the provider signed: the public base plus the path and query as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Raw body bytes as received (the query string for GET); empty before a 'raw' route has read its body. */
  raw: Buffer;
  /** Form fields (POST) or query parameters (GET), first value of each. */
  params: Record<string, string>;
  /** The parsed JSON body, when the request was JSON. */
  json: unknown;
  /** Path parameters (`:token`, `:messageId`). */
  routeParams: Record<string, string>;
}

/** Thrown by verify/accept: the request is refused with this status, before anything is stored. */
export class WebhookRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403,
    message: string,
    readonly fields?: { field: string; reason: string }[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'WebhookRefusal';
  }
}

/** What the gateway offers a plugin's accept(). */
export interface AcceptKit {
  /** The key of an email posted as an Inbound Parse style multipart form: its Message-ID, else a hash (the same email by any route, the same key). */
  emailFormKey(raw: Buffer, contentType: string): Promise<string>;
}

export interface VerifyOptions {
  /** WEBHOOK_MAX_AGE_SECONDS: signed timestamps older than this are replays. */
  maxAgeSeconds: number;
  now: number;
}

/** A stored webhook (inbound_events row) handed back to its plugin to parse. */
export interface StoredWebhook {
  kind: string;
  headers: Record<string, unknown>;
  body: Buffer;
}

export type MessageRefReport =
  | { providerMessageId: string }
  | { anyOf: ({ id: string } | { providerMessageId: string } | { rfcMessageId: string })[] };

/** What a provider's verdict means for the contact point of the message it names. */
export type Consequence =
  | {
      kind: 'opted-out';
      channel: 'SMS' | 'EMAIL' | 'VOICE';
      /** Recorded as the consent change's source, e.g. `provider:21610`. */
      source: string;
      /** Reason on the thread's OPT_OUT flag. */
      flagReason: string;
      flagDetail?: Record<string, unknown>;
    }
  | {
      kind: 'invalid';
      /** Stored on the contact point and shown in the thread. */
      reason: string;
      /** Reason in the audit record and the thread event, when it differs from the stored one. */
      eventReason?: string;
      /** Also flag the thread for review with this reason (a returned letter). */
      reviewReason?: string;
    };

/** A delivery status (or call/letter event) of one of our messages, in the gateway's terms. */
export interface StatusReport {
  ref: MessageRefReport;
  status: GatewayStatus | null;
  providerStatus: string;
  /** Unique per provider event: applying it twice records it once. */
  providerEventId: string;
  errorCode?: string | null;
  errorMessage?: string | null;
  occurredAt?: Date;
  detail?: Record<string, unknown>;
  callOutcome?: Record<string, unknown>;
  consequence?: Consequence;
  /** Ids that identify the cause in audit records and thread events. */
  cause?: Record<string, unknown>;
  /** A file of the message's to fetch with the plugin's media headers and attach (a call recording). */
  attach?: { url: string; contentType: string; filename: string; event: string; eventData: Record<string, unknown> };
  /** An opt-out that also binds the address when no debtor holds it (a spam report for an unknown address). */
  suppressAddress?: {
    channel: 'EMAIL';
    address: string;
    reason: string;
    source: string;
    data: Record<string, unknown>;
  };
}

/** A message a debtor sent us. */
export interface InboundMessageReport {
  channel: 'SMS';
  providerMessageId: string;
  from: string;
  to: string | null;
  body: string;
  media: { url: string | null; contentType?: string }[];
}

/** What one stored webhook means. A batch (SendGrid) is several; each is applied on its own. */
export type ProviderEvent =
  | { type: 'message'; message: InboundMessageReport }
  | { type: 'status'; status: StatusReport }
  | { type: 'email'; raw: Buffer; contentType: string }
  | { type: 'ignored'; reason: string }
  /** Unusable as it stands (an event without its id): counted as a failure, so the webhook is retried and visible. */
  | { type: 'invalid'; reason: string };

export interface WebhookRoute<S> {
  /** Stored as inbound_events.kind. */
  kind: string;
  /** Paths as providers are configured with them (kept stable: a path is a provider-side setting). */
  paths: readonly string[];
  methods: readonly ('GET' | 'POST')[];
  /** 'parsed': the app's JSON/form parser ran; 'raw': the body is read after verify, up to the inbound email limit. */
  body: 'parsed' | 'raw';
  verify(req: WebhookRequest, settings: S, o: VerifyOptions): void | Promise<void>;
  /** The dedupe key (the provider's own id), or a WebhookRefusal(400). */
  accept(req: WebhookRequest, settings: S, kit: AcceptKit): string | Promise<string>;
  /** A batch of events (SendGrid's Event Webhook): applied one by one, even when it holds one. */
  batch?: boolean;
  /** The answer once stored; default 204. */
  respond?: { status: number; contentType?: string; body?: string | Record<string, unknown> };
  /** A plain status update applied as it is stored (no consequences), or null to queue it as usual. */
  onArrival?(req: WebhookRequest): (StatusReport & { ref: { providerMessageId: string } }) | null;
  parse(stored: StoredWebhook, settings: S): ProviderEvent[] | Promise<ProviderEvent[]>;
}

// ── Voice call flow ──

/** What the caller hears and can do, in the gateway's terms; the plugin renders it (TwiML for Twilio). */
export type CallStep =
  | { say: string }
  | { gather: { numDigits: number; timeoutSec: number; say: string[]; actionUrl: string } }
  | { dial: string }
  | { hangup: true };

export interface CallFlow<S> {
  /** Fetched when the call connects; `:messageId` names our message. */
  answerPath: string;
  /** Posted with the keys the callee pressed. */
  gatherPath: string;
  verify(req: WebhookRequest, settings: S, o: VerifyOptions): void | Promise<void>;
  readAnswer(req: WebhookRequest): { answeredBy: string; callId: string | null };
  readGather(req: WebhookRequest): { digits: string };
  /** `speech`: the language every Say speaks and the text-to-speech voice that speaks it (from the locale's templates). */
  render(steps: CallStep[], speech: { language: string; voice: string }): { contentType: string; body: string };
}

/** One host a provider serves media from; the gateway fetches nothing else (SSRF-safe fetch, src/net). */
export interface MediaHost {
  host: string | RegExp;
  /** Only URLs whose path starts with this (one bucket of a shared storage host). */
  pathPrefix?: string;
  /** Whether the provider's credentials go to this host. */
  credentials: boolean;
}

// ── Admin view ──

export interface WebhookTarget {
  purpose: string;
  method: 'POST';
  /** Full address under PUBLIC_BASE_URL; null when the gateway sets it per request. */
  url: string | null;
  note: string;
}

export interface ProviderView {
  id: string;
  name: string;
  channels: string[];
  mode: Mode;
  sender: Record<string, string | null>;
  /** Variable name → whether it is set (never its value). */
  secrets: Record<string, boolean>;
  webhooks: WebhookTarget[];
}

export interface ViewInput {
  /** Full URL of a gateway path. */
  at(path: string): string;
  /** Whether each named variable is set in the environment. */
  isSet(names: string[]): Record<string, boolean>;
  config: Record<string, unknown>;
  inboundSmtp: string | null;
}

// ── Sandbox ──

export interface SandboxRuntime {
  /** Where the gateway listens, e.g. http://127.0.0.1:3000 (no trailing slash). */
  gatewayBaseUrl: string;
  /** Delivers (and records) the sandbox's webhooks, with retries like the provider's. */
  callbacks: CallbackDispatcher;
  callbackDelayMs: number;
  /** The gateway's own inbound SMTP listener (the debtor's email replies), when there is one. */
  inboundSmtp?: { host: string; port: number; auth?: { user: string; pass: string } };
}

export interface SandboxDefinition<S, Sb, O> {
  /** The sandbox's options from the gateway's settings (same secrets, so webhooks verify). */
  options(settings: S): Partial<O>;
  /** Starts it on loopback. Options may be partial (tests); missing secrets are generated. */
  start(options: Partial<O>, runtime: SandboxRuntime): Promise<Sb & { close(): Promise<void> }>;
  /** "Act as the debtor" and inspection routes, mounted under /sandbox/<id>/. */
  control?(router: Router, sandbox: Sb): void;
  /** What the log line at start names (e.g. its base URL). */
  describe?(sandbox: Sb): string;
}

export interface ProviderPlugin<
  Id extends string = string,
  S extends BaseSettings = BaseSettings,
  Sb = unknown,
  O = unknown,
  E extends Record<string, z.ZodType> = Record<string, z.ZodType>,
> {
  id: Id;
  name: string;
  channels: readonly ChannelName[];
  /** Its environment variables (merged into src/config.ts's schema). */
  env: E;
  settings(input: SettingsInput): S;
  adapters(input: AdapterInput<S, Sb>): Partial<Record<ChannelName, ChannelAdapter>>;
  webhooks?: readonly WebhookRoute<S>[];
  callFlow?: CallFlow<S>;
  /** Whether its credentials are set (EMAIL_PROVIDER=auto picks the first configured email provider). */
  configured?(env: Record<string, unknown>): boolean;
  /** Variables whose values are secrets: never printed in a config error. */
  secretEnv?: readonly string[];
  /** Where its inbound media (MMS, recordings) may be fetched from, and with which credentials. */
  media?: {
    hosts: readonly MediaHost[];
    /** The Authorization header value for hosts with `credentials: true`. */
    authorization?(settings: S): string;
  };
  /** Path prefixes whose last segment is a secret (a webhook token in the URL): logged as `<prefix>[redacted]`. */
  secretPaths?: readonly string[];
  /** Header names (lower case) that carry its signatures: never logged. */
  redactHeaders?: readonly string[];
  /** Its number for SMS/voice (the sandbox's "to", the voicemail's callback number). */
  sender?(settings: S): string | null;
  view?(settings: S, input: ViewInput): ProviderView;
  sandbox?: SandboxDefinition<S, Sb, O>;
}

/** Identity helper: keeps the literal id and the settings type of a plugin. */
export function definePlugin<Id extends string, S extends BaseSettings, Sb, O, E extends Record<string, z.ZodType>>(
  p: ProviderPlugin<Id, S, Sb, O, E>,
): ProviderPlugin<Id, S, Sb, O, E> {
  return p;
}

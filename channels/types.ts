// The one interface every provider adapter implements. The outbox dispatcher
// (src/outbound) hands an adapter a fully rendered message and gets back the
// provider's id — or a ProviderError that says whether retrying can help and
// what the failure means for the contact point. Adapters know their provider's
// API and nothing about debtors, routing or the database.

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
  /** Where the provider fetches the call's TwiML when the call connects. */
  answerUrl: string;
  machineDetection: boolean;
  /** When set, the provider records the call and posts the finished recording here. */
  recordingStatusCallback?: string;
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
  /** Where the provider posts delivery status for this message. */
  statusCallbackUrl: string;
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
  status: 'QUEUED' | 'SENT' | 'DELIVERED' | 'UNDELIVERED' | 'FAILED' | 'RINGING' | 'IN_PROGRESS' | 'COMPLETED' | 'BUSY' | 'NO_ANSWER' | 'CANCELLED' | null;
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

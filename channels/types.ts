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

export interface ChannelAdapter<P extends OutboundPayload = OutboundPayload> {
  readonly provider: string;
  readonly channel: P['channel'];
  send(req: SendRequest<P>): Promise<SendResult>;
  close?(): Promise<void>;
}

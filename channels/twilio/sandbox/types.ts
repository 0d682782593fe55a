import type { CallbackDispatcher } from '../../kit/callback-dispatcher.js';
import type { TwilioParams } from './wire.js';

export type TwilioMessageStatus =
  | 'accepted'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'undelivered'
  | 'failed'
  | 'received';

export interface StatusChange<S extends string> {
  status: S;
  at: string;
}

export interface SandboxSms {
  sid: string;
  accountSid: string;
  /** `outbound-api` for REST sends, `outbound-reply` for TwiML <Message> replies, `inbound` for simulated debtor texts. */
  direction: 'outbound-api' | 'outbound-reply' | 'inbound';
  from: string | null;
  to: string;
  body: string;
  mediaUrls: string[];
  messagingServiceSid: string | null;
  statusCallback: string | null;
  status: TwilioMessageStatus;
  errorCode: number | null;
  errorMessage: string | null;
  numSegments: number;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
  history: StatusChange<TwilioMessageStatus>[];
}

/** What the sandbox carrier does with a message to a given number. */
export type SmsOutcome =
  | { status: 'delivered' }
  | { status: 'undelivered'; errorCode?: number }
  | { status: 'failed'; errorCode?: number };

export type CallAnswer = 'human' | 'machine_start' | 'machine_end_beep' | 'no-answer' | 'busy' | 'failed';

/** Scripted behaviour of the person (or machine) at a destination number. */
export interface CallScript {
  answer: CallAnswer;
  /** One entry per <Gather> the callee answers, in order; a gather with no entry left times out. */
  digits?: string[];
  /** Overrides the talk time the sandbox estimates from the TwiML. */
  talkSeconds?: number;
  /** How long the callee speaks into a <Record> (capped by its maxLength); default 5 s. */
  recordSeconds?: number;
}

export type TwilioCallStatus =
  | 'queued'
  | 'initiated'
  | 'ringing'
  | 'in-progress'
  | 'completed'
  | 'busy'
  | 'no-answer'
  | 'failed'
  | 'canceled';

/** One TwiML document the gateway served during a call, in the order they were fetched. */
export interface TwimlDocument {
  source: 'url' | 'inline';
  url: string | null;
  method: 'POST' | 'GET' | null;
  requestParams: TwilioParams | null;
  httpStatus: number | null;
  twiml: string;
}

/** A verb the sandbox "performed" while executing TwiML, flattened across documents. */
export interface PerformedVerb {
  verb: string;
  text: string;
  attributes: Record<string, string>;
  documentIndex: number;
  /** For <Gather>: the digits the scripted callee pressed, or null if it timed out. */
  digits?: string | null;
}

export interface SandboxCall {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  url: string | null;
  method: 'POST' | 'GET';
  twiml: string | null;
  statusCallback: string | null;
  statusCallbackMethod: 'POST' | 'GET';
  statusCallbackEvents: string[];
  machineDetection: string | null;
  asyncAmd: boolean;
  asyncAmdStatusCallback: string | null;
  status: TwilioCallStatus;
  answeredBy: string | null;
  duration: number | null;
  startTime: Date | null;
  endTime: Date | null;
  dateCreated: Date;
  dateUpdated: Date;
  /** Twilio error code when the call's application failed (e.g. 11200 when the TwiML URL could not be fetched). */
  errorCode: number | null;
  documents: TwimlDocument[];
  performed: PerformedVerb[];
  history: StatusChange<TwilioCallStatus>[];
}

/** What the Twilio simulations need from their host sandbox. */
export interface TwilioRuntime {
  accountSid: string;
  authToken: string;
  dispatcher: CallbackDispatcher;
  callbackDelayMs: number;
}

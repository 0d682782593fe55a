/**
 * Local stand-in for Twilio's REST API (2010-04-01): Messages and Calls resources
 * with Twilio's wire format and error codes, status callbacks and voice webhooks
 * signed exactly as Twilio signs them, and the "act as the debtor" inbound SMS.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { isValidPhoneNumber, parsePhoneNumber } from 'libphonenumber-js';
import type { CallbackDispatcher } from '../../kit/callback-dispatcher.js';
import { prefixedHexId } from '../../kit/ids.js';
import { parseTwiml } from './twiml.js';
import type { CallScript, SandboxCall, SandboxSms, SmsOutcome, TwilioMessageStatus, TwilioRuntime } from './types.js';
import { simulateCall } from './voice.js';
import { TwilioRecordings } from './recordings.js';
import { parseHttpMethod, sendTwilioWebhook } from './webhook.js';
import { dateFilter, listPage, stringParam } from './list.js';
import {
  OPT_IN_KEYWORDS,
  OPT_OUT_KEYWORDS,
  TWILIO_API_VERSION,
  TwilioApiError,
  countSmsSegments,
  isE164,
  rfc2822,
  type TwilioParams,
} from './wire.js';

export type * from './types.js';

export interface TwilioSandboxOptions {
  accountSid: string;
  authToken: string;
  dispatcher: CallbackDispatcher;
  /** Pause between successive simulated events (status steps, call phases). */
  callbackDelayMs?: number;
  /**
   * Where status callbacks go when a send names no StatusCallback — the stand-in
   * for the callback URL configured on the account's Messaging Service.
   */
  defaultStatusCallbackUrl?: string | null;
  /** The gateway's inbound SMS webhook (the phone number's "A message comes in" URL). */
  inboundSmsUrl?: string | null;
  /** Sender the sandbox picks from a Messaging Service's pool when a send gives only MessagingServiceSid. */
  messagingServiceNumber?: string;
  /**
   * Twilio's default opt-out handling: an inbound STOP blocks further sends
   * at the carrier level (21610) and Twilio answers it itself. With Advanced
   * Opt-Out set to let the application confirm, the gateway sends its own one
   * confirmation and enforces the opt-out in its router. Default true.
   */
  defaultOptOutHandling?: boolean;
}

export interface InboundSmsInput {
  from: string;
  to: string;
  body: string;
  mediaUrls?: string[];
  /** Alternative to mediaUrls when the content type matters. */
  media?: { url: string; contentType: string }[];
  /** Overrides the configured inbound webhook URL for this one message. */
  url?: string;
}

export interface InboundSmsResult {
  messageSid: string;
  /** HTTP status the gateway answered with (null if it could not be reached). */
  status: number | null;
  delivered: boolean;
  responseBody: string | null;
  /** Outbound messages created from <Message> verbs in the gateway's TwiML answer. */
  replies: SandboxSms[];
}

const DEFAULT_ERROR_CODE: Record<'undelivered' | 'failed', number> = { undelivered: 30003, failed: 30008 };
const ERROR_MESSAGES: Record<number, string> = {
  21610: 'Attempt to send to unsubscribed recipient',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
};

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type FormBody = Record<string, string | string[] | undefined>;

function single(body: FormBody, name: string): string | undefined {
  const value = body[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

function many(body: FormBody, name: string): string[] {
  const value = body[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function assertCallbackUrl(value: string | undefined, field: string, code: number): string | null {
  if (value === undefined || value === '') return null;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // fall through to the Twilio error
  }
  throw new TwilioApiError(400, code, `The ${field} URL ${value} is not a valid URL.`);
}

/** YYMMDDHHMM, the carrier delivery-receipt timestamp Twilio forwards as RawDlrDoneDate. */
function rawDlrDate(date: Date): string {
  const iso = date.toISOString();
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16);
}

function guessMediaType(url: string): string {
  const extension = new URL(url).pathname.split('.').pop()?.toLowerCase() ?? '';
  const types: Record<string, string> = {
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    png: 'image/png',
    gif: 'image/gif',
    pdf: 'application/pdf',
    txt: 'text/plain',
    vcf: 'text/vcard',
    mp4: 'video/mp4',
    mp3: 'audio/mpeg',
  };
  return types[extension] ?? 'application/octet-stream';
}

export class TwilioSandbox {
  readonly app: Express;
  private readonly runtime: TwilioRuntime;
  private readonly messages = new Map<string, SandboxSms>();
  private readonly calls = new Map<string, SandboxCall>();
  private readonly optedOut = new Set<string>();
  private readonly invalidNumbers = new Set<string>();
  private readonly smsOutcomes = new Map<string, SmsOutcome>();
  private readonly callScripts = new Map<string, CallScript>();
  private faults: { remaining: number; status: 500 | 429 } = { remaining: 0, status: 500 };
  private readonly defaultStatusCallbackUrl: string | null;
  private inboundSmsUrl: string | null;
  private readonly messagingServiceNumber: string;
  private readonly defaultOptOutHandling: boolean;
  /** Call recordings (Record=true calls and <Record> verbs), served behind the account's auth. */
  readonly recordings: TwilioRecordings;

  constructor(options: TwilioSandboxOptions) {
    this.defaultOptOutHandling = options.defaultOptOutHandling ?? true;
    this.runtime = {
      accountSid: options.accountSid,
      authToken: options.authToken,
      dispatcher: options.dispatcher,
      callbackDelayMs: options.callbackDelayMs ?? 20,
    };
    this.defaultStatusCallbackUrl = options.defaultStatusCallbackUrl ?? null;
    this.inboundSmsUrl = options.inboundSmsUrl ?? null;
    this.messagingServiceNumber = options.messagingServiceNumber ?? '+15005550006';
    this.recordings = new TwilioRecordings(this.runtime);
    this.app = this.buildApp();
  }

  // ---- control (tests and the sandbox UI script the "world" with these) ----

  /** Registers a number as having replied STOP: sends to it fail with 21610. */
  optOut(number: string): void {
    this.optedOut.add(number);
  }
  optIn(number: string): void {
    this.optedOut.delete(number);
  }
  isOptedOut(number: string): boolean {
    return this.optedOut.has(number);
  }
  /** Makes a syntactically fine number fail with 21211, like a number no carrier serves. */
  markInvalid(number: string): void {
    this.invalidNumbers.add(number);
  }
  setSmsOutcome(number: string, outcome: SmsOutcome): void {
    this.smsOutcomes.set(number, outcome);
  }
  setCallScript(number: string, script: CallScript): void {
    this.callScripts.set(number, script);
  }
  /** The next `count` REST requests fail with 500 (code 20500) or 429 (code 20429). */
  failNextRequests(count: number, status: 500 | 429 = 500): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
    this.faults = { remaining: count, status };
  }
  setInboundSmsUrl(url: string | null): void {
    this.inboundSmsUrl = url;
  }
  reset(): void {
    this.messages.clear();
    this.calls.clear();
    this.optedOut.clear();
    this.invalidNumbers.clear();
    this.smsOutcomes.clear();
    this.callScripts.clear();
    this.recordings.clear();
    this.faults = { remaining: 0, status: 500 };
  }

  // ---- inspection ----

  listMessages(filter: { to?: string; direction?: SandboxSms['direction'] } = {}): SandboxSms[] {
    return [...this.messages.values()].filter(
      (m) => (!filter.to || m.to === filter.to) && (!filter.direction || m.direction === filter.direction),
    );
  }
  getMessage(sid: string): SandboxSms | undefined {
    return this.messages.get(sid);
  }
  listCalls(filter: { to?: string } = {}): SandboxCall[] {
    return [...this.calls.values()].filter((c) => !filter.to || c.to === filter.to);
  }
  getCall(sid: string): SandboxCall | undefined {
    return this.calls.get(sid);
  }

  // ---- "act as the debtor" ----

  /** Posts a signed inbound-SMS webhook to the gateway, as Twilio does when the debtor texts our number. */
  async simulateInboundSms(input: InboundSmsInput): Promise<InboundSmsResult> {
    for (const field of ['from', 'to'] as const) {
      if (typeof input[field] !== 'string' || !isE164(input[field])) {
        throw new Error(`${field} must be an E.164 phone number, got ${JSON.stringify(input[field])}`);
      }
    }
    if (typeof input.body !== 'string') throw new Error('body must be a string');
    const url = input.url ?? this.inboundSmsUrl;
    if (!url) throw new Error('no inbound SMS webhook URL configured (inboundSmsUrl)');
    const media = input.media ?? (input.mediaUrls ?? []).map((u) => ({ url: u, contentType: guessMediaType(u) }));

    // Twilio applies its built-in keyword handling before forwarding the message.
    const keyword = input.body.trim().toUpperCase();
    if (this.defaultOptOutHandling) {
      if (OPT_OUT_KEYWORDS.has(keyword)) this.optedOut.add(input.from);
      if (OPT_IN_KEYWORDS.has(keyword)) this.optedOut.delete(input.from);
    }

    const now = new Date();
    const sid = prefixedHexId('SM', 32);
    const message: SandboxSms = {
      sid,
      accountSid: this.runtime.accountSid,
      direction: 'inbound',
      from: input.from,
      to: input.to,
      body: input.body,
      mediaUrls: media.map((m) => m.url),
      messagingServiceSid: null,
      statusCallback: null,
      status: 'received',
      errorCode: null,
      errorMessage: null,
      numSegments: countSmsSegments(input.body),
      dateCreated: now,
      dateUpdated: now,
      dateSent: now,
      history: [{ status: 'received', at: now.toISOString() }],
    };
    this.messages.set(sid, message);

    const params: TwilioParams = {
      ToCountry: this.countryOf(input.to),
      ToState: '',
      SmsMessageSid: sid,
      NumMedia: String(media.length),
      ToCity: '',
      FromZip: '',
      SmsSid: sid,
      FromState: '',
      SmsStatus: 'received',
      FromCity: '',
      Body: input.body,
      FromCountry: this.countryOf(input.from),
      To: input.to,
      ToZip: '',
      NumSegments: String(message.numSegments),
      MessageSid: sid,
      AccountSid: this.runtime.accountSid,
      From: input.from,
      ApiVersion: TWILIO_API_VERSION,
    };
    media.forEach((item, index) => {
      params[`MediaUrl${index}`] = item.url;
      params[`MediaContentType${index}`] = item.contentType;
    });
    const record = await sendTwilioWebhook(this.runtime, 'inbound-sms', url, 'POST', params);
    const replies =
      record.state === 'delivered' && record.responseBody ? this.sendTwimlReplies(record.responseBody, input, url) : [];
    return {
      messageSid: sid,
      status: record.responseStatus ?? null,
      delivered: record.state === 'delivered',
      responseBody: record.responseBody ?? null,
      replies,
    };
  }

  private countryOf(number: string): string {
    try {
      return parsePhoneNumber(number).country ?? '';
    } catch {
      return '';
    }
  }

  /** A gateway may answer an inbound SMS with <Message> TwiML; Twilio then sends those replies. */
  private sendTwimlReplies(xml: string, inbound: InboundSmsInput, documentUrl: string): SandboxSms[] {
    let verbs: ReturnType<typeof parseTwiml>;
    try {
      verbs = parseTwiml(xml);
    } catch {
      return []; // an empty or non-TwiML 200 answer simply means "no reply"
    }
    const replies: SandboxSms[] = [];
    for (const verb of verbs.filter((v) => v.name === 'Message')) {
      const bodyVerb = verb.children.find((c) => c.name === 'Body');
      const media = verb.children.filter((c) => c.name === 'Media').map((c) => c.text);
      const callback = verb.attributes.action ?? verb.attributes.statusCallback;
      const reply = this.createMessage({
        direction: 'outbound-reply',
        to: verb.attributes.to ?? inbound.from,
        from: verb.attributes.from ?? inbound.to,
        messagingServiceSid: null,
        body: bodyVerb ? bodyVerb.text : verb.text,
        mediaUrls: media,
        statusCallback: callback ? new URL(callback, documentUrl).toString() : null,
      });
      if (this.optedOut.has(reply.to)) {
        this.setMessageStatus(reply, 'failed');
        reply.errorCode = 21610;
        reply.errorMessage = ERROR_MESSAGES[21610]!;
      } else {
        this.runtime.dispatcher.track(this.runMessageLifecycle(reply));
      }
      replies.push(reply);
    }
    return replies;
  }

  // ---- messages ----

  private createMessage(
    fields: Pick<
      SandboxSms,
      'direction' | 'to' | 'from' | 'messagingServiceSid' | 'body' | 'mediaUrls' | 'statusCallback'
    >,
  ): SandboxSms {
    const now = new Date();
    const initial: TwilioMessageStatus = fields.from === null ? 'accepted' : 'queued';
    const message: SandboxSms = {
      ...fields,
      sid: prefixedHexId('SM', 32),
      accountSid: this.runtime.accountSid,
      status: initial,
      errorCode: null,
      errorMessage: null,
      numSegments: countSmsSegments(fields.body),
      dateCreated: now,
      dateUpdated: now,
      dateSent: null,
      history: [{ status: initial, at: now.toISOString() }],
    };
    this.messages.set(message.sid, message);
    return message;
  }

  private setMessageStatus(message: SandboxSms, status: TwilioMessageStatus): void {
    message.status = status;
    message.dateUpdated = new Date();
    if (status === 'sent') message.dateSent = message.dateUpdated;
    message.history.push({ status, at: message.dateUpdated.toISOString() });
  }

  /** queued → sent → delivered (or undelivered/failed as scripted), one signed callback per step, in order. */
  private async runMessageLifecycle(message: SandboxSms): Promise<void> {
    const outcome = this.smsOutcomes.get(message.to) ?? { status: 'delivered' };
    const steps: TwilioMessageStatus[] = [];
    if (message.status === 'accepted') steps.push('queued');
    if (outcome.status !== 'failed') steps.push('sent');
    steps.push(outcome.status);

    await this.messageStatusCallback(message);
    for (const status of steps) {
      await wait(this.runtime.callbackDelayMs);
      if (status === 'queued' && message.from === null) message.from = this.messagingServiceNumber;
      this.setMessageStatus(message, status);
      if (status === 'undelivered' || status === 'failed') {
        const code = ('errorCode' in outcome && outcome.errorCode) || DEFAULT_ERROR_CODE[status];
        message.errorCode = code;
        message.errorMessage = ERROR_MESSAGES[code] ?? 'Unknown error';
      }
      await this.messageStatusCallback(message);
    }
  }

  private async messageStatusCallback(message: SandboxSms): Promise<void> {
    if (!message.statusCallback) return;
    const params: TwilioParams = {
      ApiVersion: TWILIO_API_VERSION,
      AccountSid: message.accountSid,
      MessageSid: message.sid,
      SmsSid: message.sid,
      MessageStatus: message.status,
      SmsStatus: message.status,
      To: message.to,
    };
    if (message.from !== null) params.From = message.from;
    if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
    if (message.errorCode !== null) params.ErrorCode = String(message.errorCode);
    if (message.status === 'delivered' || message.status === 'undelivered')
      params.RawDlrDoneDate = rawDlrDate(message.dateUpdated);
    await sendTwilioWebhook(this.runtime, `message-status:${message.status}`, message.statusCallback, 'POST', params);
  }

  private messageResource(message: SandboxSms): Record<string, unknown> {
    const uri = `/2010-04-01/Accounts/${message.accountSid}/Messages/${message.sid}.json`;
    return {
      account_sid: message.accountSid,
      api_version: TWILIO_API_VERSION,
      body: message.body,
      date_created: rfc2822(message.dateCreated),
      date_sent: message.dateSent ? rfc2822(message.dateSent) : null,
      date_updated: rfc2822(message.dateUpdated),
      direction: message.direction,
      error_code: message.errorCode,
      error_message: message.errorMessage,
      from: message.from,
      messaging_service_sid: message.messagingServiceSid,
      num_media: String(message.mediaUrls.length),
      num_segments: String(message.numSegments),
      price: null,
      price_unit: 'USD',
      sid: message.sid,
      status: message.status,
      subresource_uris: { media: uri.replace('.json', '/Media.json') },
      to: message.to,
      uri,
    };
  }

  private validateDestination(to: string | undefined, missingCode: number, missingMessage: string): string {
    if (!to) throw new TwilioApiError(400, missingCode, missingMessage);
    if (!isE164(to) || !isValidPhoneNumber(to) || this.invalidNumbers.has(to)) {
      throw new TwilioApiError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    }
    return to;
  }

  private handleCreateMessage(body: FormBody): SandboxSms {
    const to = this.validateDestination(single(body, 'To'), 21604, "A 'To' phone number is required.");
    const from = single(body, 'From') || null;
    const messagingServiceSid = single(body, 'MessagingServiceSid') || null;
    if (!from && !messagingServiceSid) throw new TwilioApiError(400, 21603, "A 'From' phone number is required.");
    if (messagingServiceSid && !/^MG[0-9a-f]{32}$/.test(messagingServiceSid)) {
      throw new TwilioApiError(400, 21701, `The Messaging Service Sid ${messagingServiceSid} is invalid.`);
    }
    const text = single(body, 'Body') ?? '';
    const mediaUrls = many(body, 'MediaUrl');
    if (text === '' && mediaUrls.length === 0) throw new TwilioApiError(400, 21602, 'Message body is required.');
    if (text.length > 1600)
      throw new TwilioApiError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    for (const mediaUrl of mediaUrls) assertCallbackUrl(mediaUrl, 'MediaUrl', 21620);
    const statusCallback =
      assertCallbackUrl(single(body, 'StatusCallback'), 'StatusCallback', 21609) ?? this.defaultStatusCallbackUrl;
    if (this.optedOut.has(to)) throw new TwilioApiError(400, 21610, ERROR_MESSAGES[21610]!);
    const message = this.createMessage({
      direction: 'outbound-api',
      to,
      from,
      messagingServiceSid,
      body: text,
      mediaUrls,
      statusCallback,
    });
    this.runtime.dispatcher.track(this.runMessageLifecycle(message));
    return message;
  }

  // ---- calls ----

  private handleCreateCall(body: FormBody, apiBase: string): SandboxCall {
    const to = this.validateDestination(single(body, 'To'), 21201, "No 'To' number is specified");
    const from = single(body, 'From');
    if (!from) throw new TwilioApiError(400, 21213, "No 'From' number is specified");
    const twiml = single(body, 'Twiml') || null;
    const url = assertCallbackUrl(single(body, 'Url'), 'Url', 21205);
    if (!twiml && !url) throw new TwilioApiError(400, 21205, "A 'Url' or 'Twiml' parameter is required.");
    const statusCallback = assertCallbackUrl(single(body, 'StatusCallback'), 'StatusCallback', 21609);
    const machineDetection = single(body, 'MachineDetection') || null;
    if (machineDetection && machineDetection !== 'Enable' && machineDetection !== 'DetectMessageEnd') {
      throw new TwilioApiError(400, 21626, `Invalid MachineDetection value: ${machineDetection}`);
    }
    let method: 'POST' | 'GET';
    let statusCallbackMethod: 'POST' | 'GET';
    try {
      method = parseHttpMethod(single(body, 'Method'), 'Method');
      statusCallbackMethod = parseHttpMethod(single(body, 'StatusCallbackMethod'), 'StatusCallbackMethod');
    } catch (err) {
      throw new TwilioApiError(400, 21207, (err as Error).message);
    }
    const events = many(body, 'StatusCallbackEvent')
      .flatMap((e) => e.split(/\s+/))
      .filter(Boolean)
      .map((e) => e.toLowerCase());
    const now = new Date();
    const call: SandboxCall = {
      sid: prefixedHexId('CA', 32),
      accountSid: this.runtime.accountSid,
      from,
      to,
      url,
      method,
      twiml,
      statusCallback,
      statusCallbackMethod,
      // Twilio's default when only a StatusCallback is given: just the completed event.
      statusCallbackEvents: events.length > 0 ? events : ['completed'],
      machineDetection,
      asyncAmd: single(body, 'AsyncAmd') === 'true',
      asyncAmdStatusCallback: assertCallbackUrl(
        single(body, 'AsyncAmdStatusCallback'),
        'AsyncAmdStatusCallback',
        21609,
      ),
      status: 'queued',
      answeredBy: null,
      duration: null,
      startTime: null,
      endTime: null,
      dateCreated: now,
      dateUpdated: now,
      errorCode: null,
      documents: [],
      performed: [],
      history: [{ status: 'queued', at: now.toISOString() }],
    };
    try {
      this.recordings.requestFromCallParams(
        call,
        {
          record: single(body, 'Record'),
          statusCallback: assertCallbackUrl(single(body, 'RecordingStatusCallback'), 'RecordingStatusCallback', 21609),
          method: single(body, 'RecordingStatusCallbackMethod'),
          events: many(body, 'RecordingStatusCallbackEvent')
            .flatMap((e) => e.split(/[\s,]+/))
            .filter(Boolean)
            .map((e) => e.toLowerCase()),
          channels: single(body, 'RecordingChannels'),
        },
        apiBase,
      );
    } catch (err) {
      if (err instanceof TwilioApiError) throw err;
      throw new TwilioApiError(400, 21207, (err as Error).message);
    }
    this.calls.set(call.sid, call);
    const script = this.callScripts.get(to) ?? { answer: 'human' };
    this.runtime.dispatcher.track(simulateCall(this.runtime, call, script, this.recordings));
    return call;
  }

  private callResource(call: SandboxCall): Record<string, unknown> {
    const uri = `/2010-04-01/Accounts/${call.accountSid}/Calls/${call.sid}.json`;
    const sub = (name: string) => uri.replace('.json', `/${name}.json`);
    return {
      account_sid: call.accountSid,
      annotation: null,
      answered_by: call.answeredBy,
      api_version: TWILIO_API_VERSION,
      caller_name: null,
      date_created: rfc2822(call.dateCreated),
      date_updated: rfc2822(call.dateUpdated),
      direction: 'outbound-api',
      duration: call.duration === null ? null : String(call.duration),
      end_time: call.endTime ? rfc2822(call.endTime) : null,
      forwarded_from: null,
      from: call.from,
      from_formatted: call.from,
      group_sid: null,
      parent_call_sid: null,
      phone_number_sid: null,
      price: null,
      price_unit: 'USD',
      queue_time: '0',
      sid: call.sid,
      start_time: call.startTime ? rfc2822(call.startTime) : null,
      status: call.status,
      subresource_uris: {
        notifications: sub('Notifications'),
        recordings: sub('Recordings'),
        payments: sub('Payments'),
        events: sub('Events'),
        siprec: sub('Siprec'),
        streams: sub('Streams'),
        transcriptions: sub('Transcriptions'),
        user_defined_message_subscriptions: sub('UserDefinedMessageSubscriptions'),
        user_defined_messages: sub('UserDefinedMessages'),
      },
      to: call.to,
      to_formatted: call.to,
      trunk_sid: null,
      uri,
    };
  }

  // ---- HTTP ----

  private authenticate(req: Request): void {
    const header = req.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    if (!match) throw new TwilioApiError(401, 20003, 'Authentication Error - No credentials provided');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const username = decoded.slice(0, separator);
    const password = decoded.slice(separator + 1);
    if (separator < 0 || username !== this.runtime.accountSid || password !== this.runtime.authToken) {
      throw new TwilioApiError(401, 20003, 'Authentication Error - invalid username');
    }
    if (req.params.AccountSid !== this.runtime.accountSid) {
      throw new TwilioApiError(404, 20404, `The requested resource ${req.path} was not found`);
    }
  }

  private injectFault(): void {
    if (this.faults.remaining <= 0) return;
    this.faults.remaining -= 1;
    if (this.faults.status === 429) throw new TwilioApiError(429, 20429, 'Too Many Requests');
    throw new TwilioApiError(500, 20500, 'An internal server error has occurred');
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    const api = express.Router({ mergeParams: true });
    api.use(express.urlencoded({ extended: false, limit: '1mb' }));
    api.use((req, _res, next) => {
      this.authenticate(req);
      this.injectFault();
      next();
    });
    api.post('/Messages.json', (req, res) => {
      res.status(201).json(this.messageResource(this.handleCreateMessage((req.body ?? {}) as FormBody)));
    });
    // Read multiple Message resources: To, From, DateSent (=, <, >) filters; newest first.
    api.get('/Messages.json', (req, res) => {
      const to = stringParam(req.query, 'To');
      const from = stringParam(req.query, 'From');
      const sent = dateFilter<SandboxSms>(req.query, 'DateSent', (m) => m.dateSent);
      const found = [...this.messages.values()]
        .filter((m) => (!to || m.to === to) && (!from || m.from === from) && sent(m))
        .sort((a, b) => (b.dateSent ?? b.dateCreated).getTime() - (a.dateSent ?? a.dateCreated).getTime());
      res.json(
        listPage(
          req,
          'messages',
          found.map((m) => this.messageResource(m)),
        ),
      );
    });
    api.get('/Messages/:Sid.json', (req, res) => {
      const message = this.messages.get(String(req.params.Sid));
      if (!message || message.direction === 'inbound')
        throw new TwilioApiError(404, 20404, `The requested resource ${req.originalUrl} was not found`);
      res.json(this.messageResource(message));
    });
    api.post('/Calls.json', (req, res) => {
      // RecordingUrls name the host the call was created through, as Twilio's name api.twilio.com.
      res
        .status(201)
        .json(
          this.callResource(
            this.handleCreateCall((req.body ?? {}) as FormBody, `${req.protocol}://${req.get('host')}`),
          ),
        );
    });
    // Read multiple Call resources: To, From, Status, ParentCallSid, StartTime / EndTime (=, <, >) filters; newest first.
    api.get('/Calls.json', (req, res) => {
      const to = stringParam(req.query, 'To');
      const from = stringParam(req.query, 'From');
      const status = stringParam(req.query, 'Status');
      const parent = stringParam(req.query, 'ParentCallSid');
      const started = dateFilter<SandboxCall>(req.query, 'StartTime', (c) => c.startTime);
      const ended = dateFilter<SandboxCall>(req.query, 'EndTime', (c) => c.endTime);
      const found = [...this.calls.values()]
        .filter(
          (c) =>
            (!to || c.to === to) &&
            (!from || c.from === from) &&
            (!status || c.status === status) &&
            !parent &&
            started(c) &&
            ended(c),
        )
        .sort((a, b) => b.dateCreated.getTime() - a.dateCreated.getTime());
      res.json(
        listPage(
          req,
          'calls',
          found.map((c) => this.callResource(c)),
        ),
      );
    });
    api.get('/Calls/:Sid.json', (req, res) => {
      const call = this.calls.get(String(req.params.Sid));
      if (!call) throw new TwilioApiError(404, 20404, `The requested resource ${req.originalUrl} was not found`);
      res.json(this.callResource(call));
    });
    api.use(this.recordings.router());
    app.use('/2010-04-01/Accounts/:AccountSid', api);

    app.use('/sandbox', express.json({ limit: '1mb' }));
    app.get('/sandbox/messages', (req, res) => {
      res.json(this.listMessages({ to: typeof req.query.to === 'string' ? req.query.to : undefined }));
    });
    app.get('/sandbox/messages/:sid', (req, res) => {
      const message = this.messages.get(req.params.sid);
      if (!message) res.status(404).json({ error: `no message ${req.params.sid}` });
      else res.json(message);
    });
    app.get('/sandbox/calls', (req, res) => {
      res.json(this.listCalls({ to: typeof req.query.to === 'string' ? req.query.to : undefined }));
    });
    app.get('/sandbox/calls/:sid', (req, res) => {
      const call = this.calls.get(req.params.sid);
      if (!call) res.status(404).json({ error: `no call ${req.params.sid}` });
      else res.json(call);
    });
    app.post('/sandbox/inbound-sms', async (req, res) => {
      const input = (req.body ?? {}) as InboundSmsInput;
      try {
        res.json(await this.simulateInboundSms(input));
      } catch (err) {
        res.status(400).json({ error: (err as Error).message });
      }
    });

    app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
      if (err instanceof TwilioApiError) {
        res.status(err.status).json(err.toBody());
        return;
      }
      const status = (err as { status?: number }).status ?? 500;
      const body = new TwilioApiError(
        status,
        status === 400 ? 20001 : 20500,
        status === 400 ? 'Bad request' : 'An internal server error has occurred',
      );
      res.status(status).json(body.toBody());
    });
    return app;
  }
}

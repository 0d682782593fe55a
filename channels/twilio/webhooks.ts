// Twilio webhooks: inbound SMS/MMS, message status callbacks, and the call
// status / answering-machine / recording callbacks of reminder calls. Each is
// verified by X-Twilio-Signature (HMAC-SHA1 of the URL and sorted POST params,
// keyed with the auth token) with the SDK's validator, then parsed into the
// gateway's own types. The paths are the ones configured at Twilio.
import twilio from 'twilio';
import {
  WebhookRefusal,
  type GatewayStatus,
  type ProviderEvent,
  type StatusReport,
  type StoredWebhook,
  type WebhookRequest,
  type WebhookRoute,
} from '../types.js';
import type { TwilioSettings } from './config.js';

type Params = Record<string, string>;

export const PATHS = {
  sms: '/webhooks/twilio/sms',
  status: '/webhooks/twilio/status',
  voiceStatus: '/webhooks/twilio/voice/status',
  voiceAmd: '/webhooks/twilio/voice/amd',
  voiceRecording: '/webhooks/twilio/voice/recording',
  voiceAnswer: '/webhooks/twilio/voice/answer/:messageId',
  voiceGather: '/webhooks/twilio/voice/gather/:messageId',
} as const;

export function verifyTwilio(req: WebhookRequest, s: TwilioSettings): void {
  const raw = req.headers['x-twilio-signature'];
  const signature = Array.isArray(raw) ? raw[0] : raw;
  // A GET's signature covers the full URL and no body params.
  const params = req.method === 'POST' ? req.params : {};
  if (!signature || !twilio.validateRequest(s.authToken, signature, req.url, params))
    throw new WebhookRefusal(403, 'invalid or missing X-Twilio-Signature');
}

/** The params Twilio sent, as stored (form body for POST, query for GET). */
export function storedParams(stored: Pick<StoredWebhook, 'body'>): Params {
  return Object.fromEntries(new URLSearchParams(stored.body.toString('utf8')));
}

function requireParams(params: Params, ...names: string[]): void {
  const missing = names.filter((n) => !params[n]);
  if (missing.length)
    throw new WebhookRefusal(
      400,
      `missing Twilio parameter(s): ${missing.join(', ')}`,
      missing.map((field) => ({ field, reason: 'is required' })),
    );
}

function keyed(kind: string, required: string[], key: (p: Params) => string | undefined) {
  return (req: WebhookRequest) => {
    requireParams(req.params, ...required);
    const k = key(req.params);
    if (!k)
      throw new WebhookRefusal(400, 'missing Twilio parameter MessageSid', [
        { field: 'MessageSid', reason: 'is required' },
      ]);
    return `twilio:${kind}:${k}`;
  };
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

// ── messages ──

function inboundSms(p: Params): ProviderEvent[] {
  const sid = p.MessageSid ?? p.SmsSid;
  if (!sid) return [{ type: 'ignored', reason: 'no MessageSid' }];
  const numMedia = Math.min(Number(p.NumMedia ?? 0) || 0, 10);
  const media = Array.from({ length: numMedia }, (_, i) => ({
    url: p[`MediaUrl${i}`] ?? null,
    contentType: p[`MediaContentType${i}`],
  }));
  return [
    {
      type: 'message',
      message: {
        channel: 'SMS',
        providerMessageId: sid,
        from: p.From ?? '',
        to: p.To ?? null,
        body: p.Body ?? '',
        media,
      },
    },
  ];
}

const SMS_STATUS: Record<string, GatewayStatus | null> = {
  accepted: 'QUEUED',
  scheduled: 'QUEUED',
  queued: 'QUEUED',
  sending: 'SENDING',
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'DELIVERED',
  undelivered: 'UNDELIVERED',
  failed: 'FAILED',
  canceled: 'CANCELLED',
  partially_delivered: 'DELIVERED',
  receiving: null,
  received: null,
};

/** What a message status callback says, as an update of the message it names (the same on arrival and when processed). */
export function smsStatusReport(p: Params): StatusReport | { ignored: string } {
  const sid = p.MessageSid ?? p.SmsSid;
  const providerStatus = (p.MessageStatus ?? p.SmsStatus ?? '').toLowerCase();
  if (!sid) return { ignored: 'no MessageSid' };
  if (!(providerStatus in SMS_STATUS)) return { ignored: `unknown MessageStatus ${providerStatus}` };
  const errorCode = p.ErrorCode || null;
  const report: StatusReport = {
    ref: { providerMessageId: sid },
    status: SMS_STATUS[providerStatus] ?? null,
    providerStatus,
    providerEventId: `twilio:status:${sid}:${providerStatus}`,
    errorCode,
    errorMessage: p.ErrorMessage ?? null,
    detail: { to: p.To, from: p.From, ...(errorCode ? { errorCode } : {}) },
  };
  if (errorCode) report.cause = { errorCode };
  if (errorCode === '21610') {
    // The carrier says this number replied STOP (possibly to another sender of ours): honour it here too.
    report.consequence = {
      kind: 'opted-out',
      channel: 'SMS',
      source: 'provider:21610',
      flagReason: 'carrier reports the number opted out (21610)',
    };
  } else if (errorCode === '21211' || errorCode === '21614') {
    report.consequence = { kind: 'invalid', reason: `twilio:${errorCode}` };
  }
  return report;
}

// ── calls ──

const CALL_STATUS: Record<string, GatewayStatus> = {
  queued: 'QUEUED',
  initiated: 'QUEUED',
  ringing: 'RINGING',
  'in-progress': 'IN_PROGRESS',
  answered: 'IN_PROGRESS',
  completed: 'COMPLETED',
  busy: 'BUSY',
  'no-answer': 'NO_ANSWER',
  failed: 'FAILED',
  canceled: 'CANCELLED',
};
const FINAL_CALL = new Set<GatewayStatus>(['COMPLETED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELLED']);

function callStatus(p: Params): ProviderEvent[] {
  const status = (p.CallStatus ?? '').toLowerCase();
  if (!(status in CALL_STATUS)) return [{ type: 'ignored', reason: `unknown CallStatus ${status}` }];
  const duration = p.CallDuration ?? p.Duration;
  return [
    {
      type: 'status',
      status: {
        ref: { providerMessageId: p.CallSid! },
        status: CALL_STATUS[status]!,
        providerStatus: status,
        providerEventId: `twilio:call:${p.CallSid}:${status}`,
        errorCode: p.ErrorCode || null,
        detail: { sequence: p.SequenceNumber, ...(p.AnsweredBy ? { answeredBy: p.AnsweredBy } : {}) },
        callOutcome: {
          ...(duration ? { durationSec: Number(duration) } : {}),
          ...(p.AnsweredBy ? { answeredBy: p.AnsweredBy } : {}),
          ...(FINAL_CALL.has(CALL_STATUS[status]!) ? { finalStatus: status } : {}),
        },
      },
    },
  ];
}

function amd(p: Params): ProviderEvent[] {
  return [
    {
      type: 'status',
      status: {
        ref: { providerMessageId: p.CallSid! },
        status: null,
        providerStatus: `amd:${p.AnsweredBy}`,
        providerEventId: `twilio:amd:${p.CallSid}:${p.AnsweredBy}`,
        detail: {
          answeredBy: p.AnsweredBy,
          machineDetectionDurationMs: p.MachineDetectionDuration ? Number(p.MachineDetectionDuration) : undefined,
        },
        callOutcome: { answeredBy: p.AnsweredBy },
      },
    },
  ];
}

/** Twilio serves a recording as WAV by default; `.mp3` asks for the (ten times smaller) MP3. */
function recordingMp3Url(recordingUrl: string): string {
  return /\.(mp3|wav)$/i.test(new URL(recordingUrl).pathname) ? recordingUrl : `${recordingUrl}.mp3`;
}

/** A completed recording's audio is fetched (basic auth, mediaHeaders) and kept with the call's message. */
function recording(p: Params): ProviderEvent[] {
  const status = (p.RecordingStatus ?? 'completed').toLowerCase();
  const recording = {
    sid: p.RecordingSid,
    url: p.RecordingUrl,
    status,
    durationSec: p.RecordingDuration ? Number(p.RecordingDuration) : undefined,
    ...(p.RecordingSource ? { source: p.RecordingSource } : {}),
  };
  const report: StatusReport = {
    ref: { providerMessageId: p.CallSid! },
    status: null,
    providerStatus: `recording:${status}`,
    providerEventId: `twilio:recording:${p.RecordingSid}:${status}`,
    detail: recording,
    callOutcome: { recording },
  };
  if (status === 'completed' && p.RecordingUrl) {
    report.attach = {
      url: recordingMp3Url(p.RecordingUrl),
      contentType: 'audio/mpeg',
      filename: `call-recording-${p.RecordingSid}.mp3`,
      event: 'call.recording',
      eventData: { recordingSid: p.RecordingSid, durationSec: recording.durationSec },
    };
  }
  return [{ type: 'status', status: report }];
}

const route = (r: Omit<WebhookRoute<TwilioSettings>, 'methods' | 'body' | 'verify'>): WebhookRoute<TwilioSettings> => ({
  methods: ['POST', 'GET'],
  body: 'parsed',
  verify: verifyTwilio,
  ...r,
});

export const twilioWebhooks: WebhookRoute<TwilioSettings>[] = [
  route({
    kind: 'sms',
    paths: [PATHS.sms],
    accept: keyed('sms', ['From'], (p) => p.MessageSid ?? p.SmsSid),
    // Twilio expects TwiML from a messaging webhook; an empty Response sends no reply.
    respond: { status: 200, contentType: 'text/xml', body: EMPTY_TWIML },
    parse: (s) => inboundSms(storedParams(s)),
  }),
  route({
    kind: 'status',
    paths: [PATHS.status],
    accept: keyed('status', [], (p) =>
      (p.MessageSid ?? p.SmsSid) ? `${p.MessageSid ?? p.SmsSid}:${p.MessageStatus ?? p.SmsStatus}` : undefined,
    ),
    onArrival: (req) => {
      // Only an error code has consequences (opt-out, invalid number): those go through the queue and a transaction.
      const u = smsStatusReport(req.params);
      return 'ignored' in u || u.errorCode ? null : (u as StatusReport & { ref: { providerMessageId: string } });
    },
    parse: (s) => {
      const u = smsStatusReport(storedParams(s));
      return 'ignored' in u ? [{ type: 'ignored', reason: u.ignored }] : [{ type: 'status', status: u }];
    },
  }),
  route({
    kind: 'voice-status',
    paths: [PATHS.voiceStatus],
    accept: keyed('voice-status', ['CallSid', 'CallStatus'], (p) => `${p.CallSid}:${p.CallStatus}`),
    parse: (s) => callStatus(storedParams(s)),
  }),
  route({
    kind: 'voice-amd',
    paths: [PATHS.voiceAmd],
    accept: keyed('voice-amd', ['CallSid', 'AnsweredBy'], (p) => `${p.CallSid}:${p.AnsweredBy}`),
    parse: (s) => amd(storedParams(s)),
  }),
  route({
    kind: 'voice-recording',
    paths: [PATHS.voiceRecording],
    accept: keyed(
      'voice-recording',
      ['CallSid', 'RecordingSid'],
      (p) => `${p.RecordingSid}:${p.RecordingStatus ?? 'completed'}`,
    ),
    parse: (s) => recording(storedParams(s)),
  }),
];

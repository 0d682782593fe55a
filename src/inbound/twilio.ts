// Twilio webhooks: inbound SMS/MMS, message status callbacks, and the call
// status / answering-machine / recording callbacks of reminder calls. The
// voice TwiML endpoints (answer, gather) belong to the outbound side and
// reuse verifyTwilio().
import type { Express, Request, Response } from 'express';
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import type { MessageStatus } from '../generated/prisma/enums.js';
import { badRequest } from '../http/errors.js';
import { fetchTwilioMedia, safeFilename, TransientFetchError, type SkippedAttachment, type StoredAttachment } from './attachments.js';
import { smsKeyword } from './classifier.js';
import { changeConsent, sameAddressContactPoints } from '../messaging/consent.js';
import { headersForStorage, registerProcessor } from './events-store.js';
import { intake, intakeStatus } from './intake.js';
import { matchPhone, normalizePhone } from './matching.js';
import { findExistingInbound, recordInboundMessage } from './messages.js';
import { applyStatus, MessageNotFound, type PlainStatusUpdate } from '../messaging/status.js';
import { addFlags } from '../messaging/thread-writer.js';
import { verifyTwilio } from './verify.js';
import { appendEvent } from '../conversations/thread.js';
import { audit } from '../audit.js';

type Params = Record<string, string>;

/** The params Twilio sent, as stored (form body for POST, query for GET). */
export function storedParams(event: Pick<InboundEvent, 'body'>): Params {
  return Object.fromEntries(new URLSearchParams(Buffer.from(event.body).toString('utf8')));
}

function requestParams(req: Request): { params: Params; raw: Buffer } {
  if (req.method === 'GET') {
    const q = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '';
    return { params: Object.fromEntries(new URLSearchParams(q)), raw: Buffer.from(q) };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  const params = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? String(v[0]) : String(v)]));
  return { params, raw: req.rawBody ?? Buffer.from(new URLSearchParams(params).toString()) };
}

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

function requireParams(params: Params, ...names: string[]): void {
  const missing = names.filter((n) => !params[n]);
  if (missing.length) throw badRequest(`missing Twilio parameter(s): ${missing.join(', ')}`, missing.map((field) => ({ field, reason: 'is required' })));
}

interface WebhookOptions {
  /** Params without which the request is refused (400). */
  required?: string[];
  /** Answer with empty TwiML (Twilio expects it from a messaging webhook) rather than 204. */
  twiml?: boolean;
  /** The update of a callback that can be applied as it is stored (intakeStatus), or null to queue it as usual. */
  onArrival?: (p: Params) => PlainStatusUpdate | null;
}

function webhook(ctx: AppContext, kind: string, dedupe: (p: Params) => string | undefined, { required = [], twiml = false, onArrival }: WebhookOptions = {}) {
  return async (req: Request, res: Response) => {
    const { params, raw } = requestParams(req);
    requireParams(params, ...required);
    const key = dedupe(params);
    if (!key) throw badRequest('missing Twilio parameter MessageSid', [{ field: 'MessageSid', reason: 'is required' }]);
    const stored = { provider: 'twilio' as const, kind, dedupeKey: `twilio:${kind}:${key}`, headers: headersForStorage(req.headers), body: raw };
    const update = onArrival?.(params);
    if (update) await intakeStatus(ctx, stored, update);
    else await intake(ctx, stored);
    if (twiml) res.type('text/xml').send(EMPTY_TWIML);
    else res.status(204).end();
  };
}

export function twilioRoutes(app: Express, ctx: AppContext): void {
  const verify = verifyTwilio(ctx);
  const route = (path: string, handler: ReturnType<typeof webhook>) => {
    app.post(path, verify, handler);
    app.get(path, verify, handler);
  };
  route('/webhooks/twilio/sms', webhook(ctx, 'sms', (p) => p.MessageSid ?? p.SmsSid, { required: ['From'], twiml: true }));
  route('/webhooks/twilio/status', webhook(ctx, 'status', (p) => ((p.MessageSid ?? p.SmsSid) ? `${p.MessageSid ?? p.SmsSid}:${p.MessageStatus ?? p.SmsStatus}` : undefined), {
    onArrival: (p) => {
      // Only an error code has consequences (opt-out, invalid number): those go through the queue and a transaction.
      const u = smsStatusUpdate(p);
      return 'ignored' in u || u.errorCode ? null : u;
    },
  }));
  route('/webhooks/twilio/voice/status', webhook(ctx, 'voice-status', (p) => `${p.CallSid}:${p.CallStatus}`, { required: ['CallSid', 'CallStatus'] }));
  route('/webhooks/twilio/voice/amd', webhook(ctx, 'voice-amd', (p) => `${p.CallSid}:${p.AnsweredBy}`, { required: ['CallSid', 'AnsweredBy'] }));
  route('/webhooks/twilio/voice/recording', webhook(ctx, 'voice-recording', (p) => `${p.RecordingSid}:${p.RecordingStatus ?? 'completed'}`, { required: ['CallSid', 'RecordingSid'] }));
}

// ── processing ───────────────────────────────────────────────────────────

/** Media fetches that fail transiently are retried this many times before the message lands without them. */
const MEDIA_FETCH_ATTEMPTS = 3;

async function processSms(ctx: AppContext, event: InboundEvent) {
  const p = storedParams(event);
  const sid = p.MessageSid ?? p.SmsSid;
  if (!sid) return { ignored: 'no MessageSid' };
  const numMedia = Math.min(Number(p.NumMedia ?? 0) || 0, 10);
  // Landing it twice is refused by the unique MessageSid anyway; the look-ahead only spares
  // re-downloading media, or a repeat after an attempt whose message landed but whose mark did not.
  if ((numMedia > 0 || event.attempts > 1) && (await findExistingInbound(ctx, { providerMessageId: sid }))) return;
  const from = normalizePhone(p.From ?? '') ?? p.From ?? '';
  const to = p.To ? (normalizePhone(p.To) ?? p.To) : null;

  const attachments: StoredAttachment[] = [];
  const skipped: SkippedAttachment[] = [];
  for (let i = 0; i < numMedia; i++) {
    const url = p[`MediaUrl${i}`];
    const declared = p[`MediaContentType${i}`];
    const filename = safeFilename(undefined, `media-${i}${extensionFor(declared)}`);
    if (!url) {
      skipped.push({ filename, contentType: declared ?? 'unknown', reason: 'no media URL' });
      continue;
    }
    try {
      const r = await fetchTwilioMedia(ctx, url, declared, filename);
      if ('stored' in r) attachments.push(r.stored);
      else skipped.push(r.skipped);
    } catch (err) {
      if (err instanceof TransientFetchError && event.attempts < MEDIA_FETCH_ATTEMPTS) throw err;
      skipped.push({ filename, contentType: declared ?? 'unknown', reason: (err as Error).message });
    }
  }

  const { match, numberContactPointIds } = await matchPhone(ctx.db, from);
  const body = p.Body ?? '';
  const { created } = await recordInboundMessage(ctx, {
    channel: 'SMS',
    provider: 'twilio',
    providerMessageId: sid,
    from,
    to,
    body,
    match,
    numberContactPointIds,
    keyword: smsKeyword(body),
    attachments,
    skippedAttachments: skipped,
    inboundEventId: event.id,
  });
  // A new message was written together with this event's processed mark.
  return created ? { markedProcessed: true } : undefined;
}

function extensionFor(contentType: string | undefined): string {
  const map: Record<string, string> = { 'image/jpeg': '.jpg', 'image/png': '.png', 'image/gif': '.gif', 'application/pdf': '.pdf', 'text/vcard': '.vcf', 'video/mp4': '.mp4', 'audio/mpeg': '.mp3' };
  return (contentType && map[contentType.toLowerCase()]) ?? '';
}

const SMS_STATUS: Record<string, MessageStatus | null> = {
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
function smsStatusUpdate(p: Params): PlainStatusUpdate | { ignored: string } {
  const sid = p.MessageSid ?? p.SmsSid;
  const providerStatus = (p.MessageStatus ?? p.SmsStatus ?? '').toLowerCase();
  if (!sid) return { ignored: 'no MessageSid' };
  if (!(providerStatus in SMS_STATUS)) return { ignored: `unknown MessageStatus ${providerStatus}` };
  const errorCode = p.ErrorCode || null;
  return {
    ref: { providerMessageId: sid },
    status: SMS_STATUS[providerStatus] ?? null,
    providerStatus,
    providerEventId: `twilio:status:${sid}:${providerStatus}`,
    errorCode,
    errorMessage: p.ErrorMessage ?? null,
    detail: { to: p.To, from: p.From, ...(errorCode ? { errorCode } : {}) },
  };
}

async function processSmsStatus(ctx: AppContext, event: InboundEvent) {
  const u = smsStatusUpdate(storedParams(event));
  if ('ignored' in u) return u;
  const { errorCode } = u;
  const { inboundEventMarked } = await applyStatus(ctx, {
    ...u,
    inboundEventId: event.id,
    // Only an error code has consequences; without one the update takes the one-statement path.
    effects: errorCode ? async (tx, message, out) => {
      if (!message.contactPointId) return;
      const cause = { messageId: message.id, errorCode };
      if (errorCode === '21610') {
        // The carrier says this number replied STOP (possibly to another sender of ours): honour it here too.
        await changeConsent(tx, { ctx, contactPointIds: await sameAddressContactPoints(tx, message.contactPointId), channel: 'SMS', state: 'REVOKED', source: 'provider:21610', conversationId: message.conversationId, cause }, out);
        await addFlags(tx, message.conversationId, ['OPT_OUT'], { reason: 'carrier reports the number opted out (21610)', ...cause }, out);
      } else if (errorCode === '21211' || errorCode === '21614') {
        await tx.contactPoint.update({ where: { id: message.contactPointId }, data: { valid: false, invalidReason: `twilio:${errorCode}`, invalidAt: new Date() } });
        await audit(tx, { type: 'provider', id: 'twilio' }, { action: 'contact_point.invalidate', entityType: 'contact_point', entityId: message.contactPointId, data: cause });
        out.events.push(await appendEvent(tx, message.conversationId, 'contact_point.invalid', { contactPointId: message.contactPointId, reason: `twilio:${errorCode}`, ...cause }));
      }
    } : undefined,
  });
  return inboundEventMarked ? { markedProcessed: true } : undefined;
}

const CALL_STATUS: Record<string, MessageStatus> = {
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

async function processCallStatus(ctx: AppContext, event: InboundEvent) {
  const p = storedParams(event);
  const status = (p.CallStatus ?? '').toLowerCase();
  if (!(status in CALL_STATUS)) return { ignored: `unknown CallStatus ${status}` };
  const duration = p.CallDuration ?? p.Duration;
  await applyStatus(ctx, {
    ref: { providerMessageId: p.CallSid! },
    status: CALL_STATUS[status]!,
    providerStatus: status,
    providerEventId: `twilio:call:${p.CallSid}:${status}`,
    errorCode: p.ErrorCode || null,
    detail: { sequence: p.SequenceNumber, ...(p.AnsweredBy ? { answeredBy: p.AnsweredBy } : {}) },
    callOutcome: {
      ...(duration ? { durationSec: Number(duration) } : {}),
      ...(p.AnsweredBy ? { answeredBy: p.AnsweredBy } : {}),
      ...(CALL_STATUS[status] && ['COMPLETED', 'BUSY', 'NO_ANSWER', 'FAILED', 'CANCELLED'].includes(CALL_STATUS[status]!) ? { finalStatus: status } : {}),
    },
  });
}

async function processAmd(ctx: AppContext, event: InboundEvent) {
  const p = storedParams(event);
  await applyStatus(ctx, {
    ref: { providerMessageId: p.CallSid! },
    status: null,
    providerStatus: `amd:${p.AnsweredBy}`,
    providerEventId: `twilio:amd:${p.CallSid}:${p.AnsweredBy}`,
    detail: { answeredBy: p.AnsweredBy, machineDetectionDurationMs: p.MachineDetectionDuration ? Number(p.MachineDetectionDuration) : undefined },
    callOutcome: { answeredBy: p.AnsweredBy },
  });
}

/** Twilio serves a recording as WAV by default; `.mp3` asks for the (ten times smaller) MP3. */
function recordingMp3Url(recordingUrl: string): string {
  return /\.(mp3|wav)$/i.test(new URL(recordingUrl).pathname) ? recordingUrl : `${recordingUrl}.mp3`;
}

/**
 * A recording status callback: a completed recording's audio is downloaded
 * (basic auth with the account's credentials) and kept as an attachment of
 * the call's message. Any download failure throws, so the raw event stays
 * FAILED and the retry job fetches it again; a file refused by the size or
 * type limits is recorded with the reason instead.
 */
async function processRecording(ctx: AppContext, event: InboundEvent) {
  const p = storedParams(event);
  const status = (p.RecordingStatus ?? 'completed').toLowerCase();
  const providerEventId = `twilio:recording:${p.RecordingSid}:${status}`;
  if (await ctx.db.messageStatusEvent.findUnique({ where: { providerEventId }, select: { id: true } })) return;
  // Before downloading: a callback that overtook the call's own record waits for it.
  if (!(await ctx.db.message.findFirst({ where: { providerMessageId: p.CallSid! }, select: { id: true } }))) throw new MessageNotFound(`call ${p.CallSid}`);

  let stored: StoredAttachment | null = null;
  let skipped: SkippedAttachment | null = null;
  if (status === 'completed' && p.RecordingUrl) {
    const r = await fetchTwilioMedia(ctx, recordingMp3Url(p.RecordingUrl), 'audio/mpeg', safeFilename(`call-recording-${p.RecordingSid}.mp3`, 'call-recording.mp3'), { onRefusal: 'throw' });
    if ('stored' in r) stored = r.stored;
    else skipped = r.skipped;
  }
  const recording = {
    sid: p.RecordingSid,
    url: p.RecordingUrl,
    status,
    durationSec: p.RecordingDuration ? Number(p.RecordingDuration) : undefined,
    ...(p.RecordingSource ? { source: p.RecordingSource } : {}),
    ...(skipped ? { notStored: skipped.reason } : {}),
  };
  await applyStatus(ctx, {
    ref: { providerMessageId: p.CallSid! },
    status: null,
    providerStatus: `recording:${status}`,
    providerEventId,
    detail: recording,
    callOutcome: { recording },
    effects: async (tx, message, out) => {
      if (!stored) return;
      // The same audio twice (a replayed event) is one attachment.
      const existing = await tx.attachment.findFirst({ where: { messageId: message.id, sha256: stored.sha256 } });
      const attachment = existing ?? (await tx.attachment.create({ data: { messageId: message.id, filename: stored.filename, contentType: stored.contentType, size: stored.size, sha256: stored.sha256, path: stored.path } }));
      out.events.push(
        await appendEvent(tx, message.conversationId, 'call.recording', {
          messageId: message.id,
          recordingSid: p.RecordingSid,
          durationSec: recording.durationSec,
          attachment: { id: attachment.id, filename: attachment.filename, contentType: attachment.contentType, size: attachment.size },
        }, { touch: false }),
      );
    },
  });
}

registerProcessor('twilio', 'sms', processSms);
registerProcessor('twilio', 'status', processSmsStatus);
registerProcessor('twilio', 'voice-status', processCallStatus);
registerProcessor('twilio', 'voice-amd', processAmd);
registerProcessor('twilio', 'voice-recording', processRecording);

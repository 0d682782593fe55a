// Twilio Programmable Messaging (SMS) and Voice (outbound calls) through the
// official SDK. `baseUrl` points the SDK at the local Twilio sandbox.
import twilio from 'twilio';
import {
  ProviderError,
  type ChannelAdapter,
  type ContactPointEffect,
  type SentCandidate,
  type SmsPayload,
  type VoicePayload,
} from '../types.js';

export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  from?: string;
  messagingServiceSid?: string;
  baseUrl?: string;
  timeoutMs?: number;
}

export interface TwilioSmsOptions extends TwilioOptions {
  /** Where Twilio posts the message's status callbacks. */
  statusCallbackUrl: string;
}

export interface TwilioVoiceOptions extends TwilioOptions {
  /** Status callbacks of the call. */
  statusCallbackUrl: string;
  /** The TwiML Twilio fetches when the call connects, for our message id. */
  answerUrl(messageId: string): string;
  /** Where the finished recording is posted (calls are recorded when the payload asks). */
  recordingStatusCallbackUrl: string;
}

// Twilio error codes that say something about the number itself.
const EFFECTS: Record<number, ContactPointEffect> = {
  21610: 'sms_opted_out', // "Attempt to send to unsubscribed recipient"
  21211: 'number_invalid', // "Invalid 'To' Phone Number"
  21614: 'number_invalid', // "'To' number is not a valid mobile number"
  21217: 'number_invalid', // "Phone number does not appear to be valid"
};

export function twilioClient(o: TwilioOptions) {
  const client = twilio(o.accountSid, o.authToken, { timeout: o.timeoutMs ?? 15_000, autoRetry: false });
  if (o.baseUrl) client.api.baseUrl = o.baseUrl;
  return client;
}

export function toProviderError(err: unknown): ProviderError {
  const e = err as { status?: number; code?: number | string; message?: string };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = e.code !== undefined ? String(e.code) : status ? `http_${status}` : 'network';
  // No HTTP status: timeout or connection failure — worth retrying.
  const transient = status === undefined || status >= 500 || status === 429;
  return new ProviderError(
    e.message ?? 'Twilio request failed',
    'twilio',
    code,
    transient,
    transient ? undefined : EFFECTS[Number(e.code)],
    status,
  );
}

/**
 * How many of a number's most recent records a lookup reads (newest first).
 * A debtor's number gets a handful of messages a week under the contact caps,
 * so the send in question, made minutes ago, is among them.
 */
const LOOKUP_LIMIT = 100;

const SMS_LOOKUP_STATUS: Record<string, SentCandidate['status']> = {
  accepted: 'QUEUED',
  scheduled: 'QUEUED',
  queued: 'QUEUED',
  sending: 'QUEUED',
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'DELIVERED',
  partially_delivered: 'DELIVERED',
  undelivered: 'UNDELIVERED',
  failed: 'FAILED',
  canceled: 'CANCELLED',
};
const CALL_LOOKUP_STATUS: Record<string, SentCandidate['status']> = {
  queued: 'QUEUED',
  initiated: 'QUEUED',
  ringing: 'RINGING',
  'in-progress': 'IN_PROGRESS',
  completed: 'COMPLETED',
  busy: 'BUSY',
  'no-answer': 'NO_ANSWER',
  failed: 'FAILED',
  canceled: 'CANCELLED',
};

export function twilioSms(o: TwilioSmsOptions): ChannelAdapter<SmsPayload> {
  const client = twilioClient(o);
  return {
    provider: 'twilio',
    channel: 'SMS',
    async send({ payload }) {
      try {
        const msg = await client.messages.create({
          to: payload.to,
          body: payload.text,
          ...(o.messagingServiceSid ? { messagingServiceSid: o.messagingServiceSid } : { from: o.from! }),
          ...(payload.mediaUrls?.length ? { mediaUrl: payload.mediaUrls } : {}),
          statusCallback: o.statusCallbackUrl,
        });
        return {
          provider: 'twilio',
          providerMessageId: msg.sid,
          status: 'QUEUED',
          detail: { numSegments: msg.numSegments },
        };
      } catch (err) {
        throw toProviderError(err);
      }
    },
    // GET …/Messages.json?To=: the messages sent to this number since the message was made, with this very body.
    async findSent({ payload, since }) {
      try {
        const list = await client.messages.list({ to: payload.to, limit: LOOKUP_LIMIT, pageSize: LOOKUP_LIMIT });
        return list
          .filter(
            (m) =>
              m.direction === 'outbound-api' && m.dateCreated.getTime() >= since.getTime() && m.body === payload.text,
          )
          .map((m) => ({
            providerMessageId: m.sid,
            status: SMS_LOOKUP_STATUS[m.status] ?? null,
            providerStatus: m.status,
            createdAt: m.dateCreated,
            exact: true,
          }));
      } catch (err) {
        throw toProviderError(err);
      }
    },
  };
}

export function twilioVoice(o: TwilioVoiceOptions): ChannelAdapter<VoicePayload> {
  const client = twilioClient(o);
  return {
    provider: 'twilio',
    channel: 'VOICE',
    async send({ messageId, payload }) {
      try {
        const call = await client.calls.create({
          to: payload.to,
          from: o.from!,
          url: o.answerUrl(messageId),
          method: 'POST',
          statusCallback: o.statusCallbackUrl,
          statusCallbackMethod: 'POST',
          statusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
          ...(payload.machineDetection ? { machineDetection: 'DetectMessageEnd' } : {}),
          ...(payload.record
            ? {
                record: true,
                recordingStatusCallback: o.recordingStatusCallbackUrl,
                recordingStatusCallbackMethod: 'POST',
                recordingStatusCallbackEvent: ['completed'],
              }
            : {}),
        });
        return { provider: 'twilio', providerMessageId: call.sid, status: 'QUEUED' };
      } catch (err) {
        throw toProviderError(err);
      }
    },
    // GET …/Calls.json?To=&From=: calls we placed to this number since the claim. A call has no
    // content to compare, so a match is never exact (an agent's <Dial> legs are outbound-dial, not ours).
    async findSent({ payload, since }) {
      try {
        const list = await client.calls.list({
          to: payload.to,
          ...(o.from ? { from: o.from } : {}),
          limit: LOOKUP_LIMIT,
          pageSize: LOOKUP_LIMIT,
        });
        return list
          .filter((c) => c.direction === 'outbound-api' && c.dateCreated.getTime() >= since.getTime())
          .map((c) => ({
            providerMessageId: c.sid,
            status: CALL_LOOKUP_STATUS[c.status] ?? null,
            providerStatus: c.status,
            createdAt: c.dateCreated,
            exact: false,
          }));
      } catch (err) {
        throw toProviderError(err);
      }
    },
  };
}

// Call recordings in the Twilio sandbox, as Twilio makes them:
// - a whole-call recording when the call is created with Record=true (its
//   RecordingStatusCallback* options say where the status goes), made when the
//   call completes;
// - a <Record> verb in the call's TwiML: the callee's message is recorded, the
//   verb's `action` is requested with RecordingUrl/RecordingDuration, and its
//   recordingStatusCallback gets the status.
// The audio is served at the RecordingUrl it reports
// (`/2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}`, `.mp3`,
// `.wav` or none = WAV, `.json` = the resource) behind the account's basic
// auth, like Twilio. The audio itself is synthetic silence of the recorded
// length: valid enough for a player, small enough for tests.
import express, { type Request, type Response, type Router } from 'express';
import { prefixedHexId } from '../../kit/ids.js';
import { sendTwilioWebhook, parseHttpMethod } from './webhook.js';
import { TWILIO_API_VERSION, TwilioApiError, rfc2822, type TwilioParams } from './wire.js';
import type { SandboxCall, TwilioRuntime } from './types.js';

export type RecordingSource = 'OutboundAPI' | 'RecordVerb';

export interface SandboxRecording {
  sid: string;
  accountSid: string;
  callSid: string;
  source: RecordingSource;
  status: 'completed';
  durationSec: number;
  channels: 1 | 2;
  startTime: Date;
  dateCreated: Date;
  /** Absolute URL without extension, as Twilio reports RecordingUrl. */
  url: string;
}

/** Where a recording's status callbacks go. */
export interface RecordingCallbackTarget {
  url: string | null;
  method: 'POST' | 'GET';
  /** in-progress, completed, absent; Twilio's default is completed only. */
  events: string[];
}

interface CallRecordingRequest extends RecordingCallbackTarget {
  channels: 1 | 2;
}

const MP3_FRAME_BYTES = 36; // MPEG-2 Layer III, 8 kbit/s, 16 kHz, mono: 72 * 8000 / 16000
const MP3_FRAMES_PER_SECOND = 16000 / 576;
const WAV_SAMPLE_RATE = 8000; // Twilio records calls at 8 kHz

/** `duration` seconds of MP3 silence: an ID3v2 header, then silent frames. */
export function silentMp3(durationSec: number): Buffer {
  const frames = Math.max(1, Math.round(durationSec * MP3_FRAMES_PER_SECOND));
  const id3 = Buffer.from([0x49, 0x44, 0x33, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const frame = Buffer.alloc(MP3_FRAME_BYTES);
  frame.set([0xff, 0xf3, 0x18, 0xc0]); // sync, MPEG-2 L3 no CRC; 8 kbit/s, 16 kHz; mono
  return Buffer.concat([id3, ...Array.from({ length: frames }, () => frame)]);
}

/** `duration` seconds of 8 kHz 16-bit mono PCM silence in a WAV container. */
export function silentWav(durationSec: number): Buffer {
  const dataBytes = Math.max(1, Math.round(durationSec * WAV_SAMPLE_RATE)) * 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(WAV_SAMPLE_RATE, 24);
  header.writeUInt32LE(WAV_SAMPLE_RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

export class TwilioRecordings {
  private readonly recordings = new Map<string, SandboxRecording>();
  /** Calls created with Record=true, by CallSid. */
  private readonly callRequests = new Map<string, CallRecordingRequest>();
  /** The REST base URL each call was created through (the host a RecordingUrl names). */
  private readonly apiBases = new Map<string, string>();

  constructor(private readonly runtime: TwilioRuntime) {}

  /** Notes the Record* parameters of a Calls.json request (throws on a bad method) and the REST base the call came through. */
  requestFromCallParams(
    call: SandboxCall,
    params: { record?: string; statusCallback?: string | null; method?: string; events: string[]; channels?: string },
    apiBase: string,
  ): void {
    this.apiBases.set(call.sid, apiBase.replace(/\/+$/, ''));
    if (params.record !== 'true') return;
    const channels = params.channels === 'dual' ? 2 : 1;
    this.callRequests.set(call.sid, {
      url: params.statusCallback ?? null,
      method: parseHttpMethod(params.method, 'RecordingStatusCallbackMethod'),
      events: params.events.length ? params.events : ['completed'],
      channels,
    });
  }

  isRecordingCall(callSid: string): boolean {
    return this.callRequests.has(callSid);
  }

  get(sid: string): SandboxRecording | undefined {
    return this.recordings.get(sid);
  }

  list(filter: { callSid?: string } = {}): SandboxRecording[] {
    return [...this.recordings.values()].filter((r) => !filter.callSid || r.callSid === filter.callSid);
  }

  clear(): void {
    this.recordings.clear();
    this.callRequests.clear();
    this.apiBases.clear();
  }

  /** Makes a recording of `durationSec` for the call. */
  create(call: SandboxCall, source: RecordingSource, durationSec: number, channels: 1 | 2 = 1): SandboxRecording {
    const sid = prefixedHexId('RE', 32);
    const base = this.apiBases.get(call.sid) ?? 'https://api.twilio.com';
    const now = new Date();
    const recording: SandboxRecording = {
      sid,
      accountSid: call.accountSid,
      callSid: call.sid,
      source,
      status: 'completed',
      durationSec: Math.max(1, Math.round(durationSec)),
      channels,
      startTime: new Date(now.getTime() - durationSec * 1000),
      dateCreated: now,
      url: `${base}/${TWILIO_API_VERSION}/Accounts/${call.accountSid}/Recordings/${sid}`,
    };
    this.recordings.set(sid, recording);
    return recording;
  }

  /** At hang-up: the whole-call recording, if the call asked for one and anybody talked. */
  async finishCall(call: SandboxCall): Promise<SandboxRecording | null> {
    const request = this.callRequests.get(call.sid);
    if (!request || call.status !== 'completed' || !call.duration) return null;
    const recording = this.create(call, 'OutboundAPI', call.duration, request.channels);
    await this.notify(recording, request);
    return recording;
  }

  /** The params Twilio sends to a recording status callback. */
  statusParams(recording: SandboxRecording): TwilioParams {
    return {
      AccountSid: recording.accountSid,
      CallSid: recording.callSid,
      RecordingSid: recording.sid,
      RecordingUrl: recording.url,
      RecordingStatus: recording.status,
      RecordingDuration: String(recording.durationSec),
      RecordingChannels: String(recording.channels),
      RecordingSource: recording.source,
      RecordingStartTime: rfc2822(recording.startTime),
      ErrorCode: '0',
    };
  }

  /** Posts the status callback, when the target subscribed to `completed`. */
  async notify(recording: SandboxRecording, target: RecordingCallbackTarget): Promise<void> {
    if (!target.url || !target.events.includes('completed')) return;
    await new Promise<void>((resolve) => setTimeout(resolve, this.runtime.callbackDelayMs));
    await sendTwilioWebhook(this.runtime, 'recording-status', target.url, target.method, this.statusParams(recording));
  }

  private resource(recording: SandboxRecording): Record<string, unknown> {
    return {
      account_sid: recording.accountSid,
      api_version: TWILIO_API_VERSION,
      call_sid: recording.callSid,
      channels: recording.channels,
      date_created: rfc2822(recording.dateCreated),
      duration: String(recording.durationSec),
      media_url: recording.url,
      sid: recording.sid,
      source: recording.source,
      start_time: rfc2822(recording.startTime),
      status: recording.status,
      uri: `/${TWILIO_API_VERSION}/Accounts/${recording.accountSid}/Recordings/${recording.sid}.json`,
    };
  }

  /**
   * `GET /Recordings/{Sid}[.mp3|.wav|.json]`, to mount on the authenticated
   * account router (so a request without the account's credentials is refused).
   */
  router(): Router {
    const router = express.Router({ mergeParams: true });
    router.get('/Recordings/:file', (req: Request, res: Response) => {
      const m = /^(RE[0-9a-f]{32})(?:\.(mp3|wav|json))?$/.exec(String(req.params.file));
      const recording = m ? this.recordings.get(m[1]!) : undefined;
      if (!m || !recording || recording.accountSid !== req.params.AccountSid) {
        throw new TwilioApiError(404, 20404, `The requested resource ${req.originalUrl} was not found`);
      }
      const format = m[2] ?? 'wav';
      if (format === 'json') {
        res.json(this.resource(recording));
        return;
      }
      const audio = format === 'mp3' ? silentMp3(recording.durationSec) : silentWav(recording.durationSec);
      res
        .status(200)
        .type(format === 'mp3' ? 'audio/mpeg' : 'audio/x-wav')
        .setHeader('content-length', String(audio.length));
      res.end(audio);
    });
    return router;
  }
}

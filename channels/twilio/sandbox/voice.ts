import type { CallScript, PerformedVerb, SandboxCall, TwilioCallStatus, TwilioRuntime } from './types.js';
import { parseTwiml, type TwimlVerb } from './twiml.js';
import { sendTwilioWebhook, parseHttpMethod } from './webhook.js';
import { TWILIO_API_VERSION, type TwilioParams } from './wire.js';
import type { TwilioRecordings } from './recordings.js';

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A gateway can loop Redirects forever; Twilio cuts such calls off too. */
const MAX_DOCUMENTS_PER_CALL = 20;

/** SIP codes Twilio reports for each terminal outcome. */
const SIP_RESPONSE: Record<string, string> = { completed: '200', busy: '486', 'no-answer': '487', failed: '500' };

type NextStep =
  | { kind: 'fetch'; url: string; method: 'POST' | 'GET'; extra: TwilioParams; purpose: string }
  | { kind: 'end' };

class CallSimulation {
  private sequenceNumber = 0;
  private talkSeconds = 0;

  constructor(
    private readonly runtime: TwilioRuntime,
    private readonly call: SandboxCall,
    private readonly script: CallScript,
    private readonly recordings?: TwilioRecordings,
  ) {}

  async run(): Promise<void> {
    const { call, script } = this;
    await this.advance('initiated');
    await this.advance('ringing');
    if (script.answer === 'busy' || script.answer === 'no-answer' || script.answer === 'failed') {
      await this.finish(script.answer, 0);
      return;
    }
    call.startTime = new Date();
    // Without MachineDetection Twilio does not tell who answered.
    call.answeredBy = call.machineDetection ? script.answer : null;
    await this.advance('in-progress', 'answered');
    await this.executeApplication();
    const estimated = Math.max(1, Math.round(this.talkSeconds));
    await this.finish('completed', script.talkSeconds ?? estimated);
  }

  private baseParams(): TwilioParams {
    const { call } = this;
    const params: TwilioParams = {
      AccountSid: call.accountSid,
      ApiVersion: TWILIO_API_VERSION,
      CallSid: call.sid,
      CallStatus: call.status,
      Called: call.to,
      Caller: call.from,
      Direction: 'outbound-api',
      From: call.from,
      To: call.to,
    };
    if (call.answeredBy && !call.asyncAmd) params.AnsweredBy = call.answeredBy;
    return params;
  }

  private setStatus(status: TwilioCallStatus): void {
    this.call.status = status;
    this.call.dateUpdated = new Date();
    this.call.history.push({ status, at: this.call.dateUpdated.toISOString() });
  }

  /** Moves the call on and, if the gateway subscribed to that event, tells it. */
  private async advance(status: TwilioCallStatus, event: string = status): Promise<void> {
    await wait(this.runtime.callbackDelayMs);
    this.setStatus(status);
    if (this.call.statusCallbackEvents.includes(event)) await this.statusCallback({});
  }

  private async finish(status: 'completed' | 'busy' | 'no-answer' | 'failed', durationSeconds: number): Promise<void> {
    await wait(this.runtime.callbackDelayMs);
    const { call } = this;
    call.duration = durationSeconds;
    call.endTime = new Date();
    this.setStatus(status);
    // The terminal callback is always sent when a StatusCallback is set, whatever events were chosen.
    await this.statusCallback({
      CallDuration: String(durationSeconds),
      Duration: String(Math.ceil(durationSeconds / 60)),
      SipResponseCode: SIP_RESPONSE[status] ?? '500',
    });
    // A Record=true call's recording is ready (and reported) after hang-up.
    await this.recordings?.finishCall(call);
  }

  private async statusCallback(extra: TwilioParams): Promise<void> {
    const { call } = this;
    if (!call.statusCallback) return;
    this.sequenceNumber += 1;
    const params: TwilioParams = {
      ...this.baseParams(),
      CallbackSource: 'call-progress-events',
      SequenceNumber: String(this.sequenceNumber - 1),
      Timestamp: new Date().toUTCString().replace('GMT', '+0000'),
      ...extra,
    };
    await sendTwilioWebhook(
      this.runtime,
      `call-status:${call.status}`,
      call.statusCallback,
      call.statusCallbackMethod,
      params,
    );
  }

  private async executeApplication(): Promise<void> {
    const { call } = this;
    let next: NextStep;
    if (call.twiml !== null) {
      call.documents.push({
        source: 'inline',
        url: null,
        method: null,
        requestParams: null,
        httpStatus: null,
        twiml: call.twiml,
      });
      next = this.perform(call.twiml, null);
    } else {
      next = { kind: 'fetch', url: call.url!, method: call.method, extra: {}, purpose: 'voice-url' };
    }
    let amdReported = false;
    while (next.kind === 'fetch') {
      if (call.documents.length >= MAX_DOCUMENTS_PER_CALL) {
        call.errorCode = 11200;
        return;
      }
      const params = { ...this.baseParams(), ...next.extra };
      const record = await sendTwilioWebhook(this.runtime, next.purpose, next.url, next.method, params);
      if (record.state !== 'delivered' || record.responseBody === undefined) {
        // Twilio plays "an application error has occurred" and hangs up: HTTP retrieval failure.
        call.errorCode = 11200;
        return;
      }
      call.documents.push({
        source: 'url',
        url: next.url,
        method: next.method,
        requestParams: params,
        httpStatus: record.responseStatus ?? null,
        twiml: record.responseBody,
      });
      if (call.asyncAmd && call.answeredBy && !amdReported) {
        amdReported = true;
        await this.reportAsyncAmd();
      }
      next = this.perform(record.responseBody, next.url);
    }
  }

  /** With AsyncAmd the answer comes separately, after the call's first TwiML is already running. */
  private async reportAsyncAmd(): Promise<void> {
    const { call } = this;
    if (!call.asyncAmdStatusCallback) return;
    await sendTwilioWebhook(this.runtime, 'call-amd', call.asyncAmdStatusCallback, 'POST', {
      AccountSid: call.accountSid,
      CallSid: call.sid,
      AnsweredBy: call.answeredBy ?? 'unknown',
      MachineDetectionDuration: '2100',
    });
  }

  /** Executes one TwiML document; returns where the call goes next. */
  private perform(xml: string, documentUrl: string | null): NextStep {
    let verbs: TwimlVerb[];
    try {
      verbs = parseTwiml(xml);
    } catch {
      // 12100: Document parse failure.
      this.call.errorCode = 12100;
      return { kind: 'end' };
    }
    const documentIndex = this.call.documents.length - 1;
    const resolve = (target: string) => (documentUrl ? new URL(target, documentUrl).toString() : target);
    for (const verb of verbs) {
      switch (verb.name) {
        case 'Say':
        case 'Play':
        case 'Pause':
          this.record(verb, documentIndex);
          break;
        case 'Gather': {
          for (const nested of verb.children) this.record(nested, documentIndex);
          const humanListening = this.script.answer === 'human';
          const digits = humanListening ? this.script.digits?.shift() : undefined;
          this.record(verb, documentIndex, digits ?? null);
          const action = verb.attributes.action ? resolve(verb.attributes.action) : documentUrl;
          const method = parseHttpMethod(verb.attributes.method, 'Gather method');
          if (digits !== undefined && action) {
            this.talkSeconds += 2;
            return {
              kind: 'fetch',
              url: action,
              method,
              extra: { Digits: digits, FinishedOnKey: '', msg: 'Gather End' },
              purpose: 'gather-action',
            };
          }
          this.talkSeconds += Number(verb.attributes.timeout ?? 5);
          if (verb.attributes.actionOnEmptyResult === 'true' && action) {
            return { kind: 'fetch', url: action, method, extra: { Digits: '' }, purpose: 'gather-action' };
          }
          // Timed out with no input: Twilio carries on with the next verb.
          break;
        }
        case 'Redirect': {
          this.record(verb, documentIndex);
          const method = parseHttpMethod(verb.attributes.method, 'Redirect method');
          const target = verb.text || documentUrl;
          if (!target) return { kind: 'end' };
          return { kind: 'fetch', url: resolve(target), method, extra: {}, purpose: 'redirect' };
        }
        case 'Record': {
          this.record(verb, documentIndex);
          if (!this.recordings) break;
          const seconds = Math.max(
            1,
            Math.min(Number(verb.attributes.maxLength ?? 3600) || 3600, this.script.recordSeconds ?? 5),
          );
          this.talkSeconds += seconds;
          const recording = this.recordings.create(this.call, 'RecordVerb', seconds);
          const statusUrl = verb.attributes.recordingStatusCallback;
          if (statusUrl) {
            const events = (verb.attributes.recordingStatusCallbackEvent ?? 'completed')
              .split(/[\s,]+/)
              .filter(Boolean);
            const method = parseHttpMethod(
              verb.attributes.recordingStatusCallbackMethod,
              'Record recordingStatusCallbackMethod',
            );
            this.runtime.dispatcher.track(
              this.recordings.notify(recording, { url: resolve(statusUrl), method, events }),
            );
          }
          // Twilio then requests the action (default: the current document again) with the recording.
          const action = verb.attributes.action ? resolve(verb.attributes.action) : documentUrl;
          if (!action) return { kind: 'end' };
          const method = parseHttpMethod(verb.attributes.method, 'Record method');
          return {
            kind: 'fetch',
            url: action,
            method,
            purpose: 'record-action',
            extra: {
              RecordingUrl: recording.url,
              RecordingSid: recording.sid,
              RecordingDuration: String(recording.durationSec),
              Digits: 'hangup',
            },
          };
        }
        case 'Hangup':
        case 'Reject':
          this.record(verb, documentIndex);
          return { kind: 'end' };
        default:
          // Verbs the sandbox does not act on (Dial, Sms…) are still recorded for assertions.
          this.record(verb, documentIndex);
      }
    }
    return { kind: 'end' };
  }

  private record(verb: TwimlVerb, documentIndex: number, digits?: string | null): void {
    const performed: PerformedVerb = { verb: verb.name, text: verb.text, attributes: verb.attributes, documentIndex };
    if (verb.name === 'Gather') performed.digits = digits ?? null;
    this.call.performed.push(performed);
    if (verb.name === 'Say') this.talkSeconds += Math.max(1, verb.text.split(/\s+/).length / 2.5);
    if (verb.name === 'Pause') this.talkSeconds += Number(verb.attributes.length ?? 1);
  }
}

/** Runs a call from dialing to hang-up, POSTing the webhooks a real Twilio call would. */
export function simulateCall(
  runtime: TwilioRuntime,
  call: SandboxCall,
  script: CallScript,
  recordings?: TwilioRecordings,
): Promise<void> {
  // Copy the digits so a shared script object is not consumed by this call.
  return new CallSimulation(runtime, call, { ...script, digits: [...(script.digits ?? [])] }, recordings).run();
}

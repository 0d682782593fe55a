// The reminder call rendered as TwiML: Twilio fetches the answer URL when the
// call connects and posts the pressed keys to the gather URL. What is said
// and offered is the gateway's (src/outbound/voice.ts); this is only how
// Twilio is told.
import twilio from 'twilio';
import type { CallFlow, CallStep, WebhookRequest } from '../types.js';
import type { TwilioSettings } from './config.js';
import { PATHS, verifyTwilio } from './webhooks.js';

const { VoiceResponse } = twilio.twiml;

function render(steps: CallStep[], speech: { language: string; voice: string }): { contentType: string; body: string } {
  const vr = new VoiceResponse();
  // Every <Say> in the call's language, read by a voice that speaks it.
  const attrs = { language: speech.language as never, voice: speech.voice as never };
  for (const step of steps) {
    if ('say' in step) vr.say(attrs, step.say);
    else if ('gather' in step) {
      const gather = vr.gather({
        numDigits: step.gather.numDigits,
        timeout: step.gather.timeoutSec,
        action: step.gather.actionUrl,
        method: 'POST',
      });
      for (const text of step.gather.say) gather.say(attrs, text);
    } else if ('dial' in step) vr.dial(step.dial);
    else vr.hangup();
  }
  return { contentType: 'text/xml', body: vr.toString() };
}

const param = (req: WebhookRequest, name: string) => req.params[name];

export const twilioCallFlow: CallFlow<TwilioSettings> = {
  answerPath: PATHS.voiceAnswer,
  gatherPath: PATHS.voiceGather,
  verify: verifyTwilio,
  readAnswer: (req) => ({
    answeredBy: String(param(req, 'AnsweredBy') ?? 'unknown'),
    callId: param(req, 'CallSid') ?? null,
  }),
  readGather: (req) => ({ digits: String(param(req, 'Digits') ?? '') }),
  render,
};

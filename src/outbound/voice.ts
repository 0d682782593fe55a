// The reminder call's TwiML. When the call connects Twilio fetches /answer:
// a person hears the reminder and a keypad menu (1 agent, 2 text me a payment
// link, 9 stop calling me); an answering machine gets only the limited-content
// voicemail of Reg F §1006.2(j). Each step records the call outcome.
import type { Express, Request, Response } from 'express';
import twilio from 'twilio';
import type { AppContext } from '../context.js';
import { verifyTwilio } from '../inbound/verify.js';
import { optOutOfCalls } from '../messaging/consent.js';
import { appendEvent, type TimelineEvent } from '../conversations/thread.js';
import { publishTimeline } from '../conversations/live.js';
import { requestCallback } from '../conversations/tasks.js';
import { requestOutreach } from './service.js';
import { notFound } from '../http/errors.js';
import type { Prisma } from '../generated/prisma/client.js';

const { VoiceResponse } = twilio.twiml;

// Every <Say> speaks the call's language with a voice that speaks it, and the
// keypad follow-ups come from the locale's templates (templates/<locale>/_locale.yaml
// `voice`): a Spanish script read by Twilio's default English voice is noise.
// The recording notice is said first when VOICE_RECORD_CALLS is on: several US
// states (e.g. California, Florida) require every party's consent to record a call.
type Voice = ReturnType<AppContext['templates']['voice']>;
const voiceOf = (ctx: AppContext, locale: string | null): Voice => ctx.templates.voice(locale ?? 'en');
const sayAttrs = (v: Voice) => ({ language: v.language as never, voice: v.tts_voice as never });

interface VoiceParts { say: string; menu: string; voicemail: string }

async function loadCall(ctx: AppContext, messageId: string) {
  const m = await ctx.db.message.findUnique({ where: { id: messageId } });
  if (!m || m.channel !== 'VOICE') throw notFound('call');
  const parts = (m.decision as { voice?: VoiceParts } | null)?.voice;
  if (!parts) throw notFound('call script');
  return { m, parts };
}

async function recordOutcome(ctx: AppContext, messageId: string, conversationId: string, patch: Record<string, unknown>, extra?: (tx: Prisma.TransactionClient) => Promise<void>) {
  const events: TimelineEvent[] = [];
  await ctx.db.$transaction(async (tx) => {
    const m = await tx.message.findUniqueOrThrow({ where: { id: messageId } });
    const outcome = { ...((m.callOutcome as object | null) ?? {}), ...patch };
    await tx.message.update({ where: { id: messageId }, data: { callOutcome: outcome as object } });
    if (extra) await extra(tx);
    events.push(await appendEvent(tx, conversationId, 'call.outcome', { messageId, ...outcome }));
  });
  publishTimeline(ctx.io, events);
}

export function registerVoiceRoutes(app: Express, ctx: AppContext): void {
  const verify = verifyTwilio(ctx);

  app.post('/webhooks/twilio/voice/answer/:messageId', verify, (req: Request, res: Response, next) => {
    void (async () => {
      const { m, parts } = await loadCall(ctx, String(req.params.messageId));
      const answeredBy = String(req.body.AnsweredBy ?? 'unknown');
      const vr = new VoiceResponse();
      const voice = voiceOf(ctx, m.locale);
      const say = sayAttrs(voice);
      if (answeredBy.startsWith('machine') || answeredBy === 'fax') {
        // Only the limited-content message: no amount, no mention of a debt.
        vr.say(say, parts.voicemail);
        vr.hangup();
        await recordOutcome(ctx, m.id, m.conversationId, { answeredBy, outcome: 'voicemail', callSid: req.body.CallSid });
      } else {
        const gather = vr.gather({ numDigits: 1, timeout: 8, action: `${ctx.publicBaseUrl}/webhooks/twilio/voice/gather/${m.id}`, method: 'POST' });
        if (ctx.config.VOICE_RECORD_CALLS) gather.say(say, voice.recording_notice);
        gather.say(say, parts.say);
        gather.say(say, parts.menu);
        vr.say(say, parts.menu);
        vr.hangup();
        // Speaking with the person is a telephone conversation about the debt (Reg F §1006.14(b)(2)(i)(B)).
        await recordOutcome(ctx, m.id, m.conversationId, { answeredBy, outcome: 'human', callSid: req.body.CallSid }, async (tx) => {
          if (m.debtId) await tx.debt.update({ where: { id: m.debtId }, data: { lastPhoneConversationAt: new Date() } });
        });
      }
      res.type('text/xml').send(vr.toString());
    })().catch(next);
  });

  app.post('/webhooks/twilio/voice/gather/:messageId', verify, (req: Request, res: Response, next) => {
    void (async () => {
      const { m } = await loadCall(ctx, String(req.params.messageId));
      const digits = String(req.body.Digits ?? '');
      const vr = new VoiceResponse();
      const voice = voiceOf(ctx, m.locale);
      const say = sayAttrs(voice);
      const prior = ((m.callOutcome as { digits?: string[] } | null)?.digits ?? []).concat(digits);
      await recordOutcome(ctx, m.id, m.conversationId, { digits: prior });
      if (digits === '1' && ctx.config.AGENT_PHONE_NUMBER) {
        vr.say(say, voice.connecting_agent);
        vr.dial(ctx.config.AGENT_PHONE_NUMBER);
      } else if (digits === '1') {
        // The caller was promised a call back: it becomes a task in the inbox's callbacks view.
        const { events } = await ctx.db.$transaction((tx) => requestCallback(tx, { conversationId: m.conversationId, source: 'voice:keypad-1', dueAt: new Date(), detail: { messageId: m.id } }, { type: 'provider', id: 'twilio' }));
        publishTimeline(ctx.io, events);
        vr.say(say, voice.no_agent);
      } else if (digits === '2' && m.debtorId && m.debtId) {
        const r = await requestOutreach(ctx, { debtorId: m.debtorId, debtId: m.debtId, intent: 'friendly-reminder', channel: 'SMS' }, { type: 'system', id: 'voice-menu' });
        vr.say(say, r.outcome === 'refuse' ? voice.text_refused : voice.text_link_sent);
      } else if (digits === '9' && m.contactPointId) {
        await optOutOfCalls(ctx, m.contactPointId, 'voice:keypad-9');
        vr.say(say, voice.calls_stopped);
      } else {
        vr.say(say, voice.goodbye);
      }
      vr.hangup();
      res.type('text/xml').send(vr.toString());
    })().catch(next);
  });
}

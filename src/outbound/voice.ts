// The reminder call. When the call connects the voice provider fetches the
// answer URL: a person hears the reminder and a keypad menu (1 agent, 2 text
// me a payment link, 9 stop calling me); an answering machine gets only the
// limited-content voicemail of Reg F §1006.2(j). Each step records the call
// outcome. What is said is decided here; the provider's plugin renders it
// (CallFlow.render, e.g. as TwiML) at the paths it declares.
import type { Express, Request, Response } from 'express';
import { plugins, type AnyPlugin } from '../../channels/registry.js';
import type { CallFlow, CallStep } from '../../channels/types.js';
import type { AppContext } from '../context.js';
import { optOutOfCalls } from '../messaging/consent.js';
import { verifier, webhookRequest } from '../http/provider-requests.js';
import { appendEvent, type TimelineEvent } from '../conversations/thread.js';
import { publishTimeline } from '../conversations/live.js';
import { requestCallback } from '../conversations/tasks.js';
import { requestOutreach } from './service.js';
import { notFound } from '../http/errors.js';
import type { Prisma } from '../generated/prisma/client.js';

// Every <Say> speaks the call's language with a voice that speaks it, and the
// keypad follow-ups come from the locale's templates (templates/<locale>/_locale.yaml
// `voice`): a script read by a voice of another language is noise.
// The recording notice is said first when VOICE_RECORD_CALLS is on: several US
// states (e.g. California, Florida) require every party's consent to record a call.
type Voice = ReturnType<AppContext['templates']['voice']>;
const voiceOf = (ctx: AppContext, locale: string | null): Voice => ctx.templates.voice(locale ?? 'en');
const speechOf = (v: Voice) => ({ language: v.language, voice: v.tts_voice });

interface VoiceParts {
  say: string;
  menu: string;
  voicemail: string;
}

async function loadCall(ctx: AppContext, messageId: string) {
  const m = await ctx.db.message.findUnique({ where: { id: messageId } });
  if (!m || m.channel !== 'VOICE') throw notFound('call');
  const parts = (m.decision as { voice?: VoiceParts } | null)?.voice;
  if (!parts) throw notFound('call script');
  return { m, parts };
}

async function recordOutcome(
  ctx: AppContext,
  messageId: string,
  conversationId: string,
  patch: Record<string, unknown>,
  extra?: (tx: Prisma.TransactionClient) => Promise<void>,
) {
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

function registerCallFlow(app: Express, ctx: AppContext, plugin: AnyPlugin, flow: CallFlow<unknown>): void {
  const verify = verifier(ctx, plugin, flow.verify);
  const send = (res: Response, steps: CallStep[], voice: Voice) => {
    const out = flow.render(steps, speechOf(voice));
    res.type(out.contentType).send(out.body);
  };

  app.post(flow.answerPath, verify, (req: Request, res: Response, next) => {
    void (async () => {
      const { m, parts } = await loadCall(ctx, String(req.params.messageId));
      const { answeredBy, callId } = flow.readAnswer(webhookRequest(ctx, req));
      const voice = voiceOf(ctx, m.locale);
      if (answeredBy.startsWith('machine') || answeredBy === 'fax') {
        // Only the limited-content message: no amount, no mention of a debt.
        await recordOutcome(ctx, m.id, m.conversationId, {
          answeredBy,
          outcome: 'voicemail',
          callSid: callId ?? undefined,
        });
        send(res, [{ say: parts.voicemail }, { hangup: true }], voice);
      } else {
        const actionUrl = `${ctx.publicBaseUrl}${flow.gatherPath.replace(':messageId', m.id)}`;
        const say = [...(ctx.config.VOICE_RECORD_CALLS ? [voice.recording_notice] : []), parts.say, parts.menu];
        // Speaking with the person is a telephone conversation about the debt (Reg F §1006.14(b)(2)(i)(B)).
        await recordOutcome(
          ctx,
          m.id,
          m.conversationId,
          { answeredBy, outcome: 'human', callSid: callId ?? undefined },
          async (tx) => {
            if (m.debtId)
              await tx.debt.update({ where: { id: m.debtId }, data: { lastPhoneConversationAt: new Date() } });
          },
        );
        send(
          res,
          [{ gather: { numDigits: 1, timeoutSec: 8, actionUrl, say } }, { say: parts.menu }, { hangup: true }],
          voice,
        );
      }
    })().catch(next);
  });

  app.post(flow.gatherPath, verify, (req: Request, res: Response, next) => {
    void (async () => {
      const { m } = await loadCall(ctx, String(req.params.messageId));
      const { digits } = flow.readGather(webhookRequest(ctx, req));
      const voice = voiceOf(ctx, m.locale);
      const prior = ((m.callOutcome as { digits?: string[] } | null)?.digits ?? []).concat(digits);
      await recordOutcome(ctx, m.id, m.conversationId, { digits: prior });
      const steps: CallStep[] = [];
      if (digits === '1' && ctx.config.AGENT_PHONE_NUMBER) {
        steps.push({ say: voice.connecting_agent }, { dial: ctx.config.AGENT_PHONE_NUMBER });
      } else if (digits === '1') {
        // The caller was promised a call back: it becomes a task in the inbox's callbacks view.
        const { events } = await ctx.db.$transaction((tx) =>
          requestCallback(
            tx,
            {
              conversationId: m.conversationId,
              source: 'voice:keypad-1',
              dueAt: new Date(),
              detail: { messageId: m.id },
            },
            { type: 'provider', id: plugin.id },
          ),
        );
        publishTimeline(ctx.io, events);
        steps.push({ say: voice.no_agent });
      } else if (digits === '2' && m.debtorId && m.debtId) {
        const r = await requestOutreach(
          ctx,
          { debtorId: m.debtorId, debtId: m.debtId, intent: 'friendly-reminder', channel: 'SMS' },
          { type: 'system', id: 'voice-menu' },
        );
        steps.push({ say: r.outcome === 'refuse' ? voice.text_refused : voice.text_link_sent });
      } else if (digits === '9' && m.contactPointId) {
        await optOutOfCalls(ctx, m.contactPointId, 'voice:keypad-9');
        steps.push({ say: voice.calls_stopped });
      } else {
        steps.push({ say: voice.goodbye });
      }
      steps.push({ hangup: true });
      send(res, steps, voice);
    })().catch(next);
  });
}

/** The call-flow endpoints of every provider that places calls. */
export function registerVoiceRoutes(app: Express, ctx: AppContext): void {
  for (const plugin of plugins) if (plugin.callFlow) registerCallFlow(app, ctx, plugin, plugin.callFlow);
}

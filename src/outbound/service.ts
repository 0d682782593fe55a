// The outbound entry point: request → router decision → outbox row → dispatch
// job. The decision and the reservation happen in one transaction that holds
// the debtor's row lock, so two sends for one debtor — even from two processes
// — cannot both pass a cap: the second sees the first's reserved attempt.
// A message due now is also claimed by that transaction when this process
// has a send slot free, and goes to its provider as soon as it commits
// (dispatch.ts, sendClaimedNow); otherwise it waits in the outbox.
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { createConversationIfMissing, type TimelineEvent } from '../conversations/thread.js';
import { writeMessage } from '../conversations/message-write.js';
import { publishTimeline } from '../conversations/live.js';
import {
  createRouter,
  type Channel,
  type Decision,
  type RoutedDecision,
  type ReplyContext,
  type SocialMediaChannel,
} from '../router/index.js';
import { isIntent, TemplateError, type Intent } from '../templates/index.js';
import { HttpError } from '../http/errors.js';
import { lockDebtor, loadSnapshotWithDebtor } from './snapshot.js';
import { bodyOf, FREE_TEXT_INTENT, renderContent, type FreeText } from './content.js';
import { reserveSendSlot, returnAddress, scheduleDispatch, sendClaimedNow } from './dispatch.js';
import { renderLetterPdf } from '../templates/index.js';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isUniqueViolation } from '../db/errors.js';
import { sqlTransaction, type TxSql } from '../db/sql.js';
import { newLease } from './lease.js';
import { moveStatus } from '../messaging/status.js';

export interface OutreachRequest {
  debtorId: string;
  debtId: string;
  /** A template intent, or FREE_TEXT_INTENT with `freeText` (an agent's own words; SMS or email). */
  intent: Intent | typeof FREE_TEXT_INTENT;
  freeText?: FreeText;
  /** A social-media channel is refused by the router with its rule (Reg F §1006.22(f)(4)). */
  channel?: Channel | SocialMediaChannel;
  notBefore?: Date;
  notAfter?: Date;
  locale?: string;
  campaignId?: string;
  idempotencyKey?: string;
  replyTo?: ReplyContext;
  /** Extra template variables (e.g. installmentAmount for a payment-plan offer). */
  vars?: Record<string, string>;
  /** Decision clock; defaults to now. Tests and campaign planning pass their own. */
  now?: Date;
}

export type OutreachResult =
  | { outcome: 'send' | 'defer'; decision: Decision; messageId: string; duplicate: boolean }
  | { outcome: 'refuse'; decision: Decision };

export type Actor = Principal | { type: 'system' | 'provider'; id?: string; name?: string };

const router = createRouter();

/** Router intents are snake_case ("opt_out_confirmation"); template intents kebab-case. */
export const routerIntent = (intent: string) => intent.replace(/-/g, '_');

function serializeDecision(d: Decision) {
  return JSON.parse(JSON.stringify(d)) as object;
}

export async function requestOutreach(ctx: AppContext, req: OutreachRequest, actor: Actor): Promise<OutreachResult> {
  if (req.intent !== FREE_TEXT_INTENT && !isIntent(req.intent)) {
    throw new HttpError(400, 'invalid_request', `intent must be one of the template intents`, [
      { field: 'intent', reason: `unknown intent "${req.intent}"` },
    ]);
  }
  if (
    (req.intent === FREE_TEXT_INTENT) !== Boolean(req.freeText) ||
    (req.freeText && req.channel !== 'SMS' && req.channel !== 'EMAIL')
  ) {
    throw new HttpError(
      400,
      'invalid_request',
      'free text goes with intent "free-text" and an explicit SMS or EMAIL channel',
      [{ field: 'freeText', reason: 'needs intent "free-text" and channel SMS or EMAIL' }],
    );
  }
  if (req.idempotencyKey) {
    const existing = await ctx.db.message.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
    if (existing)
      return {
        outcome: existing.status === 'SCHEDULED' ? 'defer' : 'send',
        decision: existing.decision as unknown as Decision,
        messageId: existing.id,
        duplicate: true,
      };
  }
  const now = req.now ?? new Date();
  const events: TimelineEvent[] = [];
  // Taken before deciding: a message due now is then claimed by the same transaction and handed to its provider on commit.
  // Not for a request with its own clock (campaign planning, tests): it decides for another moment than now.
  const slot = req.now ? null : reserveSendSlot(ctx);
  // A plain pg transaction on Prisma's pool (src/db/sql.ts): the half-dozen statements of every request, without Prisma's per-query work.
  const result = await sqlTransaction(
    ctx.db,
    async (tx) => {
      // The debtor's lock, then the debt to render, the debtor's conversation and the router's snapshot, read under it:
      // two statements, pipelined (with BEGIN) into one round trip.
      const [locked, loaded] = await Promise.all([
        lockDebtor(tx, req.debtorId),
        loadSnapshotWithDebtor(tx, req.debtorId, now, { debtId: req.debtId }),
      ]);
      if (!locked || !loaded) throw new HttpError(404, 'not_found', 'debtor not found');
      const { snapshot, debtor, debt } = loaded;
      if (!debt) throw new HttpError(404, 'not_found', 'debt not found for this debtor');
      // One thank-you per payment, under the debtor's lock so two requests cannot both pass.
      const thanked =
        req.intent === 'payment-received'
          ? await paymentToThank(tx, req.debtId, req.vars?.paymentId ?? paymentIdOfKey(req.idempotencyKey))
          : null;
      const decision = router.decide(
        {
          debtorId: req.debtorId,
          debtId: req.debtId,
          intent: routerIntent(req.intent),
          channel: req.channel,
          notBefore: req.notBefore,
          notAfter: req.notAfter,
          replyTo: req.replyTo,
        },
        snapshot,
      );
      if (decision.outcome === 'refuse') return { outcome: 'refuse' as const, decision };

      const routed = decision as RoutedDecision;
      const locale = req.locale ?? debtor.locale;
      const rendered = renderContent(ctx, {
        intent: req.intent,
        freeText: req.freeText,
        channel: routed.channel,
        locale,
        debtor,
        debt,
        contactPointId: routed.contactPointId,
        now,
        agentName: actor.type === 'user' ? actor.name : undefined,
        extra: thanked ? { ...thanked.vars, ...req.vars } : req.vars,
        firstCommunication: !debtor.contactedBefore,
      });
      const content = bodyOf(rendered);
      const messageId = randomUUID();
      let pdfPath: string | null = null;
      let letterMeta: { mailType: string; extraService: string | null } | undefined;
      // A call's spoken parts are rendered now (with the right disclosure) and played when it connects.
      const voiceMeta =
        rendered.channel === 'voice'
          ? { say: rendered.say, menu: rendered.menu, voicemail: rendered.voicemail }
          : undefined;
      if (rendered.channel === 'letter') {
        // The PDF is made once, kept under DATA_DIR/letters and linked from the message.
        const cp = snapshot.contactPoints.find((c) => c.id === routed.contactPointId)!;
        const [full] = await tx.rows<{
          line1: string | null;
          line2: string | null;
          city: string | null;
          region: string | null;
          postalCode: string | null;
          country: string | null;
        }>(
          'SELECT line1, line2, city, region, postal_code AS "postalCode", country FROM contact_points WHERE id = $1::uuid',
          [cp.id],
        );
        if (!full) throw new Error(`contact point ${cp.id} vanished under the debtor's lock`);
        const ret = returnAddress(ctx);
        const pdf = await renderLetterPdf(rendered, {
          sender: {
            name: ret.name,
            lines: [ret.line1, `${ret.city}, ${ret.region} ${ret.postalCode}`.trim(), ret.country],
          },
          recipient: {
            name: debtor.fullName,
            lines: [
              full.line1,
              full.line2,
              [full.city, full.region, full.postalCode].filter(Boolean).join(' '),
              full.country,
            ].filter((x): x is string => Boolean(x)),
          },
          date: now.toISOString().slice(0, 10),
          jurisdiction: debt.jurisdiction ?? debtor.jurisdiction,
        });
        pdfPath = path.join('letters', `${messageId}.pdf`);
        fs.mkdirSync(path.resolve(ctx.config.DATA_DIR, 'letters'), { recursive: true });
        fs.writeFileSync(path.resolve(ctx.config.DATA_DIR, pdfPath), pdf);
        letterMeta = { mailType: rendered.mailType, extraService: rendered.extraService ?? null };
      }
      // Due now and a send slot in hand: claimed here (SENDING, attempt 1) rather than queued and re-checked.
      const sendNow = slot !== null && routed.outcome === 'send' && routed.sendAt.getTime() <= Date.now();
      const status = routed.outcome === 'defer' ? 'SCHEDULED' : sendNow ? 'SENDING' : 'PENDING';
      // A debtor's first message also makes the thread, in a statement just ahead of the message's, which reads its id.
      const conversation = debtor.conversationId ? null : createConversationIfMissing(tx, req.debtorId);
      // Awaited below with the message; should it fail, the message's statement and COMMIT fail with its error too.
      conversation?.catch(() => undefined);
      // One statement: the message, its first status event and the timeline event.
      const written = writeMessage(
        tx,
        {
          id: messageId,
          pdfPath,
          conversationId: debtor.conversationId ?? { ofDebtor: req.debtorId },
          debtorId: req.debtorId,
          debtId: req.debtId,
          contactPointId: routed.contactPointId,
          campaignId: req.campaignId ?? null,
          direction: 'OUTBOUND',
          channel: routed.channel,
          status,
          intent: req.intent,
          templateId: rendered.templateId,
          locale,
          toAddress: routed.address,
          ...content,
          // The extra variables and the agent's name go with it: the message is rendered again from them when it leaves (contentAtSend).
          decision: {
            ...serializeDecision(decision),
            ...(letterMeta ? { letter: letterMeta } : {}),
            ...(voiceMeta ? { voice: voiceMeta } : {}),
            ...(req.vars || thanked ? { vars: { ...thanked?.vars, ...req.vars } } : {}),
            ...(actor.type === 'user' && actor.name ? { agentName: actor.name } : {}),
            ...(thanked ? { paymentId: thanked.paymentId } : {}),
          },
          scheduledAt: routed.sendAt,
          // Reserved now, so a concurrent request sees it against the caps.
          countsAsAttempt: true,
          attempts: sendNow ? 1 : 0,
          // Claimed on commit: with a lease, so a process that dies before the provider answers leaves it to recovery.
          ...(sendNow ? newLease(ctx) : {}),
          idempotencyKey: req.idempotencyKey ?? null,
          createdById: actor.type === 'user' ? (actor.id ?? null) : null,
        },
        {
          statusEvent: { status, detail: { reasons: routed.reasons.map((r) => r.rule) } },
          audit: {
            actor,
            entry: {
              action: 'message.request',
              data: {
                intent: req.intent,
                channel: routed.channel,
                outcome: routed.outcome,
                campaignId: req.campaignId,
              },
            },
          },
          event: {
            type: 'message.created',
            payload: (m) => ({
              messageId: m.id,
              direction: 'OUTBOUND',
              channel: m.channel,
              status: m.status,
              intent: req.intent,
              scheduledAt: routed.sendAt.toISOString(),
              reasons: routed.reasons.map((r) => ({ rule: r.rule, detail: r.detail })),
            }),
          },
        },
      );
      // The thread (if new), the message and COMMIT: one round trip.
      const [{ message, event }] = await Promise.all([written, tx.commit(), conversation]);
      events.push(event);
      return {
        outcome: routed.outcome,
        decision,
        messageId: message.id,
        duplicate: false,
        sendAt: routed.sendAt,
        claimed: sendNow ? message : null,
      };
    },
    // Under a burst, wait for a pooled connection rather than fail the request.
    { timeoutMs: 20_000, maxWaitMs: 15_000 },
  )
    .catch(async (e: unknown) => {
      // A concurrent request with the same Idempotency-Key won the race: return its result.
      if (req.idempotencyKey && isUniqueViolation(e)) {
        const existing = await ctx.db.message.findUnique({ where: { idempotencyKey: req.idempotencyKey } });
        if (existing)
          return {
            outcome: existing.status === 'SCHEDULED' ? ('defer' as const) : ('send' as const),
            decision: existing.decision as unknown as Decision,
            messageId: existing.id,
            duplicate: true,
            sendAt: existing.scheduledAt ?? new Date(),
            claimed: null,
          };
      }
      if (e instanceof TemplateError)
        throw new HttpError(422, 'template_error', e.message, {
          code: e.code,
          template: e.template,
          variable: e.variable,
        });
      throw e;
    })
    .catch((e: unknown) => {
      slot?.release();
      throw e;
    });

  const claimed = result.outcome === 'refuse' ? null : result.claimed;
  if (claimed) sendClaimedNow(ctx, slot!, claimed);
  else slot?.release();
  if (result.outcome === 'refuse') return result;
  if (!result.duplicate) {
    publishTimeline(ctx.io, events);
    if (!claimed) await scheduleDispatch(ctx, result.messageId, result.sendAt);
  }
  return {
    outcome: result.outcome,
    decision: result.decision,
    messageId: result.messageId,
    duplicate: result.duplicate,
  };
}

/** The payment a thank-you is for, from the key payments use (`payment-received:<payment id>`). */
function paymentIdOfKey(key: string | undefined): string | undefined {
  const m = key ? /^payment-received:([0-9a-f-]{36})$/.exec(key) : null;
  return m?.[1];
}

/**
 * The payment a payment-received message thanks for: the one named (vars.paymentId), else the
 * debt's latest. Refused when there is none, or when it was thanked already (a thank-you not
 * cancelled or failed): at most one per payment.
 */
async function paymentToThank(
  tx: TxSql,
  debtId: string,
  paymentId: string | undefined,
): Promise<{ paymentId: string; vars: Record<string, string> }> {
  if (paymentId !== undefined && !/^[0-9a-f-]{36}$/i.test(paymentId)) {
    throw new HttpError(400, 'invalid_request', 'vars.paymentId must be a payment id', [
      { field: 'vars.paymentId', reason: 'must be a UUID' },
    ]);
  }
  const [payment] = await tx.rows<{ id: string; amount: string; paidAt: Date }>(
    `SELECT id::text AS id, amount::text AS amount, paid_at AS "paidAt" FROM payments WHERE debt_id = $1::uuid AND ($2::uuid IS NULL OR id = $2::uuid)
      ORDER BY paid_at DESC, created_at DESC LIMIT 1`,
    [debtId, paymentId ?? null],
  );
  if (!payment)
    throw new HttpError(
      422,
      'no_payment',
      'a payment-received message thanks for a recorded payment; none is recorded for this debt',
      [{ field: 'vars.paymentId', reason: 'no such payment of this debt' }],
    );
  const [previous] = await tx.rows<{ id: string }>(
    `SELECT id::text AS id FROM messages WHERE debt_id = $1::uuid AND intent = 'payment-received' AND direction = 'OUTBOUND' AND status NOT IN ('CANCELLED', 'FAILED')
        AND (decision->>'paymentId' = $2 OR idempotency_key = 'payment-received:' || $2) LIMIT 1`,
    [debtId, payment.id],
  );
  if (previous)
    throw new HttpError(
      409,
      'already_thanked',
      `payment ${payment.id} was already thanked (message ${previous.id}); one thank-you per payment`,
      { paymentId: payment.id, messageId: previous.id } as never,
    );
  return {
    paymentId: payment.id,
    vars: {
      paymentAmount: payment.amount,
      paymentDate: new Date(payment.paidAt).toISOString().slice(0, 10),
      paymentId: payment.id,
    },
  };
}

/** Cancels messages not yet handed to a provider (payment landed, campaign cancelled, …). */
export async function cancelPendingMessages(
  ctx: AppContext,
  where: { debtId?: string; debtorId?: string; campaignId?: string },
  reason: string,
): Promise<number> {
  if (!where.debtId && !where.debtorId && !where.campaignId)
    throw new Error('cancelPendingMessages needs a debtId, debtorId or campaignId');
  const pending = await ctx.db.message.findMany({
    where: { ...where, direction: 'OUTBOUND', status: { in: ['PENDING', 'SCHEDULED'] } },
    select: { id: true, conversationId: true },
  });
  const events: TimelineEvent[] = [];
  let n = 0;
  for (const m of pending) {
    const changed = await ctx.db.$transaction(async (tx) => {
      const step = await moveStatus(tx, {
        id: m.id,
        to: 'CANCELLED',
        data: { countsAsAttempt: false, errorMessage: reason },
        history: { detail: { reason } },
        timeline: { conversationId: m.conversationId, payload: { reason } },
      });
      if (step.event) events.push(step.event);
      return step.moved;
    });
    if (changed) n += 1;
  }
  publishTimeline(ctx.io, events);
  return n;
}

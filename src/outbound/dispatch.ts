// The dispatch job: takes one outbox message to its provider. Claiming the
// row (PENDING/SCHEDULED → SENDING) makes dispatch idempotent across workers;
// consent and restrictions are checked again at send time because a STOP or
// a payment may have landed since the message was queued. A message due now
// whose request found a send slot free was claimed by the very transaction
// that decided it, and goes straight to the provider (sendClaimedNow).
// Transient provider faults retry with exponential backoff and jitter;
// permanent ones fail with the provider's code recorded and their meaning
// applied to the contact point.
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import { ProviderError, type OutboundPayload, type SendResult } from '../../channels/types.js';
import { FailoverExhausted, sendWithFailover, type ChannelProviders, type ProviderRoute } from './failover.js';
import type { TimelineEvent } from '../conversations/thread.js';
import { publishTimeline } from '../conversations/live.js';
import { createRouter, type Decision, type RoutedDecision } from '../router/index.js';
import { loadSnapshotWithDebtor } from './snapshot.js';
import { contentAtSend } from './content.js';
import { MESSAGE_COLUMNS } from '../conversations/message-write.js';
import type { Message, Prisma } from '../generated/prisma/client.js';
import { applyContactPointEffect } from './effects.js';
import { unsubscribeUrl } from '../messaging/consent.js';
import { returnPathFor } from '../conversations/return-path.js';
import { letterPdfUrl } from './files.js';
import { applyStatus, moveStatus } from '../messaging/status.js';
import type { Channel } from '../generated/prisma/enums.js';
import { holdLease, newLease } from './lease.js';
import { withHeartbeat } from '../scheduler/heartbeat.js';
import type { Job } from 'agenda';

export const DISPATCH_JOB = 'dispatch-message';
export const OUTBOX_SWEEP_JOB = 'outbox-sweep';
export const MAX_ATTEMPTS = 6;

const router = createRouter();

/** Per channel, its providers' adapters and the order to try them in (failover.ts). */
export type ChannelAdapters = Record<Channel, ChannelProviders>;

/** Delay before retry n (1-based): 2^n seconds, capped at 10 minutes, with ±30% jitter. */
export function retryDelayMs(attempt: number, random = Math.random): number {
  const base = Math.min(600_000, 1000 * 2 ** attempt);
  return Math.round(base * (0.7 + 0.6 * random()));
}

/**
 * Due messages are dispatched right here, in this process, as soon as their
 * outbox row is committed: no job row, no poll interval. The outbox row is the
 * durable record — if the process dies first, the outbox sweep sends it — and
 * Agenda still carries everything that is not due yet (deferrals, retries).
 */
const LOCAL_CONCURRENCY = 8;
/**
 * Under a burst the pool's 20 connections are shared with the API and the
 * webhooks: waiting longer for one beats failing a send (Prisma's default is 2 s).
 */
const TX_OPTIONS = { maxWait: 15_000, timeout: 20_000 };
/** Beyond this many waiting ids (a very large burst), due messages go through Agenda instead. */
const LOCAL_QUEUE_MAX = 10_000;

interface LocalDispatcher {
  adapters: ChannelAdapters;
  /**
   * Provider calls at once for messages their own request claimed
   * (sendClaimedNow; config SEND_CONCURRENCY). They hold no database
   * connection while the provider answers, so there can be more of them than
   * of queued dispatches, which each hold one. The bound is the provider's:
   * providers answer 429 (retried) above an account's concurrent-request limit.
   */
  sendMax: number;
  queue: string[];
  running: number;
  /** Slots reserved or sending for sendClaimedNow. */
  sendingNow: number;
  closed: boolean;
  idle: (() => void)[];
}
const localDispatchers = new WeakMap<AppContext, LocalDispatcher>();

function settle(ctx: AppContext, d: LocalDispatcher): void {
  pumpLocal(ctx, d);
  if (d.running === 0 && d.sendingNow === 0 && (d.queue.length === 0 || d.closed))
    for (const w of d.idle.splice(0)) w();
}

function pumpLocal(ctx: AppContext, d: LocalDispatcher): void {
  while (!d.closed && d.running < LOCAL_CONCURRENCY && d.queue.length > 0) {
    const messageId = d.queue.shift()!;
    d.running += 1;
    dispatchMessage(ctx, d.adapters, messageId)
      .catch((err) => ctx.log.error({ err, messageId }, 'dispatch failed; the outbox sweep will retry'))
      .finally(() => {
        d.running -= 1;
        settle(ctx, d);
      });
  }
}

/** Stops taking messages in-process and waits (bounded) for the running ones; queued ones stay in the outbox for the sweep. */
export async function drainLocalDispatch(ctx: AppContext, timeoutMs: number): Promise<void> {
  const d = localDispatchers.get(ctx);
  if (!d) return;
  d.closed = true;
  d.queue.length = 0;
  if (d.running === 0 && d.sendingNow === 0) return;
  await Promise.race([new Promise<void>((r) => d.idle.push(r)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

export interface SendSlot {
  /** Gives the slot back unused (the request deferred, refused or failed). */
  release(): void;
}

/**
 * A slot to send a message the moment the transaction that decided it
 * commits — taken before that transaction, so a message is claimed (born
 * SENDING) only when this process can hand it to its provider right away.
 * Null when this process does not dispatch locally, is shutting down, or is
 * already sending SEND_CONCURRENCY such messages: the message then waits in the
 * outbox as PENDING and is dispatched (and re-checked) as usual.
 */
export function reserveSendSlot(ctx: AppContext): SendSlot | null {
  const d = localDispatchers.get(ctx);
  if (!d || d.closed || d.sendingNow >= d.sendMax) return null;
  d.sendingNow += 1;
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      d.sendingNow -= 1;
      settle(ctx, d);
    },
  };
}

/**
 * Sends a message that the transaction which decided it also claimed
 * (SENDING, attempt 1). There is no re-check: the decision was made under the
 * debtor's lock in that same transaction, so no STOP, payment or other send
 * can have landed between the decision and the claim — the reason dispatch
 * re-checks queued messages. The slot is given back when the provider has
 * answered and the outcome is recorded (or the failure handled).
 */
export function sendClaimedNow(ctx: AppContext, slot: SendSlot, message: Message): void {
  const d = localDispatchers.get(ctx)!;
  sendClaimed(ctx, d.adapters, message, new Date())
    .catch((err) =>
      ctx.log.error(
        { err, messageId: message.id },
        'send failed after its claim; recovery reconciles it when its lease runs out',
      ),
    )
    .finally(() => slot.release());
}

export async function scheduleDispatch(ctx: AppContext, messageId: string, at: Date): Promise<void> {
  const local = localDispatchers.get(ctx);
  if (at.getTime() <= Date.now() && local && !local.closed && local.queue.length < LOCAL_QUEUE_MAX) {
    local.queue.push(messageId);
    // Next turn: the caller answers its request first.
    setImmediate(() => pumpLocal(ctx, local));
    return;
  }
  try {
    if (at.getTime() <= Date.now()) await ctx.scheduler.now(DISPATCH_JOB, { messageId });
    else await ctx.scheduler.schedule(at, DISPATCH_JOB, { messageId });
  } catch (err) {
    // The message is safely in the outbox; the sweeper will pick it up.
    ctx.log.warn({ err, messageId }, 'could not schedule dispatch job; the outbox sweep will retry');
  }
}

function hadReplyException(decision: unknown): boolean {
  const reasons = (decision as { reasons?: { rule: string }[] } | null)?.reasons ?? [];
  // Replies under the Reg F exception and opt-out confirmations were allowed
  // only as an immediate answer to the debtor; re-deciding later without that
  // context would wrongly refuse them.
  return reasons.some((r) => r.rule === 'reply_to.exception' || r.rule === 'consent.opt_out_confirmation');
}

async function recordEvents(ctx: AppContext, events: TimelineEvent[]) {
  publishTimeline(ctx.io, events);
}

/**
 * Locks the message's debtor (the lock outreach holds while it decides, so
 * the re-check below sees every reserved attempt), then locks and reads the
 * message itself — one statement. FOR UPDATE hands back the message as it
 * stands after any wait, not as the statement's snapshot saw it.
 */
async function lockForDispatch(tx: Prisma.TransactionClient, messageId: string): Promise<Message | null> {
  const rows = await tx.$queryRawUnsafe<Message[]>(
    `WITH debtor AS (SELECT id FROM debtors WHERE id = (SELECT debtor_id FROM messages WHERE id = $1::uuid) FOR UPDATE)
    SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1::uuid AND (SELECT count(*) FROM debtor) >= 0 FOR UPDATE`,
    messageId,
  );
  return rows[0] ?? null;
}

export async function dispatchMessage(
  ctx: AppContext,
  adapters: ChannelAdapters,
  messageId: string,
  now = new Date(),
): Promise<void> {
  const events: TimelineEvent[] = [];
  // 1. re-check and claim, under the debtor's lock
  const claimed = await ctx.db.$transaction(async (tx) => {
    let rerouted: { contactPointId: string; address: string } | null = null;
    let fresh: ReturnType<typeof contentAtSend> = null;
    const m = await lockForDispatch(tx, messageId);
    if (!m || (m.status !== 'PENDING' && m.status !== 'SCHEDULED')) return null;
    if (m.scheduledAt && m.scheduledAt.getTime() > now.getTime() + 1000) return { reschedule: m.scheduledAt };
    if (m.debtorId && m.debtId && m.intent && !hadReplyException(m.decision)) {
      // The debt and debtor as they stand now come with the snapshot (one query): the message is rendered again from them.
      const loaded = await loadSnapshotWithDebtor(tx, m.debtorId, now, {
        excludeMessageId: m.id,
        ignoreReservationsAfter: m.scheduledAt ?? now,
        debtId: m.debtId,
      });
      const snapshot = loaded?.snapshot;
      if (loaded && snapshot) {
        const decision: Decision = router.decide(
          { debtorId: m.debtorId, debtId: m.debtId, intent: m.intent.replace(/-/g, '_'), channel: m.channel },
          snapshot,
        );
        if (decision.outcome === 'refuse') {
          const reasons = decision.reasons.map((r) => ({ rule: r.rule, detail: r.detail }));
          const { event } = await moveStatus(tx, {
            id: m.id,
            to: 'CANCELLED',
            data: {
              countsAsAttempt: false,
              errorMessage: 'refused at send time',
              decision: JSON.parse(JSON.stringify(decision)),
            },
            history: { detail: { reasons } },
            timeline: { conversationId: m.conversationId, payload: { reasons } },
          });
          if (event) events.push(event);
          return null;
        }
        const routed = decision as RoutedDecision;
        if (routed.outcome === 'defer' && routed.sendAt.getTime() > now.getTime() + 1000) {
          const { event } = await moveStatus(tx, {
            id: m.id,
            to: 'SCHEDULED',
            data: { scheduledAt: routed.sendAt },
            history: { detail: { deferredAtSend: routed.reasons.map((r) => r.rule) } },
            timeline: { conversationId: m.conversationId, payload: { scheduledAt: routed.sendAt.toISOString() } },
          });
          if (event) events.push(event);
          return { reschedule: routed.sendAt };
        }
        if (routed.contactPointId !== m.contactPointId) {
          await tx.message.update({
            where: { id: m.id },
            data: { contactPointId: routed.contactPointId, toAddress: routed.address },
          });
          rerouted = { contactPointId: routed.contactPointId, address: routed.address };
        }
        const atSend = contentAtSend(ctx, m, {
          debtor: loaded.debtor,
          debt: loaded.debt,
          contactPointId: routed.contactPointId,
          now,
        });
        if (atSend && 'refused' in atSend) {
          const reasons = [{ rule: 'content.forbidden', detail: atSend.refused }];
          const { event } = await moveStatus(tx, {
            id: m.id,
            to: 'CANCELLED',
            data: { countsAsAttempt: false, errorMessage: 'refused at send time' },
            history: { detail: { reasons } },
            timeline: { conversationId: m.conversationId, payload: { reasons } },
          });
          if (event) events.push(event);
          return null;
        }
        fresh = atSend;
      }
    }
    const sendTime = fresh
      ? {
          ...fresh.content,
          ...(fresh.voice ? { decision: { ...((m.decision as object | null) ?? {}), voice: fresh.voice } } : {}),
        }
      : {};
    // The claim carries a lease (lease.ts): this process answers for the message until it runs out.
    const lease = newLease(ctx);
    const claim = await moveStatus(tx, {
      id: m.id,
      to: 'SENDING',
      data: { attempts: { increment: 1 }, ...sendTime, ...lease },
      history: false,
    });
    if (!claim.moved) return null;
    const message: Message = {
      ...m,
      ...(sendTime as Partial<Message>),
      ...lease,
      status: 'SENDING',
      attempts: m.attempts + 1,
      contactPointId: rerouted?.contactPointId ?? m.contactPointId,
      toAddress: rerouted?.address ?? m.toAddress,
    };
    return { message };
  }, TX_OPTIONS);
  await recordEvents(ctx, events.splice(0));
  if (!claimed) return;
  if ('reschedule' in claimed) {
    await scheduleDispatch(ctx, messageId, claimed.reschedule!);
    return;
  }
  await sendClaimed(ctx, adapters, claimed.message, now);
}

/** What a send needs beyond the message row: email the thread's reply token, letters the address and the debtor's name. SMS and calls need nothing. */
async function withRelated(
  ctx: AppContext,
  m: Message,
): Promise<LoadedMessage & { attempts: number; conversationId: string }> {
  const related =
    m.channel === 'EMAIL' || m.channel === 'LETTER'
      ? await ctx.db.message.findUniqueOrThrow({
          where: { id: m.id },
          select: {
            conversation: { select: { replyToken: true } },
            contactPoint: true,
            debtor: { select: { fullName: true } },
          },
        })
      : null;
  return {
    ...m,
    conversation: related?.conversation ?? { replyToken: '' },
    contactPoint: related?.contactPoint ?? null,
    debtor: related?.debtor ?? null,
  };
}

/**
 * Steps 2 and 3 of a dispatch, for a message already claimed (SENDING, its
 * attempt counted): its lease is renewed until the outcome is recorded.
 */
export async function sendClaimed(
  ctx: AppContext,
  adapters: ChannelAdapters,
  claimed: Message,
  now: Date,
): Promise<void> {
  const release = holdLease(ctx, claimed.id);
  try {
    await sendHeld(ctx, adapters, claimed, now);
  } finally {
    release();
  }
}

async function sendHeld(ctx: AppContext, adapters: ChannelAdapters, claimed: Message, now: Date): Promise<void> {
  // 2. hand it to the provider
  let result: SendResult;
  let m: Awaited<ReturnType<typeof withRelated>> | undefined;
  try {
    m = await withRelated(ctx, claimed);
    const payload = await buildPayload(ctx, m);
    const sent = await sendWithFailover(adapters[m.channel], { messageId: m.id, payload });
    result = sent.result;
    await recordRoute(ctx, m, sent.route);
  } catch (err) {
    if (err instanceof FailoverExhausted) await recordRoute(ctx, m ?? claimed, err.route);
    const cause = err instanceof FailoverExhausted ? err.last : err;
    const pe =
      cause instanceof ProviderError
        ? cause
        : new ProviderError((cause as Error).message ?? String(cause), 'unknown', 'network', true);
    await handleFailure(ctx, m ?? claimed, pe, now);
    return;
  }

  // 3. record acceptance. The provider has the message now, so this must not
  // be lost to a busy pool: retried a few times before giving up loudly.
  await withRetries(ctx, m.id, () =>
    applyStatus(ctx, {
      ref: { id: m.id },
      status: result.status,
      providerStatus: result.status.toLowerCase(),
      providerEventId: null,
      detail: result.detail ?? {},
      occurredAt: now,
      accepted: { provider: result.provider, providerMessageId: result.providerMessageId },
    }),
  );
  ctx.log.info(
    { messageId: m.id, channel: m.channel, provider: result.provider, providerMessageId: result.providerMessageId },
    'message handed to provider',
  );
}

/**
 * Keeps the provider choice in the message's decision (decision.providerRoutes,
 * one per dispatch attempt) and each failover in its status history — when
 * there was a choice to make: a channel with one provider that accepted at
 * once costs no extra write.
 */
async function recordRoute(ctx: AppContext, m: { id: string; decision: unknown }, route: ProviderRoute): Promise<void> {
  if (route.order.length <= 1 && route.attempts.length <= 1) return;
  const decision = (m.decision ?? {}) as { providerRoutes?: ProviderRoute[] };
  const routes = [...(decision.providerRoutes ?? []), route];
  await ctx.db.message.update({
    where: { id: m.id },
    data: { decision: { ...decision, providerRoutes: routes } as object },
  });
  // The caller's copy too: a later attempt of this dispatch appends to it.
  (m as { decision: unknown }).decision = { ...decision, providerRoutes: routes };
  for (const [i, a] of route.attempts.entries()) {
    const next = route.attempts[i + 1];
    if (a.outcome !== 'failed' || a.fault !== 'provider' || !next) continue;
    await applyStatus(ctx, {
      ref: { id: m.id },
      status: null,
      providerStatus: 'failover',
      providerEventId: null,
      errorCode: a.code ?? null,
      errorMessage: a.message ?? null,
      detail: { failover: { from: a.provider, to: next.provider, code: a.code, httpStatus: a.httpStatus } },
    });
  }
}

async function withRetries<T>(ctx: AppContext, messageId: string, run: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await run();
    } catch (err) {
      if (i >= attempts) {
        ctx.log.error(
          { err, messageId },
          "could not record the provider's acceptance; recovery reconciles it when its lease runs out",
        );
        throw err;
      }
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
}

async function handleFailure(
  ctx: AppContext,
  m: { id: string; attempts: number; conversationId: string; contactPointId: string | null; channel: Channel },
  err: ProviderError,
  now: Date,
) {
  const events: TimelineEvent[] = [];
  const retry = err.transient && m.attempts < MAX_ATTEMPTS;
  const nextAt = new Date(now.getTime() + retryDelayMs(m.attempts));
  const error = { errorCode: err.code, errorMessage: err.message.slice(0, 500) };
  const moved = await withRetries(ctx, m.id, () =>
    ctx.db.$transaction(async (tx) => {
      events.length = 0; // a retried transaction starts its timeline over
      if (retry) {
        const step = await moveStatus(tx, {
          id: m.id,
          to: 'PENDING',
          data: { scheduledAt: nextAt, ...error },
          history: {
            errorCode: err.code,
            detail: { retryAt: nextAt.toISOString(), attempt: m.attempts, provider: err.provider },
          },
        });
        return step.moved;
      }
      const step = await moveStatus(tx, {
        id: m.id,
        to: 'FAILED',
        data: { countsAsAttempt: false, ...error },
        history: {
          errorCode: err.code,
          detail: { provider: err.provider, transient: err.transient, attempts: m.attempts },
        },
        timeline: { conversationId: m.conversationId, payload: { errorCode: err.code } },
      });
      if (step.event) events.push(step.event);
      if (step.moved && err.effect && m.contactPointId) {
        events.push(
          ...(await applyContactPointEffect(
            tx,
            m.contactPointId,
            err.effect,
            `provider:${err.provider}:${err.code}`,
            m.conversationId,
            ctx,
          )),
        );
      }
      return step.moved;
    }, TX_OPTIONS),
  );
  publishTimeline(ctx.io, events);
  if (!moved) {
    // No longer SENDING: another worker or a reconciliation settled it first.
    ctx.log.warn(
      { messageId: m.id, code: err.code },
      'provider fault not recorded: the message had already left SENDING',
    );
    return;
  }
  if (retry) {
    ctx.log.warn(
      { messageId: m.id, code: err.code, attempt: m.attempts, retryAt: nextAt },
      'transient provider error; will retry',
    );
    await scheduleDispatch(ctx, m.id, nextAt);
  } else {
    ctx.log.warn({ messageId: m.id, code: err.code, provider: err.provider }, 'message failed');
  }
}

type LoadedMessage = {
  id: string;
  channel: Channel;
  toAddress: string | null;
  subject: string | null;
  body: string;
  html: string | null;
  pdfPath: string | null;
  contactPointId: string | null;
  conversation: { replyToken: string };
  debtor: { fullName: string } | null;
  contactPoint: {
    line1: string | null;
    line2: string | null;
    city: string | null;
    region: string | null;
    postalCode: string | null;
    country: string | null;
  } | null;
  decision: unknown;
  intent: string | null;
};

/** What a send of `m` hands its provider (recovery asks the provider about exactly this). */
export async function payloadFor(ctx: AppContext, m: Message): Promise<OutboundPayload> {
  return buildPayload(ctx, await withRelated(ctx, m));
}

async function buildPayload(ctx: AppContext, m: LoadedMessage): Promise<OutboundPayload> {
  if (!m.toAddress) throw new ProviderError('message has no destination', 'gateway', 'no_destination', false);
  switch (m.channel) {
    case 'SMS':
      return { channel: 'SMS', to: m.toAddress, text: m.body };
    case 'EMAIL': {
      const domain = ctx.providers.email.inboundDomain;
      return {
        channel: 'EMAIL',
        to: m.toAddress,
        from: ctx.providers.email.from,
        fromName: ctx.config.COMPANY_NAME,
        subject: m.subject ?? ctx.config.COMPANY_NAME,
        text: m.body,
        html: m.html ?? m.body,
        replyTo: `reply+${m.conversation.replyToken}@${domain}`,
        messageIdHeader: `<${m.id}@${domain}>`,
        returnPath: returnPathFor(ctx.secret, m.id, domain),
        listUnsubscribeUrl: unsubscribeUrl(ctx, { contactPointId: m.contactPointId! }),
        customArgs: { gateway_message_id: m.id },
      };
    }
    case 'VOICE':
      return { channel: 'VOICE', to: m.toAddress, machineDetection: true, record: ctx.config.VOICE_RECORD_CALLS };
    case 'LETTER': {
      const letter = (
        m.decision as {
          letter?: {
            mailType: 'usps_first_class' | 'usps_standard';
            extraService: 'certified' | 'certified_return_receipt' | 'registered' | null;
          };
        } | null
      )?.letter;
      const cp = m.contactPoint;
      if (!m.pdfPath || !cp?.line1 || !cp.city || !cp.postalCode || !cp.country)
        throw new ProviderError(
          'letter has no PDF or no complete address',
          'gateway',
          'incomplete_letter',
          false,
          'address_invalid',
        );
      return {
        channel: 'LETTER',
        to: {
          name: m.debtor?.fullName ?? '',
          line1: cp.line1,
          line2: cp.line2,
          city: cp.city,
          region: cp.region,
          postalCode: cp.postalCode,
          country: cp.country,
        },
        from: returnAddress(ctx),
        pdf: fs.readFileSync(path.resolve(ctx.config.DATA_DIR, m.pdfPath)),
        pdfUrl: letterPdfUrl(ctx, m.id),
        description: `${m.intent ?? 'letter'} ${m.id}`,
        mailType: letter?.mailType ?? 'usps_first_class',
        extraService: letter?.extraService ?? null,
      };
    }
  }
}

export function returnAddress(ctx: AppContext) {
  const [line1 = '', city = '', region = '', postalCode = '', country = 'US'] = ctx.config.RETURN_ADDRESS.split(
    '|',
  ).map((s) => s.trim());
  return { name: ctx.config.COMPANY_NAME, line1, city, region, postalCode, country };
}

/**
 * How often the outbox sweep runs, and how long past due a message waits for
 * its own job before the sweep sends it: a minute, or the send lease when that
 * is shorter (a job of a process that died is locked for longer; the claim in
 * dispatchMessage makes a sweep racing a live job harmless).
 */
export function outboxSweepMs(ctx: AppContext): number {
  return Math.min(60_000, ctx.config.SEND_LEASE_MS);
}

/** Registers the dispatch job and the outbox sweep (safety net for lost jobs). */
export function defineDispatchJobs(ctx: AppContext, adapters: ChannelAdapters): void {
  localDispatchers.set(ctx, {
    adapters,
    sendMax: ctx.config.SEND_CONCURRENCY,
    queue: [],
    running: 0,
    sendingNow: 0,
    closed: false,
    idle: [],
  });
  ctx.scheduler.define(
    DISPATCH_JOB,
    async (job: { attrs: { data: { messageId: string } } }) => {
      await dispatchMessage(ctx, adapters, job.attrs.data.messageId);
    },
    { concurrency: 20, removeOnComplete: true } as never,
  );
  const sweepLock = Math.max(outboxSweepMs(ctx), 10_000);
  ctx.scheduler.define(
    OUTBOX_SWEEP_JOB,
    async (job: Job) =>
      withHeartbeat(job, sweepLock, async () => {
        // Messages due for longer than outboxSweepMs that no job picked up (e.g.
        // the process died between commit and scheduling, or holding their job):
        // after a crash that can be a whole wave, so several at once. Latest due
        // first: a job taken over from the dead process works through the same
        // backlog from its start, so the two meet once instead of queueing on
        // each other's row locks message after message.
        const stale = await ctx.db.message.findMany({
          where: {
            direction: 'OUTBOUND',
            status: { in: ['PENDING', 'SCHEDULED'] },
            scheduledAt: { lt: new Date(Date.now() - outboxSweepMs(ctx)) },
          },
          select: { id: true },
          orderBy: [{ scheduledAt: 'desc' }, { id: 'desc' }],
          take: 500,
        });
        const ids = stale.map((m) => m.id);
        const worker = async () => {
          for (let id = ids.shift(); id; id = ids.shift()) {
            await dispatchMessage(ctx, adapters, id).catch((err: unknown) =>
              ctx.log.warn({ err, messageId: id }, 'outbox sweep could not dispatch a message; the next sweep retries'),
            );
          }
        };
        await Promise.all(Array.from({ length: LOCAL_CONCURRENCY }, worker));
      }),
    { lockLifetime: sweepLock } as never,
  );
}

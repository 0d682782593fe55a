// Outgoing webhooks: tell the creditor's system about replies, promises,
// disputes, opt-outs and payments. emitOutgoingEvent() stores one
// WebhookDelivery per matching subscription (the outbox) and schedules the
// delivery job; the job POSTs the signed JSON, and on failure retries with
// exponential backoff and jitter until MAX_WEBHOOK_ATTEMPTS. A sweep re-queues
// deliveries whose job was lost (process died between commit and schedule).
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { signatureHeader, SIGNATURE_HEADER } from './sign.js';
import { deliveriesSql } from './subscribers.js';
import { webhookFetchPolicy } from './target.js';
import { BlockedTargetError, guardedFetch } from '../net/guarded-fetch.js';

/**
 * Event types and what `data` carries:
 * - reply.received: an inbound SMS/email landed in a thread — messageId, conversationId,
 *   debtorId (null when unmatched), contactPointId, channel, from, subject, text (the part
 *   the debtor wrote), receivedAt, matchedBy, fromUnknownAddress, intents, keyword?, attachments (count).
 * - opt_out.recorded: the consumer opted an address out of a channel (STOP, free text,
 *   unsubscribe link, spam report, keypad 9, carrier 21610) — channel, address, contactPointId
 *   and debtorId (both null for an address on no file, then put on the suppression list), source.
 * - dispute.opened / cease.requested: a reply newly raised DISPUTE / CEASE on the conversation —
 *   conversationId, debtorId, messageId, channel, intents, extracted.
 * - conversation.flagged: a reply newly raised PROMISE_TO_PAY, ALREADY_PAID, HARDSHIP,
 *   CALLBACK_REQUEST or WRONG_NUMBER — the same fields plus flag.
 * - promise.created, payment.recorded, debt.paid: from the payments module.
 * - preferences.updated: the debtor set contact preferences on the debtor page (src/portal).
 * - payment.reversed: a provider refunded, charged back or failed a recorded payment; the debt is reopened.
 * - plan.created / plan.broken: a self-collecting instalment plan was chosen / failed past the creditor's limit.
 */
export const OUTGOING_EVENT_TYPES = [
  'reply.received',
  'promise.created',
  'dispute.opened',
  'opt_out.recorded',
  'cease.requested',
  'conversation.flagged',
  'payment.recorded',
  'debt.paid',
  'preferences.updated',
  'payment.reversed',
  'plan.created',
  'plan.broken',
] as const;
export type OutgoingEventType = (typeof OUTGOING_EVENT_TYPES)[number];

export const WEBHOOK_DELIVER_JOB = 'webhook-deliver';
export const WEBHOOK_SWEEP_JOB = 'webhook-sweep';
export const MAX_WEBHOOK_ATTEMPTS = 10;
const TIMEOUT_MS = 10_000;

type Tx = Prisma.TransactionClient | Db;

/** The JSON body a subscriber receives. */
export interface OutgoingEnvelope {
  id: string; // event id, the same in every delivery of this event
  type: OutgoingEventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/** Delay before attempt n+1 after n failures: 30 s · 2^(n-1), capped at 6 h, with ±20% jitter. */
export function webhookRetryDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(6 * 3600_000, 30_000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Records the event for every active subscription that wants it and schedules
 * delivery. Pass `tx` to write the deliveries inside your own transaction (they
 * then exist only if it commits); the job is scheduled after the call either
 * way, and the sweep picks up any whose scheduling is lost.
 */
export async function emitOutgoingEvent(
  ctx: AppContext,
  type: OutgoingEventType,
  payload: Record<string, unknown>,
  opts: { tx?: Tx } = {},
): Promise<string[]> {
  const db = opts.tx ?? ctx.db;
  const rows = await db.$queryRawUnsafe<{ id: string }[]>(
    `WITH d AS (${deliveriesSql('$1', '$2::jsonb')}) SELECT id::text AS id FROM d`,
    type,
    JSON.stringify(envelopeOf(type, payload)),
  );
  const ids = rows.map((r) => r.id);
  if (!ids.length) return [];
  // Inside a caller's transaction the rows are not visible yet: schedule a little later; the job tolerates a missing row by retrying via the sweep.
  if (opts.tx) setTimeout(() => void scheduleDeliveries(ctx, ids), 250).unref();
  else await scheduleDeliveries(ctx, ids);
  return ids;
}

/** The body every subscriber of this event receives (its id is the same in each delivery). */
export function envelopeOf(type: OutgoingEventType, data: Record<string, unknown>): OutgoingEnvelope {
  return { id: randomUUID(), type, createdAt: new Date().toISOString(), data };
}

/** Starts delivery jobs for committed delivery rows; one that cannot be scheduled is left to the sweep. */
export async function scheduleDeliveries(ctx: AppContext, ids: string[]): Promise<void> {
  for (const id of ids)
    await ctx.scheduler
      .now(WEBHOOK_DELIVER_JOB, { deliveryId: id })
      .catch((err: unknown) =>
        ctx.log.warn({ err, deliveryId: id }, 'could not schedule webhook delivery; the sweep will retry'),
      );
}

/** One delivery attempt. Returns the new status. Safe to run twice: a delivered row is left alone. */
export async function deliverWebhook(
  ctx: AppContext,
  deliveryId: string,
  opts: { now?: () => Date; random?: () => number } = {},
): Promise<'SUCCEEDED' | 'QUEUED' | 'FAILED' | 'SKIPPED'> {
  const now = opts.now ?? (() => new Date());
  const d = await ctx.db.webhookDelivery.findUnique({ where: { id: deliveryId }, include: { subscription: true } });
  if (!d || d.status === 'SUCCEEDED' || d.status === 'FAILED') return 'SKIPPED';
  // Claim: only one worker attempts a delivery at a time (RUNNING), by compare-and-set.
  const claimed = await ctx.db.webhookDelivery.updateMany({
    where: { id: d.id, status: 'QUEUED' },
    data: { status: 'RUNNING' },
  });
  if (claimed.count === 0) return 'SKIPPED';
  if (!d.subscription.active) {
    await ctx.db.webhookDelivery.update({
      where: { id: d.id },
      data: { status: 'FAILED', lastError: 'subscription disabled' },
    });
    return 'FAILED';
  }
  const body = JSON.stringify(d.payload);
  const attempts = d.attempts + 1;
  let error: string | null = null;
  try {
    // Checked again here, per connection and after DNS: a subscription made
    // before the check, or a name that now resolves inside, is refused.
    const res = await guardedFetch(d.subscription.url, {
      method: 'POST',
      policy: webhookFetchPolicy(ctx),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'dunning-gateway-webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(d.subscription.secret, body, Math.floor(now().getTime() / 1000)),
        'X-Gateway-Event': d.event,
        'X-Gateway-Delivery': d.id,
      },
      body,
      timeoutMs: TIMEOUT_MS,
      // The answer is not used: read a little of it so the connection is released.
      maxBytes: 64 * 1024,
      truncate: true,
    });
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (e) {
    const blocked = e instanceof BlockedTargetError;
    error = blocked
      ? `target refused: ${(e as Error).message}`
      : (e as Error).name === 'TimeoutError'
        ? `timed out after ${TIMEOUT_MS} ms`
        : (e as Error).message;
  }
  if (!error) {
    await ctx.db.webhookDelivery.update({
      where: { id: d.id },
      data: { status: 'SUCCEEDED', attempts, deliveredAt: now(), lastError: null, nextAttemptAt: null },
    });
    return 'SUCCEEDED';
  }
  if (attempts >= MAX_WEBHOOK_ATTEMPTS) {
    await ctx.db.webhookDelivery.update({
      where: { id: d.id },
      data: { status: 'FAILED', attempts, lastError: error, nextAttemptAt: null },
    });
    ctx.log.warn({ deliveryId: d.id, attempts, err: error }, 'webhook delivery gave up');
    return 'FAILED';
  }
  const next = new Date(now().getTime() + webhookRetryDelayMs(attempts, opts.random));
  await ctx.db.webhookDelivery.update({
    where: { id: d.id },
    data: { status: 'QUEUED', attempts, lastError: error, nextAttemptAt: next },
  });
  await ctx.scheduler.schedule(next, WEBHOOK_DELIVER_JOB, { deliveryId: d.id }).catch(() => undefined);
  return 'QUEUED';
}

/** Agenda jobs: the delivery job and a sweep (every minute) for deliveries whose job was lost. */
export function defineWebhookJobs(ctx: AppContext): void {
  ctx.scheduler.define(
    WEBHOOK_DELIVER_JOB,
    async (job: { attrs: { data: { deliveryId: string } } }) => {
      await deliverWebhook(ctx, job.attrs.data.deliveryId);
    },
    { concurrency: 10, removeOnComplete: true },
  );
  ctx.scheduler.define(WEBHOOK_SWEEP_JOB, async () => {
    const cutoff = new Date(Date.now() - 60_000);
    // RUNNING for over 5 minutes = the worker died mid-attempt: make it retryable.
    await ctx.db.webhookDelivery.updateMany({
      where: { status: 'RUNNING', nextAttemptAt: { lt: new Date(Date.now() - 5 * 60_000) } },
      data: { status: 'QUEUED' },
    });
    const due = await ctx.db.webhookDelivery.findMany({
      where: { status: 'QUEUED', nextAttemptAt: { lt: cutoff } },
      select: { id: true },
      take: 200,
    });
    for (const d of due) await deliverWebhook(ctx, d.id);
  });
}

export async function startWebhookJobs(ctx: AppContext): Promise<void> {
  await ctx.scheduler.every('1 minute', WEBHOOK_SWEEP_JOB, undefined, { skipImmediate: true });
}

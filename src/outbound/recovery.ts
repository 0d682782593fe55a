// Recovery of messages stranded in SENDING. A message is claimed for sending
// with a lease (lease.ts); a process that dies between the claim and recording
// the provider's answer leaves it SENDING with a lease nobody renews. Once the
// lease has run out, this sweep (a scheduler job, and once at start) takes the
// claim over and reconciles the message, in this order:
//
//   1. Attempts used up (MAX_ATTEMPTS): put before an admin — a message whose
//      sending keeps killing its process must not loop.
//   2. The provider deduplicates by our message id (an idempotency key) and the
//      first request is inside its window: REPLAY the same request. The
//      provider answers with the first result if it had it, sends if not;
//      either way exactly one send (Lob: Idempotency-Key = message id, 24 h).
//   3. The provider can be asked (adapter.findSent): a record that is this send
//      is ADOPTED (its id and status recorded, as dispatch would have); no
//      record means nothing went out, so the message is RESENT. A lookup that
//      fails is tried again at the next sweep, LOOKUP_TRIES times in all.
//   4. Otherwise — no key, no lookup, the lookup gave up, or several records
//      could be it — the channel's rule in RECOVERY_POLICY applies.
//
// RESEND returns the message to the outbox (PENDING, due now), so dispatch
// re-checks consent, quiet hours and limits before sending it again: the
// process may have been down for hours. REVIEW parks it as NEEDS_REVIEW, seen
// through GET /api/v1/message-reviews, until an admin resends or cancels it
// (resolveReview). Every reconciliation is a status event of the message (its
// detail names the action, the reason and the claim that ran out), a timeline
// event of its thread and an audit entry.
import { firstAdapter } from './failover.js';
import type { AppContext } from '../context.js';
import type { Message, Prisma } from '../generated/prisma/client.js';
import type { Channel, MessageStatus } from '../generated/prisma/enums.js';
import type { SentCandidate } from '../../channels/types.js';
import type { Principal } from '../auth/principal.js';
import { MESSAGE_COLUMNS } from '../conversations/message-write.js';
import { publishTimeline } from '../conversations/live.js';
import { audit, type AuditActor } from '../audit.js';
import { applyStatus, moveStatus, type GatewayStep } from '../messaging/status.js';
import { conflict, notFound } from '../http/errors.js';
import { MAX_ATTEMPTS, payloadFor, scheduleDispatch, sendClaimed, type ChannelAdapters } from './dispatch.js';
import { heldClaims, holdLease, leaseOwner } from './lease.js';

export const RECOVERY_JOB = 'send-lease-recovery';

/** What recovery does for a channel when the provider can neither deduplicate a repeat nor say whether it has the message. */
export interface ChannelRecovery {
  otherwise: 'resend' | 'review';
  why: string;
}

/** The per-channel policy (README "Crash recovery"; docs/adr/0001-send-lease-recovery.md). */
export const RECOVERY_POLICY: Record<Channel, ChannelRecovery> = {
  SMS: {
    otherwise: 'resend',
    why: 'a rare duplicate reminder text costs a segment and some patience; a lost one silently stalls the cadence, and texts do not count toward the 7-calls-in-7-days cap',
  },
  EMAIL: {
    otherwise: 'resend',
    why: 'SendGrid and SMTP take no idempotency key and cannot be asked; the repeat carries the same Message-ID header, which many mailboxes show once',
  },
  VOICE: {
    otherwise: 'review',
    why: 'a second call rings the debtor twice and counts against the 7-calls-in-7-days limit (Reg F 1006.14), so a person decides',
  },
  LETTER: {
    otherwise: 'review',
    why: 'a final notice printed twice, or taken for sent and never printed, is a legal risk: a person checks the print provider first',
  },
};

/** Lookups of one stranded message that may fail (provider down) before the channel's rule applies. */
export const LOOKUP_TRIES = 3;
/** Provider records up to this long before the message was made may be it (clocks differ). */
const CLOCK_SKEW_MS = 60_000;
/** A replay this close to the end of the provider's idempotency window is no longer trusted to deduplicate. */
const IDEMPOTENCY_MARGIN_MS = 3600_000;
/** Stranded messages taken over per sweep, and reconciled at once. */
const SWEEP_LIMIT = 200;
const SWEEP_CONCURRENCY = 4;

export type RecoveryAction = 'replay' | 'adopt' | 'resend' | 'review' | 'lookup_failed';

export interface Reconciled {
  messageId: string;
  action: RecoveryAction;
  reason: string;
}

/** The claim that ran out, as it was when recovery took it over. */
interface StrandedRow extends Message {
  previousClaimedBy: string | null;
  previousClaimedAt: Date | null;
  previousLeaseUntil: Date | null;
}

/**
 * Takes over (SKIP LOCKED: a message at most once, across processes) the
 * SENDING messages whose lease ran out before `now` — or, from before leases,
 * that have not changed for a lease — and gives each a fresh lease of this
 * process. claimed_at stays the send claim's.
 */
async function takeOverExpired(ctx: AppContext, now: Date, limit: number): Promise<StrandedRow[]> {
  return ctx.db.$queryRawUnsafe<StrandedRow[]>(
    `WITH expired AS (
       SELECT id AS eid, claimed_by AS prev_by, claimed_at AS prev_at, lease_until AS prev_until FROM messages
        WHERE direction = 'OUTBOUND' AND status = 'SENDING'
          AND COALESCE(lease_until, updated_at + $3::integer * interval '1 millisecond') < $1::timestamptz
          AND id <> ALL($4::uuid[])
        ORDER BY lease_until NULLS FIRST
        LIMIT $5::integer
        FOR UPDATE SKIP LOCKED)
     UPDATE messages SET claimed_by = $2, lease_until = $6::timestamptz
       FROM expired WHERE id = expired.eid
     RETURNING ${MESSAGE_COLUMNS}, expired.prev_by AS "previousClaimedBy", expired.prev_at AS "previousClaimedAt", expired.prev_until AS "previousLeaseUntil"`,
    now,
    leaseOwner(ctx),
    ctx.config.SEND_LEASE_MS,
    heldClaims(ctx),
    limit,
    new Date(now.getTime() + ctx.config.SEND_LEASE_MS),
  );
}

/** One sweep: reconciles every message whose lease ran out (up to SWEEP_LIMIT; the next sweep takes the rest). */
export async function recoverStranded(
  ctx: AppContext,
  adapters: ChannelAdapters,
  opts: { now?: Date } = {},
): Promise<Reconciled[]> {
  const now = opts.now ?? new Date();
  const stranded = await takeOverExpired(ctx, now, SWEEP_LIMIT);
  const done: Reconciled[] = [];
  const queue = [...stranded];
  const worker = async () => {
    for (let m = queue.shift(); m; m = queue.shift()) {
      try {
        done.push(await reconcile(ctx, adapters, m, now));
      } catch (err) {
        // Still ours with a fresh lease: the sweep after it runs out tries again.
        ctx.log.error({ err, messageId: m.id }, 'could not reconcile a stranded message; retrying after its lease');
      }
    }
  };
  await Promise.all(Array.from({ length: SWEEP_CONCURRENCY }, worker));
  if (done.length)
    ctx.log.warn(
      { reconciled: done.length, actions: countBy(done.map((d) => d.action)) },
      'messages stranded in SENDING reconciled',
    );
  return done;
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

async function reconcile(ctx: AppContext, adapters: ChannelAdapters, m: StrandedRow, now: Date): Promise<Reconciled> {
  const adapter = firstAdapter(adapters[m.channel]);
  const policy = RECOVERY_POLICY[m.channel];
  const claim = { claimedBy: m.previousClaimedBy, claimedAt: m.previousClaimedAt, leaseUntil: m.previousLeaseUntil };
  const release = holdLease(ctx, m.id);
  try {
    const otherwise = (reason: string, extra: Record<string, unknown> = {}) =>
      policy.otherwise === 'resend' ? resend(ctx, m, now, reason, claim, extra) : review(ctx, m, reason, claim, extra);

    if (m.attempts >= MAX_ATTEMPTS) return await review(ctx, m, `stranded after ${m.attempts} attempts`, claim);

    if (
      adapter.idempotencyWindowMs &&
      now.getTime() - m.createdAt.getTime() < adapter.idempotencyWindowMs - IDEMPOTENCY_MARGIN_MS
    ) {
      return await replay(ctx, adapters, m, now, claim);
    }

    if (adapter.findSent) {
      let candidates: SentCandidate[];
      try {
        const payload = await payloadFor(ctx, m);
        candidates = await adapter.findSent({
          messageId: m.id,
          payload,
          since: new Date(m.createdAt.getTime() - CLOCK_SKEW_MS),
        });
      } catch (err) {
        const failures = (await lookupFailures(ctx, m.id)) + 1;
        const error = (err as Error).message?.slice(0, 300) ?? String(err);
        if (failures < LOOKUP_TRIES) return await lookupFailed(ctx, m, failures, error, claim);
        return await otherwise(
          `${adapter.provider} could not be asked (${failures} tries): ${RECOVERY_POLICY[m.channel].otherwise}`,
          { lookupError: error },
        );
      }
      const ours = await alreadyOurs(
        ctx,
        candidates.map((c) => c.providerMessageId),
      );
      const open = candidates
        .filter((c) => !ours.has(c.providerMessageId))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      const exact = open.filter((c) => c.exact);
      if (exact.length) return await adopt(ctx, m, adapter.provider, exact[0]!, open.length, claim);
      if (open.length === 1) return await adopt(ctx, m, adapter.provider, open[0]!, 1, claim);
      if (open.length === 0)
        return await resend(ctx, m, now, `${adapter.provider} has no record of it: nothing went out`, claim, {
          lookedUp: true,
        });
      return await otherwise(`${open.length} ${adapter.provider} records could be it`, {
        candidates: open.map((c) => c.providerMessageId),
      });
    }

    return await otherwise(`${adapter.provider} takes no idempotency key and cannot be asked`);
  } finally {
    release();
  }
}

type Claim = { claimedBy: string | null; claimedAt: Date | null; leaseUntil: Date | null };
const RECOVERY_ACTOR: AuditActor = { type: 'system', id: 'recovery' };

function detailOf(action: RecoveryAction, reason: string, claim: Claim, extra: Record<string, unknown> = {}) {
  return {
    recovery: action,
    reason,
    expiredClaim: {
      by: claim.claimedBy,
      at: claim.claimedAt?.toISOString() ?? null,
      leaseUntil: claim.leaseUntil?.toISOString() ?? null,
    },
    ...extra,
  };
}

async function lookupFailures(ctx: AppContext, messageId: string): Promise<number> {
  const [r] = await ctx.db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::integer AS n FROM message_status_events WHERE message_id = $1::uuid AND detail->>'recovery' = 'lookup_failed'`,
    messageId,
  );
  return r?.n ?? 0;
}

async function alreadyOurs(ctx: AppContext, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await ctx.db.message.findMany({
    where: { providerMessageId: { in: ids } },
    select: { providerMessageId: true },
  });
  return new Set(rows.map((r) => r.providerMessageId!));
}

/**
 * One gateway step (messaging/status.ts moveStatus) with its status event,
 * timeline event and audit entry, in one transaction; `where` narrows it
 * (recovery: still this process's claim). False when the message moved
 * meanwhile (a late provider callback, or another admin, got there first).
 */
async function move(
  ctx: AppContext,
  m: Pick<Message, 'id' | 'conversationId'>,
  to: GatewayStep,
  data: Prisma.MessageUpdateManyMutationInput,
  detail: Record<string, unknown>,
  actor: AuditActor,
  where?: Prisma.MessageWhereInput,
): Promise<boolean> {
  const { moved, event } = await ctx.db.$transaction(async (tx) => {
    const step = await moveStatus(tx, {
      id: m.id,
      to,
      data,
      where,
      history: { detail },
      timeline: { conversationId: m.conversationId, payload: detail },
    });
    if (step.moved)
      await audit(tx, actor, {
        action: `message.${String(detail.recovery ?? detail.review)}`,
        entityType: 'message',
        entityId: m.id,
        data: detail,
      });
    return step;
  });
  if (event) publishTimeline(ctx.io, [event]);
  return moved;
}

/** Recovery's steps apply only to a claim it still holds. */
const ours = (ctx: AppContext): Prisma.MessageWhereInput => ({ status: 'SENDING', claimedBy: leaseOwner(ctx) });

async function resend(
  ctx: AppContext,
  m: Message,
  now: Date,
  reason: string,
  claim: Claim,
  extra: Record<string, unknown> = {},
): Promise<Reconciled> {
  const moved = await move(
    ctx,
    m,
    'PENDING',
    { scheduledAt: now },
    detailOf('resend', reason, claim, extra),
    RECOVERY_ACTOR,
    ours(ctx),
  );
  if (moved) await scheduleDispatch(ctx, m.id, now);
  return { messageId: m.id, action: 'resend', reason };
}

async function review(
  ctx: AppContext,
  m: Message,
  reason: string,
  claim: Claim,
  extra: Record<string, unknown> = {},
): Promise<Reconciled> {
  await move(
    ctx,
    m,
    'NEEDS_REVIEW',
    { errorCode: 'stranded', errorMessage: reason.slice(0, 500) },
    detailOf('review', reason, claim, extra),
    RECOVERY_ACTOR,
    ours(ctx),
  );
  return { messageId: m.id, action: 'review', reason };
}

async function lookupFailed(
  ctx: AppContext,
  m: Message,
  failures: number,
  error: string,
  claim: Claim,
): Promise<Reconciled> {
  const reason = `lookup failed (${failures} of ${LOOKUP_TRIES}); tried again when this lease runs out`;
  // Stays SENDING under this process's fresh lease; recorded, so the tries are counted across processes.
  await ctx.db.$transaction(async (tx) => {
    await tx.messageStatusEvent.create({
      data: {
        messageId: m.id,
        status: 'SENDING',
        providerStatus: 'recovery',
        detail: detailOf('lookup_failed', reason, claim, { error }) as Prisma.InputJsonValue,
      },
    });
    await audit(tx, RECOVERY_ACTOR, {
      action: 'message.lookup_failed',
      entityType: 'message',
      entityId: m.id,
      data: { reason, error },
    });
  });
  return { messageId: m.id, action: 'lookup_failed', reason };
}

/** The provider deduplicates by our id: the same request again, as a new attempt under this process's claim. */
async function replay(
  ctx: AppContext,
  adapters: ChannelAdapters,
  m: Message,
  now: Date,
  claim: Claim,
): Promise<Reconciled> {
  const reason = `${firstAdapter(adapters[m.channel]).provider} deduplicates by the message id: the same request again returns the first result or sends once`;
  const detail = detailOf('replay', reason, claim);
  const claimed = await ctx.db.$transaction(async (tx) => {
    const r = await tx.message.updateMany({
      where: { id: m.id, status: 'SENDING', claimedBy: leaseOwner(ctx) },
      data: { attempts: { increment: 1 }, claimedAt: now },
    });
    if (r.count === 0) return false;
    await tx.messageStatusEvent.create({
      data: { messageId: m.id, status: 'SENDING', providerStatus: 'recovery', detail: detail as Prisma.InputJsonValue },
    });
    await audit(tx, RECOVERY_ACTOR, { action: 'message.replay', entityType: 'message', entityId: m.id, data: detail });
    return true;
  });
  if (claimed) await sendClaimed(ctx, adapters, { ...m, attempts: m.attempts + 1, claimedAt: now }, now);
  return { messageId: m.id, action: 'replay', reason };
}

/** The provider has this send: record its id and where it stands, as dispatch would have. */
async function adopt(
  ctx: AppContext,
  m: Message,
  provider: string,
  c: SentCandidate,
  considered: number,
  claim: Claim,
): Promise<Reconciled> {
  const reason = `${provider} has it as ${c.providerMessageId} (${c.providerStatus})`;
  const detail = detailOf('adopt', reason, claim, { providerMessageId: c.providerMessageId, candidates: considered });
  await applyStatus(ctx, {
    ref: { id: m.id },
    status: 'QUEUED',
    providerStatus: 'recovery',
    providerEventId: null,
    detail,
    occurredAt: c.createdAt,
    accepted: { provider, providerMessageId: c.providerMessageId },
  });
  // Where it stands now, when the callbacks that said so were lost with the process (idempotent by its event id).
  if (c.status && c.status !== 'QUEUED') {
    await applyStatus(ctx, {
      ref: { id: m.id },
      status: c.status,
      providerStatus: c.providerStatus,
      providerEventId: `recovery:${c.providerMessageId}:${c.providerStatus}`,
      detail: { recovery: 'adopt' },
    });
  }
  // (Callbacks stored while its id was unknown are woken by the shared layer, as for dispatch's own acceptance.)
  await audit(ctx.db, RECOVERY_ACTOR, { action: 'message.adopt', entityType: 'message', entityId: m.id, data: detail });
  return { messageId: m.id, action: 'adopt', reason };
}

// ---- admin review ----

export type ReviewAction = 'resend' | 'cancel';

/**
 * An admin's answer to a message in NEEDS_REVIEW: `resend` returns it to the
 * outbox (dispatch re-checks consent, hours and limits before sending);
 * `cancel` closes it unsent. A cancelled one still counts toward contact
 * limits: it may have reached the debtor, which is why it was in review.
 */
export async function resolveReview(
  ctx: AppContext,
  messageId: string,
  action: ReviewAction,
  actor: Principal,
  note?: string,
): Promise<{ id: string; status: MessageStatus }> {
  const m = await ctx.db.message.findUnique({
    where: { id: messageId },
    select: { id: true, conversationId: true, status: true },
  });
  if (!m) throw notFound('message');
  if (m.status !== 'NEEDS_REVIEW') throw conflict(`the message is ${m.status}, not NEEDS_REVIEW`, { status: m.status });
  const now = new Date();
  const detail = {
    review: action === 'resend' ? 'review_resend' : 'review_cancel',
    by: actor.id ?? null,
    ...(note ? { note } : {}),
  };
  const to: GatewayStep = action === 'resend' ? 'PENDING' : 'CANCELLED';
  const data: Prisma.MessageUpdateManyMutationInput =
    action === 'resend'
      ? { scheduledAt: now, errorCode: null, errorMessage: null }
      : { errorMessage: 'cancelled after review' };
  if (!(await move(ctx, m, to, data, detail, actor, { status: 'NEEDS_REVIEW' })))
    throw conflict('the message changed meanwhile; reload it');
  if (action === 'resend') await scheduleDispatch(ctx, m.id, now);
  return { id: m.id, status: to };
}

/** Messages waiting for an admin, newest first, with why each is there. */
export async function listReviews(ctx: AppContext, limit = 100) {
  const rows = await ctx.db.message.findMany({
    where: { status: 'NEEDS_REVIEW' },
    orderBy: { updatedAt: 'desc' },
    take: limit,
    include: { statusEvents: { where: { status: 'NEEDS_REVIEW' }, orderBy: { id: 'desc' }, take: 1 } },
  });
  const total = await ctx.db.message.count({ where: { status: 'NEEDS_REVIEW' } });
  return {
    total,
    data: rows.map((m) => ({
      id: m.id,
      conversationId: m.conversationId,
      debtorId: m.debtorId,
      campaignId: m.campaignId,
      channel: m.channel,
      intent: m.intent,
      to: m.toAddress,
      attempts: m.attempts,
      createdAt: m.createdAt,
      reason: m.errorMessage,
      since: m.statusEvents[0]?.occurredAt ?? m.updatedAt,
      detail: m.statusEvents[0]?.detail ?? null,
    })),
  };
}

// Status of our outbound messages: the one place a message's status changes.
// Two kinds of change, each with its one rule:
//   - progress the provider reports (applyStatus: dispatch recording the
//     acceptance, status callbacks): kept as a MessageStatusEvent (idempotent
//     by the provider's event id), and the status only moves forward (RANK),
//     so a late "sent" never overwrites "delivered" and the first final
//     outcome stays;
//   - the gateway's own steps before and around the provider (moveStatus:
//     claim, defer, retry, refusal, cancellation, failure), each allowed only
//     from the states GATEWAY_STEPS lists (a retry goes back from SENDING).
// Both directions use it (dispatch in src/outbound, webhooks in src/inbound),
// so it sits below both.
import type { AppContext } from '../context.js';
import { Prisma, type Message } from '../generated/prisma/client.js';
import type { MessageStatus } from '../generated/prisma/enums.js';
import {
  appendCtes,
  appendEvent,
  SELECT_APPENDED,
  timelineEvent,
  type AppendedRow,
  type TimelineEvent,
} from '../conversations/thread.js';
import { intakePool, sqlPool, statement } from '../db/client.js';
import { MESSAGE_COLUMNS } from '../conversations/message-write.js';
import { finishOutcome, inThread, newOutcome, type Tx, type TxOutcome } from './thread-writer.js';
import { isUniqueViolation } from '../db/errors.js';

/** A referenced message is not (yet) known: the callback may have overtaken the send. Retried, then given up. */
export class MessageNotFound extends Error {
  /** `providerMessageId`: the provider's id the event waits for; set when known, so recording it wakes the event at once. */
  constructor(
    what: string,
    readonly providerMessageId?: string,
  ) {
    super(`no message matches ${what}`);
    this.name = 'MessageNotFound';
  }
}

const RANK: Record<MessageStatus, number> = {
  PENDING: 0,
  SCHEDULED: 1,
  SENDING: 2,
  // A stranded claim put before an admin: any word from the provider (a late callback) moves it on, as it would a SENDING one.
  NEEDS_REVIEW: 2,
  QUEUED: 3,
  SENT: 4,
  RINGING: 4,
  MAILED: 4,
  IN_TRANSIT: 5,
  IN_PROGRESS: 5,
  DELIVERED: 6,
  RECEIVED: 6,
  // Final outcomes. A bounce after "delivered" (asynchronous bounce) wins;
  // nothing moves a message out of a final state.
  COMPLETED: 7,
  BUSY: 7,
  NO_ANSWER: 7,
  UNDELIVERED: 7,
  FAILED: 7,
  BOUNCED: 7,
  RETURNED: 7,
  CANCELLED: 7,
};

/**
 * Call outcomes that are no attempt: the call never connected (busy, not answered, failed,
 * cancelled before it rang). Reg F §1006.14(b)(2) counts placed calls that connect or leave
 * a message (docs/domain.md §2.2.1); a voicemail is COMPLETED and still counts.
 */
export const CALL_NOT_CONNECTED: readonly MessageStatus[] = ['BUSY', 'NO_ANSWER', 'FAILED', 'CANCELLED'];
const NOT_CONNECTED_SQL = CALL_NOT_CONNECTED.map((s) => `'${s}'`).join(', ');

function advances(current: MessageStatus, next: MessageStatus): boolean {
  return RANK[next] > RANK[current];
}

/**
 * The gateway's own steps and the states each may leave. A step from any
 * other state does nothing: the message was claimed, sent, cancelled or
 * reconciled by someone else first.
 */
export const GATEWAY_STEPS = {
  /** Claimed for its provider (counts an attempt). */
  SENDING: ['PENDING', 'SCHEDULED'],
  /** Deferred by the re-check at send time. */
  SCHEDULED: ['PENDING', 'SCHEDULED'],
  /** A transient provider fault, or a stranded claim re-sent by recovery or by an admin after review: sent again later. */
  PENDING: ['SENDING', 'NEEDS_REVIEW'],
  /** Refused at send time, or withdrawn before its provider had it (payment, pause, cancellation), or cancelled by an admin after review. */
  CANCELLED: ['PENDING', 'SCHEDULED', 'NEEDS_REVIEW'],
  /** A permanent provider fault, or transient ones until the attempts ran out. */
  FAILED: ['SENDING'],
  /** A stranded claim the provider cannot settle, put before an admin (src/outbound/recovery.ts). */
  NEEDS_REVIEW: ['SENDING'],
} as const satisfies Partial<Record<MessageStatus, readonly MessageStatus[]>>;

export type GatewayStep = keyof typeof GATEWAY_STEPS;

export interface StatusStep {
  id: string;
  to: GatewayStep;
  /** The other fields written with the status (scheduled time, error, attempts, decision …). */
  data?: Omit<Prisma.MessageUpdateManyMutationInput, 'status'>;
  /** The history row (MessageStatusEvent); false: none (the claim, on every send). */
  history?: false | { errorCode?: string; detail: Record<string, unknown> };
  /** The thread's message.status event, beyond messageId and status; omitted: none. */
  timeline?: { conversationId: string; payload: Record<string, unknown> };
  /** Only if the message also matches this (e.g. still this process's claim). */
  where?: Prisma.MessageWhereInput;
}

/** Takes one gateway step inside the caller's transaction; `event` is for the caller to publish after commit. */
export async function moveStatus(
  tx: Prisma.TransactionClient,
  step: StatusStep,
): Promise<{ moved: boolean; event: TimelineEvent | null }> {
  const from: readonly MessageStatus[] = GATEWAY_STEPS[step.to];
  const r = await tx.message.updateMany({
    where: { ...step.where, id: step.id, status: { in: [...from] } },
    data: { ...step.data, status: step.to },
  });
  if (r.count === 0) return { moved: false, event: null };
  if (step.history) {
    await tx.messageStatusEvent.create({
      data: {
        messageId: step.id,
        status: step.to,
        ...(step.history.errorCode ? { errorCode: step.history.errorCode } : {}),
        detail: step.history.detail as Prisma.InputJsonValue,
      },
    });
  }
  const event = step.timeline
    ? await appendEvent(
        tx,
        step.timeline.conversationId,
        'message.status',
        { messageId: step.id, status: step.to, ...step.timeline.payload },
        { touch: false },
      )
    : null;
  return { moved: true, event };
}

/** RANK as a SQL expression over a MessageStatus expression (the same table, so SQL and code agree). */
function rankSql(expr: string): string {
  return `(CASE (${expr})::text ${Object.entries(RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(' ')} END)`;
}

export type MessageRef = { providerMessageId: string } | { id: string } | { anyOf: Prisma.MessageWhereInput[] };

export interface StatusUpdate {
  ref: MessageRef;
  /** null: recorded in the history without changing the message's status (opens, AMD results, recordings). */
  status: MessageStatus | null;
  providerStatus: string;
  /** null: no provider event id (dispatch's own record of the acceptance). */
  providerEventId: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  occurredAt?: Date;
  detail?: Record<string, unknown>;
  /** Merged into messages.call_outcome (voice). */
  callOutcome?: Record<string, unknown>;
  /** Consequences in the same transaction (bounce → address invalid, spam report → opt-out …). Pass only when there are any: an update without them takes the one-statement path. */
  effects?: (tx: Tx, message: Message, out: TxOutcome) => Promise<void>;
  /** The provider accepted the send (dispatch): its id for the message, recorded with the status. */
  accepted?: { provider: string; providerMessageId: string | null };
  /** The stored webhook event this update comes from: marked PROCESSED by the same statement where it can be. */
  inboundEventId?: string;
}

/** A status update that needs nothing but the message row, found by the provider's id (storeAndApplyStatus). */
export type PlainStatusUpdate = StatusUpdate & { ref: { providerMessageId: string } };

export interface StatusApplied {
  /** false: this provider event was applied before (or concurrently). */
  applied: boolean;
  /** The inbound event was marked PROCESSED together with the update (its processor need not). */
  inboundEventMarked: boolean;
}

function whereOf(ref: MessageRef): Prisma.MessageWhereInput {
  if ('id' in ref) return { id: ref.id };
  if ('providerMessageId' in ref) return { providerMessageId: ref.providerMessageId };
  return { OR: ref.anyOf };
}

/** Locks the message's row and reads it (one round trip instead of a lock and a read). */
export async function lockMessage(
  tx: Tx,
  ref: { id: string } | { providerMessageId: string },
): Promise<Message | null> {
  const where =
    'id' in ref ? Prisma.sql`id = ${ref.id}::uuid` : Prisma.sql`provider_message_id = ${ref.providerMessageId}`;
  const rows = await tx.$queryRaw<
    Message[]
  >`SELECT ${Prisma.raw(MESSAGE_COLUMNS)} FROM messages WHERE ${where} FOR UPDATE`;
  return rows[0] ?? null;
}

type ProviderIdListener = (providerMessageId: string) => void;
const providerIdListeners: ProviderIdListener[] = [];

/**
 * Called with each provider message id once its acceptance is committed. The
 * inbound event store listens: a status callback that overtook its send waits
 * for that id, and runs again at once instead of after a retry delay.
 */
export function onProviderIdRecorded(listener: ProviderIdListener): void {
  if (!providerIdListeners.includes(listener)) providerIdListeners.push(listener);
}

/** Applies one status update (a provider callback, or dispatch recording the provider's acceptance). */
export async function applyStatus(ctx: AppContext, u: StatusUpdate): Promise<StatusApplied> {
  const result =
    !('anyOf' in u.ref) && !u.effects && !u.callOutcome
      ? await applyStatusInOneStatement(ctx, u, u.ref)
      : { applied: await applyStatusInTransaction(ctx, u), inboundEventMarked: false };
  const recordedId = u.accepted?.providerMessageId;
  if (recordedId) for (const listener of providerIdListeners) listener(recordedId);
  return result;
}

/**
 * The one-statement update (below), built once per way of finding the message: it runs on every callback.
 * `onArrival`: the statement also stores the webhook's raw event ($12 id, $14–$18 its fields), PROCESSED when
 * the message was found, else RECEIVED under the storer's lease ($19) for the usual processing; a repeat of a
 * stored event (its dedupe key) changes nothing.
 */
function statusStatement(where: string, onArrival = false): string {
  return `WITH cur AS (
        SELECT id, conversation_id, channel, direction, status, ${rankSql('status')} AS rank
          FROM messages WHERE ${where} FOR UPDATE),
      ${
        onArrival
          ? `stored AS (
        INSERT INTO inbound_events (id, provider, kind, dedupe_key, headers, body, attempts, status, processed_at, next_attempt_at)
        SELECT $12::uuid, $14, $15, $16, $17::jsonb, $18, 1, CASE WHEN f.found THEN 'PROCESSED' ELSE 'RECEIVED' END::"InboundEventStatus",
               CASE WHEN f.found THEN now() END, CASE WHEN f.found THEN NULL ELSE $19::timestamptz END
          FROM (SELECT EXISTS (SELECT 1 FROM cur) AS found) f
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING received_at),`
          : ''
      }
      recorded AS (
        INSERT INTO message_status_events (message_id, status, provider_status, error_code, provider_event_id, detail, occurred_at)
        SELECT id, COALESCE($2::"MessageStatus", status), $3, $4, $6, $7::jsonb, $8 FROM cur ${onArrival ? 'WHERE EXISTS (SELECT 1 FROM stored)' : ''}
        ON CONFLICT (provider_event_id) DO NOTHING
        RETURNING message_id),
      next AS (
        SELECT cur.*, ($2::"MessageStatus" IS NOT NULL AND ${rankSql('$2::"MessageStatus"')} > cur.rank) AS moved FROM cur JOIN recorded ON recorded.message_id = cur.id),
      changed AS (
        -- One UPDATE (a statement may change a row once): the status only moves forward; the provider's
        -- acceptance ($13) is recorded whatever the status did (a callback that overtook it waited for this id).
        UPDATE messages m
           SET status = CASE WHEN next.moved THEN $2::"MessageStatus" ELSE m.status END,
               delivered_at = CASE WHEN next.moved AND $2::text = 'DELIVERED' THEN $8 ELSE m.delivered_at END,
               sent_at = CASE WHEN m.sent_at IS NULL AND ($13 OR (next.moved AND $2::text IN ('SENT', 'MAILED'))) THEN $8 ELSE m.sent_at END,
               counts_as_attempt = CASE WHEN next.moved AND m.channel = 'VOICE' AND $2::text IN (${NOT_CONNECTED_SQL}) THEN false ELSE m.counts_as_attempt END,
               error_code = CASE WHEN $13 THEN NULL WHEN next.moved THEN COALESCE($4, m.error_code) ELSE m.error_code END,
               error_message = CASE WHEN $13 THEN NULL WHEN next.moved THEN COALESCE($5, m.error_message) ELSE m.error_message END,
               provider = CASE WHEN $13 THEN $10 ELSE m.provider END,
               provider_message_id = CASE WHEN $13 THEN $11 ELSE m.provider_message_id END,
               updated_at = now()
          FROM next WHERE m.id = next.id AND (next.moved OR $13)
        RETURNING m.id),
      ${appendCtes({
        conversationId: 'next.conversation_id',
        touch: 'false',
        type: `'message.status'`,
        from: 'next',
        payload: `jsonb_build_object('messageId', next.id, 'channel', next.channel, 'direction', next.direction,
            'status', CASE WHEN next.moved THEN $2::text ELSE next.status::text END, 'previousStatus', next.status, 'advanced', next.moved,
            'providerStatus', $3::text, 'occurredAt', $9::text)
          || CASE WHEN $4::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('errorCode', $4::text) END
          || CASE WHEN $10::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('provider', $10::text) END`,
      })}${
        onArrival
          ? ''
          : `,
      marked AS (
        UPDATE inbound_events SET status = 'PROCESSED', last_error = NULL, processed_at = now(), next_attempt_at = NULL
         WHERE id = $12::uuid AND EXISTS (SELECT 1 FROM cur)
        RETURNING id)`
      }
      SELECT EXISTS (SELECT 1 FROM cur) AS found, (SELECT conversation_id::text FROM next) AS conversation_id,
          ${onArrival ? '(SELECT received_at FROM stored)' : 'NULL::timestamptz'} AS stored_at, x.*
        FROM (SELECT 1) one LEFT JOIN (SELECT ${SELECT_APPENDED}) x ON true`;
}
const STATUS_BY_ID = statusStatement('id = $1::uuid');
const STATUS_BY_PROVIDER_ID = statusStatement('provider_message_id = $1');
const STORE_STATUS_BY_PROVIDER_ID = statusStatement('provider_message_id = $1', true);

type StatusRow = AppendedRow & { found: boolean; conversation_id: string | null; stored_at: Date | null };

function statusParams(
  u: StatusUpdate,
  ref: { id: string } | { providerMessageId: string },
  inboundEventId: string | null,
): unknown[] {
  const occurredAt = u.occurredAt ?? new Date();
  return [
    'id' in ref ? ref.id : ref.providerMessageId, // $1
    u.status, // $2
    u.providerStatus, // $3
    u.errorCode ?? null, // $4
    u.errorMessage ? u.errorMessage.slice(0, 1000) : null, // $5
    u.providerEventId, // $6
    u.detail === undefined ? null : JSON.stringify(u.detail), // $7
    occurredAt, // $8
    occurredAt.toISOString(), // $9
    u.accepted?.provider ?? null, // $10
    u.accepted?.providerMessageId ?? null, // $11
    inboundEventId, // $12
    Boolean(u.accepted), // $13
  ];
}

/** Publishes the timeline event the statement appended (none when the event was a repeat). */
async function publishApplied(ctx: AppContext, row: StatusRow): Promise<boolean> {
  if (row.seq === null || row.conversation_id === null) return false;
  const out = newOutcome();
  out.events.push(timelineEvent(row.conversation_id, 'message.status', row));
  await finishOutcome(ctx, out);
  return true;
}

/** The webhook's raw event, as stored with the status update it carries (src/inbound/status.ts). */
export interface ArrivingEvent {
  id: string;
  provider: string;
  kind: string;
  dedupeKey: string;
  headers: Record<string, unknown>;
  body: Buffer;
  /** The storer's lease, should the message not be known yet. */
  nextAttemptAt: Date;
}

export type AppliedOnArrival =
  | { stored: false }
  /** found: the status was applied and the event stored PROCESSED; else the event is stored RECEIVED under the lease. */
  | { stored: true; found: boolean; receivedAt: Date };

/**
 * One statement stores the webhook's raw event and applies its plain status
 * update, so the raw event is kept exactly when the update is. A repeat of a
 * stored event (its dedupe key) changes nothing.
 */
export async function applyStatusOnArrival(
  ctx: AppContext,
  event: ArrivingEvent,
  u: PlainStatusUpdate,
): Promise<AppliedOnArrival> {
  if (u.effects || u.callOutcome || u.accepted) throw new Error('applyStatusOnArrival takes plain status updates only');
  const params = [
    ...statusParams(u, u.ref, event.id),
    event.provider,
    event.kind,
    event.dedupeKey,
    JSON.stringify(event.headers),
    event.body,
    event.nextAttemptAt,
  ];
  // The webhook's own connections (src/db/client.ts), as for every stored event.
  const pool = intakePool(ctx.db) ?? sqlPool(ctx.db);
  const row = (
    await pool.query<StatusRow>(statement(ctx.db, 'status_store_by_provider_id', STORE_STATUS_BY_PROVIDER_ID, params))
  ).rows[0]!;
  if (row.stored_at === null) return { stored: false };
  if (row.found) await publishApplied(ctx, row);
  return { stored: true, found: row.found, receivedAt: row.stored_at };
}

/**
 * The common case — a plain status change of a message known by its id or
 * the provider's id — as one statement instead of a transaction of seven:
 * lock the message, record the event (its unique provider id refuses a
 * repeat, and then nothing else is written), move the status forward only,
 * append the timeline event, and mark the webhook's stored event processed.
 * Under READ COMMITTED the row lock taken first makes concurrent callbacks for
 * one message apply one after the other, each seeing the other's result.
 */
async function applyStatusInOneStatement(
  ctx: AppContext,
  u: StatusUpdate,
  ref: { id: string } | { providerMessageId: string },
): Promise<StatusApplied> {
  const params = statusParams(u, ref, u.inboundEventId ?? null);
  const rows = await sqlPool(ctx.db).query<StatusRow>(
    'id' in ref
      ? statement(ctx.db, 'status_by_id', STATUS_BY_ID, params)
      : statement(ctx.db, 'status_by_provider_id', STATUS_BY_PROVIDER_ID, params),
  );
  const row = rows.rows[0]!;
  if (!row.found)
    throw new MessageNotFound(JSON.stringify(ref), 'providerMessageId' in ref ? ref.providerMessageId : undefined);
  return { applied: await publishApplied(ctx, row), inboundEventMarked: u.inboundEventId !== undefined };
}

/** Updates that need the message in hand (effects, call outcomes) or search by several keys: one transaction. Returns false when this event was applied before. */
async function applyStatusInTransaction(ctx: AppContext, u: StatusUpdate): Promise<boolean> {
  // No "seen this event?" pre-check: the unique provider_event_id refuses a repeat inside the transaction.
  const waitFor = 'providerMessageId' in u.ref ? u.ref.providerMessageId : undefined;
  const direct = 'anyOf' in u.ref ? null : u.ref;
  const found = direct ? null : await ctx.db.message.findFirst({ where: whereOf(u.ref), select: { id: true } });
  if (!direct && !found) throw new MessageNotFound(JSON.stringify(u.ref));
  try {
    const applied = await inThread(ctx, async (tx, out) => {
      // Find, lock and read the message in one statement, so concurrent callbacks for it apply one at a time.
      const current = await lockMessage(
        tx,
        direct
          ? 'id' in direct
            ? { id: direct.id }
            : { providerMessageId: direct.providerMessageId }
          : { id: found!.id },
      );
      if (!current) return false;
      const occurredAt = u.occurredAt ?? new Date();
      await tx.messageStatusEvent.create({
        data: {
          messageId: current.id,
          status: u.status ?? current.status,
          providerStatus: u.providerStatus,
          errorCode: u.errorCode ?? null,
          providerEventId: u.providerEventId,
          detail: (u.detail ?? undefined) as Prisma.InputJsonValue | undefined,
          occurredAt,
        },
      });
      const moved = u.status !== null && advances(current.status, u.status);
      const data: Prisma.MessageUpdateInput = {};
      if (moved) {
        data.status = u.status!;
        if (u.status === 'DELIVERED') data.deliveredAt = occurredAt;
        if ((u.status === 'SENT' || u.status === 'MAILED') && !current.sentAt) data.sentAt = occurredAt;
        if (current.channel === 'VOICE' && CALL_NOT_CONNECTED.includes(u.status!)) data.countsAsAttempt = false;
        if (u.errorCode) data.errorCode = u.errorCode;
        if (u.errorMessage) data.errorMessage = u.errorMessage.slice(0, 1000);
      }
      if (u.callOutcome)
        data.callOutcome = {
          ...((current.callOutcome as Record<string, unknown> | null) ?? {}),
          ...u.callOutcome,
        } as Prisma.InputJsonValue;
      const updated = Object.keys(data).length ? await tx.message.update({ where: { id: current.id }, data }) : current;
      out.events.push(
        await appendEvent(
          tx,
          current.conversationId,
          'message.status',
          {
            messageId: current.id,
            channel: current.channel,
            direction: current.direction,
            status: updated.status,
            previousStatus: current.status,
            advanced: moved,
            providerStatus: u.providerStatus,
            ...(u.errorCode ? { errorCode: u.errorCode } : {}),
            ...(u.callOutcome ? { callOutcome: updated.callOutcome } : {}),
            occurredAt: occurredAt.toISOString(),
          },
          { touch: false },
        ),
      );
      if (u.effects) await u.effects(tx, updated, out);
      return true;
    });
    if (!applied) throw new MessageNotFound(JSON.stringify(u.ref), waitFor);
  } catch (err) {
    if (isUniqueViolation(err)) return false; // the same event, applied before or concurrently
    throw err;
  }
  return true;
}

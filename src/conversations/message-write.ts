// Writing a new message into its thread in one statement: the message row,
// its attachments, its first status event, the timeline event (next seq on
// the conversation), and — for an inbound message — the processed mark of the
// webhook event it came from, or the audit entry of the request that made it,
// and the outgoing-webhook deliveries that announce it. Run inside the caller's transaction, so all of
// it commits or rolls back with whatever else the transaction does. Every
// value is known before the statement runs (ids and createdAt are made here),
// so the timeline payload is built in code, once.
import { randomUUID } from 'node:crypto';
import { sqlOf, type Queryable } from '../db/sql.js';
import type { Message } from '../generated/prisma/client.js';
import type { Channel, Direction, MessageStatus } from '../generated/prisma/enums.js';
import { auditRow, type AuditActor, type AuditEntry } from '../audit.js';
import { appendCtes, SELECT_APPENDED, timelineEvent, type AppendedRow, type TimelineEvent } from './thread.js';
import { deliveriesSql } from '../webhooks-out/subscribers.js';
import { envelopeOf, type OutgoingEventType } from '../webhooks-out/service.js';

/** Every column of messages under its Prisma field name: a raw SELECT that yields a Message. */
export const MESSAGE_COLUMNS = `id::text AS "id", conversation_id::text AS "conversationId", debtor_id::text AS "debtorId", debt_id::text AS "debtId",
  contact_point_id::text AS "contactPointId", campaign_id::text AS "campaignId", direction::text AS "direction", channel::text AS "channel",
  status::text AS "status", intent, template_id AS "templateId", locale, from_address AS "fromAddress", to_address AS "toAddress", subject, body, html,
  decision, scheduled_at AS "scheduledAt", sent_at AS "sentAt", delivered_at AS "deliveredAt", provider, provider_message_id AS "providerMessageId",
  rfc_message_id AS "rfcMessageId", in_reply_to AS "inReplyTo", error_code AS "errorCode", error_message AS "errorMessage", attempts, segments, encoding,
  pdf_path AS "pdfPath", call_outcome AS "callOutcome", from_unknown_address AS "fromUnknownAddress", counts_as_attempt AS "countsAsAttempt",
  idempotency_key AS "idempotencyKey", created_by_id::text AS "createdById", claimed_by AS "claimedBy", claimed_at AS "claimedAt", lease_until AS "leaseUntil",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** The columns a new message may set (Prisma field → column and SQL type); the rest take the table's defaults. */
const WRITABLE = {
  id: ['id', 'uuid'],
  conversationId: ['conversation_id', 'uuid'],
  debtorId: ['debtor_id', 'uuid'],
  debtId: ['debt_id', 'uuid'],
  contactPointId: ['contact_point_id', 'uuid'],
  campaignId: ['campaign_id', 'uuid'],
  direction: ['direction', '"Direction"'],
  channel: ['channel', '"Channel"'],
  status: ['status', '"MessageStatus"'],
  intent: ['intent', 'text'],
  templateId: ['template_id', 'text'],
  locale: ['locale', 'text'],
  fromAddress: ['from_address', 'text'],
  toAddress: ['to_address', 'text'],
  subject: ['subject', 'text'],
  body: ['body', 'text'],
  html: ['html', 'text'],
  decision: ['decision', 'jsonb'],
  scheduledAt: ['scheduled_at', 'timestamptz'],
  provider: ['provider', 'text'],
  providerMessageId: ['provider_message_id', 'text'],
  rfcMessageId: ['rfc_message_id', 'text'],
  inReplyTo: ['in_reply_to', 'text'],
  attempts: ['attempts', 'integer'],
  segments: ['segments', 'integer'],
  encoding: ['encoding', 'text'],
  pdfPath: ['pdf_path', 'text'],
  fromUnknownAddress: ['from_unknown_address', 'boolean'],
  countsAsAttempt: ['counts_as_attempt', 'boolean'],
  idempotencyKey: ['idempotency_key', 'text'],
  createdById: ['created_by_id', 'uuid'],
  claimedBy: ['claimed_by', 'text'],
  claimedAt: ['claimed_at', 'timestamptz'],
  leaseUntil: ['lease_until', 'timestamptz'],
  createdAt: ['created_at', 'timestamptz'],
} as const satisfies Record<string, readonly [string, string]>;

export type NewMessage = {
  /**
   * Or the debtor's conversation, read by the statement itself: for a first
   * message whose conversation a statement issued just before it creates
   * (createConversationIfMissing), in the same round trip.
   */
  conversationId: string | { ofDebtor: string };
  direction: Direction;
  channel: Channel;
  status: MessageStatus;
  body: string;
  /** Made here when not given. */
  id?: string;
  createdAt?: Date;
} & Partial<
  Record<
    Exclude<
      keyof typeof WRITABLE,
      | 'id'
      | 'conversationId'
      | 'direction'
      | 'channel'
      | 'status'
      | 'body'
      | 'createdAt'
      | 'decision'
      | 'segments'
      | 'attempts'
      | 'fromUnknownAddress'
      | 'countsAsAttempt'
      | 'scheduledAt'
      | 'claimedAt'
      | 'leaseUntil'
    >,
    string | null
  >
> & {
    decision?: object | null;
    segments?: number | null;
    /** An outbound message claimed by the transaction that writes it (SENDING) has made its first attempt. */
    attempts?: number;
    scheduledAt?: Date | null;
    /** With claimedBy: the lease of a message claimed by the transaction that writes it (src/outbound/lease.ts). */
    claimedAt?: Date | null;
    leaseUntil?: Date | null;
    fromUnknownAddress?: boolean;
    countsAsAttempt?: boolean;
  };

export interface NewAttachment {
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  path: string;
}

export interface WrittenMessage {
  message: Message;
  attachments: (NewAttachment & { id: string })[];
  event: TimelineEvent;
  /** With opts.announce: the webhook deliveries written (schedule them once the write commits: scheduleDeliveries). */
  deliveryIds: string[];
}

/**
 * Inserts the message (see the file comment). `payload` gets the message as it
 * will be stored (with its id and createdAt) and its attachments, and returns
 * the timeline event's payload.
 */
export async function writeMessage<F extends NewMessage>(
  tx: Queryable,
  fields: F,
  opts: {
    attachments?: NewAttachment[];
    /** The message's first status event (outbound: PENDING, SCHEDULED or SENDING, with the router's reasons). */
    statusEvent?: { status: MessageStatus; detail: object };
    event: {
      type: string;
      payload: (
        message: Required<Pick<NewMessage, 'id' | 'createdAt'>> & F,
        attachments: (NewAttachment & { id: string })[],
      ) => Record<string, unknown>;
      touch?: boolean;
      /** An inbound message: the conversation records its channel and reopens (see appendCtes). */
      inboundChannel?: Channel;
    };
    /** The stored webhook event this message came from: marked PROCESSED with it. */
    inboundEventId?: string | null;
    /** The audit entry of the request that made the message (its entity is the message). */
    audit?: { actor: AuditActor; entry: Omit<AuditEntry, 'entityType' | 'entityId'> };
    /** An outgoing webhook event about the message: one delivery per subscriber, written by the same statement (as emitOutgoingEvent would). */
    announce?: {
      type: OutgoingEventType;
      data: (
        message: Required<Pick<NewMessage, 'id' | 'createdAt'>> & F,
        attachments: (NewAttachment & { id: string })[],
      ) => Record<string, unknown>;
    };
  },
): Promise<WrittenMessage> {
  const message = { ...fields, id: fields.id ?? randomUUID(), createdAt: fields.createdAt ?? new Date() };
  const attachments = (opts.attachments ?? []).map((a) => ({ ...a, id: randomUUID() }));
  const params: unknown[] = [];
  const param = (value: unknown, cast: string) => {
    params.push(value);
    return `$${params.length}::${cast}`;
  };

  const columns: string[] = [];
  const values: string[] = [];
  for (const [field, value] of Object.entries(message)) {
    if (value === undefined) continue;
    const spec = WRITABLE[field as keyof typeof WRITABLE];
    if (!spec) throw new Error(`writeMessage: ${field} is not a writable message column`);
    columns.push(spec[0]);
    if (field === 'conversationId' && typeof value === 'object') {
      values.push(
        `(SELECT id FROM conversations WHERE debtor_id = ${param((value as { ofDebtor: string }).ofDebtor, 'uuid')})`,
      );
      continue;
    }
    values.push(param(spec[1] === 'jsonb' && value !== null ? JSON.stringify(value) : value, spec[1]));
  }
  columns.push('updated_at');
  values.push(`${param(message.createdAt, 'timestamptz')}`);

  const payload = param(JSON.stringify(opts.event.payload(message, attachments)), 'jsonb');
  const ctes = [`msg AS (INSERT INTO messages (${columns.join(', ')}) VALUES (${values.join(', ')}) RETURNING *)`];
  if (attachments.length) {
    ctes.push(`files AS (
      INSERT INTO attachments (id, message_id, filename, content_type, size, sha256, path)
      SELECT a.id, msg.id, a.filename, a.content_type, a.size, a.sha256, a.path
        FROM msg, jsonb_to_recordset(${param(JSON.stringify(attachments.map((a) => ({ id: a.id, filename: a.filename, content_type: a.contentType, size: a.size, sha256: a.sha256, path: a.path }))), 'jsonb')})
             AS a(id uuid, filename text, content_type text, size integer, sha256 text, path text)
      RETURNING id)`);
  }
  if (opts.statusEvent) {
    ctes.push(`first_status AS (
      INSERT INTO message_status_events (message_id, status, detail) SELECT msg.id, ${param(opts.statusEvent.status, '"MessageStatus"')}, ${param(JSON.stringify(opts.statusEvent.detail), 'jsonb')} FROM msg
      RETURNING id)`);
  }
  if (opts.audit) {
    const row = auditRow(opts.audit.actor, { ...opts.audit.entry, entityType: 'message', entityId: message.id });
    ctes.push(`audited AS (
      INSERT INTO audit_events (actor_type, actor_id, action, entity_type, entity_id, data, ip, request_id)
      VALUES (${param(row.actor_type, 'text')}, ${param(row.actor_id, 'text')}, ${param(row.action, 'text')}, ${param(row.entity_type, 'text')}, ${param(row.entity_id, 'text')},
              ${param(row.data === null ? null : JSON.stringify(row.data), 'jsonb')}, ${param(row.ip, 'text')}, ${param(row.request_id, 'text')})
      RETURNING id)`);
  }
  if (opts.inboundEventId) {
    ctes.push(`marked AS (
      UPDATE inbound_events SET status = 'PROCESSED', last_error = NULL, processed_at = now(), next_attempt_at = NULL
       WHERE id = ${param(opts.inboundEventId, 'uuid')}
      RETURNING id)`);
  }
  if (opts.announce) {
    const envelope = envelopeOf(opts.announce.type, opts.announce.data(message, attachments));
    ctes.push(
      `announced AS (${deliveriesSql(param(opts.announce.type, 'text'), param(JSON.stringify(envelope), 'jsonb'))})`,
    );
  }
  ctes.push(
    appendCtes({
      conversationId: 'msg.conversation_id',
      touch: param(opts.event.touch ?? true, 'boolean'),
      type: param(opts.event.type, 'text'),
      payload,
      from: 'msg',
      inboundChannel: opts.event.inboundChannel ? param(opts.event.inboundChannel, '"Channel"') : undefined,
    }),
  );
  const deliveries = opts.announce ? `(SELECT COALESCE(array_agg(id::text), '{}') FROM announced)` : `'{}'::text[]`;
  const rows = await sqlOf(tx).rows<
    Message & {
      appended: (Omit<AppendedRow, 'at' | 'last_activity_at'> & { at: string; last_activity_at: string }) | null;
      delivery_ids: string[];
    }
  >(
    `WITH ${ctes.join(',\n    ')}
    SELECT ${MESSAGE_COLUMNS}, (SELECT row_to_json(x) FROM (SELECT ${SELECT_APPENDED}) x) AS appended, ${deliveries} AS delivery_ids FROM msg`,
    params,
  );
  const row = rows[0];
  if (!row?.appended) throw new Error(`conversation ${JSON.stringify(fields.conversationId)} not found`);
  const { appended, delivery_ids: deliveryIds, ...stored } = row;
  const event = timelineEvent(stored.conversationId, opts.event.type, {
    ...appended,
    at: new Date(appended.at),
    last_activity_at: new Date(appended.last_activity_at),
  });
  return { message: stored as Message, attachments, event, deliveryIds };
}

// One conversation per debtor across all channels. Every item that lands in a
// thread (message, status change, flag, note, call outcome, letter tracking)
// is appended to conversation_events with the next per-conversation sequence
// number, so a reconnecting client asks for "everything after seq N".
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';

type Tx = Prisma.TransactionClient | Db;
import { sqlOf, type Queryable } from '../db/sql.js';

export interface TimelineEvent {
  conversationId: string;
  seq: number;
  type: string; // message.created, message.status, flag.added, note.created, conversation.updated, ...
  payload: Record<string, unknown>;
  at: string;
}

export function newReplyToken(): string {
  // Short enough for an email local part, long enough not to be guessed.
  return randomBytes(12)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
}

/**
 * The debtor's conversation, created on first use. Race-safe: two first
 * messages at once both end up in the one row (unique debtor_id + upsert).
 */
export async function ensureConversation(db: Tx, debtorId: string) {
  await createConversationIfMissing(db, debtorId);
  return db.conversation.findUniqueOrThrow({ where: { debtorId } });
}

/**
 * Makes the debtor's conversation unless it exists: one statement, which a
 * later statement on the same connection can rely on (issue it ahead of the
 * statement that reads the id, and pipelined they cost one round trip).
 * INSERT … ON CONFLICT is atomic where Prisma's upsert (find, then create) is not.
 */
export async function createConversationIfMissing(db: Queryable, debtorId: string): Promise<void> {
  await sqlOf(db).rows(
    `INSERT INTO conversations (id, debtor_id, reply_token) ${DEBTOR_FIRST} ON CONFLICT (debtor_id) DO NOTHING`,
    [debtorId, newReplyToken()],
  );
}

/**
 * The new conversation's values, read from the debtor's row under a key-share
 * lock taken before the row is inserted. Outreach holds the debtor's lock when
 * it makes a first thread; an insert that took its conversation slot first and
 * then waited on that lock (for its foreign key) would deadlock with it.
 * Only when no conversation is seen: every inbound reply asks, and a row lock
 * on each would write to the debtor's row (and, taken by several at once,
 * make a multixact) for nothing.
 */
const DEBTOR_FIRST = `SELECT gen_random_uuid(), d.id, $2 FROM debtors d
  WHERE d.id = $1::uuid AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.debtor_id = d.id) FOR KEY SHARE`;

/**
 * The id and status of a debtor's conversation, or of an unmatched sender's,
 * created on first use: one round trip where the row exists or is new (the
 * inbound hot path needs no more). A concurrent first insert that committed
 * after this statement's snapshot is found by a second look.
 */
export async function conversationFor(
  db: Queryable,
  owner: { debtorId: string } | { unmatchedAddress: string },
): Promise<{ id: string; status: string }> {
  const sql = sqlOf(db);
  const [match, value] =
    'debtorId' in owner
      ? (['debtor_id = $1::uuid', owner.debtorId] as const)
      : (['unmatched_address = $1', owner.unmatchedAddress] as const);
  const rows =
    'debtorId' in owner
      ? await sql.rows<{ id: string; status: string }>(
          `WITH created AS (
            INSERT INTO conversations (id, debtor_id, reply_token) ${DEBTOR_FIRST}
            ON CONFLICT (debtor_id) DO NOTHING
            RETURNING id, status)
          SELECT id::text AS id, status::text AS status FROM created
          UNION ALL
          SELECT id::text AS id, status::text AS status FROM conversations WHERE debtor_id = $1::uuid
          LIMIT 1`,
          [owner.debtorId, newReplyToken()],
        )
      : await sql.rows<{ id: string; status: string }>(
          `WITH created AS (
            INSERT INTO conversations (id, unmatched_address, reply_token, flags)
            VALUES (gen_random_uuid(), $1, $2, ARRAY['UNMATCHED']::"ConversationFlag"[])
            ON CONFLICT (unmatched_address) DO NOTHING
            RETURNING id, status)
          SELECT id::text AS id, status::text AS status FROM created
          UNION ALL
          SELECT id::text AS id, status::text AS status FROM conversations WHERE unmatched_address = $1
          LIMIT 1`,
          [owner.unmatchedAddress, newReplyToken()],
        );
  if (rows[0]) return rows[0];
  // A concurrent first insert committed after the statement's snapshot: it is there now.
  const [found] = await sql.rows<{ id: string; status: string }>(
    `SELECT id::text AS id, status::text AS status FROM conversations WHERE ${match}`,
    [value],
  );
  if (!found) throw new Error(`conversation neither created nor found for ${JSON.stringify(owner)}`);
  return found;
}

/** The conversation row as an append left it: what an inbox summary shows, read by the append itself. */
export interface ConversationState {
  debtorId: string | null;
  lastActivityAt: Date;
  status: string;
  flags: string[];
  assigneeId: string | null;
}

// Kept beside the event, not on it: the event object is what live clients receive.
const stateAfter = new WeakMap<TimelineEvent, ConversationState>();

/** The conversation's state right after `event` was appended in this process (undefined for events loaded from the database). */
export function conversationStateAfter(event: TimelineEvent): ConversationState | undefined {
  return stateAfter.get(event);
}

/**
 * The SQL of an append, as two CTEs for a WITH clause: `bumped` takes the
 * conversation's row lock and its next seq, `appended` inserts the event.
 * The UPDATE's row lock gives concurrent appends consecutive sequence numbers
 * in commit order. Arguments are SQL expressions (parameters or columns of an
 * earlier CTE named in `from`), so a hot path can fold an append into the
 * statement that made the change. SELECT_APPENDED reads back what the
 * append left, for timelineEvent().
 */
export function appendCtes(sql: {
  conversationId: string;
  touch: string;
  type: string;
  payload: string;
  from?: string;
  inboundChannel?: string;
}): string {
  const from = sql.from ? ` FROM ${sql.from}` : '';
  // An inbound message: the thread remembers its channel (replies go back on it), owes a reply
  // from then on unless it already did (the inbox's unanswered view), and reopens.
  const inbound = sql.inboundChannel
    ? `,
             last_inbound_channel = ${sql.inboundChannel},
             last_inbound_at = now(),
             waiting_since = COALESCE(conversations.waiting_since, now()),
             snoozed_until = CASE WHEN conversations.status <> 'OPEN' THEN NULL ELSE conversations.snoozed_until END,
             status = 'OPEN'`
    : '';
  return `bumped AS (
      UPDATE conversations
         SET last_seq = last_seq + 1,
             last_activity_at = CASE WHEN ${sql.touch} THEN now() ELSE last_activity_at END${inbound}${from}
       WHERE conversations.id = ${sql.conversationId}
   RETURNING conversations.id, conversations.last_seq, conversations.debtor_id, conversations.last_activity_at, conversations.status, conversations.flags, conversations.assignee_id),
    appended AS (
      INSERT INTO conversation_events (conversation_id, seq, type, payload, created_at)
      SELECT bumped.id, bumped.last_seq, ${sql.type}, ${sql.payload}, now() FROM bumped${sql.from ? `, ${sql.from}` : ''}
      RETURNING seq, created_at, payload)`;
}

/** Columns that timelineEvent() reads, selected from `appended` and `bumped`. */
export const SELECT_APPENDED = `a.seq, a.created_at AS at, a.payload, b.debtor_id::text AS debtor_id, b.last_activity_at, b.status::text AS status, b.flags::text[] AS flags, b.assignee_id::text AS assignee_id
      FROM appended a CROSS JOIN bumped b`;

export interface AppendedRow {
  seq: number;
  at: Date;
  payload: Record<string, unknown>;
  debtor_id: string | null;
  last_activity_at: Date;
  status: string;
  flags: string[];
  assignee_id: string | null;
}

/**
 * The event an append wrote, with the conversation's state right after it
 * (see conversationStateAfter). created_at is used as stored (millisecond
 * precision), so the live event equals the one read back later.
 */
export function timelineEvent(conversationId: string, type: string, row: AppendedRow): TimelineEvent {
  const event: TimelineEvent = { conversationId, seq: row.seq, type, payload: row.payload, at: row.at.toISOString() };
  stateAfter.set(event, {
    debtorId: row.debtor_id,
    lastActivityAt: row.last_activity_at,
    status: row.status,
    flags: row.flags,
    assigneeId: row.assignee_id,
  });
  return event;
}

/**
 * Appends an event to the conversation's timeline (see appendCtes). Call
 * inside the transaction that made the change, and publish the returned event
 * after it commits. One statement: it also returns the conversation's row as
 * it now stands, so publishing needs no second read.
 */
export async function appendEvent(
  db: Tx,
  conversationId: string,
  type: string,
  payload: Record<string, unknown>,
  /** inboundChannel: the event is an inbound message on that channel (see appendCtes). */
  opts: { touch?: boolean; inboundChannel?: string } = {},
): Promise<TimelineEvent> {
  const params: unknown[] = [conversationId, opts.touch ?? true, type, JSON.stringify(payload)];
  if (opts.inboundChannel) params.push(opts.inboundChannel);
  const rows = await db.$queryRawUnsafe<AppendedRow[]>(
    `WITH ${appendCtes({ conversationId: '$1::uuid', touch: '$2::boolean', type: '$3', payload: '$4::jsonb', inboundChannel: opts.inboundChannel ? '$5::"Channel"' : undefined })}
    SELECT ${SELECT_APPENDED}`,
    ...params,
  );
  const row = rows[0];
  if (!row) throw new Error(`conversation ${conversationId} not found`);
  // The caller's payload object, not the stored copy: identical content, and callers may hold references to it.
  return timelineEvent(conversationId, type, { ...row, payload });
}

export async function eventsSince(
  db: Tx,
  conversationId: string,
  afterSeq: number,
  limit = 500,
): Promise<TimelineEvent[]> {
  const rows = await db.conversationEvent.findMany({
    where: { conversationId, seq: { gt: afterSeq } },
    orderBy: { seq: 'asc' },
    take: limit,
  });
  return rows.map((r) => ({
    conversationId,
    seq: r.seq,
    type: r.type,
    payload: r.payload as Record<string, unknown>,
    at: r.createdAt.toISOString(),
  }));
}

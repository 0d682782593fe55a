// The work queue: the views a collections desk works from, each a filter and
// an order computed in PostgreSQL, read a page at a time with a keyset cursor
// (the last row's sort key and id), so every one of thousands of
// conversations is reachable and a page does not shift when rows are added
// ahead of it. Unread is per agent (conversation_reads: when they last opened
// it, against when the debtor last wrote); waiting is since the oldest debtor
// message the team has not answered (conversations.waiting_since).
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { defineRoutes } from '../http/api.js';
import { HttpError } from '../http/errors.js';
import { likeLiteral } from '../db/like.js';

export const VIEWS = [
  'unanswered',
  'mine',
  'unassigned',
  'all',
  'promises_today',
  'broken_promises',
  'callbacks',
  'disputes',
  'by_balance',
] as const;
export type View = (typeof VIEWS)[number];

export const VIEW_LABELS: Record<View, string> = {
  unanswered: 'Unanswered',
  mine: 'Mine',
  unassigned: 'Unassigned',
  all: 'All',
  promises_today: 'Promises due today',
  broken_promises: 'Broken promises',
  callbacks: 'Callbacks',
  disputes: 'Disputes',
  by_balance: 'By balance',
};

export const STATUSES = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED'] as const;
export const FLAGS = [
  'OPT_OUT',
  'DISPUTE',
  'CEASE',
  'ALREADY_PAID',
  'PROMISE_TO_PAY',
  'HARDSHIP',
  'CALLBACK_REQUEST',
  'WRONG_NUMBER',
  'UNMATCHED',
  'UNKNOWN_SENDER_ADDRESS',
  'NEEDS_REVIEW',
] as const;
const CHANNELS = ['SMS', 'EMAIL', 'VOICE', 'LETTER'] as const;
const COLLECTING = `('OPEN','PROMISED','PAYMENT_PLAN','DISPUTED')`;
const NO_USER = '00000000-0000-0000-0000-000000000000';

/** A time zone the server knows (luxon), for "today" in the promise views. */
const zone = z
  .string()
  .max(64)
  .refine((z) => DateTime.now().setZone(z).isValid, 'must be an IANA time zone like Europe/London');

const noControl = (s: string) =>
  !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(s) &&
  !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));

export const queueQuery = z.object({
  view: z.enum(VIEWS).default('all'),
  status: z.enum(STATUSES).optional(),
  flag: z.enum(FLAGS).optional(),
  channel: z.enum(CHANNELS).optional(),
  q: z.string().trim().max(200).refine(noControl, 'must not contain control characters or lone surrogates').optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(300).optional(),
  /** Only these conversations (a live refresh of rows on screen), each as it now stands in the view. */
  ids: z
    .string()
    .max(200 * 37)
    .transform((s) => s.split(',').filter(Boolean))
    .pipe(z.array(z.string().uuid('each id must be a UUID')).max(200))
    .optional(),
  tz: zone.default('UTC'),
});
export type QueueQuery = z.infer<typeof queueQuery>;

/** Positional parameters for one statement. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown, cast = ''): string {
    this.values.push(v);
    return `$${this.values.length}${cast}`;
  }
}

interface Ordering {
  /** SQL for the sort key (never null). */
  key: string;
  dir: 'asc' | 'desc';
  cast: '::timestamptz' | '::numeric';
}

const BALANCE = `COALESCE((SELECT sum(t.balance) FROM debts t WHERE t.debtor_id = c.debtor_id AND t.status IN ${COLLECTING}), 0)`;
const CALLBACK_DUE = `COALESCE((SELECT min(k.due_at) FROM inbox_tasks k WHERE k.conversation_id = c.id AND k.kind = 'callback' AND k.done_at IS NULL), c.last_activity_at)`;

function ordering(view: View): Ordering {
  switch (view) {
    case 'unanswered':
      return { key: 'c.waiting_since', dir: 'asc', cast: '::timestamptz' };
    case 'callbacks':
      return { key: CALLBACK_DUE, dir: 'asc', cast: '::timestamptz' };
    case 'by_balance':
      return { key: BALANCE, dir: 'desc', cast: '::numeric' };
    default:
      return { key: 'c.last_activity_at', dir: 'desc', cast: '::timestamptz' };
  }
}

/** The condition that puts a conversation in a view (c = conversations, d = its debtor). */
function viewCondition(view: View, p: Params, me: string, today: string): string {
  const day = () => p.add(today, '::date');
  switch (view) {
    case 'all':
      return 'TRUE';
    case 'unanswered':
      return `c.waiting_since IS NOT NULL AND c.status IN ('OPEN','PENDING')`;
    case 'mine':
      return `c.assignee_id = ${p.add(me, '::uuid')} AND c.status <> 'RESOLVED'`;
    case 'unassigned':
      return `c.assignee_id IS NULL AND c.status <> 'RESOLVED'`;
    case 'promises_today':
      return `EXISTS (SELECT 1 FROM promises_to_pay pr JOIN debts t ON t.id = pr.debt_id
                       WHERE t.debtor_id = c.debtor_id AND pr.status = 'ACTIVE' AND pr.due_date = ${day()})`;
    case 'broken_promises':
      // Marked broken, or still active past its date on a debt still owed.
      return `EXISTS (SELECT 1 FROM promises_to_pay pr JOIN debts t ON t.id = pr.debt_id
                       WHERE t.debtor_id = c.debtor_id AND t.status IN ${COLLECTING}
                         AND (pr.status = 'BROKEN' OR (pr.status = 'ACTIVE' AND pr.due_date < ${day()})))`;
    case 'callbacks':
      return `(EXISTS (SELECT 1 FROM inbox_tasks k WHERE k.conversation_id = c.id AND k.kind = 'callback' AND k.done_at IS NULL)
               OR 'CALLBACK_REQUEST' = ANY(c.flags))`;
    case 'disputes':
      return `c.status <> 'RESOLVED' AND ('DISPUTE' = ANY(c.flags) OR 'DISPUTE_UNDER_REVIEW' = ANY(d.restrictions)
               OR EXISTS (SELECT 1 FROM debts t WHERE t.debtor_id = c.debtor_id AND (t.status = 'DISPUTED' OR 'DISPUTE_UNDER_REVIEW' = ANY(t.restrictions))))`;
    case 'by_balance':
      return `c.status <> 'RESOLVED' AND EXISTS (SELECT 1 FROM debts t WHERE t.debtor_id = c.debtor_id AND t.status IN ${COLLECTING})`;
  }
}

/** Letters and digits only, lower case: "INV 10-42" finds "inv-1042". */
const compact = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Search: the debtor's name, references (debtor, debt/invoice), contact points, an unmatched sender, message text. */
function searchCondition(text: string, p: Params): string {
  const like = p.add(`%${likeLiteral(text)}%`);
  const or = [
    `d.full_name ILIKE ${like}`,
    `d.external_ref ILIKE ${like}`,
    `c.unmatched_address ILIKE ${like}`,
    `EXISTS (SELECT 1 FROM contact_points cp WHERE cp.debtor_id = c.debtor_id AND cp.value ILIKE ${like})`,
    `EXISTS (SELECT 1 FROM debts t WHERE t.debtor_id = c.debtor_id AND t.external_ref ILIKE ${like})`,
    `EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND (m.body ILIKE ${like} OR m.subject ILIKE ${like}))`,
  ];
  const squeezed = compact(text);
  if (squeezed.length >= 3 && squeezed !== text.toLowerCase()) {
    const ref = p.add(`%${likeLiteral(squeezed)}%`);
    or.push(
      `EXISTS (SELECT 1 FROM debts t WHERE t.debtor_id = c.debtor_id AND regexp_replace(lower(t.external_ref), '[^[:alnum:]]', '', 'g') LIKE ${ref})`,
    );
    or.push(`regexp_replace(lower(COALESCE(d.external_ref, '')), '[^[:alnum:]]', '', 'g') LIKE ${ref}`);
  }
  // Phone-ish input: "(312) 555-0199" finds +13125550199.
  const digits = text.replace(/\D/g, '');
  if (digits.length >= 4) {
    const d = p.add(`%${digits}%`);
    or.push(
      `EXISTS (SELECT 1 FROM contact_points cp WHERE cp.debtor_id = c.debtor_id AND cp.kind = 'PHONE' AND cp.value LIKE ${d})`,
      `c.unmatched_address LIKE ${d}`,
    );
  }
  return `(${or.join(' OR ')})`;
}

interface Cursor {
  k: string;
  id: string;
}

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

const cursorShape = z.object({ k: z.string().max(100), id: z.string().uuid() });
function decodeCursor(raw: string, o: Ordering): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  const r = cursorShape.safeParse(parsed);
  const valid =
    r.success && (o.cast === '::numeric' ? /^-?\d+(\.\d+)?$/.test(r.data.k) : !Number.isNaN(Date.parse(r.data.k)));
  if (!r.success || !valid)
    throw new HttpError(400, 'invalid_request', 'cursor is not one this list gave out', [
      { field: 'cursor', reason: 'not a cursor from a previous page' },
    ]);
  return r.data;
}

export const userIdOf = (p: Principal) => (p.type === 'user' ? (p.id ?? null) : null);

interface QueueRow {
  id: string;
  debtor_id: string | null;
  debtor_name: string | null;
  unmatched_address: string | null;
  status: string;
  flags: string[];
  snoozed_until: Date | null;
  assignee_id: string | null;
  assignee_name: string | null;
  last_activity_at: Date;
  last_seq: number;
  last_inbound_channel: string | null;
  last_inbound_at: Date | null;
  waiting_since: Date | null;
  unread: boolean;
  balance: string;
  currency: string | null;
  callback_due: Date | null;
  promise_due: Date | null;
  m_channel: string | null;
  m_direction: string | null;
  m_status: string | null;
  m_body: string | null;
  m_subject: string | null;
  m_at: Date | null;
  sort_key: string;
}

/** A list row: what the queue shows for one conversation. */
export function queueItem(r: QueueRow) {
  return {
    id: r.id,
    debtorId: r.debtor_id,
    debtorName: r.debtor_name,
    unmatchedAddress: r.unmatched_address,
    status: r.status,
    flags: r.flags,
    snoozedUntil: r.snoozed_until?.toISOString() ?? null,
    assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name ?? '' } : null,
    lastActivityAt: r.last_activity_at.toISOString(),
    lastSeq: r.last_seq,
    lastInboundChannel: r.last_inbound_channel,
    lastInboundAt: r.last_inbound_at?.toISOString() ?? null,
    waitingSince: r.waiting_since?.toISOString() ?? null,
    unread: r.unread,
    balance: r.currency ? { amount: Number(r.balance).toFixed(2), currency: r.currency } : null,
    callbackDue: r.callback_due?.toISOString() ?? null,
    promiseDue: r.promise_due ? r.promise_due.toISOString().slice(0, 10) : null,
    /** Where the row sorts in its view (a time or an amount): a live client places a new row without reloading. */
    sortKey: r.sort_key,
    lastMessage: r.m_channel
      ? {
          channel: r.m_channel,
          direction: r.m_direction,
          status: r.m_status,
          snippet: (r.m_subject ? `${r.m_subject} — ` : '') + (r.m_body ?? '').slice(0, 140),
          at: r.m_at!.toISOString(),
        }
      : null,
  };
}
export type QueueItem = ReturnType<typeof queueItem>;

function todayIn(tz: string): string {
  return DateTime.now().setZone(tz).toISODate()!;
}

/** One page of a view (or, with `ids`, those rows as they now stand in it). */
export async function listQueue(ctx: AppContext, q: QueueQuery, principal: Principal) {
  const p = new Params();
  const me = userIdOf(principal) ?? NO_USER;
  const meParam = p.add(me, '::uuid');
  const today = todayIn(q.tz);
  const o = ordering(q.view);
  const where: string[] = [viewCondition(q.view, p, me, today)];
  if (q.status) where.push(`c.status = ${p.add(q.status)}::"ConversationStatus"`);
  if (q.flag) where.push(`${p.add(q.flag)}::"ConversationFlag" = ANY(c.flags)`);
  if (q.channel)
    where.push(
      `EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND m.channel = ${p.add(q.channel)}::"Channel")`,
    );
  if (q.q) where.push(searchCondition(q.q, p));
  if (q.ids) where.push(`c.id = ANY(${p.add(q.ids, '::uuid[]')})`);
  let after = 'TRUE';
  if (q.cursor && !q.ids) {
    const c = decodeCursor(q.cursor, o);
    const k = p.add(c.k, o.cast);
    const id = p.add(c.id, '::uuid');
    after = `(b.sort_key ${o.dir === 'asc' ? '>' : '<'} ${k} OR (b.sort_key = ${k} AND b.id > ${id}))`;
  }
  const limit = q.ids ? q.ids.length : q.limit;
  const dayParam = p.add(today, '::date');
  const sql = `
    WITH b AS (
      SELECT c.*, d.full_name AS debtor_name, ${o.key} AS sort_key
        FROM conversations c LEFT JOIN debtors d ON d.id = c.debtor_id
       WHERE ${where.join(' AND ')}
    )
    SELECT b.id::text, b.debtor_id::text, b.debtor_name, b.unmatched_address, b.status::text, b.flags::text[] AS flags, b.snoozed_until,
           b.assignee_id::text, u.name AS assignee_name, b.last_activity_at, b.last_seq, b.last_inbound_channel::text, b.last_inbound_at, b.waiting_since,
           (${meParam} <> '${NO_USER}'::uuid AND b.last_inbound_at IS NOT NULL AND (r.read_at IS NULL OR r.read_at < b.last_inbound_at)) AS unread,
           COALESCE(bal.total, 0)::text AS balance, bal.currency,
           (SELECT min(k.due_at) FROM inbox_tasks k WHERE k.conversation_id = b.id AND k.kind = 'callback' AND k.done_at IS NULL) AS callback_due,
           (SELECT min(pr.due_date) FROM promises_to_pay pr JOIN debts t ON t.id = pr.debt_id WHERE t.debtor_id = b.debtor_id AND pr.status = 'ACTIVE' AND pr.due_date >= ${dayParam}) AS promise_due,
           lm.channel::text AS m_channel, lm.direction::text AS m_direction, lm.status::text AS m_status, lm.body AS m_body, lm.subject AS m_subject, lm.created_at AS m_at,
           to_json(b.sort_key) #>> '{}' AS sort_key
      FROM b
      LEFT JOIN users u ON u.id = b.assignee_id
      LEFT JOIN conversation_reads r ON r.user_id = ${meParam} AND r.conversation_id = b.id
      LEFT JOIN LATERAL (SELECT sum(t.balance) AS total, min(t.currency) AS currency FROM debts t WHERE t.debtor_id = b.debtor_id AND t.status IN ${COLLECTING}) bal ON TRUE
      LEFT JOIN LATERAL (SELECT m.channel, m.direction, m.status, m.body, m.subject, m.created_at FROM messages m WHERE m.conversation_id = b.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1) lm ON TRUE
     WHERE ${after}
     ORDER BY b.sort_key ${o.dir}, b.id ASC
     LIMIT ${limit + 1}`;
  const rows = await ctx.db.$queryRawUnsafe<QueueRow[]>(sql, ...p.values);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    view: q.view,
    conversations: page.map(queueItem),
    nextCursor: more && last && !q.ids ? encodeCursor({ k: last.sort_key, id: last.id }) : null,
    sla: { firstResponseMinutes: ctx.config.INBOX_FIRST_RESPONSE_SLA_MINUTES },
  };
}

/** Per view: how many conversations, how many unread by this agent, and how many past the first-response target. */
export async function viewCounts(ctx: AppContext, principal: Principal, tz: string) {
  const p = new Params();
  const me = userIdOf(principal) ?? NO_USER;
  const today = todayIn(tz);
  const meParam = p.add(me, '::uuid');
  const unread = `(${meParam} <> '${NO_USER}'::uuid AND c.last_inbound_at IS NOT NULL AND (r.read_at IS NULL OR r.read_at < c.last_inbound_at))`;
  const overdue = `(c.waiting_since IS NOT NULL AND c.status IN ('OPEN','PENDING') AND c.waiting_since < now() - make_interval(mins => ${p.add(ctx.config.INBOX_FIRST_RESPONSE_SLA_MINUTES, '::int')}))`;
  const cols = VIEWS.flatMap((v) => {
    const cond = viewCondition(v, p, me, today);
    return [
      `count(*) FILTER (WHERE ${cond}) AS "${v}.total"`,
      `count(*) FILTER (WHERE ${cond} AND ${unread}) AS "${v}.unread"`,
      `count(*) FILTER (WHERE ${cond} AND ${overdue}) AS "${v}.overdue"`,
    ];
  });
  const [row] = await ctx.db.$queryRawUnsafe<Record<string, bigint>[]>(
    `SELECT ${cols.join(',\n')} FROM conversations c LEFT JOIN debtors d ON d.id = c.debtor_id
       LEFT JOIN conversation_reads r ON r.user_id = ${meParam} AND r.conversation_id = c.id`,
    ...p.values,
  );
  return VIEWS.map((v) => ({
    view: v,
    label: VIEW_LABELS[v],
    total: Number(row?.[`${v}.total`] ?? 0),
    unread: Number(row?.[`${v}.unread`] ?? 0),
    overdue: Number(row?.[`${v}.overdue`] ?? 0),
  }));
}

/** The agent has read the conversation up to now. */
export async function markRead(ctx: AppContext, principal: Principal, conversationId: string): Promise<void> {
  const me = userIdOf(principal);
  if (!me) return;
  await ctx.db
    .$executeRaw`INSERT INTO conversation_reads (user_id, conversation_id, read_at) VALUES (${me}::uuid, ${conversationId}::uuid, now())
    ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_at = now()`;
}

export const queueRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/inbox/conversations',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      'A page of a work-queue view (unanswered oldest first, mine, unassigned, all, promises due today, broken promises, callbacks, disputes, by balance), filtered and searched; nextCursor reads on',
    query: queueQuery,
    responses: { 200: 'Conversations', 400: 'Invalid filter or cursor' },
    handler: async (req, res, ctx) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await listQueue(ctx, req.valid.query, req.principal!));
    },
  },
  {
    method: 'get',
    path: '/api/v1/inbox/views',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      'The work-queue views with their totals, unread and overdue counts for the signed-in agent, and the first-response target',
    query: z.object({ tz: zone.default('UTC') }),
    responses: { 200: 'Views' },
    handler: async (req, res, ctx) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({
        views: await viewCounts(ctx, req.principal!, req.valid.query.tz),
        sla: { firstResponseMinutes: ctx.config.INBOX_FIRST_RESPONSE_SLA_MINUTES },
      });
    },
  },
);

// Builds the router's snapshot of one debtor from the database: contact
// points with consent, preferences, debts and the last HISTORY_DAYS of
// messages. Called inside the transaction that holds the debtor's row lock,
// so the history it sees cannot change until the new message is written.
import {
  Prisma,
  type AttorneyStatus,
  type Channel,
  type ConsentState,
  type ContactPoint,
  type CreditorKind,
  type ContactRestriction,
  type DebtStatus,
  type Direction,
} from '../generated/prisma/client.js';
import { sqlOf, type Queryable } from '../db/sql.js';
import { HISTORY_DAYS, type HistoryEntry, type HistoryKind, type RouterSnapshot } from '../router/index.js';
import { groupSuppressions } from '../domain/suppressions.js';
import type { ContentDebt } from './content.js';

export async function lockDebtor(tx: Queryable, debtorId: string): Promise<boolean> {
  const rows = await sqlOf(tx).rows<{ id: string }>(
    'SELECT id::text AS id FROM debtors WHERE id = $1::uuid FOR UPDATE',
    [debtorId],
  );
  return rows.length === 1;
}

/** How a past message counts for the router's limits (a call that reached a machine is a voicemail). */
export function historyKind(channel: string, callOutcome: unknown): HistoryKind {
  if (channel === 'SMS') return 'text';
  if (channel === 'EMAIL') return 'email';
  if (channel === 'LETTER') return 'letter';
  const answeredBy = (callOutcome as { answeredBy?: string } | null)?.answeredBy ?? '';
  if (answeredBy.startsWith('machine')) return 'voicemail';
  return 'call';
}

export interface SnapshotOptions {
  /** The message being re-checked at send time: not part of its own history. */
  excludeMessageId?: string;
  /**
   * Send-time re-check: unsent attempts reserved for later than this are left
   * out, so a later reservation never holds back an earlier message (the later
   * one is re-checked, and deferred if need be, when its own time comes).
   */
  ignoreReservationsAfter?: Date;
  /** Also read this debt (with its creditor's name) for rendering, in the same query; null if it is not this debtor's. */
  debtId?: string;
}

export async function loadSnapshot(
  tx: Queryable,
  debtorId: string,
  now: Date,
  opts: SnapshotOptions = {},
): Promise<RouterSnapshot | null> {
  return (await loadSnapshotWithDebtor(tx, debtorId, now, opts))?.snapshot ?? null;
}

/** The debtor's own fields that rendering needs, read by the same query as the snapshot (no second round trip). */
export interface SnapshotDebtor {
  id: string;
  fullName: string;
  locale: string;
  jurisdiction: string | null;
  /** Any outbound message to this debtor before (not cancelled or failed): is this the first communication (Reg F validation notice)? */
  contactedBefore: boolean;
  /** The debtor's conversation, if it has one yet. */
  conversationId: string | null;
}

/** A debt as the snapshot query reads it for rendering (see SnapshotOptions.debtId). */
export type SnapshotDebt = ContentDebt & { debtorId: string };

export async function loadSnapshotWithDebtor(
  tx: Queryable,
  debtorId: string,
  now: Date,
  opts: SnapshotOptions = {},
): Promise<{ snapshot: RouterSnapshot; debtor: SnapshotDebtor; debt: SnapshotDebt | null } | null> {
  const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000);
  // One round trip for everything (a nested Prisma include is a query per relation):
  // each relation comes back as a JSON array and is turned into the same rows the batch loader reads.
  const exclude = opts.excludeMessageId ? Prisma.sql`AND m.id <> ${opts.excludeMessageId}::uuid` : Prisma.empty;
  // "Contacted before" (the mini-Miranda's short form): a communication about this debt (else to this debtor) that
  // reached the debtor — never one merely queued or booked ahead, which may leave after this one (REACHED_SQL).
  const contactedExclude = opts.excludeMessageId
    ? Prisma.sql`AND p.id <> ${opts.excludeMessageId}::uuid`
    : Prisma.empty;
  const contactedScope = opts.debtId ? Prisma.sql`p.debt_id = ${opts.debtId}::uuid` : Prisma.sql`p.debtor_id = d.id`;
  const historyScope = opts.debtId ? Prisma.sql`h.debt_id = ${opts.debtId}::uuid` : Prisma.sql`h.debtor_id = d.id`;
  const debt = opts.debtId
    ? Prisma.sql`(SELECT json_build_object('id', x.id, 'debtorId', x.debtor_id, 'externalRef', x.external_ref, 'balance', x.balance::text, 'currency', x.currency,
          'dueDate', x.due_date, 'jurisdiction', x.jurisdiction, 'paymentLink', x.payment_link, 'creditorName', k.name, 'creditorKind', k.kind, 'timeBarred', x.time_barred)
        FROM debts x JOIN creditors k ON k.id = x.creditor_id WHERE x.id = ${opts.debtId}::uuid)`
    : Prisma.sql`NULL::json`;
  const query = Prisma.sql`
    SELECT d.id::text AS id, d.full_name AS "fullName", d.locale, d.jurisdiction, d.time_zone AS "timeZone", d.restrictions::text[] AS restrictions,
      (EXISTS (SELECT 1 FROM messages p WHERE ${contactedScope} AND p.direction = 'OUTBOUND' AND ${Prisma.raw(REACHED_SQL)} ${contactedExclude})
        OR EXISTS (SELECT 1 FROM contact_history h WHERE ${historyScope} AND h.direction = 'OUTBOUND' AND ${Prisma.raw(HISTORY_REACHED_SQL)})) AS "contactedBefore",
      (SELECT v.id::text FROM conversations v WHERE v.debtor_id = d.id) AS "conversationId",
      ${debt} AS debt,
      COALESCE((SELECT json_agg(json_build_object(
          'id', c.id, 'kind', c.kind, 'value', c.value, 'isMobile', c.is_mobile, 'isWork', c.is_work, 'employerForbidsContact', c.employer_forbids_contact,
          'country', c.country, 'region', c.region, 'postalCode', c.postal_code, 'city', c.city, 'timeZone', c.time_zone, 'valid', c.valid,
          'consents', COALESCE((SELECT json_agg(json_build_object('channel', k.channel, 'state', k.state)) FROM channel_consents k WHERE k.contact_point_id = c.id), '[]'::json))
        ORDER BY c.created_at, c.id) FROM contact_points c WHERE c.debtor_id = d.id), '[]'::json) AS "contactPoints",
      (SELECT json_build_object('channelOrder', p.channel_order, 'inconvenientTimes', p.inconvenient_times, 'contactLimits', p.contact_limits)
         FROM contact_preferences p WHERE p.debtor_id = d.id) AS preferences,
      COALESCE((SELECT json_agg(json_build_object('id', x.id, 'status', x.status, 'restrictions', x.restrictions, 'jurisdiction', x.jurisdiction,
          'lastPhoneConversationAt', x.last_phone_conversation_at, ${Prisma.raw(DEBT_FACTS_JSON)}))
        FROM debts x JOIN creditors k ON k.id = x.creditor_id WHERE x.debtor_id = d.id), '[]'::json) AS debts,
      COALESCE((SELECT json_agg(json_build_object('occurredAt', h.occurred_at, 'channel', h.channel, 'kind', h.kind, 'outcome', h.outcome, 'debtId', h.debt_id,
          'direction', h.direction) ORDER BY h.occurred_at) FROM contact_history h WHERE h.debtor_id = d.id AND h.occurred_at >= ${since}), '[]'::json) AS "contactHistory",
      COALESCE((SELECT json_agg(json_build_object('debtId', a.debt_id, 'name', a.name, 'status', a.status)) FROM attorney_representations a
        WHERE a.debtor_id = d.id AND a.status <> 'ENDED'), '[]'::json) AS attorneys,
      COALESCE((SELECT json_agg(json_build_object('startsAt', z.starts_at, 'endsAt', z.ends_at, 'endedAt', z.ended_at)) FROM moratoria z
        WHERE z.debtor_id = d.id AND z.starts_at <= ${now} AND (z.ends_at IS NULL OR z.ends_at > ${now}) AND (z.ended_at IS NULL OR z.ended_at > ${now})), '[]'::json) AS moratoria,
      COALESCE((SELECT json_agg(json_build_object('createdAt', m.created_at, 'scheduledAt', m.scheduled_at, 'sentAt', m.sent_at, 'channel', m.channel,
          'debtId', m.debt_id, 'direction', m.direction, 'countsAsAttempt', m.counts_as_attempt, 'callOutcome', m.call_outcome, 'contactPointId', m.contact_point_id)
          ORDER BY m.created_at)
        FROM messages m WHERE m.debtor_id = d.id AND m.created_at >= ${since} ${exclude}), '[]'::json) AS messages,
      COALESCE((SELECT json_agg(json_build_object('channel', s.channel, 'address', s.address, 'reason', s.reason)) FROM suppressions s
        WHERE s.address IN (SELECT c2.value FROM contact_points c2 WHERE c2.debtor_id = d.id AND c2.kind <> 'ADDRESS')), '[]'::json) AS suppressions
    FROM debtors d WHERE d.id = ${debtorId}::uuid`;
  const [row] = await sqlOf(tx).rows<SnapshotQueryRow>(query.text, query.values);
  if (!row) return null;
  const debtor = {
    id: row.id,
    fullName: row.fullName,
    locale: row.locale,
    jurisdiction: row.jurisdiction,
    timeZone: row.timeZone,
    restrictions: row.restrictions as ContactRestriction[],
  };
  const date = (v: string | null) => (v === null ? null : new Date(v));
  const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
  const snapshot = assembleSnapshot(
    {
      debtor,
      contactPoints: json(row.contactPoints),
      preferences: json(row.preferences),
      debts: json(row.debts).map((d) => ({
        ...d,
        lastPhoneConversationAt: date(d.lastPhoneConversationAt),
        validationNoticeAt: date(d.validationNoticeAt),
        initialCommunicationAt: date(d.initialCommunicationAt),
        callConsents: (d.callConsents ?? []).map((c) => new Date(c)),
      })),
      messages: json(row.messages).map((m) => ({
        ...m,
        createdAt: new Date(m.createdAt),
        scheduledAt: date(m.scheduledAt),
        sentAt: date(m.sentAt),
      })),
      suppressed: groupSuppressions(json(row.suppressions)),
      contactHistory: json(row.contactHistory).map((h) => ({ ...h, occurredAt: new Date(h.occurredAt) })),
      attorneys: json(row.attorneys),
      moratoria: json(row.moratoria).length,
    },
    now,
    opts,
  );
  const d = row.debt === null ? null : json(row.debt);
  return {
    snapshot,
    debtor: {
      id: debtor.id,
      fullName: debtor.fullName,
      locale: debtor.locale,
      jurisdiction: debtor.jurisdiction,
      contactedBefore: row.contactedBefore,
      conversationId: row.conversationId,
    },
    debt:
      d && d.debtorId === debtorId
        ? {
            id: d.id,
            debtorId: d.debtorId,
            externalRef: d.externalRef,
            currency: d.currency,
            jurisdiction: d.jurisdiction,
            paymentLink: d.paymentLink,
            // A DATE column: midnight UTC, as Prisma reads it; the balance exactly as stored.
            dueDate: new Date(`${d.dueDate}T00:00:00.000Z`),
            balance: new Prisma.Decimal(d.balance),
            creditor: { name: d.creditorName, kind: d.creditorKind },
            timeBarred: d.timeBarred,
          }
        : null,
  };
}

/** One debtor's snapshot rows as the single query returns them (relations as JSON, timestamps as ISO strings). */
interface SnapshotQueryRow {
  id: string;
  fullName: string;
  locale: string;
  jurisdiction: string | null;
  timeZone: string | null;
  restrictions: string[];
  contactedBefore: boolean;
  conversationId: string | null;
  debt: SnapshotDebtJson | string | null;
  contactPoints: SnapshotContactPoint[] | string;
  preferences: SnapshotRows['preferences'] | string;
  debts:
    | (Omit<
        SnapshotRows['debts'][number],
        'lastPhoneConversationAt' | 'validationNoticeAt' | 'initialCommunicationAt' | 'callConsents'
      > & {
        lastPhoneConversationAt: string | null;
        validationNoticeAt: string | null;
        initialCommunicationAt: string | null;
        callConsents: string[] | null;
      })[]
    | string;
  contactHistory: (Omit<ContactHistoryRow, 'occurredAt'> & { occurredAt: string })[] | string;
  attorneys: AttorneyRow[] | string;
  moratoria: unknown[] | string;
  messages:
    | (Omit<SnapshotRows['messages'][number], 'createdAt' | 'scheduledAt' | 'sentAt'> & {
        createdAt: string;
        scheduledAt: string | null;
        sentAt: string | null;
      })[]
    | string;
  suppressions: { channel: Channel; address: string; reason: string }[] | string;
}

interface SnapshotDebtJson {
  id: string;
  debtorId: string;
  externalRef: string;
  balance: string;
  currency: string;
  dueDate: string;
  jurisdiction: string | null;
  paymentLink: string | null;
  creditorName: string;
  creditorKind: CreditorKind;
  timeBarred: boolean;
}

/**
 * A message reached the debtor (for the mini-Miranda's first form and the validation notice's
 * 5-day clock, Reg F §1006.18(e), §1006.34(a)): a text or email delivered, a letter mailed, a
 * call a person answered. A voicemail is a limited-content message, no communication
 * (§1006.2(j)); a message queued, sending or lost is none either. Stricter: the full
 * disclosure repeats until a delivery is known. Columns of messages aliased p.
 */
export const REACHED_SQL = `((p.channel IN ('SMS', 'EMAIL') AND p.status = 'DELIVERED') OR (p.channel = 'LETTER' AND p.status IN ('MAILED', 'IN_TRANSIT', 'DELIVERED'))
  OR (p.channel = 'VOICE' AND p.call_outcome->>'outcome' = 'human'))`;
/** The same for contact made outside the gateway (contact_history aliased h): a conversation, a text, an email, a letter, a connected call. */
export const HISTORY_REACHED_SQL = `(h.kind IN ('conversation', 'text', 'email', 'letter') OR (h.kind = 'call' AND h.outcome = 'connected'))`;

/**
 * Per debt, with creditors aliased k and debts x: who collects, the loan type, the validation
 * notice, when the first communication about it reached the debtor, and the direct prior
 * consents to more calls (both loaders read this; the router looks at the last 7 days).
 */
export const DEBT_FACTS_JSON = `'creditorKind', k.kind, 'loanType', x.loan_type, 'validationNoticeAt', x.validation_notice_at,
  'initialCommunicationAt', (SELECT min(t) FROM (
      SELECT COALESCE(p.delivered_at, p.sent_at, p.updated_at) AS t FROM messages p WHERE p.debt_id = x.id AND p.direction = 'OUTBOUND' AND ${REACHED_SQL}
      UNION ALL SELECT h.occurred_at FROM contact_history h WHERE h.debt_id = x.id AND h.direction = 'OUTBOUND' AND ${HISTORY_REACHED_SQL}) u),
  'callConsents', (SELECT json_agg(cc.given_at ORDER BY cc.given_at) FROM call_consents cc WHERE cc.debt_id = x.id)`;

/** A contact made outside the gateway, as both loaders read it. */
export interface ContactHistoryRow {
  occurredAt: Date;
  channel: Channel;
  kind: string;
  outcome: string | null;
  debtId: string | null;
  direction: Direction;
}
export interface AttorneyRow {
  debtId: string | null;
  name: string;
  status: AttorneyStatus;
}

/** How one outside contact counts: a call only when it connected or left a message; a connected call is also a telephone conversation (stricter). */
function historyEntriesOf(h: ContactHistoryRow): HistoryEntry[] {
  const base = { at: h.occurredAt, channel: h.channel, debtId: h.debtId, direction: h.direction, contactPointId: null };
  if (h.direction === 'INBOUND') return [{ ...base, countsAsAttempt: false }];
  switch (h.kind) {
    case 'call':
      if (h.outcome === 'voicemail') return [{ ...base, countsAsAttempt: true, kind: 'voicemail' }];
      if (h.outcome !== 'connected') return [{ ...base, countsAsAttempt: false, kind: 'call' }];
      return [
        { ...base, countsAsAttempt: true, kind: 'call' },
        { ...base, countsAsAttempt: false, kind: 'conversation' },
      ];
    case 'conversation':
      return [
        { ...base, countsAsAttempt: true, kind: 'call' },
        { ...base, countsAsAttempt: false, kind: 'conversation' },
      ];
    case 'voicemail':
    case 'ringless_voicemail':
      return [{ ...base, countsAsAttempt: true, kind: h.kind }];
    default:
      return [{ ...base, countsAsAttempt: true, kind: h.kind as HistoryKind }];
  }
}

/** The contact-point fields a snapshot reads (loaders may hand over whole rows). */
type SnapshotContactPoint = Pick<
  ContactPoint,
  | 'id'
  | 'kind'
  | 'value'
  | 'isMobile'
  | 'isWork'
  | 'employerForbidsContact'
  | 'country'
  | 'region'
  | 'postalCode'
  | 'city'
  | 'timeZone'
  | 'valid'
> & {
  consents: { channel: Channel; state: ConsentState }[];
};

/** One debtor's rows, however they were loaded (one nested query, or a batch of debtors at once). */
export interface SnapshotRows {
  debtor: {
    id: string;
    jurisdiction: string | null;
    timeZone: string | null;
    restrictions: ContactRestriction[];
    locale: string;
  };
  contactPoints: readonly SnapshotContactPoint[];
  preferences: { channelOrder: Channel[]; inconvenientTimes: Prisma.JsonValue; contactLimits: Prisma.JsonValue } | null;
  debts: readonly {
    id: string;
    status: DebtStatus;
    restrictions: ContactRestriction[];
    jurisdiction: string | null;
    lastPhoneConversationAt: Date | null;
    creditorKind: CreditorKind;
    loanType: string | null;
    validationNoticeAt: Date | null;
    initialCommunicationAt: Date | null;
    callConsents: Date[];
  }[];
  /** Contact made outside the gateway in the last HISTORY_DAYS. */
  contactHistory: readonly ContactHistoryRow[];
  /** Attorney representations on record that have not ended. */
  attorneys: readonly AttorneyRow[];
  /** Breathing Space moratoria in force at the snapshot's time (how many). */
  moratoria: number;
  messages: readonly {
    sentAt: Date | null;
    scheduledAt: Date | null;
    createdAt: Date;
    channel: Channel;
    debtId: string | null;
    direction: Direction;
    countsAsAttempt: boolean;
    callOutcome: Prisma.JsonValue;
    contactPointId: string | null;
  }[];
  /** The suppressions of the debtor's addresses (groupSuppressions in src/domain/suppressions.ts). */
  suppressed: ReadonlyMap<string, Partial<Record<'SMS' | 'EMAIL' | 'VOICE', string>>>;
}

/** The router's view of one debtor: the one mapping from rows to snapshot, used by every loader. */
export function assembleSnapshot(
  rows: SnapshotRows,
  now: Date,
  opts: Pick<SnapshotOptions, 'ignoreReservationsAfter'> = {},
): RouterSnapshot {
  const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000);
  const { debtor, suppressed } = rows;
  // Email addresses the debtor wrote from: a work address may be used only then (Reg F §1006.22(f)(3)).
  const usedByDebtor = new Set(
    rows.messages.filter((m) => m.direction === 'INBOUND' && m.contactPointId).map((m) => m.contactPointId!),
  );
  const reservedLater = (m: { sentAt: Date | null; scheduledAt: Date | null }) =>
    !!opts.ignoreReservationsAfter && !m.sentAt && !!m.scheduledAt && m.scheduledAt > opts.ignoreReservationsAfter;
  const history: HistoryEntry[] = rows.messages
    .filter((m) => !reservedLater(m))
    .map((m) => ({
      // A reserved-but-not-yet-sent attempt counts at the time it will go out.
      at: m.sentAt ?? m.scheduledAt ?? m.createdAt,
      channel: m.channel,
      debtId: m.debtId,
      direction: m.direction,
      countsAsAttempt: m.countsAsAttempt,
      kind: m.direction === 'OUTBOUND' ? historyKind(m.channel, m.callOutcome) : undefined,
      contactPointId: m.contactPointId,
    }));
  for (const d of rows.debts) {
    if (d.lastPhoneConversationAt && d.lastPhoneConversationAt >= since) {
      history.push({
        at: d.lastPhoneConversationAt,
        channel: 'VOICE',
        debtId: d.id,
        direction: 'OUTBOUND',
        countsAsAttempt: false,
        kind: 'conversation',
      });
    }
  }
  // Contact made outside the gateway counts by every limit like the gateway's own.
  for (const h of rows.contactHistory) if (h.occurredAt >= since) history.push(...historyEntriesOf(h));
  // A Breathing Space in force is the MORATORIUM restriction, from its start to its end, without anyone setting the flag.
  const restrictions =
    rows.moratoria > 0 && !debtor.restrictions.includes('MORATORIUM')
      ? [...debtor.restrictions, 'MORATORIUM' as const]
      : debtor.restrictions;
  const attorneyOf = (debtId: string) => {
    const own = rows.attorneys.filter((a) => a.debtId === null || a.debtId === debtId);
    if (own.length === 0) return null;
    // One still representing without consent binds, whatever another says.
    const binding = own.find((a) => a.status === 'REPRESENTING') ?? own[0]!;
    return { status: binding.status as 'REPRESENTING' | 'CONSENTED' | 'UNRESPONSIVE', name: binding.name };
  };
  return {
    debtor: {
      id: debtor.id,
      jurisdiction: debtor.jurisdiction,
      timeZone: debtor.timeZone,
      restrictions,
      locale: debtor.locale,
    },
    contactPoints: rows.contactPoints.map((c) => ({
      id: c.id,
      kind: c.kind,
      value: c.value,
      isMobile: c.isMobile,
      isWork: c.isWork,
      employerForbidsContact: c.employerForbidsContact,
      usedByDebtor: usedByDebtor.has(c.id),
      country: c.country,
      region: c.region,
      postalCode: c.postalCode,
      city: c.city,
      timeZone: c.timeZone,
      valid: c.valid,
      consents: Object.fromEntries(c.consents.map((x) => [x.channel, x.state])),
      ...(suppressed.has(c.value) ? { suppressions: suppressed.get(c.value) } : {}),
    })),
    preferences: rows.preferences
      ? {
          channelOrder: rows.preferences.channelOrder,
          inconvenientTimes: rows.preferences.inconvenientTimes,
          contactLimits: rows.preferences.contactLimits,
        }
      : null,
    debts: rows.debts.map((d) => {
      const attorney = attorneyOf(d.id);
      return {
        id: d.id,
        status: d.status,
        // An attorney on record is the ATTORNEY_REPRESENTED restriction; the router lifts it when the attorney consented or did not respond.
        restrictions:
          attorney && !d.restrictions.includes('ATTORNEY_REPRESENTED')
            ? [...d.restrictions, 'ATTORNEY_REPRESENTED' as const]
            : d.restrictions,
        jurisdiction: d.jurisdiction,
        lastPhoneConversationAt: d.lastPhoneConversationAt,
        collector: d.creditorKind,
        loanType: d.loanType,
        attorney,
        callConsents: d.callConsents,
        initialCommunicationAt: d.initialCommunicationAt,
        validationNoticeAt: d.validationNoticeAt,
      };
    }),
    history,
    now,
  };
}

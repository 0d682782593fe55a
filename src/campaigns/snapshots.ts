// Router snapshots of a whole batch of debtors in six raw queries (debtors,
// contact points with consents, preferences, debts, recent messages,
// suppressions of their addresses) instead of one nested query per debtor,
// assembled by the same assembleSnapshot() as src/outbound/snapshot.ts;
// test/campaigns/wave-batch.test.ts checks both loaders give the same snapshot.
// Raw SQL rather than Prisma findMany: mapping thousands of rows with enum,
// JSON and array fields through Prisma's result layer cost more than the
// queries themselves; here enums come back as text and consents as two
// parallel arrays, so each row is a flat tuple.
// Call inside the transaction that holds the debtors' row locks.
import {
  Prisma,
  type Channel,
  type ConsentState,
  type CreditorKind,
  type ContactPointKind,
  type ContactRestriction,
  type DebtStatus,
  type Direction,
} from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { HISTORY_DAYS, type RouterSnapshot } from '../router/index.js';
import {
  assembleSnapshot,
  DEBT_FACTS_JSON,
  type AttorneyRow,
  type ContactHistoryRow,
  type SnapshotRows,
} from '../outbound/snapshot.js';
import { groupSuppressions } from '../domain/suppressions.js';

type Tx = Prisma.TransactionClient | Db;

/** The debtor fields that content rendering needs next to the snapshot. */
export interface BatchDebtor {
  id: string;
  fullName: string;
  locale: string;
  jurisdiction: string | null;
  restrictions: string[];
}

export interface BatchSnapshots {
  snapshots: Map<string, RouterSnapshot>;
  debtors: Map<string, BatchDebtor>;
}

interface DebtorRow {
  id: string;
  fullName: string;
  locale: string;
  jurisdiction: string | null;
  timeZone: string | null;
  restrictions: string[];
}
type ContactPointRow = Omit<SnapshotRows['contactPoints'][number], 'consents' | 'kind'> & {
  debtorId: string;
  kind: ContactPointKind;
  consentChannels: Channel[] | null;
  consentStates: ConsentState[] | null;
};
type PreferencesRow = NonNullable<SnapshotRows['preferences']> & { debtorId: string };
type DebtSnapshotRow = Pick<
  SnapshotRows['debts'][number],
  'id' | 'status' | 'restrictions' | 'jurisdiction' | 'lastPhoneConversationAt'
> & {
  debtorId: string;
  facts: {
    creditorKind: CreditorKind;
    loanType: string | null;
    validationNoticeAt: string | null;
    initialCommunicationAt: string | null;
    callConsents: string[] | null;
  };
};
type ContactHistorySnapshotRow = ContactHistoryRow & { debtorId: string };
type AttorneySnapshotRow = AttorneyRow & { debtorId: string };
type MessageSnapshotRow = SnapshotRows['messages'][number] & { debtorId: string };
interface SuppressionRow {
  channel: Channel;
  address: string;
  reason: string;
}

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = out.get(k);
    if (list) list.push(r);
    else out.set(k, [r]);
  }
  return out;
}

/** Snapshots of every existing debtor in `debtorIds` at `now` (missing debtors are left out). */
export async function loadBatchSnapshots(tx: Tx, debtorIds: readonly string[], now: Date): Promise<BatchSnapshots> {
  const ids = [...new Set(debtorIds)];
  const since = new Date(now.getTime() - HISTORY_DAYS * 86_400_000);
  const [debtors, points, preferences, debts, messages, suppressions, history, attorneys, moratoria] =
    await Promise.all([
      tx.$queryRaw<DebtorRow[]>`
      SELECT d.id::text AS id, d.full_name AS "fullName", d.locale, d.jurisdiction, d.time_zone AS "timeZone", d.restrictions::text[] AS restrictions
        FROM debtors d WHERE d.id = ANY(${ids}::uuid[])`,
      // Consents as two parallel arrays (unique per contact point and channel), in the single loader's contact-point order.
      tx.$queryRaw<ContactPointRow[]>`
      SELECT c.id::text AS id, c.debtor_id::text AS "debtorId", c.kind::text AS kind, c.value, c.is_mobile AS "isMobile", c.is_work AS "isWork",
             c.employer_forbids_contact AS "employerForbidsContact", c.country, c.region, c.postal_code AS "postalCode", c.city, c.time_zone AS "timeZone", c.valid,
             k.channels AS "consentChannels", k.states AS "consentStates"
        FROM contact_points c
        LEFT JOIN LATERAL (SELECT array_agg(x.channel::text) AS channels, array_agg(x.state::text) AS states FROM channel_consents x WHERE x.contact_point_id = c.id) k ON true
       WHERE c.debtor_id = ANY(${ids}::uuid[])
       ORDER BY c.debtor_id, c.created_at, c.id`,
      tx.$queryRaw<PreferencesRow[]>`
      SELECT p.debtor_id::text AS "debtorId", p.channel_order::text[] AS "channelOrder", p.inconvenient_times AS "inconvenientTimes", p.contact_limits AS "contactLimits"
        FROM contact_preferences p WHERE p.debtor_id = ANY(${ids}::uuid[])`,
      tx.$queryRaw<DebtSnapshotRow[]>`
      SELECT x.id::text AS id, x.debtor_id::text AS "debtorId", x.status::text AS status, x.restrictions::text[] AS restrictions, x.jurisdiction,
             x.last_phone_conversation_at AS "lastPhoneConversationAt", json_build_object(${Prisma.raw(DEBT_FACTS_JSON)}) AS facts
        FROM debts x JOIN creditors k ON k.id = x.creditor_id WHERE x.debtor_id = ANY(${ids}::uuid[])`,
      tx.$queryRaw<MessageSnapshotRow[]>`
      SELECT m.debtor_id::text AS "debtorId", m.created_at AS "createdAt", m.scheduled_at AS "scheduledAt", m.sent_at AS "sentAt", m.channel::text AS channel,
             m.debt_id::text AS "debtId", m.direction::text AS direction, m.counts_as_attempt AS "countsAsAttempt", m.call_outcome AS "callOutcome",
             m.contact_point_id::text AS "contactPointId"
        FROM messages m WHERE m.debtor_id = ANY(${ids}::uuid[]) AND m.created_at >= ${since}
       ORDER BY m.debtor_id, m.created_at`,
      // The suppression list against the batch's phones and emails, in the same round of queries (no second trip).
      tx.$queryRaw<SuppressionRow[]>`
      SELECT s.channel::text AS channel, s.address, s.reason FROM suppressions s
       WHERE s.address IN (SELECT c.value FROM contact_points c WHERE c.debtor_id = ANY(${ids}::uuid[]) AND c.kind <> 'ADDRESS')`,
      // Contact made outside the gateway, attorneys and Breathing Space moratoria in force (src/outbound/snapshot.ts reads the same).
      tx.$queryRaw<ContactHistorySnapshotRow[]>`
      SELECT h.debtor_id::text AS "debtorId", h.occurred_at AS "occurredAt", h.channel::text AS channel, h.kind, h.outcome, h.debt_id::text AS "debtId", h.direction::text AS direction
        FROM contact_history h WHERE h.debtor_id = ANY(${ids}::uuid[]) AND h.occurred_at >= ${since} ORDER BY h.debtor_id, h.occurred_at`,
      tx.$queryRaw<AttorneySnapshotRow[]>`
      SELECT a.debtor_id::text AS "debtorId", a.debt_id::text AS "debtId", a.name, a.status::text AS status
        FROM attorney_representations a WHERE a.debtor_id = ANY(${ids}::uuid[]) AND a.status <> 'ENDED'`,
      tx.$queryRaw<{ debtorId: string; n: number }[]>`
      SELECT z.debtor_id::text AS "debtorId", count(*)::int AS n FROM moratoria z
       WHERE z.debtor_id = ANY(${ids}::uuid[]) AND z.starts_at <= ${now} AND (z.ends_at IS NULL OR z.ends_at > ${now}) AND (z.ended_at IS NULL OR z.ended_at > ${now})
       GROUP BY 1`,
    ]);
  const historyOf = groupBy(history, (h) => h.debtorId);
  const attorneysOf = groupBy(attorneys, (a) => a.debtorId);
  const moratoriaOf = new Map(moratoria.map((z) => [z.debtorId, z.n]));
  const pointsOf = groupBy(points, (p) => p.debtorId);
  const debtsOf = groupBy(debts, (d) => d.debtorId);
  const messagesOf = groupBy(messages, (m) => m.debtorId);
  const preferencesOf = new Map(preferences.map((p) => [p.debtorId, p]));
  const suppressed = groupSuppressions(suppressions);

  const snapshots = new Map<string, RouterSnapshot>();
  const batchDebtors = new Map<string, BatchDebtor>();
  for (const row of debtors) {
    const debtor = { ...row, restrictions: row.restrictions as ContactRestriction[] };
    const prefs = preferencesOf.get(debtor.id);
    snapshots.set(
      debtor.id,
      assembleSnapshot(
        {
          debtor,
          contactPoints: (pointsOf.get(debtor.id) ?? []).map((c) => ({
            ...c,
            consents: (c.consentChannels ?? []).map((channel, i) => ({ channel, state: c.consentStates![i]! })),
          })),
          preferences: prefs
            ? {
                channelOrder: prefs.channelOrder,
                inconvenientTimes: prefs.inconvenientTimes,
                contactLimits: prefs.contactLimits,
              }
            : null,
          debts: (debtsOf.get(debtor.id) ?? []).map(({ facts, ...d }) => ({
            ...d,
            status: d.status as DebtStatus,
            creditorKind: facts.creditorKind,
            loanType: facts.loanType,
            validationNoticeAt: facts.validationNoticeAt ? new Date(facts.validationNoticeAt) : null,
            initialCommunicationAt: facts.initialCommunicationAt ? new Date(facts.initialCommunicationAt) : null,
            callConsents: (facts.callConsents ?? []).map((c) => new Date(c)),
          })),
          messages: (messagesOf.get(debtor.id) ?? []).map((m) => ({ ...m, direction: m.direction as Direction })),
          suppressed,
          contactHistory: historyOf.get(debtor.id) ?? [],
          attorneys: attorneysOf.get(debtor.id) ?? [],
          moratoria: moratoriaOf.get(debtor.id) ?? 0,
        },
        now,
      ),
    );
    batchDebtors.set(debtor.id, {
      id: debtor.id,
      fullName: debtor.fullName,
      locale: debtor.locale,
      jurisdiction: debtor.jurisdiction,
      restrictions: debtor.restrictions,
    });
  }
  return { snapshots, debtors: batchDebtors };
}

/** A debt with its creditor, as Prisma's `include: { creditor: true }` returns it (what rendering takes). */
export type DebtWithCreditor = Prisma.DebtGetPayload<{ include: { creditor: true } }>;

interface DebtWithCreditorRow {
  id: string;
  creditorId: string;
  externalRef: string;
  debtorId: string;
  originalAmount: string;
  balance: string;
  currency: string;
  dueDate: string;
  status: string;
  jurisdiction: string | null;
  restrictions: string[];
  tags: string[];
  timeBarred: boolean;
  paymentLink: string | null;
  lastPhoneConversationAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  loanType: string | null;
  itemizationDate: string | null;
  itemizationAmount: string | null;
  interestSinceItemization: string;
  feesSinceItemization: string;
  creditsSinceItemization: string;
  originalCreditorName: string | null;
  validationNoticeAt: Date | null;
  validationPeriodEndsAt: Date | null;
  creditorName: string;
  creditorExternalRef: string;
  creditorCreatedAt: Date;
  creditorPortalSettings: Prisma.JsonValue;
  creditorKind: string;
}

/**
 * The batch's debts with their creditors in one raw query, mapped to the
 * exact shape Prisma would return: amounts as Decimal (read as text, so no
 * float rounding), the due date (a DATE column) as UTC midnight.
 */
export async function loadBatchDebts(tx: Tx, debtIds: readonly string[]): Promise<Map<string, DebtWithCreditor>> {
  const rows = await tx.$queryRaw<DebtWithCreditorRow[]>`
    SELECT x.id::text AS id, x.creditor_id::text AS "creditorId", x.external_ref AS "externalRef", x.debtor_id::text AS "debtorId",
           x.original_amount::text AS "originalAmount", x.balance::text AS balance, x.currency::text AS currency, to_char(x.due_date, 'YYYY-MM-DD') AS "dueDate",
           x.status::text AS status, x.jurisdiction, x.restrictions::text[] AS restrictions, x.tags, x.time_barred AS "timeBarred", x.payment_link AS "paymentLink",
           x.last_phone_conversation_at AS "lastPhoneConversationAt", x.created_at AS "createdAt", x.updated_at AS "updatedAt",
           x.loan_type AS "loanType", to_char(x.itemization_date, 'YYYY-MM-DD') AS "itemizationDate", x.itemization_amount::text AS "itemizationAmount",
           x.interest_since_itemization::text AS "interestSinceItemization", x.fees_since_itemization::text AS "feesSinceItemization",
           x.credits_since_itemization::text AS "creditsSinceItemization", x.original_creditor_name AS "originalCreditorName",
           x.validation_notice_at AS "validationNoticeAt", x.validation_period_ends_at AS "validationPeriodEndsAt",
           c.name AS "creditorName", c.external_ref AS "creditorExternalRef", c.created_at AS "creditorCreatedAt", c.portal_settings AS "creditorPortalSettings",
           c.kind::text AS "creditorKind"
      FROM debts x JOIN creditors c ON c.id = x.creditor_id
     WHERE x.id = ANY(${[...new Set(debtIds)]}::uuid[])`;
  const out = new Map<string, DebtWithCreditor>();
  for (const r of rows) {
    out.set(r.id, {
      id: r.id,
      creditorId: r.creditorId,
      externalRef: r.externalRef,
      debtorId: r.debtorId,
      originalAmount: new Prisma.Decimal(r.originalAmount),
      balance: new Prisma.Decimal(r.balance),
      currency: r.currency,
      dueDate: new Date(`${r.dueDate}T00:00:00.000Z`),
      status: r.status as DebtStatus,
      jurisdiction: r.jurisdiction,
      restrictions: r.restrictions as ContactRestriction[],
      tags: r.tags,
      timeBarred: r.timeBarred,
      paymentLink: r.paymentLink,
      lastPhoneConversationAt: r.lastPhoneConversationAt,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      loanType: r.loanType,
      itemizationDate: r.itemizationDate ? new Date(`${r.itemizationDate}T00:00:00.000Z`) : null,
      itemizationAmount: r.itemizationAmount === null ? null : new Prisma.Decimal(r.itemizationAmount),
      interestSinceItemization: new Prisma.Decimal(r.interestSinceItemization),
      feesSinceItemization: new Prisma.Decimal(r.feesSinceItemization),
      creditsSinceItemization: new Prisma.Decimal(r.creditsSinceItemization),
      originalCreditorName: r.originalCreditorName,
      validationNoticeAt: r.validationNoticeAt,
      validationPeriodEndsAt: r.validationPeriodEndsAt,
      creditor: {
        id: r.creditorId,
        name: r.creditorName,
        externalRef: r.creditorExternalRef,
        createdAt: r.creditorCreatedAt,
        portalSettings: r.creditorPortalSettings,
        kind: r.creditorKind as CreditorKind,
      },
    });
  }
  return out;
}

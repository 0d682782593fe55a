// Router snapshots of a whole batch of debtors in five queries (debtors,
// contact points with consents, preferences, debts, recent messages) instead
// of one nested query per debtor. The mapping is the one of
// src/outbound/snapshot.ts (loadSnapshot); test/campaigns/snapshots.test.ts
// checks both give the same snapshot, so a change there that is not made here
// fails a test instead of silently deciding differently in waves.
// Call inside the transaction that holds the debtors' row locks.
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { HISTORY_DAYS, type HistoryEntry, type HistoryKind, type RouterSnapshot } from '../router/index.js';

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

export function historyKind(channel: string, callOutcome: unknown): HistoryKind {
  if (channel === 'SMS') return 'text';
  if (channel === 'EMAIL') return 'email';
  if (channel === 'LETTER') return 'letter';
  const answeredBy = (callOutcome as { answeredBy?: string } | null)?.answeredBy ?? '';
  return answeredBy.startsWith('machine') ? 'voicemail' : 'call';
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
  const [debtors, points, preferences, debts, messages] = await Promise.all([
    tx.debtor.findMany({ where: { id: { in: ids } }, select: { id: true, fullName: true, locale: true, jurisdiction: true, timeZone: true, restrictions: true } }),
    tx.contactPoint.findMany({ where: { debtorId: { in: ids } }, include: { consents: true }, orderBy: [{ debtorId: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] }),
    tx.contactPreferences.findMany({ where: { debtorId: { in: ids } } }),
    tx.debt.findMany({ where: { debtorId: { in: ids } }, select: { id: true, debtorId: true, status: true, restrictions: true, jurisdiction: true, lastPhoneConversationAt: true } }),
    tx.message.findMany({
      where: { debtorId: { in: ids }, createdAt: { gte: since } },
      select: { id: true, debtorId: true, createdAt: true, scheduledAt: true, sentAt: true, channel: true, debtId: true, direction: true, countsAsAttempt: true, callOutcome: true, contactPointId: true },
    }),
  ]);
  const pointsOf = groupBy(points, (p) => p.debtorId);
  const debtsOf = groupBy(debts, (d) => d.debtorId);
  const messagesOf = groupBy(messages, (m) => m.debtorId!);
  const preferencesOf = new Map(preferences.map((p) => [p.debtorId, p]));

  const snapshots = new Map<string, RouterSnapshot>();
  const batchDebtors = new Map<string, BatchDebtor>();
  for (const debtor of debtors) {
    const own = messagesOf.get(debtor.id) ?? [];
    const ownDebts = debtsOf.get(debtor.id) ?? [];
    // Email addresses the debtor wrote from: a work address may be used only then (Reg F §1006.22(f)(3)).
    const usedByDebtor = new Set(own.filter((m) => m.direction === 'INBOUND' && m.contactPointId).map((m) => m.contactPointId!));
    const history: HistoryEntry[] = own.map((m) => ({
      // A reserved-but-not-yet-sent attempt counts at the time it will go out.
      at: m.sentAt ?? m.scheduledAt ?? m.createdAt,
      channel: m.channel,
      debtId: m.debtId,
      direction: m.direction,
      countsAsAttempt: m.countsAsAttempt,
      kind: m.direction === 'OUTBOUND' ? historyKind(m.channel, m.callOutcome) : undefined,
      contactPointId: m.contactPointId,
    }));
    for (const d of ownDebts) {
      if (d.lastPhoneConversationAt && d.lastPhoneConversationAt >= since) {
        history.push({ at: d.lastPhoneConversationAt, channel: 'VOICE', debtId: d.id, direction: 'OUTBOUND', countsAsAttempt: false, kind: 'conversation' });
      }
    }
    const prefs = preferencesOf.get(debtor.id);
    snapshots.set(debtor.id, {
      debtor: { id: debtor.id, jurisdiction: debtor.jurisdiction, timeZone: debtor.timeZone, restrictions: debtor.restrictions, locale: debtor.locale },
      contactPoints: (pointsOf.get(debtor.id) ?? []).map((c) => ({
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
      })),
      preferences: prefs ? { channelOrder: prefs.channelOrder, inconvenientTimes: prefs.inconvenientTimes, contactLimits: prefs.contactLimits } : null,
      debts: ownDebts.map((d) => ({ id: d.id, status: d.status, restrictions: d.restrictions, jurisdiction: d.jurisdiction, lastPhoneConversationAt: d.lastPhoneConversationAt })),
      history,
      now,
    });
    batchDebtors.set(debtor.id, { id: debtor.id, fullName: debtor.fullName, locale: debtor.locale, jurisdiction: debtor.jurisdiction, restrictions: debtor.restrictions });
  }
  return { snapshots, debtors: batchDebtors };
}

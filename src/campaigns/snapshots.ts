// Router snapshots of a whole batch of debtors in five queries (debtors,
// contact points with consents, preferences, debts, recent messages) instead
// of one nested query per debtor, assembled by the same assembleSnapshot() as
// src/outbound/snapshot.ts; test/campaigns/wave-batch.test.ts checks both
// loaders give the same snapshot.
// Call inside the transaction that holds the debtors' row locks.
import type { Prisma } from '../generated/prisma/client.js';
import type { Db } from '../db/client.js';
import { HISTORY_DAYS, type RouterSnapshot } from '../router/index.js';
import { assembleSnapshot, SNAPSHOT_MESSAGE_FIELDS, suppressibleAddresses } from '../outbound/snapshot.js';
import { suppressionsByAddress } from '../domain/suppressions.js';


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
      select: { ...SNAPSHOT_MESSAGE_FIELDS, debtorId: true },
    }),
  ]);
  const pointsOf = groupBy(points, (p) => p.debtorId);
  const debtsOf = groupBy(debts, (d) => d.debtorId);
  const messagesOf = groupBy(messages, (m) => m.debtorId!);
  const preferencesOf = new Map(preferences.map((p) => [p.debtorId, p]));

  // Addresses on the suppression list: one query for the whole batch.
  const suppressed = await suppressionsByAddress(tx, suppressibleAddresses(points));

  const snapshots = new Map<string, RouterSnapshot>();
  const batchDebtors = new Map<string, BatchDebtor>();
  for (const debtor of debtors) {
    const prefs = preferencesOf.get(debtor.id) ?? null;
    snapshots.set(debtor.id, assembleSnapshot({
      debtor,
      contactPoints: pointsOf.get(debtor.id) ?? [],
      preferences: prefs,
      debts: debtsOf.get(debtor.id) ?? [],
      messages: messagesOf.get(debtor.id) ?? [],
      suppressed,
    }, now));
    batchDebtors.set(debtor.id, { id: debtor.id, fullName: debtor.fullName, locale: debtor.locale, jurisdiction: debtor.jurisdiction, restrictions: debtor.restrictions });
  }
  return { snapshots, debtors: batchDebtors };
}

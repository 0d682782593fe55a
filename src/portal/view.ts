// What the verified debtor sees: the creditor and account reference, each
// open debt's amounts and dates, letters sent, payments made. Read fresh on
// every page view; nothing here is shown before verification.
import type { AppContext } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import { minorDigits } from '../domain/debtors.js';
import { daysPastDue } from '../outbound/content.js';
import { requiresDebtCollectorDisclosure, DEFAULT_JURISDICTION_RULES } from '../templates/jurisdiction-rules.js';
import { portalSettingsOf, type PortalSettings } from './settings.js';

export const CLOSED_STATUSES = ['PAID', 'SETTLED', 'WRITTEN_OFF', 'CLOSED'] as const;

export interface DebtView {
  id: string;
  externalRef: string;
  creditorName: string;
  currency: string;
  digits: number;
  originalAmount: string;
  paid: string;
  balance: string;
  dueDate: string;
  daysPastDue: number;
  status: string;
  /** Reg F validation information applies (a debt collector collecting in a jurisdiction that requires the disclosure). */
  showValidation: boolean;
  settings: PortalSettings;
  activePlan: { planId: string; instalments: number } | null;
}

export interface AccountView {
  debtor: { id: string; fullName: string; locale: string };
  /** The debt whose link was opened: first in the list. */
  debts: DebtView[];
  letters: { messageId: string; date: string }[];
  payments: { id: string; debtRef: string; amount: string; currency: string; paidAt: string; status: string }[];
  preferences: { channel: string | null; inconvenient: { from: string; to: string } | null };
}

export async function loadAccount(
  ctx: AppContext,
  debtorId: string,
  linkDebtId: string,
  now: Date,
): Promise<AccountView | null> {
  const debtor = await ctx.db.debtor.findUnique({
    where: { id: debtorId },
    select: {
      id: true,
      fullName: true,
      locale: true,
      jurisdiction: true,
      preferences: { select: { channelOrder: true, inconvenientTimes: true } },
      debts: {
        include: {
          creditor: true,
          payments: { orderBy: { paidAt: 'asc' } },
          promises: { where: { status: 'ACTIVE', planId: { not: null } } },
        },
        orderBy: { dueDate: 'asc' },
      },
    },
  });
  if (!debtor) return null;
  const shown = debtor.debts.filter(
    (d) => d.id === linkDebtId || !(CLOSED_STATUSES as readonly string[]).includes(d.status),
  );
  shown.sort((a, b) => (a.id === linkDebtId ? -1 : b.id === linkDebtId ? 1 : 0));
  const debts: DebtView[] = shown.map((d) => {
    const digits = minorDigits(d.currency);
    const paid = d.payments
      .filter((p) => p.status === 'SUCCEEDED')
      .reduce((s, p) => s.plus(p.amount), new Prisma.Decimal(0));
    const plans = new Map<string, number>();
    for (const p of d.promises) plans.set(p.planId!, (plans.get(p.planId!) ?? 0) + 1);
    const [planId, instalments] = [...plans.entries()][0] ?? [];
    return {
      id: d.id,
      externalRef: d.externalRef,
      creditorName: d.creditor.name,
      currency: d.currency,
      digits,
      originalAmount: d.originalAmount.toFixed(digits),
      paid: paid.toFixed(digits),
      balance: Prisma.Decimal.max(d.balance, 0).toFixed(digits),
      dueDate: d.dueDate.toISOString().slice(0, 10),
      daysPastDue: daysPastDue(d.dueDate, now),
      status: d.status,
      showValidation: requiresDebtCollectorDisclosure(
        d.jurisdiction ?? debtor.jurisdiction,
        DEFAULT_JURISDICTION_RULES,
      ),
      settings: portalSettingsOf(d.creditor.portalSettings),
      activePlan: planId ? { planId, instalments: instalments! } : null,
    };
  });
  const letters = await ctx.db.message.findMany({
    where: {
      debtorId,
      channel: 'LETTER',
      direction: 'OUTBOUND',
      pdfPath: { not: null },
      status: { notIn: ['CANCELLED', 'FAILED', 'PENDING', 'SCHEDULED'] },
    },
    select: { id: true, createdAt: true },
    orderBy: { createdAt: 'desc' },
    take: 50,
  });
  const refOf = new Map(debtor.debts.map((d) => [d.id, d.externalRef]));
  const payments = debtor.debts
    .flatMap((d) => d.payments)
    .sort((a, b) => b.paidAt.getTime() - a.paidAt.getTime())
    .map((p) => ({
      id: p.id,
      debtRef: refOf.get(p.debtId) ?? '',
      amount: p.amount.toFixed(minorDigits(p.currency)),
      currency: p.currency,
      paidAt: p.paidAt.toISOString().slice(0, 10),
      status: p.status,
    }));
  const times = Array.isArray(debtor.preferences?.inconvenientTimes)
    ? (debtor.preferences!.inconvenientTimes as { from?: string; to?: string }[])
    : [];
  return {
    debtor: { id: debtor.id, fullName: debtor.fullName, locale: debtor.locale },
    debts,
    letters: letters.map((l) => ({ messageId: l.id, date: l.createdAt.toISOString().slice(0, 10) })),
    payments,
    preferences: {
      channel: debtor.preferences?.channelOrder[0] ?? null,
      inconvenient: times[0]?.from && times[0]?.to ? { from: times[0].from, to: times[0].to } : null,
    },
  };
}

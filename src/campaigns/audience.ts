// The audience filter of a campaign as a Prisma query over debts.
import type { Prisma } from '../generated/prisma/client.js';
import type { Audience } from './schemas.js';

const DAY_MS = 86_400_000;
export const DEFAULT_AUDIENCE_STATUSES = ['OPEN', 'PROMISED', 'PAYMENT_PLAN'] as const;

/** UTC midnight of `now` minus n days (due dates are calendar dates). */
function daysAgo(now: Date, n: number): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - n * DAY_MS);
}

/** Debts matching the audience and not enrolled in this campaign yet (ever: never re-enrolled). */
export function audienceWhere(audience: Audience, campaignId: string, now: Date): Prisma.DebtWhereInput {
  const and: Prisma.DebtWhereInput[] = [
    { status: { in: audience.status ?? [...DEFAULT_AUDIENCE_STATUSES] } },
    { enrollments: { none: { campaignId } } },
  ];
  const dpd = audience.daysPastDue;
  // days past due = today − due date: at least min → due on or before today − min.
  if (dpd?.min !== undefined) and.push({ dueDate: { lte: daysAgo(now, dpd.min) } });
  if (dpd?.max !== undefined) and.push({ dueDate: { gte: daysAgo(now, dpd.max) } });
  if (audience.balance?.min !== undefined) and.push({ balance: { gte: audience.balance.min } });
  if (audience.balance?.max !== undefined) and.push({ balance: { lte: audience.balance.max } });
  if (audience.creditorIds?.length) and.push({ creditorId: { in: audience.creditorIds } });
  if (audience.creditorRefs?.length) and.push({ creditor: { externalRef: { in: audience.creditorRefs } } });
  if (audience.tags?.length) and.push({ OR: [{ tags: { hasSome: audience.tags } }, { debtor: { tags: { hasSome: audience.tags } } }] });
  if (audience.jurisdictions?.length) {
    and.push({
      OR: audience.jurisdictions.flatMap((j) => [
        { jurisdiction: j },
        { jurisdiction: { startsWith: `${j}-` } },
        { jurisdiction: null, debtor: { jurisdiction: j } },
        { jurisdiction: null, debtor: { jurisdiction: { startsWith: `${j}-` } } },
      ]),
    });
  }
  if (audience.noContactDays) {
    and.push({ debtor: { messages: { none: { direction: 'OUTBOUND', status: { not: 'CANCELLED' }, createdAt: { gte: new Date(now.getTime() - audience.noContactDays * DAY_MS) } } } } });
  }
  return { AND: and };
}

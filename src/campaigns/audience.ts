// The audience filter of a campaign as a Prisma query over debts.
import { Prisma } from '../generated/prisma/client.js';
import type { Audience } from './schemas.js';

const DAY_MS = 86_400_000;
const DEFAULT_AUDIENCE_STATUSES = ['OPEN', 'PROMISED', 'PAYMENT_PLAN'] as const;

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
  // A balance band belongs to one currency; debts in other currencies are outside it.
  if (audience.balance?.currency) and.push({ currency: audience.balance.currency });
  if (audience.balance?.min !== undefined) and.push({ balance: { gte: audience.balance.min } });
  if (audience.balance?.max !== undefined) and.push({ balance: { lte: audience.balance.max } });
  if (audience.creditorIds?.length) and.push({ creditorId: { in: audience.creditorIds } });
  if (audience.creditorRefs?.length) and.push({ creditor: { externalRef: { in: audience.creditorRefs } } });
  if (audience.tags?.length)
    and.push({ OR: [{ tags: { hasSome: audience.tags } }, { debtor: { tags: { hasSome: audience.tags } } }] });
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
    and.push({
      debtor: {
        messages: {
          none: {
            direction: 'OUTBOUND',
            status: { not: 'CANCELLED' },
            createdAt: { gte: new Date(now.getTime() - audience.noContactDays * DAY_MS) },
          },
        },
      },
    });
  }
  return { AND: and };
}

/**
 * The same filter as SQL over `debts d` (for the one-statement enrolment
 * INSERT … SELECT). test/campaigns/audience.test.ts checks it selects the
 * same debts as audienceWhere.
 */
export function audienceSql(audience: Audience, campaignId: string, now: Date): Prisma.Sql {
  const and: Prisma.Sql[] = [
    Prisma.sql`d.status::text = ANY(${[...(audience.status ?? DEFAULT_AUDIENCE_STATUSES)]}::text[])`,
    Prisma.sql`NOT EXISTS (SELECT 1 FROM campaign_enrollments x WHERE x.campaign_id = ${campaignId}::uuid AND x.debt_id = d.id)`,
  ];
  const dpd = audience.daysPastDue;
  if (dpd?.min !== undefined) and.push(Prisma.sql`d.due_date <= ${daysAgo(now, dpd.min)}::date`);
  if (dpd?.max !== undefined) and.push(Prisma.sql`d.due_date >= ${daysAgo(now, dpd.max)}::date`);
  if (audience.balance?.currency) and.push(Prisma.sql`d.currency = ${audience.balance.currency}`);
  if (audience.balance?.min !== undefined) and.push(Prisma.sql`d.balance >= ${String(audience.balance.min)}::numeric`);
  if (audience.balance?.max !== undefined) and.push(Prisma.sql`d.balance <= ${String(audience.balance.max)}::numeric`);
  if (audience.creditorIds?.length) and.push(Prisma.sql`d.creditor_id = ANY(${audience.creditorIds}::uuid[])`);
  if (audience.creditorRefs?.length)
    and.push(
      Prisma.sql`d.creditor_id IN (SELECT c.id FROM creditors c WHERE c.external_ref = ANY(${audience.creditorRefs}::text[]))`,
    );
  if (audience.tags?.length) {
    and.push(
      Prisma.sql`(d.tags && ${audience.tags}::text[] OR EXISTS (SELECT 1 FROM debtors t WHERE t.id = d.debtor_id AND t.tags && ${audience.tags}::text[]))`,
    );
  }
  if (audience.jurisdictions?.length) {
    const codes = audience.jurisdictions;
    const prefixes = codes.map((j) => `${j}-%`);
    and.push(Prisma.sql`(
      d.jurisdiction = ANY(${codes}::text[]) OR d.jurisdiction LIKE ANY(${prefixes}::text[])
      OR (d.jurisdiction IS NULL AND EXISTS (SELECT 1 FROM debtors j WHERE j.id = d.debtor_id AND (j.jurisdiction = ANY(${codes}::text[]) OR j.jurisdiction LIKE ANY(${prefixes}::text[])))))`);
  }
  if (audience.noContactDays) {
    const since = new Date(now.getTime() - audience.noContactDays * DAY_MS);
    and.push(
      Prisma.sql`NOT EXISTS (SELECT 1 FROM messages m WHERE m.debtor_id = d.debtor_id AND m.direction = 'OUTBOUND' AND m.status <> 'CANCELLED' AND m.created_at >= ${since})`,
    );
  }
  return Prisma.join(and, ' AND ');
}

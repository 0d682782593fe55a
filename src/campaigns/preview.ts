// Who a draft campaign would reach before it starts: the audience count and its
// breakdown. WHY the same audienceSql as enrolment (runner.ts): the preview must
// count exactly the debts that start would enrol, not an approximation of them.
import { Prisma } from '../generated/prisma/client.js';
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { audienceSql } from './audience.js';
import type { Audience } from './schemas.js';

/** Balance bands (in each debt's own currency; bands never mix currencies). */
const BANDS = [100, 500, 1000, 5000] as const;

export interface AudiencePreview {
  campaignId: string;
  status: string;
  asOf: string;
  count: number;
  debtors: number;
  byJurisdiction: Record<string, number>;
  byPreferredChannel: Record<string, number>;
  byCurrency: Record<string, { debts: number; balance: string }>;
  byBalanceBand: Record<string, number>;
}

function bandLabel(currency: string, band: number): string {
  if (band === 0) return `${currency} under ${BANDS[0]}`;
  if (band >= BANDS.length) return `${currency} ${BANDS[BANDS.length - 1]} and over`;
  return `${currency} ${BANDS[band - 1]}–${BANDS[band]}`;
}

export async function previewAudience(ctx: AppContext, campaignId: string, now: Date): Promise<AudiencePreview> {
  const campaign = await ctx.db.campaign.findUnique({ where: { id: campaignId } });
  if (!campaign) throw notFound('campaign');
  const rows = await ctx.db.$queryRaw<
    {
      jurisdiction: string;
      channel: string;
      currency: string;
      band: number;
      debts: bigint;
      debtors: bigint;
      balance: Prisma.Decimal;
    }[]
  >`
    SELECT COALESCE(d.jurisdiction, t.jurisdiction, 'unknown') AS jurisdiction,
           COALESCE((p.channel_order)[1]::text, 'none') AS channel,
           d.currency,
           width_bucket(d.balance, ${[...BANDS].map(String)}::numeric[]) AS band,
           count(*) AS debts, count(DISTINCT d.debtor_id) AS debtors, sum(d.balance) AS balance
      FROM debts d
      JOIN debtors t ON t.id = d.debtor_id
      LEFT JOIN contact_preferences p ON p.debtor_id = d.debtor_id
     WHERE ${audienceSql(campaign.audience as Audience, campaignId, now)}
     GROUP BY 1, 2, 3, 4`;
  const add = (into: Record<string, number>, key: string, n: number) => (into[key] = (into[key] ?? 0) + n);
  const preview: AudiencePreview = {
    campaignId,
    status: campaign.status,
    asOf: now.toISOString(),
    count: 0,
    debtors: 0,
    byJurisdiction: {},
    byPreferredChannel: {},
    byCurrency: {},
    byBalanceBand: {},
  };
  const balances = new Map<string, Prisma.Decimal>();
  for (const r of rows) {
    const n = Number(r.debts);
    preview.count += n;
    add(preview.byJurisdiction, r.jurisdiction, n);
    add(preview.byPreferredChannel, r.channel, n);
    add(preview.byBalanceBand, bandLabel(r.currency.trim(), Number(r.band)), n);
    const cur = r.currency.trim();
    preview.byCurrency[cur] = { debts: (preview.byCurrency[cur]?.debts ?? 0) + n, balance: '0' };
    balances.set(cur, (balances.get(cur) ?? new Prisma.Decimal(0)).add(r.balance));
  }
  for (const [cur, sum] of balances) preview.byCurrency[cur]!.balance = sum.toFixed(2);
  // Distinct debtors over the whole audience (a debtor spans groups).
  const d = await ctx.db.$queryRaw<
    { n: bigint }[]
  >`SELECT count(DISTINCT d.debtor_id) AS n FROM debts d WHERE ${audienceSql(campaign.audience as Audience, campaignId, now)}`;
  preview.debtors = Number(d[0]?.n ?? 0);
  return preview;
}

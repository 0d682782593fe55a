// Results of a campaign, per step and in total: what was planned (queued,
// deferred, refused, suppressed, skipped — with reasons), what the providers
// did with it (sent, delivered, failed, cancelled) and what the debtors did
// afterwards (replied, promised, paid).
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';

const SENT = new Set([
  'QUEUED',
  'SENT',
  'DELIVERED',
  'MAILED',
  'IN_TRANSIT',
  'COMPLETED',
  'RINGING',
  'IN_PROGRESS',
  'BUSY',
  'NO_ANSWER',
  'RETURNED',
]);
const DELIVERED = new Set(['DELIVERED', 'COMPLETED']);
const FAILED = new Set(['FAILED', 'UNDELIVERED', 'BOUNCED', 'RETURNED']);
/**
 * Statuses in which the gateway still owes a message something: the outbox
 * (PENDING, SCHEDULED), a claim not yet answered (SENDING), or an admin's
 * decision after a crash (NEEDS_REVIEW). Every other status is final for the
 * campaign: the message is with its provider (whose later events still update
 * the counts) or ended (failed, cancelled …). A campaign completes only when
 * none of its messages is open.
 */
export const OPEN_STATUSES = ['PENDING', 'SCHEDULED', 'SENDING', 'NEEDS_REVIEW'] as const;

interface Counted {
  total: number;
  byReason: Record<string, number>;
}

export interface StepStats {
  runs: number;
  /** Messages written to the outbox (on time or deferred). */
  queued: number;
  pending: number;
  sent: number;
  delivered: number;
  failed: number;
  cancelled: number;
  /** Left unsure by a crash, waiting for an admin (recovery's NEEDS_REVIEW). */
  needsReview: number;
  deferred: Counted;
  refused: Counted;
  suppressed: Counted;
  skipped: Counted;
  replied: number;
  promised: number;
  paid: number;
}

const emptyCounted = (): Counted => ({ total: 0, byReason: {} });
const emptyStats = (): StepStats => ({
  runs: 0,
  queued: 0,
  pending: 0,
  sent: 0,
  delivered: 0,
  failed: 0,
  cancelled: 0,
  needsReview: 0,
  deferred: emptyCounted(),
  refused: emptyCounted(),
  suppressed: emptyCounted(),
  skipped: emptyCounted(),
  replied: 0,
  promised: 0,
  paid: 0,
});

function count(c: Counted, reasons: string[]) {
  c.total += 1;
  for (const r of reasons.length ? reasons : ['unspecified']) c.byReason[r] = (c.byReason[r] ?? 0) + 1;
}

interface RunRow {
  position: number;
  outcome: string;
  reasons: string[];
  status: string | null;
  replied: boolean;
  promised: boolean;
  paid: boolean;
}

export async function campaignResults(ctx: AppContext, campaignId: string) {
  const campaign = await ctx.db.campaign.findUnique({
    where: { id: campaignId },
    include: { steps: { orderBy: { position: 'asc' } } },
  });
  if (!campaign) throw notFound('campaign');
  const rows = await ctx.db.$queryRaw<RunRow[]>`
    SELECT s.position, r.outcome, r.reasons, m.status::text AS status,
      EXISTS (SELECT 1 FROM messages i WHERE i.debtor_id = e.debtor_id AND i.direction = 'INBOUND' AND i.intent IS DISTINCT FROM 'auto_reply' AND i.created_at > r.created_at) AS replied,
      EXISTS (SELECT 1 FROM promises_to_pay p WHERE p.debt_id = e.debt_id AND p.created_at > r.created_at) AS promised,
      EXISTS (SELECT 1 FROM payments p WHERE p.debt_id = e.debt_id AND p.created_at > r.created_at) AS paid
    FROM campaign_step_runs r
    JOIN campaign_enrollments e ON e.id = r.enrollment_id
    JOIN campaign_steps s ON s.id = r.step_id
    LEFT JOIN messages m ON m.id = r.message_id
    WHERE e.campaign_id = ${campaignId}::uuid`;
  const enrollments = await ctx.db.$queryRaw<
    { status: string; stop_reason: string | null; n: bigint; replied: bigint; promised: bigint; paid: bigint }[]
  >`
    SELECT e.status::text AS status, e.stop_reason, count(*) AS n,
      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM messages i WHERE i.debtor_id = e.debtor_id AND i.direction = 'INBOUND' AND i.intent IS DISTINCT FROM 'auto_reply' AND i.created_at > e.enrolled_at)) AS replied,
      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM promises_to_pay p WHERE p.debt_id = e.debt_id AND p.created_at > e.enrolled_at)) AS promised,
      count(*) FILTER (WHERE EXISTS (SELECT 1 FROM payments p WHERE p.debt_id = e.debt_id AND p.created_at > e.enrolled_at)) AS paid
    FROM campaign_enrollments e WHERE e.campaign_id = ${campaignId}::uuid GROUP BY 1, 2`;

  const steps = new Map(campaign.steps.map((s) => [s.position, emptyStats()]));
  const total = emptyStats();
  for (const r of rows) {
    for (const st of [steps.get(r.position), total]) {
      if (!st) continue;
      st.runs += 1;
      if (r.outcome === 'refused') count(st.refused, r.reasons);
      else if (r.outcome === 'suppressed') count(st.suppressed, r.reasons);
      else if (r.outcome === 'skipped') count(st.skipped, r.reasons);
      if (r.status) {
        st.queued += 1;
        if (r.outcome === 'deferred') count(st.deferred, r.reasons);
        if (SENT.has(r.status)) st.sent += 1;
        if (DELIVERED.has(r.status)) st.delivered += 1;
        if (FAILED.has(r.status)) st.failed += 1;
        if (r.status === 'CANCELLED') st.cancelled += 1;
        if (['PENDING', 'SCHEDULED', 'SENDING'].includes(r.status)) st.pending += 1;
        if (r.status === 'NEEDS_REVIEW') st.needsReview += 1;
      }
      if (st !== total) {
        if (r.replied) st.replied += 1;
        if (r.promised) st.promised += 1;
        if (r.paid) st.paid += 1;
      }
    }
  }
  const byStatus: Record<string, number> = {};
  const stoppedByReason: Record<string, number> = {};
  let enrolled = 0;
  for (const e of enrollments) {
    const n = Number(e.n);
    enrolled += n;
    byStatus[e.status] = (byStatus[e.status] ?? 0) + n;
    if (e.status === 'STOPPED')
      stoppedByReason[e.stop_reason ?? 'unspecified'] = (stoppedByReason[e.stop_reason ?? 'unspecified'] ?? 0) + n;
    total.replied += Number(e.replied);
    total.promised += Number(e.promised);
    total.paid += Number(e.paid);
  }
  const open = await openMessages(ctx, campaignId);
  return {
    campaign: { id: campaign.id, name: campaign.name, status: campaign.status },
    /** Messages of the campaign the gateway still owes something (OPEN_STATUSES), by status: while any is, the campaign is not complete. */
    open,
    enrolled,
    enrollments: {
      active: byStatus.ACTIVE ?? 0,
      completed: byStatus.COMPLETED ?? 0,
      stopped: byStatus.STOPPED ?? 0,
      stoppedByReason,
    },
    total,
    steps: campaign.steps.map((s) => ({
      position: s.position,
      stepId: s.id,
      intent: s.intent,
      channel: s.channel,
      ...steps.get(s.position)!,
    })),
  };
}

export type CampaignResults = Awaited<ReturnType<typeof campaignResults>>;

const reasonsText = (c: Counted) =>
  Object.entries(c.byReason)
    .map(([k, v]) => `${k}:${v}`)
    .join(';');

/** One CSV row per step plus a total row. */
export function resultsCsvRows(r: CampaignResults): Record<string, string | number>[] {
  const row = (step: string, intent: string, channel: string, s: StepStats, enrolled: number | string) => ({
    step,
    intent,
    channel,
    enrolled,
    runs: s.runs,
    queued: s.queued,
    pending: s.pending,
    sent: s.sent,
    delivered: s.delivered,
    failed: s.failed,
    cancelled: s.cancelled,
    needs_review: s.needsReview,
    deferred: s.deferred.total,
    deferred_reasons: reasonsText(s.deferred),
    suppressed: s.suppressed.total,
    suppressed_reasons: reasonsText(s.suppressed),
    refused: s.refused.total,
    refused_reasons: reasonsText(s.refused),
    skipped: s.skipped.total,
    skipped_reasons: reasonsText(s.skipped),
    replied: s.replied,
    promised: s.promised,
    paid: s.paid,
  });
  return [
    ...r.steps.map((s) => row(String(s.position), s.intent, s.channel ?? 'preference', s, '')),
    row('total', '', '', r.total, r.enrolled),
  ];
}

export interface CampaignSummary {
  enrolled: number;
  sent: number;
  delivered: number;
  replied: number;
  paid: number;
}

const emptySummary = (): CampaignSummary => ({ enrolled: 0, sent: 0, delivered: 0, replied: 0, paid: 0 });

/**
 * Headline counts for many campaigns in one query, for the list: the same
 * definitions as campaignResults' totals (sent and delivered by message status,
 * replied and paid per enrolment since it was enrolled).
 */
export async function campaignSummaries(ctx: AppContext, campaignIds: string[]): Promise<Map<string, CampaignSummary>> {
  const out = new Map(campaignIds.map((id) => [id, emptySummary()]));
  if (!campaignIds.length) return out;
  const rows = await ctx.db.$queryRaw<
    { campaign_id: string; enrolled: bigint; replied: bigint; paid: bigint; sent: bigint; delivered: bigint }[]
  >`
    WITH enrolments AS (
      SELECT e.campaign_id, count(*) AS enrolled,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM messages i WHERE i.debtor_id = e.debtor_id AND i.direction = 'INBOUND' AND i.intent IS DISTINCT FROM 'auto_reply' AND i.created_at > e.enrolled_at)) AS replied,
        count(*) FILTER (WHERE EXISTS (SELECT 1 FROM payments p WHERE p.debt_id = e.debt_id AND p.created_at > e.enrolled_at)) AS paid
      FROM campaign_enrollments e WHERE e.campaign_id = ANY(${campaignIds}::uuid[]) GROUP BY 1),
    sending AS (
      SELECT e.campaign_id,
        count(*) FILTER (WHERE m.status::text = ANY(${[...SENT]}::text[])) AS sent,
        count(*) FILTER (WHERE m.status::text = ANY(${[...DELIVERED]}::text[])) AS delivered
      FROM campaign_step_runs r
      JOIN campaign_enrollments e ON e.id = r.enrollment_id
      JOIN messages m ON m.id = r.message_id
      WHERE e.campaign_id = ANY(${campaignIds}::uuid[]) GROUP BY 1)
    SELECT en.campaign_id::text AS campaign_id, en.enrolled, en.replied, en.paid, coalesce(s.sent, 0) AS sent, coalesce(s.delivered, 0) AS delivered
    FROM enrolments en LEFT JOIN sending s ON s.campaign_id = en.campaign_id`;
  for (const r of rows)
    out.set(r.campaign_id, {
      enrolled: Number(r.enrolled),
      sent: Number(r.sent),
      delivered: Number(r.delivered),
      replied: Number(r.replied),
      paid: Number(r.paid),
    });
  return out;
}

/** A campaign's open messages (OPEN_STATUSES) by status, with their total. */
export async function openMessages(
  ctx: AppContext,
  campaignId: string,
): Promise<{ total: number; byStatus: Record<string, number> }> {
  const rows = await ctx.db.$queryRaw<{ status: string; n: number }[]>`
    SELECT status::text AS status, count(*)::integer AS n FROM messages
     -- The (status, scheduled_at) index finds the few open messages; the campaign is filtered among them.
     WHERE status = ANY(${[...OPEN_STATUSES]}::"MessageStatus"[]) AND campaign_id = ${campaignId}::uuid AND direction = 'OUTBOUND'
     GROUP BY 1`;
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  return { total: rows.reduce((n, r) => n + r.n, 0), byStatus };
}

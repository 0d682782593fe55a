// One wave batch in one transaction: the same per-enrolment rules as the
// single-enrolment path (runner.ts, processEnrollment) — stop conditions,
// holds, step conditions, step window (next-step.ts), throttle and the router
// (send-time.ts) — but with the
// reads and writes of the whole batch done in a handful of queries:
//
//   1. locks, in a fixed order everywhere (deadlock-free): the campaign's
//      advisory lock (shared unless the campaign has its own throttle, so a
//      wave's batches can be planned side by side), the provider-limited
//      channels' advisory locks, then the batch's debtor rows FOR UPDATE
//      ordered by id (the lock the outbound path takes per debtor, so limits
//      hold against concurrent sends and two batches never plan for one
//      debtor at the same time);
//   2. the enrolments re-read under the locks (a concurrent run may have
//      advanced them), snapshots of every debtor (snapshots.ts), debts,
//      promises, earlier step runs, last reply/payment/promise times;
//   3. decisions in memory with the pure router; each message planned is
//      appended to its debtor's snapshot, so a debtor with two debts in the
//      batch is limited as if the two were requested one after the other;
//   4. two statements: an upsert of the debtors' conversations (thread
//      seqs), then one statement of data-modifying CTEs inserting messages,
//      status events, timeline events, audit entries and step runs and
//      advancing the enrolments.
//
// No double send: a step run (unique per enrolment and step), its message
// (idempotency key = run id) and the enrolment's advance commit together or
// not at all; a crash mid-batch leaves the batch due as it was.
// Letters (a PDF per message) and runs left 'pending' by the single path are
// handed back to the caller, which runs them through processEnrollment.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import { Prisma } from '../generated/prisma/client.js';
import type { CampaignEnrollment, CampaignStep, Campaign } from '../generated/prisma/client.js';
import type { Channel, Decision, RoutedDecision, RouterSnapshot } from '../router/index.js';
import { routerIntent } from '../outbound/service.js';
import { bodyOf, regimeOf, renderFor, templateVars } from '../outbound/content.js';
import { REACHED_SQL } from '../outbound/snapshot.js';
import { newReplyToken, type TimelineEvent } from '../conversations/thread.js';
import { TemplateError, type Intent } from '../templates/index.js';
import { afterStep, factsNeeded, nextStep, type EnrollmentFacts } from './next-step.js';
import { planSend } from './send-time.js';
import { loadBatchDebts, loadBatchSnapshots, type DebtWithCreditor } from './snapshots.js';
import { historyKind } from '../outbound/snapshot.js';
import { lockThrottledChannels, MinuteLedger } from './throttle.js';
import type { ChannelRates } from './rates.js';
import type { Throttle } from './schemas.js';

const MINUTE_MS = 60_000;

/** Router reasons that explain a normal decision rather than a block or a delay. */
export const INFORMATIONAL_RULES = new Set([
  'consent.ok',
  'channel.explicit',
  'channel.preferred',
  'channel.default_order',
  'preference.fallback',
  'hours.allowed',
  'timezone.resolved',
  'jurisdiction.resolved',
  'window.not_before',
  'limit.not_applied',
]);
export const isDeferralRule = (rule: string) =>
  rule === 'quiet_hours' ||
  rule === 'quiet_hours.no_common_window' ||
  rule === 'inconvenient_time' ||
  rule.startsWith('limit.');

export function uniqueRules(d: Decision, keep: (rule: string) => boolean): string[] {
  return [...new Set(d.reasons.map((r) => r.rule as string).filter(keep))];
}

export type Outcome = 'queued' | 'deferred' | 'refused' | 'suppressed' | 'skipped' | 'held';
export type CampaignWithSteps = Campaign & { steps: CampaignStep[] };

export interface BatchResult {
  /** Enrolments decided here, by outcome (errors: rescheduled five minutes later). */
  counts: Record<Outcome | 'errors', number>;
  /** Enrolments the caller must run one by one (letters, legacy pending runs). */
  slowPath: CampaignEnrollment[];
  /** New outbox messages and when each is due, for dispatch after commit. */
  dispatch: { id: string; at: Date }[];
  /** Timeline events to publish after commit. */
  events: TimelineEvent[];
}

type DebtRow = DebtWithCreditor;

/** An earlier step run of an enrolment: which step, and when (conditions count from the previous one). */
interface RunSeen {
  enrollmentId: string;
  stepId: string;
  createdAt: Date;
}

interface MessageRow {
  id: string;
  conversationDebtorId: string;
  debtorId: string;
  debtId: string;
  contactPointId: string;
  channel: Channel;
  status: 'PENDING' | 'SCHEDULED';
  intent: string;
  templateId: string;
  locale: string;
  toAddress: string;
  subject: string | null;
  body: string;
  html: string | null;
  segments: number | null;
  encoding: string | null;
  decision: string;
  scheduledAt: Date;
  idempotencyKey: string;
  reasons: { rule: string; detail: string }[];
}

interface RunRow {
  id: string;
  enrollmentId: string;
  stepId: string;
  outcome: Outcome;
  reasons: string[];
  messageId: string | null;
}

interface EnrollmentUpdate {
  id: string;
  expectedStep: number;
  status: 'ACTIVE' | 'COMPLETED' | 'STOPPED';
  stopReason: string | null;
  nextStep: number;
  nextStepAt: Date | null;
}

/** Latest created_at per key (debtor or debt) of rows created after `floor`. */
async function latestPer(tx: Prisma.TransactionClient, sql: Prisma.Sql): Promise<Map<string, Date>> {
  const rows = await tx.$queryRaw<{ k: string; at: Date }[]>(sql);
  return new Map(rows.map((r) => [r.k, new Date(r.at)]));
}

/** Plans and writes one batch; returns what the caller publishes and dispatches after commit. */
export async function planBatch(
  ctx: AppContext,
  campaign: CampaignWithSteps,
  batch: readonly { id: string; debtorId: string }[],
  now: Date,
  providerRates: ChannelRates,
): Promise<BatchResult> {
  const result: BatchResult = {
    counts: { queued: 0, deferred: 0, refused: 0, suppressed: 0, skipped: 0, held: 0, errors: 0 },
    slowPath: [],
    dispatch: [],
    events: [],
  };
  const campaignRates = (campaign.throttle ?? {}) as Throttle as ChannelRates;
  const needs = factsNeeded(campaign);
  const debtorIds = [...new Set(batch.map((b) => b.debtorId))].sort();

  await ctx.db.$transaction(
    async (tx) => {
      // Phase times for the debug log: where a batch's time goes (locks, reads, decisions, writes).
      const mark = [performance.now()];
      // 1. locks
      // The campaign lock guards the campaign's own throttle counts (the ledger
      // below): exclusive when the campaign has a throttle. Without one, batches
      // of the campaign share it and run side by side — the debtor row locks
      // are what keep two of them from planning for the same debtor at once.
      if (Object.keys(campaignRates).length)
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`campaign:${campaign.id}`}))`;
      else await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(hashtext(${`campaign:${campaign.id}`}))`;
      await lockThrottledChannels(tx, providerRates);
      await tx.$queryRaw`SELECT id FROM debtors WHERE id = ANY(${debtorIds}::uuid[]) ORDER BY id FOR UPDATE`;

      mark.push(performance.now());
      // 2. reads
      // Raw SQL for every read of the batch: Prisma's row mapping of thousands of rows cost more than the queries.
      const enrollments = await tx.$queryRaw<CampaignEnrollment[]>`
        SELECT id::text AS id, campaign_id::text AS "campaignId", debt_id::text AS "debtId", debtor_id::text AS "debtorId", status::text AS status,
               stop_reason AS "stopReason", next_step AS "nextStep", next_step_at AS "nextStepAt", enrolled_at AS "enrolledAt", updated_at AS "updatedAt"
          FROM campaign_enrollments
         WHERE id = ANY(${batch.map((b) => b.id)}::uuid[]) AND status = 'ACTIVE' AND next_step_at <= ${now}
         ORDER BY next_step_at, id`;
      if (!enrollments.length) return;
      const debtIds = [...new Set(enrollments.map((e) => e.debtId))];
      const earliestEnrolment = new Date(Math.min(...enrollments.map((e) => e.enrolledAt.getTime())));
      const [{ snapshots, debtors }, debtById, latestPromiseDue, runs, lastReply, lastPayment, lastPromise, contacted] =
        await Promise.all([
          loadBatchSnapshots(tx, debtorIds, now),
          loadBatchDebts(tx, debtIds),
          // Latest due date of each debt's active promises (a DATE: UTC midnight, as Prisma maps it).
          needs.activePromises
            ? latestPer(
                tx,
                Prisma.sql`SELECT debt_id::text AS k, (max(due_date)::timestamp AT TIME ZONE 'UTC') AS at FROM promises_to_pay WHERE debt_id = ANY(${debtIds}::uuid[]) AND status = 'ACTIVE' GROUP BY 1`,
              )
            : Promise.resolve(new Map<string, Date>()),
          tx.$queryRaw<RunSeen[]>`
          SELECT enrollment_id::text AS "enrollmentId", step_id::text AS "stepId", created_at AS "createdAt"
            FROM campaign_step_runs WHERE enrollment_id = ANY(${enrollments.map((e) => e.id)}::uuid[])`,
          needs.replies
            ? latestPer(
                tx,
                Prisma.sql`SELECT debtor_id::text AS k, max(created_at) AS at FROM messages WHERE debtor_id = ANY(${debtorIds}::uuid[]) AND direction = 'INBOUND' AND intent IS DISTINCT FROM 'auto_reply' AND created_at > ${earliestEnrolment} GROUP BY 1`,
              )
            : Promise.resolve(new Map<string, Date>()),
          needs.payments
            ? latestPer(
                tx,
                Prisma.sql`SELECT debt_id::text AS k, max(created_at) AS at FROM payments WHERE debt_id = ANY(${debtIds}::uuid[]) AND created_at > ${earliestEnrolment} GROUP BY 1`,
              )
            : Promise.resolve(new Map<string, Date>()),
          needs.promises
            ? latestPer(
                tx,
                Prisma.sql`SELECT debt_id::text AS k, max(created_at) AS at FROM promises_to_pay WHERE debt_id = ANY(${debtIds}::uuid[]) AND created_at > ${earliestEnrolment} GROUP BY 1`,
              )
            : Promise.resolve(new Map<string, Date>()),
          // Debtors already written to: later messages are not the first communication (mini-Miranda wording).
          // (By debtor here; the send-time render decides per debt, from what reached the debtor by then.)
          tx.$queryRaw<
            { k: string }[]
          >`SELECT DISTINCT p.debtor_id::text AS k FROM messages p WHERE p.debtor_id = ANY(${debtorIds}::uuid[]) AND p.direction = 'OUTBOUND' AND ${Prisma.raw(REACHED_SQL)}`,
        ]);
      const runsOf = new Map<string, RunSeen[]>();
      for (const r of runs) runsOf.set(r.enrollmentId, [...(runsOf.get(r.enrollmentId) ?? []), r]);
      const alreadyContacted = new Set(contacted.map((c) => c.k));
      const ledger = new MinuteLedger(tx, campaign.id, campaignRates, providerRates);

      mark.push(performance.now());
      const messages: MessageRow[] = [];
      const newRuns: RunRow[] = [];
      const updates: EnrollmentUpdate[] = [];
      const advance = (e: CampaignEnrollment, step: CampaignStep, debt: DebtRow, sentAt: Date) => {
        updates.push({
          id: e.id,
          expectedStep: step.position,
          stopReason: null,
          ...afterStep(campaign, step, { enrolledAt: e.enrolledAt, dueDate: debt.dueDate }, now, sentAt),
        });
      };

      // 3. decisions (the rules: next-step.ts; the same as the single path's)
      for (const e of enrollments) {
        const debt = debtById.get(e.debtId);
        const snapshot = snapshots.get(e.debtorId);
        const debtor = debtors.get(e.debtorId);
        if (!campaign.steps[e.nextStep - 1]) {
          updates.push({
            id: e.id,
            expectedStep: e.nextStep,
            status: 'COMPLETED',
            stopReason: null,
            nextStep: e.nextStep,
            nextStepAt: null,
          });
          result.counts.skipped += 1;
          continue;
        }
        if (!debt || !snapshot || !debtor) continue; // deleted meanwhile: cascades remove the enrolment
        const own = runsOf.get(e.id) ?? [];
        const stepId = campaign.steps[e.nextStep - 1]!.id;
        if (own.some((r) => r.stepId === stepId)) {
          // Decided before a crash by the single path (or pending there): let that path finish it.
          result.slowPath.push(e);
          continue;
        }
        const previous = own
          .filter((r) => r.stepId !== stepId)
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
        const facts: EnrollmentFacts = {
          nextStep: e.nextStep,
          enrolledAt: e.enrolledAt,
          debt,
          debtorRestrictions: debtor.restrictions,
          contactPoints: snapshot.contactPoints,
          lastReplyAt: lastReply.get(e.debtorId) ?? null,
          lastPaymentAt: lastPayment.get(e.debtId) ?? null,
          lastPromiseAt: lastPromise.get(e.debtId) ?? null,
          activePromiseDue: latestPromiseDue.get(e.debtId) ?? null,
          previousRunAt: previous?.createdAt ?? null,
        };
        const next = nextStep(campaign, facts, now);
        if (next.kind === 'complete') continue; // not reached: the step exists
        const step = next.step;
        if (next.kind === 'stop') {
          newRuns.push({
            id: randomUUID(),
            enrollmentId: e.id,
            stepId: step.id,
            outcome: 'suppressed',
            reasons: [`stop.${next.reason}`],
            messageId: null,
          });
          updates.push({
            id: e.id,
            expectedStep: e.nextStep,
            status: 'STOPPED',
            stopReason: next.reason,
            nextStep: e.nextStep,
            nextStepAt: null,
          });
          result.counts.suppressed += 1;
          continue;
        }
        if (next.kind === 'hold') {
          updates.push({
            id: e.id,
            expectedStep: e.nextStep,
            status: 'ACTIVE',
            stopReason: null,
            nextStep: e.nextStep,
            nextStepAt: next.until,
          });
          result.counts.held += 1;
          continue;
        }
        if (next.kind === 'skip') {
          newRuns.push({
            id: randomUUID(),
            enrollmentId: e.id,
            stepId: step.id,
            outcome: 'skipped',
            reasons: next.reasons,
            messageId: null,
          });
          advance(e, step, debt, now);
          result.counts.skipped += 1;
          continue;
        }

        // timing and the router (under the debtor's lock, on the snapshot it protects)
        const req = {
          debtorId: e.debtorId,
          debtId: e.debtId,
          intent: routerIntent(step.intent),
          channel: (step.channel ?? undefined) as Channel | undefined,
        };
        const planned = await planSend(snapshot, req, next.window, next.from, ledger);
        const runId = randomUUID();
        if (!planned || planned.decision.outcome === 'refuse') {
          const reasons = planned
            ? uniqueRules(planned.decision, (r) => !INFORMATIONAL_RULES.has(r))
            : ['window.no_common_window'];
          newRuns.push({
            id: runId,
            enrollmentId: e.id,
            stepId: step.id,
            outcome: 'refused',
            reasons,
            messageId: null,
          });
          advance(e, step, debt, now);
          result.counts.refused += 1;
          continue;
        }
        const d = planned.decision as RoutedDecision;
        if (d.channel === 'LETTER') {
          result.slowPath.push(e);
          continue;
        }
        let content: ReturnType<typeof bodyOf>;
        let templateId: string;
        let voice: object | undefined;
        try {
          const vars = templateVars(ctx, { debtor, debt, contactPointId: d.contactPointId, now });
          const rendered = renderFor(ctx, {
            intent: step.intent as Intent,
            channel: d.channel,
            locale: debtor.locale,
            vars,
            firstCommunication: !alreadyContacted.has(e.debtorId),
            jurisdiction: debt.jurisdiction ?? debtor.jurisdiction,
            regime: regimeOf(ctx, debt, now),
          });
          content = bodyOf(rendered);
          templateId = rendered.templateId;
          if (rendered.channel === 'voice')
            voice = { say: rendered.say, menu: rendered.menu, voicemail: rendered.voicemail };
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          // Rendering is deterministic for this debtor and step (no template for the
          // chosen channel, a value missing): a retry fails the same way, so the step
          // is refused with the template's reason, shown in the results, and the
          // enrolment moves on.
          ctx.log.warn(
            {
              campaignId: campaign.id,
              enrollmentId: e.id,
              code: err.code,
              template: err.template,
              variable: err.variable,
            },
            'campaign step not renderable; refused',
          );
          newRuns.push({
            id: runId,
            enrollmentId: e.id,
            stepId: step.id,
            outcome: 'refused',
            reasons: [`template.${err.code}`],
            messageId: null,
          });
          advance(e, step, debt, now);
          result.counts.refused += 1;
          continue;
        }
        const messageId = randomUUID();
        const deferrals = uniqueRules(d, isDeferralRule);
        messages.push({
          id: messageId,
          conversationDebtorId: e.debtorId,
          debtorId: e.debtorId,
          debtId: e.debtId,
          contactPointId: d.contactPointId,
          channel: d.channel,
          status: d.outcome === 'defer' ? 'SCHEDULED' : 'PENDING',
          intent: step.intent,
          templateId,
          locale: debtor.locale,
          toAddress: d.address,
          ...content,
          decision: JSON.stringify({ ...(JSON.parse(JSON.stringify(d)) as object), ...(voice ? { voice } : {}) }),
          scheduledAt: d.sendAt,
          idempotencyKey: runId,
          reasons: d.reasons.map((r) => ({ rule: r.rule, detail: r.detail })),
        });
        newRuns.push({
          id: runId,
          enrollmentId: e.id,
          stepId: step.id,
          messageId,
          outcome: deferrals.length ? 'deferred' : 'queued',
          reasons: deferrals.length ? deferrals : planned.throttled ? ['throttle'] : [],
        });
        await ledger.take(d.channel, d.sendAt);
        // The reserved attempt counts against this debtor's limits for the rest of the batch.
        (snapshot.history as RouterSnapshot['history'][number][]).push({
          at: d.sendAt,
          channel: d.channel,
          debtId: e.debtId,
          direction: 'OUTBOUND',
          countsAsAttempt: true,
          kind: historyKind(d.channel, null),
          contactPointId: d.contactPointId,
        });
        alreadyContacted.add(e.debtorId);
        advance(e, step, debt, d.sendAt);
        result.counts[deferrals.length ? 'deferred' : 'queued'] += 1;
      }

      mark.push(performance.now());
      // 4. writes: two statements. First the conversations: created or bumped by
      // one upsert per debtor (row locks taken in debtor order, under the debtor
      // locks already held), returning each one's new last_seq so this batch's
      // thread events get consecutive seqs. Then every row of the batch in one
      // statement of data-modifying CTEs: messages, their status events, thread
      // events, audit entries, step runs and the enrolments' advance. Foreign
      // keys (status event → message, step run → message) are checked at the
      // end of that statement, when all of its rows exist.
      const conversationIds: string[] = [];
      const seqs: number[] = [];
      const payloads: string[] = [];
      if (messages.length) {
        const perDebtor = new Map<string, number>();
        for (const m of messages) perDebtor.set(m.debtorId, (perDebtor.get(m.debtorId) ?? 0) + 1);
        const convDebtors = [...perDebtor.keys()].sort();
        const bumped = await tx.$queryRaw<{ id: string; debtor_id: string; last_seq: number; at: Date }[]>`
          INSERT INTO conversations AS c (id, debtor_id, reply_token, last_seq, last_activity_at)
          SELECT gen_random_uuid(), s.d, s.t, s.n, now()
            FROM unnest(${convDebtors}::uuid[], ${convDebtors.map(() => newReplyToken())}::text[], ${convDebtors.map((d) => perDebtor.get(d)!)}::int[]) WITH ORDINALITY AS s(d, t, n, i)
           ORDER BY s.i
          ON CONFLICT (debtor_id) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq, last_activity_at = EXCLUDED.last_activity_at
          RETURNING c.id::text AS id, c.debtor_id::text AS debtor_id, c.last_seq, now() AS at`;
        const seqOf = new Map(
          bumped.map((b) => [
            b.debtor_id,
            { id: b.id, next: b.last_seq - perDebtor.get(b.debtor_id)! + 1, at: new Date(b.at).toISOString() },
          ]),
        );
        for (const m of messages) {
          const conv = seqOf.get(m.debtorId)!;
          const payload = {
            messageId: m.id,
            direction: 'OUTBOUND',
            channel: m.channel,
            status: m.status,
            intent: m.intent,
            scheduledAt: m.scheduledAt.toISOString(),
            reasons: m.reasons,
          };
          conversationIds.push(conv.id);
          seqs.push(conv.next);
          payloads.push(JSON.stringify(payload));
          result.events.push({
            conversationId: conv.id,
            seq: conv.next,
            type: 'message.created',
            payload,
            at: conv.at,
          });
          conv.next += 1;
        }
      }
      mark.push(performance.now());
      if (messages.length || newRuns.length || updates.length) {
        const col = <K extends keyof MessageRow>(k: K) => messages.map((m) => m[k]);
        await tx.$executeRaw`
          WITH new_messages AS (
            INSERT INTO messages (id, conversation_id, debtor_id, debt_id, contact_point_id, campaign_id, direction, channel, status, intent, template_id, locale,
                                  to_address, subject, body, html, segments, encoding, decision, scheduled_at, counts_as_attempt, idempotency_key, updated_at)
            SELECT s.id, s.conversation_id, s.debtor_id, s.debt_id, s.contact_point_id, ${campaign.id}::uuid, 'OUTBOUND', s.channel::"Channel", s.status::"MessageStatus", s.intent, s.template_id, s.locale,
                   s.to_address, s.subject, s.body, s.html, s.segments, s.encoding, s.decision::jsonb, s.scheduled_at, true, s.idempotency_key, now()
              FROM unnest(${col('id')}::uuid[], ${conversationIds}::uuid[], ${col('debtorId')}::uuid[], ${col('debtId')}::uuid[], ${col('contactPointId')}::uuid[],
                          ${col('channel')}::text[], ${col('status')}::text[], ${col('intent')}::text[], ${col('templateId')}::text[], ${col('locale')}::text[],
                          ${col('toAddress')}::text[], ${col('subject')}::text[], ${col('body')}::text[], ${col('html')}::text[], ${col('segments')}::int[], ${col('encoding')}::text[],
                          ${col('decision')}::text[], ${col('scheduledAt')}::timestamptz[], ${col('idempotencyKey')}::text[])
                AS s(id, conversation_id, debtor_id, debt_id, contact_point_id, channel, status, intent, template_id, locale, to_address, subject, body, html, segments, encoding, decision, scheduled_at, idempotency_key)
          ), status_events AS (
            INSERT INTO message_status_events (message_id, status, detail)
            SELECT s.id, s.status::"MessageStatus", s.detail::jsonb
              FROM unnest(${col('id')}::uuid[], ${col('status')}::text[], ${messages.map((m) => JSON.stringify({ reasons: m.reasons.map((r) => r.rule) }))}::text[]) AS s(id, status, detail)
          ), thread_events AS (
            INSERT INTO conversation_events (conversation_id, seq, type, payload)
            SELECT s.c, s.seq, 'message.created', s.p::jsonb FROM unnest(${conversationIds}::uuid[], ${seqs}::int[], ${payloads}::text[]) AS s(c, seq, p)
          ), audit AS (
            INSERT INTO audit_events (actor_type, actor_id, action, entity_type, entity_id, data)
            SELECT 'system', NULL, 'message.request', 'message', s.id, s.data::jsonb
              FROM unnest(${col('id')}::text[], ${messages.map((m) => JSON.stringify({ intent: m.intent, channel: m.channel, outcome: m.status === 'SCHEDULED' ? 'defer' : 'send', campaignId: campaign.id }))}::text[]) AS s(id, data)
          ), step_runs AS (
            INSERT INTO campaign_step_runs (id, enrollment_id, step_id, message_id, outcome, reasons, created_at)
            SELECT s.id, s.e, s.st, s.m, s.o, ARRAY(SELECT jsonb_array_elements_text(s.r::jsonb)), ${now}
              FROM unnest(${newRuns.map((r) => r.id)}::uuid[], ${newRuns.map((r) => r.enrollmentId)}::uuid[], ${newRuns.map((r) => r.stepId)}::uuid[],
                          ${newRuns.map((r) => r.messageId)}::uuid[], ${newRuns.map((r) => r.outcome)}::text[], ${newRuns.map((r) => JSON.stringify(r.reasons))}::text[])
                AS s(id, e, st, m, o, r)
          )
          UPDATE campaign_enrollments e
             SET status = s.status::"EnrollmentStatus", stop_reason = COALESCE(s.stop_reason, e.stop_reason), next_step = s.next_step, next_step_at = s.next_step_at, updated_at = now()
            FROM unnest(${updates.map((u) => u.id)}::uuid[], ${updates.map((u) => u.expectedStep)}::int[], ${updates.map((u) => u.status)}::text[],
                        ${updates.map((u) => u.stopReason)}::text[], ${updates.map((u) => u.nextStep)}::int[], ${updates.map((u) => u.nextStepAt)}::timestamptz[])
              AS s(id, expected_step, status, stop_reason, next_step, next_step_at)
           WHERE e.id = s.id AND e.status = 'ACTIVE' AND e.next_step = s.expected_step`;
        for (const m of messages) result.dispatch.push({ id: m.id, at: m.scheduledAt });
      }
      mark.push(performance.now());
      const ms = (i: number) => Math.round(mark[i + 1]! - mark[i]!);
      ctx.log.debug(
        {
          campaignId: campaign.id,
          enrollments: enrollments.length,
          messages: messages.length,
          lockMs: ms(0),
          readMs: ms(1),
          decideMs: ms(2),
          conversationsMs: ms(3),
          rowsMs: ms(4),
        },
        'wave batch planned',
      );
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
  return result;
}

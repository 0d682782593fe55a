// 3. Wave planning: a campaign over N debtors (one SMS step, due now, no
// throttle) from enrolment until every decision is made and every outbox row
// is written — enrolAudience + runDueSteps, the functions the campaign jobs
// run, driven directly so the timing has no job-polling delay in it.
// Job processing is paused in this process while the wave is planned: the
// figure is the planner's, as on a deployment where dispatch runs on other
// workers; otherwise dispatching (and the in-process provider sandboxes
// answering it) shares the planner's one JavaScript thread. The dispatch jobs
// the wave wrote are counted (dispatchJobs) and left queued.
// Ceiling: COPY of the same number of outbox-shaped rows into the same database.
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';
import { enrolAudience, runDueSteps } from '../src/campaigns/runner.js';
import { startCampaign } from '../src/campaigns/control.js';
import { CAMPAIGN_DISPATCH_JOB } from '../src/campaigns/dispatch.js';
import type { BenchEnv } from './env.js';
import { ADMIN_KEY } from './env.js';
import { seedDebtors } from './seed.js';
import { now, round } from './stats.js';

/** Enrolments planned per transaction (BENCH_WAVE_BATCH overrides it, to compare sizes on one machine). */
const BATCH_SIZE = batchSizeFromEnv(process.env.BENCH_WAVE_BATCH) ?? 1000;

function batchSizeFromEnv(raw: string | undefined): number | null {
  if (raw === undefined || raw === '') return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new Error(`BENCH_WAVE_BATCH must be an integer from 1 to 10000, got ${raw}`);
  return n;
}

export interface WaveFigures {
  debtors: number;
  enrolled: number;
  outboxRows: number;
  dispatchJobs: number;
  batchSize: number;
  report: Record<string, number>;
  enrolMs: number;
  totalMs: number;
  rowsPerSecond: number;
  complete: boolean;
  projectedFullScaleSeconds: number;
  ceilingRows: number;
  ceilingMs: number;
  ceilingRowsPerSecond: number;
  target: { fullScaleSeconds: number };
}

async function copyCeiling(env: BenchEnv, rows: number): Promise<number> {
  await env.pool.query(`CREATE TABLE IF NOT EXISTS bench_outbox_ceiling (
    id uuid PRIMARY KEY, debtor_id uuid NOT NULL, debt_id uuid NOT NULL, campaign_id uuid NOT NULL, channel text NOT NULL, status text NOT NULL,
    to_address text NOT NULL, body text NOT NULL, decision jsonb NOT NULL, scheduled_at timestamptz NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`);
  const campaign = randomUUID();
  const decision = JSON.stringify({
    outcome: 'send',
    channel: 'SMS',
    reasons: [{ rule: 'consent.ok' }, { rule: 'hours.allowed' }],
  }).replace(/\\/g, '\\\\');
  function* lines() {
    for (let i = 0; i < rows; i++) {
      yield `${randomUUID()}\t${randomUUID()}\t${randomUUID()}\t${campaign}\tSMS\tPENDING\t+1312${String(2_000_000 + i)}\tHello from Acme Collections: a reminder about your account ${i}.\t${decision}\t${new Date().toISOString()}\n`;
    }
  }
  const client = await env.pool.connect();
  try {
    const t0 = now();
    await pipeline(
      Readable.from(lines()),
      client.query(
        copyFrom(
          'COPY bench_outbox_ceiling (id, debtor_id, debt_id, campaign_id, channel, status, to_address, body, decision, scheduled_at) FROM STDIN',
        ),
      ),
    );
    return now() - t0;
  } finally {
    client.release();
  }
}

export async function benchWave(env: BenchEnv, scale: number): Promise<WaveFigures> {
  const debtors = Math.max(500, Math.round(100_000 * scale));
  const gw = env.gateway;
  const ctx = gw.ctx;
  await seedDebtors(ctx.db, 'WAVE', debtors, '718');
  const res = await fetch(`${gw.url}/api/v1/campaigns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'bench wave',
      audience: { creditorRefs: ['WAVE-CRED'] },
      steps: [{ offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }],
    }),
  });
  if (res.status !== 201) throw new Error(`campaign create failed: ${res.status} ${await res.text()}`);
  const campaignId = ((await res.json()) as { id: string }).id;
  await startCampaign(ctx, campaignId, { type: 'system' }, { schedule: false });
  await ctx.scheduler.stop(false);

  // Bounded: at most 90 s of planning; the full-scale time is projected from the rate reached.
  const deadline = Date.now() + 90_000;
  const t0 = now();
  const enrolled = await enrolAudience(ctx, campaignId);
  const enrolMs = now() - t0;
  const report: Record<string, number> = {
    processed: 0,
    queued: 0,
    deferred: 0,
    refused: 0,
    suppressed: 0,
    skipped: 0,
    held: 0,
    errors: 0,
  };
  let complete = false;
  // One wave run, as the campaign job makes it (batch after batch), bounded by the deadline.
  {
    const r = await runDueSteps(ctx, campaignId, { batchSize: BATCH_SIZE, deadline });
    for (const k of Object.keys(report)) report[k]! += (r as unknown as Record<string, number>)[k] ?? 0;
    complete = r.remainingDue === 0;
  }
  const totalMs = now() - t0;
  const outboxRows = await ctx.db.message.count({ where: { campaignId } });
  const dispatchJobs = Number(
    (await env.pool.query(`SELECT count(*) AS n FROM agenda_jobs WHERE name = $1`, [CAMPAIGN_DISPATCH_JOB])).rows[0]
      ?.n ?? 0,
  );
  const rowsPerSecond = Math.round(outboxRows / (totalMs / 1000));
  const ceilingMs = await copyCeiling(env, debtors);
  // Back to normal, so the gateway shuts down (and closes the scheduler's connections) as usual.
  await ctx.scheduler.start();
  return {
    debtors,
    enrolled,
    outboxRows,
    dispatchJobs,
    batchSize: BATCH_SIZE,
    report,
    enrolMs: round(enrolMs),
    totalMs: round(totalMs),
    rowsPerSecond,
    complete,
    projectedFullScaleSeconds: round(100_000 / Math.max(1, report.processed! / (totalMs / 1000))),
    ceilingRows: debtors,
    ceilingMs: round(ceilingMs),
    ceilingRowsPerSecond: Math.round(debtors / (ceilingMs / 1000)),
    target: { fullScaleSeconds: 60 },
  };
}

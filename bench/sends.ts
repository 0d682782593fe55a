// 2. End-to-end sends/s: N concurrent POST /api/v1/outreach (SMS, sent from a
// process of its own: bench/outreach-load.ts) against the
// real gateway → router → outbox → dispatch job (Agenda) → Twilio SDK →
// Twilio sandbox → signed status callbacks → message DELIVERED in PostgreSQL.
// Ceiling: the same Twilio SDK sending the same messages straight to a fresh
// sandbox whose status callbacks land on a bare counter — nothing else. It is
// taken just before and just after the end-to-end run and the ratio uses their
// mean: on a machine whose speed drifts (a shared VM), one ceiling taken after
// the run alone moved the ratio by half. Both runs also report the CPU time
// this process spent per message, which drift and stalls move much less, and
// the end-to-end run PostgreSQL's and the API caller's: what the machine as a
// whole spends on one message.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { twilioClient } from '../channels/twilio/adapters.js';
import { startSandboxes } from '../src/sandbox/index.js';
import type { BenchEnv } from './env.js';
import { ADMIN_KEY, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN } from './env.js';
import { benchPhone, seedDebtors } from './seed.js';
import { countStatements, now, pollUntil, resetStatements, round, runPool, type StatementCount } from './stats.js';
import { fireOutreachFromChild } from './outreach-load.js';

export interface SendsFigures {
  messages: number;
  concurrency: number;
  accepted: number;
  rejected: Record<string, number>;
  delivered: number;
  statuses: Record<string, number>;
  requestPhaseMs: number;
  totalMs: number;
  sendsPerSecond: number;
  ceilingDelivered: number;
  ceilingMs: number;
  /** The mean of the ceilings taken before and after the end-to-end run. */
  ceilingSendsPerSecond: number;
  ceilingBeforeSendsPerSecond: number;
  ceilingAfterSendsPerSecond: number;
  ratioToCeiling: number;
  /** CPU time of this process (gateway, sandbox and SDK; every thread) per delivered message, end to end. */
  cpuMsPerMessage: number;
  /** The same for the ceiling (SDK, sandbox and the bare counter). */
  ceilingCpuMsPerMessage: number;
  /** PostgreSQL's processes, end to end (null where /proc cannot tell). */
  postgresCpuMsPerMessage: number | null;
  /** The API caller's process (bench/outreach-load.ts). */
  callerCpuMsPerMessage: number;
  timedOut: boolean;
  /** Statements PostgreSQL ran per delivered message, end to end (BEGIN/COMMIT included). */
  statementsPerMessage: number;
  topStatements: StatementCount['top'];
  target: { sendsPerSecond: number; ratioToCeiling: number };
}

const BODY = 'Hello from Acme Collections: a reminder about your account. Reply STOP to opt out.';

/** CPU milliseconds this process has used (user + system, every thread). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The ceiling: SDK → sandbox → status callbacks counted by a bare HTTP server. */
async function sdkCeiling(
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<{ delivered: number; ms: number; cpuMs: number }> {
  let delivered = 0;
  const sink = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('MessageStatus') === 'delivered') delivered++;
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const sandboxes = await startSandboxes({
    twilio: { accountSid: TWILIO_ACCOUNT_SID, authToken: TWILIO_AUTH_TOKEN },
    sendgrid: { apiKey: 'SG.bench.ceiling' },
    lob: { apiKey: 'test_bench_ceiling', webhookSecret: 'bench-ceiling-secret' },
    gateway: { baseUrl: sinkUrl },
  });
  try {
    const client = twilioClient({
      accountSid: TWILIO_ACCOUNT_SID,
      authToken: TWILIO_AUTH_TOKEN,
      baseUrl: sandboxes.twilio.baseUrl,
    });
    const t0 = now();
    const cpu0 = cpuMs();
    await runPool(count, concurrency, async (i) => {
      await client.messages.create({
        to: benchPhone('415', i),
        from: '+15005550006',
        body: BODY,
        statusCallback: `${sinkUrl}/webhooks/twilio/status`,
      });
    });
    await pollUntil(async () => delivered >= count, timeoutMs, 10);
    return { delivered, ms: now() - t0, cpuMs: cpuMs() - cpu0 };
  } finally {
    await sandboxes.close();
    await new Promise<void>((r) => sink.close(() => r()));
  }
}

export async function benchSends(env: BenchEnv, scale: number): Promise<SendsFigures> {
  const count = Math.max(100, Math.round(5_000 * scale));
  const concurrency = 50;
  // Bounded so a slow gateway cannot stretch the run past its budget.
  const timeoutMs = 120_000;
  const { gateway } = env;
  const pairs = await seedDebtors(gateway.ctx.db, 'E2E', count, '312');

  const before = await sdkCeiling(count, concurrency, timeoutMs);
  await resetStatements(env.pool);
  const cpu0 = cpuMs();
  const pgCpu0 = env.postgresCpuMs();
  const load = await fireOutreachFromChild({ baseUrl: gateway.url, apiKey: ADMIN_KEY, concurrency, pairs });
  const { accepted, rejected, requestPhaseMs } = load;
  if (load.firstRejection) console.error(`  first non-send answer: ${load.firstRejection}`);
  let delivered = 0;
  // Named bench_… so the statement count leaves the bench's own polling out.
  const countDelivered = async () =>
    Number(
      (
        await env.pool.query<{
          bench_delivered: string;
        }>(`SELECT count(*)::text AS bench_delivered FROM messages m JOIN debts d ON d.id = m.debt_id JOIN creditors c ON c.id = d.creditor_id
      WHERE c.external_ref = 'E2E-CRED' AND m.status = 'DELIVERED'`)
      ).rows[0]!.bench_delivered,
    );
  const done = await pollUntil(async () => (delivered = await countDelivered()) >= accepted, timeoutMs, 50);
  const totalMs = Date.now() - load.startedAt;
  // From the child's start, not its first request: the few ms of its start-up are this process idling.
  const e2eCpuMs = cpuMs() - cpu0;
  const pgCpu1 = env.postgresCpuMs();
  const statements = await countStatements(env.pool);
  const grouped = await gateway.ctx.db.message.groupBy({
    by: ['status'],
    where: { debt: { creditor: { externalRef: 'E2E-CRED' } } },
    _count: true,
  });
  const statuses = Object.fromEntries(grouped.map((g) => [g.status, g._count]));

  const after = await sdkCeiling(count, concurrency, timeoutMs);
  const sendsPerSecond = Math.round(delivered / (totalMs / 1000));
  const rate = (c: { delivered: number; ms: number }) => c.delivered / (c.ms / 1000);
  const ceilingSendsPerSecond = Math.round((rate(before) + rate(after)) / 2);
  return {
    messages: count,
    concurrency,
    accepted,
    rejected,
    delivered,
    statuses,
    requestPhaseMs,
    totalMs: round(totalMs),
    sendsPerSecond,
    ceilingDelivered: Math.min(before.delivered, after.delivered),
    ceilingMs: round((before.ms + after.ms) / 2),
    ceilingSendsPerSecond,
    ceilingBeforeSendsPerSecond: Math.round(rate(before)),
    ceilingAfterSendsPerSecond: Math.round(rate(after)),
    ratioToCeiling: round(sendsPerSecond / ceilingSendsPerSecond, 3),
    cpuMsPerMessage: round(e2eCpuMs / Math.max(1, delivered), 2),
    ceilingCpuMsPerMessage: round((before.cpuMs + after.cpuMs) / Math.max(1, before.delivered + after.delivered), 2),
    postgresCpuMsPerMessage:
      pgCpu0 === null || pgCpu1 === null ? null : round((pgCpu1 - pgCpu0) / Math.max(1, delivered), 2),
    callerCpuMsPerMessage: round(load.cpuMs / Math.max(1, delivered), 2),
    timedOut: !done,
    statementsPerMessage: round(statements.total / Math.max(1, delivered), 1),
    topStatements: statements.top,
    target: { sendsPerSecond: 1_000, ratioToCeiling: 0.5 },
  };
}

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { syntheticCsv } from '../../src/import/bench.js';
import { importStream } from '../../src/import/importer.js';
import { startCampaign } from '../../src/campaigns/control.js';
import { enrolAudience, runDueSteps } from '../../src/campaigns/runner.js';
import { requestOutreach } from '../../src/outbound/service.js';

async function gatewayOn(database: TestDatabase): Promise<Gateway> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    SHUTDOWN_TIMEOUT_MS: '5000',
  });
  return startGateway(config, createLogger(config.LOG_LEVEL));
}

describe('a wave interrupted by a crash', () => {
  let database: TestDatabase;
  let gw: Gateway | null = null;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await gw?.stop();
    await database.drop();
  });

  it('resumes on a new process and no debtor gets a step twice', async () => {
    gw = await gatewayOn(database);
    const summary = await importStream(gw.ctx.db, Readable.from(syntheticCsv(30, { prefix: 'R' })), { format: 'csv' });
    expect(summary.rowsFailed).toBe(0);
    const campaign = await gw.ctx.db.campaign.create({
      data: {
        name: 'restart',
        audience: { creditorRefs: ['R-CRED'] },
        stopConditions: ['PAID'],
        throttle: { SMS: 1000 },
        steps: { create: [{ position: 1, offsetDays: 0, intent: 'friendly-reminder', channel: 'SMS' }] },
      },
      include: { steps: true },
    });
    await startCampaign(gw.ctx, campaign.id, { type: 'system' }, { schedule: false });
    const now = new Date();
    expect(await enrolAudience(gw.ctx, campaign.id, { now })).toBe(30);

    // Partial progress: one batch of 10.
    const first = await runDueSteps(gw.ctx, campaign.id, { now, batchSize: 10, maxBatches: 1 });
    expect(first.processed).toBe(10);
    expect(first.remainingDue).toBe(20);
    // The crash hit between writing a message and recording it on its step run:
    // a run claimed, its message in the outbox, the enrolment not advanced.
    const victim = await gw.ctx.db.campaignEnrollment.findFirstOrThrow({
      where: { campaignId: campaign.id, nextStep: 1 },
      orderBy: { id: 'asc' },
    });
    const run = await gw.ctx.db.campaignStepRun.create({
      data: { enrollmentId: victim.id, stepId: campaign.steps[0]!.id, outcome: 'pending', createdAt: now },
    });
    const orphan = await requestOutreach(
      gw.ctx,
      {
        debtorId: victim.debtorId,
        debtId: victim.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
        campaignId: campaign.id,
        idempotencyKey: run.id,
        now,
      },
      { type: 'system' },
    );
    expect(orphan.outcome).not.toBe('refuse');
    await gw.stop();
    gw = null;

    gw = await gatewayOn(database);
    const rest = await runDueSteps(gw.ctx, campaign.id, { now: new Date(now.getTime() + 1000), batchSize: 10 });
    expect(rest.processed).toBe(20);
    expect(rest.remainingDue).toBe(0);

    const db = gw.ctx.db;
    expect(await db.campaignEnrollment.count({ where: { campaignId: campaign.id, status: 'COMPLETED' } })).toBe(30);
    const runs = await db.campaignStepRun.findMany({ where: { enrollment: { campaignId: campaign.id } } });
    expect(runs).toHaveLength(30);
    const messages = await db.message.groupBy({
      by: ['debtorId'],
      where: { campaignId: campaign.id },
      _count: { _all: true },
    });
    expect(messages).toHaveLength(30);
    expect(messages.every((m) => m._count._all === 1)).toBe(true);
    // the orphaned message was adopted by its run, not sent again
    expect(runs.find((r) => r.id === run.id)?.messageId).toBe((orphan as { messageId: string }).messageId);
  });
});

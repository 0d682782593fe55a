// A database that drops the gateway's connections (restart, failover, an
// admin's pg_terminate_backend) must not take the process down: every pool —
// Prisma's, webhook intake's, the scheduler's, live events' — handles the
// dropped idle connection, and the next query reconnects.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('dropped database connections', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox' });
  });
  afterAll(async () => gw?.close());

  it('survives every connection being terminated and serves the next requests', async () => {
    // Use each pool once so they all hold idle connections.
    const s = await seedDebtor(gw);
    const sent = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    expect(sent.status).toBe(202);
    await eventually(
      async () =>
        (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: sent.body.messageId } })).status === 'DELIVERED',
      15_000,
      'first SMS delivered',
    );

    const admin = new pg.Client({ connectionString: gw.ctx.config.DATABASE_URL });
    await admin.connect();
    try {
      const killed = await admin.query<{ n: number }>(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      expect(killed.rows[0]!.n).toBeGreaterThan(2);
    } finally {
      await admin.end();
    }

    // Still up: readiness, the API and a whole send again (Prisma, scheduler, intake, sandbox callbacks).
    await eventually(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 10_000, 'ready again');
    const again = await eventually(
      async () => {
        const r = await api(gw).post('/api/v1/outreach', {
          debtorId: s.debtorId,
          debtId: s.debtId,
          intent: 'past-due-notice',
          channel: 'EMAIL',
        });
        return r.status === 202 ? r : null;
      },
      10_000,
      'outreach accepted after the drop',
    );
    await eventually(
      async () =>
        (await gw.ctx.db.message.findUniqueOrThrow({ where: { id: again.body.messageId } })).status === 'DELIVERED',
      20_000,
      'email delivered after the drop',
    );
  });
});

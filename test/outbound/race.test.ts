// Two gateway processes on one database, racing to send to one debtor whose
// SMS cap is 1: the router's check and the reservation happen under the
// debtor's row lock, so exactly one message is created.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('contact limits under concurrency', () => {
  let a: TestGateway;
  let b: ChildGateway;
  let bUrl: string;
  beforeAll(async () => {
    const env = {
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'race-twilio-token-12345',
      APP_SECRET: 'race-app-secret-0123456789abcdefghij',
    };
    a = await startTestGateway(env);
    // Port 0: the kernel picks the second gateway's port, so no parallel test can take it first.
    b = startChildGateway(0, { ...env, DATABASE_URL: a.database.url, DATA_DIR: a.ctx.config.DATA_DIR });
    await b.ready(60_000);
    bUrl = b.url();
  }, 90_000);
  afterAll(async () => {
    if (b && b.child.exitCode === null && b.child.signalCode === null) {
      b.child.kill('SIGTERM');
      await b.exited;
    }
    await a?.close();
  });

  it('two processes racing to send to one debtor at a cap of 1 → exactly one message', async () => {
    for (let round = 0; round < 5; round++) {
      const s = await seedDebtor(a, { preferences: { contactLimits: { SMS: { max: 1, days: 7 } } } });
      const body = {
        debtorId: s.debtorId,
        debtId: s.debtId,
        intent: 'friendly-reminder',
        channel: 'SMS',
        notAfter: new Date(Date.now() + 3600_000).toISOString(),
      };
      const [ra, rb] = await Promise.all([
        api(a).post('/api/v1/outreach', body),
        api({ url: bUrl }).post('/api/v1/outreach', body),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([202, 422]);
      const refused = ra.status === 422 ? ra : rb;
      expect(JSON.stringify(refused.body.details)).toContain('limit.debtor_preference');
      expect(await a.ctx.db.message.count({ where: { debtorId: s.debtorId, channel: 'SMS' } })).toBe(1);
    }
  });
});

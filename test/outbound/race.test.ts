// Two gateway processes on one database, racing to send to one debtor whose
// SMS cap is 1: the router's check and the reservation happen under the
// debtor's row lock, so exactly one message is created.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { freePort } from '../support/ports.js';

describe('contact limits under concurrency', () => {
  let a: TestGateway;
  let b: ChildProcess;
  let bUrl: string;
  beforeAll(async () => {
    const env = { ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', TWILIO_AUTH_TOKEN: 'race-twilio-token-12345', APP_SECRET: 'race-app-secret-0123456789abcdefghij' };
    a = await startTestGateway(env);
    const port = await freePort();
    bUrl = `http://127.0.0.1:${port}`;
    b = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, ...env, DATABASE_URL: a.database.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATA_DIR: a.ctx.config.DATA_DIR },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await eventually(async () => (await fetch(`${bUrl}/readyz`)).status === 200, 60_000, 'second gateway ready');
  }, 90_000);
  afterAll(async () => {
    if (b && b.exitCode === null) {
      const exited = new Promise((r) => b.once('exit', r));
      b.kill('SIGTERM');
      await exited;
    }
    await a?.close();
  });

  it('two processes racing to send to one debtor at a cap of 1 → exactly one message', async () => {
    for (let round = 0; round < 5; round++) {
      const s = await seedDebtor(a, { preferences: { contactLimits: { SMS: { max: 1, days: 7 } } } });
      const body = { debtorId: s.debtorId, debtId: s.debtId, intent: 'friendly-reminder', channel: 'SMS', notAfter: new Date(Date.now() + 3600_000).toISOString() };
      const [ra, rb] = await Promise.all([api(a).post('/api/v1/outreach', body), api({ url: bUrl }).post('/api/v1/outreach', body)]);
      expect([ra.status, rb.status].sort()).toEqual([202, 422]);
      const refused = ra.status === 422 ? ra : rb;
      expect(JSON.stringify(refused.body.details)).toContain('limit.debtor_preference');
      expect(await a.ctx.db.message.count({ where: { debtorId: s.debtorId, channel: 'SMS' } })).toBe(1);
    }
  });
});

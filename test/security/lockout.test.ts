// The lock-out holds under a burst: 20 wrong passwords sent at once for one
// account get at most MAX_FAILED_LOGINS password checks (the rest are refused
// as locked, unchecked), and the right password right after is refused too.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY } from '../support/api.js';
import { createAgent, rawLogin } from '../inbox/session.js';
import { MAX_FAILED_LOGINS } from '../../src/inbox/auth/routes.js';

describe('account lock-out under concurrent wrong passwords', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('checks at most the limit of a burst of 20, then refuses the right password', async () => {
    const a = await createAgent(gw);
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => rawLogin(gw, a.email, `wrong-password-${i}`)));
    const statuses = burst.map((r) => r.status);
    // 401 = the password was checked and wrong; 423 = refused as locked without a check.
    expect(statuses.filter((s) => s === 401)).toHaveLength(MAX_FAILED_LOGINS);
    expect(statuses.filter((s) => s === 423)).toHaveLength(20 - MAX_FAILED_LOGINS);
    expect(burst.every((r) => r.setCookie === null)).toBe(true);

    const right = await rawLogin(gw, a.email, a.password);
    expect(right.status).toBe(423);
    expect(right.setCookie).toBeNull();
    expect(await gw.ctx.db.session.count({ where: { userId: a.id } })).toBe(0);
    // Every checked attempt is audited, the lock once.
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'auth.login_failed', entityId: a.id } })).toBe(
      MAX_FAILED_LOGINS - 1,
    );
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'auth.locked', entityId: a.id } })).toBe(1);
  });

  it('a right password among fewer failures than the limit still signs in and resets the count', async () => {
    const a = await createAgent(gw);
    const wrong = await Promise.all(
      Array.from({ length: MAX_FAILED_LOGINS - 1 }, () => rawLogin(gw, a.email, 'wrong-password-x')),
    );
    expect(wrong.map((r) => r.status)).toEqual(Array(MAX_FAILED_LOGINS - 1).fill(401));
    expect((await rawLogin(gw, a.email, a.password)).status).toBe(200);
    expect((await gw.ctx.db.user.findUniqueOrThrow({ where: { id: a.id } })).failedLogins).toBe(0);
  });
});

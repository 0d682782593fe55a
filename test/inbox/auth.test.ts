// Accounts of the web inbox: sign-in, the session cookie, lock-out, roles and CSRF.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api } from '../support/api.js';
import { createAgent, login, rawLogin } from './session.js';

describe('inbox accounts', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => gw?.close());

  it('signs in with the right password: httpOnly SameSite cookie, token stored only as a hash, CSRF token from GET /session', async () => {
    const a = await createAgent(gw, 'AGENT', 'Ana');
    const r = await rawLogin(gw, a.email, a.password);
    expect(r.status).toBe(200);
    expect(r.setCookie).toMatch(/^dgw_session=[\w-]{40,};/);
    expect(r.setCookie).toMatch(/HttpOnly/i);
    expect(r.setCookie).toMatch(/SameSite=Lax/i);
    expect(r.setCookie).not.toMatch(/Secure/i); // plain http here
    const token = decodeURIComponent(r.setCookie!.split(';')[0]!.split('=')[1]!);
    const sessions = await gw.ctx.db.session.findMany({ where: { userId: a.id } });
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.id).not.toBe(token);
    expect(sessions[0]!.id).toMatch(/^[0-9a-f]{64}$/);

    const me = await fetch(`${gw.url}/api/v1/session`, { headers: { cookie: r.setCookie!.split(';')[0]! } });
    const body = (await me.json()) as any;
    expect(body.user.email).toBe(a.email);
    expect(body.csrfToken).toBe(r.body.csrfToken);
    const audit = await gw.ctx.db.auditEvent.findFirst({ where: { action: 'auth.login', actorId: a.id } });
    expect(audit).not.toBeNull();
  });

  it('marks the cookie Secure when the request came over https through a trusted proxy', async () => {
    const gw2 = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, TRUST_PROXY: 'true' });
    try {
      const a = await createAgent(gw2);
      const r = await rawLogin(gw2, a.email, a.password, {
        'x-forwarded-proto': 'https',
        origin: gw2.url.replace('http:', 'https:'),
      });
      expect(r.status).toBe(200);
      expect(r.setCookie).toMatch(/;\s*Secure/i);
    } finally {
      await gw2.close();
    }
  });

  it('refuses a wrong password and an unknown email alike, without a cookie', async () => {
    const a = await createAgent(gw);
    const wrong = await rawLogin(gw, a.email, `${a.password}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBeNull();
    const unknown = await rawLogin(gw, 'nobody@team.example', 'whatever-password');
    expect(unknown.status).toBe(401);
    expect(unknown.body.message).toBe(wrong.body.message);
  });

  it('locks the account after 5 failed sign-ins, even for the right password, and an admin can unlock it', async () => {
    const a = await createAgent(gw);
    for (let i = 0; i < 5; i++) expect((await rawLogin(gw, a.email, 'wrong-password-123')).status).toBe(401);
    const locked = await rawLogin(gw, a.email, a.password);
    expect(locked.status).toBe(423);
    expect(locked.body.error).toBe('locked');
    const row = await gw.ctx.db.user.findUniqueOrThrow({ where: { id: a.id } });
    expect(row.lockedUntil!.getTime()).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'auth.locked', entityId: a.id } })).toBe(1);
    const unlock = await api(gw).patch(`/api/v1/users/${a.id}`, { unlock: true });
    expect(unlock.status).toBe(200);
    expect((await rawLogin(gw, a.email, a.password)).status).toBe(200);
  });

  it('an agent cannot call admin endpoints; an admin session can', async () => {
    const agent = await login(gw, await createAgent(gw, 'AGENT'));
    expect((await agent.call('GET', '/api/v1/users')).status).toBe(403);
    expect((await agent.call('POST', '/api/v1/users', { email: 'x@team.example', role: 'ADMIN' })).status).toBe(403);
    expect((await agent.call('POST', '/api/v1/api-keys', { name: 'sneaky', role: 'ADMIN' })).status).toBe(403);
    expect(await gw.ctx.db.user.count({ where: { email: 'x@team.example' } })).toBe(0);
    const admin = await login(gw, await createAgent(gw, 'ADMIN'));
    expect((await admin.call('GET', '/api/v1/users')).status).toBe(200);
  });

  it('rejects a cookie-authenticated POST without the CSRF token, or from another site', async () => {
    const admin = await login(gw, await createAgent(gw, 'ADMIN'));
    const post = (headers: Record<string, string>) =>
      fetch(`${gw.url}/api/v1/users`, {
        method: 'POST',
        headers: { cookie: admin.cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ email: `csrf.${Math.random()}@team.example`, role: 'AGENT' }),
      });
    // What a cross-site form/fetch could send: the cookie rides along, but the token cannot be read.
    const noToken = await post({ origin: 'https://evil.example' });
    expect(noToken.status).toBe(403);
    const sameSiteNoToken = await post({ origin: gw.url });
    expect(sameSiteNoToken.status).toBe(403);
    expect(((await sameSiteNoToken.json()) as any).message).toMatch(/CSRF/);
    const crossSiteWithToken = await post({ origin: 'https://evil.example', 'x-csrf-token': admin.csrf });
    expect(crossSiteWithToken.status).toBe(403);
    const ok = await post({ origin: gw.url, 'x-csrf-token': admin.csrf });
    expect(ok.status).toBe(201);
    // Bearer keys are not cookies: exempt.
    expect((await api(gw).post('/api/v1/users', { email: `bearer.${Date.now()}@team.example` })).status).toBe(201);
    // Sign-in itself refuses another site's origin (login CSRF).
    const a = await createAgent(gw);
    expect((await rawLogin(gw, a.email, a.password, { origin: 'https://evil.example' })).status).toBe(403);
  });

  it('signs out: the cookie stops working and the session row is gone', async () => {
    const a = await createAgent(gw);
    const s = await login(gw, a);
    expect((await s.call('DELETE', '/api/v1/session')).status).toBe(204);
    expect(await gw.ctx.db.session.count({ where: { userId: a.id } })).toBe(0);
    expect((await s.call('GET', '/api/v1/session')).status).toBe(401);
  });
});

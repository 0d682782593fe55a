// TRUST_PROXY takes a hop count or the proxies' addresses, so a client cannot
// choose its own address with X-Forwarded-For (and escape the per-address
// sign-in limit); and searches treat % and _ as the characters typed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { api, ADMIN_KEY } from '../support/api.js';
import { createAgent, login, rawLogin } from '../inbox/session.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('TRUST_PROXY', () => {
  it('parses true/false, a hop count and a list of addresses or ranges; refuses anything else', () => {
    const tp = (v: string) => loadConfig({ TRUST_PROXY: v }).TRUST_PROXY;
    expect(tp('true')).toBe(true);
    expect(tp('false')).toBe(false);
    expect(tp('2')).toBe(2);
    expect(tp('10.0.0.0/8, 192.168.1.7,loopback, fd00::/8')).toEqual([
      '10.0.0.0/8',
      '192.168.1.7',
      'loopback',
      'fd00::/8',
    ]);
    expect(() => tp('proxy.example.com')).toThrow(ConfigError);
    expect(() => tp('10.0.0.0/99')).toThrow(/TRUST_PROXY/);
  });

  const sessionIp = async (gw: TestGateway, xff: string) => {
    const a = await createAgent(gw);
    expect((await rawLogin(gw, a.email, a.password, { 'x-forwarded-for': xff })).status).toBe(200);
    return (await gw.ctx.db.session.findFirstOrThrow({ where: { userId: a.id } })).ip;
  };

  it('with a hop count, the client address is the one the trusted proxy saw, and spoofed hops share its limit', async () => {
    const gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, TRUST_PROXY: '1' });
    try {
      expect(await sessionIp(gw, '6.6.6.6, 203.0.113.9')).toBe('203.0.113.9');
      // 30 failed sign-ins per address per 5 minutes: made-up first hops do not open new buckets.
      const statuses: number[] = [];
      for (let i = 0; i < 31; i++)
        statuses.push(
          (await rawLogin(gw, 'nobody@team.example', 'x', { 'x-forwarded-for': `10.0.${i}.1, 198.51.100.4` })).status,
        );
      expect(statuses.slice(0, 30).every((s) => s === 401)).toBe(true);
      expect(statuses[30]).toBe(429);
    } finally {
      await gw.close();
    }
  });

  it('with a list of proxy addresses, only those hops are skipped; TRUST_PROXY=true trusts every hop (documented)', async () => {
    const listed = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, TRUST_PROXY: 'loopback,10.0.0.0/8' });
    const everyHop = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, TRUST_PROXY: 'true' });
    try {
      // The test connects from 127.0.0.1 (loopback, trusted); 10.1.1.1 is a trusted inner proxy; 203.0.113.9 is the client.
      expect(await sessionIp(listed, '6.6.6.6, 203.0.113.9, 10.1.1.1')).toBe('203.0.113.9');
      expect(await sessionIp(everyHop, '6.6.6.6, 203.0.113.9, 10.1.1.1')).toBe('6.6.6.6');
    } finally {
      await listed.close();
      await everyHop.close();
    }
  });
});

describe('search escapes LIKE wildcards', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('finds % and _ and \\ literally in debtors and in inbox conversations', async () => {
    const names = ['100% Cotton Ltd', 'Ann_Lee', 'Back\\Slash Co', 'Plain Person'];
    const ids: Record<string, string> = {};
    for (const fullName of names) {
      const r = await api(gw).post('/api/v1/debtors', { fullName });
      expect(r.status).toBe(201);
      ids[fullName] = r.body.id;
      await gw.ctx.db.conversation.create({ data: { debtorId: r.body.id, replyToken: `tok-${r.body.id}` } });
    }
    const debtors = async (q: string) =>
      ((await api(gw).get(`/api/v1/debtors?q=${encodeURIComponent(q)}`)).body.data as { fullName: string }[])
        .map((d) => d.fullName)
        .sort();
    expect(await debtors('%')).toEqual(['100% Cotton Ltd']);
    expect(await debtors('_')).toEqual(['Ann_Lee']);
    expect(await debtors('\\')).toEqual(['Back\\Slash Co']);
    expect(await debtors('n_L')).toEqual(['Ann_Lee']);
    expect(await debtors('a%n')).toEqual([]);

    const agent = await login(gw, await createAgent(gw));
    const conversations = async (q: string) => {
      const r = await agent.call('GET', `/api/v1/inbox/conversations?q=${encodeURIComponent(q)}`);
      expect(r.status).toBe(200);
      return (r.body.conversations as { debtorName: string | null }[]).map((c) => c.debtorName).sort();
    };
    expect(await conversations('%')).toEqual(['100% Cotton Ltd']);
    expect(await conversations('_')).toEqual(['Ann_Lee']);
    expect(await conversations('Plain')).toEqual(['Plain Person']);
  });
});

// Outgoing webhooks never reach internal addresses: refused when the
// subscription is made or changed, and again at delivery, per connection after
// DNS resolution (a name that rebinds to loopback is refused at connect).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { api, ADMIN_KEY } from '../support/api.js';
import { deliverWebhook } from '../../src/webhooks-out/service.js';

/** A DNS zone the test controls: the gateway resolves names through it (ctx.resolve). */
function zone() {
  const records = new Map<string, string[]>();
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const addrs = records.get(hostname);
    if (!addrs) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { records, asked, resolve };
}

describe('SSRF through outgoing webhooks', () => {
  let gw: TestGateway;
  let allowing: TestGateway;
  let receiver: http.Server;
  let port: number;
  const hits: string[] = [];
  const dns = zone();

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    port = (receiver.address() as AddressInfo).port;
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY });
    gw.ctx.resolve = dns.resolve;
    allowing = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      WEBHOOK_ALLOWED_INTERNAL_TARGETS: '127.0.0.1,hooks.internal.test',
    });
    allowing.ctx.resolve = dns.resolve;
  });
  afterAll(async () => {
    await gw?.close();
    await allowing?.close();
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
  });

  const subscribe = (g: TestGateway, url: string) =>
    api(g).post('/api/v1/webhook-subscriptions', { url, events: ['*'] });
  const queue = async (g: TestGateway, subscriptionId: string) =>
    g.ctx.db.webhookDelivery.create({
      data: {
        subscriptionId,
        event: 'ping',
        payload: { id: 'e', type: 'ping', createdAt: new Date().toISOString(), data: {} },
        nextAttemptAt: new Date(),
      },
    });

  it('refuses loopback, link-local, private, CGNAT, IPv6 unique-local and mapped, and metadata targets at subscription', async () => {
    dns.records.set('localhost.test', ['127.0.0.1']);
    dns.records.set('mixed.test', ['93.184.216.34', '10.1.2.3']);
    dns.records.set('ula.test', ['fd12:3456::1']);
    const targets = [
      `http://127.0.0.1:${port}/hooks`,
      `http://127.1:${port}/`, // short form of 127.0.0.1
      'http://2130706433/', // decimal 127.0.0.1
      'http://[::1]/',
      'http://0.0.0.0/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://100.100.100.200/latest/meta-data/', // Alibaba metadata, CGNAT range
      'http://100.64.0.1/',
      'http://10.0.0.5/',
      'http://172.16.3.4/',
      'http://192.168.1.1/',
      'http://[fe80::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:8.8.8.8]/', // mapped: refused whatever it maps to
      'http://[64:ff9b::7f00:1]/', // NAT64 of 127.0.0.1
      `http://localhost.test:${port}/`, // a name that resolves inside
      'https://mixed.test/', // one address of the name is private
      'https://ula.test/',
      'https://does-not-resolve.test/',
    ];
    for (const url of targets) {
      const r = await subscribe(gw, url);
      expect({ url, status: r.status }).toEqual({ url, status: 400 });
      expect(r.body.details).toEqual([
        expect.objectContaining({ field: 'url', reason: expect.stringMatching(/internal address|does not resolve/) }),
      ]);
    }
    expect(await gw.ctx.db.webhookSubscription.count()).toBe(0);
  });

  it('refuses changing a subscription to an internal URL', async () => {
    dns.records.set('public.test', ['93.184.216.34']);
    const ok = await subscribe(gw, 'https://public.test/hooks');
    expect(ok.status).toBe(201);
    const r = await api(gw).patch(`/api/v1/webhook-subscriptions/${ok.body.id}`, { url: 'http://169.254.169.254/' });
    expect(r.status).toBe(400);
    expect(r.body.details[0].field).toBe('url');
    expect((await gw.ctx.db.webhookSubscription.findUniqueOrThrow({ where: { id: ok.body.id } })).url).toBe(
      'https://public.test/hooks',
    );
  });

  it('refuses at delivery a name that rebinds to loopback after the subscription was accepted, without connecting', async () => {
    dns.records.set('rebind.test', ['93.184.216.34']);
    const sub = await subscribe(gw, `http://rebind.test:${port}/hooks`);
    expect(sub.status).toBe(201);
    // The attacker's DNS now answers with the gateway's own loopback (where the receiver listens).
    dns.records.set('rebind.test', ['127.0.0.1']);
    dns.asked.length = 0;
    const d = await queue(gw, sub.body.id);
    expect(await deliverWebhook(gw.ctx, d.id)).toBe('QUEUED');
    const row = await gw.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: d.id } });
    expect(row.lastError).toMatch(
      /target refused: 127\.0\.0\.1 is an internal address \(loopback\) \(rebind\.test resolves to it\)/,
    );
    // Resolved by the connection itself, at delivery time.
    expect(dns.asked).toContain('rebind.test');
    expect(hits).toEqual([]);
  });

  it('refuses at delivery a subscription stored before the check (a literal internal address)', async () => {
    const s = await gw.ctx.db.webhookSubscription.create({
      data: { url: `http://127.0.0.1:${port}/old`, secret: 'x'.repeat(32), events: ['*'] },
    });
    const d = await queue(gw, s.id);
    expect(await deliverWebhook(gw.ctx, d.id)).toBe('QUEUED');
    expect((await gw.ctx.db.webhookDelivery.findUniqueOrThrow({ where: { id: d.id } })).lastError).toMatch(
      /internal address \(loopback\)/,
    );
    expect(hits).toEqual([]);
  });

  it('delivers to internal targets listed in WEBHOOK_ALLOWED_INTERNAL_TARGETS, and to those only', async () => {
    dns.records.set('hooks.internal.test', ['10.9.9.9', '127.0.0.1']);
    expect((await subscribe(allowing, 'http://10.0.0.5/')).status).toBe(400);
    expect((await subscribe(allowing, 'http://[::1]/')).status).toBe(400);
    expect((await subscribe(allowing, 'https://hooks.internal.test/')).status).toBe(201);
    const sub = await subscribe(allowing, `http://127.0.0.1:${port}/allowed`);
    expect(sub.status).toBe(201);
    const d = await queue(allowing, sub.body.id);
    expect(await deliverWebhook(allowing.ctx, d.id)).toBe('SUCCEEDED');
    expect(hits).toEqual(['POST /allowed']);
  });
});

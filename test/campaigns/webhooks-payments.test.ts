import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { eventually, startTestGateway, type TestGateway } from '../support/gateway.js';
import { importStream } from '../../src/import/importer.js';
import { deliverWebhook } from '../../src/webhooks-out/service.js';
import { verifySignature } from '../../src/webhooks-out/sign.js';

const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';
const headers = { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'application/json' };

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('payments, promises and signed outgoing webhooks', () => {
  let gw: TestGateway;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: Received[] = [];
  let failNext = 0;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        if (failNext > 0) {
          failNext -= 1;
          res.writeHead(500).end('try later');
        } else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    // The receiver runs on loopback, an internal target the gateway refuses unless listed.
    gw = await startTestGateway({ ADMIN_API_KEY, WEBHOOK_ALLOWED_INTERNAL_TARGETS: '127.0.0.1' });
    const csv =
      'debtor_external_ref,full_name,email,creditor_ref,debt_ref,amount,currency,due_date\nW-1,Wendy,wendy@example.com,WC,W-INV-1,100.10,USD,2026-01-01\nW-2,Walt,walt@example.com,WC,W-INV-2,0.30,USD,2026-01-01\n';
    await importStream(gw.ctx.db, Readable.from([csv]), { format: 'csv' });
  });
  afterAll(async () => {
    await gw?.close();
    await new Promise((r) => receiver.close(r));
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it('delivers signed events and retries a failed delivery with backoff', async () => {
    const sub = await post('/api/v1/webhook-subscriptions', {
      url: receiverUrl,
      events: ['payment.recorded', 'debt.paid', 'promise.created'],
    });
    expect(sub.status).toBe(201);
    const secret = sub.body.secret as string;
    expect(secret).toMatch(/^whsec_/);
    expect((await post('/api/v1/webhook-subscriptions', { url: 'ftp://x', events: ['nope'] })).status).toBe(400);

    // Exact decimal arithmetic: 0.10 + 0.20 = 0.30 pays it in full.
    expect(
      (
        await post('/api/v1/payments', {
          creditorRef: 'WC',
          debtRef: 'W-INV-2',
          amount: '0.10',
          currency: 'USD',
          externalRef: 'w2-a',
        })
      ).body.debt.status,
    ).toBe('OPEN');
    const paid = await post('/api/v1/payments', {
      creditorRef: 'WC',
      debtRef: 'W-INV-2',
      amount: '0.20',
      currency: 'USD',
      externalRef: 'w2-b',
    });
    expect(paid.body.debt).toMatchObject({ balance: '0.00', status: 'PAID' });
    expect(paid.body.paidInFull).toBe(true);
    expect(
      (
        await post('/api/v1/payments', {
          creditorRef: 'WC',
          debtRef: 'W-INV-2',
          amount: '0.99',
          currency: 'USD',
          externalRef: 'w2-b',
        })
      ).status,
    ).toBe(409);
    expect(
      (await post('/api/v1/payments', { creditorRef: 'WC', debtRef: 'W-INV-1', amount: '1', currency: 'EUR' })).status,
    ).toBe(400);

    await eventually(() => received.length >= 3, 20_000, 'three deliveries');
    const types = received.map((r) => JSON.parse(r.body).type).sort();
    expect(types).toEqual(['debt.paid', 'payment.recorded', 'payment.recorded']);
    for (const r of received) {
      expect(verifySignature(secret, String(r.headers['x-gateway-signature']), r.body)).toBe(true);
      expect(verifySignature(secret, String(r.headers['x-gateway-signature']), r.body.replace('0.', '9.'))).toBe(false);
    }

    // A failing receiver: the attempt is recorded and retried later with backoff.
    failNext = 1;
    received.length = 0;
    const debt = await gw.ctx.db.debt.findFirstOrThrow({ where: { externalRef: 'W-INV-1' } });
    const promise = await post(`/api/v1/debts/${debt.id}/promises`, { amount: '50.00', dueDate: '2099-01-31' });
    expect(promise.status).toBe(201);
    expect(promise.body.debt.status).toBe('PROMISED');
    const delivery = await eventually(
      async () => {
        const d = await gw.ctx.db.webhookDelivery.findFirst({ where: { event: 'promise.created' } });
        return d && d.attempts === 1 && d.status === 'QUEUED' ? d : null;
      },
      20_000,
      'a failed first attempt',
    );
    expect(delivery.lastError).toBe('HTTP 500');
    const delay = delivery.nextAttemptAt!.getTime() - Date.now();
    expect(delay).toBeGreaterThan(15_000);
    expect(delay).toBeLessThanOrEqual(36_000);
    // Run the retry now instead of waiting for it.
    expect(await deliverWebhook(gw.ctx, delivery.id)).toBe('SUCCEEDED');
    expect(await deliverWebhook(gw.ctx, delivery.id)).toBe('SKIPPED');
    expect(received).toHaveLength(2);
    expect(received[0]!.body).toBe(received[1]!.body);
    expect(JSON.parse(received[1]!.body)).toMatchObject({
      type: 'promise.created',
      data: { promise: { amount: '50.00', dueDate: '2099-01-31', status: 'ACTIVE' } },
    });
    const audit = await gw.ctx.db.auditEvent.findMany({
      where: { action: { in: ['payment.record', 'promise.create'] } },
    });
    expect(audit).toHaveLength(3);
  });
});

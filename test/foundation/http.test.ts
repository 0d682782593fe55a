import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { startGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

describe('HTTP basics', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ BODY_LIMIT: '10kb' });
  });
  afterAll(async () => gw.close());

  it('answers /healthz and /readyz with JSON', async () => {
    const h = await fetch(`${gw.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ status: 'ok' });
    const r = await fetch(`${gw.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      status: 'ready',
      checks: { database: { ok: true }, scheduler: { ok: true, detail: 'postgres' } },
    });
  });

  it('answers unknown routes with a JSON 404 and a request id', async () => {
    const r = await fetch(`${gw.url}/no/such/route`, { headers: { 'X-Request-Id': 'req-123' } });
    expect(r.status).toBe(404);
    expect(r.headers.get('content-type')).toMatch(/application\/json/);
    expect(r.headers.get('x-request-id')).toBe('req-123');
    expect(await r.json()).toEqual({
      error: 'not_found',
      message: 'no route for GET /no/such/route',
      requestId: 'req-123',
    });
  });

  it('answers malformed JSON with 400 and the reason', async () => {
    const r = await fetch(`${gw.url}/api/v1/anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; message: string };
    expect(body.error).toBe('invalid_json');
    expect(body.message).toMatch(/not valid JSON/);
  });

  it('answers an oversize body with 413, not an HTML page', async () => {
    const r = await fetch(`${gw.url}/api/v1/anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(20_000) }),
    });
    expect(r.status).toBe(413);
    expect(await r.json()).toMatchObject({ error: 'payload_too_large' });
  });
});

describe('readiness while starting', () => {
  it('answers /readyz 503 until the database is reachable', async () => {
    // A "database" that accepts connections and never answers: start hangs in migrate.
    const held: net.Socket[] = [];
    const fakeDb = net.createServer((s) => held.push(s));
    await new Promise<void>((r) => fakeDb.listen(0, '127.0.0.1', () => r()));
    const dbPort = (fakeDb.address() as net.AddressInfo).port;
    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        logLines.push(String(chunk));
        cb();
      },
    });
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: `postgresql://u:p@127.0.0.1:${dbPort}/x`,
    });
    const starting = startGateway(config, createLogger('info', sink));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setInterval(() => {
        const line = logLines.find((l) => l.includes('"listening"'));
        if (line) {
          clearInterval(t);
          resolve(JSON.parse(line).url);
        }
      }, 10);
      setTimeout(() => {
        clearInterval(t);
        reject(new Error('never listened'));
      }, 10_000);
    });
    const h = await fetch(`${url}/healthz`);
    expect(h.status).toBe(200);
    const r = await fetch(`${url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ status: 'not_ready' });
    // Let the "database" fail: the start fails cleanly and frees the port.
    for (const s of held) s.destroy();
    fakeDb.close();
    await expect(starting).rejects.toThrow();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});

describe('logging', () => {
  it('redacts credentials and message bodies', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      {
        req: { headers: { authorization: 'Bearer sk_live_secret', cookie: 'sid=abc' } },
        message: { body: 'You owe $500', to: '+15551234567' },
      },
      'x',
    );
    expect(lines.join('')).not.toMatch(/sk_live_secret|sid=abc|You owe/);
    expect(lines.join('')).toContain('+15551234567');
  });
});

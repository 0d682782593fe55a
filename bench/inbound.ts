// 4. Inbound webhook latency: signed Twilio inbound SMS at a fixed rate with
// autocannon (in a process of its own, see inbound-load.ts) against the
// gateway's /webhooks/twilio/sms (127.0.0.1), every request with its own
// MessageSid and its own signature, after a 2 s warm-up at the same rate that
// is not measured. Afterwards every message must be persisted exactly once
// (inbound_events and messages).
// Ceiling: a bare express app in this process doing the same urlencoded
// parse, the same signature check and one INSERT.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import twilio from 'twilio';
import type { BenchEnv } from './env.js';
import { TWILIO_AUTH_TOKEN } from './env.js';
import { fireFromChild, SMS_PATH, type LoadFigures } from './inbound-load.js';
import { countStatements, pollUntil, resetStatements, round, type StatementCount } from './stats.js';

export { inboundSmsParams, signedForm, SMS_PATH } from './inbound-load.js';

/** The ceiling server: same parse, same check, one insert. */
async function bareServer(env: BenchEnv): Promise<{ url: string; close(): Promise<void> }> {
  await env.pool.query(
    'CREATE TABLE IF NOT EXISTS bench_inbound_ceiling (id bigserial PRIMARY KEY, dedupe_key text UNIQUE NOT NULL, body bytea NOT NULL, received_at timestamptz NOT NULL DEFAULT now())',
  );
  const app = express();
  let base = '';
  app.use(
    express.urlencoded({
      extended: false,
      verify: (req, _res, buf) => void ((req as unknown as { rawBody: Buffer }).rawBody = buf),
    }),
  );
  app.post(SMS_PATH, async (req, res) => {
    const signature = req.header('x-twilio-signature') ?? '';
    if (
      !twilio.validateRequest(TWILIO_AUTH_TOKEN, signature, base + req.originalUrl, req.body as Record<string, string>)
    ) {
      res.status(403).end();
      return;
    }
    try {
      await env.pool.query(
        'INSERT INTO bench_inbound_ceiling (dedupe_key, body) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [
          `twilio:sms:${(req.body as Record<string, string>).MessageSid}`,
          (req as unknown as { rawBody: Buffer }).rawBody,
        ],
      );
      res.type('text/xml').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    } catch {
      res.status(500).end();
    }
  });
  const server = http.createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url: base, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Seconds of unmeasured load at the same rate before each measured run (gateway and ceiling alike). */
export const WARM_UP_SECONDS = 2;

export interface InboundFigures {
  rate: number;
  durationSeconds: number;
  gateway: LoadFigures;
  persisted: { inboundEvents: number; messages: number; distinctMessages: number; exactlyOnce: boolean };
  /** Statements PostgreSQL ran per accepted webhook, intake and processing (BEGIN/COMMIT included). */
  statementsPerMessage: number;
  topStatements: StatementCount['top'];
  ceiling: LoadFigures & { rows: number };
  target: { p99Ms: number; errors: 0 };
}

export async function benchInbound(env: BenchEnv, scale: number): Promise<InboundFigures> {
  const rate = 500;
  const durationSeconds = Math.max(3, Math.round(30 * scale));
  const amount = rate * durationSeconds;
  const gw = env.gateway;
  // Each run its own MessageSid prefix, none a prefix of another: measured (m), warm-up (w), ceiling (c) and its warm-up (d).
  const base = `SMbenchin${Date.now().toString(16)}`;
  const sidPrefix = `${base}m`;
  const like = `${sidPrefix}%`;
  const processedCount = async (prefix: string) =>
    Number(
      (
        await env.pool.query<{ n: string }>(
          `SELECT count(*) AS n, 'bench_warm' AS bench_warm FROM messages WHERE provider_message_id LIKE $1`,
          [`${prefix}%`],
        )
      ).rows[0]!.n,
    );
  // Warm-up at the same rate (not measured, its own MessageSids): connections opened, code compiled,
  // hot statements prepared — the steady state the figure is about, not the first second after start.
  const warm = await fireFromChild({
    baseUrl: gw.url,
    signedBase: gw.ctx.publicBaseUrl,
    sidPrefix: `${base}w`,
    areaCode: '645',
    rate,
    amount: rate * WARM_UP_SECONDS,
  });
  await pollUntil(async () => (await processedCount(`${base}w`)) >= warm.ok2xx, 60_000, 100);
  await resetStatements(env.pool);
  const gateway = await fireFromChild({
    baseUrl: gw.url,
    signedBase: gw.ctx.publicBaseUrl,
    sidPrefix,
    areaCode: '646',
    rate,
    amount,
  });

  // Persisted exactly once: one stored event and one inbound message per accepted request.
  const count = async () => {
    // Named bench_… so the statement count leaves this polling out.
    const r = await env.pool.query<{ events: string; messages: string; distinct: string }>(
      `SELECT (SELECT count(*) FROM inbound_events WHERE dedupe_key LIKE $1) AS events, 'bench_persisted' AS bench_persisted,
              (SELECT count(*) FROM messages WHERE provider_message_id LIKE $2 AND direction = 'INBOUND') AS messages,
              (SELECT count(DISTINCT provider_message_id) FROM messages WHERE provider_message_id LIKE $2 AND direction = 'INBOUND') AS distinct`,
      [`twilio:sms:${like}`, like],
    );
    return {
      inboundEvents: Number(r.rows[0]!.events),
      messages: Number(r.rows[0]!.messages),
      distinctMessages: Number(r.rows[0]!.distinct),
    };
  };
  let persisted = await count();
  await pollUntil(async () => (persisted = await count()).messages >= gateway.ok2xx, 60_000, 200);
  const statements = await countStatements(env.pool);

  const bare = await bareServer(env);
  let ceiling: LoadFigures;
  try {
    // The same warm-up for the ceiling.
    await fireFromChild({
      baseUrl: bare.url,
      signedBase: bare.url,
      sidPrefix: `${base}d`,
      areaCode: '645',
      rate,
      amount: rate * WARM_UP_SECONDS,
    });
    ceiling = await fireFromChild({
      baseUrl: bare.url,
      signedBase: bare.url,
      sidPrefix: `${base}c`,
      areaCode: '646',
      rate,
      amount,
    });
  } finally {
    await bare.close();
  }
  const rows = Number(
    (
      await env.pool.query<{ n: string }>('SELECT count(*) AS n FROM bench_inbound_ceiling WHERE dedupe_key LIKE $1', [
        `twilio:sms:${base}c%`,
      ])
    ).rows[0]!.n,
  );
  return {
    rate,
    durationSeconds,
    gateway,
    persisted: {
      ...persisted,
      exactlyOnce:
        persisted.inboundEvents === gateway.ok2xx &&
        persisted.messages === gateway.ok2xx &&
        persisted.distinctMessages === gateway.ok2xx,
    },
    ceiling: { ...ceiling, rows },
    statementsPerMessage: round(statements.total / Math.max(1, gateway.ok2xx), 1),
    topStatements: statements.top,
    target: { p99Ms: 50, errors: 0 },
  };
}

// A campaign wave over 200 debts survives the gateway being killed (SIGKILL)
// three times: while the wave is planned, while its messages are handed to the
// providers, and while the providers' status callbacks come back. Each moment
// is chosen by watching the database, never by sleeping. The provider
// sandboxes run in this test process, so what they received outlives every
// gateway; the gateway reaches them in "live" mode through a proxy that holds
// each request a while and, for a request whose client died meanwhile, passes
// every other one on (the provider got it) and drops the rest (it never did);
// the send-time kill waits for requests held there, so both cases happen.
//
// Asserted at the end: one message per planned step and each DELIVERED, its
// arrival at DELIVERED recorded exactly once; none left SENDING, PENDING or in
// review; exactly one SMS at Twilio per SMS debtor (Twilio can be asked, so
// recovery adopts what it has and re-sends only what it has not); per email at
// least one and at most one more per recorded re-send (SendGrid can neither
// deduplicate nor be asked: the policy allows that duplicate); every message
// stranded in SENDING by the kill reconciled in its history; and the campaign
// COMPLETED only once nothing it planned was open, never before.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/gateway.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { freePort } from '../support/ports.js';
import { middayZone } from '../support/api.js';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.js';
import { chicagoPhone } from '../campaigns/seed.js';
import { startSandboxes, type Sandboxes } from '../../src/sandbox/index.js';

const N_SMS = 160;
const N_EMAIL = 40;
const N = N_SMS + N_EMAIL;
const ADMIN_API_KEY = 'crash-admin-key-0123456789abcdef';
const TWILIO = { sid: `AC${'c0ffee00'.repeat(4)}`, token: 'crash-twilio-auth-token-0123', from: '+15005550006' };
const SENDGRID_KEY = 'SG.crash-test.0123456789abcdef';
const LOB = { key: 'test_crash0123456789', secret: 'crash-lob-webhook-secret' };
const OPEN = ['PENDING', 'SCHEDULED', 'SENDING', 'NEEDS_REVIEW'];

let database: TestDatabase;
let dataDir: string;
let sandboxes: Sandboxes;
let proxies: SlowProxy[] = [];
let db: pg.Pool;
let port: number;
let env: Record<string, string>;
const gateways: ChildGateway[] = [];

const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
  (await db.query<T>(sql, params)).rows;
const count = async (sql: string, params: unknown[] = []) => Number((await q<{ n: string }>(sql, params))[0]!.n);

async function startGateway(): Promise<ChildGateway> {
  const g = startChildGateway(port, env);
  gateways.push(g);
  await g.ready(60_000);
  return g;
}

async function kill(g: ChildGateway): Promise<void> {
  g.child.kill('SIGKILL');
  await g.exited;
}

async function call(method: string, url: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_API_KEY}`,
      ...(body !== undefined ? { 'content-type': contentType } : {}),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

function seedCsv(zone: string): string {
  const lines = [
    'debtor_external_ref,full_name,time_zone,phone,phone_is_mobile,phone_consent_sms,email,email_consent,creditor_ref,debt_ref,amount,currency,due_date',
  ];
  for (let i = 0; i < N; i++) {
    const sms = i < N_SMS;
    lines.push(
      [
        `CR-${i}`,
        `Crash Debtor ${i}`,
        zone,
        sms ? chicagoPhone(i) : '',
        sms ? 'true' : '',
        sms ? 'GRANTED' : '',
        sms ? '' : `crash.${i}@example.net`,
        sms ? '' : 'GRANTED',
        'CRASH',
        `CR-INV-${i}`,
        '120.50',
        'USD',
        '2026-01-15',
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-wave-crash-'));
  db = new pg.Pool({ connectionString: database.url, max: 4 });
  // A fixed port: the sandboxes' callbacks reach whichever gateway is up, and retry (with backoff) while none is.
  port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  sandboxes = await startSandboxes({
    twilio: {
      accountSid: TWILIO.sid,
      authToken: TWILIO.token,
      messagingServiceNumber: TWILIO.from,
      defaultOptOutHandling: false,
    },
    sendgrid: {
      apiKey: SENDGRID_KEY,
      webhookPrivateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    },
    lob: { apiKey: LOB.key, webhookSecret: LOB.secret },
    gateway: { baseUrl: base },
    // queued → sent → delivered a little apart, so callbacks are still arriving after the last send.
    callbackDelayMs: 400,
    callbackRetry: { maxAttempts: 40, initialBackoffMs: 250, maxBackoffMs: 2000 },
  });
  // 100 ms a request, and every tenth 3 s (a slow tail): a kill, which takes a moment to land, still finds some on the way.
  const slow = (i: number) => (i % 10 === 9 ? 3000 : 100);
  // Every other abandoned request, counted across both proxies, still reaches its provider.
  let abandonedSoFar = 0;
  const everyOther = () => abandonedSoFar++ % 2 === 0;
  proxies = [
    await startSlowProxy(sandboxes.twilio.baseUrl, slow, everyOther),
    await startSlowProxy(sandboxes.sendgrid.baseUrl, slow, everyOther),
  ];
  env = {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ADMIN_API_KEY,
    APP_SECRET: 'crash-app-secret-0123456789abcdefghijkl',
    PUBLIC_BASE_URL: base,
    LOG_LEVEL: 'warn',
    PROVIDERS: 'live',
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_FROM: TWILIO.from,
    TWILIO_API_BASE_URL: proxies[0]!.url,
    EMAIL_PROVIDER: 'sendgrid',
    SENDGRID_API_KEY: SENDGRID_KEY,
    SENDGRID_WEBHOOK_PUBLIC_KEY: keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    SENDGRID_API_BASE_URL: proxies[1]!.url,
    LOB_API_KEY: LOB.key,
    LOB_WEBHOOK_SECRET: LOB.secret,
    LOB_API_BASE_URL: `${sandboxes.lob.baseUrl}/v1`,
    // Short leases and job locks, so what a dead process held is taken over in seconds, not minutes.
    SEND_LEASE_MS: '3000',
    CAMPAIGN_STALL_TIMEOUT_MS: '3000',
    INBOUND_RETRY_BASE_MS: '500',
    INBOUND_RETRY_SWEEP_MS: '1000',
    INBOUND_LEASE_MS: '3000',
  };
}, 60_000);

afterAll(async () => {
  for (const g of gateways) if (g.child.exitCode === null && g.child.signalCode === null) g.child.kill('SIGKILL');
  await Promise.all(gateways.map((g) => g.exited));
  // Callbacks still retrying would hold close() for minutes: bounded.
  await Promise.race([sandboxes?.close(), new Promise((r) => setTimeout(r, 3000))]);
  for (const p of proxies) await p.close();
  await db?.end();
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('a campaign wave killed three times', () => {
  it('plans, sends and settles every message exactly once, and completes only at the end', async () => {
    const t0 = Date.now();
    const timeline: string[] = [];
    const mark = (what: string) => {
      timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
      if (process.env.CRASH_TEST_VERBOSE) process.stderr.write(`${timeline.at(-1)}\n`);
    };
    let g = await startGateway();
    mark('started');
    const imported = await call(
      'POST',
      '/api/v1/imports?format=csv&filename=crash.csv',
      seedCsv(middayZone()),
      'text/csv',
    );
    expect(imported.status).toBe(202);
    await eventually(
      async () =>
        (
          await q<{ status: string }>('SELECT status::text AS status FROM import_jobs WHERE id = $1', [
            imported.body.jobId,
          ])
        )[0]?.status === 'SUCCEEDED',
      30_000,
      'the import',
    );
    mark('imported');
    expect(await count(`SELECT count(*) AS n FROM debts WHERE external_ref LIKE 'CR-INV-%'`)).toBe(N);

    const created = await call('POST', '/api/v1/campaigns', {
      name: 'crash wave',
      audience: { creditorRefs: ['CRASH'] },
      stopConditions: ['PAID'],
      steps: [{ offsetDays: 0, intent: 'friendly-reminder' }],
    });
    expect(created.status).toBe(201);
    const campaignId = created.body.id as string;
    const state = async () => {
      const [s] = await q<{
        status: string;
        enrolled: string;
        messages: string;
        open: string;
        sending: string;
        handed: string;
        delivered: string;
      }>(
        `SELECT c.status::text AS status,
                (SELECT count(*) FROM campaign_enrollments e WHERE e.campaign_id = c.id) AS enrolled,
                (SELECT count(*) FROM messages m WHERE m.campaign_id = c.id) AS messages,
                (SELECT count(*) FROM messages m WHERE m.campaign_id = c.id AND m.status::text = ANY($2)) AS open,
                (SELECT count(*) FROM messages m WHERE m.campaign_id = c.id AND m.status = 'SENDING') AS sending,
                (SELECT count(*) FROM messages m WHERE m.campaign_id = c.id AND m.provider_message_id IS NOT NULL) AS handed,
                (SELECT count(*) FROM messages m WHERE m.campaign_id = c.id AND m.status = 'DELIVERED') AS delivered
           FROM campaigns c WHERE c.id = $1`,
        [campaignId, OPEN],
      );
      return {
        status: s!.status,
        enrolled: Number(s!.enrolled),
        messages: Number(s!.messages),
        open: Number(s!.open),
        sending: Number(s!.sending),
        handed: Number(s!.handed),
        delivered: Number(s!.delivered),
      };
    };

    /** A wait that timed out: what is not delivered yet and why, so a failure explains itself. */
    const stuck = async (err: Error): Promise<never> => {
      const rows = await q(
        `SELECT m.id, m.channel::text, m.status::text, m.attempts, m.provider_message_id, m.claimed_by, m.lease_until,
                (SELECT json_agg(json_build_object('status', e.status, 'provider', e.provider_status, 'at', e.occurred_at, 'detail', e.detail) ORDER BY e.id)
                   FROM message_status_events e WHERE e.message_id = m.id) AS history
           FROM messages m WHERE m.campaign_id = $1 AND m.status <> 'DELIVERED' LIMIT 10`,
        [campaignId],
      );
      const waiting = await q(
        `SELECT status::text, count(*) AS n, min(next_attempt_at) AS next FROM inbound_events WHERE status <> 'PROCESSED' GROUP BY 1`,
      );
      throw new Error(
        `${err.message} at ${new Date().toISOString()}\n${JSON.stringify({ state: await state(), waiting, failedCallbacks: sandboxes.callbacks.list({ state: 'failed' }).length, notDelivered: rows }, null, 1)}\n${g.output().slice(-3000)}`,
      );
    };

    // Watches the campaign the whole time: COMPLETED must never be seen while anything it planned is open or unplanned.
    const premature: unknown[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const s = await state();
        if (s.status === 'COMPLETED' && (s.open > 0 || s.messages < N || s.enrolled < N)) premature.push(s);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    try {
      // 1. While planning: the audience is enrolled, its messages not yet written.
      expect((await call('POST', `/api/v1/campaigns/${campaignId}/start`)).status).toBe(200);
      const planning = await eventually(
        async () => {
          const s = await state();
          return s.enrolled === N && s.messages === 0 ? s : null;
        },
        30_000,
        'the wave to be planning',
      );
      await kill(g);
      mark('killed while planning');
      const afterPlanningKill = await state();
      expect(afterPlanningKill).toMatchObject({ status: 'ACTIVE', enrolled: N });
      expect(afterPlanningKill.messages).toBeLessThan(N);

      // 2. While sending: some messages handed over, others claimed (SENDING) with their requests on the way.
      g = await startGateway();
      mark('restarted');
      await eventually(
        async () => {
          const s = await state();
          return s.handed >= 10 && s.sending >= 3 && s.handed < N - 20 ? s : null;
        },
        30_000,
        'sends under way',
      );
      // …and, in the same instant as the kill, requests held on their way to the provider.
      await eventually(() => proxies[0]!.held(1500) + proxies[1]!.held(1500) >= 2, 15_000, 'requests on the way');
      mark('sends in flight');
      await kill(g);
      mark('killed while sending');
      const afterSendingKill = await state();
      const stranded = (
        await q<{ id: string }>(`SELECT id::text AS id FROM messages WHERE campaign_id = $1 AND status = 'SENDING'`, [
          campaignId,
        ])
      ).map((r) => r.id);
      expect(stranded.length).toBeGreaterThan(0);
      // Of the requests on the way, the provider got some and not others (the proxy passes every other one on).
      await eventually(
        () => proxies.every((p) => p.held() === 0),
        5_000,
        'the held requests to be passed on or dropped',
      );
      const abandoned = {
        forwarded: proxies[0]!.abandoned.forwarded + proxies[1]!.abandoned.forwarded,
        dropped: proxies[0]!.abandoned.dropped + proxies[1]!.abandoned.dropped,
      };
      expect(abandoned.forwarded).toBeGreaterThan(0);
      expect(abandoned.dropped).toBeGreaterThan(0);
      expect(afterSendingKill.status).toBe('ACTIVE');

      // 3. While the callbacks arrive: every message handed over, not every one delivered yet.
      g = await startGateway();
      mark('restarted');
      const settling = await eventually(
        async () => {
          const s = await state();
          return s.messages === N && s.open === 0 && s.delivered < N ? s : null;
        },
        60_000,
        'callbacks under way',
      ).catch(stuck);
      await kill(g);
      mark('killed while callbacks arrive');
      const afterCallbacksKill = await state();
      expect(afterCallbacksKill.status).toBe('ACTIVE');
      expect(afterCallbacksKill.delivered).toBeLessThan(N);

      // 4. The last process sees it through.
      g = await startGateway();
      mark('restarted');
      const end = await eventually(
        async () => {
          const s = await state();
          return s.status === 'COMPLETED' && s.delivered === N ? s : null;
        },
        60_000,
        'the campaign to complete with every message delivered',
      ).catch(stuck);
      mark('completed');
      expect(end).toMatchObject({ enrolled: N, messages: N, open: 0, sending: 0 });
      watching = false;
      await watcher;
      expect(premature).toEqual([]);

      // One message per planned step, each delivered, its arrival at DELIVERED recorded once.
      const runs = await q<{ message_id: string | null; outcome: string }>(
        `SELECT r.message_id::text, r.outcome FROM campaign_step_runs r JOIN campaign_enrollments e ON e.id = r.enrollment_id WHERE e.campaign_id = $1`,
        [campaignId],
      );
      expect(runs).toHaveLength(N);
      expect(runs.every((r) => r.message_id && r.outcome === 'queued')).toBe(true);
      expect(new Set(runs.map((r) => r.message_id)).size).toBe(N);
      const arrivals = await q<{ id: string; n: string }>(
        `SELECT m.id::text AS id, count(ev.id) AS n FROM messages m
           LEFT JOIN conversation_events ev ON ev.conversation_id = m.conversation_id AND ev.type = 'message.status'
                AND ev.payload->>'messageId' = m.id::text AND ev.payload->>'status' = 'DELIVERED' AND (ev.payload->>'advanced')::boolean
          WHERE m.campaign_id = $1 GROUP BY m.id`,
        [campaignId],
      );
      expect(arrivals.filter((a) => Number(a.n) !== 1)).toEqual([]);

      // Twilio: exactly one SMS per SMS debtor, none more.
      const sms = await q<{ to_address: string }>(
        `SELECT to_address FROM messages WHERE campaign_id = $1 AND channel = 'SMS'`,
        [campaignId],
      );
      expect(sms).toHaveLength(N_SMS);
      const twilioOut = sandboxes.twilio.listMessages({ direction: 'outbound-api' });
      expect(twilioOut).toHaveLength(N_SMS);
      expect(sms.filter((m) => twilioOut.filter((t) => t.to === m.to_address).length !== 1)).toEqual([]);

      // SendGrid: at least one per email, and a second only where recovery recorded a re-send of it.
      const emails = await q<{ id: string; to_address: string; resends: string }>(
        `SELECT m.id::text AS id, m.to_address, (SELECT count(*) FROM message_status_events e WHERE e.message_id = m.id AND e.detail->>'recovery' = 'resend') AS resends
           FROM messages m WHERE m.campaign_id = $1 AND m.channel = 'EMAIL'`,
        [campaignId],
      );
      expect(emails).toHaveLength(N_EMAIL);
      const received = (to: string) => sandboxes.sendgrid.listMessages({ to }).length;
      expect(
        emails.filter((m) => received(m.to_address) < 1 || received(m.to_address) > 1 + Number(m.resends)),
      ).toEqual([]);
      const emailDuplicates = emails.reduce((n, m) => n + received(m.to_address) - 1, 0);

      // Every message the kill stranded in SENDING was reconciled — adopted from Twilio or re-sent, with its audit
      // entry — except an email SendGrid's own events settled first (they name our message id, so they find it).
      const reconciled = await q<{ id: string; channel: string; actions: string[] | null; audited: string }>(
        `SELECT m.id::text AS id, m.channel::text AS channel,
                (SELECT array_agg(e.detail->>'recovery') FROM message_status_events e WHERE e.message_id = m.id AND e.detail ? 'recovery') AS actions,
                (SELECT count(*) FROM audit_events a WHERE a.entity_type = 'message' AND a.entity_id = m.id::text AND a.action IN ('message.adopt', 'message.resend')) AS audited
           FROM messages m WHERE m.id = ANY($1::uuid[])`,
        [stranded],
      );
      expect(reconciled).toHaveLength(stranded.length);
      const byRecovery = reconciled.filter((r) => r.actions?.some((a) => a === 'adopt' || a === 'resend'));
      expect(reconciled.filter((r) => !byRecovery.includes(r) && r.channel !== 'EMAIL')).toEqual([]);
      expect(byRecovery.filter((r) => Number(r.audited) < 1)).toEqual([]);
      // Each message once per action (an adoption records the provider's status as a second event).
      const actions = reconciled.flatMap((r) => [...new Set(r.actions ?? [])]);

      const results = await call('GET', `/api/v1/campaigns/${campaignId}/results`);
      expect(results.body).toMatchObject({
        campaign: { status: 'COMPLETED' },
        open: { total: 0 },
        total: { queued: N, delivered: N, pending: 0, needsReview: 0 },
      });

      // The numbers behind it, for the record.
      console.log(
        JSON.stringify({
          planningKill: planning,
          sendingKill: { ...afterSendingKill, stranded: stranded.length },
          callbacksKill: settling,
          reconciled: {
            adopt: actions.filter((a) => a === 'adopt').length,
            resend: actions.filter((a) => a === 'resend').length,
            settledByProviderEvent: stranded.length - byRecovery.length,
          },
          proxyAbandoned: proxies.map((p) => p.abandoned),
          emailDuplicates,
          timeline,
        }),
      );
    } finally {
      watching = false;
      await watcher;
    }
  }, 180_000); // four gateway starts; about a minute on a quiet machine
});

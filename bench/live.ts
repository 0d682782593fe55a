// 5. Live-event latency: an agent client (socket.io-client, ADMIN_API_KEY)
// subscribed to the inbox; signed inbound SMS webhooks at ~100/s, each from a
// number no debtor has (so each opens its own unmatched thread). Latency =
// time from sending the webhook to the first `inbox` event of its thread; the
// thread of each message is looked up in the database afterwards. A warm-up
// of the same rate (not measured) goes first, as for the inbound figure.
import { io as connect } from 'socket.io-client';
import type { BenchEnv } from './env.js';
import { ADMIN_KEY } from './env.js';
import { inboundSmsParams, signedForm, SMS_PATH, WARM_UP_SECONDS } from './inbound.js';
import { benchPhone } from './seed.js';
import { now, pollUntil, summarize } from './stats.js';

export interface LiveFigures {
  rate: number;
  sent: number;
  failedRequests: number;
  eventsMatched: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  ceiling: { p50Ms: number; p99Ms: number; note: string };
  target: { p99Ms: number };
}

export async function benchLive(env: BenchEnv, scale: number): Promise<LiveFigures> {
  const gw = env.gateway;
  const rate = 100;
  const count = Math.max(300, Math.round(1_000 * scale));
  const socket = connect(gw.url, { auth: { token: ADMIN_KEY }, transports: ['websocket'], reconnection: false });
  const firstEventAt = new Map<string, number>();
  const ackRtt: number[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    socket.on('inbox', (summary: { conversationId?: string }) => {
      if (summary.conversationId && !firstEventAt.has(summary.conversationId))
        firstEventAt.set(summary.conversationId, now());
    });
    await socket.timeout(5_000).emitWithAck('inbox:subscribe', {});
    // The ceiling: a socket.io round trip on the same connection (ack of a re-subscribe), no database.
    for (let i = 0; i < 50; i++) {
      const t = now();
      await socket.timeout(5_000).emitWithAck('inbox:subscribe', {});
      ackRtt.push(now() - t);
    }

    const base = `SMbenchlive${Date.now().toString(16)}`;
    const sentAt = new Map<string, number>();
    let failed = 0;
    /** `n` webhooks at `rate`, each from its own number: request i leaves at start + i/rate, whatever the previous ones did. */
    const fire = async (sidPrefix: string, areaCode: string, n: number, onSent: (sid: string, at: number) => void) => {
      const inFlight: Promise<void>[] = [];
      const start = now();
      for (let i = 0; i < n; i++) {
        const due = start + (i * 1000) / rate;
        const wait = due - now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const sid = `${sidPrefix}${String(i).padStart(8, '0')}`;
        const { body, signature } = signedForm(
          `${gw.ctx.publicBaseUrl}${SMS_PATH}`,
          inboundSmsParams(sid, benchPhone(areaCode, i)),
        );
        onSent(sid, now());
        inFlight.push(
          fetch(`${gw.url}${SMS_PATH}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
            body,
          }).then(
            async (res) => {
              await res.arrayBuffer();
              if (res.status !== 200) failed++;
            },
            () => void failed++,
          ),
        );
      }
      await Promise.all(inFlight);
    };
    // Warm-up at the same rate, not measured (connections, compiled code, prepared statements), then the run.
    await fire(`${base}w`, '918', rate * WARM_UP_SECONDS, () => undefined);
    failed = 0;
    const sidPrefix = `${base}m`;
    await fire(sidPrefix, '917', count, (sid, at) => sentAt.set(sid, at));

    // Map each MessageSid to its thread, then wait (bounded) for every thread's event.
    let threadOf = new Map<string, string>();
    const lookup = async () => {
      const r = await env.pool.query<{ sid: string; conversation_id: string }>(
        `SELECT provider_message_id AS sid, conversation_id FROM messages WHERE provider_message_id LIKE $1`,
        [`${sidPrefix}%`],
      );
      threadOf = new Map(r.rows.map((row) => [row.sid, row.conversation_id]));
      return threadOf.size >= count - failed && [...threadOf.values()].every((c) => firstEventAt.has(c));
    };
    await pollUntil(lookup, 30_000, 200);
    const latencies: number[] = [];
    for (const [sid, t] of sentAt) {
      const conv = threadOf.get(sid);
      const at = conv ? firstEventAt.get(conv) : undefined;
      if (at !== undefined) latencies.push(at - t);
    }
    const s = summarize(latencies);
    const c = summarize(ackRtt);
    return {
      rate,
      sent: count,
      failedRequests: failed,
      eventsMatched: latencies.length,
      p50Ms: s.p50,
      p99Ms: s.p99,
      maxMs: s.max,
      ceiling: { p50Ms: c.p50, p99Ms: c.p99, note: 'socket.io ack round trip on the same connection, no database' },
      target: { p99Ms: 100 },
    };
  } finally {
    socket.disconnect();
  }
}

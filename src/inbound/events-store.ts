// The inbound event store: every authenticated webhook (and SMTP message) is
// written to inbound_events BEFORE anything is done with it, and the provider
// gets its 2xx only once that row exists. Processing runs afterwards and may
// fail; a failed row keeps its raw bytes and is retried with backoff by the
// `inbound.retry` job (or replayed by an admin). Idempotency comes twice:
// the row's dedupe_key (the provider's own id) refuses a second copy, and each
// processor writes through unique provider ids (messages.provider_message_id,
// message_status_events.provider_event_id), so reprocessing never doubles.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import { intakePool, statement } from '../db/client.js';
import { dataRejection } from '../db/errors.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import { MessageNotFound, onProviderIdRecorded } from '../messaging/status.js';

export interface RawInbound {
  /** A registered provider's id (channels/registry.ts), or the gateway's own mail listener's. */
  provider: string;
  kind: string;
  dedupeKey: string;
  headers: Record<string, unknown>;
  body: Buffer;
}

export interface ProcessResult {
  /** Nothing to do with this event (e.g. an event type we do not track); stored as IGNORED with the reason. */
  ignored?: string;
  /** The processor marked the event PROCESSED in the statement that did its work (nothing left to record). */
  markedProcessed?: boolean;
}

export type Processor = (ctx: AppContext, event: InboundEvent) => Promise<ProcessResult | void>;

/**
 * The stored event can never be processed as it is (its content cannot be
 * decoded or stored): retrying would fail the same way for ever, so it is
 * dead-lettered at once (status DEAD_LETTER, the reason in lastError), listed
 * for admins (GET /api/v1/admin/inbound-events?status=DEAD_LETTER), and
 * replayed by hand once the cause is fixed.
 */
export class PermanentFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PermanentFailure';
  }
}

/** A failure that no retry can mend: a PermanentFailure, or the database refusing the data itself. */
function permanentReason(err: unknown): string | null {
  if (err instanceof PermanentFailure) return err.message;
  const data = dataRejection(err);
  return data ? `the database refused the content (SQLSTATE ${data})` : null;
}

/** After this long, an event that still references an unknown message is set aside as IGNORED. */
const NOT_FOUND_GIVE_UP_MS = 15 * 60_000;
/** A claimed row is considered abandoned (crash mid-processing) after this long and is picked up again (INBOUND_LEASE_MS). */
export const inboundLeaseMs = (ctx: AppContext): number => ctx.config.INBOUND_LEASE_MS;
const MAX_BACKOFF_MS = 6 * 60 * 60_000;
/**
 * A callback that overtook its send (a provider may post "queued" before the API
 * call that created the message has even answered) is retried quickly while
 * young: first when this process records the provider id (notifyProviderId),
 * else on a short timer — not after the regular 30 s backoff.
 */
const NOT_FOUND_FAST_WINDOW_MS = 10_000;
const NOT_FOUND_FIRST_RETRY_MS = 25;
const NOT_FOUND_MAX_FAST_RETRY_MS = 2_000;

const processors = new Map<string, Processor>();

export function registerProcessor(provider: string, kind: string, processor: Processor): void {
  processors.set(`${provider}:${kind}`, processor);
}

/** Headers worth keeping as evidence; credentials are never stored. */
export function headersForStorage(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (/^(authorization|cookie|proxy-authorization)$/i.test(name)) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * Stores the raw event. Returns `duplicate: true` (and the existing row's id)
 * when the same dedupe key was stored before. The new row is leased to the
 * caller, who processes it right away; if the process dies first, the retry
 * sweep takes it once the lease runs out.
 */
const STORE_EVENT = `INSERT INTO inbound_events (id, provider, kind, dedupe_key, headers, body, attempts, next_attempt_at)
  VALUES ($1, $2, $3, $4, $5::jsonb, $6, 1, $7)
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id, provider, kind, dedupe_key, headers, body, status::text AS status, attempts, last_error, next_attempt_at, received_at, processed_at`;

export async function storeInbound(
  ctx: AppContext,
  raw: RawInbound,
): Promise<{ id: string; duplicate: boolean; event?: InboundEvent }> {
  // The caller holds the lease and processes it next: its attempt is counted here, saving a round trip.
  const { dedupeKey, nextAttemptAt } = storedFields(raw, inboundLeaseMs(ctx));
  const pool = intakePool(ctx.db);
  if (pool) {
    // The webhook's own connections (src/db/client.ts): this INSERT does not queue behind processing.
    const inserted = await pool.query<InboundEventRow>(
      statement(ctx.db, 'inbound_event_store', STORE_EVENT, [
        randomUUID(),
        raw.provider,
        raw.kind,
        dedupeKey,
        JSON.stringify(raw.headers),
        raw.body,
        nextAttemptAt,
      ]),
    );
    const row = inserted.rows[0];
    if (row) return { id: row.id, duplicate: false, event: eventOf(row) };
    const existing = await pool.query<{ id: string }>('SELECT id FROM inbound_events WHERE dedupe_key = $1', [
      dedupeKey,
    ]);
    if (!existing.rows[0]) throw new Error('inbound event neither inserted nor found');
    return { id: existing.rows[0].id, duplicate: true };
  }
  const rows = await ctx.db.inboundEvent.createManyAndReturn({
    data: [
      {
        provider: raw.provider,
        kind: raw.kind,
        dedupeKey,
        headers: raw.headers as object,
        body: new Uint8Array(raw.body),
        attempts: 1,
        nextAttemptAt,
      },
    ],
    skipDuplicates: true,
  });
  if (rows[0]) return { id: rows[0].id, duplicate: false, event: rows[0] };
  const existing = await ctx.db.inboundEvent.findUnique({ where: { dedupeKey }, select: { id: true } });
  if (!existing) throw new Error('inbound event neither inserted nor found');
  return { id: existing.id, duplicate: true };
}

/** The dedupe key as stored, and the lease of a row its storer processes next (attempt 1). */
export function storedFields(
  raw: RawInbound,
  leaseMs: number,
  now = Date.now(),
): { dedupeKey: string; nextAttemptAt: Date } {
  return { dedupeKey: raw.dedupeKey.slice(0, 1000), nextAttemptAt: new Date(now + leaseMs) };
}

/** A row just stored with storedFields() (RECEIVED, attempt 1, leased), as Prisma would read it. */
export function leasedEvent(
  raw: RawInbound,
  id: string,
  receivedAt: Date,
  fields: ReturnType<typeof storedFields>,
): InboundEvent {
  return {
    id,
    provider: raw.provider,
    kind: raw.kind,
    dedupeKey: fields.dedupeKey,
    headers: raw.headers as InboundEvent['headers'],
    body: new Uint8Array(raw.body),
    status: 'RECEIVED',
    attempts: 1,
    lastError: null,
    nextAttemptAt: fields.nextAttemptAt,
    receivedAt,
    processedAt: null,
  };
}

interface InboundEventRow {
  id: string;
  provider: string;
  kind: string;
  dedupe_key: string;
  headers: InboundEvent['headers'];
  body: Buffer;
  status: InboundEvent['status'];
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  received_at: Date;
  processed_at: Date | null;
}

/** A row read by pg, as the InboundEvent Prisma would have returned. */
function eventOf(r: InboundEventRow): InboundEvent {
  return {
    id: r.id,
    provider: r.provider,
    kind: r.kind,
    dedupeKey: r.dedupe_key,
    headers: r.headers,
    body: new Uint8Array(r.body),
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at,
    receivedAt: r.received_at,
    processedAt: r.processed_at,
  };
}

function backoffMs(ctx: AppContext, attempts: number): number {
  return Math.min(ctx.config.INBOUND_RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * Runs the processor of one stored event and records the outcome. Never
 * throws: failures land on the row (FAILED, lastError, nextAttemptAt).
 * `lease-held` is for the caller that just stored the row (storeInbound
 * counted the attempt and handed back the row as `event`); retries and
 * replays claim the row first so two workers never run it at once.
 * `not-found-retry` re-runs an event that was waiting for its message,
 * keeping it FAILED (so listings do not flicker) while it runs.
 */
export async function processInboundEvent(
  ctx: AppContext,
  id: string,
  opts: { claim: 'lease-held' | 'due' | 'force' | 'not-found-retry'; event?: InboundEvent },
): Promise<InboundEvent | null> {
  const now = new Date();
  if (opts.claim !== 'lease-held') {
    const lease = new Date(now.getTime() + inboundLeaseMs(ctx));
    const claimed =
      opts.claim === 'not-found-retry'
        ? await ctx.db.inboundEvent.updateMany({
            where: { id, status: 'FAILED', nextAttemptAt: { not: null } },
            data: { nextAttemptAt: lease },
          })
        : await ctx.db.inboundEvent.updateMany({
            where:
              opts.claim === 'due'
                ? { id, status: { in: ['RECEIVED', 'FAILED'] }, nextAttemptAt: { lte: now } }
                : {
                    id,
                    OR: [{ status: { not: 'RECEIVED' } }, { nextAttemptAt: { lte: now } }, { nextAttemptAt: null }],
                  },
            data: { status: 'RECEIVED', nextAttemptAt: lease },
          });
    if (claimed.count === 0) return null;
  }
  const event =
    opts.claim === 'lease-held' && opts.event
      ? opts.event
      : await ctx.db.inboundEvent.update({ where: { id }, data: { attempts: { increment: 1 } } });
  const processor = processors.get(`${event.provider}:${event.kind}`);
  try {
    if (!processor) throw new Error(`no processor for ${event.provider}:${event.kind}`);
    const result = await processor(ctx, event);
    if (result?.markedProcessed)
      return { ...event, status: 'PROCESSED', lastError: null, processedAt: new Date(), nextAttemptAt: null };
    return await ctx.db.inboundEvent.update({
      where: { id },
      data: {
        status: result?.ignored ? 'IGNORED' : 'PROCESSED',
        lastError: result?.ignored ?? null,
        processedAt: new Date(),
        nextAttemptAt: null,
      },
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const age = Date.now() - event.receivedAt.getTime();
    if (err instanceof MessageNotFound) {
      if (age > NOT_FOUND_GIVE_UP_MS) {
        ctx.log.warn(
          { inboundEventId: id, provider: event.provider, kind: event.kind },
          'inbound event references an unknown message; set aside',
        );
        return ctx.db.inboundEvent.update({
          where: { id },
          data: { status: 'IGNORED', lastError: message, processedAt: new Date(), nextAttemptAt: null },
        });
      }
      // Bounded by age (above), not by the attempt cap: fast retries would use it up in a second.
      const fast = age < NOT_FOUND_FAST_WINDOW_MS;
      const delay = fast
        ? Math.min(NOT_FOUND_FIRST_RETRY_MS * 2 ** Math.max(0, event.attempts - 1), NOT_FOUND_MAX_FAST_RETRY_MS)
        : backoffMs(ctx, event.attempts);
      if (fast) awaitMessage(ctx, id, err.providerMessageId, delay);
      ctx.log.debug(
        { inboundEventId: id, provider: event.provider, kind: event.kind, attempts: event.attempts, retryInMs: delay },
        'inbound event waits for its message',
      );
      return ctx.db.inboundEvent.update({
        where: { id },
        data: { status: 'FAILED', lastError: message.slice(0, 4000), nextAttemptAt: new Date(Date.now() + delay) },
      });
    }
    const permanent = permanentReason(err);
    if (permanent) {
      ctx.log.error(
        { inboundEventId: id, provider: event.provider, kind: event.kind, reason: permanent },
        'inbound event dead-lettered',
      );
      return ctx.db.inboundEvent.update({
        where: { id },
        data: { status: 'DEAD_LETTER', lastError: `${permanent}: ${message}`.slice(0, 4000), nextAttemptAt: null },
      });
    }
    const exhausted = event.attempts >= ctx.config.INBOUND_MAX_ATTEMPTS;
    ctx.log.warn(
      {
        inboundEventId: id,
        provider: event.provider,
        kind: event.kind,
        attempts: event.attempts,
        exhausted,
        err: message,
      },
      'inbound event processing failed',
    );
    return ctx.db.inboundEvent.update({
      where: { id },
      data: {
        status: 'FAILED',
        lastError: message.slice(0, 4000),
        nextAttemptAt: exhausted ? null : new Date(Date.now() + backoffMs(ctx, event.attempts)),
      },
    });
  }
}

// ── events waiting for their message (in this process) ─────────────────

interface Waiting {
  ctx: AppContext;
  providerMessageId?: string;
  timer: NodeJS.Timeout;
}
const waiting = new Map<string, Waiting>();
const waitingByProviderId = new Map<string, Set<string>>();

function forget(id: string): Waiting | undefined {
  const w = waiting.get(id);
  if (!w) return undefined;
  clearTimeout(w.timer);
  waiting.delete(id);
  if (w.providerMessageId) {
    const set = waitingByProviderId.get(w.providerMessageId);
    set?.delete(id);
    if (set?.size === 0) waitingByProviderId.delete(w.providerMessageId);
  }
  return w;
}

function retryWaiting(id: string): void {
  const w = forget(id);
  if (!w) return;
  // The claim (FAILED and not leased elsewhere) keeps this from running twice, here or in the sweep.
  void processInboundEvent(w.ctx, id, { claim: 'not-found-retry' }).catch((err) =>
    w.ctx.log.warn({ err, inboundEventId: id }, 'retry of a waiting inbound event failed'),
  );
}

function awaitMessage(ctx: AppContext, id: string, providerMessageId: string | undefined, delayMs: number): void {
  forget(id);
  // The timer is the fallback (another process recorded the id, or no id is known); unref'd so it never holds shutdown.
  const timer = setTimeout(() => retryWaiting(id), delayMs + 5);
  timer.unref();
  waiting.set(id, { ctx, providerMessageId, timer });
  if (providerMessageId) {
    const set = waitingByProviderId.get(providerMessageId) ?? new Set<string>();
    set.add(id);
    waitingByProviderId.set(providerMessageId, set);
  }
}

/**
 * Called once a provider's message id is committed (dispatch recorded the
 * send, src/messaging/status.ts): events in this process that were waiting
 * for it run again now.
 */
function notifyProviderId(providerMessageId: string): void {
  const ids = waitingByProviderId.get(providerMessageId);
  if (!ids) return;
  for (const id of [...ids]) {
    const w = waiting.get(id);
    if (!w) continue;
    // Run it on the next turn (the dispatcher's commit is done; its caller carries on first).
    clearTimeout(w.timer);
    w.timer = setTimeout(() => retryWaiting(id), 0);
    w.timer.unref();
  }
}

onProviderIdRecorded(notifyProviderId);

/** Drops the in-process retry timers (shutdown); the rows stay FAILED with a due time, so the sweep takes them later. */
export function forgetWaitingEvents(): void {
  for (const id of [...waiting.keys()]) forget(id);
}

/** Events whose retry time has come (failed ones, and received ones whose worker vanished). */
export async function processDueEvents(ctx: AppContext, limit = 50): Promise<number> {
  const due = await ctx.db.inboundEvent.findMany({
    where: { status: { in: ['RECEIVED', 'FAILED'] }, nextAttemptAt: { lte: new Date() } },
    orderBy: { nextAttemptAt: 'asc' },
    take: limit,
    select: { id: true },
  });
  let done = 0;
  for (const { id } of due) {
    const r = await processInboundEvent(ctx, id, { claim: 'due' });
    if (r) done += 1;
  }
  return done;
}

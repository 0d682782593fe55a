// The inbound event store: every authenticated webhook (and SMTP message) is
// written to inbound_events BEFORE anything is done with it, and the provider
// gets its 2xx only once that row exists. Processing runs afterwards and may
// fail; a failed row keeps its raw bytes and is retried with backoff by the
// `inbound.retry` job (or replayed by an admin). Idempotency comes twice:
// the row's dedupe_key (the provider's own id) refuses a second copy, and each
// processor writes through unique provider ids (messages.provider_message_id,
// message_status_events.provider_event_id), so reprocessing never doubles.
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';

export interface RawInbound {
  provider: 'twilio' | 'sendgrid' | 'lob' | 'smtp';
  kind: string;
  dedupeKey: string;
  headers: Record<string, unknown>;
  body: Buffer;
}

export interface ProcessResult {
  /** Nothing to do with this event (e.g. an event type we do not track); stored as IGNORED with the reason. */
  ignored?: string;
}

export type Processor = (ctx: AppContext, event: InboundEvent) => Promise<ProcessResult | void>;

/** A referenced message is not (yet) known: the callback may have overtaken the send. Retried, then given up. */
export class MessageNotFound extends Error {
  constructor(what: string) {
    super(`no message matches ${what}`);
    this.name = 'MessageNotFound';
  }
}

/** After this long, an event that still references an unknown message is set aside as IGNORED. */
const NOT_FOUND_GIVE_UP_MS = 15 * 60_000;
/** A claimed row is considered abandoned (crash mid-processing) after this long and is picked up again. */
const LEASE_MS = 2 * 60_000;
const MAX_BACKOFF_MS = 6 * 60 * 60_000;

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
export async function storeInbound(ctx: AppContext, raw: RawInbound): Promise<{ id: string; duplicate: boolean }> {
  const rows = await ctx.db.inboundEvent.createManyAndReturn({
    data: [
      {
        provider: raw.provider,
        kind: raw.kind,
        dedupeKey: raw.dedupeKey.slice(0, 1000),
        headers: raw.headers as object,
        body: new Uint8Array(raw.body),
        nextAttemptAt: new Date(Date.now() + LEASE_MS),
      },
    ],
    skipDuplicates: true,
    select: { id: true },
  });
  if (rows[0]) return { id: rows[0].id, duplicate: false };
  const existing = await ctx.db.inboundEvent.findUnique({ where: { dedupeKey: raw.dedupeKey.slice(0, 1000) }, select: { id: true } });
  if (!existing) throw new Error('inbound event neither inserted nor found');
  return { id: existing.id, duplicate: true };
}

function backoffMs(ctx: AppContext, attempts: number): number {
  return Math.min(ctx.config.INBOUND_RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * Runs the processor of one stored event and records the outcome. Never
 * throws: failures land on the row (FAILED, lastError, nextAttemptAt).
 * `claim: false` is for the caller that just stored the row (it holds the
 * lease); retries and replays claim the row first so two workers never run it
 * at once.
 */
export async function processInboundEvent(ctx: AppContext, id: string, opts: { claim: 'lease-held' | 'due' | 'force' }): Promise<InboundEvent | null> {
  const now = new Date();
  if (opts.claim !== 'lease-held') {
    const claimed = await ctx.db.inboundEvent.updateMany({
      where:
        opts.claim === 'due'
          ? { id, status: { in: ['RECEIVED', 'FAILED'] }, nextAttemptAt: { lte: now } }
          : { id, OR: [{ status: { not: 'RECEIVED' } }, { nextAttemptAt: { lte: now } }, { nextAttemptAt: null }] },
      data: { status: 'RECEIVED', nextAttemptAt: new Date(now.getTime() + LEASE_MS) },
    });
    if (claimed.count === 0) return null;
  }
  const event = await ctx.db.inboundEvent.update({ where: { id }, data: { attempts: { increment: 1 } } });
  const processor = processors.get(`${event.provider}:${event.kind}`);
  try {
    if (!processor) throw new Error(`no processor for ${event.provider}:${event.kind}`);
    const result = await processor(ctx, event);
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
    if (err instanceof MessageNotFound && Date.now() - event.receivedAt.getTime() > NOT_FOUND_GIVE_UP_MS) {
      ctx.log.warn({ inboundEventId: id, provider: event.provider, kind: event.kind }, 'inbound event references an unknown message; set aside');
      return ctx.db.inboundEvent.update({ where: { id }, data: { status: 'IGNORED', lastError: message, processedAt: new Date(), nextAttemptAt: null } });
    }
    const exhausted = event.attempts >= ctx.config.INBOUND_MAX_ATTEMPTS;
    ctx.log.warn({ inboundEventId: id, provider: event.provider, kind: event.kind, attempts: event.attempts, exhausted, err: message }, 'inbound event processing failed');
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

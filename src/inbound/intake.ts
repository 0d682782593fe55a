// Store first, answer, then process: the shared path of every webhook and of
// the SMTP listener. The provider's 2xx waits only for the raw event's INSERT;
// processing runs afterwards from a small in-process queue, so a burst of
// webhooks neither waits for its own processing nor starves the INSERTs of
// database connections (processing holds at most MAX_PROCESSING of them; the
// governor in intake-governor.ts narrows that while a burst of webhooks is
// waiting for its answers). In-flight and queued processing is tracked so
// shutdown can wait for it; anything cut short keeps its lease and is picked
// up by the retry sweep. A plain status callback skips the queue: its raw
// event and its update are one statement (intakeStatus).
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import { forgetWaitingEvents, processInboundEvent, storeInbound, type RawInbound } from './events-store.js';
import { IntakeGovernor } from './intake-governor.js';
import type { PlainStatusUpdate } from '../messaging/status.js';
import { storeAndApplyStatus } from './status.js';

/** At most MAX_PROCESSING (8) events at once: the pool has 20 connections; webhook INSERTs and the API need the rest. */
const governor = new IntakeGovernor(() => queue.length);

interface Queued {
  ctx: AppContext;
  id: string;
  event?: InboundEvent;
}

const queue: Queued[] = [];
let running = 0;
let idle: (() => void)[] = [];

function pump(): void {
  while (running < governor.limit && queue.length > 0) {
    const next = queue.shift()!;
    running += 1;
    processInboundEvent(next.ctx, next.id, { claim: 'lease-held', event: next.event })
      .catch((err) => next.ctx.log.error({ err, inboundEventId: next.id }, 'inbound processing crashed'))
      .finally(() => {
        running -= 1;
        pump();
        if (running === 0 && queue.length === 0) {
          const waiters = idle;
          idle = [];
          for (const w of waiters) w();
        }
      });
  }
}

export async function intake(ctx: AppContext, raw: RawInbound): Promise<{ id: string; duplicate: boolean }> {
  const stored = await storeInbound(ctx, raw);
  if (stored.duplicate) {
    ctx.log.debug(
      { provider: raw.provider, kind: raw.kind, inboundEventId: stored.id },
      'duplicate inbound event ignored',
    );
    return { id: stored.id, duplicate: true };
  }
  enqueue(ctx, stored.id, stored.event);
  return { id: stored.id, duplicate: false };
}

/**
 * A plain status callback (no consequences beyond the message's own row):
 * stored and applied by one statement before the answer, not queued. One
 * whose message is not known yet is stored for the usual processing, which
 * waits for the send to record the provider's id.
 */
export async function intakeStatus(ctx: AppContext, raw: RawInbound, update: PlainStatusUpdate): Promise<void> {
  const r = await storeAndApplyStatus(ctx, raw, update);
  if (r.duplicate) ctx.log.debug({ provider: raw.provider, kind: raw.kind }, 'duplicate inbound event ignored');
  else if (!r.applied) enqueue(ctx, r.id, r.event);
}

function enqueue(ctx: AppContext, id: string, event: InboundEvent | undefined): void {
  queue.push({ ctx, id, event });
  governor.arrived();
  // Started on the next turn, after the caller has sent its answer.
  setImmediate(pump);
}

/** Waits (bounded) for queued and running processing to finish. */
export async function drainIntake(timeoutMs: number): Promise<void> {
  forgetWaitingEvents();
  // Full width for what is left, and no sampling timer after shutdown.
  governor.stop();
  if (running === 0 && queue.length === 0) return;
  await Promise.race([new Promise<void>((r) => idle.push(r)), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  // Whatever is still queued keeps its lease on the row: the retry sweep (here after a restart, or another process) takes it.
  queue.length = 0;
}

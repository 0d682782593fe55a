// Store first, answer, then process: the shared path of every webhook and of
// the SMTP listener. Processing runs after the caller has its answer, so a
// slow or failing processor never makes a provider retry (or give up on) an
// event we already hold. In-flight processing is tracked so shutdown can wait
// for it; anything cut short is picked up by the retry sweep once its lease
// expires.
import type { AppContext } from '../context.js';
import { processInboundEvent, storeInbound, type RawInbound } from './events-store.js';

const inFlight = new Set<Promise<unknown>>();

export async function intake(ctx: AppContext, raw: RawInbound): Promise<{ id: string; duplicate: boolean }> {
  const stored = await storeInbound(ctx, raw);
  if (stored.duplicate) {
    ctx.log.debug({ provider: raw.provider, kind: raw.kind, inboundEventId: stored.id }, 'duplicate inbound event ignored');
    return stored;
  }
  const run = new Promise<void>((resolve) => setImmediate(resolve))
    .then(() => processInboundEvent(ctx, stored.id, { claim: 'lease-held' }))
    .catch((err) => ctx.log.error({ err, inboundEventId: stored.id }, 'inbound processing crashed'))
    .finally(() => inFlight.delete(run));
  inFlight.add(run);
  return stored;
}

/** Waits (bounded) for processing started by intake() to finish. */
export async function drainIntake(timeoutMs: number): Promise<void> {
  if (inFlight.size === 0) return;
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

// A status callback stored on arrival: the webhook's raw event and the status
// change it carries are written by one statement (src/messaging/status.ts)
// before the provider gets its 2xx, so nothing accepted is lost and there is
// no second round trip to process it.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import { applyStatusOnArrival, type PlainStatusUpdate } from '../messaging/status.js';
import { inboundLeaseMs, leasedEvent, storedFields, type RawInbound } from './events-store.js';

export type StoredOnArrival =
  | { duplicate: true }
  | { duplicate: false; applied: true; id: string }
  /** The message is not known yet (the callback overtook the send): stored RECEIVED and leased to the caller, to process as usual. */
  | { duplicate: false; applied: false; id: string; event: InboundEvent };

/** Stores a plain status callback and applies it (a callback that needs nothing but the message row). */
export async function storeAndApplyStatus(
  ctx: AppContext,
  raw: RawInbound,
  u: PlainStatusUpdate,
): Promise<StoredOnArrival> {
  const id = randomUUID();
  const fields = storedFields(raw, inboundLeaseMs(ctx));
  const r = await applyStatusOnArrival(
    ctx,
    {
      id,
      provider: raw.provider,
      kind: raw.kind,
      dedupeKey: fields.dedupeKey,
      headers: raw.headers,
      body: raw.body,
      nextAttemptAt: fields.nextAttemptAt,
    },
    u,
  );
  if (!r.stored) return { duplicate: true };
  if (!r.found) return { duplicate: false, applied: false, id, event: leasedEvent(raw, id, r.receivedAt, fields) };
  return { duplicate: false, applied: true, id };
}

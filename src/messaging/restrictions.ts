// A restriction on contact was added or lifted (cease, dispute, attorney, moratorium …):
// queued messages and campaign enrolments it affects are withdrawn (or resumed) at once, not
// when each reaches its send time. Who notices the change (the API, a reply understood as a
// cease or a dispute) need not know who acts on it: src/compliance/module.ts plugs the handler
// in at start, and inbound — which must not import outbound — asks through this port.
import type { AppContext } from '../context.js';

export interface RestrictionChange {
  debtorId: string;
  /** What changed it, kept with every withdrawn message and stopped enrolment ("cease by SMS reply", "API"). */
  cause: string;
}

type Handler = (ctx: AppContext, change: RestrictionChange) => Promise<unknown>;
let handler: Handler | null = null;

export function setRestrictionHandler(h: Handler): void {
  handler = h;
}

/** Applies a restriction change now. A failure is logged: the send-time re-check still refuses each message. */
export async function restrictionsChanged(ctx: AppContext, change: RestrictionChange): Promise<void> {
  if (!handler) return;
  try {
    await handler(ctx, change);
  } catch (err) {
    ctx.log.error(
      { err, debtorId: change.debtorId },
      'restriction change not applied at once; the send-time re-check refuses each message instead',
    );
  }
}

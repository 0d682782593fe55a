// When a campaign step can go: the search both campaign paths use
// (wave-batch.ts in memory for a whole batch, runner.ts before its
// requestOutreach) for the earliest time the router accepts, inside the
// step's local window, with room in the throttle.
import { createRouter, resolveLocation, type Channel, type Decision, type RouterSnapshot } from '../router/index.js';
import { insideWindow, windowStart } from './planner.js';
import type { StepWindow } from './schemas.js';
import type { MinuteLedger } from './throttle.js';

const router = createRouter();
const MINUTE_MS = 60_000;

export interface PlannedSend {
  decision: Decision;
  /** The time the decision was asked for (notBefore). */
  at: Date;
  /** The throttle moved it (a later minute, or later inside its minute). */
  throttled: boolean;
}

/**
 * Earliest time ≥ from that the router accepts for this debtor, inside the
 * step window and with room in the throttle; null when the window is never
 * open in all the debtor's zones. Returns the final decision and the time it
 * was asked for. Pure over one snapshot (and the throttle ledger), so it is
 * cheap to iterate: the batch records its decision as it is, the single path
 * asks requestOutreach to decide for real at that time.
 */
export async function planSend(
  snapshot: RouterSnapshot,
  req: { debtorId: string; debtId: string; intent: string; channel?: Channel },
  window: StepWindow | null,
  from: Date,
  ledger: MinuteLedger,
): Promise<PlannedSend | null> {
  const decideAt = (t: Date) => router.decide({ ...req, notBefore: t }, snapshot);
  const zones = window ? resolveLocation(snapshot, router.config).zones : [];
  let earliest = from;
  let moved = false;
  for (let i = 0; i < 500; i++) {
    const t = window ? windowStart(earliest, zones, window) : earliest;
    if (!t) return null;
    const d = decideAt(t);
    if (d.outcome === 'refuse') return { decision: d, at: t, throttled: moved };
    if (window && !insideWindow(d.sendAt, zones, window)) {
      earliest = new Date(d.sendAt.getTime() + MINUTE_MS);
      continue;
    }
    if (!ledger.limited(d.channel)) return { decision: d, at: t, throttled: moved };
    if (!(await ledger.hasRoom(d.channel, d.sendAt))) {
      earliest = await ledger.slot(d.channel, d.sendAt);
      moved = true;
      continue;
    }
    const slot = await ledger.slot(d.channel, d.sendAt);
    if (slot.getTime() === d.sendAt.getTime()) return { decision: d, at: t, throttled: moved };
    // Spread inside the minute: decide again at the slot (still the same minute, so still room).
    const at = decideAt(slot);
    if (
      at.outcome !== 'refuse' &&
      at.channel === d.channel &&
      Math.floor(at.sendAt.getTime() / MINUTE_MS) === Math.floor(slot.getTime() / MINUTE_MS)
    ) {
      return { decision: at, at: slot, throttled: true };
    }
    earliest = slot;
    moved = true;
  }
  return { decision: decideAt(earliest), at: earliest, throttled: moved };
}

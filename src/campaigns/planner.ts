// Pure timing of campaign steps: when a step is due, and the step's local
// window. The throttle's minute ledger is throttle.ts.
import { DateTime } from 'luxon';
import type { StepWindow } from './schemas.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface StepTiming {
  offsetDays: number;
  anchor: 'ENROLLMENT' | 'DUE_DATE';
}

/** When a step falls due: enrolment time or the debt's due date (00:00 UTC), plus offsetDays. */
export function stepDueAt(step: StepTiming, enrolledAt: Date, dueDate: Date): Date {
  const base =
    step.anchor === 'DUE_DATE'
      ? Date.UTC(dueDate.getUTCFullYear(), dueDate.getUTCMonth(), dueDate.getUTCDate())
      : enrolledAt.getTime();
  return new Date(base + step.offsetDays * DAY_MS);
}

const minuteOfDay = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** True when `t` is inside [from, to) local time in every zone. */
export function insideWindow(t: Date, zones: readonly string[], window: StepWindow): boolean {
  const from = minuteOfDay(window.from);
  const to = minuteOfDay(window.to);
  return zones.every((zone) => {
    const local = DateTime.fromMillis(t.getTime(), { zone });
    if (!local.isValid) return true; // an unusable zone is the router's concern (it records it)
    const m = local.hour * 60 + local.minute;
    return m >= from && m < to;
  });
}

/**
 * Earliest instant ≥ t inside the step window in every candidate zone, searched
 * in 5-minute steps over 8 days; null when the zones never share the window.
 */
export function windowStart(t: Date, zones: readonly string[], window: StepWindow): Date | null {
  if (insideWindow(t, zones, window)) return t;
  let probe = Math.ceil(t.getTime() / (5 * MINUTE_MS)) * 5 * MINUTE_MS;
  const end = t.getTime() + 8 * DAY_MS;
  for (; probe <= end; probe += 5 * MINUTE_MS) if (insideWindow(new Date(probe), zones, window)) return new Date(probe);
  return null;
}

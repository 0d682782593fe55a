// Pure timing of campaign steps: when a step is due, the step's local window,
// and the throttle.
//
// Throttle (messages per minute per channel): every planned message takes a
// slot in its channel's ledger. Minute m of channel c holds at most rate(c)
// messages, and the k-th message (0-based) inside a minute is placed at
// m + k·60/rate seconds, so a wave of N messages on a channel is spread over
// at least N/rate minutes from its start (the k-th at ≥ start + k/rate min).
// A slot is taken at the time the router says the message may go (after
// quiet hours, limits and the step window), so messages the router defers to
// the same local morning are spread too, never piled onto one minute.
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
  const base = step.anchor === 'DUE_DATE' ? Date.UTC(dueDate.getUTCFullYear(), dueDate.getUTCMonth(), dueDate.getUTCDate()) : enrolledAt.getTime();
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

/** Per-channel minute ledger of one campaign. `countAt` loads what earlier waves already placed. */
export class ThrottleLedger {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly rates: Partial<Record<string, number>>,
    private readonly countAt: (channel: string, minuteStart: Date) => Promise<number> = async () => 0,
  ) {}

  rate(channel: string): number | undefined {
    const r = this.rates[channel];
    return r && r > 0 ? r : undefined;
  }

  private async count(channel: string, minute: number): Promise<number> {
    const key = `${channel}|${minute}`;
    let n = this.counts.get(key);
    if (n === undefined) {
      n = await this.countAt(channel, new Date(minute));
      this.counts.set(key, n);
    }
    return n;
  }

  /** The earliest slot time ≥ t with room in its minute (t itself when unthrottled). */
  async slot(channel: string, t: Date): Promise<Date> {
    const rate = this.rate(channel);
    if (!rate) return t;
    let minute = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS;
    for (;;) {
      const used = await this.count(channel, minute);
      if (used < rate) return new Date(Math.max(t.getTime(), minute + Math.floor((used * MINUTE_MS) / rate)));
      minute += MINUTE_MS;
    }
  }

  /** True when the minute of t still has room (the slot at t can be taken). */
  async hasRoom(channel: string, t: Date): Promise<boolean> {
    const rate = this.rate(channel);
    if (!rate) return true;
    return (await this.count(channel, Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS)) < rate;
  }

  async take(channel: string, t: Date): Promise<void> {
    if (!this.rate(channel)) return;
    const minute = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS;
    const n = await this.count(channel, minute);
    this.counts.set(`${channel}|${minute}`, n + 1);
  }
}

// How many stored webhook events are processed at once. Intake and
// processing share one event loop: a provider waits for its 2xx (only the
// raw event's INSERT), while processing a stored event is ten times the work.
// Under a burst, processing at full width takes the whole loop and the
// answers queue behind it — the provider sees the wait, and may time out and
// retry. So processing yields while webhooks arrive faster than they are
// processed and the loop is saturated: every window, if all of that holds,
// the width halves (down to one, so processing never stops); otherwise it
// grows back by one up to the maximum.
// Saturation is the loop's utilisation (busy time over the window), not its
// delay, and only while the backlog grows: a steady flow that processing keeps
// up with keeps full width, so replies still reach agents at once; only a
// burst the loop cannot absorb narrows it.
// Nothing is lost by yielding — every event is stored before its 2xx — it is
// processed a little later, at full width once the burst is over.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';

export const MAX_PROCESSING = 8;
/** Event-loop utilisation (0–1, over a window) above which processing yields while webhooks arrive. */
export const BUSY_THRESHOLD = 0.9;
export const WINDOW_MS = 100;

export interface GovernorWindow {
  /** Webhooks that arrived during the window. */
  arrivals: number;
  /** Share of the window the event loop was busy (0–1). */
  utilization: number;
  /** More events wait for processing at the end of the window than at its start. */
  backlogGrew: boolean;
}

/** The next processing width after a window (pure: the policy, apart from its measurements). */
export function nextWidth(current: number, w: GovernorWindow): number {
  if (w.arrivals > 0 && w.backlogGrew && w.utilization > BUSY_THRESHOLD) return Math.max(1, Math.floor(current / 2));
  return Math.min(MAX_PROCESSING, current + 1);
}

/** The running governor: counts arrivals, samples the loop's utilisation each window, adjusts the width. */
export class IntakeGovernor {
  private width = MAX_PROCESSING;
  private arrivals = 0;
  private since: EventLoopUtilization | null = null;
  private backlogAtStart = 0;

  /** `backlog`: how many stored events wait for processing (read at each window's end). */
  constructor(private readonly backlog: () => number) {}
  private timer: NodeJS.Timeout | null = null;

  /** Processing may run this many events at once now. */
  get limit(): number {
    return this.width;
  }

  /** A webhook was stored; starts sampling if it was idle. */
  arrived(): void {
    this.arrivals += 1;
    if (this.timer) return;
    this.since = performance.eventLoopUtilization();
    this.backlogAtStart = this.backlog();
    // Unref'd: sampling never keeps the process alive.
    this.timer = setInterval(() => this.sample(), WINDOW_MS);
    this.timer.unref();
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    const backlog = this.backlog();
    const window = {
      arrivals: this.arrivals,
      utilization: performance.eventLoopUtilization(now, this.since!).utilization,
      backlogGrew: backlog > this.backlogAtStart,
    };
    this.since = now;
    this.backlogAtStart = backlog;
    this.arrivals = 0;
    this.width = nextWidth(this.width, window);
    // Back at full width with nothing arriving: stop sampling until the next webhook.
    if (window.arrivals === 0 && this.width === MAX_PROCESSING) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.since = null;
    this.width = MAX_PROCESSING;
    this.arrivals = 0;
  }
}

// Allowed hours: the earliest instant ≥ t that is inside the allowed window in
// every candidate zone and outside every time the debtor called inconvenient.

import { DAY_MS, formatMinutes, parseHhMm, type ZoneClock } from './local-time.js';
import type { Channel, HoursRule } from './types.js';
import { RouterInputError } from './types.js';

/** The intersection of every hours rule that applies to one channel. */
export interface ChannelWindow {
  from: number;
  to: number;
  /** The rules that set the binding start and end, for the reasons. */
  fromRule: AppliedHoursRule;
  toRule: AppliedHoursRule;
}

export interface AppliedHoursRule extends HoursRule {
  jurisdiction?: string;
}

export interface InconvenientWindow {
  /** Bit n set = ISO weekday n (1..7) on which the window starts. */
  dayMask: number;
  from: number;
  to: number;
  label: string;
}

export function compileHoursRule(rule: HoursRule, field: string): { from: number; to: number } {
  const from = parseHhMm(rule.from, false);
  const to = parseHhMm(rule.to, true);
  if (from === null) throw new RouterInputError(`${field}.from`, `expected "HH:mm", got ${JSON.stringify(rule.from)}`);
  if (to === null) throw new RouterInputError(`${field}.to`, `expected "HH:mm" or "24:00", got ${JSON.stringify(rule.to)}`);
  if (to <= from) throw new RouterInputError(field, `window ${rule.from}–${rule.to} is empty`);
  return { from, to };
}

/** Intersect the hours rules for one channel; null when no rule limits it (letters). */
export function channelWindow(channel: Channel, rules: readonly AppliedHoursRule[]): ChannelWindow | null {
  let window: ChannelWindow | null = null;
  for (const rule of rules) {
    if (!rule.channels.includes(channel)) continue;
    const { from, to } = compileHoursRule(rule, `hours[${rule.rule}]`);
    if (!window) {
      window = { from, to, fromRule: rule, toRule: rule };
      continue;
    }
    if (from > window.from) window = { ...window, from, fromRule: rule };
    if (to < window.to) window = { ...window, to, toRule: rule };
  }
  return window;
}

/** Validate ContactPreferences.inconvenientTimes JSON. */
export function parseInconvenientTimes(raw: unknown): InconvenientWindow[] {
  if (raw === null || raw === undefined) return [];
  const field = 'preferences.inconvenientTimes';
  if (!Array.isArray(raw)) throw new RouterInputError(field, 'expected an array');
  return raw.map((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof item !== 'object' || item === null) throw new RouterInputError(at, 'expected an object');
    const { days, from, to } = item as { days?: unknown; from?: unknown; to?: unknown };
    if (!Array.isArray(days) || days.length === 0) {
      throw new RouterInputError(`${at}.days`, 'expected a non-empty array of ISO weekdays 1..7');
    }
    let dayMask = 0;
    for (const day of days) {
      if (!Number.isInteger(day) || (day as number) < 1 || (day as number) > 7) {
        throw new RouterInputError(`${at}.days`, `ISO weekday must be 1..7, got ${JSON.stringify(day)}`);
      }
      dayMask |= 1 << (day as number);
    }
    const fromMin = parseHhMm(from, false);
    const toMin = parseHhMm(to, true);
    if (fromMin === null) throw new RouterInputError(`${at}.from`, `expected "HH:mm", got ${JSON.stringify(from)}`);
    if (toMin === null) throw new RouterInputError(`${at}.to`, `expected "HH:mm", got ${JSON.stringify(to)}`);
    if (fromMin === toMin) throw new RouterInputError(at, 'from and to are equal; use "00:00"–"24:00" for a whole day');
    return {
      dayMask,
      from: fromMin,
      to: toMin,
      label: `${(days as number[]).join(',')} ${from as string}–${to as string}`,
    };
  });
}

export type HoursBlock =
  | { kind: 'quiet_hours'; zone: string; localMinute: number; window: ChannelWindow }
  | { kind: 'inconvenient_time'; zone: string; localMinute: number; inconvenient: InconvenientWindow };

export interface HoursResult {
  /** Earliest allowed instant ≥ the start, or null when none before the horizon. */
  at: number | null;
  /** The first obstacle met at the start instant (absent when the start was allowed). */
  firstBlock?: HoursBlock;
}

const MAX_STEPS = 400;

/**
 * Earliest instant ≥ start allowed in every zone. Each step moves to the end of the
 * first obstacle found; obstacles only push forward, so the first instant with none
 * is the answer. Zones whose windows never overlap run into the horizon → null.
 */
export function nextAllowedTime(
  start: number,
  clocks: readonly ZoneClock[],
  window: ChannelWindow | null,
  inconvenient: readonly InconvenientWindow[],
  horizonEnd: number,
): HoursResult {
  if (!window && inconvenient.length === 0) return { at: start };
  let t = start;
  let firstBlock: HoursBlock | undefined;
  for (let step = 0; step < MAX_STEPS; step++) {
    if (t > horizonEnd) return { at: null, firstBlock };
    let next = t;
    for (const clock of clocks) {
      const local = clock.local(t);
      if (window && (local.minute < window.from || local.minute >= window.to)) {
        firstBlock ??= { kind: 'quiet_hours', zone: clock.zone, localMinute: local.minute, window };
        next = local.minute < window.from ? clock.instant(local.day, window.from) : clock.instant(local.day + 1, window.from);
        break;
      }
      const end = inconvenientEnd(clock, local.day, local.minute, local.isoWeekday, inconvenient);
      if (end !== null) {
        firstBlock ??= {
          kind: 'inconvenient_time',
          zone: clock.zone,
          localMinute: local.minute,
          inconvenient: end.window,
        };
        next = end.at;
        break;
      }
    }
    if (next === t) return { at: t, firstBlock };
    // Guard against a zero-length step at a DST edge: always make progress.
    t = next > t ? next : t + 60_000;
  }
  return { at: null, firstBlock };
}

function inconvenientEnd(
  clock: ZoneClock,
  day: number,
  minute: number,
  isoWeekday: number,
  windows: readonly InconvenientWindow[],
): { at: number; window: InconvenientWindow } | null {
  const previousWeekday = isoWeekday === 1 ? 7 : isoWeekday - 1;
  for (const w of windows) {
    if (w.from < w.to) {
      if (w.dayMask & (1 << isoWeekday) && minute >= w.from && minute < w.to) {
        return { at: clock.instant(day, w.to), window: w };
      }
      continue;
    }
    // Spans midnight: starts on a listed day at `from`, ends next day at `to`.
    if (w.dayMask & (1 << isoWeekday) && minute >= w.from) return { at: clock.instant(day + 1, w.to), window: w };
    if (w.dayMask & (1 << previousWeekday) && minute < w.to) return { at: clock.instant(day, w.to), window: w };
  }
  return null;
}

export function describeWindow(window: ChannelWindow): string {
  return `${formatMinutes(window.from)}–${formatMinutes(window.to)}`;
}

export { DAY_MS };

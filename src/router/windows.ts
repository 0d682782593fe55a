// Allowed hours: the earliest instant ≥ t that is inside the allowed window in
// every candidate zone and outside every time the debtor called inconvenient.

import { holidayCalendar, type HolidayCalendar } from './holidays.js';
import { DAY_MS, formatMinutes, parseHhMm, type ZoneClock } from './local-time.js';
import type { Channel, HoursRule, NoContactDaysRule } from './types.js';
import { RouterInputError } from './types.js';

/** The intersection of the hours rules that bind one channel on one weekday. */
export interface DayWindow {
  from: number;
  to: number;
  /** The rules that set the binding start and end, for the reasons. */
  fromRule: AppliedHoursRule;
  toRule: AppliedHoursRule;
}

/** Allowed hours of one channel over the week, and the whole days it may not be used. */
export interface ChannelWindow {
  /** Index = ISO weekday 1..7 (0 unused); null = no hours rule binds that weekday. */
  days: readonly (DayWindow | null)[];
  /** Set when every weekday has the same window (all rules bind daily): described as one range. */
  uniform: DayWindow | null;
  noContact: readonly AppliedNoContactDays[];
}

export interface AppliedHoursRule extends HoursRule {
  jurisdiction?: string;
}

export interface AppliedNoContactDays extends NoContactDaysRule {
  jurisdiction?: string;
  /** Bit n set = ISO weekday n closed every week. */
  weekdayMask: number;
  calendar: HolidayCalendar | null;
}

export interface InconvenientWindow {
  /** Bit n set = ISO weekday n (1..7) on which the window starts. */
  dayMask: number;
  from: number;
  to: number;
  label: string;
}

const WEEKDAY_NAMES = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export function weekdayName(isoWeekday: number): string {
  return WEEKDAY_NAMES[isoWeekday] ?? String(isoWeekday);
}

function weekdayMask(days: readonly number[] | undefined, field: string): number {
  if (days === undefined) return 0b1111_1110;
  if (!Array.isArray(days) || days.length === 0)
    throw new RouterInputError(field, 'expected a non-empty array of ISO weekdays 1..7');
  let mask = 0;
  for (const day of days) {
    if (!Number.isInteger(day) || day < 1 || day > 7)
      throw new RouterInputError(field, `ISO weekday must be 1..7, got ${JSON.stringify(day)}`);
    mask |= 1 << day;
  }
  return mask;
}

export function compileHoursRule(rule: HoursRule, field: string): { from: number; to: number; dayMask: number } {
  const from = parseHhMm(rule.from, false);
  const to = parseHhMm(rule.to, true);
  if (from === null) throw new RouterInputError(`${field}.from`, `expected "HH:mm", got ${JSON.stringify(rule.from)}`);
  if (to === null)
    throw new RouterInputError(`${field}.to`, `expected "HH:mm" or "24:00", got ${JSON.stringify(rule.to)}`);
  if (to <= from) throw new RouterInputError(field, `window ${rule.from}–${rule.to} is empty`);
  return { from, to, dayMask: weekdayMask(rule.days, `${field}.days`) };
}

export function compileNoContactDays(
  rule: NoContactDaysRule & { jurisdiction?: string },
  field: string,
): AppliedNoContactDays {
  if (rule.weekdays === undefined && rule.holidays === undefined)
    throw new RouterInputError(field, 'expected weekdays or holidays');
  return {
    ...rule,
    weekdayMask: rule.weekdays === undefined ? 0 : weekdayMask(rule.weekdays, `${field}.weekdays`),
    calendar: rule.holidays ? holidayCalendar(rule.holidays, `${field}.holidays`) : null,
  };
}

function sameDay(a: DayWindow | null, b: DayWindow | null): boolean {
  return (
    a === b || (!!a && !!b && a.from === b.from && a.to === b.to && a.fromRule === b.fromRule && a.toRule === b.toRule)
  );
}

/**
 * Intersect the hours rules for one channel, weekday by weekday, and collect its no-contact
 * days; null when nothing limits it (letters).
 */
export function channelWindow(
  channel: Channel,
  rules: readonly AppliedHoursRule[],
  noContact: readonly AppliedNoContactDays[] = [],
): ChannelWindow | null {
  const days: (DayWindow | null)[] = [null];
  let any = false;
  for (let weekday = 1; weekday <= 7; weekday++) {
    let window: DayWindow | null = null;
    for (const rule of rules) {
      if (!rule.channels.includes(channel)) continue;
      const { from, to, dayMask } = compileHoursRule(rule, `hours[${rule.rule}]`);
      if (!(dayMask & (1 << weekday))) continue;
      if (!window) {
        window = { from, to, fromRule: rule, toRule: rule };
        continue;
      }
      if (from > window.from) window = { ...window, from, fromRule: rule };
      if (to < window.to) window = { ...window, to, toRule: rule };
    }
    // Same weekdays, same object: lets `uniform` and reasons compare by identity.
    const previous = days[weekday - 1] ?? null;
    days.push(weekday > 1 && sameDay(previous, window) ? previous : window);
    if (window) any = true;
  }
  const closed = noContact.filter((rule) => rule.channels.includes(channel));
  if (!any && closed.length === 0) return null;
  const first = days[1] ?? null;
  const uniform = first && days.every((day, i) => i === 0 || day === first) ? first : null;
  return { days, uniform, noContact: closed };
}

/** The no-contact rule that closes local day `day` (ISO weekday `isoWeekday`), with the holiday's name. */
export function closedOn(
  window: ChannelWindow,
  day: number,
  isoWeekday: number,
): { rule: AppliedNoContactDays; holiday: string | null } | null {
  for (const rule of window.noContact) {
    if (rule.weekdayMask & (1 << isoWeekday)) return { rule, holiday: null };
    const holiday = rule.calendar?.holiday(day) ?? null;
    if (holiday) return { rule, holiday };
  }
  return null;
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
  | { kind: 'quiet_hours'; zone: string; localMinute: number; isoWeekday: number; window: DayWindow; uniform: boolean }
  | {
      kind: 'no_contact_day';
      zone: string;
      localMinute: number;
      isoWeekday: number;
      rule: AppliedNoContactDays;
      holiday: string | null;
    }
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
      if (window) {
        const closed = window.noContact.length > 0 ? closedOn(window, local.day, local.isoWeekday) : null;
        if (closed) {
          firstBlock ??= {
            kind: 'no_contact_day',
            zone: clock.zone,
            localMinute: local.minute,
            isoWeekday: local.isoWeekday,
            ...closed,
          };
          next = clock.instant(local.day + 1, 0);
          break;
        }
        const day = window.days[local.isoWeekday];
        if (day && (local.minute < day.from || local.minute >= day.to)) {
          firstBlock ??= {
            kind: 'quiet_hours',
            zone: clock.zone,
            localMinute: local.minute,
            isoWeekday: local.isoWeekday,
            window: day,
            uniform: window.uniform !== null,
          };
          // Past today's end: the start of tomorrow's window (midnight when no rule binds tomorrow).
          next =
            local.minute < day.from
              ? clock.instant(local.day, day.from)
              : clock.instant(local.day + 1, window.days[local.isoWeekday === 7 ? 1 : local.isoWeekday + 1]?.from ?? 0);
          break;
        }
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

export function describeDayWindow(window: DayWindow): string {
  return window.from < window.to ? `${formatMinutes(window.from)}–${formatMinutes(window.to)}` : 'no hours';
}

/** "08:00–21:00", or per weekday ("Mon–Sat 08:00–21:00, Sun 13:00–17:00"), then the closed days. */
export function describeWindow(window: ChannelWindow): string {
  let text = '';
  if (window.uniform) {
    text = describeDayWindow(window.uniform);
  } else {
    const parts: string[] = [];
    for (let start = 1; start <= 7; ) {
      let end = start;
      while (end < 7 && window.days[end + 1] === window.days[start]) end++;
      const day = window.days[start] ?? null;
      const range = start === end ? weekdayName(start) : `${weekdayName(start)}–${weekdayName(end)}`;
      parts.push(`${range} ${day ? describeDayWindow(day) : 'any time'}`);
      start = end + 1;
    }
    text = parts.join(', ');
  }
  for (const rule of window.noContact) {
    const what = [
      rule.weekdayMask
        ? `${[1, 2, 3, 4, 5, 6, 7]
            .filter((d) => rule.weekdayMask & (1 << d))
            .map(weekdayName)
            .join(', ')}`
        : '',
      rule.calendar ? 'public holidays' : '',
    ]
      .filter(Boolean)
      .join(' or ');
    text += `; never on ${what}${rule.jurisdiction ? ` (${rule.jurisdiction})` : ''}`;
  }
  return text;
}

export { DAY_MS };

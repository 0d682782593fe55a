// Public holidays as local day numbers (days since 1970-01-01 in local wall time, the
// numbering ZoneClock.local() gives), from the date-holidays calendars.
//
// date-holidays computes movable feasts (Easter, "third Monday of February") from rules; a
// pack names the entries that count and adds the substitute days its statute defines. The
// library (all countries' data, ~170 ms to load) is required on first use only, so a process
// that never meets a pack with holidays never loads it.

import { createRequire } from 'node:module';
import { DAY_MS } from './local-time.js';
import { RouterInputError, type HolidayCalendarSpec } from './types.js';

interface HolidayEntry {
  date: string;
  name: string;
}
interface HolidaysApi {
  getHolidays(year: number): HolidayEntry[];
}
type HolidaysConstructor = new (...args: unknown[]) => HolidaysApi;

const requireCjs = createRequire(import.meta.url);
let HolidaysClass: HolidaysConstructor | null = null;

function holidaysFor(spec: HolidayCalendarSpec): HolidaysApi {
  HolidaysClass ??= requireCjs('date-holidays') as HolidaysConstructor;
  const options = { languages: ['en'] };
  return spec.state ? new HolidaysClass(spec.country, spec.state, options) : new HolidaysClass(spec.country, options);
}

/** "YYYY-MM-DD…" → day number. */
function dayNumber(date: string): number {
  return Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY_MS;
}

/** ISO weekday of a day number (1970-01-01 was a Thursday). */
function isoWeekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

export interface HolidayDay {
  day: number;
  name: string;
}

export class HolidayCalendar {
  readonly spec: HolidayCalendarSpec;
  private api: HolidaysApi | null = null;
  // Year → day number → holiday name.
  private readonly years = new Map<number, ReadonlyMap<number, string>>();

  constructor(spec: HolidayCalendarSpec) {
    this.spec = spec;
  }

  /** The holiday's name when local day `day` is a holiday, else null. */
  holiday(day: number): string | null {
    const year = new Date(day * DAY_MS).getUTCFullYear();
    let days = this.years.get(year);
    if (!days) {
      days = this.compute(year);
      if (this.years.size > 200) this.years.clear();
      this.years.set(year, days);
    }
    return days.get(day) ?? null;
  }

  /** The holidays of one year in date order (for tests and docs). */
  list(year: number): HolidayDay[] {
    return [...this.compute(year)].map(([day, name]) => ({ day, name })).sort((a, b) => a.day - b.day);
  }

  private compute(year: number): Map<number, string> {
    this.api ??= holidaysFor(this.spec);
    const days = new Map<number, string>();
    const wanted = new Set(this.spec.names);
    for (const entry of this.api.getHolidays(year)) {
      if (!wanted.has(entry.name)) continue;
      const day = dayNumber(entry.date);
      if (!days.has(day)) days.set(day, entry.name);
      for (const sub of this.spec.substitutes ?? []) {
        if (sub.name === entry.name && isoWeekday(day) === sub.onWeekday && !days.has(day + sub.addDays)) {
          days.set(day + sub.addDays, `${entry.name} (substitute day)`);
        }
      }
    }
    return days;
  }
}

const calendars = new WeakMap<HolidayCalendarSpec, HolidayCalendar>();

/** One calendar per spec object (its per-year cache is a pure memo of the library's data). */
export function holidayCalendar(spec: HolidayCalendarSpec, field: string): HolidayCalendar {
  let calendar = calendars.get(spec);
  if (calendar) return calendar;
  if (!/^[A-Z]{2}$/.test(spec.country))
    throw new RouterInputError(`${field}.country`, 'expected an ISO 3166-1 alpha-2 code');
  if (!Array.isArray(spec.names) || spec.names.length === 0)
    throw new RouterInputError(`${field}.names`, 'expected at least one holiday name');
  for (const [i, sub] of (spec.substitutes ?? []).entries()) {
    if (!spec.names.includes(sub.name))
      throw new RouterInputError(`${field}.substitutes[${i}].name`, `"${sub.name}" is not among names`);
    if (!Number.isInteger(sub.addDays) || sub.addDays < 1 || sub.addDays > 7)
      throw new RouterInputError(`${field}.substitutes[${i}].addDays`, 'expected 1..7');
  }
  calendar = new HolidayCalendar(spec);
  calendars.set(spec, calendar);
  return calendar;
}

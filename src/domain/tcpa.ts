// The TCPA's deadline for honouring a revocation of consent: 47 CFR 64.1200(a)(10) — "within
// a reasonable time not to exceed ten business days of receipt" (FCC Report and Order 24-24,
// 2024). The gateway honours a revocation at once (the suppression takes effect when it is
// recorded); the legal deadline is recorded next to it so an agent, an auditor or a creditor
// system reading the API sees both (docs/domain.md §2.3).
import { createRequire } from 'node:module';
import { DateTime } from 'luxon';

export const TCPA_REVOCATION_BUSINESS_DAYS = 10;
/** Business days are counted on the federal calendar, in Eastern time (where the FCC sits). */
const ZONE = 'America/New_York';

interface HolidayEntry {
  date: string;
  type: string;
}
type HolidaysApi = { getHolidays(year: number): HolidayEntry[] };
const requireCjs = createRequire(import.meta.url);
let federal: HolidaysApi | null = null;
const byYear = new Map<number, ReadonlySet<string>>();

/**
 * The federal holidays of a year as ISO dates, with the days they are observed on (5 U.S.C.
 * 6103(b): a Saturday holiday is observed the Friday before, a Sunday one the Monday after),
 * from the date-holidays calendar of the United States.
 */
export function federalHolidays(year: number): ReadonlySet<string> {
  let days = byYear.get(year);
  if (!days) {
    federal ??= new (requireCjs('date-holidays') as new (country: string, opts: object) => HolidaysApi)('US', {
      languages: ['en'],
    });
    days = new Set(
      federal
        .getHolidays(year)
        .filter((h) => h.type === 'public')
        .map((h) => h.date.slice(0, 10)),
    );
    byYear.set(year, days);
  }
  return days;
}

function isBusinessDay(day: DateTime): boolean {
  return day.weekday <= 5 && !federalHolidays(day.year).has(day.toISODate()!);
}

/** The last day (ISO date, Eastern time) on which a revocation received at `receivedAt` must be honoured. */
export function tcpaRevocationDeadline(receivedAt: Date): string {
  let day = DateTime.fromJSDate(receivedAt, { zone: ZONE }).startOf('day');
  let counted = 0;
  while (counted < TCPA_REVOCATION_BUSINESS_DAYS) {
    day = day.plus({ days: 1 });
    if (isBusinessDay(day)) counted += 1;
  }
  return day.toISODate()!;
}

/** Adds `n` business days (weekends and federal holidays excluded) to a date; used for notice receipt dates too. */
export function addBusinessDays(from: Date, n: number): DateTime {
  let day = DateTime.fromJSDate(from, { zone: ZONE }).startOf('day');
  let counted = 0;
  while (counted < n) {
    day = day.plus({ days: 1 });
    if (isBusinessDay(day)) counted += 1;
  }
  return day;
}

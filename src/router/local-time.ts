// Fast local wall-clock arithmetic for IANA zones.
//
// luxon gives DST-correct offsets, but a DateTime per check is too slow for the
// router's target (docs/adr/0007-router-hot-path.md). We ask luxon only for the UTC
// offset and cache it per zone and UTC hour: when the offset at both ends of an hour
// agrees, no transition falls inside it (zones change offset at most once an hour),
// otherwise we ask luxon for the exact instant. Everything else is integer arithmetic.

import { IANAZone } from 'luxon';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
const MAX_CACHED_HOURS = 200_000;

export interface LocalTime {
  /** Days since 1970-01-01 in local wall time. */
  day: number;
  /** Minutes since local midnight, 0..1439. */
  minute: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  isoWeekday: number;
}

export class ZoneClock {
  readonly zone: string;
  private readonly iana: IANAZone;
  // UTC hour number → offset in minutes, or NaN when the offset changes inside that hour.
  private readonly hourOffsets = new Map<number, number>();

  constructor(zone: string) {
    this.zone = zone;
    this.iana = IANAZone.create(zone);
  }

  /** UTC offset in minutes at instant `ts` (ms). */
  offsetMinutes(ts: number): number {
    const hour = Math.floor(ts / HOUR_MS);
    let cached = this.hourOffsets.get(hour);
    if (cached === undefined) {
      const start = this.iana.offset(hour * HOUR_MS);
      const end = this.iana.offset(hour * HOUR_MS + HOUR_MS - 1);
      cached = start === end ? start : Number.NaN;
      if (this.hourOffsets.size >= MAX_CACHED_HOURS) this.hourOffsets.clear();
      this.hourOffsets.set(hour, cached);
    }
    return Number.isNaN(cached) ? this.iana.offset(ts) : cached;
  }

  local(ts: number): LocalTime {
    const localMs = ts + this.offsetMinutes(ts) * MINUTE_MS;
    const day = Math.floor(localMs / DAY_MS);
    const minute = Math.floor((localMs - day * DAY_MS) / MINUTE_MS);
    // 1970-01-01 was a Thursday (ISO 4).
    const isoWeekday = ((((day + 3) % 7) + 7) % 7) + 1;
    return { day, minute, isoWeekday };
  }

  /**
   * The instant at which local wall time reads `minute` minutes after midnight of local `day`.
   * Minutes ≥ 1440 roll into following days. A wall time skipped by a spring-forward
   * gap is shifted forward by the gap (02:30 → 03:30); a repeated fall-back wall time
   * maps to its first occurrence.
   */
  instant(day: number, minute: number): number {
    const localMs = day * DAY_MS + minute * MINUTE_MS;
    const firstGuess = localMs - this.offsetMinutes(localMs) * MINUTE_MS;
    const offset = this.offsetMinutes(firstGuess);
    const candidate = localMs - offset * MINUTE_MS;
    const check = this.offsetMinutes(candidate);
    if (check === offset) return candidate;
    // Only in a gap do the two readings disagree; take the one after the transition.
    return Math.max(candidate, localMs - check * MINUTE_MS);
  }
}

const clocks = new Map<string, ZoneClock>();

/** Shared clock per zone (its offset cache is a pure memo of tz data). Null for unknown zones. */
export function zoneClock(zone: string): ZoneClock | null {
  let clock = clocks.get(zone);
  if (clock) return clock;
  if (!IANAZone.isValidZone(zone)) return null;
  clock = new ZoneClock(zone);
  clocks.set(zone, clock);
  return clock;
}

/** "HH:mm" → minutes after midnight; "24:00" allowed when allow24. Null when malformed. */
export function parseHhMm(value: unknown, allow24: boolean): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59) return null;
  if (hours === 24 && minutes === 0 && allow24) return 1440;
  if (hours > 23) return null;
  return hours * 60 + minutes;
}

export function formatMinutes(minute: number): string {
  const h = Math.floor(minute / 60);
  const m = minute % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/**
 * Same output as Date.prototype.toISOString for years 0000–9999, without allocating a
 * Date: reasons carry several timestamps and this runs in the hot path.
 * Civil-from-days after H. Hinnant, "chrono-compatible low-level date algorithms".
 */
export function isoString(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return new Date(ms).toISOString();
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  const yyyy = year < 1000 ? String(year).padStart(4, '0') : String(year);
  const sss = millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : `${millis}`;
  return `${yyyy}-${pad2(month)}-${pad2(day)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${sss}Z`;
}

// Contact-frequency limits over rolling windows.
//
// Windows are rolling (t − days·24h, t]: stricter than calendar days, since every
// period of N consecutive calendar days that contains t lies inside it for the past.

import { HISTORY_DAYS, REG_F_AFTER_CONVERSATION_DAYS } from './rules.js';
import type { ZoneClock } from './local-time.js';
import type { CapRule, Channel, ContactLimits, ContactPointSnapshot, DebtSnapshot, HistoryEntry } from './types.js';
import { CHANNELS, RouterInputError } from './types.js';
import { DAY_MS } from './local-time.js';

export interface AppliedCap extends CapRule {
  jurisdiction?: string;
}

export interface CapCheck {
  cap: AppliedCap;
  count: number;
  /** When the cap stops blocking; null = never (max 0). */
  freeAt: number | null;
}

/**
 * Outbound attempts that count toward limits, oldest first. Built by insertion (the
 * history is a few dozen entries at most): one array per decision instead of a filtered
 * copy plus the sort's own work array. Entries with equal times keep history order.
 */
export function countedAttempts(history: readonly HistoryEntry[]): HistoryEntry[] {
  const counted: HistoryEntry[] = [];
  for (const h of history) {
    if (h.direction !== 'OUTBOUND' || !h.countsAsAttempt) continue;
    const at = h.at.getTime();
    let i = counted.length;
    counted.push(h);
    for (; i > 0 && (counted[i - 1] as HistoryEntry).at.getTime() > at; i--)
      counted[i] = counted[i - 1] as HistoryEntry;
    counted[i] = h;
  }
  return counted;
}

export function capApplies(cap: CapRule, channel: Channel, toWorkPoint: boolean): boolean {
  if (cap.workOnly && !toWorkPoint) return false;
  return cap.channels === 'ALL' || cap.channels.includes(channel);
}

/** Does attempt `h` count toward `cap` for this debt? (Time aside.) */
function countsToward(
  cap: AppliedCap,
  h: HistoryEntry,
  debtId: string,
  points: readonly ContactPointSnapshot[],
): boolean {
  if (cap.channels !== 'ALL' && !cap.channels.includes(h.channel)) return false;
  if (cap.scope === 'debt' && h.debtId !== null && h.debtId !== debtId) return false;
  if (cap.workOnly && !(h.contactPointId && isWorkPoint(points, h.contactPointId))) return false;
  return true;
}

/** Is `id` one of the debtor's work contact points? Only workOnly caps ask, so no set is built per decision. */
function isWorkPoint(points: readonly ContactPointSnapshot[], id: string): boolean {
  for (const cp of points) if (cp.isWork && cp.id === id) return true;
  return false;
}

/**
 * Is `cap` reached at instant t? Counted entries are those on the cap's channels,
 * about this debt (or no debt — counted against every debt, the stricter reading)
 * when scoped per debt, and to work points (of `points`) when workOnly. `attempts` must be oldest
 * first (countedAttempts), so the counted times come out sorted without collecting them.
 */
export function checkCap(
  cap: AppliedCap,
  t: number,
  attempts: readonly HistoryEntry[],
  debtId: string,
  points: readonly ContactPointSnapshot[],
): CapCheck | null {
  const windowMs = cap.days * DAY_MS;
  const since = t - windowMs;
  let count = 0;
  for (const h of attempts) {
    if (h.at.getTime() > since && countsToward(cap, h, debtId, points)) count++;
  }
  if (count < cap.max) return null;
  if (cap.max === 0) return { cap, count, freeAt: null };
  // Enough of the oldest must leave the window to get below max: the counted entry at
  // index count − max (oldest first) leaves at its time + window.
  let index = 0;
  for (const h of attempts) {
    const at = h.at.getTime();
    if (at <= since || !countsToward(cap, h, debtId, points)) continue;
    if (index === count - cap.max) return { cap, count, freeAt: at + windowMs };
    index++;
  }
  throw new Error('checkCap: counted entries changed between passes'); // unreachable: both passes filter alike
}

/**
 * Reg F §1006.14(b)(2)(i)(B): after a telephone conversation about the debt, no call
 * for 7 days with the conversation day as day 1 — calls resume at local midnight of
 * day 8. With several candidate zones the latest such midnight wins.
 */
export function afterConversationFreeAt(
  debt: DebtSnapshot,
  history: readonly HistoryEntry[],
  clocks: readonly ZoneClock[],
): { conversationAt: number; freeAt: number } | null {
  let last = debt.lastPhoneConversationAt ? debt.lastPhoneConversationAt.getTime() : Number.NEGATIVE_INFINITY;
  for (const h of history) {
    if (h.kind !== 'conversation' || h.channel !== 'VOICE') continue;
    if (h.debtId !== null && h.debtId !== debt.id) continue;
    const at = h.at.getTime();
    if (at > last) last = at;
  }
  if (!Number.isFinite(last)) return null;
  let freeAt = Number.NEGATIVE_INFINITY;
  for (const clock of clocks) {
    const { day } = clock.local(last);
    const resume = clock.instant(day + REG_F_AFTER_CONVERSATION_DAYS, 0);
    if (resume > freeAt) freeAt = resume;
  }
  return { conversationAt: last, freeAt };
}

/** Validate ContactPreferences.contactLimits JSON into caps. */
export function parseContactLimits(raw: unknown): AppliedCap[] {
  if (raw === null || raw === undefined) return [];
  const field = 'preferences.contactLimits';
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new RouterInputError(field, 'expected an object');
  const caps: AppliedCap[] = [];
  for (const [key, value] of Object.entries(raw as ContactLimits)) {
    const at = `${field}.${key}`;
    if (key !== 'ALL' && !CHANNELS.includes(key as Channel)) {
      throw new RouterInputError(at, `unknown channel; expected one of ${CHANNELS.join(', ')} or ALL`);
    }
    if (typeof value !== 'object' || value === null) throw new RouterInputError(at, 'expected {max, days}');
    const { max, days } = value as { max?: unknown; days?: unknown };
    if (!Number.isInteger(max) || (max as number) < 0) {
      throw new RouterInputError(`${at}.max`, 'expected an integer ≥ 0');
    }
    if (!Number.isInteger(days) || (days as number) < 1 || (days as number) > HISTORY_DAYS) {
      throw new RouterInputError(`${at}.days`, `expected an integer 1..${HISTORY_DAYS}`);
    }
    caps.push({
      rule: 'limit.debtor_preference',
      channels: key === 'ALL' ? 'ALL' : [key as Channel],
      scope: 'debtor',
      max: max as number,
      days: days as number,
      citation: 'debtor preference (ContactPreferences.contactLimits); Reg F 12 CFR 1006.6(b)(1), FCA CONC 7.9',
    });
  }
  return caps;
}

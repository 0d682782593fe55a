// Contact-frequency limits over rolling windows.
//
// Windows are rolling (t − days·24h, t]: stricter than calendar days, since every
// period of N consecutive calendar days that contains t lies inside it for the past.

import { HISTORY_DAYS, REG_F_AFTER_CONVERSATION_DAYS } from './rules.js';
import type { ZoneClock } from './local-time.js';
import type { CapRule, Channel, ContactLimits, DebtSnapshot, HistoryEntry } from './types.js';
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

/** Outbound attempts that count toward limits, oldest first. */
export function countedAttempts(history: readonly HistoryEntry[]): HistoryEntry[] {
  const counted = history.filter((h) => h.direction === 'OUTBOUND' && h.countsAsAttempt);
  counted.sort((a, b) => a.at.getTime() - b.at.getTime());
  return counted;
}

export function capApplies(cap: CapRule, channel: Channel, toWorkPoint: boolean): boolean {
  if (cap.workOnly && !toWorkPoint) return false;
  return cap.channels === 'ALL' || cap.channels.includes(channel);
}

/**
 * Is `cap` reached at instant t? Counted entries are those on the cap's channels,
 * about this debt (or no debt — counted against every debt, the stricter reading)
 * when scoped per debt, and to work points when workOnly.
 */
export function checkCap(
  cap: AppliedCap,
  t: number,
  attempts: readonly HistoryEntry[],
  debtId: string,
  workPointIds: ReadonlySet<string>,
): CapCheck | null {
  const windowMs = cap.days * DAY_MS;
  const since = t - windowMs;
  const times: number[] = [];
  for (const h of attempts) {
    const at = h.at.getTime();
    if (at <= since) continue;
    if (cap.channels !== 'ALL' && !cap.channels.includes(h.channel)) continue;
    if (cap.scope === 'debt' && h.debtId !== null && h.debtId !== debtId) continue;
    if (cap.workOnly && !(h.contactPointId && workPointIds.has(h.contactPointId))) continue;
    times.push(at);
  }
  if (times.length < cap.max) return null;
  if (cap.max === 0) return { cap, count: times.length, freeAt: null };
  // Enough of the oldest must leave the window to get below max: entry k leaves at times[k] + window.
  const freeAt = (times[times.length - cap.max] as number) + windowMs;
  return { cap, count: times.length, freeAt };
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

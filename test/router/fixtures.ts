// Snapshot builders for router tests. Every clock is fixed; nothing reads real time.
import type {
  Channel,
  ContactPointSnapshot,
  DebtSnapshot,
  HistoryEntry,
  RouteRequest,
  RouterSnapshot,
} from '../../src/router/index.js';

export const DEBTOR_ID = 'debtor-1';
export const DEBT_ID = 'debt-1';

export function phone(id: string, value: string, overrides: Partial<ContactPointSnapshot> = {}): ContactPointSnapshot {
  return {
    id,
    kind: 'PHONE',
    value,
    isMobile: true,
    isWork: false,
    employerForbidsContact: false,
    country: null,
    region: null,
    postalCode: null,
    timeZone: null,
    valid: true,
    consents: { SMS: 'GRANTED', VOICE: 'GRANTED' },
    ...overrides,
  };
}

export function email(id: string, value: string, overrides: Partial<ContactPointSnapshot> = {}): ContactPointSnapshot {
  return {
    id,
    kind: 'EMAIL',
    value,
    isMobile: null,
    isWork: false,
    employerForbidsContact: false,
    country: null,
    region: null,
    postalCode: null,
    timeZone: null,
    valid: true,
    consents: { EMAIL: 'UNKNOWN' },
    ...overrides,
  };
}

export function address(
  id: string,
  parts: { country: string; region?: string | null; postalCode?: string | null },
  overrides: Partial<ContactPointSnapshot> = {},
): ContactPointSnapshot {
  return {
    id,
    kind: 'ADDRESS',
    value: `1 Example Street, ${parts.postalCode ?? ''} ${parts.region ?? ''} ${parts.country}`.replace(/\s+/g, ' '),
    isMobile: null,
    isWork: false,
    employerForbidsContact: false,
    country: parts.country,
    region: parts.region ?? null,
    postalCode: parts.postalCode ?? null,
    timeZone: null,
    valid: true,
    consents: {},
    ...overrides,
  };
}

export function debt(overrides: Partial<DebtSnapshot> = {}): DebtSnapshot {
  return {
    id: DEBT_ID,
    status: 'OPEN',
    restrictions: [],
    jurisdiction: null,
    lastPhoneConversationAt: null,
    ...overrides,
  };
}

export function attempt(at: string, channel: Channel, overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    at: new Date(at),
    channel,
    debtId: DEBT_ID,
    direction: 'OUTBOUND',
    countsAsAttempt: true,
    kind: channel === 'VOICE' ? 'call' : channel === 'SMS' ? 'text' : channel === 'EMAIL' ? 'email' : 'letter',
    ...overrides,
  };
}

/**
 * A debtor in Albany, NY (ZIP 12207, America/New_York): mobile 518 number with SMS and
 * VOICE consent, personal email with UNKNOWN consent, postal address. No special jurisdiction.
 */
export function snapshot(now: string, overrides: Partial<RouterSnapshot> = {}): RouterSnapshot {
  return {
    debtor: { id: DEBTOR_ID, jurisdiction: null, timeZone: null, restrictions: [], locale: 'en' },
    contactPoints: [
      phone('phone-1', '+15185550100'),
      email('email-1', 'pat@example.com'),
      address('addr-1', { country: 'US', region: 'NY', postalCode: '12207' }),
    ],
    preferences: null,
    debts: [debt()],
    history: [],
    now: new Date(now),
    ...overrides,
  };
}

export function request(overrides: Partial<RouteRequest> = {}): RouteRequest {
  return { debtorId: DEBTOR_ID, debtId: DEBT_ID, intent: 'payment_reminder', ...overrides };
}

/** Seven counted calls for DEBT_ID, one a day, at 15:00Z from `firstDay` (YYYY-MM-DD). */
export function dailyCalls(firstDay: string, count: number): HistoryEntry[] {
  const start = new Date(`${firstDay}T15:00:00Z`).getTime();
  return Array.from({ length: count }, (_, i) => attempt(new Date(start + i * 86_400_000).toISOString(), 'VOICE'));
}

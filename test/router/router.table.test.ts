import { describe, expect, test } from '@jest/globals';
import {
  DEFAULT_CONFIG,
  createRouter,
  route,
  type ContactRestriction,
  type Decision,
  type RouteRequest,
  type RouterSnapshot,
  type RuleId,
} from '../../src/router/index.js';
import { address, attempt, dailyCalls, debt, email, phone, request, snapshot } from './fixtures.js';

interface Case {
  name: string;
  snap: RouterSnapshot;
  req?: Partial<RouteRequest>;
  router?: ReturnType<typeof createRouter>;
  outcome: Decision['outcome'];
  channel?: string;
  contactPointId?: string;
  sendAt?: string;
  /** Rules that must appear among the reasons. */
  rules?: RuleId[];
  /** Rules that must not appear. */
  absent?: RuleId[];
  /** [rule, jurisdiction] pairs that must appear. */
  jurisdiction?: Array<[RuleId, string]>;
  /** [rule, until ISO] pairs that must appear. */
  until?: Array<[RuleId, string]>;
  zones?: string[];
}

// Albany, NY unless stated: America/New_York. June 2026 is EDT (UTC−4); 2026-06-10 is a Wednesday.
const NOON_EDT = '2026-06-10T16:00:00Z';
const AFTERNOON_EDT = '2026-06-10T18:00:00Z';

const bostonPoints = [
  phone('phone-ma', '+16175550100'),
  email('email-ma', 'pat@example.com'),
  address('addr-ma', { country: 'US', region: 'MA', postalCode: '02108' }),
];
const nycPoints = [
  phone('phone-nyc', '+12125550100'),
  email('email-nyc', 'pat@example.com', { consents: { EMAIL: 'GRANTED' } }),
  address('addr-nyc', { country: 'US', region: 'NY', postalCode: '10001' }),
];
const indiaPoints = [
  phone('phone-in', '+919876543210'),
  address('addr-in', { country: 'IN', region: null, postalCode: '400001' }),
];

const cases: Case[] = [
  // ── baseline ──
  {
    name: 'baseline: first default channel (SMS) sent now inside hours',
    snap: snapshot(AFTERNOON_EDT),
    outcome: 'send',
    channel: 'SMS',
    contactPointId: 'phone-1',
    sendAt: AFTERNOON_EDT,
    rules: ['channel.default_order', 'consent.ok', 'hours.allowed', 'timezone.resolved'],
    zones: ['America/New_York'],
  },

  // ── 5. allowed hours ──
  {
    name: 'SMS at 21:30 local is deferred to 08:00 local next day',
    snap: snapshot('2026-06-11T01:30:00Z'),
    req: { channel: 'SMS' },
    outcome: 'defer',
    channel: 'SMS',
    sendAt: '2026-06-11T12:00:00.000Z',
    rules: ['quiet_hours'],
    until: [['quiet_hours', '2026-06-11T12:00:00.000Z']],
  },
  {
    name: 'email at 07:30 local is deferred to 08:00 the same day',
    snap: snapshot('2026-06-10T11:30:00Z'),
    req: { channel: 'EMAIL' },
    outcome: 'defer',
    channel: 'EMAIL',
    sendAt: '2026-06-10T12:00:00.000Z',
    rules: ['quiet_hours'],
  },
  {
    name: 'address in Central, phone in Eastern: 08:30 EDT is 07:30 CDT → wait for 08:00 CDT',
    snap: snapshot('2026-06-10T12:30:00Z', {
      contactPoints: [
        phone('phone-ny', '+12125550100'),
        address('addr-chi', { country: 'US', region: 'IL', postalCode: '60601' }),
      ],
    }),
    outcome: 'defer',
    channel: 'SMS',
    sendAt: '2026-06-10T13:00:00.000Z',
    zones: ['America/Chicago', 'America/New_York'],
    rules: ['quiet_hours'],
  },
  {
    name: 'address in Central, phone in Eastern: 20:10 CDT is 21:10 EDT → next 08:00 CDT',
    snap: snapshot('2026-06-11T01:10:00Z', {
      contactPoints: [
        phone('phone-ny', '+12125550100'),
        address('addr-chi', { country: 'US', region: 'IL', postalCode: '60601' }),
      ],
    }),
    outcome: 'defer',
    channel: 'SMS',
    sendAt: '2026-06-11T13:00:00.000Z',
  },
  {
    name: 'address in Central, phone in Eastern: 13:00 CDT is fine in both',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [
        phone('phone-ny', '+12125550100'),
        address('addr-chi', { country: 'US', region: 'IL', postalCode: '60601' }),
      ],
    }),
    outcome: 'send',
    channel: 'SMS',
  },
  {
    name: 'DST start week: Saturday 2026-03-07 21:00 EST → Sunday 08:00 EDT (12:00Z, not 13:00Z)',
    snap: snapshot('2026-03-08T02:00:00Z'),
    outcome: 'defer',
    channel: 'SMS',
    sendAt: '2026-03-08T12:00:00.000Z',
  },
  {
    name: 'DST start week: Saturday 07:30 EST → 08:00 EST (13:00Z)',
    snap: snapshot('2026-03-07T12:30:00Z'),
    outcome: 'defer',
    sendAt: '2026-03-07T13:00:00.000Z',
  },
  {
    name: 'DST start week: Monday 2026-03-09 08:30 EDT (12:30Z) may send',
    snap: snapshot('2026-03-09T12:30:00Z'),
    outcome: 'send',
  },
  {
    name: 'DST start week: conversation Thursday (EST) blocks calls until day 8 midnight EDT, then 08:00 EDT',
    snap: snapshot('2026-03-09T15:00:00Z', {
      debts: [debt({ lastPhoneConversationAt: new Date('2026-03-05T17:00:00Z') })],
    }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    channel: 'VOICE',
    sendAt: '2026-03-12T12:00:00.000Z',
    until: [['limit.regf_after_conversation', '2026-03-12T04:00:00.000Z']],
  },
  {
    name: 'DST end week: Saturday 2026-10-31 21:30 EDT → Sunday 08:00 EST (13:00Z)',
    snap: snapshot('2026-11-01T01:30:00Z'),
    outcome: 'defer',
    sendAt: '2026-11-01T13:00:00.000Z',
  },
  {
    name: 'DST end week: Sunday 2026-11-01 20:30 EST (01:30Z next day) may send — it would be 21:30 under EDT',
    snap: snapshot('2026-11-02T01:30:00Z'),
    outcome: 'send',
  },
  {
    name: 'DST end week: Monday 2026-11-02 07:45 EST → 08:00 EST (13:00Z)',
    snap: snapshot('2026-11-02T12:45:00Z'),
    outcome: 'defer',
    sendAt: '2026-11-02T13:00:00.000Z',
  },
  {
    name: 'Hawaii (no DST) on the US DST start day: 07:00 HST → 08:00 HST (18:00Z)',
    snap: snapshot('2026-03-08T17:00:00Z', {
      contactPoints: [
        phone('phone-hi', '+18085550100'),
        address('addr-hi', { country: 'US', region: 'HI', postalCode: '96813' }),
      ],
    }),
    outcome: 'defer',
    sendAt: '2026-03-08T18:00:00.000Z',
    zones: ['Pacific/Honolulu'],
  },
  {
    name: 'Hawaii in July: still 08:00 HST = 18:00Z',
    snap: snapshot('2026-07-01T17:00:00Z', {
      contactPoints: [
        phone('phone-hi', '+18085550100'),
        address('addr-hi', { country: 'US', region: 'HI', postalCode: '96813' }),
      ],
    }),
    outcome: 'defer',
    sendAt: '2026-07-01T18:00:00.000Z',
  },
  {
    name: 'explicit debtor time zone wins over phone area code',
    snap: snapshot('2026-07-01T17:00:00Z', {
      debtor: { id: 'debtor-1', jurisdiction: null, timeZone: 'Pacific/Honolulu', restrictions: [], locale: 'en' },
    }),
    outcome: 'defer',
    sendAt: '2026-07-01T18:00:00.000Z',
    zones: ['Pacific/Honolulu'],
  },
  {
    name: 'India: call at 18:30 IST is allowed',
    snap: snapshot('2026-06-10T13:00:00Z', { contactPoints: indiaPoints }),
    req: { channel: 'VOICE' },
    outcome: 'send',
    channel: 'VOICE',
    zones: ['Asia/Kolkata'],
  },
  {
    name: 'India: call at 19:05 IST is deferred to 08:00 IST next day',
    snap: snapshot('2026-06-10T13:35:00Z', { contactPoints: indiaPoints }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    channel: 'VOICE',
    sendAt: '2026-06-11T02:30:00.000Z',
    jurisdiction: [['quiet_hours', 'IN']],
  },
  {
    name: 'India: call at 19:05 IST with notAfter the same evening is refused',
    snap: snapshot('2026-06-10T13:35:00Z', { contactPoints: indiaPoints }),
    req: { channel: 'VOICE', notAfter: new Date('2026-06-10T14:30:00Z') },
    outcome: 'refuse',
    rules: ['quiet_hours', 'window.not_after', 'channel.explicit'],
  },
  {
    name: 'India: the 19:00 limit applies to texts too (stricter reading)',
    snap: snapshot('2026-06-10T13:35:00Z', { contactPoints: indiaPoints }),
    req: { channel: 'SMS' },
    outcome: 'defer',
    sendAt: '2026-06-11T02:30:00.000Z',
  },
  {
    name: 'inconvenient time (weekdays 12:00–14:00) honoured: Wednesday 12:30 → 14:00',
    snap: snapshot('2026-06-10T16:30:00Z', {
      preferences: {
        channelOrder: [],
        inconvenientTimes: [{ days: [1, 2, 3, 4, 5], from: '12:00', to: '14:00' }],
        contactLimits: {},
      },
    }),
    outcome: 'defer',
    sendAt: '2026-06-10T18:00:00.000Z',
    rules: ['inconvenient_time'],
  },
  {
    name: 'inconvenient time on weekdays does not apply on Saturday',
    snap: snapshot('2026-06-13T16:30:00Z', {
      preferences: {
        channelOrder: [],
        inconvenientTimes: [{ days: [1, 2, 3, 4, 5], from: '12:00', to: '14:00' }],
        contactLimits: {},
      },
    }),
    outcome: 'send',
  },
  {
    name: 'inconvenient time across midnight (Wed 20:00 → Thu 09:00): Wed 20:30 → Thu 09:00',
    snap: snapshot('2026-06-11T00:30:00Z', {
      preferences: {
        channelOrder: [],
        inconvenientTimes: [{ days: [3], from: '20:00', to: '09:00' }],
        contactLimits: {},
      },
    }),
    outcome: 'defer',
    sendAt: '2026-06-11T13:00:00.000Z',
    rules: ['inconvenient_time'],
  },
  {
    name: 'reply-to exception: SMS reply at 22:30 to a text the debtor sent at 22:20',
    snap: snapshot('2026-06-11T02:30:00Z'),
    req: { replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-11T02:20:00Z'), contactPointId: 'phone-1' } },
    outcome: 'send',
    channel: 'SMS',
    rules: ['reply_to.exception', 'channel.reply_medium'],
  },
  {
    name: 'reply-to exception is used once: a second reply waits for 08:00',
    snap: snapshot('2026-06-11T02:30:00Z', { history: [attempt('2026-06-11T02:25:00Z', 'SMS')] }),
    req: { replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-11T02:20:00Z'), contactPointId: 'phone-1' } },
    outcome: 'defer',
    sendAt: '2026-06-11T12:00:00.000Z',
  },
  {
    name: 'reply-to exception only in the same medium: email reply to a text waits',
    snap: snapshot('2026-06-11T02:30:00Z'),
    req: { channel: 'EMAIL', replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-11T02:20:00Z') } },
    outcome: 'defer',
    channel: 'EMAIL',
    sendAt: '2026-06-11T12:00:00.000Z',
  },
  {
    name: 'reply-to exception needs a message just initiated: 3 hours old does not count',
    snap: snapshot('2026-06-11T02:30:00Z'),
    req: { replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-10T23:30:00Z') } },
    outcome: 'defer',
    sendAt: '2026-06-11T12:00:00.000Z',
  },
  {
    name: 'notBefore inside hours defers to notBefore',
    snap: snapshot(AFTERNOON_EDT),
    req: { notBefore: new Date('2026-06-11T14:00:00Z') },
    outcome: 'defer',
    sendAt: '2026-06-11T14:00:00.000Z',
    rules: ['window.not_before'],
  },
  {
    name: 'notBefore at 22:00 local is pushed to 08:00',
    snap: snapshot(AFTERNOON_EDT),
    req: { notBefore: new Date('2026-06-11T02:00:00Z') },
    outcome: 'defer',
    sendAt: '2026-06-11T12:00:00.000Z',
  },

  // ── 6. letters ──
  {
    name: 'letter at 23:00 local: no quiet hours',
    snap: snapshot('2026-06-11T03:00:00Z'),
    req: { channel: 'LETTER' },
    outcome: 'send',
    channel: 'LETTER',
    contactPointId: 'addr-1',
    absent: ['quiet_hours'],
  },
  {
    name: 'letter to an invalid address is refused',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [address('addr-bad', { country: 'US', region: 'NY', postalCode: '12207' }, { valid: false })],
    }),
    req: { channel: 'LETTER' },
    outcome: 'refuse',
    rules: ['contact_point.invalid', 'channel.explicit'],
  },

  // ── 4. limits ──
  {
    name: 'Reg F: 7th call in 7 days for one debt is allowed',
    snap: snapshot(NOON_EDT, { history: dailyCalls('2026-06-05', 6) }),
    req: { channel: 'VOICE' },
    outcome: 'send',
    channel: 'VOICE',
  },
  {
    name: 'Reg F: 8th call in 7 days for one debt is deferred until the oldest leaves the window',
    snap: snapshot(NOON_EDT, { history: dailyCalls('2026-06-04', 7) }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    channel: 'VOICE',
    sendAt: '2026-06-11T15:00:00.000Z',
    until: [['limit.regf_call_7in7', '2026-06-11T15:00:00.000Z']],
  },
  {
    name: 'Reg F: calls that did not count (countsAsAttempt false) and calls on another debt are not counted',
    snap: snapshot(NOON_EDT, {
      history: [
        ...dailyCalls('2026-06-04', 5),
        attempt('2026-06-09T15:00:00Z', 'VOICE', { countsAsAttempt: false }),
        attempt('2026-06-10T15:00:00Z', 'VOICE', { debtId: 'debt-other' }),
        attempt('2026-06-10T15:10:00Z', 'VOICE', { direction: 'INBOUND' }),
        attempt('2026-06-10T15:20:00Z', 'SMS'),
      ],
    }),
    req: { channel: 'VOICE' },
    outcome: 'send',
  },
  {
    name: 'Reg F: 8th call deferred into quiet hours lands at 08:00',
    snap: snapshot(NOON_EDT, {
      // The oldest, at 2026-06-04T02:00Z, leaves the window at 06-11T02:00Z = 22:00 EDT → 08:00 EDT next day.
      history: [attempt('2026-06-04T02:00:00Z', 'VOICE'), ...dailyCalls('2026-06-05', 6)],
    }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    sendAt: '2026-06-11T12:00:00.000Z',
    rules: ['limit.regf_call_7in7', 'quiet_hours'],
  },
  {
    name: 'Reg F: call within 7 days after a telephone conversation is deferred to day 8 (08:00 local)',
    snap: snapshot(NOON_EDT, { debts: [debt({ lastPhoneConversationAt: new Date('2026-06-08T18:00:00Z') })] }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    sendAt: '2026-06-15T12:00:00.000Z',
    until: [['limit.regf_after_conversation', '2026-06-15T04:00:00.000Z']],
  },
  {
    name: 'Reg F: call after a conversation with notAfter inside the 7 days is refused, rule named',
    snap: snapshot(NOON_EDT, { debts: [debt({ lastPhoneConversationAt: new Date('2026-06-08T18:00:00Z') })] }),
    req: { channel: 'VOICE', notAfter: new Date('2026-06-12T00:00:00Z') },
    outcome: 'refuse',
    rules: ['limit.regf_after_conversation', 'window.not_after'],
  },
  {
    name: 'Reg F: conversation recorded in history (kind conversation) counts too',
    snap: snapshot(NOON_EDT, { history: [attempt('2026-06-08T18:00:00Z', 'VOICE', { kind: 'conversation' })] }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    sendAt: '2026-06-15T12:00:00.000Z',
  },
  {
    name: 'Reg F: a conversation 8 days ago no longer blocks calls',
    snap: snapshot(NOON_EDT, { debts: [debt({ lastPhoneConversationAt: new Date('2026-06-02T18:00:00Z') })] }),
    req: { channel: 'VOICE' },
    outcome: 'send',
  },
  {
    name: 'Reg F: a conversation does not block texts',
    snap: snapshot(NOON_EDT, { debts: [debt({ lastPhoneConversationAt: new Date('2026-06-08T18:00:00Z') })] }),
    req: { channel: 'SMS' },
    outcome: 'send',
  },
  {
    name: 'Massachusetts: 2nd text in 7 days is allowed',
    snap: snapshot(AFTERNOON_EDT, { contactPoints: bostonPoints, history: [attempt('2026-06-08T15:00:00Z', 'SMS')] }),
    req: { channel: 'SMS' },
    outcome: 'send',
  },
  {
    name: 'Massachusetts: 3rd text in 7 days is deferred',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: bostonPoints,
      history: [attempt('2026-06-05T15:00:00Z', 'SMS'), attempt('2026-06-08T15:00:00Z', 'SMS')],
    }),
    req: { channel: 'SMS' },
    outcome: 'defer',
    sendAt: '2026-06-12T15:00:00.000Z',
    jurisdiction: [['limit.ma_calls_texts', 'US-MA']],
  },
  {
    name: 'Massachusetts: a call and a text count together against the next call',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: bostonPoints,
      history: [attempt('2026-06-05T15:00:00Z', 'VOICE'), attempt('2026-06-08T15:00:00Z', 'SMS')],
    }),
    req: { channel: 'VOICE' },
    outcome: 'defer',
    sendAt: '2026-06-12T15:00:00.000Z',
    rules: ['limit.ma_calls_texts'],
  },
  {
    name: 'NYC: 3rd attempt across channels is allowed',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: nycPoints,
      history: [attempt('2026-06-05T15:00:00Z', 'SMS'), attempt('2026-06-07T15:00:00Z', 'EMAIL')],
    }),
    outcome: 'send',
  },
  {
    name: 'NYC: 4th attempt across channels (text, email, letter before) is deferred',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: nycPoints,
      history: [
        attempt('2026-06-05T15:00:00Z', 'SMS'),
        attempt('2026-06-07T15:00:00Z', 'EMAIL'),
        attempt('2026-06-08T15:00:00Z', 'LETTER'),
      ],
    }),
    outcome: 'defer',
    sendAt: '2026-06-12T15:00:00.000Z',
    jurisdiction: [['limit.nyc_attempts', 'US-NY-NYC']],
  },
  {
    name: 'NYC: email needs written consent — UNKNOWN is refused',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [
        email('email-nyc', 'pat@example.com'),
        address('addr-nyc', { country: 'US', region: 'NY', postalCode: '10001' }),
      ],
    }),
    req: { channel: 'EMAIL' },
    outcome: 'refuse',
    jurisdiction: [['consent.nyc_written_required', 'US-NY-NYC']],
  },
  {
    name: 'Washington: 4th communication in a week is deferred',
    snap: snapshot('2026-06-10T20:00:00Z', {
      contactPoints: [
        phone('phone-wa', '+12065550100'),
        email('email-wa', 'pat@example.com'),
        address('addr-wa', { country: 'US', region: 'WA', postalCode: '98101' }),
      ],
      history: [
        attempt('2026-06-05T18:00:00Z', 'SMS'),
        attempt('2026-06-07T18:00:00Z', 'EMAIL'),
        attempt('2026-06-08T18:00:00Z', 'LETTER'),
      ],
    }),
    req: { channel: 'EMAIL' },
    outcome: 'defer',
    sendAt: '2026-06-12T18:00:00.000Z',
    jurisdiction: [['limit.wa_communications', 'US-WA']],
  },
  {
    name: 'Washington: 07:30 start is not stricter than Reg F — 07:45 PDT still waits for 08:00 (Reg F bound)',
    snap: snapshot('2026-06-10T14:45:00Z', {
      contactPoints: [
        phone('phone-wa', '+12065550100'),
        address('addr-wa', { country: 'US', region: 'WA', postalCode: '98101' }),
      ],
    }),
    outcome: 'defer',
    sendAt: '2026-06-10T15:00:00.000Z',
    rules: ['quiet_hours'],
  },
  {
    name: 'debtor contact limit {"ALL":{max:1,days:7}} defers the next attempt',
    snap: snapshot(AFTERNOON_EDT, {
      preferences: { channelOrder: [], inconvenientTimes: [], contactLimits: { ALL: { max: 1, days: 7 } } },
      history: [attempt('2026-06-08T15:00:00Z', 'EMAIL')],
    }),
    req: { channel: 'SMS' },
    outcome: 'defer',
    sendAt: '2026-06-15T15:00:00.000Z',
    rules: ['limit.debtor_preference'],
  },
  {
    name: 'default SMS cap reached (3/7): falls back to email now, both reasons recorded',
    snap: snapshot(AFTERNOON_EDT, {
      history: [
        attempt('2026-06-05T15:00:00Z', 'SMS'),
        attempt('2026-06-07T15:00:00Z', 'SMS'),
        attempt('2026-06-09T15:00:00Z', 'SMS'),
      ],
    }),
    outcome: 'send',
    channel: 'EMAIL',
    rules: ['preference.fallback', 'limit.sms_default'],
  },

  // ── 3. channel order ──
  {
    name: 'preferred channel opted out → fallback used and the reason recorded',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [
        phone('phone-1', '+15185550100', { consents: { SMS: 'REVOKED', VOICE: 'GRANTED' } }),
        email('email-1', 'pat@example.com'),
      ],
      preferences: { channelOrder: ['SMS', 'EMAIL'], inconvenientTimes: [], contactLimits: {} },
    }),
    outcome: 'send',
    channel: 'EMAIL',
    rules: ['preference.fallback', 'consent.revoked'],
  },
  {
    name: "debtor's preferred channel is used first",
    snap: snapshot(AFTERNOON_EDT, {
      preferences: { channelOrder: ['EMAIL'], inconvenientTimes: [], contactLimits: {} },
    }),
    outcome: 'send',
    channel: 'EMAIL',
    rules: ['channel.preferred'],
  },
  {
    name: 'explicit channel that cannot be used is refused, not swapped',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [
        phone('phone-1', '+15185550100', { consents: { SMS: 'REVOKED', VOICE: 'GRANTED' } }),
        email('email-1', 'pat@example.com'),
      ],
    }),
    req: { channel: 'SMS' },
    outcome: 'refuse',
    rules: ['consent.revoked', 'channel.explicit'],
  },

  // ── 2. consent and contact points ──
  {
    name: 'UNKNOWN consent blocks SMS (TCPA) but allows email',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [
        phone('phone-1', '+15185550100', { consents: { SMS: 'UNKNOWN', VOICE: 'UNKNOWN' } }),
        email('email-1', 'pat@example.com'),
      ],
    }),
    outcome: 'send',
    channel: 'EMAIL',
    rules: ['consent.required', 'preference.fallback'],
  },
  {
    name: 'UNKNOWN consent: explicit SMS refused',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-1', '+15185550100', { consents: { SMS: 'UNKNOWN' } })],
    }),
    req: { channel: 'SMS' },
    outcome: 'refuse',
    rules: ['consent.required'],
  },
  {
    name: 'automated call to a landline with UNKNOWN consent is allowed',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-home', '+15185550111', { isMobile: false, consents: { VOICE: 'UNKNOWN' } })],
    }),
    req: { channel: 'VOICE' },
    outcome: 'send',
  },
  {
    name: 'call to a number of unknown line type with UNKNOWN consent is refused (treated as mobile)',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-x', '+15185550111', { isMobile: null, consents: { VOICE: 'UNKNOWN' } })],
    }),
    req: { channel: 'VOICE' },
    outcome: 'refuse',
    rules: ['consent.required'],
  },
  {
    name: 'invalid contact point skipped, next valid one used',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-bad', '+15185550199', { valid: false }), phone('phone-2', '+15185550122')],
    }),
    outcome: 'send',
    channel: 'SMS',
    contactPointId: 'phone-2',
    rules: ['contact_point.invalid'],
  },
  {
    name: 'email REVOKED blocks email even though UNKNOWN would be fine',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [email('email-1', 'pat@example.com', { consents: { EMAIL: 'REVOKED' } })],
    }),
    req: { channel: 'EMAIL' },
    outcome: 'refuse',
    rules: ['consent.revoked'],
  },
  {
    name: 'work email the debtor never used is skipped',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [email('email-work', 'pat@employer.example', { isWork: true, usedByDebtor: false })],
    }),
    req: { channel: 'EMAIL' },
    outcome: 'refuse',
    rules: ['work.email_not_used'],
  },
  {
    name: 'work email the debtor used is allowed',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [email('email-work', 'pat@employer.example', { isWork: true, usedByDebtor: true })],
    }),
    req: { channel: 'EMAIL' },
    outcome: 'send',
  },
  {
    name: 'work phone where the employer forbids contact is skipped for the personal one',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [
        phone('phone-work', '+15185550133', { isWork: true, employerForbidsContact: true }),
        phone('phone-1', '+15185550100'),
      ],
    }),
    req: { channel: 'VOICE' },
    outcome: 'send',
    contactPointId: 'phone-1',
  },
  {
    name: 'only a forbidden work phone: refused with the rule',
    snap: snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-work', '+15185550133', { isWork: true, employerForbidsContact: true })],
    }),
    req: { channel: 'VOICE' },
    outcome: 'refuse',
    rules: ['work.employer_forbids'],
  },
  {
    name: 'opt-out confirmation: one reply to the number that just texted STOP',
    snap: snapshot('2026-06-11T02:30:00Z', {
      contactPoints: [phone('phone-1', '+15185550100', { consents: { SMS: 'REVOKED', VOICE: 'GRANTED' } })],
    }),
    req: {
      intent: 'opt_out_confirmation',
      channel: 'SMS',
      replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-11T02:29:00Z'), contactPointId: 'phone-1' },
    },
    outcome: 'send',
    rules: ['consent.opt_out_confirmation', 'reply_to.exception'],
  },

  {
    name: 'debt-level jurisdiction (US-MA) applies even with a New York address',
    snap: snapshot(AFTERNOON_EDT, {
      debts: [debt({ jurisdiction: 'US-MA' })],
      history: [attempt('2026-06-05T15:00:00Z', 'SMS'), attempt('2026-06-08T15:00:00Z', 'SMS')],
    }),
    req: { channel: 'SMS' },
    outcome: 'defer',
    jurisdiction: [['limit.ma_calls_texts', 'US-MA']],
  },
  {
    name: 'reply-to exception does not cover a reply the caller pushed past notBefore',
    snap: snapshot('2026-06-11T02:30:00Z'),
    req: {
      notBefore: new Date('2026-06-11T02:45:00Z'),
      replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-11T02:20:00Z'), contactPointId: 'phone-1' },
    },
    outcome: 'defer',
    sendAt: '2026-06-11T12:00:00.000Z',
    absent: ['reply_to.exception'],
  },

  // ── 1. restrictions ──
  {
    name: 'cease communication refuses a reminder',
    snap: snapshot(AFTERNOON_EDT, {
      debtor: {
        id: 'debtor-1',
        jurisdiction: null,
        timeZone: null,
        restrictions: ['CEASE_COMMUNICATION'],
        locale: 'en',
      },
    }),
    outcome: 'refuse',
    rules: ['restriction.cease_communication'],
  },
  {
    name: 'cease communication still permits the §1006.6(c) notice that collection is ending',
    snap: snapshot(AFTERNOON_EDT, {
      debtor: {
        id: 'debtor-1',
        jurisdiction: null,
        timeZone: null,
        restrictions: ['CEASE_COMMUNICATION'],
        locale: 'en',
      },
    }),
    req: { intent: 'collection_ending' },
    outcome: 'send',
    rules: ['restriction.permitted_intent'],
  },
  {
    name: 'cease permitted intents are configurable',
    snap: snapshot(AFTERNOON_EDT, {
      debtor: {
        id: 'debtor-1',
        jurisdiction: null,
        timeZone: null,
        restrictions: ['CEASE_COMMUNICATION'],
        locale: 'en',
      },
    }),
    router: createRouter({
      restrictionAllowedIntents: {
        ...DEFAULT_CONFIG.restrictionAllowedIntents,
        CEASE_COMMUNICATION: ['final_notice_custom'],
      },
    }),
    req: { intent: 'collection_ending' },
    outcome: 'refuse',
    rules: ['restriction.cease_communication'],
  },
  {
    name: 'debt status DISPUTED is handled as a dispute under review',
    snap: snapshot(AFTERNOON_EDT, { debts: [debt({ status: 'DISPUTED' })] }),
    outcome: 'refuse',
    rules: ['restriction.dispute_under_review'],
  },
  {
    name: 'debt status DISPUTED still allows sending the verification',
    snap: snapshot(AFTERNOON_EDT, { debts: [debt({ status: 'DISPUTED' })] }),
    req: { intent: 'dispute_verification', channel: 'LETTER' },
    outcome: 'send',
    channel: 'LETTER',
  },
  {
    name: 'paid debt refuses a reminder',
    snap: snapshot(AFTERNOON_EDT, { debts: [debt({ status: 'PAID' })] }),
    outcome: 'refuse',
    rules: ['debt.closed'],
  },
  {
    name: 'paid debt allows the payment-received message',
    snap: snapshot(AFTERNOON_EDT, { debts: [debt({ status: 'PAID' })] }),
    req: { intent: 'payment_received' },
    outcome: 'send',
  },
];

const restrictions: ContactRestriction[] = [
  'DISPUTE_UNDER_REVIEW',
  'BANKRUPTCY',
  'ATTORNEY_REPRESENTED',
  'DECEASED',
  'MORATORIUM',
];
for (const restriction of restrictions) {
  cases.push({
    name: `debt-level ${restriction} refuses a reminder`,
    snap: snapshot(AFTERNOON_EDT, { debts: [debt({ restrictions: [restriction] })] }),
    outcome: 'refuse',
    rules: [`restriction.${restriction.toLowerCase()}` as RuleId],
  });
  cases.push({
    name: `debtor-level ${restriction} refuses even a letter`,
    snap: snapshot(AFTERNOON_EDT, {
      debtor: { id: 'debtor-1', jurisdiction: null, timeZone: null, restrictions: [restriction], locale: 'en' },
    }),
    req: { channel: 'LETTER' },
    outcome: 'refuse',
    rules: [`restriction.${restriction.toLowerCase()}` as RuleId],
  });
}

describe('channel router rule table', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const decision = (c.router ? c.router.decide.bind(c.router) : route)(request(c.req), c.snap);
    const rules = decision.reasons.map((r) => r.rule);
    const context = `${c.name}\n${JSON.stringify(decision, null, 1)}`;
    expect({ context, outcome: decision.outcome }).toEqual({ context, outcome: c.outcome });
    if (c.channel) expect(decision.outcome !== 'refuse' && decision.channel).toBe(c.channel);
    if (c.contactPointId) expect(decision.outcome !== 'refuse' && decision.contactPointId).toBe(c.contactPointId);
    if (c.sendAt)
      expect(decision.outcome !== 'refuse' && decision.sendAt.toISOString()).toBe(new Date(c.sendAt).toISOString());
    if (c.outcome === 'send')
      expect(decision.outcome !== 'refuse' && decision.sendAt.getTime()).toBe(c.snap.now.getTime());
    if (c.outcome === 'refuse') expect('channel' in decision).toBe(false);
    for (const rule of c.rules ?? [])
      expect({ context, rules }).toEqual({ context, rules: expect.arrayContaining([rule]) });
    for (const rule of c.absent ?? []) expect(rules).not.toContain(rule);
    for (const [rule, jurisdiction] of c.jurisdiction ?? []) {
      expect(decision.reasons).toEqual(expect.arrayContaining([expect.objectContaining({ rule, jurisdiction })]));
    }
    for (const [rule, until] of c.until ?? []) {
      expect(decision.reasons).toEqual(
        expect.arrayContaining([expect.objectContaining({ rule, until: new Date(until) })]),
      );
    }
    if (c.zones) expect([...decision.timeZones].sort()).toEqual([...c.zones].sort());
    // Every reason is explainable: a non-empty human detail.
    for (const reason of decision.reasons) expect(reason.detail.length).toBeGreaterThan(10);
  });
});

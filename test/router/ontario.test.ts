// Ontario (CA-ON): Collection and Debt Settlement Services Act, R.R.O. 1990, Reg. 74, ss. 20–22,
// as written in src/router/jurisdictions/ca-on.ts. Every clock is fixed.
// June 2026 is EDT in Toronto (UTC−4); 2026-06-10 is a Wednesday, 2026-06-14 a Sunday.
import { describe, expect, test } from '@jest/globals';
import {
  DEFAULT_CONFIG,
  addressJurisdiction,
  createRouter,
  explain,
  resolveLocation,
  type Decision,
  type RouteRequest,
  type RouterSnapshot,
  type RuleId,
} from '../../src/router/index.js';
import { address, attempt, debt, email, phone, request, snapshot } from './fixtures.js';

const NOTICE = 'ca_on_collection_notice';
const MAILED_LONG_AGO = new Date('2020-01-06T14:00:00Z');

/** A debtor in Toronto (M5V, America/Toronto) whose written notice went out in May. */
function toronto(now: string, overrides: Partial<RouterSnapshot> = {}): RouterSnapshot {
  return snapshot(now, {
    contactPoints: [
      phone('phone-on', '+14165550100'),
      email('email-on', 'sam@example.ca'),
      address('addr-on', { country: 'CA', region: 'ON', postalCode: 'M5V 2T6' }),
    ],
    debts: [debt({ notices: { [NOTICE]: MAILED_LONG_AGO } })],
    ...overrides,
  });
}

/** The fixtures' debtor, having consented to lift `rule`. */
function debtorWaiving(rule: RuleId): RouterSnapshot['debtor'] {
  return { id: 'debtor-1', jurisdiction: null, timeZone: null, restrictions: [], locale: 'en', waivers: [rule] };
}

function rules(decision: Decision): RuleId[] {
  return decision.reasons.map((r) => r.rule);
}

function sendAt(decision: Decision): string | null {
  return decision.outcome === 'refuse' ? null : decision.sendAt.toISOString();
}

function decide(req: Partial<RouteRequest>, snap: RouterSnapshot, router = createRouter()): Decision {
  return router.decide(request(req), snap);
}

describe('a debtor in Ontario is recognised', () => {
  const at = (cp: ReturnType<typeof address> | ReturnType<typeof phone>) =>
    resolveLocation(snapshot('2026-06-10T16:00:00Z', { contactPoints: [cp] }), DEFAULT_CONFIG);

  test.each([
    ['province code', { country: 'CA', region: 'ON', postalCode: 'M5V 2T6' }],
    ['province name', { country: 'CA', region: 'Ontario', postalCode: null }],
    ['postal code only (Ottawa, K)', { country: 'CA', region: null, postalCode: 'K1A 0B1' }],
    ['postal code without country or space', { country: '', region: null, postalCode: 'l4b3k9' }],
  ])('from an address: %s', (_label, parts) => {
    const cp = address('addr', parts, parts.country === '' ? { country: null } : {});
    expect(addressJurisdiction(cp)).toBe('CA-ON');
    expect(at(cp).jurisdictions).toEqual(['CA-ON']);
  });

  test('a Quebec or British Columbia address is not Ontario', () => {
    expect(addressJurisdiction(address('qc', { country: 'CA', region: 'QC', postalCode: 'H2X 1Y4' }))).toBe('CA-QC');
    expect(addressJurisdiction(address('bc', { country: 'CA', region: null, postalCode: 'V6B 1A1' }))).toBe('CA');
  });

  test('time zone from the postal code: Toronto Eastern, Kenora Central, unknown → both', () => {
    const torontoZone = at(address('a', { country: 'CA', region: 'ON', postalCode: 'M5V 2T6' }));
    expect(torontoZone.zones).toEqual(['America/Toronto']);
    expect(torontoZone.signals[0]?.source).toBe('address.postalCode');
    expect(at(address('a', { country: 'CA', region: 'ON', postalCode: 'P9N 1A1' })).zones).toEqual([
      'America/Winnipeg',
    ]);
    expect([...at(address('a', { country: 'CA', region: 'ON', postalCode: null })).zones].sort()).toEqual([
      'America/Toronto',
      'America/Winnipeg',
    ]);
  });

  test.each([
    ['+14165550100', ['America/Toronto']],
    ['+16135550100', ['America/Toronto']],
    ['+15195550100', ['America/Toronto']],
  ])('from a phone alone: %s → CA-ON', (number, zones) => {
    const location = at(phone('p', number));
    expect(location.jurisdictions).toEqual(['CA-ON']);
    expect(location.zones).toEqual(zones);
  });

  test('a phone of another province stays at country level; an address wins over the phone', () => {
    expect(at(phone('p', '+16045550100')).jurisdictions).toEqual(['CA']); // Vancouver
    const both = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        contactPoints: [
          phone('p', '+14165550100'),
          address('a', { country: 'CA', region: 'BC', postalCode: 'V6B 1A1' }),
        ],
      }),
      DEFAULT_CONFIG,
    );
    expect(both.jurisdictions).toEqual(['CA-BC']);
  });
});

describe('s. 21: written notice by ordinary mail, then six days', () => {
  const now = '2026-06-10T16:00:00Z'; // Wednesday 12:00 EDT

  test('no notice mailed: a reminder is refused on every channel, naming the rule and the notice', () => {
    const decision = decide({}, toronto(now, { debts: [debt()] }));
    expect(decision.outcome).toBe('refuse');
    const notice = decision.reasons.filter((r) => r.rule === 'notice.ca_on_written_notice');
    expect(notice.map((r) => r.channel).sort()).toEqual(['EMAIL', 'LETTER', 'SMS', 'VOICE']);
    expect(notice[0]?.jurisdiction).toBe('CA-ON');
    expect(notice[0]?.detail).toContain(`send intent "${NOTICE}" by LETTER first`);
  });

  test('the notice itself goes by letter at once, and only by letter', () => {
    const letter = decide({ intent: NOTICE, channel: 'LETTER' }, toronto(now, { debts: [debt()] }));
    expect(letter.outcome).toBe('send');
    expect(letter.outcome !== 'refuse' && letter.channel).toBe('LETTER');
    // Without a channel the router skips the held channels and mails it.
    const chosen = decide({ intent: NOTICE }, toronto(now, { debts: [debt()] }));
    expect(chosen.outcome !== 'refuse' && chosen.channel).toBe('LETTER');
    expect(decide({ intent: NOTICE, channel: 'SMS' }, toronto(now, { debts: [debt()] })).outcome).toBe('refuse');
  });

  test('mailed Monday: contact waits six clear days, until Monday local midnight, then hours apply', () => {
    const snap = toronto(now, { debts: [debt({ notices: { [NOTICE]: new Date('2026-06-08T15:00:00Z') } })] });
    const sms = decide({ channel: 'SMS' }, snap);
    expect(sms.outcome).toBe('defer');
    // 2026-06-15 00:00 EDT is 04:00Z; the Reg F baseline then holds texts until 08:00 EDT.
    expect(sms.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'notice.ca_on_written_notice', until: new Date('2026-06-15T04:00:00Z') }),
      ]),
    );
    expect(sendAt(sms)).toBe('2026-06-15T12:00:00.000Z');
    const letter = decide({ channel: 'LETTER' }, snap);
    expect(sendAt(letter)).toBe('2026-06-15T04:00:00.000Z');
    expect(explain(sms)).toContain('ca_on_collection_notice');
  });

  test('a notice mailed long ago no longer holds anything; messages that demand nothing never wait', () => {
    expect(decide({}, toronto(now)).outcome).toBe('send');
    const paid = decide({ intent: 'payment_received' }, toronto(now, { debts: [debt({ status: 'PAID' })] }));
    expect(paid.outcome).toBe('send');
    expect(rules(paid)).not.toContain('notice.ca_on_written_notice');
  });

  test('a notice date that is not a Date is a clear input error', () => {
    const bad = toronto(now, { debts: [debt({ notices: { [NOTICE]: new Date('nope') } })] });
    expect(() => decide({}, bad)).toThrow(/debt\.notices\.ca_on_collection_notice/);
  });
});

describe('s. 22: 07:00–21:00 Monday to Saturday, 13:00–17:00 on Sunday', () => {
  test('Sunday 12:30 EDT waits for 13:00; the Sunday window is named', () => {
    const decision = decide({ channel: 'SMS' }, toronto('2026-06-14T16:30:00Z'));
    expect(sendAt(decision)).toBe('2026-06-14T17:00:00.000Z');
    const quiet = decision.reasons.find((r) => r.rule === 'quiet_hours');
    expect(quiet?.jurisdiction).toBe('CA-ON');
    expect(quiet?.detail).toContain('outside 13:00–17:00 on Sun');
  });

  test('Sunday 15:00 EDT is inside the window', () => {
    const decision = decide({ channel: 'EMAIL' }, toronto('2026-06-14T19:00:00Z'));
    expect(decision.outcome).toBe('send');
    expect(decision.reasons.find((r) => r.rule === 'hours.allowed')?.detail).toContain('Sun 13:00–17:00');
  });

  test('Sunday 17:30 EDT waits for Monday 08:00 EDT (the Reg F baseline binds before Ontario’s 07:00)', () => {
    expect(sendAt(decide({ channel: 'SMS' }, toronto('2026-06-14T21:30:00Z')))).toBe('2026-06-15T12:00:00.000Z');
  });

  test('without the baseline, Ontario’s own 07:00 start binds on Monday', () => {
    const router = createRouter({ baseHours: [] });
    const decision = decide({ channel: 'SMS' }, toronto('2026-06-15T10:30:00Z'), router); // Monday 06:30 EDT
    expect(sendAt(decision)).toBe('2026-06-15T11:00:00.000Z');
    expect(decision.reasons.find((r) => r.rule === 'quiet_hours')?.detail).toContain('07:00–21:00 Monday to Saturday');
  });

  test('Saturday 21:15 EDT waits until Sunday 13:00 EDT, not Sunday 08:00', () => {
    expect(sendAt(decide({ channel: 'SMS' }, toronto('2026-06-14T01:15:00Z')))).toBe('2026-06-14T17:00:00.000Z');
  });

  test('letters keep no hours', () => {
    expect(decide({ channel: 'LETTER' }, toronto('2026-06-14T03:00:00Z')).outcome).toBe('send');
  });
});

describe('s. 22: never on a statutory holiday', () => {
  // Noon in Toronto on each date; computed holidays over several years.
  const holidays: Array<[string, string]> = [
    ['2025-02-17', 'Family Day'],
    ['2026-02-16', 'Family Day'],
    ['2027-02-15', 'Family Day'],
    ['2028-02-21', 'Family Day'],
    ['2025-04-18', 'Good Friday'],
    ['2026-04-03', 'Good Friday'],
    ['2027-03-26', 'Good Friday'],
    ['2028-04-14', 'Good Friday'],
    ['2025-04-21', 'Easter Monday'],
    ['2026-04-06', 'Easter Monday'],
    ['2027-03-29', 'Easter Monday'],
    ['2028-04-17', 'Easter Monday'],
    ['2026-05-18', 'Victoria Day'],
    ['2027-05-24', 'Victoria Day'],
    ['2026-07-01', 'Canada Day'],
    ['2026-09-07', 'Labour Day'],
    ['2026-10-12', 'Thanksgiving'],
    ['2028-10-09', 'Thanksgiving'],
    ['2026-11-11', 'Remembrance Day'],
    ['2026-12-25', 'Christmas Day'],
    ['2026-12-26', 'Boxing Day'],
    ['2027-01-01', "New Year's Day"],
    // Legislation Act, 2006, s. 88 substitute days.
    ['2023-01-02', "New Year's Day (substitute day)"],
    ['2029-07-02', 'Canada Day (substitute day)'],
    ['2022-12-27', 'Christmas Day (substitute day)'],
    ['2027-12-27', 'Christmas Day (substitute day)'],
  ];

  test.each(holidays)('%s (%s): no text, call or email that local day', (date, name) => {
    const noon = new Date(`${date}T12:00:00-05:00`); // 12:00 EST or 13:00 EDT: midday either way
    for (const channel of ['SMS', 'EMAIL', 'VOICE'] as const) {
      const decision = decide({ channel }, toronto(noon.toISOString()));
      expect(decision.outcome).toBe('defer');
      const holiday = decision.reasons.find((r) => r.rule === 'quiet_hours.holiday');
      expect(holiday?.detail).toContain(`is ${name}, a holiday in CA-ON`);
      expect(holiday?.jurisdiction).toBe('CA-ON');
      // Never on that local date in Toronto.
      const local = new Date((decision as { sendAt: Date }).sendAt.getTime() - 5 * 3_600_000)
        .toISOString()
        .slice(0, 10);
      expect(local > date).toBe(true);
    }
  });

  test('Canada Day (Wednesday) defers to Thursday 08:00 EDT; a letter still goes', () => {
    const snap = toronto('2026-07-01T16:00:00Z');
    const sms = decide({ channel: 'SMS' }, snap);
    expect(sendAt(sms)).toBe('2026-07-02T12:00:00.000Z');
    expect(explain(sms)).toContain('Canada Day');
    expect(decide({ channel: 'LETTER' }, snap).outcome).toBe('send');
  });

  test.each([
    ['2026-08-03', 'Civic Holiday: municipal, not statutory'],
    ['2026-04-07', 'the Tuesday after Easter Monday'],
    ['2026-12-29', 'the Tuesday after Boxing Day in a year Christmas is a Friday'],
  ])('%s is an ordinary day (%s)', (date) => {
    expect(decide({ channel: 'SMS' }, toronto(new Date(`${date}T12:00:00-04:00`).toISOString())).outcome).toBe('send');
  });

  test('Good Friday then the weekend: a Good Friday text waits for Saturday 08:00 EDT', () => {
    expect(sendAt(decide({ channel: 'SMS' }, toronto('2026-04-03T16:00:00Z')))).toBe('2026-04-04T12:00:00.000Z');
  });
});

describe('s. 22: after the first conversation, at most 3 contacts in 7 days without consent', () => {
  const now = '2026-06-10T16:00:00Z';
  const three = [
    attempt('2026-06-05T15:00:00Z', 'SMS'),
    attempt('2026-06-06T15:00:00Z', 'EMAIL'),
    attempt('2026-06-08T15:00:00Z', 'VOICE', { kind: 'voicemail' }),
  ];
  const talked = [
    debt({ notices: { [NOTICE]: MAILED_LONG_AGO }, lastPhoneConversationAt: new Date('2026-05-20T15:00:00Z') }),
  ];

  test('a fourth contact is deferred until the oldest leaves the 7 days; email and voicemail count', () => {
    const decision = decide({ channel: 'EMAIL' }, toronto(now, { debts: talked, history: three }));
    expect(decision.outcome).toBe('defer');
    expect(decision.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'limit.ca_on_contacts',
          jurisdiction: 'CA-ON',
          until: new Date('2026-06-12T15:00:00Z'),
        }),
      ]),
    );
    expect(sendAt(decision)).toBe('2026-06-12T15:00:00.000Z');
  });

  test('letters neither count nor are held', () => {
    const withLetters = [
      ...three.slice(0, 2),
      attempt('2026-06-08T15:00:00Z', 'LETTER'),
      attempt('2026-06-09T15:00:00Z', 'LETTER'),
    ];
    expect(decide({ channel: 'EMAIL' }, toronto(now, { debts: talked, history: withLetters })).outcome).toBe('send');
    expect(decide({ channel: 'LETTER' }, toronto(now, { debts: talked, history: three })).outcome).toBe('send');
  });

  test('no conversation known yet: the cap does not apply (a conversation in the history starts it too)', () => {
    const before = decide({ channel: 'EMAIL' }, toronto(now, { history: three }));
    expect(before.outcome).toBe('send');
    expect(rules(before)).not.toContain('limit.ca_on_contacts');
    const viaHistory = [
      ...three,
      attempt('2026-06-01T15:00:00Z', 'VOICE', { kind: 'conversation', countsAsAttempt: false }),
    ];
    expect(decide({ channel: 'EMAIL' }, toronto(now, { history: viaHistory })).outcome).toBe('defer');
  });

  test("with the debtor's consent to more contact the cap is lifted, and the decision says so", () => {
    const snap = toronto(now, {
      debts: talked,
      history: three,
      debtor: debtorWaiving('limit.ca_on_contacts'),
    });
    const decision = decide({ channel: 'EMAIL' }, snap);
    expect(decision.outcome).toBe('send');
    expect(decision.reasons).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: 'limit.waived', jurisdiction: 'CA-ON' })]),
    );
  });

  test('a waiver of a rule that cannot be waived changes nothing (Reg F call cap)', () => {
    const calls = Array.from({ length: 7 }, (_, i) =>
      attempt(new Date(Date.parse('2026-06-04T15:00:00Z') + i * 86_400_000).toISOString(), 'VOICE'),
    );
    const snap = toronto(now, {
      history: calls,
      debtor: debtorWaiving('limit.regf_call_7in7'),
    });
    expect(decide({ channel: 'VOICE' }, snap).outcome).toBe('defer');
  });
});

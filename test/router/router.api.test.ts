import { describe, expect, test } from '@jest/globals';
import {
  DEFAULT_CONFIG,
  HISTORY_DAYS,
  RouterInputError,
  createRouter,
  explain,
  route,
} from '../../src/router/index.js';
import { runRouterBenchmark } from '../../src/router/bench.js';
import { attempt, dailyCalls, phone, request, snapshot } from './fixtures.js';

function inputError(fn: () => unknown): RouterInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RouterInputError) return error;
    throw error;
  }
  throw new Error('expected a RouterInputError');
}

describe('explain()', () => {
  test('a send names the channel, the masked address and why', () => {
    const text = explain(route(request(), snapshot('2026-06-10T18:00:00Z')));
    expect(text).toMatch(/^Send "payment_reminder" by SMS to …0100 now\./);
    expect(text).toContain('default channel order');
    expect(text).not.toContain('+15185550100');
  });

  test('a deferral names the limit and the time', () => {
    const decision = route(
      request({ channel: 'VOICE' }),
      snapshot('2026-06-10T16:00:00Z', { history: dailyCalls('2026-06-04', 7) }),
    );
    const text = explain(decision);
    expect(text).toContain('Deferred: send "payment_reminder" by VOICE');
    expect(text).toContain('2026-06-11T15:00:00.000Z');
    expect(text).toContain('1006.14(b)(2)(i)(A)');
  });

  test('a refusal gives the blocking rule', () => {
    const text = explain(
      route(
        request(),
        snapshot('2026-06-10T18:00:00Z', {
          debtor: { id: 'debtor-1', jurisdiction: null, timeZone: null, restrictions: ['BANKRUPTCY'], locale: 'en' },
        }),
      ),
    );
    expect(text).toMatch(/^Refused "payment_reminder"/);
    expect(text).toContain('BANKRUPTCY');
  });
});

describe('decisions are pure', () => {
  test('same input, same decision; the snapshot is not modified', () => {
    const snap = snapshot('2026-06-11T01:30:00Z', { history: [attempt('2026-06-09T15:00:00Z', 'SMS')] });
    const before = JSON.stringify(snap);
    const first = route(request(), snap);
    const second = route(request(), snap);
    expect(second).toEqual(first);
    expect(JSON.stringify(snap)).toBe(before);
  });

  test('mutating a decision does not leak into the next one (memoised location)', () => {
    const snap = snapshot('2026-06-10T18:00:00Z');
    const first = route(request(), snap);
    first.timeZones.push('Europe/London');
    expect(route(request(), snap).timeZones).toEqual(['America/New_York']);
  });
});

describe('input validation names the field', () => {
  test.each([
    ['debtId', () => route(request({ debtId: 'nope' }), snapshot('2026-06-10T18:00:00Z'))],
    ['debtorId', () => route(request({ debtorId: 'someone-else' }), snapshot('2026-06-10T18:00:00Z'))],
    ['intent', () => route(request({ intent: ' ' }), snapshot('2026-06-10T18:00:00Z'))],
    ['channel', () => route(request({ channel: 'FAX' as never }), snapshot('2026-06-10T18:00:00Z'))],
    [
      'notAfter',
      () =>
        route(
          request({ notBefore: new Date('2026-06-12T00:00:00Z'), notAfter: new Date('2026-06-11T00:00:00Z') }),
          snapshot('2026-06-10T18:00:00Z'),
        ),
    ],
    ['snapshot.now', () => route(request(), snapshot('not a date'))],
    [
      'preferences.contactLimits.SMS.days',
      () =>
        route(
          request(),
          snapshot('2026-06-10T18:00:00Z', {
            preferences: {
              channelOrder: [],
              inconvenientTimes: [],
              contactLimits: { SMS: { max: 2, days: HISTORY_DAYS + 1 } },
            },
          }),
        ),
    ],
    [
      'preferences.inconvenientTimes[0].days',
      () =>
        route(
          request(),
          snapshot('2026-06-10T18:00:00Z', {
            preferences: {
              channelOrder: [],
              inconvenientTimes: [{ days: [0], from: '09:00', to: '10:00' }],
              contactLimits: {},
            },
          }),
        ),
    ],
    ['config.baseHours[0].from', () => createRouter({ baseHours: [{ ...DEFAULT_CONFIG.baseHours[0]!, from: '8am' }] })],
  ])('%s', (field, fn) => {
    expect(inputError(fn).field).toBe(field);
  });
});

describe('configuration overrides', () => {
  test('stricter quiet hours and a different default order', () => {
    const router = createRouter({
      baseHours: [{ ...DEFAULT_CONFIG.baseHours[0]!, from: '09:00', to: '20:00' }],
      defaultChannelOrder: ['EMAIL', 'SMS', 'VOICE', 'LETTER'],
    });
    const decision = router.decide(request(), snapshot('2026-06-10T12:30:00Z')); // 08:30 EDT
    expect(decision.outcome).toBe('defer');
    expect(decision.outcome !== 'refuse' && decision.channel).toBe('EMAIL');
    expect(decision.outcome !== 'refuse' && decision.sendAt.toISOString()).toBe('2026-06-10T13:00:00.000Z');
  });

  test('the Reg F call cap can be tightened but applies per debt', () => {
    const router = createRouter({
      baseCaps: DEFAULT_CONFIG.baseCaps.map((cap) => (cap.rule === 'limit.regf_call_7in7' ? { ...cap, max: 2 } : cap)),
    });
    const snap = snapshot('2026-06-10T16:00:00Z', {
      history: [
        attempt('2026-06-08T15:00:00Z', 'VOICE'),
        attempt('2026-06-09T15:00:00Z', 'VOICE', { debtId: 'debt-2' }),
      ],
      debts: [
        { id: 'debt-1', status: 'OPEN', restrictions: [], jurisdiction: null, lastPhoneConversationAt: null },
        { id: 'debt-2', status: 'OPEN', restrictions: [], jurisdiction: null, lastPhoneConversationAt: null },
      ],
    });
    expect(router.decide(request({ channel: 'VOICE' }), snap).outcome).toBe('send');
    const third = router.decide(request({ channel: 'VOICE' }), {
      ...snap,
      history: [...snap.history, attempt('2026-06-10T13:00:00Z', 'VOICE')],
    });
    expect(third.outcome).toBe('defer');
  });

  test('debtor-level attempts (no debt id) count against every debt', () => {
    const snap = snapshot('2026-06-10T16:00:00Z', {
      contactPoints: [phone('phone-1', '+15185550100')],
      history: dailyCalls('2026-06-04', 7).map((h) => ({ ...h, debtId: null })),
    });
    expect(route(request({ channel: 'VOICE' }), snap).outcome).toBe('defer');
  });
});

describe('benchmark harness', () => {
  test('routes synthetic debtors and reports a rate', () => {
    const result = runRouterBenchmark({ debtors: 300, decisionsPerDebtor: 3, seed: 7 });
    expect(result.decisions).toBe(900);
    expect(result.outcomes.send + result.outcomes.defer + result.outcomes.refuse).toBe(900);
    // Realistic data exercises all three outcomes.
    expect(result.outcomes.send).toBeGreaterThan(0);
    expect(result.outcomes.defer).toBeGreaterThan(0);
    expect(result.outcomes.refuse).toBeGreaterThan(0);
    expect(result.decisionsPerSecond).toBeGreaterThan(0);
  });
});

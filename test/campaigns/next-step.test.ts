// The pure decision of an enrolment's next step (src/campaigns/next-step.ts),
// which both the wave batch and the single path use: stop conditions and
// their order, promise holds, step conditions counted from the previous run,
// due times and windows, and when the following step falls due.
import { describe, expect, it } from '@jest/globals';
import { Prisma, type CampaignStep } from '../../src/generated/prisma/client.js';
import {
  afterStep,
  factsNeeded,
  nextStep,
  optedOutEverywhere,
  type CampaignRules,
  type EnrollmentFacts,
} from '../../src/campaigns/next-step.js';

const DAY = 86_400_000;
const MINUTE = 60_000;
const NOW = new Date('2025-03-10T15:00:00Z');
const ENROLLED = new Date('2025-03-01T12:00:00Z');
const at = (iso: string) => new Date(iso);

function step(position: number, fields: Partial<CampaignStep> = {}): CampaignStep {
  return {
    id: `step-${position}`,
    campaignId: 'c',
    position,
    offsetDays: 0,
    anchor: 'ENROLLMENT',
    intent: 'payment_reminder',
    channel: null,
    conditions: {},
    window: null,
    ...fields,
  };
}

function campaign(
  steps: CampaignStep[],
  stopConditions: string[] = ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL'],
): CampaignRules {
  return { steps, stopConditions };
}

function facts(over: Partial<EnrollmentFacts> = {}, debt: Partial<EnrollmentFacts['debt']> = {}): EnrollmentFacts {
  return {
    nextStep: 1,
    enrolledAt: ENROLLED,
    debt: {
      status: 'OPEN',
      balance: new Prisma.Decimal('120.00'),
      dueDate: at('2025-02-15T00:00:00Z'),
      restrictions: [],
      ...debt,
    },
    debtorRestrictions: [],
    contactPoints: [{ kind: 'PHONE', valid: true, consents: {} }],
    lastReplyAt: null,
    lastPaymentAt: null,
    lastPromiseAt: null,
    activePromiseDue: null,
    previousRunAt: null,
    ...over,
  };
}

describe('nextStep: stop conditions', () => {
  const one = campaign([step(1)], ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL', 'REPLIED']);

  it('completes an enrolment whose steps are all done', () => {
    expect(nextStep(one, facts({ nextStep: 2 }), NOW)).toEqual({ kind: 'complete' });
  });

  it.each([
    ['PAID', {}, { status: 'SETTLED' }],
    ['PAID', {}, { status: 'WRITTEN_OFF' }],
    ['PAID', {}, { balance: new Prisma.Decimal('0.00') }],
    ['CEASE', { debtorRestrictions: ['CEASE_COMMUNICATION'] }, {}],
    ['CEASE', {}, { restrictions: ['CEASE_COMMUNICATION'] }],
    ['DISPUTE', {}, { status: 'DISPUTED' }],
    ['DISPUTE', { debtorRestrictions: ['DISPUTE_UNDER_REVIEW'] }, {}],
    [
      'OPTED_OUT_ALL',
      { contactPoints: [{ kind: 'PHONE', valid: true, consents: { SMS: 'REVOKED', VOICE: 'REVOKED' } }] },
      {},
    ],
    ['REPLIED', { lastReplyAt: at('2025-03-02T08:00:00Z') }, {}],
  ] as const)('stops for %s', (reason, over, debt) => {
    expect(
      nextStep(one, facts(over as Partial<EnrollmentFacts>, debt as Partial<EnrollmentFacts['debt']>), NOW),
    ).toMatchObject({ kind: 'stop', reason, step: { id: 'step-1' } });
  });

  it('names the first reason in the fixed order when several hold', () => {
    const f = facts({ debtorRestrictions: ['CEASE_COMMUNICATION'], lastReplyAt: NOW }, { status: 'PAID' });
    expect(nextStep(one, f, NOW)).toMatchObject({ kind: 'stop', reason: 'PAID' });
  });

  it('ignores a condition the campaign does not stop on', () => {
    const noPaid = campaign([step(1)], ['CEASE']);
    expect(nextStep(noPaid, facts({}, { status: 'PAID' }), NOW)).toMatchObject({ kind: 'send' });
    // REPLIED is not a default stop condition.
    expect(nextStep(campaign([step(1)]), facts({ lastReplyAt: NOW }), NOW)).toMatchObject({ kind: 'send' });
  });

  it('counts only replies after enrolment', () => {
    expect(nextStep(one, facts({ lastReplyAt: at('2025-02-28T00:00:00Z') }), NOW)).toMatchObject({ kind: 'send' });
  });
});

describe('optedOutEverywhere', () => {
  it('needs every channel of every usable point revoked, and at least one usable point', () => {
    expect(optedOutEverywhere([])).toBe(false);
    expect(optedOutEverywhere([{ kind: 'PHONE', valid: false, consents: {} }])).toBe(false);
    expect(optedOutEverywhere([{ kind: 'PHONE', valid: true, consents: { SMS: 'REVOKED' } }])).toBe(false);
    expect(
      optedOutEverywhere([
        { kind: 'PHONE', valid: true, consents: { SMS: 'REVOKED', VOICE: 'REVOKED' } },
        { kind: 'EMAIL', valid: false, consents: {} },
      ]),
    ).toBe(true);
    expect(
      optedOutEverywhere([
        { kind: 'PHONE', valid: true, consents: { SMS: 'REVOKED', VOICE: 'REVOKED' } },
        { kind: 'ADDRESS', valid: true, consents: {} },
      ]),
    ).toBe(false);
  });
});

describe('nextStep: promise holds', () => {
  const c = campaign([step(1)]);
  it('holds until the day after an active promise due today or later', () => {
    expect(nextStep(c, facts({ activePromiseDue: at('2025-03-10T00:00:00Z') }), NOW)).toEqual({
      kind: 'hold',
      step: c.steps[0],
      until: at('2025-03-11T00:00:00Z'),
    });
    expect(nextStep(c, facts({ activePromiseDue: at('2025-03-20T00:00:00Z') }), NOW)).toMatchObject({
      kind: 'hold',
      until: at('2025-03-21T00:00:00Z'),
    });
  });
  it('resumes once the promised date has passed (a broken promise)', () => {
    expect(nextStep(c, facts({ activePromiseDue: at('2025-03-09T00:00:00Z') }), NOW)).toMatchObject({ kind: 'send' });
  });
  it('does not hold when the campaign does not stop on promises', () => {
    expect(
      nextStep(campaign([step(1)], ['PAID']), facts({ activePromiseDue: at('2025-03-20T00:00:00Z') }), NOW),
    ).toMatchObject({ kind: 'send' });
  });
  it('stops before it holds', () => {
    expect(nextStep(c, facts({ activePromiseDue: at('2025-03-20T00:00:00Z') }, { status: 'PAID' }), NOW)).toMatchObject(
      { kind: 'stop', reason: 'PAID' },
    );
  });
});

describe('nextStep: step conditions', () => {
  const conditional = campaign([
    step(1),
    step(2, { conditions: { noReplySincePrevious: true, noPaymentSincePrevious: true, noPromiseSincePrevious: true } }),
  ]);
  const previousRunAt = at('2025-03-05T10:00:00Z');

  it('skips the step with every condition broken since the previous run', () => {
    const f = facts({
      nextStep: 2,
      previousRunAt,
      lastReplyAt: at('2025-03-06T00:00:00Z'),
      lastPaymentAt: at('2025-03-07T00:00:00Z'),
      lastPromiseAt: at('2025-03-08T00:00:00Z'),
    });
    expect(nextStep(conditional, f, NOW)).toEqual({
      kind: 'skip',
      step: conditional.steps[1],
      reasons: ['condition.replied', 'condition.paid', 'condition.promised'],
    });
  });

  it('counts from the previous run, not from enrolment', () => {
    const f = facts({
      nextStep: 2,
      previousRunAt,
      lastReplyAt: at('2025-03-03T00:00:00Z'),
      lastPaymentAt: at('2025-03-05T10:00:00Z'),
    });
    expect(nextStep(conditional, f, NOW)).toMatchObject({ kind: 'send' });
  });

  it('counts from enrolment when there is no previous run', () => {
    expect(nextStep(conditional, facts({ nextStep: 2, lastPaymentAt: at('2025-03-01T12:00:01Z') }), NOW)).toMatchObject(
      { kind: 'skip', reasons: ['condition.paid'] },
    );
  });

  it('leaves a step without conditions alone', () => {
    expect(nextStep(conditional, facts({ nextStep: 1, lastReplyAt: NOW, lastPaymentAt: NOW }), NOW)).toMatchObject({
      kind: 'send',
      step: { id: 'step-1' },
    });
  });
});

describe('nextStep: when to send', () => {
  it('sends a step due in the past now, a future one at its due time', () => {
    const c = campaign([step(1, { offsetDays: 3 }), step(2, { offsetDays: 30 })]);
    expect(nextStep(c, facts(), NOW)).toEqual({ kind: 'send', step: c.steps[0], from: NOW, window: null });
    expect(nextStep(c, facts({ nextStep: 2 }), NOW)).toMatchObject({
      kind: 'send',
      from: new Date(ENROLLED.getTime() + 30 * DAY),
    });
  });

  it('anchors on the due date (00:00 UTC) and passes the step window on', () => {
    const window = { from: '09:00', to: '12:00' };
    const c = campaign([step(1, { anchor: 'DUE_DATE', offsetDays: 40, window })]);
    expect(nextStep(c, facts({}, { dueDate: at('2025-02-15T00:00:00Z') }), NOW)).toEqual({
      kind: 'send',
      step: c.steps[0],
      from: at('2025-03-27T00:00:00Z'),
      window,
    });
  });
});

describe('afterStep', () => {
  const c = campaign([step(1), step(2, { offsetDays: 14 })]);
  const f = { enrolledAt: ENROLLED, dueDate: at('2025-02-15T00:00:00Z') };

  it('completes after the last step', () => {
    expect(afterStep(c, c.steps[1]!, f, NOW, NOW)).toEqual({ status: 'COMPLETED', nextStep: 3, nextStepAt: null });
  });

  it('makes the next step due at its own time, but never within a minute of this one going out or of now', () => {
    expect(afterStep(c, c.steps[0]!, f, NOW, NOW)).toEqual({
      status: 'ACTIVE',
      nextStep: 2,
      nextStepAt: new Date(ENROLLED.getTime() + 14 * DAY),
    });
    const late = new Date('2025-03-20T09:00:00Z');
    expect(afterStep(c, c.steps[0]!, f, NOW, late)).toMatchObject({ nextStepAt: new Date(late.getTime() + MINUTE) });
    const laterNow = new Date('2025-03-25T00:00:00Z');
    expect(afterStep(c, c.steps[0]!, f, laterNow, laterNow)).toMatchObject({
      nextStepAt: new Date(laterNow.getTime() + MINUTE),
    });
  });
});

describe('factsNeeded', () => {
  it('asks only for what the rules of the campaign read', () => {
    expect(factsNeeded(campaign([step(1)], ['PAID']))).toEqual({
      replies: false,
      payments: false,
      promises: false,
      activePromises: false,
    });
    expect(factsNeeded(campaign([step(1)], ['REPLIED', 'PROMISE']))).toEqual({
      replies: true,
      payments: false,
      promises: false,
      activePromises: true,
    });
    expect(
      factsNeeded(
        campaign([step(1, { conditions: { noPaymentSincePrevious: true, noPromiseSincePrevious: true } })], []),
      ),
    ).toEqual({ replies: false, payments: true, promises: true, activePromises: false });
  });
});

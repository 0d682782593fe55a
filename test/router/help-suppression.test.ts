// The HELP answer (only the one reply to the debtor's own text, never after a
// revocation) and the suppression list (addresses that opted out before being
// on file), decided by the pure router over snapshots.
import { describe, expect, it } from '@jest/globals';
import { route, type Decision, type RuleId } from '../../src/router/index.js';
import { attempt, email, phone, request, snapshot } from './fixtures.js';

// Albany, NY: America/New_York, EDT (UTC−4) in June 2026.
const AFTERNOON_EDT = '2026-06-10T18:00:00Z';
const NIGHT_EDT = '2026-06-11T02:30:00Z';

const rules = (d: Decision) => d.reasons.map((r) => r.rule);
const help = (receivedAt: string, contactPointId = 'phone-1') =>
  request({
    intent: 'help',
    channel: 'SMS',
    replyTo: { channel: 'SMS', receivedAt: new Date(receivedAt), contactPointId },
  });

describe('HELP answer', () => {
  it('answers a number without prior express consent, right away, outside contact limits', () => {
    const snap = snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-1', '+15185550100', { consents: { SMS: 'UNKNOWN' } })],
      // the house SMS cap (3 in 7 days) is reached
      history: [
        attempt('2026-06-08T15:00:00Z', 'SMS'),
        attempt('2026-06-09T15:00:00Z', 'SMS'),
        attempt('2026-06-10T15:00:00Z', 'SMS'),
      ],
    });
    const d = route(help('2026-06-10T17:59:30Z'), snap);
    expect(d).toMatchObject({
      outcome: 'send',
      channel: 'SMS',
      contactPointId: 'phone-1',
      sendAt: new Date(AFTERNOON_EDT),
    });
    expect(rules(d)).toEqual(
      expect.arrayContaining([
        'consent.reply_to_request',
        'limit.not_applied',
        'reply_to.exception',
      ] satisfies RuleId[]),
    );
    expect(rules(d)).not.toContain('limit.sms_default');
  });

  it('answers at night under the reply exception', () => {
    const d = route(help('2026-06-11T02:29:00Z'), snapshot(NIGHT_EDT));
    expect(d.outcome).toBe('send');
    expect(rules(d)).toContain('reply_to.exception');
  });

  it('is refused once SMS consent is revoked', () => {
    const snap = snapshot(AFTERNOON_EDT, {
      contactPoints: [phone('phone-1', '+15185550100', { consents: { SMS: 'REVOKED' } })],
    });
    const d = route(help('2026-06-10T17:59:30Z'), snap);
    expect(d.outcome).toBe('refuse');
    expect(rules(d)).toContain('consent.revoked');
  });

  it('is never a message we initiate: no reply context, a stale one, or another medium is refused', () => {
    const snap = snapshot(AFTERNOON_EDT);
    for (const req of [
      request({ intent: 'help', channel: 'SMS' }),
      help('2026-06-10T15:00:00Z'), // 3 hours old: outside the reply window
      request({
        intent: 'help',
        channel: 'EMAIL',
        replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-10T17:59:30Z'), contactPointId: 'phone-1' },
      }),
      request({ intent: 'help', replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-10T17:59:30Z') } }), // sender not on file
    ]) {
      const d = route(req, snap);
      expect(d.outcome).toBe('refuse');
      expect(rules(d)[0]).toBe('reply_to.required');
    }
  });

  it("goes only to the number that asked, never to another of the debtor's numbers", () => {
    const snap = snapshot(AFTERNOON_EDT, {
      contactPoints: [
        phone('phone-1', '+15185550100'),
        phone('phone-2', '+15185550101', { suppressions: { SMS: 'replied STOP' } }),
      ],
    });
    const d = route(help('2026-06-10T17:59:30Z', 'phone-2'), snap);
    expect(d.outcome).toBe('refuse');
    expect(rules(d)).toContain('address.suppressed');
    expect(d.reasons.every((r) => r.contactPointId !== 'phone-1')).toBe(true);
  });
});

describe('suppression list', () => {
  const suppressedPhone = phone('phone-1', '+15185550100', {
    suppressions: { SMS: 'replied with an opt-out keyword (STOP)' },
  });

  it('refuses an SMS to a suppressed number even with consent GRANTED, with the reason', () => {
    const d = route(request({ channel: 'SMS' }), snapshot(AFTERNOON_EDT, { contactPoints: [suppressedPhone] }));
    expect(d.outcome).toBe('refuse');
    const reason = d.reasons.find((r) => r.rule === 'address.suppressed');
    expect(reason).toMatchObject({ channel: 'SMS', contactPointId: 'phone-1' });
    expect(reason!.detail).toContain('opt-out keyword');
  });

  it('binds only its channel: calls to the number and email still route', () => {
    const snap = snapshot(AFTERNOON_EDT, { contactPoints: [suppressedPhone, email('email-1', 'pat@example.com')] });
    expect(route(request({ channel: 'VOICE' }), snap)).toMatchObject({ outcome: 'send', channel: 'VOICE' });
    const d = route(request(), snap);
    expect(d).toMatchObject({ outcome: 'send', channel: 'EMAIL' });
    expect(rules(d)).toContain('address.suppressed');
  });

  it('still lets the one opt-out confirmation through', () => {
    const snap = snapshot(AFTERNOON_EDT, { contactPoints: [{ ...suppressedPhone, consents: { SMS: 'REVOKED' } }] });
    const d = route(
      request({
        intent: 'opt_out_confirmation',
        channel: 'SMS',
        replyTo: { channel: 'SMS', receivedAt: new Date('2026-06-10T17:59:00Z'), contactPointId: 'phone-1' },
      }),
      snap,
    );
    expect(d).toMatchObject({ outcome: 'send', channel: 'SMS' });
  });
});

// The rule an agent reads is the debtor's own: for a UK or an Indian debtor
// deferred by the baseline hours, the inbox cites the FCA's or the RBI's
// rules, never Reg F; a US debtor's explanation still cites Reg F. The
// router's own decisions (and their pinned digest) are left as they are.
import { describe, expect, it } from '@jest/globals';
import { explain, route } from '../../src/router/index.js';
import { localHoursCitation, localiseCitations } from '../../src/inbox/citations.js';
import { address, email, phone, request, snapshot } from '../router/fixtures.js';

// 23:30 in London (GMT, December) and 05:00 in India (IST, UTC+5:30).
const NIGHT = '2026-12-02T23:30:00Z';

describe('rule citations follow the debtor’s jurisdiction', () => {
  const at = (jurisdiction: string, timeZone: string, country: string, number: string) =>
    route(
      request({ channel: 'SMS' }),
      snapshot(NIGHT, {
        debtor: { id: 'debtor-1', jurisdiction, timeZone, restrictions: [], locale: 'en' },
        contactPoints: [phone('phone-1', number), email('email-1', 'pat@example.com'), address('addr-1', { country })],
      }),
    );

  it('a UK debtor at night: the reason and the explanation cite FCA CONC 7.9, not Reg F', () => {
    const d = at('GB', 'Europe/London', 'GB', '+447700900123');
    expect(d.outcome).toBe('defer');
    const reasons = d.reasons.map((r) => localiseCitations(r.detail, 'GB')).join(' ');
    expect(reasons).toMatch(/FCA CONC 7\.9/);
    expect(reasons).not.toMatch(/Reg F|1006/);
    expect(localiseCitations(explain(d), 'GB')).not.toMatch(/Reg F|1006/);
  });

  it('an Indian debtor before 08:00: the RBI guidelines, not Reg F', () => {
    const d = at('IN', 'Asia/Kolkata', 'IN', '+919812345678');
    expect(d.outcome).toBe('defer');
    const reasons = d.reasons.map((r) => localiseCitations(r.detail, 'IN')).join(' ');
    expect(reasons).toMatch(/RBI\/2022-23\/108/);
    expect(reasons).not.toMatch(/Reg F|1006/);
  });

  it('a US debtor (and one of a US state) keeps Reg F', () => {
    const d = route(request({ channel: 'SMS' }), snapshot('2026-12-03T03:30:00Z'));
    const quiet = d.reasons.find((r) => r.rule === 'quiet_hours')!;
    expect(localiseCitations(quiet.detail, 'US-NY')).toMatch(/Reg F 12 CFR 1006\.6\(b\)\(1\)/);
    expect(localHoursCitation('US')).toBeNull();
    expect(localHoursCitation(null)).toBeNull();
    expect(localHoursCitation('CA-ON')).toMatch(/Reg\. 74|Collection and Debt Settlement/);
  });
});

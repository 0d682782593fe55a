// The rule an explanation cites is the debtor's own: a UK or Indian debtor's
// quiet hours cite the FCA's or the RBI's rules, never Reg F; a US debtor's
// still cite Reg F (what the inbox shows an agent comes from these details).
import { describe, expect, it } from '@jest/globals';
import { explain, route } from '../../src/router/index.js';
import { address, email, phone, request, snapshot } from '../router/fixtures.js';

// 23:30 in London (GMT, December), 05:00 in India (IST = UTC+5:30), 18:30 in New York.
const NIGHT = '2026-12-02T23:30:00Z';

describe('rule citations follow the debtor’s jurisdiction', () => {
  const at = (jurisdiction: string, timeZone: string, country: string) =>
    route(request({ channel: 'SMS' }), snapshot(NIGHT, {
      debtor: { id: 'debtor-1', jurisdiction, timeZone, restrictions: [], locale: 'en' },
      contactPoints: [phone('phone-1', country === 'GB' ? '+447700900123' : '+919812345678'), email('email-1', 'pat@example.com'), address('addr-1', { country })],
    }));

  it('a UK debtor at night: deferred under FCA CONC 7.9, not Reg F', () => {
    const d = at('GB', 'Europe/London', 'GB');
    expect(d.outcome).toBe('defer');
    const quiet = d.reasons.find((r) => r.rule === 'quiet_hours')!;
    expect(quiet.detail).toMatch(/FCA CONC 7\.9/);
    expect(quiet.detail).not.toMatch(/Reg F|1006/);
    expect(explain(d)).not.toMatch(/Reg F|1006/);
  });

  it('an Indian debtor before 08:00: deferred under the RBI guidelines, not Reg F', () => {
    const d = at('IN', 'Asia/Kolkata', 'IN');
    expect(d.outcome).toBe('defer');
    const quiet = d.reasons.find((r) => r.rule === 'quiet_hours')!;
    expect(quiet.detail).toMatch(/RBI\/2022-23\/108/);
    expect(quiet.detail).not.toMatch(/Reg F|1006/);
  });

  it('a US debtor at night still cites Reg F', () => {
    const d = route(request({ channel: 'SMS' }), snapshot('2026-12-03T03:30:00Z'));
    const quiet = d.reasons.find((r) => r.rule === 'quiet_hours')!;
    expect(quiet.detail).toMatch(/Reg F 12 CFR 1006\.6\(b\)\(1\)/);
  });
});

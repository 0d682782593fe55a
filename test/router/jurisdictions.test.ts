// The jurisdiction packs as a whole: every file in src/router/jurisdictions/ is a pack the
// router loads, named after its code, with data the router accepts. A new pack is checked here
// without adding anything to this file.
import { readdirSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { JURISDICTION_RULES, createRouter } from '../../src/router/index.js';
import { HolidayCalendar } from '../../src/router/holidays.js';

const files = readdirSync(new URL('../../src/router/jurisdictions/', import.meta.url)).filter((f) => f.endsWith('.ts'));

describe('jurisdiction packs', () => {
  test('every file in the folder is loaded, in code order, and named after its code', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(JURISDICTION_RULES.map((p) => `${p.jurisdiction.toLowerCase()}.ts`)).toEqual([...files].sort());
    expect(JURISDICTION_RULES.map((p) => p.jurisdiction)).toEqual(
      expect.arrayContaining(['US-MA', 'US-WA', 'US-NY-NYC', 'IN', 'GB', 'CA-ON']),
    );
  });

  test('the router accepts every pack (hours, caps, no-contact days, notices)', () => {
    expect(() => createRouter({ jurisdictionRules: JURISDICTION_RULES })).not.toThrow();
  });

  test('every rule id a pack names is in a family the router and explain() know', () => {
    const ids = JURISDICTION_RULES.flatMap((p) => [
      ...p.caps.map((c) => c.rule),
      ...p.hours.map((h) => h.rule),
      ...(p.noContactDays ?? []).map((d) => d.rule),
      ...(p.notice ? [p.notice.rule] : []),
      ...(p.writtenConsent ? [p.writtenConsent.rule] : []),
    ]);
    for (const id of ids) expect(id).toMatch(/^(limit|consent|quiet_hours|hours|notice)(\.[a-z0-9_]+)?$/);
  });

  test('every holiday a pack names is in its calendar in each year 2025–2035', () => {
    for (const pack of JURISDICTION_RULES) {
      for (const rule of pack.noContactDays ?? []) {
        if (!rule.holidays) continue;
        const calendar = new HolidayCalendar(rule.holidays);
        for (let year = 2025; year <= 2035; year++) {
          const names = new Set(calendar.list(year).map((h) => h.name));
          for (const name of rule.holidays.names)
            expect({ pack: pack.jurisdiction, year, name, found: names.has(name) }).toEqual({
              pack: pack.jurisdiction,
              year,
              name,
              found: true,
            });
        }
      }
    }
  });

  test('a pack with a malformed code or window is refused with the field named', () => {
    const base = JURISDICTION_RULES[0]!;
    expect(() => createRouter({ jurisdictionRules: [{ ...base, jurisdiction: 'Ontario' }] })).toThrow(
      /config\.jurisdictionRules\[0\]\.jurisdiction/,
    );
    expect(() =>
      createRouter({
        jurisdictionRules: [
          {
            ...base,
            hours: [
              { rule: 'quiet_hours', channels: ['SMS'], days: [0 as never], from: '08:00', to: '20:00', citation: 'x' },
            ],
          },
        ],
      }),
    ).toThrow(/hours\[0\]\.days/);
    expect(() =>
      createRouter({
        jurisdictionRules: [
          { ...base, noContactDays: [{ rule: 'quiet_hours.holiday', channels: ['SMS'], citation: 'x' }] },
        ],
      }),
    ).toThrow(/noContactDays\[0\]/);
  });
});

import { describe, expect, test } from '@jest/globals';
import { createRequire } from 'node:module';
import {
  DEFAULT_CONFIG,
  addressJurisdiction,
  areaCodeZones,
  countryZones,
  resolveLocation,
} from '../../src/router/index.js';
import { isoString, zoneClock } from '../../src/router/local-time.js';
import { address, phone, snapshot } from './fixtures.js';

const zipcodeToTimezone = createRequire(import.meta.url)('zipcode-to-timezone') as {
  lookup(zip: string): string | null;
};

describe('zipcode-to-timezone data (installed package, checked here)', () => {
  test.each([
    ['02108', 'America/New_York'], // Boston
    ['10001', 'America/New_York'], // Manhattan
    ['60601', 'America/Chicago'], // Chicago
    ['80202', 'America/Denver'], // Denver
    ['85004', 'America/Phoenix'], // Phoenix: no DST
    ['98101', 'America/Los_Angeles'], // Seattle
    ['96813', 'Pacific/Honolulu'], // Honolulu
    ['99501', 'America/Anchorage'], // Anchorage
    ['79901', 'America/Denver'], // El Paso is Mountain although Texas is mostly Central
    ['32501', 'America/Chicago'], // Pensacola: Central, Florida mostly Eastern
    ['49801', 'America/Menominee'], // Iron Mountain MI: Central
  ])('%s → %s', (zip, zone) => {
    expect(zipcodeToTimezone.lookup(zip)).toBe(zone);
  });

  test('known gaps: territories and unknown ZIPs give null, so the router falls back to the region', () => {
    expect(zipcodeToTimezone.lookup('00901')).toBeNull(); // San Juan, PR
    expect(zipcodeToTimezone.lookup('99999')).toBeNull();
    const location = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        contactPoints: [address('addr-pr', { country: 'US', region: 'PR', postalCode: '00901' })],
      }),
      DEFAULT_CONFIG,
    );
    expect(location.zones).toEqual(['America/Puerto_Rico']);
    expect(location.signals[0]?.source).toBe('address.region');
  });
});

describe('area codes (libphonenumber data folded per NPA)', () => {
  test('single-zone area codes', () => {
    expect(areaCodeZones('212')).toEqual(['America/New_York']);
    expect(areaCodeZones('808')).toEqual(['Pacific/Honolulu']);
    expect(areaCodeZones('602')).toEqual(['America/Phoenix']);
    expect(areaCodeZones('416')).toEqual(['America/Toronto']);
  });

  test('multi-zone area codes give every zone', () => {
    expect([...(areaCodeZones('850') ?? [])].sort()).toEqual(['America/Chicago', 'America/New_York']);
    expect(areaCodeZones('208')).toEqual(expect.arrayContaining(['America/Boise', 'America/Los_Angeles']));
    expect(areaCodeZones('541')).toEqual(expect.arrayContaining(['America/Los_Angeles', 'America/Denver']));
  });

  test('unassigned area code is unknown', () => {
    expect(areaCodeZones('999')).toBeUndefined();
  });

  test('a multi-zone area code makes the router intersect both zones', () => {
    const location = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', { contactPoints: [phone('phone-850', '+18505550100')] }),
      DEFAULT_CONFIG,
    );
    expect([...location.zones].sort()).toEqual(['America/Chicago', 'America/New_York']);
  });
});

describe('countries and regions', () => {
  test('single-zone countries resolve to that zone', () => {
    expect(countryZones('IN')).toEqual(['Asia/Kolkata']);
    expect(countryZones('GB')).toEqual(['Europe/London']);
    // Germany lists Büsingen's Europe/Zurich too; same offsets, so one zone is enough.
    expect(countryZones('DE')).toHaveLength(1);
  });

  test('multi-zone countries need a region', () => {
    expect(countryZones('US').length).toBeGreaterThan(5);
    const location = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        contactPoints: [address('addr-tx', { country: 'US', region: 'Texas', postalCode: null })],
      }),
      DEFAULT_CONFIG,
    );
    expect([...location.zones].sort()).toEqual(['America/Chicago', 'America/Denver']);
  });

  test('a foreign phone next to a US address adds its country zone; a same-country phone does not', () => {
    const withUkPhone = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        contactPoints: [
          phone('phone-uk', '+447400123456'),
          address('addr-ny', { country: 'US', region: 'NY', postalCode: '12207' }),
        ],
      }),
      DEFAULT_CONFIG,
    );
    expect([...withUkPhone.zones].sort()).toEqual(['America/New_York', 'Europe/London']);
    const withIndianPhone = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        contactPoints: [phone('phone-in', '+919876543210'), address('addr-in', { country: 'IN' })],
      }),
      DEFAULT_CONFIG,
    );
    expect(withIndianPhone.zones).toEqual(['Asia/Kolkata']);
  });

  test('no signal at all: jurisdiction, else the configured fallback zones', () => {
    const byJurisdiction = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        debtor: { id: 'debtor-1', jurisdiction: 'GB', timeZone: null, restrictions: [], locale: 'en' },
        contactPoints: [],
      }),
      DEFAULT_CONFIG,
    );
    expect(byJurisdiction.zones).toEqual(['Europe/London']);
    const fallback = resolveLocation(snapshot('2026-06-10T16:00:00Z', { contactPoints: [] }), DEFAULT_CONFIG);
    expect(fallback.zones).toEqual([...DEFAULT_CONFIG.fallbackTimeZones]);
    expect(fallback.signals.every((s) => s.source === 'config.fallback')).toBe(true);
  });

  test('an invalid explicit zone is noted and derived zones are used', () => {
    const location = resolveLocation(
      snapshot('2026-06-10T16:00:00Z', {
        debtor: { id: 'debtor-1', jurisdiction: null, timeZone: 'Mars/Olympus_Mons', restrictions: [], locale: 'en' },
      }),
      DEFAULT_CONFIG,
    );
    expect(location.zones).toEqual(['America/New_York']);
    expect(location.notes.map((n) => n.rule)).toEqual(['timezone.invalid']);
  });

  test('jurisdiction from address: state, NYC by ZIP, country', () => {
    expect(addressJurisdiction(address('a', { country: 'US', region: 'MA', postalCode: '02108' }))).toBe('US-MA');
    expect(addressJurisdiction(address('a', { country: 'US', region: 'Massachusetts', postalCode: '02108' }))).toBe(
      'US-MA',
    );
    expect(addressJurisdiction(address('a', { country: 'US', region: 'NY', postalCode: '11201' }))).toBe('US-NY-NYC');
    expect(addressJurisdiction(address('a', { country: 'US', region: 'NY', postalCode: '12207' }))).toBe('US-NY');
    expect(addressJurisdiction(address('a', { country: 'IN', region: null, postalCode: '400001' }))).toBe('IN');
  });
});

describe('local time arithmetic', () => {
  test('isoString matches Date#toISOString', () => {
    const samples = [0, 951_782_400_000, 1_772_935_200_000, 1_793_502_000_123, -86_400_001, 253_402_300_799_999];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor((i * 7_919_993_177) % 4_102_444_800_000));
    for (const ms of samples) expect(isoString(ms)).toBe(new Date(ms).toISOString());
  });

  test('New York offsets around the 2026 transitions', () => {
    const ny = zoneClock('America/New_York')!;
    expect(ny.offsetMinutes(Date.parse('2026-03-08T06:59:59Z'))).toBe(-300);
    expect(ny.offsetMinutes(Date.parse('2026-03-08T07:00:00Z'))).toBe(-240);
    expect(ny.offsetMinutes(Date.parse('2026-11-01T05:59:59Z'))).toBe(-240);
    expect(ny.offsetMinutes(Date.parse('2026-11-01T06:00:00Z'))).toBe(-300);
    const day = ny.local(Date.parse('2026-03-08T12:00:00Z')).day;
    expect(new Date(ny.instant(day, 8 * 60)).toISOString()).toBe('2026-03-08T12:00:00.000Z');
    expect(new Date(ny.instant(day - 1, 8 * 60)).toISOString()).toBe('2026-03-07T13:00:00.000Z');
    // 02:30 does not exist on the spring-forward day: shifted forward by the gap.
    expect(new Date(ny.instant(day, 150)).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    expect(ny.local(Date.parse('2026-03-08T12:00:00Z')).isoWeekday).toBe(7);
  });

  test('zones with half-hour offsets', () => {
    const kolkata = zoneClock('Asia/Kolkata')!;
    const local = kolkata.local(Date.parse('2026-06-10T13:35:00Z'));
    expect(local.minute).toBe(19 * 60 + 5);
    expect(new Date(kolkata.instant(local.day + 1, 8 * 60)).toISOString()).toBe('2026-06-11T02:30:00.000Z');
  });
});

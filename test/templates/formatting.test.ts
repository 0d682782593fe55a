import { describe, expect, it } from '@jest/globals';
import { formatDate, formatMoney } from '../../src/templates/index.js';
import { formatCount } from '../../src/templates/formatting.js';
import { minorDigits } from '../../src/domain/debtors.js';

describe('formatMoney', () => {
  it.each([
    ['1234.5000', 'USD', 'en-US', '$1,234.50'],
    ['1234.5000', 'USD', 'en', '$1,234.50'],
    ['12345678.5', 'INR', 'en-IN', '₹1,23,45,678.50'],
    ['100000', 'INR', 'en-IN', '₹1,00,000.00'],
    ['1234.5', 'EUR', 'es', '1234,50\u00a0€'],
    ['12345.5', 'EUR', 'es', '12.345,50\u00a0€'],
    ['1234.5', 'GBP', 'en-GB', '£1,234.50'],
    ['1234.5', 'MXN', 'es-MX', '$1,234.50'],
    ['1234.5', 'JPY', 'en-US', '¥1,235'],
    ['0', 'USD', 'en-US', '$0.00'],
    ['-25.10', 'USD', 'en-US', '-$25.10'],
  ])('%s %s in %s → %s', (amount, currency, locale, expected) => {
    expect(formatMoney(amount, currency, locale)).toBe(expected);
  });

  it('is exact for values beyond double precision', () => {
    // As a double 12345678901234.56 is 12345678901234.5605…; digits must come from the string.
    expect(formatMoney('12345678901234.5600', 'USD', 'en-US')).toBe('$12,345,678,901,234.56');
    expect(formatMoney('98765432109876543.21', 'USD', 'en-US')).toBe('$98,765,432,109,876,543.21');
    expect(formatMoney('12345678901234.5600', 'INR', 'en-IN')).toBe('₹1,23,45,67,89,01,234.56');
  });

  it('rounds half away from zero on the exact decimal', () => {
    // 1.005 as a double is 1.00499999…, which would round down.
    expect(formatMoney('1.005', 'USD', 'en-US')).toBe('$1.01');
    expect(formatMoney('1234.5049', 'USD', 'en-US')).toBe('$1,234.50');
    expect(formatMoney('1234.5050', 'USD', 'en-US')).toBe('$1,234.51');
  });

  it('rejects anything that is not a plain decimal string or ISO currency', () => {
    for (const bad of ['12,50', '1e3', '', ' ', '$12', '1.2.3', 'NaN']) {
      expect(() => formatMoney(bad, 'USD', 'en-US')).toThrow(/decimal string/);
    }
    expect(() => formatMoney('1', 'dollars', 'en-US')).toThrow(/ISO 4217/);
  });
});

describe('formatDate', () => {
  it('formats calendar dates per locale without shifting the day', () => {
    expect(formatDate('2025-03-15', 'en-US')).toBe('March 15, 2025');
    expect(formatDate('2025-03-15', 'en-GB')).toBe('15 March 2025');
    expect(formatDate('2025-03-15', 'es')).toBe('15 de marzo de 2025');
    expect(formatDate('2025-01-01T23:30:00-08:00', 'en-US')).toBe('January 1, 2025');
  });

  it('rejects impossible dates', () => {
    expect(() => formatDate('2025-02-29', 'en')).toThrow(/does not exist/);
    expect(() => formatDate('15/03/2025', 'en')).toThrow(/ISO date/);
  });
});

describe('formatter reuse across calls', () => {
  it('keeps each locale and currency apart when calls interleave (formatters are cached per key)', () => {
    for (let round = 0; round < 3; round++) {
      expect(formatMoney('1234.5', 'USD', 'en-US')).toBe('$1,234.50');
      expect(formatMoney('1234.5', 'EUR', 'es')).toBe('1234,50\u00a0€');
      expect(formatMoney('1234.5', 'JPY', 'en-US')).toBe('¥1,235');
      expect(formatMoney('12345678.5', 'INR', 'en-IN')).toBe('₹1,23,45,678.50');
      expect(formatDate('2025-03-15', 'en-GB')).toBe('15 March 2025');
      expect(formatDate('2025-03-15', 'es')).toBe('15 de marzo de 2025');
      expect(formatCount(1234, 'en-US')).toBe('1,234');
      expect(formatCount('1234', 'es')).toBe('1234');
      expect(minorDigits('USD')).toBe(2);
      expect(minorDigits('JPY')).toBe(0);
      expect(minorDigits('KWD')).toBe(3);
    }
  });

  it('refuses a bad locale every time, not only the first (a failure is never cached)', () => {
    for (let round = 0; round < 2; round++) {
      expect(() => formatMoney('1', 'USD', 'not a locale!')).toThrow(/cannot format currency USD for locale/);
    }
    expect(minorDigits('usd!')).toBe(2);
    expect(minorDigits('usd!')).toBe(2);
  });
});

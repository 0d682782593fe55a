import { describe, expect, it } from '@jest/globals';
import { measureSms } from '../../src/templates/index.js';

describe('measureSms', () => {
  it('keeps plain GSM text GSM-7: 160 characters in one segment, 161 in two', () => {
    expect(measureSms('a'.repeat(160))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(measureSms('a'.repeat(161))).toEqual({ encoding: 'GSM-7', segments: 2, units: 161 });
    // Concatenated parts carry 153 septets each.
    expect(measureSms('a'.repeat(306)).segments).toBe(2);
    expect(measureSms('a'.repeat(307)).segments).toBe(3);
  });

  it('counts GSM extension characters (€ [ ] { } ~ ^ | \\) as two septets', () => {
    expect(measureSms('€'.repeat(80))).toEqual({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(measureSms('€'.repeat(81))).toMatchObject({ encoding: 'GSM-7', segments: 2, units: 162 });
    expect(measureSms(`[${'a'.repeat(158)}`)).toMatchObject({ segments: 1, units: 160 });
    expect(measureSms(`[${'a'.repeat(159)}`)).toMatchObject({ segments: 2, units: 161 });
    expect(measureSms('{}~^|\\')).toMatchObject({ encoding: 'GSM-7', units: 12 });
  });

  it('keeps Spanish letters of the GSM table (é ñ ¿ ¡ ü) in GSM-7', () => {
    expect(measureSms('¿Señor Müller? ¡Café!')).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('switches to UCS-2 for other characters: 70 in one segment, 71 in two', () => {
    expect(measureSms(`á${'a'.repeat(69)}`)).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(measureSms(`á${'a'.repeat(70)}`)).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
    expect(measureSms(`á${'a'.repeat(133)}`).segments).toBe(2);
    expect(measureSms(`á${'a'.repeat(134)}`).segments).toBe(3);
  });

  it('counts an emoji as two UCS-2 units', () => {
    expect(measureSms(`😀${'a'.repeat(68)}`)).toEqual({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(measureSms(`😀${'a'.repeat(69)}`)).toEqual({ encoding: 'UCS-2', segments: 2, units: 71 });
  });
});

// measureSms counts plain GSM-7 text arithmetically (the calculator is
// quadratic and dominated wave planning); it must agree with the calculator.
import { describe, expect, it } from '@jest/globals';
import { SegmentedMessage } from 'sms-segments-calculator';
import { measureSms } from '../../src/templates/index.js';

function calculator(text: string) {
  const m = new SegmentedMessage(text, 'auto');
  return {
    encoding: m.encodingName,
    segments: m.segmentsCount,
    units: m.encodingName === 'GSM-7' ? m.messageSize / 7 : m.messageSize / 16,
  };
}

describe('measureSms', () => {
  it('agrees with the calculator at every length around the segment boundaries, for basic, extension, CR LF and UCS-2 text', () => {
    const alphabets = [
      'abcXYZ 0123456789.,:;!?@$£¥èéΔ_ΦΓ\n',
      'abc €[]{}~^|\\ xyz',
      'line\r\nbreak ',
      'héllo ✓ ünïcode 😀 ',
    ];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const alphabet of alphabets) {
      for (let n = 0; n <= 480; n++) {
        let text = '';
        for (let i = 0; i < n; i++) text += alphabet[Math.floor(random() * alphabet.length)];
        expect([n, measureSms(text)]).toEqual([n, calculator(text)]);
      }
    }
  });

  it('counts a 300-character reminder in far less than a millisecond', () => {
    const text = `Hi Debtor, this is Acme Collections, a debt collector. Your balance of $120.50 was due 2026-01-15. Pay at https://pay.example/abc. ${'x'.repeat(150)} Reply STOP to opt out.`;
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) measureSms(text);
    expect((performance.now() - t0) / 1000).toBeLessThan(0.1);
    expect(measureSms(text)).toEqual(calculator(text));
  });
});

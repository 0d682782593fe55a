// SMS encoding and segment count, as carriers and Twilio bill them. Uses
// Twilio's own calculator (sms-segments-calculator): GSM-7 when every character
// is in the GSM 03.38 default or extension table (extension characters such as
// € [ ] { } ~ ^ | \ take two septets), else UCS-2. Single segment: 160 septets
// or 70 UCS-2 units; concatenated parts: 153 / 67 (the rest is the UDH).
import { SegmentedMessage } from 'sms-segments-calculator';
import unicodeToGsmModule from 'sms-segments-calculator/dist/libs/UnicodeToGSM.js';

// The calculator's own GSM 03.38 table: char code → septets (one for the basic table, two for the extension).
const unicodeToGsm = ((unicodeToGsmModule as unknown as { default?: unknown }).default ?? unicodeToGsmModule) as Record<
  number,
  number[] | undefined
>;
/** The same table flattened for the hot loop: septets per UTF-16 code unit (0 = not in GSM 03.38). */
const SEPTETS_BY_CODE = new Uint8Array(0x10000);
for (const [code, septets] of Object.entries(unicodeToGsm)) {
  if (septets && Number(code) < 0x10000) SEPTETS_BY_CODE[Number(code)] = septets.length;
}
/** Septets per segment: 160 alone; 153 in a concatenated message (the rest is the UDH). */
const SINGLE_SEPTETS = 160;
const PART_SEPTETS = 153;

/**
 * Linear-time count for text made only of basic-table GSM-7 characters (the
 * common case), where every character is one septet and the calculator's
 * segment filling reduces to arithmetic. The calculator itself re-sums each
 * segment per character (quadratic; ~1.4 ms for a 300-character reminder),
 * which dominated campaign waves. null: leave it to the calculator
 * (extension characters, CR LF pairs and UCS-2 split differently at boundaries).
 */
function basicGsmMeasure(text: string): SmsMeasure | null {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (SEPTETS_BY_CODE[code] !== 1) return null;
    if (code === 13 && text.charCodeAt(i + 1) === 10) return null;
  }
  const units = text.length;
  return { encoding: 'GSM-7', segments: units <= SINGLE_SEPTETS ? 1 : Math.ceil(units / PART_SEPTETS), units };
}

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsMeasure {
  encoding: SmsEncoding;
  segments: number;
  /** Billable units: septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
}

export function measureSms(text: string): SmsMeasure {
  const fast = basicGsmMeasure(text);
  if (fast) return fast;
  const message = new SegmentedMessage(text, 'auto');
  const encoding = message.encodingName;
  // messageSize is in bits without the UDH: 7 per septet, 16 per UCS-2 unit.
  const units = encoding === 'GSM-7' ? message.messageSize / 7 : message.messageSize / 16;
  return { encoding, segments: message.segmentsCount, units };
}

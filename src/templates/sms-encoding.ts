// SMS encoding and segment count, as carriers and Twilio bill them. Uses
// Twilio's own calculator (sms-segments-calculator): GSM-7 when every character
// is in the GSM 03.38 default or extension table (extension characters such as
// € [ ] { } ~ ^ | \ take two septets), else UCS-2. Single segment: 160 septets
// or 70 UCS-2 units; concatenated parts: 153 / 67 (the rest is the UDH).
import { SegmentedMessage } from 'sms-segments-calculator';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsMeasure {
  encoding: SmsEncoding;
  segments: number;
  /** Billable units: septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
}

export function measureSms(text: string): SmsMeasure {
  const message = new SegmentedMessage(text, 'auto');
  const encoding = message.encodingName;
  // messageSize is in bits without the UDH: 7 per septet, 16 per UCS-2 unit.
  const units = encoding === 'GSM-7' ? message.messageSize / 7 : message.messageSize / 16;
  return { encoding, segments: message.segmentsCount, units };
}

// How contact points are written down, so matching a sender to a debtor is
// an exact lookup: phones in E.164, emails case-folded, one-line addresses.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export interface PhoneInfo {
  e164: string;
  country: string | null;
  /** true/false when the numbering plan tells; null when it cannot (NANP numbers). */
  isMobile: boolean | null;
}

export function normalizePhone(input: string, defaultCountry?: string | null): PhoneInfo | null {
  const parsed = parsePhoneNumberFromString(
    input.trim(),
    (defaultCountry?.slice(0, 2).toUpperCase() as CountryCode) || undefined,
  );
  if (!parsed || !parsed.isValid()) return null;
  const type = parsed.getType();
  const isMobile = type === 'MOBILE' ? true : type === 'FIXED_LINE' ? false : null;
  return { e164: parsed.number, country: parsed.country ?? null, isMobile };
}

// Deliberately simple: providers do the real validation; this catches typos.
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]{2,}$/;

export function normalizeEmail(input: string): string | null {
  const v = input.trim().toLowerCase();
  return EMAIL.test(v) ? v : null;
}

export interface AddressParts {
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postalCode: string;
  country: string;
}

export function addressLine(a: AddressParts): string {
  return [a.line1, a.line2, a.city, a.region, a.postalCode, a.country.toUpperCase()]
    .filter((x): x is string => Boolean(x && x.trim()))
    .map((x) => x.trim().replace(/\s+/g, ' '))
    .join(', ')
    .toLowerCase();
}

/** Jurisdiction code ("US-MA", "IN", "GB") from a postal address. */
export function jurisdictionOf(country: string | null | undefined, region?: string | null): string | null {
  if (!country) return null;
  const c = country.toUpperCase();
  if ((c === 'US' || c === 'CA' || c === 'IN' || c === 'AU') && region && /^[A-Za-z]{2,3}$/.test(region.trim()))
    return `${c}-${region.trim().toUpperCase()}`;
  return c;
}

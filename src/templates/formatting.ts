// Locale-aware formatting of the values that go into messages. Amounts arrive
// as decimal strings ("1234.5000") and are formatted from the string itself:
// Intl.NumberFormat treats a string argument as an exact decimal, so no float
// ever touches the digits (large balances and half-cent rounding stay exact).

const DECIMAL_PATTERN = /^-?\d+(\.\d+)?$/;
const CURRENCY_PATTERN = /^[A-Z]{3}$/;
const ISO_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export class FormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'FormatError';
  }
}

// Building an Intl formatter costs far more than using one (locale data is
// resolved on construction), and a wave renders thousands of messages with
// the same few locales and currencies: keep one formatter per key. The key
// space is small and bounded by the locales and currencies in the data; a
// failed construction is not cached, so the error is raised each time.
const MAX_CACHED_FORMATTERS = 500;
const numberFormatters = new Map<string, Intl.NumberFormat>();
const dateFormatters = new Map<string, Intl.DateTimeFormat>();

function cached<F>(cache: Map<string, F>, key: string, make: () => F): F {
  let formatter = cache.get(key);
  if (formatter === undefined) {
    formatter = make();
    if (cache.size >= MAX_CACHED_FORMATTERS) cache.clear();
    cache.set(key, formatter);
  }
  return formatter;
}

/**
 * Formats a decimal-string amount as currency for a locale, e.g.
 * ("1234.5", "USD", "en-US") → "$1,234.50", ("12345678.5", "INR", "en-IN") →
 * "₹1,23,45,678.50". Rounds half away from zero to the currency's minor unit.
 */
export function formatMoney(amount: string, currency: string, locale: string): string {
  const trimmed = amount.trim();
  if (!DECIMAL_PATTERN.test(trimmed)) {
    throw new FormatError(`amount "${amount}" is not a decimal string like "1234.50"`);
  }
  const code = currency.trim().toUpperCase();
  if (!CURRENCY_PATTERN.test(code)) {
    throw new FormatError(`currency "${currency}" is not an ISO 4217 code`);
  }
  let formatter: Intl.NumberFormat;
  try {
    formatter = cached(
      numberFormatters,
      `currency|${locale}|${code}`,
      () => new Intl.NumberFormat(locale, { style: 'currency', currency: code }),
    );
  } catch (error) {
    throw new FormatError(`cannot format currency ${code} for locale ${locale}: ${(error as Error).message}`);
  }
  // The string overload is exact (ECMA-402 NumberFormat v3); TypeScript's lib
  // still types format() as number | bigint.
  return formatter.format(trimmed as unknown as number);
}

/** Parses "YYYY-MM-DD" (also accepts a full ISO timestamp, using its date part). */
function parseIsoDate(value: string): Date {
  const datePart = value.trim().slice(0, 10);
  const match = ISO_DATE_PATTERN.exec(datePart);
  if (!match || (value.trim().length > 10 && value.trim()[10] !== 'T')) {
    throw new FormatError(`date "${value}" is not an ISO date like "2025-03-15"`);
  }
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new FormatError(`date "${value}" does not exist`);
  }
  return date;
}

/** Calendar date in the locale's long style: "March 15, 2025", "15 de marzo de 2025". */
export function formatDate(value: string | Date, locale: string): string {
  const date = value instanceof Date ? value : parseIsoDate(value);
  if (Number.isNaN(date.getTime())) throw new FormatError('date is invalid');
  // Dates here are calendar days, not instants: format in UTC so the day never shifts.
  return cached(
    dateFormatters,
    `long-utc|${locale}`,
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' }),
  ).format(date);
}

/** A non-negative whole number (days past due, instalment count) in locale digits. */
export function formatCount(value: string | number, locale: string): string {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (!/^\d+$/.test(text)) throw new FormatError(`"${value}" is not a non-negative whole number`);
  return cached(
    numberFormatters,
    `count|${locale}`,
    () => new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }),
  ).format(text as unknown as number);
}

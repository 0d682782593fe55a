// For the benchmark and the import tests: a synthetic CSV of N rows
// (generated lazily, never held in memory).

export const SYNTHETIC_HEADER =
  'debtor_external_ref,full_name,locale,phone,phone_consent_sms,email,email_consent,address_line1,city,region,postal_code,country,creditor_ref,creditor_name,debt_ref,amount,currency,due_date';

/** Row i is valid unless `badEvery` divides i+1 (then its due date is impossible). */
export function* syntheticCsv(rows: number, opts: { prefix?: string; badEvery?: number } = {}): Generator<string> {
  const prefix = opts.prefix ?? 'S';
  yield `${SYNTHETIC_HEADER}\n`;
  for (let i = 0; i < rows; i++) {
    const n = String(i).padStart(7, '0');
    const bad = opts.badEvery && (i + 1) % opts.badEvery === 0;
    yield `${prefix}-${n},Synthetic ${n},en,+1415555${String(i % 10000).padStart(4, '0')},yes,s${n}@example.com,,${i} Market St,San Francisco,CA,94105,US,${prefix}-CRED,Synthetic Creditor,${prefix}-INV-${n},${(i % 900) + 100}.25,USD,${bad ? '2026-02-30' : `2026-01-${String((i % 28) + 1).padStart(2, '0')}`}\n`;
  }
}

// For the benchmark: a synthetic CSV of N rows (generated lazily, never held
// in memory) and a run of the real importer over it that reports the peak
// resident set size sampled while it ran.
import { Readable } from 'node:stream';
import type { Db } from '../db/client.js';
import { importStream, type ImportSummary } from './importer.js';

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

export interface ImportBenchResult extends ImportSummary {
  peakRssBytes: number;
  startRssBytes: number;
}

export async function benchImport(db: Db, rows: number, opts: { batchSize?: number; badEvery?: number; prefix?: string } = {}): Promise<ImportBenchResult> {
  const startRssBytes = process.memoryUsage.rss();
  let peakRssBytes = startRssBytes;
  const sampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())), 50);
  try {
    const summary = await importStream(db, Readable.from(syntheticCsv(rows, opts)), {
      format: 'csv',
      batchSize: opts.batchSize,
      onProgress: () => void (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage.rss())),
    });
    return { ...summary, peakRssBytes, startRssBytes };
  } finally {
    clearInterval(sampler);
  }
}

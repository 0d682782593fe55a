// Seeds debtors for the end-to-end and wave benchmarks through the real
// importer (the path production uses for bulk loads). Each debtor gets a
// unique consenting US mobile and a time zone where it is midday now, so the
// router sends at once instead of deferring for quiet hours.
import { Readable } from 'node:stream';
import type { Db } from '../src/db/client.js';
import { importStream } from '../src/import/importer.js';

const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'Pacific/Honolulu',
  'Pacific/Pago_Pago',
  'Pacific/Auckland',
  'Asia/Tokyo',
  'Asia/Shanghai',
  'Asia/Dubai',
  'Europe/Berlin',
  'Europe/London',
  'Atlantic/Azores',
  'America/Sao_Paulo',
];

/** A zone where it is between 10:00 and 16:00 now and for the next hour, so no send is deferred by quiet hours. */
export function middayZone(now = new Date()): string {
  for (const tz of ZONES) {
    const h = Number(new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' }).format(now));
    if (h >= 10 && h < 16) return tz;
  }
  throw new Error('no zone found where it is midday now');
}

/** A unique, valid NANP mobile number for index i (exchange starts 2-9). */
export function benchPhone(areaCode: string, i: number): string {
  return `+1${areaCode}${2 + Math.floor(i / 1_000_000)}${String(i % 1_000_000).padStart(6, '0')}`;
}

const HEADER =
  'debtor_external_ref,full_name,locale,time_zone,phone,phone_is_mobile,phone_consent_sms,creditor_ref,creditor_name,debt_ref,amount,currency,due_date';

function* rows(prefix: string, count: number, zone: string, areaCode: string): Generator<string> {
  yield `${HEADER}\n`;
  for (let i = 0; i < count; i++) {
    const n = String(i).padStart(7, '0');
    yield `${prefix}-${n},Bench Debtor ${n},en,${zone},${benchPhone(areaCode, i)},true,GRANTED,${prefix}-CRED,Bench Creditor ${prefix},${prefix}-INV-${n},${(i % 900) + 100}.25,USD,2026-01-${String((i % 28) + 1).padStart(2, '0')}\n`;
  }
}

export interface SeededPair {
  debtorId: string;
  debtId: string;
}

/** Imports `count` debtors (one debt each) under creditor `${prefix}-CRED`; returns their ids. */
export async function seedDebtors(db: Db, prefix: string, count: number, areaCode: string): Promise<SeededPair[]> {
  const summary = await importStream(db, Readable.from(rows(prefix, count, middayZone(), areaCode)), {
    format: 'csv',
    batchSize: 500,
  });
  if (summary.rowsFailed)
    throw new Error(
      `seeding ${prefix}: ${summary.rowsFailed} rows failed, first: ${JSON.stringify(summary.errors[0])}`,
    );
  const debts = await db.debt.findMany({
    where: { creditor: { externalRef: `${prefix}-CRED` } },
    select: { id: true, debtorId: true },
  });
  if (debts.length !== count) throw new Error(`seeding ${prefix}: expected ${count} debts, found ${debts.length}`);
  return debts.map((d) => ({ debtorId: d.debtorId, debtId: d.id }));
}

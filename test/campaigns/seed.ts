// Seeding for the campaign tests: debtors and debts through the real importer.
import { Readable } from 'node:stream';
import type { Db } from '../../src/db/client.js';
import { importStream } from '../../src/import/importer.js';

const HEADER =
  'debtor_external_ref,full_name,time_zone,phone,phone_is_mobile,phone_consent_sms,email,email_consent,creditor_ref,debt_ref,amount,currency,due_date,debt_tags';

export interface SeedDebtor {
  ref: string;
  /** Debt references of this debtor (one debt each). */
  debts: string[];
  phone: string;
  email?: string;
  zone?: string;
  creditor?: string;
  tags?: string;
}

/** A unique Chicago mobile for index i. */
export const chicagoPhone = (i: number) => `+1312555${String(1000 + i).padStart(4, '0')}`;

export async function seed(db: Db, debtors: SeedDebtor[]): Promise<void> {
  const lines = [HEADER];
  for (const d of debtors) {
    for (const debt of d.debts) {
      lines.push(
        [
          d.ref,
          `Debtor ${d.ref}`,
          d.zone ?? 'America/Chicago',
          d.phone,
          'true',
          'GRANTED',
          d.email ?? '',
          d.email ? 'GRANTED' : '',
          d.creditor ?? 'CRED',
          debt,
          '120.50',
          'USD',
          '2026-01-15',
          d.tags ?? 'cycle',
        ].join(','),
      );
    }
  }
  const summary = await importStream(db, Readable.from([lines.join('\n')]), { format: 'csv' });
  if (summary.rowsFailed) throw new Error(`seed failed: ${JSON.stringify(summary.errors.slice(0, 3))}`);
}

/** Today at hh:00 UTC (a fixed campaign clock near the real time, so recent-history windows line up). */
export function todayAtUtc(hour: number): Date {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hour));
}

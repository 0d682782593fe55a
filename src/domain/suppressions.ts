// The suppression list: addresses that asked not to be contacted on a channel
// without being on file at the time (STOP from an unknown number, a spam
// report or unsubscribe for an unknown email address). An opt-out binds the
// address, not a debtor record, so a debtor created later with that address
// is still refused by the router (rule address.suppressed) until the address
// itself opts back in (START/UNSTOP).
//
// Addresses are stored as contact points store them — phones E.164, emails
// case-folded — so the router's lookup is an exact match.
import type { Db } from '../db/client.js';
import type { Prisma, Suppression } from '../generated/prisma/client.js';
import { HttpError } from '../http/errors.js';
import { normalizeEmail, normalizePhone } from './normalize.js';

type Tx = Prisma.TransactionClient | Db;

export type SuppressionChannel = 'SMS' | 'EMAIL' | 'VOICE';
const CHANNELS: readonly SuppressionChannel[] = ['SMS', 'EMAIL', 'VOICE'];

const invalid = (field: string, reason: string) =>
  new HttpError(400, 'invalid_request', `${field} ${reason}`, [{ field, reason }]);

/** The address in its stored form (the same normalisers as contact points), or a 400 naming the field. */
export function suppressionAddress(channel: SuppressionChannel, address: string): string {
  if (!CHANNELS.includes(channel)) throw invalid('channel', `must be one of ${CHANNELS.join(', ')}`);
  if (typeof address !== 'string' || address.trim() === '') throw invalid('address', 'is required');
  if (channel === 'EMAIL') {
    const email = normalizeEmail(address);
    if (!email) throw invalid('address', 'is not an email address');
    return email;
  }
  const phone = address.trim().startsWith('+') ? normalizePhone(address) : null;
  if (!phone) throw invalid('address', 'must be a valid phone number in E.164 form, like +14155552671');
  return phone.e164;
}

export interface SuppressionInput {
  channel: SuppressionChannel;
  address: string;
  /** Why, in words an agent understands ("replied STOP", "spam report"). */
  reason: string;
  /** Where it came from: an inbound event id, "admin", "import". */
  source: string | null;
}

/** Adds the address to the list; returns whether it was new (an existing entry keeps its first reason). */
export async function addSuppression(
  tx: Tx,
  input: SuppressionInput,
): Promise<{ suppression: Suppression; created: boolean }> {
  const address = suppressionAddress(input.channel, input.address);
  const reason = input.reason.trim();
  if (!reason) throw invalid('reason', 'is required');
  const rows = await tx.suppression.createManyAndReturn({
    data: [
      { channel: input.channel, address, reason: reason.slice(0, 500), source: input.source?.slice(0, 200) ?? null },
    ],
    skipDuplicates: true,
  });
  if (rows[0]) return { suppression: rows[0], created: true };
  const existing = await tx.suppression.findUniqueOrThrow({
    where: { channel_address: { channel: input.channel, address } },
  });
  return { suppression: existing, created: false };
}

/** Lifts the suppression of one address on one channel; returns the removed entry, if there was one. */
export async function removeSuppression(
  tx: Tx,
  channel: SuppressionChannel,
  rawAddress: string,
): Promise<Suppression | null> {
  const address = suppressionAddress(channel, rawAddress);
  const rows = await tx.suppression.findMany({ where: { channel, address } });
  if (rows.length === 0) return null;
  await tx.suppression.deleteMany({ where: { channel, address } });
  return rows[0]!;
}

/**
 * Suppression rows by address then channel (the reason as value), the form
 * the router snapshot carries; the snapshot loaders read the rows with their
 * own query and group them here. Letters are not suppressed by address.
 */
export function groupSuppressions(
  rows: readonly { channel: string; address: string; reason: string }[],
): Map<string, Partial<Record<SuppressionChannel, string>>> {
  const out = new Map<string, Partial<Record<SuppressionChannel, string>>>();
  for (const r of rows) {
    if (r.channel === 'LETTER') continue;
    const entry = out.get(r.address) ?? {};
    entry[r.channel as SuppressionChannel] = r.reason;
    out.set(r.address, entry);
  }
  return out;
}

export async function listSuppressions(
  db: Tx,
  filter: { channel?: SuppressionChannel; address?: string; take?: number } = {},
): Promise<Suppression[]> {
  const take = Math.min(Math.max(filter.take ?? 100, 1), 500);
  return db.suppression.findMany({
    where: {
      ...(filter.channel ? { channel: filter.channel } : {}),
      // Emails are stored case-folded; phones as given (E.164).
      ...(filter.address
        ? { address: filter.address.includes('@') ? filter.address.trim().toLowerCase() : filter.address.trim() }
        : {}),
    },
    orderBy: { createdAt: 'desc' },
    take,
  });
}

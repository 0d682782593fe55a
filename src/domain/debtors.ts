// Creating and updating debtors, contact points and debts. Used by the REST
// API and by bulk import, so both apply the same normalisation and rules.
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { HttpError } from '../http/errors.js';
import type { ContactPointInput } from '../api/schemas.js';
import { addressLine, jurisdictionOf, normalizeEmail, normalizePhone } from './normalize.js';
import { tcpaRevocationDeadline } from './tcpa.js';

type Tx = Prisma.TransactionClient | Db;

const invalid = (field: string, reason: string) =>
  new HttpError(400, 'invalid_request', `${field} ${reason}`, [{ field, reason }]);

/** Turns API input into the columns of a contact point (normalised), or a 400 naming the field. */
export function contactPointData(
  input: ContactPointInput,
  opts: { defaultCountry?: string | null; field?: string } = {},
) {
  const field = opts.field ?? 'contactPoint';
  if (input.kind === 'PHONE') {
    const phone = normalizePhone(input.value, opts.defaultCountry);
    if (!phone)
      throw invalid(
        `${field}.value`,
        'is not a valid phone number (use E.164 like +14155552671, or a national number with the debtor jurisdiction set)',
      );
    return {
      kind: 'PHONE' as const,
      value: phone.e164,
      label: input.label ?? null,
      isMobile: input.isMobile ?? phone.isMobile,
      isWork: input.isWork ?? false,
      employerForbidsContact: input.employerForbidsContact ?? false,
      country: phone.country,
      timeZone: input.timeZone ?? null,
    };
  }
  if (input.kind === 'EMAIL') {
    const email = normalizeEmail(input.value);
    if (!email) throw invalid(`${field}.value`, 'is not a valid email address');
    return {
      kind: 'EMAIL' as const,
      value: email,
      label: input.label ?? null,
      isWork: input.isWork ?? false,
      employerForbidsContact: input.employerForbidsContact ?? false,
    };
  }
  return {
    kind: 'ADDRESS' as const,
    value: addressLine(input),
    label: input.label ?? null,
    line1: input.line1,
    line2: input.line2 ?? null,
    city: input.city,
    region: input.region ?? null,
    postalCode: input.postalCode,
    country: input.country.toUpperCase(),
    isWork: input.isWork ?? false,
    timeZone: input.timeZone ?? null,
  };
}

export async function addContactPoint(
  db: Tx,
  debtorId: string,
  input: ContactPointInput,
  opts: { defaultCountry?: string | null; field?: string; source: string },
) {
  const data = contactPointData(input, opts);
  const cp = await db.contactPoint.upsert({
    where: { debtorId_kind_value: { debtorId, kind: data.kind, value: data.value } },
    create: { debtorId, ...data },
    update: data,
  });
  await setConsents(db, cp.id, input.consents ?? {}, opts.source);
  return cp;
}

type ConsentStateName = 'GRANTED' | 'UNKNOWN' | 'REVOKED';

/** Records the consent state of each given channel at one contact point, with where it came from. */
export async function setConsents(
  db: Tx,
  contactPointId: string,
  consents: Partial<Record<string, ConsentStateName>>,
  source: string,
): Promise<void> {
  for (const [ch, state] of Object.entries(consents)) {
    if (!state) continue;
    const channel = ch as 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER';
    await db.channelConsent.upsert({
      where: { contactPointId_channel: { contactPointId, channel } },
      create: { contactPointId, channel, state, source },
      update: { state, source, changedAt: new Date() },
    });
  }
}

export const debtorInclude = {
  contactPoints: { include: { consents: true }, orderBy: { createdAt: 'asc' as const } },
  preferences: true,
  debts: { include: { creditor: true }, orderBy: { dueDate: 'asc' as const } },
} satisfies Prisma.DebtorInclude;

/** Jurisdiction when none was given: the first postal address, else the first phone's country. */
export function inferJurisdiction(contactPoints: ContactPointInput[]): string | null {
  const addr = contactPoints.find((c) => c.kind === 'ADDRESS');
  if (addr && addr.kind === 'ADDRESS') return jurisdictionOf(addr.country, addr.region);
  const phone = contactPoints.find((c) => c.kind === 'PHONE');
  if (phone && phone.kind === 'PHONE') return normalizePhone(phone.value)?.country ?? null;
  return null;
}

export function serializeDebtor(d: Prisma.DebtorGetPayload<{ include: typeof debtorInclude }>) {
  return {
    id: d.id,
    externalRef: d.externalRef,
    fullName: d.fullName,
    locale: d.locale,
    jurisdiction: d.jurisdiction,
    timeZone: d.timeZone,
    restrictions: d.restrictions,
    tags: d.tags,
    contactPoints: d.contactPoints.map(serializeContactPoint),
    preferences: d.preferences
      ? {
          channelOrder: d.preferences.channelOrder,
          inconvenientTimes: d.preferences.inconvenientTimes,
          contactLimits: d.preferences.contactLimits,
        }
      : null,
    debts: d.debts.map(serializeDebt),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

export function serializeContactPoint(c: Prisma.ContactPointGetPayload<{ include: { consents: true } }>) {
  return {
    id: c.id,
    kind: c.kind,
    value: c.value,
    label: c.label,
    isMobile: c.isMobile,
    isWork: c.isWork,
    employerForbidsContact: c.employerForbidsContact,
    address:
      c.kind === 'ADDRESS'
        ? {
            line1: c.line1,
            line2: c.line2,
            city: c.city,
            region: c.region,
            postalCode: c.postalCode,
            country: c.country,
          }
        : undefined,
    timeZone: c.timeZone,
    valid: c.valid,
    invalidReason: c.invalidReason,
    consents: Object.fromEntries(
      c.consents.map((x) => [
        x.channel,
        {
          state: x.state,
          source: x.source,
          changedAt: x.changedAt,
          // A revocation is honoured the moment it is recorded; the TCPA's own deadline (10 business days) is shown next to it.
          ...(x.state === 'REVOKED'
            ? {
                revocation: {
                  honouredAt: x.changedAt,
                  legalDeadline: tcpaRevocationDeadline(x.changedAt),
                  rule: '47 CFR 64.1200(a)(10)',
                },
              }
            : {}),
        },
      ]),
    ),
  };
}

export function serializeDebt(d: Prisma.DebtGetPayload<{ include: { creditor: true } }>) {
  return {
    id: d.id,
    externalRef: d.externalRef,
    creditor: { id: d.creditor.id, externalRef: d.creditor.externalRef, name: d.creditor.name, kind: d.creditor.kind },
    debtorId: d.debtorId,
    originalAmount: d.originalAmount.toFixed(minorDigits(d.currency)),
    balance: d.balance.toFixed(minorDigits(d.currency)),
    currency: d.currency,
    dueDate: d.dueDate.toISOString().slice(0, 10),
    status: d.status,
    jurisdiction: d.jurisdiction,
    restrictions: d.restrictions,
    tags: d.tags,
    paymentLink: d.paymentLink,
    timeBarred: d.timeBarred,
    loanType: d.loanType,
    itemization: d.itemizationDate
      ? {
          date: d.itemizationDate.toISOString().slice(0, 10),
          amount: d.itemizationAmount?.toFixed(minorDigits(d.currency)) ?? null,
          interest: d.interestSinceItemization.toFixed(minorDigits(d.currency)),
          fees: d.feesSinceItemization.toFixed(minorDigits(d.currency)),
          credits: d.creditsSinceItemization.toFixed(minorDigits(d.currency)),
          originalCreditorName: d.originalCreditorName,
        }
      : null,
    validationNotice: d.validationNoticeAt
      ? { sentAt: d.validationNoticeAt, validationPeriodEndsAt: d.validationPeriodEndsAt }
      : null,
    lastPhoneConversationAt: d.lastPhoneConversationAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

/** Decimal places of a currency's minor unit (USD 2, JPY 0, KWD 3). */
// Per currency code, computed once: constructing an Intl.NumberFormat per
// call was a measurable share of rendering a wave (bounded: codes in the data).
const minorDigitsByCurrency = new Map<string, number>();

export function minorDigits(currency: string): number {
  let digits = minorDigitsByCurrency.get(currency);
  if (digits === undefined) {
    try {
      digits =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    if (minorDigitsByCurrency.size >= 500) minorDigitsByCurrency.clear();
    minorDigitsByCurrency.set(currency, digits);
  }
  return digits;
}

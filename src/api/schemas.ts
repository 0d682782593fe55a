// Input shapes of the REST API (zod). Field-level errors come from these.
import { z } from 'zod';
import { SOCIAL_MEDIA_CHANNELS } from '../router/types.js';

export const channel = z.enum(['SMS', 'EMAIL', 'VOICE', 'LETTER']);
export const consentState = z.enum(['GRANTED', 'UNKNOWN', 'REVOKED']);
export const restriction = z.enum([
  'CEASE_COMMUNICATION',
  'DISPUTE_UNDER_REVIEW',
  'BANKRUPTCY',
  'ATTORNEY_REPRESENTED',
  'DECEASED',
  'MORATORIUM',
]);
export const debtStatus = z.enum([
  'OPEN',
  'PROMISED',
  'PAYMENT_PLAN',
  'DISPUTED',
  'PAID',
  'SETTLED',
  'WRITTEN_OFF',
  'CLOSED',
]);

export const uuid = z.uuid('must be a UUID');
/** Who collects (docs/domain.md §2.1): the creditor in its own name, or a collection agency. */
export const creditorKind = z.enum(['FIRST_PARTY', 'AGENCY']);
export const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' });
/** A kind of loan, upper case ("MICROFINANCE", "PERSONAL"): India's RBI rules do not cover microfinance loans. */
export const loanType = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{1,39}$/, 'must be an upper-case code like MICROFINANCE or PERSONAL');
/** Reg F Model Form B-1: the itemization date and what changed since (payments come from the payments recorded). */
export const itemizationInput = z.strictObject({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-03-15'),
  amount: z.string().regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string like "1234.50"'),
  interest: z
    .string()
    .regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string like "12.50"')
    .optional(),
  fees: z
    .string()
    .regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string like "12.50"')
    .optional(),
  credits: z
    .string()
    .regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string like "12.50"')
    .optional(),
  /** The creditor as of the itemization date, when another than today's. */
  originalCreditorName: z.string().trim().min(1).max(200).optional(),
});
/** Money travels as a decimal string ("1234.50"): exact, never a float. */
export const money = z
  .string({ message: 'must be a decimal string like "1234.50"' })
  .regex(/^-?\d{1,15}(\.\d{1,4})?$/, 'must be a decimal string like "1234.50" (at most 4 decimals)');
// The ISO 4217 codes ICU knows (Intl), so "XYZ" or "ABC" is refused rather than stored and formatted wrongly.
const ISO_4217 = new Set(Intl.supportedValuesOf('currency'));
export const currency = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like USD')
  .refine((v) => ISO_4217.has(v), 'is not an ISO 4217 currency code');
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-03-15')
  .refine((v) => {
    const d = new Date(`${v}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
  }, 'is not a real date');
export const jurisdiction = z
  .string()
  .regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?(-[A-Z]{2,4})?$/, 'must look like US, US-MA, US-NY-NYC, IN or GB');
export const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone like America/New_York');
export const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be HH:mm');

export const consents = z.partialRecord(channel, consentState);

export const contactPointInput = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('PHONE'),
    value: z.string().min(3, 'must be a phone number'),
    label: z.string().max(40).optional(),
    isMobile: z.boolean().optional(),
    isWork: z.boolean().optional(),
    employerForbidsContact: z.boolean().optional(),
    timeZone: timeZone.optional(),
    consents: consents.optional(),
  }),
  z.object({
    kind: z.literal('EMAIL'),
    value: z.string().min(3, 'must be an email address'),
    label: z.string().max(40).optional(),
    isWork: z.boolean().optional(),
    employerForbidsContact: z.boolean().optional(),
    consents: consents.optional(),
  }),
  z.object({
    kind: z.literal('ADDRESS'),
    label: z.string().max(40).optional(),
    line1: z.string().min(1, 'is required').max(64),
    line2: z.string().max(64).optional(),
    city: z.string().min(1, 'is required').max(64),
    region: z.string().max(64).optional(),
    postalCode: z.string().min(2, 'is required').max(12),
    country: z.string().regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code like US'),
    isWork: z.boolean().optional(),
    timeZone: timeZone.optional(),
    consents: consents.optional(),
  }),
]);
export type ContactPointInput = z.infer<typeof contactPointInput>;

export const preferencesInput = z.object({
  channelOrder: z
    .array(channel)
    .max(4)
    .refine((a) => new Set(a).size === a.length, 'must not repeat a channel')
    .optional(),
  inconvenientTimes: z
    .array(z.object({ days: z.array(z.number().int().min(1).max(7)).min(1), from: hhmm, to: hhmm }))
    .max(20)
    .optional(),
  contactLimits: z
    .partialRecord(
      z.enum(['SMS', 'EMAIL', 'VOICE', 'LETTER', 'ALL']),
      z.object({ max: z.number().int().min(0).max(100), days: z.number().int().min(1).max(90) }),
    )
    .optional(),
});

export const debtorInput = z.object({
  externalRef: z.string().min(1).max(100).optional(),
  fullName: z.string().trim().min(1, 'is required').max(200),
  locale: z
    .string()
    .regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must look like en or en-IN')
    .optional(),
  jurisdiction: jurisdiction.optional(),
  timeZone: timeZone.optional(),
  restrictions: z.array(restriction).optional(),
  tags: z.array(z.string().min(1).max(50)).max(50).optional(),
  contactPoints: z.array(contactPointInput).max(20).optional(),
  preferences: preferencesInput.optional(),
  /** A fact the debtor page may ask for to prove identity (creditor setting); never returned by the API. */
  dateOfBirth: isoDate.nullable().optional(),
  /** E-SIGN consent to electronic disclosures (Reg F §1006.42): the validation notice may go by email. */
  esignConsentAt: isoDateTime.nullable().optional(),
});
export const debtorPatch = debtorInput.omit({ contactPoints: true, preferences: true }).partial();

export const contactPointPatch = z.object({
  label: z.string().max(40).nullable().optional(),
  isMobile: z.boolean().nullable().optional(),
  isWork: z.boolean().optional(),
  employerForbidsContact: z.boolean().optional(),
  timeZone: timeZone.nullable().optional(),
  valid: z.boolean().optional(),
  consents: consents.optional(),
});

export const debtInput = z
  .object({
    externalRef: z.string().min(1).max(100),
    creditor: z.object({
      externalRef: z.string().min(1).max(100),
      name: z.string().min(1).max(200),
      kind: creditorKind.optional(),
    }),
    debtorId: uuid.optional(),
    debtorExternalRef: z.string().min(1).max(100).optional(),
    originalAmount: money,
    balance: money.optional(),
    currency,
    dueDate: isoDate,
    status: debtStatus.optional(),
    jurisdiction: jurisdiction.optional(),
    restrictions: z.array(restriction).optional(),
    tags: z.array(z.string().min(1).max(50)).max(50).optional(),
    paymentLink: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    timeBarred: z.boolean().optional(),
    loanType: loanType.optional(),
    itemization: itemizationInput.optional(),
  })
  .refine((d) => d.debtorId || d.debtorExternalRef, {
    message: 'debtorId or debtorExternalRef is required',
    path: ['debtorId'],
  });

export const debtPatch = z.object({
  balance: money.optional(),
  status: debtStatus.optional(),
  dueDate: isoDate.optional(),
  jurisdiction: jurisdiction.nullable().optional(),
  restrictions: z.array(restriction).optional(),
  tags: z.array(z.string().min(1).max(50)).max(50).optional(),
  paymentLink: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
    .nullable()
    .optional(),
  timeBarred: z.boolean().optional(),
  lastPhoneConversationAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time' })
    .nullable()
    .optional(),
  loanType: loanType.nullable().optional(),
  itemization: itemizationInput.nullable().optional(),
});

export const outreachInput = z.object({
  debtorId: uuid,
  debtId: uuid,
  intent: z.string().min(1),
  // A social-media channel is accepted only to be refused with its rule (Reg F §1006.22(f)(4)), not as invalid.
  channel: z.enum([...channel.options, ...SOCIAL_MEDIA_CHANNELS]).optional(),
  notBefore: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  notAfter: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
  locale: z
    .string()
    .regex(/^[a-z]{2}(-[A-Z]{2})?$/)
    .optional(),
  vars: z.record(z.string(), z.string().max(500)).optional(),
});
export type OutreachInput = z.infer<typeof outreachInput>;

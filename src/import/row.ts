// One import row: a debtor, up to three contact points (phone, email, postal
// address) and optionally one debt, flat so it fits a CSV line. JSON and NDJSON
// imports use the same keys. Each row is validated on its own; a bad row
// yields field-level errors and never stops the rest of the file.
//
// Columns (all text; empty = not given):
//   debtor_external_ref*  the debtor's id in the creditor's system (re-imports update by it)
//   full_name*            debtor name
//   locale                en, es, en-IN, …
//   jurisdiction          US, US-MA, US-NY-NYC, IN, GB …; else derived from the address, then the phone
//   time_zone             IANA zone, when known (America/Chicago)
//   debtor_tags           tags of the debtor, separated by ";"
//   preferred_channels    e.g. "SMS;EMAIL" (most preferred first)
//   phone                 E.164 or national with the jurisdiction/country set
//   phone_label, phone_is_mobile (true/false)
//   phone_consent_sms, phone_consent_voice   GRANTED|UNKNOWN|REVOKED (also yes/no, true/false)
//   email, email_consent
//   address_line1, address_line2, city, region, postal_code, country (ISO alpha-2), letter_consent
//   creditor_ref, creditor_name, debt_ref, amount, balance, currency, due_date (YYYY-MM-DD),
//   debt_status, debt_tags (";"), payment_link
//   creditor_kind         FIRST_PARTY (the creditor collects its own debts) or AGENCY (default for a new creditor)
//   contact_kind, contact_outcome, contact_at, contact_ref, contact_note
//                         one contact made before the gateway (call with outcome connected|voicemail|
//                         no_answer|busy|failed, voicemail, ringless_voicemail, conversation, text, email,
//                         letter), about the row's debt if it has one; counted by every limit
// A debt is imported when any debt column is given; then creditor_ref, debt_ref,
// amount, currency and due_date are required. balance defaults to amount on
// creation and is left alone on re-import unless given.
import { z } from 'zod';
import { contactPointData, inferJurisdiction } from '../domain/debtors.js';
import { HttpError } from '../http/errors.js';
import type { ContactPointInput } from '../api/schemas.js';
import { channel, currency, debtStatus, isoDate, jurisdiction, money, timeZone } from '../api/schemas.js';
import { CALL_OUTCOMES, CONTACT_KINDS, type ContactKind } from '../compliance/history.js';

export interface RowError {
  line: number;
  field: string;
  reason: string;
}

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);
const list = z.string().transform((v) =>
  v
    .split(/[;|]/)
    .map((s) => s.trim())
    .filter(Boolean),
);

/** GRANTED / REVOKED / UNKNOWN, or yes/no-style words (no = REVOKED: the stricter reading). */
const consentWord = z
  .string()
  .transform((v) => v.trim().toUpperCase())
  .pipe(
    z.enum(['GRANTED', 'UNKNOWN', 'REVOKED', 'YES', 'NO', 'TRUE', 'FALSE', 'Y', 'N', '1', '0'], {
      message: 'must be GRANTED, UNKNOWN, REVOKED, yes or no',
    }),
  )
  .transform(
    (v) =>
      (['GRANTED', 'YES', 'TRUE', 'Y', '1'].includes(v) ? 'GRANTED' : v === 'UNKNOWN' ? 'UNKNOWN' : 'REVOKED') as
        | 'GRANTED'
        | 'UNKNOWN'
        | 'REVOKED',
  );
const bool = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', 'yes', 'no', '1', '0', 'y', 'n'], { message: 'must be true or false' }))
  .transform((v) => ['true', 'yes', '1', 'y'].includes(v));

const importRowSchema = z
  .object({
    debtor_external_ref: text(100).min(1, 'is required'),
    full_name: text(200).min(1, 'is required'),
    locale: z
      .string()
      .regex(/^[a-z]{2}(-[A-Z]{2})?$/, 'must look like en or en-IN')
      .optional(),
    jurisdiction: jurisdiction.optional(),
    time_zone: timeZone.optional(),
    debtor_tags: list.pipe(z.array(text(50)).max(50)).optional(),
    preferred_channels: list
      .transform((a) => a.map((c) => c.toUpperCase()))
      .pipe(z.array(channel).refine((a) => new Set(a).size === a.length, 'must not repeat a channel'))
      .optional(),
    phone: text(40).optional(),
    phone_label: text(40).optional(),
    phone_is_mobile: bool.optional(),
    phone_consent_sms: consentWord.optional(),
    phone_consent_voice: consentWord.optional(),
    email: text(254).optional(),
    email_consent: consentWord.optional(),
    address_line1: text(64).optional(),
    address_line2: text(64).optional(),
    city: text(64).optional(),
    region: text(64).optional(),
    postal_code: text(12).optional(),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code like US')
      .optional(),
    letter_consent: consentWord.optional(),
    creditor_ref: text(100).optional(),
    creditor_name: text(200).optional(),
    debt_ref: text(100).optional(),
    amount: money.refine((v) => !v.startsWith('-'), 'must not be negative').optional(),
    balance: money.optional(),
    currency: z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(currency)
      .optional(),
    due_date: isoDate.optional(),
    debt_status: z
      .string()
      .transform((v) => v.toUpperCase())
      .pipe(debtStatus)
      .optional(),
    debt_tags: list.pipe(z.array(text(50)).max(50)).optional(),
    payment_link: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    creditor_kind: z
      .string()
      .transform((v) =>
        v
          .trim()
          .toUpperCase()
          .replace(/[\s-]+/g, '_'),
      )
      .pipe(z.enum(['FIRST_PARTY', 'AGENCY'], { message: 'must be FIRST_PARTY or AGENCY' }))
      .optional(),
    contact_kind: z
      .string()
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(CONTACT_KINDS, { message: `must be one of ${CONTACT_KINDS.join(', ')}` }))
      .optional(),
    contact_outcome: z
      .string()
      .transform((v) =>
        v
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, '_'),
      )
      .pipe(z.enum(CALL_OUTCOMES, { message: `must be one of ${CALL_OUTCOMES.join(', ')}` }))
      .optional(),
    contact_at: z.iso
      .datetime({ offset: true, message: 'must be an ISO 8601 date-time like 2026-03-15T14:30:00Z' })
      .optional(),
    contact_ref: text(100).optional(),
    contact_note: text(1000).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.contact_kind || r.contact_at || r.contact_outcome || r.contact_ref) {
      if (!r.contact_kind)
        ctx.addIssue({ code: 'custom', path: ['contact_kind'], message: 'is required when a contact is given' });
      if (!r.contact_at)
        ctx.addIssue({ code: 'custom', path: ['contact_at'], message: 'is required when a contact is given' });
      else if (Date.parse(r.contact_at) > Date.now() + 5 * 60_000)
        ctx.addIssue({ code: 'custom', path: ['contact_at'], message: 'is in the future' });
      if (r.contact_kind === 'call' && !r.contact_outcome)
        ctx.addIssue({ code: 'custom', path: ['contact_outcome'], message: 'a call needs its outcome' });
      if (r.contact_kind && r.contact_kind !== 'call' && r.contact_outcome)
        ctx.addIssue({ code: 'custom', path: ['contact_outcome'], message: 'only a call has an outcome' });
    }
    const debtColumns = ['creditor_ref', 'debt_ref', 'amount', 'currency', 'due_date'] as const;
    const anyDebt = [...debtColumns, 'balance', 'creditor_name', 'debt_status', 'debt_tags', 'payment_link'].some(
      (k) => r[k as keyof typeof r] !== undefined,
    );
    if (anyDebt)
      for (const k of debtColumns)
        if (r[k] === undefined)
          ctx.addIssue({ code: 'custom', path: [k], message: 'is required when a debt is given' });
    const addressColumns = ['address_line1', 'city', 'postal_code', 'country'] as const;
    const anyAddress = [...addressColumns, 'address_line2', 'region'].some((k) => r[k as keyof typeof r] !== undefined);
    if (anyAddress)
      for (const k of addressColumns)
        if (r[k] === undefined)
          ctx.addIssue({ code: 'custom', path: [k], message: 'is required when an address is given' });
  });

export type ImportRow = z.infer<typeof importRowSchema>;

type ConsentState = 'GRANTED' | 'UNKNOWN' | 'REVOKED';

/** A validated row, normalised into what the writer stores. */
export interface ImportRecord {
  line: number;
  debtor: {
    externalRef: string;
    fullName: string;
    locale: string | null;
    jurisdiction: string | null;
    /** Derived from a phone number only: never overrides one from an address or given explicitly. */
    jurisdictionFromPhone: boolean;
    timeZone: string | null;
    tags: string[] | null;
    channelOrder: string[] | null;
  };
  contactPoints: Array<
    ReturnType<typeof contactPointData> & {
      consents: Partial<Record<'SMS' | 'VOICE' | 'EMAIL' | 'LETTER', ConsentState>>;
    }
  >;
  debt: {
    creditorRef: string;
    creditorName: string;
    externalRef: string;
    originalAmount: string;
    balance: string | null;
    currency: string;
    dueDate: string;
    status: string | null;
    tags: string[] | null;
    paymentLink: string | null;
    /** Only when given: a re-import without the column leaves the creditor's role alone. */
    creditorKind: 'FIRST_PARTY' | 'AGENCY' | null;
  } | null;
  /** A contact made before the gateway (src/compliance/history.ts), about the row's debt if any. */
  contact: {
    kind: ContactKind;
    outcome: string | null;
    occurredAt: string;
    externalRef: string | null;
    note: string | null;
  } | null;
}

/** Keys lower-cased and trimmed; values as trimmed strings; empty = absent. */
function cleanRaw(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null || v === undefined) continue;
    const s = (
      typeof v === 'string' ? v : Array.isArray(v) ? v.join(';') : typeof v === 'object' ? JSON.stringify(v) : String(v)
    ).trim();
    if (s !== '') out[k.trim().toLowerCase()] = s;
  }
  return out;
}

/** Validates and normalises one row; returns the record or the row's errors (one per field). */
export function parseImportRow(
  raw: Record<string, unknown>,
  line: number,
): { record: ImportRecord } | { errors: RowError[] } {
  const parsed = importRowSchema.safeParse(cleanRaw(raw));
  if (!parsed.success) {
    return {
      errors: parsed.error.issues.map((i) => ({
        line,
        field: i.path.map(String).join('.') || '(row)',
        reason: i.message,
      })),
    };
  }
  const r = parsed.data;
  const inputs: Array<{ column: string; input: ContactPointInput }> = [];
  if (r.phone) {
    inputs.push({
      column: 'phone',
      input: {
        kind: 'PHONE',
        value: r.phone,
        label: r.phone_label,
        isMobile: r.phone_is_mobile,
        consents: {
          ...(r.phone_consent_sms ? { SMS: r.phone_consent_sms } : {}),
          ...(r.phone_consent_voice ? { VOICE: r.phone_consent_voice } : {}),
        },
      },
    });
  }
  if (r.email)
    inputs.push({
      column: 'email',
      input: { kind: 'EMAIL', value: r.email, consents: r.email_consent ? { EMAIL: r.email_consent } : {} },
    });
  if (r.address_line1 && r.city && r.postal_code && r.country) {
    inputs.push({
      column: 'address_line1',
      input: {
        kind: 'ADDRESS',
        line1: r.address_line1,
        line2: r.address_line2,
        city: r.city,
        region: r.region,
        postalCode: r.postal_code,
        country: r.country,
        consents: r.letter_consent ? { LETTER: r.letter_consent } : {},
      },
    });
  }
  const jurisdictionCode = r.jurisdiction ?? inferJurisdiction(inputs.map((i) => i.input));
  const defaultCountry = r.country?.toUpperCase() ?? jurisdictionCode?.slice(0, 2) ?? null;
  const errors: RowError[] = [];
  const contactPoints: ImportRecord['contactPoints'] = [];
  for (const { column, input } of inputs) {
    try {
      contactPoints.push({
        ...contactPointData(input, { defaultCountry, field: column }),
        consents: input.consents ?? {},
      });
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      // contactPointData names the API field ("phone.value"); report the column.
      const detail = Array.isArray(e.details) ? e.details[0] : undefined;
      errors.push({ line, field: column, reason: detail?.reason ?? e.message });
    }
  }
  if (errors.length) return { errors };
  return {
    record: {
      line,
      debtor: {
        externalRef: r.debtor_external_ref,
        fullName: r.full_name.trim(),
        locale: r.locale ?? null,
        jurisdiction: jurisdictionCode,
        jurisdictionFromPhone: !r.jurisdiction && !inputs.some((i) => i.input.kind === 'ADDRESS'),
        timeZone: r.time_zone ?? null,
        tags: r.debtor_tags ?? null,
        channelOrder: r.preferred_channels ?? null,
      },
      contactPoints,
      debt: r.debt_ref
        ? {
            creditorRef: r.creditor_ref!,
            creditorName: r.creditor_name ?? r.creditor_ref!,
            externalRef: r.debt_ref,
            originalAmount: r.amount!,
            balance: r.balance ?? null,
            currency: r.currency!,
            dueDate: r.due_date!,
            status: r.debt_status ?? null,
            tags: r.debt_tags ?? null,
            paymentLink: r.payment_link ?? null,
            creditorKind: r.creditor_kind ?? null,
          }
        : null,
      contact:
        r.contact_kind && r.contact_at
          ? {
              kind: r.contact_kind,
              outcome: r.contact_outcome ?? null,
              occurredAt: r.contact_at,
              externalRef: r.contact_ref ?? null,
              note: r.contact_note ?? null,
            }
          : null,
    },
  };
}

/** The columns, in a sensible order, for templates and documentation. */
export const IMPORT_COLUMNS = Object.keys(importRowSchema.shape) as (keyof ImportRow)[];

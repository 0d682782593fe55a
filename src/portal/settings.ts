// A creditor's rules for its debtors' page (creditors.portal_settings):
// how a visitor proves who they are, the limits of a plan the debtor may
// choose, and which payment provider takes the money. Absent keys take the
// defaults below, so a creditor created before the page existed works as is.
import { z } from 'zod';

export const VERIFICATION_METHODS = ['code', 'date_of_birth', 'postcode', 'account_reference'] as const;
export type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

const amount = z.string().regex(/^\d{1,15}(\.\d{1,4})?$/, 'must be a decimal amount like 25.00');

export const portalSettingsSchema = z.strictObject({
  /** Ways offered, in this order; the visitor uses any one. */
  verification: z
    .array(z.enum(VERIFICATION_METHODS))
    .min(1, 'offer at least one way to verify')
    .max(4)
    .default(['code']),
  /** Failures before the page is locked for this debtor, and for how long. */
  maxFailedAttempts: z.number().int().min(1).max(20).default(5),
  lockMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(30),
  plans: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxInstalments: z.number().int().min(2).max(60).default(6),
      minInstalment: amount.default('25.00'),
      /** Days between instalments. */
      intervalDays: z.number().int().min(7).max(92).default(30),
      /** Failed instalment charges before the plan is broken. */
      maxFailedCharges: z.number().int().min(1).max(10).default(3),
      /** Days between retries of a failed instalment charge. */
      retryDays: z.number().int().min(1).max(14).default(3),
    })
    .default({
      enabled: true,
      maxInstalments: 6,
      minInstalment: '25.00',
      intervalDays: 30,
      maxFailedCharges: 3,
      retryDays: 3,
    }),
  /** Latest promise date a debtor may choose, in days from today. */
  maxPromiseDays: z.number().int().min(1).max(365).default(30),
  /** Which provider takes card/bank payments: by currency, else `default`. */
  paymentProvider: z
    .strictObject({
      default: z.enum(['stripe', 'gocardless', 'none']).default('stripe'),
      byCurrency: z.record(z.string().regex(/^[A-Z]{3}$/), z.enum(['stripe', 'gocardless', 'none'])).default({}),
    })
    .default({ default: 'stripe', byCurrency: {} }),
});

export type PortalSettings = z.infer<typeof portalSettingsSchema>;

/** The settings stored on a creditor, with defaults; a stored value that no longer parses falls back to the defaults (never a 500 on the debtor's page). */
export function portalSettingsOf(stored: unknown): PortalSettings {
  const r = portalSettingsSchema.safeParse(stored ?? {});
  return r.success ? r.data : portalSettingsSchema.parse({});
}

export function providerFor(settings: PortalSettings, currency: string): 'stripe' | 'gocardless' | 'none' {
  return settings.paymentProvider.byCurrency[currency] ?? settings.paymentProvider.default;
}

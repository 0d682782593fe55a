// Input shapes of campaigns (zod): audience filter, steps, throttle, stop conditions.
import { z } from 'zod';
import { channel, currency, debtStatus, hhmm, jurisdiction, money, timeZone, uuid } from '../api/schemas.js';
import { INTENTS } from '../templates/intents.js';

const STOP_CONDITIONS = ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL', 'REPLIED'] as const;
export type StopCondition = (typeof STOP_CONDITIONS)[number];
export const DEFAULT_STOP_CONDITIONS: StopCondition[] = ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL'];

const range = <T extends z.ZodType>(t: T) => z.object({ min: t.optional(), max: t.optional() });

const audienceSchema = z.object({
  daysPastDue: range(z.number().int().min(-3650).max(36500)).optional(),
  /** Balance band in one currency: amounts of different currencies never compare (INR 100 is not USD 100). */
  balance: range(money)
    .extend({ currency: currency.optional() })
    .refine((b) => b.currency !== undefined || (b.min === undefined && b.max === undefined), {
      message: 'is required with min or max: a balance band compares amounts within one currency',
      path: ['currency'],
    })
    .optional(),
  /** Debt statuses to include; default OPEN, PROMISED, PAYMENT_PLAN. */
  status: z.array(debtStatus).min(1).optional(),
  creditorIds: z.array(uuid).max(100).optional(),
  creditorRefs: z.array(z.string().min(1).max(100)).max(100).optional(),
  /** Debt or debtor carries any of these tags. */
  tags: z.array(z.string().min(1).max(50)).max(50).optional(),
  /** Jurisdiction code or any code below it ("US" matches "US-MA"). */
  jurisdictions: z.array(jurisdiction).max(50).optional(),
  /** No outbound message to the debtor in the last N days. */
  noContactDays: z.number().int().min(1).max(365).optional(),
});
export type Audience = z.infer<typeof audienceSchema>;

const stepConditionsSchema = z.object({
  noReplySincePrevious: z.boolean().optional(),
  noPaymentSincePrevious: z.boolean().optional(),
  noPromiseSincePrevious: z.boolean().optional(),
});
export type StepConditions = z.infer<typeof stepConditionsSchema>;

const stepWindowSchema = z
  .object({ from: hhmm, to: hhmm })
  .refine((w) => w.from < w.to, { message: 'from must be before to (same day)', path: ['to'] });
export type StepWindow = z.infer<typeof stepWindowSchema>;

const stepSchema = z.object({
  offsetDays: z.number().int().min(-365).max(365),
  anchor: z.enum(['ENROLLMENT', 'DUE_DATE']).default('ENROLLMENT'),
  intent: z.enum(INTENTS, { message: `must be one of ${INTENTS.join(', ')}` }),
  /** null or omitted: the debtor's preference. */
  channel: channel.nullable().optional(),
  conditions: stepConditionsSchema.optional(),
  /** Local sending window in the debtor's zone(s); narrows the legal allowed hours. */
  window: stepWindowSchema.nullable().optional(),
});

const throttleSchema = z.partialRecord(channel, z.number().int().min(1, 'must be at least 1 per minute').max(100_000));
export type Throttle = z.infer<typeof throttleSchema>;

const cron = z
  .string()
  .max(100)
  .refine(
    (v) => v.trim().split(/\s+/).length >= 5 || /^every /i.test(v) || /^\d+ (minute|hour|day|week)s?$/i.test(v),
    'must be a cron expression like "0 9 * * 1" or an interval like "1 day"',
  );

export const campaignInput = z.object({
  name: z.string().trim().min(1, 'is required').max(200),
  audience: audienceSchema.default({}),
  steps: z.array(stepSchema).min(1, 'needs at least one step').max(20),
  throttle: throttleSchema.default({}),
  stopConditions: z
    .array(z.enum(STOP_CONDITIONS))
    .refine((a) => new Set(a).size === a.length, 'must not repeat')
    .optional(),
  cron: cron.nullable().optional(),
  timeZone: timeZone.nullable().optional(),
});
export type CampaignInput = z.infer<typeof campaignInput>;

/** Steps can only change while the campaign is a DRAFT (step runs refer to them). */
export const campaignPatch = campaignInput.partial();

// Configuration comes from the environment (and an optional .env file), is
// validated once at start, and is then passed around as a typed object. A bad
// value stops the process with one line naming the variable and the problem.
import { z } from 'zod';
import { parseChannelRates, ThrottleConfigError } from './campaigns/rates.js';
import { TargetAllowList } from './net/addresses.js';
import { plugins, pluginsFor, providerEnv } from '../channels/registry.js';
import { parseCountryPreference, parseProviderList, RoutingConfigError } from './provider-routing.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce
  .number({ message: 'must be a number' })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 65535')
  .max(65535, 'must be between 0 and 65535');

const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL')
  .refine((v) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid URL');

const httpUrl = z
  .string()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL')
  .transform((v) => v.replace(/\/+$/, ''));

/**
 * express's `trust proxy`: true (every hop: a client can then choose its own
 * address with X-Forwarded-For), false, a hop count ("1": the one proxy in
 * front), or the proxies' addresses / CIDR ranges / express's names
 * (loopback, linklocal, uniquelocal), comma-separated.
 */
const trustProxy = z.string().transform((v, issue): boolean | number | string[] => {
  const lower = v.toLowerCase();
  if (['true', 'yes'].includes(lower)) return true;
  if (['false', 'no'].includes(lower)) return false;
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const e of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(e.toLowerCase())) continue;
    if (!/[/:.]/.test(e) || TargetAllowList.problemOf(e) || !/^[\d.:a-f/]+$/i.test(e)) {
      issue.addIssue({
        code: 'custom',
        message: `must be true, false, a hop count, or proxy addresses / CIDR ranges (got "${e}")`,
      });
      return z.NEVER;
    }
  }
  return entries;
});

/** Comma-separated list checked entry by entry with `problemOf`. */
const listOf = (problemOf: (entry: string) => string | null) =>
  z.string().superRefine((v, issue) => {
    for (const e of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const p = problemOf(e);
      if (p) issue.addIssue({ code: 'custom', message: p });
    }
  });

const originProblem = (e: string) => {
  try {
    const u = new URL(e);
    return u.protocol === 'http:' || u.protocol === 'https:' ? null : `"${e}" is not an http(s) origin`;
  } catch {
    return `"${e}" is not an http(s) origin like https://media.example.com`;
  }
};

const positiveInt = z.coerce
  .number({ message: 'must be a number' })
  .int('must be a whole number')
  .positive('must be positive');

/** Every variable the service reads. Keep .env.example in step (a test checks). */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl.optional(),
  // Prepared statements for hot queries; false behind a pooler that shares server connections between transactions (PgBouncer transaction mode before 1.21).
  DB_PREPARED_STATEMENTS: bool.default(true),
  DATA_DIR: z.string().min(1).default('./.data'),
  EMBEDDED_PG_PORT: port.default(54329),
  MONGODB_URL: z
    .string()
    .refine((v) => /^mongodb(\+srv)?:\/\//.test(v), 'must be a mongodb:// or mongodb+srv:// URL')
    .optional(),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
    .default('1mb'),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15000),
  // Provider calls at once (per process) for messages sent the moment they are decided; more wait in the outbox.
  SEND_CONCURRENCY: positiveInt.default(100),
  // The lease on a message claimed for sending: renewed while its provider call runs; past it, the recovery sweep reconciles it (src/outbound/recovery.ts).
  SEND_LEASE_MS: positiveInt.min(2000, 'must be at least 2000').default(120000),
  PUBLIC_BASE_URL: httpUrl.optional(),
  PROVIDERS: z.enum(['sandbox', 'live', 'auto']).default('auto'),
  TRUST_PROXY: trustProxy.default(false),
  APP_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  COMPANY_NAME: z.string().min(1).default('Acme Collections'),
  VOICEMAIL_BUSINESS_NAME: z.string().min(1).default('Customer Care'),
  // Record reminder calls (the voice provider records; the audio is kept with the call). The person hears a recording notice first: several US states require every party's consent.
  VOICE_RECORD_CALLS: bool.default(false),
  AGENT_NAME: z.string().min(1).default('Customer Care team'),
  // The inbox's first-response target: a debtor's message waiting longer than this is shown overdue.
  INBOX_FIRST_RESPONSE_SLA_MINUTES: positiveInt.default(60),
  RETURN_ADDRESS: z
    .string()
    .regex(
      /^[^|]+\|[^|]+\|[^|]*\|[^|]+\|[A-Z]{2}$/,
      'must be "line1|city|region|postal code|country", e.g. "1 Main St|San Francisco|CA|94105|US"',
    )
    .default('185 Berry St Ste 6100|San Francisco|CA|94107|US'),
  PAYMENT_LINK_BASE: z.string().url('must be a URL').optional(),
  // Payments (src/payments, channels/stripe, channels/gocardless): live where the keys are set, else the local sandboxes.
  STRIPE_SECRET_KEY: z
    .string()
    .regex(
      /^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}$/,
      'must be a Stripe secret key (sk_live_…, sk_test_… or a restricted rk_… key)',
    )
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=_-]{10,}$/, 'must be the endpoint signing secret (whsec_…)')
    .optional(),
  GOCARDLESS_ACCESS_TOKEN: z.string().min(20, 'must be at least 20 characters').optional(),
  GOCARDLESS_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  GOCARDLESS_ENVIRONMENT: z.enum(['sandbox', 'live']).default('live'),
  ADMIN_API_KEY: z.string().min(24, 'must be at least 24 characters').optional(),
  // Each provider's own variables (channels/<provider>/config.ts).
  ...providerEnv,
  // Failover order of SMS providers, and a provider put first for numbers of a country.
  SMS_PROVIDERS: z
    .string()
    .optional()
    .superRefine((v, issue) => routingIssue(issue, () => parseProviderList('SMS', v))),
  SMS_PROVIDER_BY_COUNTRY: z.string().optional(),
  AGENT_PHONE_NUMBER: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number')
    .optional(),
  // Which email provider sends: auto picks the first whose credentials are set (registry order), else the first.
  EMAIL_PROVIDER: z.enum(['auto', ...pluginsFor('EMAIL').map((p) => p.id)] as [string, ...string[]]).default('auto'),
  EMAIL_FROM: z.string().email('must be an email address').default('collections@example.com'),
  INBOUND_EMAIL_DOMAIN: z.string().min(3).default('inbound.example.com'),
  // Inbound (src/inbound): SMTP listener for replies by MX, attachment limits, retry policy.
  SMTP_LISTEN_PORT: port.default(0),
  SMTP_LISTEN_HOST: z.string().min(1).default('0.0.0.0'),
  INBOUND_EMAIL_MAX_BYTES: positiveInt.default(31457280),
  ATTACHMENT_MAX_BYTES: positiveInt.default(10485760),
  ATTACHMENT_CONTENT_TYPES: z
    .string()
    .regex(
      /^\s*[\w.+-]+\/[\w.+*-]+(\s*,\s*[\w.+-]+\/[\w.+*-]+)*\s*$/,
      'must be a comma-separated list of content types like image/*,application/pdf',
    )
    .default('image/*,application/pdf,text/plain,text/csv,text/vcard,audio/*,video/mp4'),
  INBOUND_RETRY_BASE_MS: positiveInt.default(30000),
  INBOUND_RETRY_SWEEP_MS: positiveInt.default(30000),
  INBOUND_MAX_ATTEMPTS: positiveInt.default(10),
  // A webhook stored by a process that died before processing it is taken over by another process after this many ms.
  INBOUND_LEASE_MS: positiveInt.min(2000, 'must be at least 2000').default(120000),
  WEBHOOK_MAX_AGE_SECONDS: positiveInt.default(600),
  // Outgoing webhooks never reach internal addresses (loopback, private, link-local, metadata) except these: IPs, CIDR ranges, host names.
  WEBHOOK_ALLOWED_INTERNAL_TARGETS: listOf((e) => TargetAllowList.problemOf(e.toLowerCase())).optional(),
  // Origins besides the provider's own media hosts that inbound media is fetched from, with the provider's credentials (a media proxy you run).
  INBOUND_MEDIA_ORIGINS: listOf(originProblem).optional(),
  // Import (src/import): largest uploaded file, and how long an import whose process stopped answering waits before another resumes it.
  IMPORT_MAX_BYTES: positiveInt.default(104857600),
  IMPORT_STALL_TIMEOUT_MS: positiveInt.min(2000, 'must be at least 2000').default(30000),
  // A campaign job (enrolment, wave, dispatch) whose process stopped touching its lock is taken over by another process after this many ms.
  CAMPAIGN_STALL_TIMEOUT_MS: positiveInt.min(2000, 'must be at least 2000').default(60000),
  // Providers' messages per minute per channel, shared by every campaign ("SMS=600,EMAIL=1200"; unset: no shared limit).
  PROVIDER_RATE_LIMITS: z
    .string()
    .optional()
    .superRefine((v, issue) => {
      try {
        parseChannelRates(v);
      } catch (err) {
        issue.addIssue({ code: 'custom', message: err instanceof ThrottleConfigError ? err.reason : String(err) });
      }
    }),
});

function routingIssue(issue: z.RefinementCtx, check: () => unknown): void {
  try {
    check();
  } catch (err) {
    issue.addIssue({ code: 'custom', message: err instanceof RoutingConfigError ? err.message : String(err) });
  }
}

/** Checks across variables (the per-country preference must name a provider of SMS_PROVIDERS). */
const checkedEnvSchema = envSchema.superRefine((env, issue) => {
  try {
    parseCountryPreference(env.SMS_PROVIDER_BY_COUNTRY, parseProviderList('SMS', env.SMS_PROVIDERS), 'SMS_PROVIDERS');
  } catch (err) {
    if (err instanceof RoutingConfigError)
      issue.addIssue({ code: 'custom', path: ['SMS_PROVIDER_BY_COUNTRY'], message: err.message });
  }
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the given environment. Empty strings count as unset, so `FOO=` in a
 * .env file falls back to the default instead of failing validation.
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Env {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = source[key];
    if (v !== undefined && v.trim() !== '') cleaned[key] = v.trim();
  }
  const parsed = checkedEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const value = cleaned[variable];
    const problem =
      issue.code === 'invalid_value' && 'values' in issue
        ? `must be one of ${(issue.values as unknown[]).join(', ')}`
        : issue.message;
    throw new ConfigError(
      variable,
      `${problem}${value !== undefined && !isSecret(variable) ? ` (got "${value}")` : ''}`,
    );
  }
  return parsed.data;
}

const providerSecrets = new Set(plugins.flatMap((p) => p.secretEnv ?? []));

export function isSecret(name: string): boolean {
  return /TOKEN|KEY|SECRET|PASSWORD|DATABASE_URL|MONGODB_URL/.test(name) || providerSecrets.has(name);
}

// Reading the templates directory: layout, front matter and per-channel
// metadata schemas. Layout (see templates/README.md):
//   <dir>/<locale>/_locale.yaml              disclosures, markings, labels
//   <dir>/<locale>/<intent>/sms.txt          front matter + body
//   <dir>/<locale>/<intent>/email.md         front matter (subject) + body
//   <dir>/<locale>/<intent>/letter.md        front matter (subject, mail_type, …) + body
//   <dir>/<locale>/<intent>/voice.yaml       say / menu / voicemail
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AMOUNT_TABLE_KEYS } from './variables.js';

export const LOCALE_FILE = '_locale.yaml';
const LOCALE_DIR_PATTERN = /^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$/;

const TONES = ['friendly', 'neutral', 'firm', 'formal'] as const;
export type Tone = (typeof TONES)[number];

const MAIL_TYPES = ['usps_first_class', 'usps_standard'] as const;
export type MailType = (typeof MAIL_TYPES)[number];
const EXTRA_SERVICES = ['certified', 'certified_return_receipt', 'registered', 'none'] as const;
export type ExtraService = (typeof EXTRA_SERVICES)[number];

const common = {
  /** Position in the escalation cadence (1 = friendly reminder). */
  step: z.number().int().min(1).max(9).optional(),
  tone: z.enum(TONES).optional(),
  description: z.string().optional(),
};

export const smsFrontMatter = z.strictObject({ ...common });
export const emailFrontMatter = z.strictObject({ ...common, subject: z.string().min(1) });
export const letterFrontMatter = z
  .strictObject({
    ...common,
    subject: z.string().min(1),
    mail_type: z.enum(MAIL_TYPES),
    extra_service: z.enum(EXTRA_SERVICES),
    payment_instructions: z.string().min(1),
    amount_table: z.array(z.enum(AMOUNT_TABLE_KEYS)).min(1),
  })
  .refine((m) => m.extra_service === 'none' || m.mail_type === 'usps_first_class', {
    message: 'certified, certified_return_receipt and registered need mail_type usps_first_class',
    path: ['extra_service'],
  });
export const voiceFile = z.strictObject({
  ...common,
  /** Spoken to a person who answered, before the menu. */
  say: z.string().min(1),
  /** Keypad menu prompt: 1 agent, 2 text me a payment link, 9 stop calling me. */
  menu: z.string().min(1),
  /** Limited-content message (Reg F §1006.2(j)) left on an answering machine. */
  voicemail: z.string().min(1),
});

/** How calls in this locale sound and what the keypad menu answers (TwiML <Say language voice>). */
export const localeVoice = z.strictObject({
  /** A Twilio <Say> language, e.g. en-US, es-US, hi-IN. */
  language: z.string().regex(/^[a-z]{2,3}-[A-Z]{2}$/, 'a language-REGION tag such as en-US'),
  /** A Twilio voice that speaks `language`, e.g. Polly.Joanna (en-US), Polly.Lupe (es-US). */
  tts_voice: z
    .string()
    .regex(/^(man|woman|(Polly|Google)\.[A-Za-z0-9-]+)$/, 'man, woman, Polly.<Name> or Google.<voice>'),
  recording_notice: z.string().min(1),
  connecting_agent: z.string().min(1),
  no_agent: z.string().min(1),
  text_link_sent: z.string().min(1),
  text_refused: z.string().min(1),
  calls_stopped: z.string().min(1),
  goodbye: z.string().min(1),
});
export type LocaleVoice = z.infer<typeof localeVoice>;

export const localeFile = z.strictObject({
  /** Optional: a locale without it speaks with its fallback's (es-MX → es → en). */
  voice: localeVoice.optional(),
  disclosure_first: z.string().min(1),
  disclosure_subsequent: z.string().min(1),
  private_and_confidential: z.string().min(1),
  /** Wording of {{dueStatus}} ({date}, {days}); a locale without it falls back to en. */
  due_status: z
    .strictObject({
      upcoming: z.string().min(1),
      today: z.string().min(1),
      overdue_one: z.string().min(1),
      overdue: z.string().min(1),
    })
    .optional(),
  letter: z.strictObject({
    date: z.string().min(1),
    subject: z.string().min(1),
    payment_instructions: z.string().min(1),
  }),
  amount_table: z.strictObject(
    Object.fromEntries(AMOUNT_TABLE_KEYS.map((key) => [key, z.string().min(1)])) as Record<
      (typeof AMOUNT_TABLE_KEYS)[number],
      z.ZodString
    >,
  ),
  /**
   * Disclosures a state requires in written communications about a time-barred debt, by
   * jurisdiction ("US-CA"): `reportable` while the debt may still be reported to credit
   * bureaus, `obsolete` after (FCRA §605(a)). `{collector}` is replaced by the sender's name.
   */
  time_barred: z
    .record(
      z.string().regex(/^[A-Z]{2}(-[A-Z0-9]{1,3})?$/),
      z.strictObject({ reportable: z.string().min(1), obsolete: z.string().min(1) }),
    )
    .optional(),
  /** The debtor's page and the unsubscribe page (src/portal/i18n.ts); en must have every key. */
  portal: z.record(z.string().regex(/^[a-z][a-zA-Z_]*$/), z.string().min(1)).optional(),
});
export type LocaleFile = z.infer<typeof localeFile>;

export function isLocaleDirName(name: string): boolean {
  return LOCALE_DIR_PATTERN.test(name);
}

/** Splits `---\n<yaml>\n---\n<body>` into its front matter and body. */
export function splitFrontMatter(content: string): { frontMatter: unknown; body: string } {
  const text = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (!text.startsWith('---\n')) return { frontMatter: {}, body: text };
  const end = text.indexOf('\n---', 3);
  if (end === -1) throw new Error('front matter opened with --- is never closed');
  const afterMarker = text.indexOf('\n', end + 4);
  const body = afterMarker === -1 ? '' : text.slice(afterMarker + 1);
  const frontMatter = parseYaml(text.slice(4, end)) ?? {};
  return { frontMatter, body };
}

export function readYamlFile(path: string): unknown {
  return parseYaml(readFileSync(path, 'utf8')) ?? {};
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function listEntries(dir: string): { name: string; isDirectory: boolean }[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort()
    .map((name) => ({ name, isDirectory: statSync(join(dir, name)).isDirectory() }));
}

export function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

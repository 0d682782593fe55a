// The message intents, channels and the matrix of which intent ships on
// which channel. Everything else in the template module keys off these.

export const INTENTS = [
  'friendly-reminder',
  'past-due-notice',
  'final-notice',
  'letter-of-demand',
  'payment-plan-offer',
  'opt-out-confirmation',
  'payment-received',
  'help',
  // The answer to a dispute (the router allows it while DISPUTE_UNDER_REVIEW pauses everything else).
  'dispute-verification',
  'verification-code',
  'instalment-failed',
] as const;
export type Intent = (typeof INTENTS)[number];

export const TEMPLATE_CHANNELS = ['sms', 'email', 'voice', 'letter'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

/** File extension per channel: `templates/<locale>/<intent>/<channel>.<ext>`. */
export const CHANNEL_FILE_EXTENSION: Record<TemplateChannel, string> = {
  sms: 'txt',
  email: 'md',
  voice: 'yaml',
  letter: 'md',
};

/**
 * Channels each intent must ship in the base locale. A letter of demand goes by
 * tracked post (with an email copy); an opt-out confirmation is only ever a
 * reply on the medium the person opted out of, and calls have their own opt-out
 * (keypad 9), so it is SMS and email only.
 */
export const REQUIRED_CHANNELS: Record<Intent, readonly TemplateChannel[]> = {
  'friendly-reminder': ['sms', 'email', 'voice'],
  'past-due-notice': ['sms', 'email', 'voice', 'letter'],
  'final-notice': ['sms', 'email', 'voice', 'letter'],
  'letter-of-demand': ['letter', 'email'],
  'payment-plan-offer': ['sms', 'email', 'voice'],
  'opt-out-confirmation': ['sms', 'email'],
  'payment-received': ['sms', 'email'],
  // The answer to an SMS HELP/INFO keyword: only ever a reply to that text.
  help: ['sms'],
  'dispute-verification': ['email', 'letter'],
  // The one-time code of the debtor's page, sent where the page's link went (src/portal/identity.ts).
  'verification-code': ['sms', 'email'],
  // A self-collecting plan's charge failed (src/payments/plans.ts): the debtor is told, with a link to use another card.
  'instalment-failed': ['sms', 'email'],
};

/** Channels an intent may ship at all (a superset check on what is on disk). */
export const ALLOWED_CHANNELS: Record<Intent, readonly TemplateChannel[]> = {
  ...REQUIRED_CHANNELS,
  'friendly-reminder': ['sms', 'email', 'voice', 'letter'],
  'payment-plan-offer': ['sms', 'email', 'voice', 'letter'],
  'payment-received': ['sms', 'email', 'letter'],
  'dispute-verification': ['sms', 'email', 'letter'],
};

/**
 * The keypad menu every voice template's `menu` prompt must offer. The voice
 * call flow maps the `<Gather>` digits with this table.
 */
export const VOICE_MENU_DIGITS = {
  '1': 'connect_agent',
  '2': 'sms_payment_link',
  '9': 'stop_calling',
} as const;
export type VoiceMenuAction = (typeof VOICE_MENU_DIGITS)[keyof typeof VOICE_MENU_DIGITS];

export function isIntent(value: unknown): value is Intent {
  return typeof value === 'string' && (INTENTS as readonly string[]).includes(value);
}

export function isTemplateChannel(value: unknown): value is TemplateChannel {
  return typeof value === 'string' && (TEMPLATE_CHANNELS as readonly string[]).includes(value);
}

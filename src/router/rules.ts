// The baseline every debtor gets (Reg F hours and call cap, TCPA-driven intents, house
// caps), the intents each restriction still permits, and the default configuration. Rules of
// one jurisdiction live in its own file in ./jurisdictions/. See docs/domain.md for the
// summaries these tables encode (§ numbers below). Where a rule is unclear we take the
// stricter reading and say so in the comment.

import type { CapRule, ContactRestriction, HoursRule, JurisdictionRule, RouterConfig, RuleId } from './types.js';
import { CLOSED_DEBT_STATUSES } from './types.js';
import { BUILT_IN_PACKS } from './jurisdictions.js';
import { ELECTRONIC as NON_LETTER } from './pack.js';

/**
 * How many days of history (HistoryEntry) the caller must load for a decision.
 * The longest built-in window is 7 days; per-debtor limits may ask for up to this many.
 */
export const HISTORY_DAYS = 31;

/** Reg F §1006.6(c): the only communications left after a written cease/refusal. */
export const CEASE_PERMITTED_INTENTS = [
  'collection_ending', // §1006.6(c)(1): further efforts are being terminated
  'remedy_may_be_invoked', // §1006.6(c)(2): collector or creditor may invoke specified remedies
  'remedy_will_be_invoked', // §1006.6(c)(3): collector or creditor intends to invoke a specified remedy
] as const;

/**
 * One confirmation of an opt-out: Reg F §1006.14(h) commentary and TCPA practice
 * (docs/domain.md §2.3: "After an opt-out, one confirmation text ... then nothing").
 */
export const OPT_OUT_CONFIRMATION_INTENTS = ['opt_out_confirmation'] as const;

/**
 * The answer to an SMS HELP/INFO keyword (CTIA messaging principles; carriers
 * expect every sender to answer it). Only ever the one reply to the debtor's
 * own text, on that medium, to that number — never a message we initiate.
 */
export const HELP_REPLY_INTENTS = ['help'] as const;

/** Messages about money already received are no collection attempt. */
export const CLOSED_DEBT_ALLOWED_INTENTS = [
  'payment_received',
  'payment_confirmation',
  'settlement_confirmation',
  'collection_ending',
  ...OPT_OUT_CONFIRMATION_INTENTS,
] as const;

/** Restriction → rule id used in reasons. */
export const RESTRICTION_RULE: Readonly<Record<ContactRestriction, RuleId>> = {
  CEASE_COMMUNICATION: 'restriction.cease_communication',
  DISPUTE_UNDER_REVIEW: 'restriction.dispute_under_review',
  BANKRUPTCY: 'restriction.bankruptcy',
  ATTORNEY_REPRESENTED: 'restriction.attorney_represented',
  DECEASED: 'restriction.deceased',
  MORATORIUM: 'restriction.moratorium',
};

export const RESTRICTION_CITATION: Readonly<Record<ContactRestriction, string>> = {
  CEASE_COMMUNICATION: 'Reg F 12 CFR 1006.6(c)',
  // Reg F §1006.38(d)(2) / FDCPA §809(b): collection stops until verification; CONC 7.14 in the UK.
  DISPUTE_UNDER_REVIEW: 'Reg F 12 CFR 1006.38(d)(2); FCA CONC 7.14',
  BANKRUPTCY: '11 U.S.C. §362 automatic stay',
  ATTORNEY_REPRESENTED: 'Reg F 12 CFR 1006.6(b)(2)',
  DECEASED: 'Reg F 12 CFR 1006.6(a)(4) (estate contact only through its representative)',
  MORATORIUM: 'UK Debt Respite Scheme (Breathing Space) Regulations 2020; FCA CONC 7',
};

/** Reg F §1006.6(b)(1): before 08:00 or after 21:00 local is inconvenient — calls, texts and emails alike. */
export const REG_F_HOURS: HoursRule = {
  rule: 'quiet_hours',
  channels: NON_LETTER,
  from: '08:00',
  to: '21:00',
  citation: 'Reg F 12 CFR 1006.6(b)(1)',
};

/** Reg F §1006.14(b)(2)(i)(A): more than 7 call attempts in 7 consecutive days, per debt. */
export const REG_F_CALL_CAP: CapRule = {
  rule: 'limit.regf_call_7in7',
  channels: ['VOICE'],
  scope: 'debt',
  max: 7,
  days: 7,
  // Binds debt collectors (a first-party creditor is none), and not for 7 days after direct prior consent.
  debtCollectorOnly: true,
  citation: 'Reg F 12 CFR 1006.14(b)(2)(i)(A)',
};

/** Reg F §1006.34(a)(1): the validation notice goes in the initial communication or within 5 days after it. */
export const VALIDATION_NOTICE_DAYS = 5;
/** The validation notice itself and the messages that end or resolve collection are never held back waiting for it. */
export const VALIDATION_EXEMPT_INTENTS: ReadonlySet<string> = new Set([
  'validation_notice',
  'dispute_verification',
  'collection_ending',
  'remedy_may_be_invoked',
  'remedy_will_be_invoked',
]);

/** Reg F §1006.14(b)(2)(i)(B): no call within 7 days after a telephone conversation (that day is day 1). */
export const REG_F_AFTER_CONVERSATION_DAYS = 7;
export const REG_F_AFTER_CONVERSATION_CITATION = 'Reg F 12 CFR 1006.14(b)(2)(i)(B)';

/** House defaults for texts and emails (no statute caps them; repeated texting turns customers hostile). */
export const DEFAULT_SMS_CAP: CapRule = {
  rule: 'limit.sms_default',
  channels: ['SMS'],
  scope: 'debtor',
  max: 3,
  days: 7,
  citation: 'house policy (configurable)',
};
export const DEFAULT_EMAIL_CAP: CapRule = {
  rule: 'limit.email_default',
  channels: ['EMAIL'],
  scope: 'debtor',
  max: 5,
  days: 7,
  citation: 'house policy (configurable)',
};

/**
 * Jurisdiction packs: one file each in ./jurisdictions/ (US-MA, US-WA, US-NY-NYC, IN, GB, CA-ON, ...),
 * found by ./jurisdictions.ts. They add to the baseline above; they never relax it.
 */
export const JURISDICTION_RULES: readonly JurisdictionRule[] = BUILT_IN_PACKS;

export const DEFAULT_CONFIG: RouterConfig = {
  defaultChannelOrder: ['SMS', 'EMAIL', 'VOICE', 'LETTER'],
  baseHours: [REG_F_HOURS],
  baseCaps: [REG_F_CALL_CAP, DEFAULT_SMS_CAP, DEFAULT_EMAIL_CAP],
  jurisdictionRules: JURISDICTION_RULES,
  restrictionAllowedIntents: {
    CEASE_COMMUNICATION: [...CEASE_PERMITTED_INTENTS, ...OPT_OUT_CONFIRMATION_INTENTS],
    // Sending the verification itself is what lifts the pause.
    DISPUTE_UNDER_REVIEW: ['dispute_verification', ...OPT_OUT_CONFIRMATION_INTENTS],
    BANKRUPTCY: [...OPT_OUT_CONFIRMATION_INTENTS],
    ATTORNEY_REPRESENTED: [...OPT_OUT_CONFIRMATION_INTENTS],
    DECEASED: [...OPT_OUT_CONFIRMATION_INTENTS],
    MORATORIUM: [...OPT_OUT_CONFIRMATION_INTENTS],
  },
  closedDebtStatuses: CLOSED_DEBT_STATUSES,
  closedDebtAllowedIntents: CLOSED_DEBT_ALLOWED_INTENTS,
  optOutConfirmationIntents: OPT_OUT_CONFIRMATION_INTENTS,
  helpReplyIntents: HELP_REPLY_INTENTS,
  // "a message the consumer just initiated": one hour, after which normal hours apply.
  replyWindowMinutes: 60,
  // No location signal at all: assume the debtor may be anywhere in the contiguous US.
  fallbackTimeZones: ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Los_Angeles'],
  unknownLineTypeIsMobile: true,
  searchHorizonDays: 60,
};

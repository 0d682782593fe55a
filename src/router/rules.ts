// Every contact rule the router enforces, in one place, with its source.
// See /work/shared/domain.md for the summaries these tables encode. Where a
// rule is unclear we take the stricter reading and say so in the comment.

import type {
  CapRule,
  Channel,
  ContactRestriction,
  HoursRule,
  JurisdictionRule,
  RouterConfig,
  RuleId,
} from './types.js';

/**
 * How many days of history (HistoryEntry) the caller must load for a decision.
 * The longest built-in window is 7 days; per-debtor limits may ask for up to this many.
 */
export const HISTORY_DAYS = 31;

const NON_LETTER: readonly Channel[] = ['SMS', 'EMAIL', 'VOICE'];

/** Reg F §1006.6(c): the only communications left after a written cease/refusal. */
export const CEASE_PERMITTED_INTENTS = [
  'collection_ending', // §1006.6(c)(1): further efforts are being terminated
  'remedy_may_be_invoked', // §1006.6(c)(2): collector or creditor may invoke specified remedies
  'remedy_will_be_invoked', // §1006.6(c)(3): collector or creditor intends to invoke a specified remedy
] as const;

/**
 * One confirmation of an opt-out: Reg F §1006.14(h) commentary and TCPA practice
 * (domain.md: "After an opt-out, one confirmation text ... then nothing").
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
  citation: 'Reg F 12 CFR 1006.14(b)(2)(i)(A)',
};

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

export const JURISDICTION_RULES: readonly JurisdictionRule[] = [
  {
    jurisdiction: 'US-MA',
    name: 'Massachusetts',
    citation: '940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)',
    caps: [
      {
        // "initiated calls/texts/recorded messages ... to a residence or personal phone, per debt":
        // applied to every phone we reach (stricter than residence-only).
        rule: 'limit.ma_calls_texts',
        channels: ['VOICE', 'SMS'],
        scope: 'debt',
        max: 2,
        days: 7,
        citation: '940 CMR 7.04(1)(f); 209 CMR 18.16(1)(d)',
      },
    ],
    hours: [],
    writtenConsentChannels: [],
  },
  {
    jurisdiction: 'US-WA',
    name: 'Washington',
    citation: 'RCW 19.16.250(13)',
    caps: [
      {
        // "more than three times in a single week": counted per debtor across all channels,
        // rolling 7 days (stricter than per debt or per calendar week).
        rule: 'limit.wa_communications',
        channels: 'ALL',
        scope: 'debtor',
        max: 3,
        days: 7,
        citation: 'RCW 19.16.250(13)(a)',
      },
      {
        rule: 'limit.wa_work',
        channels: 'ALL',
        scope: 'debtor',
        max: 1,
        days: 7,
        workOnly: true,
        citation: 'RCW 19.16.250(13)(b)',
      },
    ],
    // Home contact 07:30–21:00. Intersected with Reg F's 08:00 start it never binds in the
    // morning; kept so the table reads like the statute and binds if the baseline is relaxed.
    hours: [
      {
        rule: 'quiet_hours',
        channels: NON_LETTER,
        from: '07:30',
        to: '21:00',
        citation: 'RCW 19.16.250(13)(c)',
      },
    ],
    writtenConsentChannels: [],
  },
  {
    jurisdiction: 'US-NY-NYC',
    name: 'New York City',
    // Effective 2026-09-01. Applied regardless of the date: it only ever narrows contact.
    citation: 'NYC DCWP rule 6 RCNY 5-77',
    caps: [
      {
        rule: 'limit.nyc_attempts',
        channels: 'ALL',
        scope: 'debt',
        max: 3,
        days: 7,
        citation: '6 RCNY 5-77 (3 attempts per 7 days across channels, per account)',
      },
    ],
    hours: [],
    // "email and text only with written consent": only GRANTED counts.
    writtenConsentChannels: ['EMAIL', 'SMS'],
  },
  {
    jurisdiction: 'IN',
    name: 'India',
    citation: 'RBI/2022-23/108 (recovery agents)',
    caps: [],
    hours: [
      {
        // The circular names calls; we apply it to texts and emails too (stricter reading:
        // domain.md asks for the stricter reading where a rule is unclear).
        rule: 'quiet_hours',
        channels: NON_LETTER,
        from: '08:00',
        to: '19:00',
        citation: 'RBI/2022-23/108: calls only 08:00–19:00 (applied to all electronic channels)',
      },
    ],
    writtenConsentChannels: [],
  },
  {
    jurisdiction: 'GB',
    name: 'United Kingdom',
    // CONC 7.9: no contact at unreasonable times; the Reg F baseline 08:00–21:00 applies.
    // Disputes (CONC 7.14) and Breathing Space arrive as DISPUTE_UNDER_REVIEW / MORATORIUM restrictions.
    citation: 'FCA CONC 7.9, 7.14',
    caps: [],
    hours: [],
    writtenConsentChannels: [],
  },
];

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
  closedDebtStatuses: ['PAID', 'SETTLED', 'CLOSED', 'WRITTEN_OFF'],
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

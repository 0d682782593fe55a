// Types of the channel router: the snapshot the DB layer builds, the request,
// the configuration and the decision. The router is a pure function over these
// values — it never reads the database, the clock or a provider API.
//
// Enum literals mirror prisma/schema.prisma so Prisma rows map over without
// translation (Channel, ConsentState, ContactRestriction, DebtStatus, ...).

export type Channel = 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER';
export const CHANNELS: readonly Channel[] = ['SMS', 'EMAIL', 'VOICE', 'LETTER'];

export type ConsentState = 'GRANTED' | 'UNKNOWN' | 'REVOKED';
export type ContactPointKind = 'PHONE' | 'EMAIL' | 'ADDRESS';
export type Direction = 'OUTBOUND' | 'INBOUND';

export type ContactRestriction =
  | 'CEASE_COMMUNICATION'
  | 'DISPUTE_UNDER_REVIEW'
  | 'BANKRUPTCY'
  | 'ATTORNEY_REPRESENTED'
  | 'DECEASED'
  | 'MORATORIUM';
export const CONTACT_RESTRICTIONS: readonly ContactRestriction[] = [
  'CEASE_COMMUNICATION',
  'DISPUTE_UNDER_REVIEW',
  'BANKRUPTCY',
  'ATTORNEY_REPRESENTED',
  'DECEASED',
  'MORATORIUM',
];

export type DebtStatus =
  | 'OPEN'
  | 'PROMISED'
  | 'PAYMENT_PLAN'
  | 'DISPUTED'
  | 'PAID'
  | 'SETTLED'
  | 'WRITTEN_OFF'
  | 'CLOSED';

/** Debts nobody collects any more (the router's default, campaigns' PAID stop, confirmations' anchor debt). */
export const CLOSED_DEBT_STATUSES: readonly DebtStatus[] = ['PAID', 'SETTLED', 'CLOSED', 'WRITTEN_OFF'];
export const isClosedDebt = (status: string): boolean => (CLOSED_DEBT_STATUSES as readonly string[]).includes(status);

// ─────────────────────────── snapshot ───────────────────────────

export interface DebtorSnapshot {
  id: string;
  /** ISO 3166 country with optional subdivision/locality: "US-MA", "US-NY-NYC", "IN", "GB". */
  jurisdiction: string | null;
  /** Explicit IANA zone; wins over every derived signal. */
  timeZone: string | null;
  restrictions: readonly ContactRestriction[];
  locale: string;
  /**
   * Rules the debtor has consented to lift, by rule id (e.g. "limit.ca_on_contacts" after an
   * Ontario debtor agreed to more frequent contact). Only rules marked waivableByConsent honour it.
   */
  waivers?: readonly RuleId[];
}

export interface ContactPointSnapshot {
  id: string;
  kind: ContactPointKind;
  /** E.164 for phones, lower-cased address for email, one line for postal addresses. */
  value: string;
  /** null = unknown; for calls/texts the router then assumes a mobile (stricter TCPA reading). */
  isMobile: boolean | null;
  isWork: boolean;
  employerForbidsContact: boolean;
  /** Work email only: has the debtor ever used it to write to us (Reg F §1006.22(f)(3))? */
  usedByDebtor?: boolean;
  /** Postal address parts (kind ADDRESS); country is ISO 3166-1 alpha-2. */
  country: string | null;
  region: string | null;
  postalCode: string | null;
  city?: string | null;
  /** Explicit IANA zone of this point, when known. */
  timeZone: string | null;
  valid: boolean;
  consents: Partial<Record<Channel, ConsentState>>;
  /**
   * Channels on which this address is on the suppression list (it opted out
   * before, or without, being on file), with the recorded reason.
   */
  suppressions?: Partial<Record<Channel, string>>;
}

/** A window the debtor called inconvenient. days: ISO weekdays 1 (Mon) … 7 (Sun) on which it starts. */
export interface InconvenientTime {
  days: readonly number[];
  /** "HH:mm" local time; from > to spans midnight. */
  from: string;
  /** "HH:mm" local time, "24:00" allowed. */
  to: string;
}

export interface ContactLimit {
  max: number;
  days: number;
}
/** Per-debtor caps keyed by channel, or ALL for every channel together. */
export type ContactLimits = Partial<Record<Channel | 'ALL', ContactLimit>>;

export interface PreferencesSnapshot {
  /** Preferred channels, most preferred first; the configured default order follows. */
  channelOrder: readonly Channel[];
  /** Raw JSON from ContactPreferences.inconvenientTimes; validated by the router. */
  inconvenientTimes: unknown;
  /** Raw JSON from ContactPreferences.contactLimits; validated by the router. */
  contactLimits: unknown;
}

/**
 * Who collects the debt (docs/domain.md §2.1): a first-party creditor collecting its own
 * invoices in its own name, or a collection agency (a debt collector under the FDCPA/Reg F).
 */
export type CollectorRole = 'FIRST_PARTY' | 'AGENCY';

/** Attorney representation (Reg F §1006.6(b)(2)): only these two states lift the restriction. */
export type AttorneyStatus = 'REPRESENTING' | 'CONSENTED' | 'UNRESPONSIVE';

export interface DebtSnapshot {
  id: string;
  status: DebtStatus;
  /**
   * Who collects it. Absent: handled as AGENCY (the stricter regime) without naming it; the
   * gateway's own snapshots always set it, and then every decision names the regime.
   */
  collector?: CollectorRole;
  /**
   * Reg F §1006.14(b)(3): when the person gave direct prior consent to more calls about this
   * debt. Calls within 7 days after a consent neither count toward nor are held by the
   * 7-in-7 and after-conversation limits.
   */
  callConsents?: readonly Date[];
  /** The attorney representing the debtor for this debt, if one is on record. */
  attorney?: { status: AttorneyStatus; name: string } | null;
  /** Kind of loan (India: the RBI recovery-agent guidelines do not cover MICROFINANCE loans). */
  loanType?: string | null;
  /**
   * Reg F §1006.34 (agencies, US): when the initial communication about this debt reached the
   * debtor, and when the validation notice was sent (null: not yet).
   */
  initialCommunicationAt?: Date | null;
  validationNoticeAt?: Date | null;
  restrictions: readonly ContactRestriction[];
  jurisdiction: string | null;
  /** Reg F §1006.14(b)(2)(i)(B): the last telephone conversation about this debt. */
  lastPhoneConversationAt: Date | null;
  /**
   * Written notices about this debt that a jurisdiction requires before any demand, by notice
   * name (a pack's notice.name, e.g. "ca_on_collection_notice"), with the time each was mailed.
   * A fact the caller supplies: the router cannot tell from the history that a letter was mailed.
   */
  notices?: Readonly<Record<string, Date>>;
}

export type HistoryKind = 'call' | 'voicemail' | 'ringless_voicemail' | 'conversation' | 'text' | 'email' | 'letter';

/** One past message of this debtor (both directions). Load at least HISTORY_DAYS back. */
export interface HistoryEntry {
  at: Date;
  channel: Channel;
  /** null: not tied to one debt — the router counts it against every debt (stricter). */
  debtId: string | null;
  direction: Direction;
  /** Message.countsAsAttempt: the attempt reached the provider and counts toward limits. */
  countsAsAttempt: boolean;
  kind?: HistoryKind;
  /** Needed for the Washington one-a-week-at-work cap; entries without it count as non-work. */
  contactPointId?: string | null;
}

export interface RouterSnapshot {
  debtor: DebtorSnapshot;
  /** In the caller's preference order (primary first); the router keeps that order. */
  contactPoints: readonly ContactPointSnapshot[];
  preferences: PreferencesSnapshot | null;
  debts: readonly DebtSnapshot[];
  history: readonly HistoryEntry[];
  /** The decision clock. The router never reads the real time. */
  now: Date;
}

// ─────────────────────────── request ───────────────────────────

export interface ReplyContext {
  /** Channel of the message the debtor initiated. */
  channel: Channel;
  /** When it arrived. */
  receivedAt: Date;
  /** Contact point it came from (the reply goes back there when usable). */
  contactPointId?: string | null;
  messageId?: string;
}

export interface RouteRequest {
  debtorId: string;
  debtId: string;
  /** e.g. "payment_reminder", "collection_ending", "payment_received", "opt_out_confirmation". */
  intent: string;
  /** Explicit channel: honoured or refused, never swapped. */
  channel?: Channel;
  notBefore?: Date;
  notAfter?: Date;
  /** The message the debtor just initiated (Reg F inconvenient-time reply exception). */
  replyTo?: ReplyContext;
}

/**
 * Channels visible to the public or to the person's social-media contacts. The gateway has no
 * such channel, and Reg F §1006.22(f)(4) forbids them: a request names the rule, not "invalid".
 */
export const SOCIAL_MEDIA_CHANNELS = [
  'SOCIAL_MEDIA',
  'SOCIAL_MEDIA_PUBLIC',
  'SOCIAL_MEDIA_CONTACTS',
  'FACEBOOK',
  'INSTAGRAM',
  'TWITTER',
  'X',
  'LINKEDIN',
  'TIKTOK',
] as const;
export type SocialMediaChannel = (typeof SOCIAL_MEDIA_CHANNELS)[number];

/** What a caller may ask for: a social-media channel is accepted only to be refused with its rule. */
export type RouteRequestInput = Omit<RouteRequest, 'channel'> & { channel?: Channel | SocialMediaChannel };

// ─────────────────────────── decision ───────────────────────────

/** Rule ids the router itself emits, whatever the jurisdiction. */
export type CoreRuleId =
  | 'request.invalid'
  | 'restriction.cease_communication'
  | 'restriction.dispute_under_review'
  | 'restriction.bankruptcy'
  | 'restriction.attorney_represented'
  | 'restriction.deceased'
  | 'restriction.moratorium'
  | 'restriction.permitted_intent'
  | 'debt.closed'
  | 'consent.revoked'
  | 'consent.required'
  | 'consent.ok'
  | 'consent.opt_out_confirmation'
  | 'consent.reply_to_request'
  | 'address.suppressed'
  | 'reply_to.required'
  | 'contact_point.invalid'
  | 'contact_point.none'
  | 'contact_point.not_mobile'
  | 'work.employer_forbids'
  | 'work.email_not_used'
  | 'channel.explicit'
  | 'channel.preferred'
  | 'channel.default_order'
  | 'channel.reply_medium'
  | 'preference.fallback'
  | 'limit.regf_call_7in7'
  | 'limit.regf_after_conversation'
  | 'limit.sms_default'
  | 'limit.email_default'
  | 'limit.debtor_preference'
  | 'limit.not_applied'
  | 'quiet_hours'
  | 'quiet_hours.no_common_window'
  | 'quiet_hours.holiday'
  | 'limit.waived'
  | 'inconvenient_time'
  | 'hours.allowed'
  | 'reply_to.exception'
  | 'window.not_before'
  | 'window.not_after'
  | 'timezone.resolved'
  | 'timezone.invalid'
  | 'jurisdiction.resolved'
  | 'jurisdiction.not_applicable'
  | 'privacy.social_media'
  | 'regime.debt_collector'
  | 'regime.first_party_creditor'
  | 'restriction.attorney_lifted'
  | 'limit.regf_call_consent'
  | 'notice.regf_validation';

/**
 * Rule ids a jurisdiction pack names for its own rules: a family prefix (what kind of rule)
 * and the pack's own name, e.g. "limit.ca_on_contacts", "consent.nyc_written_required".
 * A new jurisdiction picks its ids here without touching this type.
 */
export type PackRuleId =
  | `limit.${string}`
  | `consent.${string}`
  | `quiet_hours.${string}`
  | `hours.${string}`
  | `notice.${string}`;

export type RuleId = CoreRuleId | PackRuleId;

export interface Reason {
  rule: RuleId;
  channel?: Channel;
  contactPointId?: string;
  /** Human-readable explanation, safe to show an agent (no message bodies). */
  detail: string;
  jurisdiction?: string;
  /** When the rule stops blocking (limits, quiet hours). */
  until?: Date;
}

export interface RoutedDecision {
  outcome: 'send' | 'defer';
  debtorId: string;
  debtId: string;
  intent: string;
  channel: Channel;
  contactPointId: string;
  /** Phone number, email address or one-line postal address of the chosen contact point. */
  address: string;
  /** When to send: equals the decision clock for 'send'. */
  sendAt: Date;
  timeZones: string[];
  jurisdictions: string[];
  reasons: Reason[];
}

export interface RefusedDecision {
  outcome: 'refuse';
  debtorId: string;
  debtId: string;
  intent: string;
  timeZones: string[];
  jurisdictions: string[];
  reasons: Reason[];
}

export type Decision = RoutedDecision | RefusedDecision;

// ─────────────────────────── configuration ───────────────────────────

/** A cap on counted attempts in a rolling window. */
export interface CapRule {
  rule: RuleId;
  /** Channels whose attempts count and to which the cap applies; 'ALL' = every channel. */
  channels: readonly Channel[] | 'ALL';
  /** 'debt': attempts about this debt (plus debtor-level ones); 'debtor': all of the debtor's. */
  scope: 'debt' | 'debtor';
  max: number;
  days: number;
  /** Only attempts to and contact through work contact points (Washington). */
  workOnly?: boolean;
  /**
   * Applies only once a telephone conversation with the debtor is known (any debt's
   * lastPhoneConversationAt, or a 'conversation' entry in the history): Ontario's cap
   * starts "after the first conversation".
   */
  onlyAfterConversation?: boolean;
  /** The debtor may consent to lift it (DebtorSnapshot.waivers lists the rule id). */
  waivableByConsent?: boolean;
  /**
   * Binds debt collectors only (the Reg F 7-in-7 presumption): not applied to a first-party
   * creditor's debt, and lifted for 7 days after direct prior consent (§1006.14(b)(3)).
   */
  debtCollectorOnly?: boolean;
  citation: string;
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
export type IsoWeekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface HoursRule {
  rule: RuleId;
  channels: readonly Channel[];
  /** ISO weekdays on which this window binds; absent = every day. Days it does not list are not limited by it. */
  days?: readonly IsoWeekday[];
  from: string;
  to: string;
  citation: string;
}

/**
 * Public holidays from the date-holidays calendar of a country or subdivision. Only the
 * named entries count (calendars also list observances such as Valentine's Day).
 */
export interface HolidayCalendarSpec {
  /** ISO 3166-1 alpha-2, as date-holidays names it ("CA"). */
  country: string;
  /** Subdivision code as date-holidays names it ("ON"); absent = national holidays. */
  state?: string;
  /** Holiday names as date-holidays spells them in English ("Good Friday", "Family Day"). */
  names: readonly string[];
  /** When `name` falls on ISO weekday `onWeekday`, the day `addDays` later is a holiday too. */
  substitutes?: readonly { name: string; onWeekday: IsoWeekday; addDays: number }[];
}

/** Whole local days on which a channel may not be used at all: public holidays, closed weekdays. */
export interface NoContactDaysRule {
  rule: RuleId;
  channels: readonly Channel[];
  /** Weekdays closed every week (e.g. Quebec's Sundays). */
  weekdays?: readonly IsoWeekday[];
  holidays?: HolidayCalendarSpec;
  citation: string;
}

/**
 * A written notice that must be mailed before any demand, then a wait (Ontario Reg. 74 s. 21).
 * The router learns the mailing from DebtSnapshot.notices[name]; the notice itself is the
 * request with intent `name` on channel LETTER, which is always allowed through.
 */
export interface NoticeRule {
  rule: RuleId;
  /** Key in DebtSnapshot.notices and the intent that sends the notice. */
  name: string;
  /** Clear days to wait after the mailing day: contact resumes at local midnight after them. */
  waitDays: number;
  citation: string;
}

/** How the router recognises a debtor in this jurisdiction from addresses and phones. */
export interface JurisdictionLocation {
  /** Other spellings of the subdivision in an address's region field, upper case ("ONTARIO"). */
  regionNames?: readonly string[];
  /**
   * Postal codes (of the code's country) inside this jurisdiction. Places an address with no
   * region here; for a locality code (three parts, "US-NY-NYC") it is what selects the locality.
   */
  postalCodes?: RegExp;
  /** NANP area codes of this jurisdiction: a debtor known only by phone is placed here. */
  areaCodes?: readonly string[];
  /** IANA zones by postal code, first match wins; an address matching none gets the region's zones. */
  zonesByPostalCode?: readonly { postalCodes: RegExp; zones: readonly string[] }[];
}

/**
 * One jurisdiction's rules: the data of one file in src/router/jurisdictions/
 * (see CONTRIBUTING.md, "Add a jurisdiction").
 */
export interface JurisdictionRule {
  /** Applies to this code and every code below it ("US-NY" covers "US-NY-NYC"). */
  jurisdiction: string;
  name: string;
  caps: readonly CapRule[];
  hours: readonly HoursRule[];
  /** Channels that need consent GRANTED (written consent) here, and the rule that says so. */
  writtenConsent?: { rule: RuleId; channels: readonly Channel[]; citation: string };
  noContactDays?: readonly NoContactDaysRule[];
  notice?: NoticeRule;
  location?: JurisdictionLocation;
  /** Loan types the rules do not cover (DebtSnapshot.loanType); for such a debt the pack does not apply. */
  exemptLoanTypes?: readonly string[];
  citation: string;
}

export type JurisdictionPack = JurisdictionRule;

export interface RouterConfig {
  /** Fallback order after the debtor's preferred channels. */
  defaultChannelOrder: readonly Channel[];
  /** Baseline allowed hours applied to every debtor (Reg F §1006.6(b)(1)). */
  baseHours: readonly HoursRule[];
  /** Baseline caps applied to every debtor. */
  baseCaps: readonly CapRule[];
  jurisdictionRules: readonly JurisdictionRule[];
  /** Intents still allowed under each restriction (e.g. the three §1006.6(c) notices after a cease). */
  restrictionAllowedIntents: Readonly<Record<ContactRestriction, readonly string[]>>;
  /** Debt statuses under which only closedDebtAllowedIntents may be sent. */
  closedDebtStatuses: readonly DebtStatus[];
  closedDebtAllowedIntents: readonly string[];
  /** Intents that confirm an opt-out: allowed once, as a reply, to the point that just opted out. */
  optOutConfirmationIntents: readonly string[];
  /** Intents that answer the debtor's own request (HELP/INFO): only as the one reply, on its medium, to its sender. */
  helpReplyIntents: readonly string[];
  /** How recent a debtor-initiated message must be for the reply exception. */
  replyWindowMinutes: number;
  /** Zones assumed when neither the debtor nor any contact point or jurisdiction gives one. */
  fallbackTimeZones: readonly string[];
  /** Require GRANTED consent for calls to numbers whose line type is unknown (stricter TCPA reading). */
  unknownLineTypeIsMobile: boolean;
  /** How far ahead the router searches for an allowed time before refusing. */
  searchHorizonDays: number;
}

export type RouterConfigOverrides = Partial<RouterConfig>;

export class RouterInputError extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'RouterInputError';
    this.field = field;
    this.reason = reason;
  }
}

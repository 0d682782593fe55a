// The channel router: a pure, explainable decision over a snapshot.
//
// Order of rules (each step can end the decision):
//   1. do-not-contact restrictions and closed debts          → refuse
//   2. per channel, per contact point: validity, work, consent → skip that point/channel
//   3. channel order: explicit (never swapped) | reply medium | debtor preference | default
//   4. frequency limits (Reg F, state/city, house, debtor)   → defer until free, else next channel
//   5. allowed hours in every candidate zone + inconvenient times → defer (reply exception)
//   6. letters: no hours, but restrictions, validity and all-channel caps apply
// Every skipped candidate and every choice is recorded as a machine-readable reason.

import {
  afterConversationFreeAt,
  capApplies,
  checkCap,
  countedAttempts,
  parseContactLimits,
  type AppliedCap,
} from './limits.js';
import { CHANNEL_KIND, checkContactPoint, type EligibilityContext, type WrittenConsentRule } from './eligibility.js';
import { DAY_MS, formatMinutes, isoString } from './local-time.js';
import { jurisdictionMatches, resolveLocation, type DebtorLocation } from './location.js';
import { SecondUseMemo } from './memo.js';
import {
  DEFAULT_CONFIG,
  REG_F_AFTER_CONVERSATION_CITATION,
  REG_F_AFTER_CONVERSATION_DAYS,
  RESTRICTION_CITATION,
  RESTRICTION_RULE,
  VALIDATION_EXEMPT_INTENTS,
  VALIDATION_NOTICE_DAYS,
} from './rules.js';
import {
  channelWindow,
  compileHoursRule,
  compileNoContactDays,
  describeDayWindow,
  describeWindow,
  nextAllowedTime,
  parseInconvenientTimes,
  type AppliedHoursRule,
  type AppliedNoContactDays,
  type ChannelWindow,
  type HoursBlock,
  type InconvenientWindow,
  weekdayName,
} from './windows.js';
import {
  CHANNELS,
  CONTACT_RESTRICTIONS,
  RouterInputError,
  SOCIAL_MEDIA_CHANNELS,
  type Channel,
  type CollectorRole,
  type ContactPointSnapshot,
  type ContactRestriction,
  type Decision,
  type DebtSnapshot,
  type HistoryEntry,
  type NoticeRule,
  type Reason,
  type RefusedDecision,
  type RouteRequest,
  type RouteRequestInput,
  type RouterConfig,
  type RouterConfigOverrides,
  type RouterSnapshot,
} from './types.js';

export interface Router {
  readonly config: RouterConfig;
  decide(request: RouteRequestInput, snapshot: RouterSnapshot): Decision;
}

/** Rules in force for one set of jurisdictions, compiled once and reused. */
interface CompiledRules {
  caps: AppliedCap[];
  windows: Map<Channel, ChannelWindow | null>;
  writtenConsent: Map<Channel, WrittenConsentRule>;
  notices: AppliedNotice[];
  /** Some cap starts only after a conversation: the decision must find out whether one is known. */
  needsConversation: boolean;
  /** Packs of these jurisdictions that do not apply to this kind of loan, each as a reason. */
  exempt: Reason[];
}

/** A notice to mail before any demand, with the jurisdiction that asks for it. */
interface AppliedNotice extends NoticeRule {
  jurisdiction: string;
}

interface ParsedPreferences {
  inconvenient: InconvenientWindow[];
  caps: AppliedCap[];
  channelOrder: Channel[];
  /** Candidate order when the request names no channel and is no reply: built once, shared, never mutated. */
  order: ChannelOrder;
}

type ChannelOrigin = 'explicit' | 'reply' | 'preference' | 'default';

/** Candidate channels in the order tried; origins[i] says what put channels[i] there. */
interface ChannelOrder {
  channels: readonly Channel[];
  origins: readonly ChannelOrigin[];
}

/** Reply medium first (if any), then the debtor's preferred channels, then the default order; each channel once. */
function channelOrderOf(
  reply: Channel | null,
  preferred: readonly Channel[],
  defaults: readonly Channel[],
): ChannelOrder {
  const channels: Channel[] = [];
  const origins: ChannelOrigin[] = [];
  const add = (channel: Channel, origin: ChannelOrigin): void => {
    if (channels.includes(channel)) return;
    channels.push(channel);
    origins.push(origin);
  };
  if (reply) add(reply, 'reply');
  for (const channel of preferred) add(channel, 'preference');
  for (const channel of defaults) add(channel, 'default');
  return { channels, origins };
}

type ChannelEvaluation =
  | { ok: false; channel: Channel; reasons: Reason[] }
  | {
      ok: true;
      channel: Channel;
      contactPoint: ContactPointSnapshot;
      sendAt: number;
      /** A frequency limit pushed the time: another channel that is free now is preferred. */
      limitBlocked: boolean;
      /** Why this point, why this time. */
      path: Reason[];
      /** Limits that block it (reported if another channel is chosen). */
      blocks: Reason[];
      /** Other points of this channel that were skipped. */
      skipped: Reason[];
    };

const ISO = isoString;

function validateConfig(config: RouterConfig): void {
  for (const [i, rule] of config.baseHours.entries()) compileHoursRule(rule, `config.baseHours[${i}]`);
  for (const [i, j] of config.jurisdictionRules.entries()) {
    const field = `config.jurisdictionRules[${i}]`;
    if (typeof j.jurisdiction !== 'string' || !/^[A-Z]{2}(?:-[A-Z0-9]{1,3}){0,2}$/.test(j.jurisdiction)) {
      throw new RouterInputError(`${field}.jurisdiction`, 'expected an ISO 3166 code such as "CA-ON" or "US-NY-NYC"');
    }
    for (const [k, rule] of j.hours.entries()) compileHoursRule(rule, `${field}.hours[${k}]`);
    for (const [k, rule] of (j.noContactDays ?? []).entries())
      compileNoContactDays(rule, `${field}.noContactDays[${k}]`);
    if (
      j.notice &&
      (!Number.isInteger(j.notice.waitDays) || j.notice.waitDays < 0 || j.notice.waitDays > config.searchHorizonDays)
    ) {
      throw new RouterInputError(`${field}.notice.waitDays`, `expected an integer 0..${config.searchHorizonDays}`);
    }
  }
  for (const [i, cap] of [...config.baseCaps, ...config.jurisdictionRules.flatMap((j) => j.caps)].entries()) {
    if (!Number.isInteger(cap.max) || cap.max < 0)
      throw new RouterInputError(`config.caps[${i}].max`, 'expected an integer ≥ 0');
    if (!Number.isInteger(cap.days) || cap.days < 1)
      throw new RouterInputError(`config.caps[${i}].days`, 'expected an integer ≥ 1');
  }
  for (const channel of config.defaultChannelOrder) {
    if (!CHANNELS.includes(channel))
      throw new RouterInputError('config.defaultChannelOrder', `unknown channel ${String(channel)}`);
  }
  if (!(config.replyWindowMinutes >= 0)) throw new RouterInputError('config.replyWindowMinutes', 'expected ≥ 0');
  if (!(config.searchHorizonDays >= 1)) throw new RouterInputError('config.searchHorizonDays', 'expected ≥ 1');
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

function validateRequest(request: RouteRequest, snapshot: RouterSnapshot): DebtSnapshot {
  if (!isValidDate(snapshot.now)) throw new RouterInputError('snapshot.now', 'expected a valid Date');
  if (!snapshot.debtor || typeof snapshot.debtor.id !== 'string')
    throw new RouterInputError('snapshot.debtor', 'missing');
  if (request.debtorId !== snapshot.debtor.id) {
    throw new RouterInputError('debtorId', `does not match the snapshot's debtor ${snapshot.debtor.id}`);
  }
  if (typeof request.intent !== 'string' || request.intent.trim() === '' || request.intent.length > 100) {
    throw new RouterInputError('intent', 'expected a non-empty string of at most 100 characters');
  }
  if (request.channel !== undefined && !CHANNELS.includes(request.channel)) {
    throw new RouterInputError('channel', `expected one of ${CHANNELS.join(', ')}`);
  }
  if (request.notBefore !== undefined && !isValidDate(request.notBefore))
    throw new RouterInputError('notBefore', 'expected a valid Date');
  if (request.notAfter !== undefined && !isValidDate(request.notAfter))
    throw new RouterInputError('notAfter', 'expected a valid Date');
  if (request.notBefore && request.notAfter && request.notAfter < request.notBefore) {
    throw new RouterInputError('notAfter', 'is before notBefore');
  }
  if (request.replyTo !== undefined) {
    if (!CHANNELS.includes(request.replyTo.channel))
      throw new RouterInputError('replyTo.channel', `expected one of ${CHANNELS.join(', ')}`);
    if (!isValidDate(request.replyTo.receivedAt))
      throw new RouterInputError('replyTo.receivedAt', 'expected a valid Date');
  }
  const waivers = snapshot.debtor.waivers;
  if (waivers !== undefined && (!Array.isArray(waivers) || waivers.some((w) => typeof w !== 'string'))) {
    throw new RouterInputError('snapshot.debtor.waivers', 'expected an array of rule ids');
  }
  for (const debt of snapshot.debts) {
    if (debt.id !== request.debtId) continue;
    if (debt.notices !== undefined) {
      if (typeof debt.notices !== 'object' || debt.notices === null)
        throw new RouterInputError('debt.notices', 'expected an object of notice name → Date');
      for (const [name, at] of Object.entries(debt.notices)) {
        if (!isValidDate(at))
          throw new RouterInputError(`debt.notices.${name}`, 'expected a valid Date (when the notice was mailed)');
      }
    }
    return debt;
  }
  throw new RouterInputError('debtId', 'not among the snapshot debts of this debtor');
}

export function createRouter(overrides: RouterConfigOverrides = {}): Router {
  const config: RouterConfig = { ...DEFAULT_CONFIG, ...overrides };
  validateConfig(config);

  const rulesCache = new Map<string, CompiledRules>();
  // Memo per snapshot part; snapshots are immutable by contract. Admitted on second use (memo.ts).
  const locationCache = new SecondUseMemo<object, { debtor: object; location: DebtorLocation }>();
  const preferencesCache = new SecondUseMemo<object, ParsedPreferences>();
  const emptyPreferences: ParsedPreferences = {
    inconvenient: [],
    caps: [],
    channelOrder: [],
    order: channelOrderOf(null, [], config.defaultChannelOrder),
  };

  function rulesFor(jurisdictions: readonly string[], loanType: string | null): CompiledRules {
    // A loan type changes the rules only where a pack exempts it; otherwise it shares the entry.
    const exempting =
      loanType !== null && config.jurisdictionRules.some((rule) => rule.exemptLoanTypes?.includes(loanType));
    const key = exempting ? `${jurisdictions.join('|')}#${loanType}` : jurisdictions.join('|');
    const cached = rulesCache.get(key);
    if (cached) return cached;
    const caps: AppliedCap[] = [...config.baseCaps];
    const hours: AppliedHoursRule[] = [...config.baseHours];
    const noContact: AppliedNoContactDays[] = [];
    const writtenConsent = new Map<Channel, WrittenConsentRule>();
    const notices: AppliedNotice[] = [];
    const exempt: Reason[] = [];
    for (const rule of config.jurisdictionRules) {
      const code = jurisdictions.find((j) => jurisdictionMatches(rule.jurisdiction, j));
      if (!code) continue;
      if (exempting && rule.exemptLoanTypes?.includes(loanType)) {
        exempt.push({
          rule: 'jurisdiction.not_applicable',
          jurisdiction: rule.jurisdiction,
          detail: `${rule.name} rules (${rule.citation}) do not cover ${loanType} loans; they are not applied.`,
        });
        continue;
      }
      const jurisdiction = rule.jurisdiction;
      for (const cap of rule.caps) caps.push({ ...cap, jurisdiction });
      for (const h of rule.hours) hours.push({ ...h, jurisdiction });
      for (const [k, days] of (rule.noContactDays ?? []).entries()) {
        noContact.push(compileNoContactDays({ ...days, jurisdiction }, `${jurisdiction}.noContactDays[${k}]`));
      }
      if (rule.writtenConsent) {
        for (const channel of rule.writtenConsent.channels)
          writtenConsent.set(channel, { ...rule.writtenConsent, jurisdiction });
      }
      if (rule.notice) notices.push({ ...rule.notice, jurisdiction });
    }
    const windows = new Map<Channel, ChannelWindow | null>();
    for (const channel of CHANNELS) windows.set(channel, channelWindow(channel, hours, noContact));
    const needsConversation = caps.some((cap) => cap.onlyAfterConversation === true);
    const compiled = { caps, windows, writtenConsent, notices, needsConversation, exempt };
    if (rulesCache.size > 1000) rulesCache.clear();
    rulesCache.set(key, compiled);
    return compiled;
  }

  function locationFor(snapshot: RouterSnapshot): DebtorLocation {
    const key = snapshot.contactPoints as object;
    const cached = locationCache.get(key);
    if (cached && cached.debtor === snapshot.debtor) return cached.location;
    const location = resolveLocation(snapshot, config);
    locationCache.offer(key, { debtor: snapshot.debtor, location });
    return location;
  }

  function preferencesFor(snapshot: RouterSnapshot): ParsedPreferences {
    const prefs = snapshot.preferences;
    if (!prefs) return emptyPreferences;
    const cached = preferencesCache.get(prefs);
    if (cached) return cached;
    const channelOrder = [...(prefs.channelOrder ?? [])];
    for (const [i, channel] of channelOrder.entries()) {
      if (!CHANNELS.includes(channel)) {
        throw new RouterInputError(`preferences.channelOrder[${i}]`, `unknown channel ${String(channel)}`);
      }
    }
    const parsed: ParsedPreferences = {
      inconvenient: parseInconvenientTimes(prefs.inconvenientTimes),
      caps: parseContactLimits(prefs.contactLimits),
      channelOrder,
      order: channelOrderOf(null, channelOrder, config.defaultChannelOrder),
    };
    preferencesCache.offer(prefs, parsed);
    return parsed;
  }

  function decide(request: RouteRequestInput, snapshot: RouterSnapshot): Decision {
    const social =
      typeof request.channel === 'string' && (SOCIAL_MEDIA_CHANNELS as readonly string[]).includes(request.channel);
    const checked = (social ? { ...request, channel: undefined } : request) as RouteRequest;
    const decision = decideFor(checked, snapshot, social ? (request.channel as string) : null);
    // Every decision of the gateway names the regime that decided it (docs/domain.md §2.1).
    const debt = snapshot.debts.find((d) => d.id === request.debtId);
    if (debt?.collector) decision.reasons.push(regimeReason(debt.collector));
    return decision;
  }

  function decideFor(request: RouteRequest, snapshot: RouterSnapshot, socialChannel: string | null): Decision {
    const debt = validateRequest(request, snapshot);
    const now = snapshot.now.getTime();
    const location = locationFor(snapshot);
    const preferences = preferencesFor(snapshot);

    const jurisdictions = debt.jurisdiction
      ? [...new Set([...location.jurisdictions, debt.jurisdiction.trim().toUpperCase()])]
      : location.jurisdictions;
    const rules = rulesFor(jurisdictions, debt.loanType ?? null);
    const collector = debt.collector ?? 'AGENCY';

    if (socialChannel) {
      return refusal(request, location, jurisdictions, [
        {
          rule: 'privacy.social_media',
          detail: `${socialChannel} is a social-media channel visible to the public or to the person's contacts; a debt collector may not communicate or attempt to communicate through it (Reg F 12 CFR 1006.22(f)(4)). The gateway sends by SMS, EMAIL, VOICE or LETTER.`,
        },
      ]);
    }

    // ── 1. restrictions and closed debts ──
    const permitted: Reason[] = [...rules.exempt];
    const blocking: Reason[] = [];
    checkRestrictions(
      config,
      request.intent,
      snapshot.debtor.restrictions,
      'debtor',
      permitted,
      blocking,
      debt.attorney ?? null,
    );
    checkRestrictions(config, request.intent, debt.restrictions, 'debt', permitted, blocking, debt.attorney ?? null);
    // A debt in status DISPUTED is treated as DISPUTE_UNDER_REVIEW even without the restriction
    // flag (stricter reading: Reg F 1006.38(d)(2), CONC 7.14 suspend collection during a dispute).
    if (
      debt.status === 'DISPUTED' &&
      !debt.restrictions.includes('DISPUTE_UNDER_REVIEW') &&
      !snapshot.debtor.restrictions.includes('DISPUTE_UNDER_REVIEW') &&
      !(config.restrictionAllowedIntents.DISPUTE_UNDER_REVIEW ?? []).includes(request.intent)
    ) {
      blocking.push({
        rule: 'restriction.dispute_under_review',
        detail: `Debt status is DISPUTED, handled as DISPUTE_UNDER_REVIEW (${RESTRICTION_CITATION.DISPUTE_UNDER_REVIEW}); intent "${request.intent}" is not permitted.`,
      });
    }
    if (config.closedDebtStatuses.includes(debt.status) && !config.closedDebtAllowedIntents.includes(request.intent)) {
      blocking.push({
        rule: 'debt.closed',
        detail: `Debt is ${debt.status}; only ${config.closedDebtAllowedIntents.join(', ')} may be sent, not "${request.intent}".`,
      });
    }
    if (blocking.length === 0 && collector === 'AGENCY') {
      const overdue = validationNoticeOverdue(config, request.intent, debt, jurisdictions, now);
      if (overdue) blocking.push(overdue);
    }
    if (blocking.length > 0) return refusal(request, location, jurisdictions, blocking);

    // ── time frame ──
    const notBefore = request.notBefore ? Math.max(now, request.notBefore.getTime()) : now;
    const notAfter = request.notAfter ? request.notAfter.getTime() : Number.POSITIVE_INFINITY;
    if (notBefore > notAfter) {
      return refusal(request, location, jurisdictions, [
        { rule: 'window.not_after', detail: `notAfter ${ISO(notAfter)} has already passed.` },
      ]);
    }

    // ── reply exception: once, same medium, to a message the debtor just initiated ──
    const reply = request.replyTo;
    let replyChannel: Channel | null = null;
    const replyNotes: Reason[] = [];
    if (reply) {
      const received = reply.receivedAt.getTime();
      const alreadyReplied = snapshot.history.some(
        (h) => h.direction === 'OUTBOUND' && h.channel === reply.channel && h.at.getTime() >= received,
      );
      if (received > now || now - received > config.replyWindowMinutes * 60_000) {
        replyNotes.push({
          rule: 'reply_to.exception',
          channel: reply.channel,
          detail: `The debtor's message of ${ISO(received)} is not within the last ${config.replyWindowMinutes} minutes; normal hours apply.`,
        });
      } else if (alreadyReplied) {
        replyNotes.push({
          rule: 'reply_to.exception',
          channel: reply.channel,
          detail: `A ${reply.channel} reply after the debtor's message of ${ISO(received)} was already sent; the exception allows one.`,
        });
      } else {
        replyChannel = reply.channel;
      }
    }
    const optOutConfirmation =
      replyChannel !== null && config.optOutConfirmationIntents.includes(request.intent) && reply?.contactPointId
        ? reply.contactPointId
        : null;

    // A HELP answer exists only as the reply to the debtor's own text: same medium, same sender, now.
    let helpReplyTo: string | null = null;
    if (config.helpReplyIntents.includes(request.intent)) {
      const problem = !reply
        ? 'there is no message of the debtor to answer'
        : !replyChannel
          ? 'the reply exception does not apply'
          : !reply.contactPointId
            ? 'the sender is not a contact point on file'
            : request.channel && request.channel !== replyChannel
              ? `${request.channel} was requested but the debtor wrote in ${replyChannel}`
              : null;
      if (problem || !reply?.contactPointId) {
        return refusal(request, location, jurisdictions, [
          {
            rule: 'reply_to.required',
            detail: `Intent "${request.intent}" is sent only as the one reply to the debtor's own message, on its medium, to its sender; ${problem ?? 'no sender'}.`,
          },
          ...replyNotes,
          ...permitted,
        ]);
      }
      helpReplyTo = reply.contactPointId;
    }

    const ctx: DecisionContext = {
      config,
      snapshot,
      debt,
      now,
      notBefore,
      notAfter,
      location,
      preferences,
      rules,
      reply,
      replyChannel,
      optOutConfirmation,
      helpReplyTo,
      intent: request.intent,
      notices: noticeHolds(config, rules.notices, request.intent, debt, location),
      conversationKnown: rules.needsConversation && conversationKnown(snapshot),
      waivers: snapshot.debtor.waivers ?? [],
      collector,
      callConsents: (debt.callConsents ?? []).map((c) => c.getTime()),
      callConsentUntil: callConsentUntil(debt.callConsents ?? [], notBefore),
      eligibility: {
        writtenConsent: rules.writtenConsent,
        unknownLineTypeIsMobile: config.unknownLineTypeIsMobile,
        optOutConfirmationTo: optOutConfirmation,
        helpReplyTo,
      },
      attempts: countedAttempts(snapshot.history),
    };

    // ── 3. channel order ──
    const { channels, origins }: ChannelOrder = request.channel
      ? { channels: [request.channel], origins: ['explicit'] }
      : helpReplyTo && replyChannel
        ? { channels: [replyChannel], origins: ['reply'] }
        : replyChannel
          ? channelOrderOf(replyChannel, preferences.channelOrder, config.defaultChannelOrder)
          : preferences.order;

    // evaluations[i] is the evaluation of channels[i]; evaluation stops at the first channel free now.
    const evaluations: ChannelEvaluation[] = [];
    let chosenIndex = -1;
    for (const channel of channels) {
      const evaluation = evaluateChannel(ctx, channel);
      evaluations.push(evaluation);
      if (evaluation.ok && !evaluation.limitBlocked) {
        chosenIndex = evaluations.length - 1;
        break;
      }
    }
    if (chosenIndex < 0) {
      // Every usable channel is held by a limit: take the one free soonest (order breaks ties).
      let soonest = Number.POSITIVE_INFINITY;
      for (let i = 0; i < evaluations.length; i++) {
        const evaluation = evaluations[i] as ChannelEvaluation;
        if (evaluation.ok && (chosenIndex < 0 || evaluation.sendAt < soonest)) {
          chosenIndex = i;
          soonest = evaluation.sendAt;
        }
      }
    }

    if (chosenIndex < 0) {
      const reasons: Reason[] = [];
      for (const evaluation of evaluations) pushSkipReasons(reasons, evaluation);
      if (request.channel) {
        reasons.push({
          rule: 'channel.explicit',
          channel: request.channel,
          detail: `${request.channel} was requested explicitly and cannot be used; the router does not substitute another channel.`,
        });
      }
      pushAll(reasons, replyNotes);
      pushAll(reasons, permitted);
      return refusal(request, location, jurisdictions, reasons);
    }

    const evaluation = evaluations[chosenIndex] as Extract<ChannelEvaluation, { ok: true }>;
    const reasons: Reason[] = [
      channelReason(evaluation.channel, origins[chosenIndex] as ChannelOrigin, chosenIndex, evaluations, origins[0]),
    ];
    pushAll(reasons, evaluation.path);
    pushAll(reasons, evaluation.skipped);
    for (let i = 0; i < evaluations.length; i++)
      if (i !== chosenIndex) pushSkipReasons(reasons, evaluations[i] as ChannelEvaluation);
    pushAll(reasons, permitted);
    pushAll(reasons, replyNotes);
    reasons.push(location.zoneReason);
    pushAll(reasons, location.notes);

    return {
      outcome: evaluation.sendAt === now ? 'send' : 'defer',
      debtorId: request.debtorId,
      debtId: request.debtId,
      intent: request.intent,
      timeZones: location.zones.slice(),
      jurisdictions: jurisdictions.slice(),
      channel: evaluation.channel,
      contactPointId: evaluation.contactPoint.id,
      address: evaluation.contactPoint.value,
      sendAt: new Date(evaluation.sendAt),
      reasons,
    };
  }

  return { config, decide };
}

/** A refusal. Decisions get their own copies: the location is memoised and shared between decisions. */
function refusal(
  request: RouteRequest,
  location: DebtorLocation,
  jurisdictions: readonly string[],
  reasons: Reason[],
): RefusedDecision {
  return {
    outcome: 'refuse',
    debtorId: request.debtorId,
    debtId: request.debtId,
    intent: request.intent,
    timeZones: location.zones.slice(),
    jurisdictions: jurisdictions.slice(),
    reasons: location.notes.length ? [...reasons, ...location.notes] : reasons,
  };
}

/** Step 1 for one level (debtor or debt): each restriction either permits this intent or blocks it. */
function checkRestrictions(
  config: RouterConfig,
  intent: string,
  restrictions: readonly ContactRestriction[],
  level: 'debtor' | 'debt',
  permitted: Reason[],
  blocking: Reason[],
  attorney: DebtSnapshot['attorney'] | null,
): void {
  for (const restriction of restrictions) {
    if (!CONTACT_RESTRICTIONS.includes(restriction)) {
      throw new RouterInputError(`${level}.restrictions`, `unknown restriction ${String(restriction)}`);
    }
    // §1006.6(b)(2)(ii): the attorney consented to direct contact, or failed to respond within a reasonable time.
    if (restriction === 'ATTORNEY_REPRESENTED' && attorney && attorney.status !== 'REPRESENTING') {
      permitted.push({
        rule: 'restriction.attorney_lifted',
        detail: `The debtor's attorney (${attorney.name}) ${attorney.status === 'CONSENTED' ? 'consented to direct communication' : 'did not respond within a reasonable time'}; ATTORNEY_REPRESENTED no longer bars contact (${RESTRICTION_CITATION.ATTORNEY_REPRESENTED}(ii)).`,
      });
      continue;
    }
    const allowed = config.restrictionAllowedIntents[restriction] ?? [];
    if (allowed.includes(intent)) {
      permitted.push({
        rule: 'restriction.permitted_intent',
        detail: `${level === 'debt' ? 'Debt' : 'Debtor'} is under ${restriction} (${RESTRICTION_CITATION[restriction]}); intent "${intent}" is one of the messages still permitted.`,
      });
    } else {
      blocking.push({
        rule: RESTRICTION_RULE[restriction],
        detail: `${level === 'debt' ? 'Debt' : 'Debtor'} is under ${restriction} (${RESTRICTION_CITATION[restriction]}); intent "${intent}" is not permitted${allowed.length ? ` (permitted: ${allowed.join(', ')})` : ''}.`,
      });
    }
  }
}

/** Everything one decision needs, resolved once. */
interface DecisionContext {
  config: RouterConfig;
  snapshot: RouterSnapshot;
  debt: DebtSnapshot;
  now: number;
  notBefore: number;
  notAfter: number;
  location: DebtorLocation;
  preferences: ParsedPreferences;
  rules: CompiledRules;
  reply: RouteRequest['replyTo'];
  /** Channel in which the reply exception applies, if any. */
  replyChannel: Channel | null;
  /** Contact point that may get the one opt-out confirmation, if any. */
  optOutConfirmation: string | null;
  /** Contact point that asked for help and may get the one answer, if any (then the only point considered). */
  helpReplyTo: string | null;
  intent: string;
  /** Written notices this decision waits for (Ontario s. 21); empty for most debtors. */
  notices: NoticeHold[];
  /** A telephone conversation with the debtor is known (only computed when a cap asks). */
  conversationKnown: boolean;
  /** Rule ids the debtor has consented to lift. */
  waivers: readonly string[];
  collector: CollectorRole;
  /** Times of direct prior consent to more calls (§1006.14(b)(3)), ms. */
  callConsents: readonly number[];
  /** End of the 7-day consent window covering notBefore, if one does. */
  callConsentUntil: number | null;
  eligibility: EligibilityContext;
  attempts: HistoryEntry[];
}

interface NoticeHold {
  notice: AppliedNotice;
  mailedAt: number | null;
  /** Local midnight after the wait, latest over the candidate zones; null = not mailed. */
  freeAt: number | null;
}

/** The notices required before this intent, and when each lets contact begin. */
function noticeHolds(
  config: RouterConfig,
  notices: readonly AppliedNotice[],
  intent: string,
  debt: DebtSnapshot,
  location: DebtorLocation,
): NoticeHold[] {
  if (notices.length === 0) return [];
  // Messages that demand nothing: payment receipts, the opt-out confirmation, the HELP answer.
  if (
    config.closedDebtAllowedIntents.includes(intent) ||
    config.optOutConfirmationIntents.includes(intent) ||
    config.helpReplyIntents.includes(intent)
  )
    return [];
  const holds: NoticeHold[] = [];
  for (const notice of notices) {
    const mailed = debt.notices?.[notice.name];
    if (!mailed) {
      holds.push({ notice, mailedAt: null, freeAt: null });
      continue;
    }
    const mailedAt = mailed.getTime();
    let freeAt = Number.NEGATIVE_INFINITY;
    for (const clock of location.clocks) {
      // Mailing day, then waitDays whole local days; contact from the midnight after them.
      const resume = clock.instant(clock.local(mailedAt).day + notice.waitDays + 1, 0);
      if (resume > freeAt) freeAt = resume;
    }
    holds.push({
      notice,
      mailedAt,
      freeAt: Number.isFinite(freeAt) ? freeAt : mailedAt + (notice.waitDays + 1) * DAY_MS,
    });
  }
  return holds;
}

/** Any telephone conversation with the debtor on record: a debt's last one, or one in the history. */
function conversationKnown(snapshot: RouterSnapshot): boolean {
  for (const debt of snapshot.debts) if (debt.lastPhoneConversationAt) return true;
  for (const h of snapshot.history) if (h.kind === 'conversation') return true;
  return false;
}

/** Reg F §1006.14(b)(3): calls within 7 days after the person's direct prior consent. */
const CALL_CONSENT_MS = REG_F_AFTER_CONVERSATION_DAYS * DAY_MS;

function withinConsent(consents: readonly number[], at: number): boolean {
  for (const c of consents) if (at >= c && at < c + CALL_CONSENT_MS) return true;
  return false;
}

function callConsentUntil(consents: readonly Date[], at: number): number | null {
  let until: number | null = null;
  for (const c of consents) {
    const start = c.getTime();
    if (at >= start && at < start + CALL_CONSENT_MS && (until === null || start + CALL_CONSENT_MS > until))
      until = start + CALL_CONSENT_MS;
  }
  return until;
}

function regimeReason(collector: CollectorRole): Reason {
  return collector === 'AGENCY'
    ? {
        rule: 'regime.debt_collector',
        detail:
          'Collected by a collection agency: the debt-collector rules of Reg F apply (mini-Miranda §1006.18(e), validation notice §1006.34, the 7-in-7 call presumption §1006.14(b), the limited-content voicemail §1006.2(j)), with the rules that bind every creditor (TCPA, state, NYC, UK, India).',
      }
    : {
        rule: 'regime.first_party_creditor',
        detail:
          "Collected by the creditor in its own name: not a debt collector under the FDCPA/Reg F, so no mini-Miranda, validation notice or 7-in-7 presumption; the rules that bind every creditor still apply (TCPA, state creditor rules such as 940 CMR 7.04, NYC, UK, India) and the gateway's hours and house caps.",
      };
}

/**
 * Reg F §1006.34(a)(1): a debt collector sends the validation notice in the initial communication
 * or within 5 days after it. Once those 5 days have passed without one, nothing else about the
 * debt goes out until it is sent (the notice itself, payment receipts and the messages a
 * restriction still permits remain). Applies where US law can apply: a US jurisdiction, or none known.
 */
function validationNoticeOverdue(
  config: RouterConfig,
  intent: string,
  debt: DebtSnapshot,
  jurisdictions: readonly string[],
  now: number,
): Reason | null {
  if (!debt.initialCommunicationAt || debt.validationNoticeAt) return null;
  if (jurisdictions.length > 0 && !jurisdictions.some((j) => j === 'US' || j.startsWith('US-'))) return null;
  if (
    VALIDATION_EXEMPT_INTENTS.has(intent) ||
    config.closedDebtAllowedIntents.includes(intent) ||
    config.optOutConfirmationIntents.includes(intent) ||
    config.helpReplyIntents.includes(intent)
  )
    return null;
  const due = debt.initialCommunicationAt.getTime() + VALIDATION_NOTICE_DAYS * DAY_MS;
  if (now <= due) return null;
  return {
    rule: 'notice.regf_validation',
    detail: `The initial communication about this debt reached the debtor at ${ISO(debt.initialCommunicationAt.getTime())}; the validation notice was due within ${VALIDATION_NOTICE_DAYS} days (by ${ISO(due)}) and has not been sent: send intent "validation_notice" by LETTER or EMAIL first (Reg F 12 CFR 1006.34(a)(1)).`,
  };
}

function pushAll(into: Reason[], reasons: readonly Reason[]): void {
  for (const reason of reasons) into.push(reason);
}

/** Why a candidate channel was not taken: its skipped points and blocking limits, or why it is unusable. */
function pushSkipReasons(into: Reason[], evaluation: ChannelEvaluation): void {
  if (!evaluation.ok) {
    pushAll(into, evaluation.reasons);
    return;
  }
  pushAll(into, evaluation.skipped);
  pushAll(into, evaluation.blocks);
}

/** Step 2: the first usable contact point of the channel, then its timing. */
function evaluateChannel(ctx: DecisionContext, channel: Channel): ChannelEvaluation {
  const kind = CHANNEL_KIND[channel];
  // Personal points before work points, each in the caller's order (what a stable sort on
  // isWork gives), collected in two passes instead of filtering and then sorting.
  const points: ContactPointSnapshot[] = [];
  for (let pass = 0; pass < 2; pass++) {
    const wantWork = pass === 1;
    for (const cp of ctx.snapshot.contactPoints) {
      if (
        cp.kind === kind &&
        Boolean(cp.isWork) === wantWork &&
        (ctx.helpReplyTo === null || cp.id === ctx.helpReplyTo)
      )
        points.push(cp);
    }
  }
  if (points.length === 0) {
    return {
      ok: false,
      channel,
      reasons: [
        {
          rule: 'contact_point.none',
          channel,
          detail: `No ${kind.toLowerCase()} contact point on file for ${channel}.`,
        },
      ],
    };
  }
  // The point the debtor wrote from first when replying.
  const replyPointId = ctx.replyChannel === channel ? ctx.reply?.contactPointId : undefined;
  if (replyPointId) {
    const index = points.findIndex((cp) => cp.id === replyPointId);
    if (index > 0) points.unshift(...points.splice(index, 1));
  }
  const skipped: Reason[] = [];
  for (const cp of points) {
    const eligibility = checkContactPoint(channel, cp, ctx.eligibility);
    if (eligibility.ok) return timeChannel(ctx, channel, cp, eligibility.reason, skipped);
    skipped.push(eligibility.reason);
  }
  return { ok: false, channel, reasons: skipped };
}

/** Steps 4–6: limits, then allowed hours, within notBefore/notAfter. */
function timeChannel(
  ctx: DecisionContext,
  channel: Channel,
  contactPoint: ContactPointSnapshot,
  consentReason: Reason,
  skipped: Reason[],
): ChannelEvaluation {
  const { now, notBefore, notAfter, location } = ctx;
  const path: Reason[] = [consentReason];
  const blocks: Reason[] = [];
  const base = { channel, contactPointId: contactPoint.id };
  let t = notBefore;
  if (notBefore > now) {
    path.push({
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: 'window.not_before',
      detail: `Not before ${ISO(notBefore)} as requested.`,
      until: new Date(notBefore),
    });
  }
  const isConfirmation = ctx.optOutConfirmation === contactPoint.id && ctx.replyChannel === channel;
  const isHelpReply = ctx.helpReplyTo === contactPoint.id && ctx.replyChannel === channel;
  // ── 4. limits ──
  if (isConfirmation || isHelpReply) {
    const what = isConfirmation ? 'An opt-out confirmation' : "The answer to the debtor's HELP request";
    path.push({
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: 'limit.not_applied',
      detail: `${what} is not a collection attempt; frequency limits do not apply.`,
    });
  } else {
    for (const hold of ctx.notices) {
      const { notice } = hold;
      // The notice itself goes by mail whenever asked for.
      if (channel === 'LETTER' && ctx.intent === notice.name) continue;
      if (hold.freeAt === null) {
        return {
          ok: false,
          channel,
          reasons: [
            ...skipped,
            {
              ...base,
              rule: notice.rule,
              jurisdiction: notice.jurisdiction,
              detail: `No written notice "${notice.name}" has been mailed for this debt; in ${notice.jurisdiction} nothing may be demanded before it: send intent "${notice.name}" by LETTER first (${notice.citation}).`,
            },
          ],
        };
      }
      if (hold.freeAt > notBefore) {
        blocks.push({
          ...base,
          rule: notice.rule,
          jurisdiction: notice.jurisdiction,
          until: new Date(hold.freeAt),
          detail: `Written notice "${notice.name}" was mailed at ${ISO(hold.mailedAt as number)}; contact may begin after ${notice.waitDays} days, at local midnight ${ISO(hold.freeAt)} (${notice.citation}).`,
        });
        if (hold.freeAt > t) t = hold.freeAt;
      }
    }
    for (const caps of [ctx.rules.caps, ctx.preferences.caps]) {
      for (const cap of caps) {
        if (!capApplies(cap, channel, contactPoint.isWork)) continue;
        if (cap.onlyAfterConversation && !ctx.conversationKnown) continue;
        if (cap.debtCollectorOnly && ctx.collector === 'FIRST_PARTY') continue;
        if (cap.debtCollectorOnly && ctx.callConsentUntil !== null && notBefore < ctx.callConsentUntil) {
          path.push({
            ...base,
            rule: 'limit.regf_call_consent',
            until: new Date(ctx.callConsentUntil),
            detail: `The person gave direct prior consent to more calls about this debt; for 7 days ${cap.rule} (${cap.citation}) does not hold calls (Reg F 12 CFR 1006.14(b)(3)).`,
          });
          continue;
        }
        const attempts =
          cap.debtCollectorOnly && ctx.callConsents.length > 0
            ? ctx.attempts.filter((h) => !withinConsent(ctx.callConsents, h.at.getTime()))
            : ctx.attempts;
        if (cap.waivableByConsent && ctx.waivers.includes(cap.rule)) {
          path.push({
            ...base,
            rule: 'limit.waived',
            jurisdiction: cap.jurisdiction,
            detail: `The debtor consented to more contact; ${cap.rule} (${cap.citation}) does not apply.`,
          });
          continue;
        }
        const check = checkCap(cap, notBefore, attempts, ctx.debt.id, ctx.snapshot.contactPoints);
        if (!check) continue;
        const reason = capReason(check.cap, check.count, check.freeAt, base);
        if (check.freeAt === null) return { ok: false, channel, reasons: [...skipped, reason] };
        blocks.push(reason);
        if (check.freeAt > t) t = check.freeAt;
      }
    }
    // §1006.14(b)(2)(i)(B) is part of the same debt-collector presumption: not for a first-party creditor, nor under consent.
    const afterConversationApplies =
      ctx.collector === 'AGENCY' && !(ctx.callConsentUntil !== null && notBefore < ctx.callConsentUntil);
    if (channel === 'VOICE' && afterConversationApplies) {
      const conversation = afterConversationFreeAt(ctx.debt, ctx.snapshot.history, location.clocks);
      if (conversation && notBefore < conversation.freeAt) {
        blocks.push({
          channel: base.channel,
          contactPointId: base.contactPointId,
          rule: 'limit.regf_after_conversation',
          until: new Date(conversation.freeAt),
          detail: `Telephone conversation about this debt at ${ISO(conversation.conversationAt)} (day 1); no calls through day 7, so calls resume at local midnight ${ISO(conversation.freeAt)} (${REG_F_AFTER_CONVERSATION_CITATION}).`,
        });
        if (conversation.freeAt > t) t = conversation.freeAt;
      }
    }
  }
  const limitBlocked = blocks.length > 0;
  for (const block of blocks) path.push(block);

  // ── 5. hours (letters have none) ──
  const window = ctx.rules.windows.get(channel) ?? null;
  const inconvenient = channel === 'LETTER' ? [] : ctx.preferences.inconvenient;
  // The search runs searchHorizonDays from the earliest time this message could go (its notBefore, a
  // limit's end), not from the decision clock: a send booked 90 days ahead is decided by the ordinary window.
  const hours = nextAllowedTime(t, location.clocks, window, inconvenient, t + ctx.config.searchHorizonDays * DAY_MS);
  // The exception covers replying right away; a reply pushed later by a limit or notBefore keeps normal hours.
  if (ctx.replyChannel === channel && t === now) {
    // A HELP answer always records the exception: it exists only as this reply, so it is never re-decided later without it.
    if (hours.at !== t || isHelpReply) {
      path.push({
        channel: base.channel,
        contactPointId: base.contactPointId,
        rule: 'reply_to.exception',
        detail:
          hours.at !== t
            ? `Replying once in ${channel} to the message the debtor just sent; allowed outside the usual hours (Reg F 12 CFR 1006.6(b)(1)).${hours.firstBlock ? ` Without it: ${describeBlock(hours.firstBlock)}.` : ''}`
            : `Replying once in ${channel} to the message the debtor just sent (the answer to their HELP request).`,
      });
    }
  } else {
    if (hours.at === null) {
      const reason: Reason = {
        channel: base.channel,
        contactPointId: base.contactPointId,
        rule: 'quiet_hours.no_common_window',
        detail: `No time within ${ctx.config.searchHorizonDays} days is allowed in every candidate zone (${location.zones.join(', ')})${window ? ` for the window ${describeWindow(window)}` : ''}${location.zones.length > 1 ? "; set the debtor's time zone explicitly" : ''}.`,
      };
      return { ok: false, channel, reasons: [...skipped, ...blocks, reason] };
    }
    if (hours.at > t && hours.firstBlock) path.push(blockReason(hours.firstBlock, hours.at, base));
    t = hours.at;
  }
  if (t > notAfter) {
    const reasons = [...skipped, ...path.slice(1)];
    reasons.push({
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: 'window.not_after',
      detail: `Earliest allowed time ${ISO(t)} is after notAfter ${ISO(notAfter)}.`,
    });
    return { ok: false, channel, reasons };
  }
  if (t === now && window) {
    const allowed = hoursAllowedReason(location, now, window, base);
    if (allowed) path.push(allowed);
  }
  return { ok: true, channel, contactPoint, sendAt: t, limitBlocked, path, blocks, skipped };
}

function capReason(
  cap: AppliedCap,
  count: number,
  freeAt: number | null,
  base: { channel: Channel; contactPointId: string },
): Reason {
  const scope = cap.scope === 'debt' ? 'for this debt' : 'for this debtor';
  const what = cap.channels === 'ALL' ? 'attempts (all channels)' : `${cap.channels.join('/')} attempts`;
  const over = `${count} counted ${what}${cap.workOnly ? ' at work' : ''} ${scope} in the last ${cap.days} days; the limit is ${cap.max} (${cap.citation})`;
  if (freeAt === null)
    return {
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: cap.rule,
      jurisdiction: cap.jurisdiction,
      detail: `${over}; it never frees.`,
    };
  return {
    channel: base.channel,
    contactPointId: base.contactPointId,
    rule: cap.rule,
    jurisdiction: cap.jurisdiction,
    until: new Date(freeAt),
    detail: `${over}; next allowed when the oldest leaves the window at ${ISO(freeAt)}.`,
  };
}

function hoursAllowedReason(
  location: DebtorLocation,
  now: number,
  window: ChannelWindow,
  base: { channel: Channel; contactPointId: string },
): Reason | null {
  let local = '';
  for (const clock of location.clocks)
    local += `${local ? ', ' : ''}${formatMinutes(clock.local(now).minute)} ${clock.zone}`;
  // Weekday windows: the one of the first zone's weekday (every zone's was checked).
  const weekday = location.clocks[0]?.local(now).isoWeekday ?? 1;
  const day = window.uniform ?? window.days[weekday] ?? null;
  if (!day) {
    return {
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: 'hours.allowed',
      detail: `Local time ${local}: no hours rule binds on ${weekdayName(weekday)} and it is no closed day.`,
    };
  }
  const citations =
    day.toRule !== day.fromRule ? `${day.fromRule.citation}; ${day.toRule.citation}` : day.fromRule.citation;
  const when = window.uniform ? describeDayWindow(day) : `${weekdayName(weekday)} ${describeDayWindow(day)}`;
  return {
    channel: base.channel,
    contactPointId: base.contactPointId,
    rule: 'hours.allowed',
    detail: `Local time ${local} is within ${when} (${citations}).`,
  };
}

function channelReason(
  channel: Channel,
  origin: ChannelOrigin,
  index: number,
  evaluations: ChannelEvaluation[],
  firstOrigin: ChannelOrigin | undefined,
): Reason {
  if (origin === 'explicit') {
    return { rule: 'channel.explicit', channel, detail: `${channel} was requested explicitly and is honoured.` };
  }
  if (index === 0) {
    if (origin === 'reply')
      return {
        rule: 'channel.reply_medium',
        channel,
        detail: `Replying in ${channel}, the medium the debtor wrote in.`,
      };
    if (origin === 'preference')
      return { rule: 'channel.preferred', channel, detail: `${channel} is the debtor's preferred channel.` };
    return {
      rule: 'channel.default_order',
      channel,
      detail: `${channel} is first in the default channel order (no debtor preference).`,
    };
  }
  const skipped = evaluations.slice(0, index).map((e) => {
    const first = e.ok ? e.blocks[0] : e.reasons[0];
    return `${e.channel} (${first ? `${first.rule}: ${first.detail.replace(/\.$/, '')}` : 'unusable'})`;
  });
  const whose =
    firstOrigin === 'preference' ? "debtor's preferred" : firstOrigin === 'reply' ? 'reply' : 'default-order';
  return {
    rule: 'preference.fallback',
    channel,
    detail: `Fell back to ${channel}; skipped the ${whose} channel(s) ${skipped.join('; ')}.`,
  };
}

function describeBlock(block: HoursBlock): string {
  if (block.kind === 'quiet_hours') {
    const day = block.uniform ? '' : ` on ${weekdayName(block.isoWeekday)}`;
    return `local time ${formatMinutes(block.localMinute)} in ${block.zone} is outside ${describeDayWindow(block.window)}${day}`;
  }
  if (block.kind === 'no_contact_day') {
    const what = block.holiday ? `${block.holiday}, a holiday` : `${weekdayName(block.isoWeekday)}, a closed day`;
    return `the local date in ${block.zone} is ${what}${block.rule.jurisdiction ? ` in ${block.rule.jurisdiction}` : ''}`;
  }
  return `local time ${formatMinutes(block.localMinute)} in ${block.zone} falls in a time the debtor called inconvenient (${block.inconvenient.label})`;
}

function blockReason(block: HoursBlock, until: number, base: { channel: Channel; contactPointId: string }): Reason {
  if (block.kind === 'quiet_hours') {
    const bound = block.localMinute < block.window.from ? block.window.fromRule : block.window.toRule;
    return {
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: 'quiet_hours',
      jurisdiction: bound.jurisdiction,
      until: new Date(until),
      detail: `${capitalise(describeBlock(block))} (${bound.citation}); earliest allowed ${ISO(until)}.`,
    };
  }
  if (block.kind === 'no_contact_day') {
    return {
      channel: base.channel,
      contactPointId: base.contactPointId,
      rule: block.rule.rule,
      jurisdiction: block.rule.jurisdiction,
      until: new Date(until),
      detail: `${capitalise(describeBlock(block))} (${block.rule.citation}); earliest allowed ${ISO(until)}.`,
    };
  }
  return {
    channel: base.channel,
    contactPointId: base.contactPointId,
    rule: 'inconvenient_time',
    until: new Date(until),
    detail: `${capitalise(describeBlock(block))} (Reg F 12 CFR 1006.6(b)(1); FCA CONC 7.9); earliest allowed ${ISO(until)}.`,
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const defaultRouter = createRouter();

/** Decide with the default configuration. */
export function route(request: RouteRequestInput, snapshot: RouterSnapshot): Decision {
  return defaultRouter.decide(request, snapshot);
}

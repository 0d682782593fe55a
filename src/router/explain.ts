// One short paragraph an agent can read: what was decided and the rules that decided it.

import { maskAddress } from './eligibility.js';
import type { Decision, Reason, RuleId } from './types.js';

// Reasons that explain the chosen path; the rest (consent ok, time zone) are detail.
const PATH_RULES: ReadonlySet<RuleId> = new Set<RuleId>([
  'channel.explicit',
  'channel.preferred',
  'channel.default_order',
  'channel.reply_medium',
  'preference.fallback',
  'restriction.permitted_intent',
  'reply_to.exception',
  'window.not_before',
  'quiet_hours',
  'inconvenient_time',
  'limit.regf_call_7in7',
  'limit.regf_after_conversation',
  'limit.sms_default',
  'limit.email_default',
  'limit.debtor_preference',
  'limit.ma_calls_texts',
  'limit.wa_communications',
  'limit.wa_work',
  'limit.nyc_attempts',
]);

function sentence(reason: Reason): string {
  const text = reason.detail.trim();
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

export function explain(decision: Decision): string {
  if (decision.outcome === 'refuse') {
    const causes = decision.reasons.filter((r) => r.rule !== 'timezone.resolved').slice(0, 4);
    const more = decision.reasons.length - causes.length > 1 ? ` (${decision.reasons.length} reasons in all.)` : '';
    return `Refused "${decision.intent}" for debt ${decision.debtId}: ${causes.map(sentence).join(' ')}${more}`;
  }
  const when = decision.outcome === 'send' ? 'now' : `at ${decision.sendAt.toISOString()}`;
  const verb = decision.outcome === 'send' ? 'Send' : 'Deferred: send';
  // Reasons of the chosen channel only; skipped candidates are summarised by preference.fallback.
  const path = decision.reasons.filter(
    (r) => PATH_RULES.has(r.rule) && (r.channel === undefined || r.channel === decision.channel) &&
      (r.contactPointId === undefined || r.contactPointId === decision.contactPointId),
  );
  const zones = decision.timeZones.length ? ` Local time judged in ${decision.timeZones.join(', ')}.` : '';
  return `${verb} "${decision.intent}" by ${decision.channel} to ${maskAddress(decision.address)} ${when}. ${path.map(sentence).join(' ')}${zones}`.replace(/\s+/g, ' ').trim();
}

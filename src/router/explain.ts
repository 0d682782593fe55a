// One short paragraph an agent can read: what was decided and the rules that decided it.

import { maskAddress } from './eligibility.js';
import type { Decision, Reason, RuleId } from './types.js';

// Reasons that explain the chosen path; the rest (consent ok, time zone) are detail. Every
// frequency limit, quiet-hours block and notice wait is one, including those a jurisdiction
// pack names (limit.*, quiet_hours.*, notice.*).
const PATH_RULES: ReadonlySet<RuleId> = new Set<RuleId>([
  'channel.explicit',
  'channel.preferred',
  'channel.default_order',
  'channel.reply_medium',
  'preference.fallback',
  'restriction.permitted_intent',
  'reply_to.exception',
  'window.not_before',
  'inconvenient_time',
]);
const NOT_PATH_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['limit.not_applied', 'quiet_hours.no_common_window']);
const PATH_FAMILIES = ['limit.', 'quiet_hours', 'notice.'];

function onPath(rule: RuleId): boolean {
  if (PATH_RULES.has(rule)) return true;
  if (NOT_PATH_RULES.has(rule)) return false;
  return PATH_FAMILIES.some((family) => rule.startsWith(family));
}

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
  // A decision read back from a message's JSON column carries its times as strings.
  const when = decision.outcome === 'send' ? 'now' : `at ${new Date(decision.sendAt).toISOString()}`;
  const verb = decision.outcome === 'send' ? 'Send' : 'Deferred: send';
  // Reasons of the chosen channel only; skipped candidates are summarised by preference.fallback.
  const path = decision.reasons.filter(
    (r) =>
      onPath(r.rule) &&
      (r.channel === undefined || r.channel === decision.channel) &&
      (r.contactPointId === undefined || r.contactPointId === decision.contactPointId),
  );
  const zones = decision.timeZones.length ? ` Local time judged in ${decision.timeZones.join(', ')}.` : '';
  return `${verb} "${decision.intent}" by ${decision.channel} to ${maskAddress(decision.address)} ${when}. ${path.map(sentence).join(' ')}${zones}`
    .replace(/\s+/g, ' ')
    .trim();
}

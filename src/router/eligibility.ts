// May this channel be used at this contact point at all (regardless of when)?

import type { Channel, ConsentState, ContactPointKind, ContactPointSnapshot, Reason, RuleId } from './types.js';

/** A jurisdiction's written-consent requirement for one channel (NYC: email and text). */
export interface WrittenConsentRule {
  rule: RuleId;
  citation: string;
  jurisdiction: string;
}

export const CHANNEL_KIND: Readonly<Record<Channel, ContactPointKind>> = {
  SMS: 'PHONE',
  VOICE: 'PHONE',
  EMAIL: 'EMAIL',
  LETTER: 'ADDRESS',
};

export interface EligibilityContext {
  /** Channels needing written (GRANTED) consent in the debtor's jurisdictions, with the rule that asks. */
  writtenConsent: ReadonlyMap<Channel, WrittenConsentRule>;
  unknownLineTypeIsMobile: boolean;
  /** Contact point that may receive the one opt-out confirmation despite REVOKED consent. */
  optOutConfirmationTo: string | null;
  /**
   * Contact point that just wrote to us and asked for help: the one answer may
   * go there without prior express consent (it is the consumer's own request),
   * but never after a revocation or suppression.
   */
  helpReplyTo?: string | null;
}

export type Eligibility = { ok: true; consent: ConsentState; reason: Reason } | { ok: false; reason: Reason };

/** Checks in order of gravity; the first failing one is the reason the point is skipped. */
export function checkContactPoint(channel: Channel, cp: ContactPointSnapshot, ctx: EligibilityContext): Eligibility {
  if (!cp.valid) {
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'contact_point.invalid',
        detail: `${describe(cp)} is marked invalid.`,
      },
    };
  }
  if (cp.isWork && cp.employerForbidsContact) {
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'work.employer_forbids',
        detail: `${describe(cp)} is at work and the employer forbids contact there (Reg F 12 CFR 1006.6(b)(3)).`,
      },
    };
  }
  if (channel === 'EMAIL' && cp.isWork && cp.usedByDebtor !== true) {
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'work.email_not_used',
        detail: `${describe(cp)} is an employer-provided address the debtor has not used with us (Reg F 12 CFR 1006.22(f)(3)).`,
      },
    };
  }
  if (channel === 'SMS' && cp.isMobile === false) {
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'contact_point.not_mobile',
        detail: `${describe(cp)} is not a mobile number; texts cannot reach it.`,
      },
    };
  }
  const suppressed = cp.suppressions?.[channel];
  // The one opt-out confirmation still goes out: it answers the opt-out itself.
  if (suppressed !== undefined && ctx.optOutConfirmationTo !== cp.id) {
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'address.suppressed',
        detail: `${describe(cp)} is on the ${channel} suppression list (${suppressed}); it opted out (Reg F 12 CFR 1006.14(h); TCPA 47 CFR 64.1200).`,
      },
    };
  }
  const consent: ConsentState = cp.consents[channel] ?? 'UNKNOWN';
  if (consent === 'REVOKED') {
    if (ctx.optOutConfirmationTo === cp.id) {
      return {
        ok: true,
        consent,
        reason: {
          channel,
          contactPointId: cp.id,
          rule: 'consent.opt_out_confirmation',
          detail: `${channel} consent at ${describe(cp)} is revoked; one confirmation of the opt-out is allowed as a reply (Reg F 12 CFR 1006.14(h); TCPA).`,
        },
      };
    }
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'consent.revoked',
        detail: `${channel} consent at ${describe(cp)} was revoked (opt-out, Reg F 12 CFR 1006.14(h); TCPA 47 CFR 64.1200).`,
      },
    };
  }
  const written = ctx.writtenConsent.get(channel);
  if (written !== undefined && consent !== 'GRANTED') {
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: written.rule,
        jurisdiction: written.jurisdiction,
        detail: `${channel} in ${written.jurisdiction} needs written consent; consent at ${describe(cp)} is ${consent} (${written.citation}).`,
      },
    };
  }
  if (ctx.helpReplyTo === cp.id && consent !== 'GRANTED') {
    return {
      ok: true,
      consent,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'consent.reply_to_request',
        detail: `${channel} consent at ${describe(cp)} is ${consent}; the one answer to the debtor's own request is allowed (TCPA: a reply the consumer asked for).`,
      },
    };
  }
  // TCPA 47 CFR 64.1200(a)(1)(iii): automated calls and texts to mobiles need prior express consent.
  const possiblyMobile = cp.isMobile === true || (cp.isMobile === null && ctx.unknownLineTypeIsMobile);
  if ((channel === 'SMS' || (channel === 'VOICE' && possiblyMobile)) && consent !== 'GRANTED') {
    const line =
      cp.isMobile === true ? 'a mobile' : cp.isMobile === null ? 'possibly a mobile (line type unknown)' : 'a phone';
    return {
      ok: false,
      reason: {
        channel,
        contactPointId: cp.id,
        rule: 'consent.required',
        detail: `${channel} to ${describe(cp)}, ${line}, needs prior express consent (TCPA 47 CFR 64.1200(a)(1)); consent is ${consent}.`,
      },
    };
  }
  return {
    ok: true,
    consent,
    reason: {
      channel,
      contactPointId: cp.id,
      rule: 'consent.ok',
      detail: `${channel} at ${describe(cp)}: consent ${consent}, which this channel accepts.`,
    },
  };
}

/** Short label of a contact point for reasons; postal addresses are not spelled out. */
export function describe(cp: ContactPointSnapshot): string {
  if (cp.kind === 'ADDRESS') return `postal address ${cp.id}`;
  return `${cp.kind === 'PHONE' ? 'phone' : 'email'} ${maskAddress(cp.value)}`;
}

/** Reasons end up in logs and agent views: show enough to tell points apart, not the full value. */
export function maskAddress(value: string): string {
  const at = value.indexOf('@');
  if (at > 0) return `${value.slice(0, 1)}***${value.slice(at)}`;
  if (value.length <= 4) return value;
  return `…${value.slice(-4)}`;
}

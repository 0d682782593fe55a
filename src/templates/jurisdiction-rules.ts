// Which jurisdictions get which mandatory wording. This is the one place to
// change the sets. Jurisdictions are ISO 3166 codes: a country ("US", "GB",
// "IN") or a subdivision ("US-MA"); a country entry covers its subdivisions.

/**
 * Jurisdictions whose law requires the debt-collector disclosure
 * (Reg F §1006.18(e): full form in the first communication, short form later).
 */
export const DEBT_COLLECTOR_DISCLOSURE_JURISDICTIONS: readonly string[] = ['US'];

/** Jurisdictions whose letters are marked "Private and confidential" (FCA CONC 7). */
export const PRIVATE_AND_CONFIDENTIAL_JURISDICTIONS: readonly string[] = ['GB'];

/** Jurisdictions whose letters use US Letter paper and #10 window envelopes. */
export const US_LETTER_PAPER_JURISDICTIONS: readonly string[] = ['US', 'CA', 'MX', 'PR'];

export interface JurisdictionRules {
  debtCollectorDisclosure: readonly string[];
  privateAndConfidential: readonly string[];
}

export const DEFAULT_JURISDICTION_RULES: JurisdictionRules = {
  debtCollectorDisclosure: DEBT_COLLECTOR_DISCLOSURE_JURISDICTIONS,
  privateAndConfidential: PRIVATE_AND_CONFIDENTIAL_JURISDICTIONS,
};

// Same shape the API and the router accept: country, subdivision, locality ("US-NY-NYC").
const JURISDICTION_PATTERN = /^[A-Z]{2}(-[A-Z0-9]{1,3})?(-[A-Z]{2,4})?$/;

/** Upper-cases and checks a jurisdiction code; returns null when it is not one. */
export function normaliseJurisdiction(value: string): string | null {
  const upper = value.trim().toUpperCase().replaceAll('_', '-');
  return JURISDICTION_PATTERN.test(upper) ? upper : null;
}

/** True when `jurisdiction` equals an entry or is a subdivision of a country entry. */
export function jurisdictionIn(jurisdiction: string, set: readonly string[]): boolean {
  const country = jurisdiction.split('-')[0];
  return set.some((entry) => {
    const normalised = entry.toUpperCase();
    return normalised === jurisdiction || normalised === country;
  });
}

/**
 * Whether the disclosure applies. An unknown jurisdiction (null) gets it: when
 * the rule is unclear the stricter reading wins.
 */
export function requiresDebtCollectorDisclosure(
  jurisdiction: string | null,
  rules: JurisdictionRules = DEFAULT_JURISDICTION_RULES,
): boolean {
  return jurisdiction === null || jurisdictionIn(jurisdiction, rules.debtCollectorDisclosure);
}

export function requiresPrivateAndConfidential(
  jurisdiction: string | null,
  rules: JurisdictionRules = DEFAULT_JURISDICTION_RULES,
): boolean {
  return jurisdiction !== null && jurisdictionIn(jurisdiction, rules.privateAndConfidential);
}

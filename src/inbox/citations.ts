// The rule an agent reads is the debtor's own. The router applies the
// 08:00–21:00 baseline to every debtor and records it with Reg F's citation
// (that is the rule it evaluated, and its decisions are pinned as they are);
// for a debtor whose rules are not the US's — a UK or an Indian debtor — the
// inbox shows the rules that bind them (FCA CONC 7.9, RBI/2022-23/108) where
// the baseline hours decided.
import { JURISDICTION_RULES } from '../router/index.js';

const BASELINE_HOURS = /Reg F 12 CFR 1006\.6\(b\)\(1\)(?:; FCA CONC 7\.9)?/g;

const covers = (rule: string, code: string) => code === rule || code.startsWith(`${rule}-`);

/** The citation that stands for the baseline hours for this jurisdiction, or null where Reg F's is the right one. */
export function localHoursCitation(jurisdiction: string | null | undefined): string | null {
  const code = jurisdiction?.trim().toUpperCase();
  if (!code || code === 'US' || code.startsWith('US-')) return null;
  const own = JURISDICTION_RULES.filter((r) => covers(r.jurisdiction, code)).map((r) => r.citation);
  return own.length ? `${own.join('; ')}; the 08:00–21:00 baseline` : null;
}

/** `text` (an explanation or a reason) with the baseline-hours citation replaced by the debtor's own rules. */
export function localiseCitations(text: string, jurisdiction: string | null | undefined): string;
export function localiseCitations(text: string | null, jurisdiction: string | null | undefined): string | null;
export function localiseCitations(text: string | null, jurisdiction: string | null | undefined): string | null {
  const local = localHoursCitation(jurisdiction);
  return text && local ? text.replace(BASELINE_HOURS, local) : text;
}

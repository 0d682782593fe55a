// Content rules checked on template source at load time and again on the
// rendered text (variable values can smuggle forbidden content in).

/**
 * Words a limited-content message (voicemail, Reg F §1006.2(j)) must not
 * contain, English and Spanish: anything that reveals a debt, its collection,
 * an amount or a payment. Checked whatever the locale, since names and
 * business names are not translated.
 */
const VOICEMAIL_FORBIDDEN_WORDS = new RegExp(
  '\\b(' +
    [
      'debts?',
      'debtors?',
      'collect\\w*',
      'owe[sd]?',
      'owing',
      'overdue',
      'past[- ]due',
      'delinquen\\w*',
      'arrears',
      'balance',
      'amounts?',
      'pay(ing|ment|ments|able)?',
      'paid',
      'invoices?',
      'creditors?',
      'account',
      'recover\\w*',
      'outstanding',
      'lawsuit',
      'deudas?',
      'deudor\\w*',
      'cobr\\w*',
      'adeud\\w*',
      'saldos?',
      'pag\\w*',
      'importes?',
      'montos?',
      'facturas?',
      'vencid\\w*',
      'atrasad\\w*',
      'acreedor\\w*',
      'cuenta',
      'recobro',
      'demanda',
    ].join('|') +
    ')\\b',
  'iu',
);

const CURRENCY_AMOUNT =
  /[$€£¥₹₩₱₽]|\b(USD|EUR|GBP|INR|MXN|CAD|AUD|dollars?|d[oó]lares|euros?|pounds?|rupees?|pesos?)\b/iu;
const URL_LIKE = /\b(https?:\/\/|www\.)|\b[a-z0-9-]+\.(com|net|org|io|co|us|es|mx|in|uk|link|pay)(\/|\b)/iu;

export interface ContentFinding {
  kind: 'debt_word' | 'amount' | 'link' | 'suit_threat';
  match: string;
}

function firstMatch(pattern: RegExp, text: string): string | null {
  const match = pattern.exec(text);
  return match ? match[0] : null;
}

/** Findings that bar `text` from a voicemail: debt words, amounts, links. */
export function voicemailFindings(text: string): ContentFinding[] {
  const findings: ContentFinding[] = [];
  const word = firstMatch(VOICEMAIL_FORBIDDEN_WORDS, text);
  if (word) findings.push({ kind: 'debt_word', match: word });
  const amount = firstMatch(CURRENCY_AMOUNT, text);
  if (amount) findings.push({ kind: 'amount', match: amount });
  const link = firstMatch(URL_LIKE, text);
  if (link) findings.push({ kind: 'link', match: link });
  return findings;
}

/** Findings that bar `text` from an opt-out confirmation: amounts and links. */
export function optOutConfirmationFindings(text: string): ContentFinding[] {
  const findings: ContentFinding[] = [];
  const amount = firstMatch(CURRENCY_AMOUNT, text);
  if (amount) findings.push({ kind: 'amount', match: amount });
  const link = firstMatch(URL_LIKE, text);
  if (link) findings.push({ kind: 'link', match: link });
  return findings;
}

export function describeFindings(findings: readonly ContentFinding[]): string {
  return findings.map((f) => `${f.kind.replace('_', ' ')} "${f.match}"`).join(', ');
}

/**
 * The SMS opt-out instruction: the STOP keyword in capitals, as carriers and
 * Twilio recognise it in every language ("Reply STOP to opt out",
 * "Responda STOP para darse de baja"). Must be in the template's own text.
 */
export function hasSmsOptOutInstruction(staticText: string): boolean {
  return /\bSTOP\b/.test(staticText);
}

/** Variables that may appear in a voicemail (everything else is refused). */
export const VOICEMAIL_ALLOWED_VARIABLES: ReadonlySet<string> = new Set([
  'debtorName',
  'agentName',
  'callbackNumber',
  'voicemailBusinessName',
]);

/** Variables an opt-out confirmation may use: no balance, no link (TCPA, Reg F). */
export const OPT_OUT_CONFIRMATION_ALLOWED_VARIABLES: ReadonlySet<string> = new Set([
  'debtorName',
  'companyName',
  'disclosure',
]);

/** Variables the HELP answer may use: who we are and how to reach us; no balance, no link. */
export const HELP_REPLY_ALLOWED_VARIABLES: ReadonlySet<string> = new Set([
  'debtorName',
  'companyName',
  'callbackNumber',
  'disclosure',
]);

/**
 * Wording that threatens or implies suit (Reg F §1006.26(b): a debt collector must not bring
 * or threaten to bring a legal action to collect a time-barred debt). English and Spanish.
 * Checked on the rendered text of every message about a time-barred debt, since a variable
 * (an agent's free text, a reason) can carry it as well as the template.
 */
const SUIT_THREAT = new RegExp(
  '\\b(' +
    [
      'su(e|ed|ing)',
      'lawsuits?',
      'legal (action|proceedings?|steps|remed(y|ies))',
      'court( action| proceedings?)?',
      'judge?ments?',
      'litigation',
      'garnish\\w*',
      'attorneys?',
      'solicitors?',
      'lawyers?',
      'bailiffs?',
      'summons',
      'demanda(r|remos)?',
      'acci[oó]n(es)? legal(es)?',
      'procedimientos? judicial(es)?',
      'tribunal(es)?',
      'juicio',
      'juzgado',
      'embargo',
      'abogad[oa]s?',
      'demandarle',
    ].join('|') +
    ')\\b',
  'iu',
);

/** Findings that bar `text` from a message about a time-barred debt: any threat of suit. */
export function suitThreatFindings(text: string): ContentFinding[] {
  const match = firstMatch(SUIT_THREAT, text);
  return match ? [{ kind: 'suit_threat', match }] : [];
}

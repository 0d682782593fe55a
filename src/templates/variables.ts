// The variables a template may use, what kind of value each holds, and how a
// render input value becomes display text for a locale.
import { FormatError, formatCount, formatDate, formatMoney } from './formatting.js';

type VariableKind = 'text' | 'money' | 'date' | 'count' | 'url' | 'system';

export const TEMPLATE_VARIABLES = {
  debtorName: 'text',
  companyName: 'text',
  creditorName: 'text',
  agentName: 'text',
  callbackNumber: 'text',
  accountReference: 'text',
  /** What the agent checked to verify a disputed debt (dispute-verification). */
  verificationNote: 'text',
  /** The business name said in a voicemail; must not reveal debt collection (Reg F §1006.2(j)). */
  voicemailBusinessName: 'text',
  amount: 'money',
  installmentAmount: 'money',
  paymentAmount: 'money',
  dueDate: 'date',
  finalDate: 'date',
  firstInstallmentDate: 'date',
  paymentDate: 'date',
  daysPastDue: 'count',
  installmentCount: 'count',
  paymentLink: 'url',
  unsubscribeLink: 'url',
  /** The debtor page's one-time code (verification-code only). */
  verificationCode: 'text',
  /** Signed days from today to the due date (negative: overdue); lets the renderer tell "due soon" from "due today". */
  dueInDays: 'count',
  /** Filled by the renderer from jurisdiction and firstCommunication; never passed in. */
  disclosure: 'system',
  /** Filled by the renderer from dueDate and dueInDays/daysPastDue: "is due on …", "is due today", "was due on … and is now N days overdue". */
  dueStatus: 'system',
} as const satisfies Record<string, VariableKind>;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
type InputVariable = Exclude<TemplateVariable, 'disclosure' | 'dueStatus'>;

/**
 * Values from the debtor and debt records. Amounts are decimal strings
 * ("1234.5000") in `currency`; dates are ISO calendar dates ("2025-03-15").
 * Only the variables the chosen template uses are required.
 */
export type MessageVars = {
  [K in InputVariable]?: (typeof TEMPLATE_VARIABLES)[K] extends 'count' ? number | string : string;
} & {
  /** ISO 4217 code of every money variable. */
  currency?: string;
};

export function isTemplateVariable(name: string): name is TemplateVariable {
  return Object.prototype.hasOwnProperty.call(TEMPLATE_VARIABLES, name);
}

/** Variables that may be shown in a letter's amount table. */
export const AMOUNT_TABLE_KEYS = [
  'accountReference',
  'creditorName',
  'amount',
  'dueDate',
  'daysPastDue',
  'finalDate',
  'installmentAmount',
  'installmentCount',
  'firstInstallmentDate',
  'paymentAmount',
  'paymentDate',
] as const satisfies readonly InputVariable[];
export type AmountTableKey = (typeof AMOUNT_TABLE_KEYS)[number];

/** Why a value could not be used; the caller turns it into a TemplateError. */
export class VariableProblem extends Error {
  constructor(
    readonly code: 'missing_variable' | 'invalid_variable',
    readonly variable: string,
    reason: string,
  ) {
    super(reason);
  }
}

function present(value: unknown): value is string | number {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && value.trim() !== '';
}

/** Turns one input variable into its display text for `locale`. */
export function displayValue(name: InputVariable, vars: MessageVars, locale: string): string {
  const raw: unknown = vars[name];
  if (!present(raw)) {
    throw new VariableProblem('missing_variable', name, raw === undefined || raw === null ? 'is missing' : 'is empty');
  }
  const kind = TEMPLATE_VARIABLES[name];
  try {
    switch (kind) {
      case 'text':
        if (typeof raw !== 'string') throw new FormatError('must be a string');
        // One line, single spaces: a stray newline must not reshape the message.
        return raw.replace(/\s+/g, ' ').trim();
      case 'money': {
        if (typeof raw !== 'string') throw new FormatError('must be a decimal string like "1234.50", not a number');
        const currency = vars.currency;
        if (!present(currency))
          throw new VariableProblem('missing_variable', 'currency', `is missing (needed to format ${name})`);
        return formatMoney(raw, String(currency), locale);
      }
      case 'date':
        return formatDate(String(raw), locale);
      case 'count':
        return formatCount(raw, locale);
      case 'url': {
        const text = String(raw).trim();
        let url: URL;
        try {
          url = new URL(text);
        } catch {
          throw new FormatError(`"${text}" is not a URL`);
        }
        if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new FormatError('must be an http(s) URL');
        return text;
      }
    }
  } catch (error) {
    if (error instanceof VariableProblem) throw error;
    if (error instanceof FormatError) throw new VariableProblem('invalid_variable', name, error.reason);
    throw error;
  }
}

/** Wording of the debt's state for a locale ({date} and {days} are filled in). */
export interface DueStatusStrings {
  upcoming: string;
  today: string;
  overdue_one: string;
  overdue: string;
}

export const DEFAULT_DUE_STATUS: DueStatusStrings = {
  upcoming: 'is due on {date}',
  today: 'is due today ({date})',
  overdue_one: 'was due on {date} and is now 1 day overdue',
  overdue: 'was due on {date} and is now {days} days overdue',
};

/**
 * The phrase saying where the debt stands today. WHY: a reminder that says
 * "is due on" a date 150 days ago reads as a mistake and misstates the debt,
 * so the template says {{dueStatus}} and the renderer picks the wording.
 */
export function dueStatusText(vars: MessageVars, locale: string, strings: DueStatusStrings): string {
  const date = displayValue('dueDate', vars, locale);
  const signed = Number(vars.dueInDays);
  let overdueDays: number;
  if (vars.dueInDays !== undefined && vars.dueInDays !== '' && Number.isInteger(signed)) overdueDays = -signed;
  else {
    const past = Number(vars.daysPastDue ?? 0);
    overdueDays = Number.isFinite(past) && past > 0 ? Math.floor(past) : -1;
  }
  if (overdueDays < 0) return strings.upcoming.replace('{date}', date);
  if (overdueDays === 0) return strings.today.replace('{date}', date);
  if (overdueDays === 1) return strings.overdue_one.replace('{date}', date);
  return strings.overdue.replace('{date}', date).replace('{days}', formatCount(overdueDays, locale));
}

// Loads, validates and renders the message templates. loadTemplates reads the
// whole directory at start-up and throws once with every problem found, so a
// bad template never reaches a debtor; render refuses rather than send a
// message with a blank or a forbidden word in it.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CompiledPart, compilePart, htmlParagraphs, tidyText } from './compile.js';
import {
  OPT_OUT_CONFIRMATION_ALLOWED_VARIABLES,
  HELP_REPLY_ALLOWED_VARIABLES,
  VOICEMAIL_ALLOWED_VARIABLES,
  describeFindings,
  hasSmsOptOutInstruction,
  optOutConfirmationFindings,
  suitThreatFindings,
  voicemailFindings,
} from './content-rules.js';
import { TemplateError, type TemplateProblem, TemplateValidationError } from './errors.js';
import {
  ALLOWED_CHANNELS,
  CHANNEL_FILE_EXTENSION,
  INTENTS,
  type Intent,
  REQUIRED_CHANNELS,
  TEMPLATE_CHANNELS,
  type TemplateChannel,
  VOICE_MENU_DIGITS,
  isIntent,
  isTemplateChannel,
} from './intents.js';
import {
  DEFAULT_JURISDICTION_RULES,
  type JurisdictionRules,
  normaliseJurisdiction,
  requiresDebtCollectorDisclosure,
  requiresPrivateAndConfidential,
} from './jurisdiction-rules.js';
import { type SmsEncoding, measureSms } from './sms-encoding.js';
import {
  type ExtraService,
  LOCALE_FILE,
  type LocaleFile,
  type MailType,
  type Tone,
  emailFrontMatter,
  formatZodIssues,
  isLocaleDirName,
  letterFrontMatter,
  listEntries,
  localeFile,
  type LocaleVoice,
  readText,
  readYamlFile,
  smsFrontMatter,
  splitFrontMatter,
  voiceFile,
} from './template-files.js';
import {
  type AmountTableKey,
  type MessageVars,
  DEFAULT_DUE_STATUS,
  type DueStatusStrings,
  VariableProblem,
  dueStatusText,
  displayValue,
  isTemplateVariable,
} from './variables.js';

export const BASE_LOCALE = 'en';

export interface TemplateMeta {
  step: number | undefined;
  tone: Tone | undefined;
}

interface TemplateBase {
  id: string;
  locale: string;
  intent: Intent;
  meta: TemplateMeta;
}
type LoadedTemplate =
  | (TemplateBase & { channel: 'sms'; body: CompiledPart })
  | (TemplateBase & { channel: 'email'; subject: CompiledPart; body: CompiledPart })
  | (TemplateBase & { channel: 'voice'; say: CompiledPart; menu: CompiledPart; voicemail: CompiledPart })
  | (TemplateBase & {
      channel: 'letter';
      subject: CompiledPart;
      body: CompiledPart;
      paymentInstructions: CompiledPart;
      amountTable: readonly AmountTableKey[];
      mailType: MailType;
      extraService: ExtraService;
    });

export interface RenderRequest {
  intent: Intent;
  channel: TemplateChannel;
  /** BCP 47 tag of the debtor's language; also drives number and date formats ("en-IN"). */
  locale: string;
  vars: MessageVars;
  /** True for the first communication with this debtor about this debt (full disclosure). */
  firstCommunication: boolean;
  /** ISO 3166 country or subdivision ("US", "US-MA", "GB", "IN"); null when unknown (strictest rules). */
  jurisdiction: string | null;
  /**
   * Who sends it (docs/domain.md §2.1). A FIRST_PARTY creditor is no debt collector: its
   * messages carry no debt-collector disclosure. Absent: AGENCY (the stricter reading).
   */
  collector?: 'FIRST_PARTY' | 'AGENCY';
  /**
   * The debt is time-barred (Reg F §1006.26): wording that threatens suit is refused, and the
   * state's time-barred disclosure is added to written messages where one is required.
   * `creditReportingObsolete`: past the FCRA §605(a) reporting period (picks the state's wording).
   */
  timeBarred?: { creditReportingObsolete: boolean } | null;
  /** The sender's name, for disclosures that name it (the time-barred ones). */
  senderName?: string;
}

interface RenderedBase {
  intent: Intent;
  templateId: string;
  /** Locale of the template used, after fallback. */
  templateLocale: string;
  /** Locale numbers and dates were formatted for. */
  formatLocale: string;
  meta: TemplateMeta;
}
export interface RenderedSms extends RenderedBase {
  channel: 'sms';
  text: string;
  encoding: SmsEncoding;
  segments: number;
}
export interface RenderedEmail extends RenderedBase {
  channel: 'email';
  subject: string;
  text: string;
  html: string;
}
export interface RenderedVoice extends RenderedBase {
  channel: 'voice';
  /** Spoken to a person who answered. */
  say: string;
  /** Keypad prompt; digits per VOICE_MENU_DIGITS. */
  menu: string;
  /** Limited-content message for an answering machine. */
  voicemail: string;
}
export interface AmountTableRow {
  key: AmountTableKey;
  label: string;
  value: string;
}
export interface RenderedLetter extends RenderedBase {
  channel: 'letter';
  subject: string;
  body: string;
  paymentInstructions: string;
  amountTable: AmountTableRow[];
  mailType: MailType;
  extraService: ExtraService;
  /** "Private and confidential" (localised) where the jurisdiction requires it, else null. */
  confidentialityMarking: string | null;
  /** Localised captions the PDF uses. */
  labels: { date: string; subject: string; paymentInstructions: string };
}
export type RenderedMessage = RenderedSms | RenderedEmail | RenderedVoice | RenderedLetter;
export type RenderedFor<C extends TemplateChannel> = Extract<RenderedMessage, { channel: C }>;

export interface LoadTemplatesOptions {
  /** Override the jurisdiction sets (default: jurisdiction-rules.ts). */
  jurisdictionRules?: JurisdictionRules;
}

function templateId(locale: string, intent: string, channel: string): string {
  return `${locale}/${intent}/${channel}`;
}

// Per-locale results reused across renders: parsing a tag (Intl.Locale,
// Intl.getCanonicalLocales) cost more than the rest of an SMS render. Bounded:
// the keys are the locales in the data; cleared if that ever grows large.
const MAX_CACHED_LOCALES = 500;
const fallbackChains = new Map<string, readonly string[]>();
const canonicalLocales = new Map<string, string>();

function remember<V>(cache: Map<string, V>, key: string, value: V): V {
  if (cache.size >= MAX_CACHED_LOCALES) cache.clear();
  cache.set(key, value);
  return value;
}

/** The locales tried for a request, most specific first: es-MX → es → en. */
export function localeFallbackChain(locale: string): string[] {
  return [...cachedFallbackChain(locale)];
}

function cachedFallbackChain(locale: string): readonly string[] {
  return fallbackChains.get(locale) ?? remember(fallbackChains, locale, Object.freeze(computeFallbackChain(locale)));
}

function computeFallbackChain(locale: string): string[] {
  const chain: string[] = [];
  let tag: Intl.Locale;
  try {
    tag = new Intl.Locale(locale);
  } catch {
    throw new TemplateError('invalid_request', `locale "${locale}" is not a BCP 47 language tag`, {
      variable: 'locale',
    });
  }
  const add = (value: string): void => {
    if (!chain.includes(value)) chain.push(value);
  };
  if (tag.script && tag.region) add(`${tag.language}-${tag.script}-${tag.region}`);
  if (tag.region) add(`${tag.language}-${tag.region}`);
  if (tag.script) add(`${tag.language}-${tag.script}`);
  add(tag.language);
  add(BASE_LOCALE);
  return chain;
}

export class TemplateRegistry {
  private readonly templates: ReadonlyMap<string, LoadedTemplate>;
  private readonly locales: ReadonlyMap<string, LocaleFile>;
  private readonly rules: JurisdictionRules;

  /** Use loadTemplates(); the constructor trusts already-validated input. */
  constructor(
    templates: ReadonlyMap<string, LoadedTemplate>,
    locales: ReadonlyMap<string, LocaleFile>,
    rules: JurisdictionRules,
  ) {
    this.templates = templates;
    this.locales = locales;
    this.rules = rules;
  }

  /**
   * The voice and keypad follow-ups of a locale, or of the nearest fallback
   * that has them (es-MX → es → en; loadTemplates requires the base locale's).
   */
  voice(locale: string = BASE_LOCALE): LocaleVoice {
    let chain: readonly string[];
    try {
      chain = cachedFallbackChain(locale);
    } catch {
      chain = [BASE_LOCALE];
    }
    for (const l of chain) {
      const v = this.locales.get(l)?.voice;
      if (v) return v;
    }
    throw new TemplateError('missing_template', `no voice section for locale "${locale}" or its fallbacks`, {
      variable: 'locale',
    });
  }

  /** Locales shipped, e.g. ["en", "es"]. */
  localeList(): string[] {
    return [...this.locales.keys()].sort();
  }

  /** Whether a template exists for the locale itself or a fallback of it. */
  has(intent: Intent, channel: TemplateChannel, locale: string = BASE_LOCALE): boolean {
    try {
      return this.resolve(intent, channel, locale) !== undefined;
    } catch {
      return false;
    }
  }

  /** Template ids available, e.g. "es/final-notice/sms". */
  list(): string[] {
    return [...this.templates.keys()].sort();
  }

  meta(intent: Intent, channel: TemplateChannel, locale: string = BASE_LOCALE): TemplateMeta | undefined {
    return this.resolve(intent, channel, locale)?.meta;
  }

  /** Variables the template for this intent, channel and locale uses (every part), e.g. for a composer's fields. */
  variables(intent: Intent, channel: TemplateChannel, locale: string = BASE_LOCALE): string[] {
    const t = this.resolve(intent, channel, locale);
    if (!t) return [];
    const parts: CompiledPart[] =
      t.channel === 'sms'
        ? [t.body]
        : t.channel === 'email'
          ? [t.subject, t.body]
          : t.channel === 'voice'
            ? [t.say, t.menu, t.voicemail]
            : [t.subject, t.body, t.paymentInstructions];
    return [...new Set(parts.flatMap((p) => p.variables))];
  }

  private resolve(intent: Intent, channel: TemplateChannel, locale: string): LoadedTemplate | undefined {
    for (const candidate of cachedFallbackChain(locale)) {
      const template = this.templates.get(templateId(candidate, intent, channel));
      if (template) return template;
    }
    return undefined;
  }

  render<C extends TemplateChannel>(request: RenderRequest & { channel: C }): RenderedFor<C>;
  render(request: RenderRequest): RenderedMessage;
  render(request: RenderRequest): RenderedMessage {
    const { intent, channel, formatLocale, jurisdiction } = validateRequest(request);
    const template = this.resolve(intent, channel, formatLocale);
    if (!template) {
      throw new TemplateError(
        'unknown_template',
        `no ${channel} template for intent ${intent} in locale ${formatLocale} or its fallbacks (${localeFallbackChain(formatLocale).join(', ')})`,
        { template: templateId(formatLocale, intent, channel) },
      );
    }
    const strings = this.locales.get(template.locale) as LocaleFile;
    const collectorDisclosure =
      request.collector !== 'FIRST_PARTY' && requiresDebtCollectorDisclosure(jurisdiction, this.rules)
        ? request.firstCommunication
          ? strings.disclosure_first
          : strings.disclosure_subsequent
        : '';
    // Written channels carry the state's time-barred disclosure (voice has no {{disclosure}} in its voicemail, and says it in `say`).
    const timeBarred = request.timeBarred
      ? timeBarredDisclosure(
          strings,
          this.locales.get(BASE_LOCALE),
          jurisdiction,
          request.timeBarred.creditReportingObsolete,
          request.senderName,
        )
      : '';
    const disclosure = [collectorDisclosure, timeBarred].filter(Boolean).join(' ');
    const dueStatus = {
      ...DEFAULT_DUE_STATUS,
      ...(this.locales.get('en') as LocaleFile | undefined)?.due_status,
      ...strings.due_status,
    };
    const context = buildContext(template, request.vars, formatLocale, disclosure, dueStatus);
    const rendered = this.renderTemplate(template, context, strings, jurisdiction, intent, formatLocale);
    // The state's own disclosure says the debtor will not be sued: it is the one place such words may stand.
    if (request.timeBarred) refuseSuitThreat(template.id, rendered, timeBarred);
    return rendered;
  }

  private renderTemplate(
    template: LoadedTemplate,
    context: Record<string, string>,
    strings: LocaleFile,
    jurisdiction: string | null,
    intent: Intent,
    formatLocale: string,
  ): RenderedMessage {
    const base: RenderedBase = {
      intent,
      templateId: template.id,
      templateLocale: template.locale,
      formatLocale,
      meta: template.meta,
    };

    switch (template.channel) {
      case 'sms': {
        const text = tidyText(template.body.text(context));
        if (intent === 'opt-out-confirmation') checkOptOutConfirmation(template.id, text);
        if (intent === 'help') checkHelpReply(template.id, text);
        const { encoding, segments } = measureSms(text);
        return { ...base, channel: 'sms', text, encoding, segments };
      }
      case 'email': {
        const subject = tidyText(template.subject.text(context)).replace(/\s+/g, ' ');
        const text = tidyText(template.body.text(context));
        if (intent === 'opt-out-confirmation') checkOptOutConfirmation(template.id, `${subject}\n${text}`);
        const html = emailHtml(template.locale, subject, htmlParagraphs(template.body.html(context)));
        return { ...base, channel: 'email', subject, text, html };
      }
      case 'voice': {
        const voicemail = tidyText(template.voicemail.text(context));
        const findings = voicemailFindings(voicemail);
        if (findings.length > 0) {
          throw new TemplateError(
            'forbidden_content',
            `${template.id}: rendered voicemail is not a limited-content message (Reg F §1006.2(j)): ${describeFindings(findings)}`,
            { template: template.id },
          );
        }
        return {
          ...base,
          channel: 'voice',
          say: tidyText(template.say.text(context)),
          menu: tidyText(template.menu.text(context)),
          voicemail,
        };
      }
      case 'letter':
        return {
          ...base,
          channel: 'letter',
          subject: tidyText(template.subject.text(context)).replace(/\s+/g, ' '),
          body: tidyText(template.body.text(context)),
          paymentInstructions: tidyText(template.paymentInstructions.text(context)),
          amountTable: template.amountTable.map((key) => ({
            key,
            label: strings.amount_table[key],
            value: context[key] as string,
          })),
          mailType: template.mailType,
          extraService: template.extraService,
          confidentialityMarking: requiresPrivateAndConfidential(jurisdiction, this.rules)
            ? strings.private_and_confidential
            : null,
          labels: {
            date: strings.letter.date,
            subject: strings.letter.subject,
            paymentInstructions: strings.letter.payment_instructions,
          },
        };
    }
  }
}

/**
 * The disclosure a state requires for a time-barred debt (templates/<locale>/_locale.yaml
 * `time_barred`), in the template's language, else the base locale's: the wording is the
 * law's, so an untranslated one is sent rather than none. A state entry covers the state only.
 */
function timeBarredDisclosure(
  strings: LocaleFile,
  base: LocaleFile | undefined,
  jurisdiction: string | null,
  obsolete: boolean,
  senderName: string | undefined,
): string {
  if (!jurisdiction) return '';
  const entry = strings.time_barred?.[jurisdiction] ?? base?.time_barred?.[jurisdiction];
  if (!entry) return '';
  return (obsolete ? entry.obsolete : entry.reportable).replace(/\{collector\}/g, senderName ?? 'we');
}

/** Reg F §1006.26(b): nothing about a time-barred debt may threaten suit, whatever put the words there. */
function refuseSuitThreat(id: string, rendered: RenderedMessage, allowed: string): void {
  const texts =
    rendered.channel === 'sms'
      ? [rendered.text]
      : rendered.channel === 'email'
        ? [rendered.subject, rendered.text]
        : rendered.channel === 'voice'
          ? [rendered.say, rendered.menu, rendered.voicemail]
          : [rendered.subject, rendered.body, rendered.paymentInstructions];
  for (const text of texts) {
    const findings = suitThreatFindings(allowed ? text.split(allowed).join(' ') : text);
    if (findings.length > 0) {
      throw new TemplateError(
        'forbidden_content',
        `${id}: the debt is time-barred; no message about it may threaten suit (Reg F §1006.26(b)): ${describeFindings(findings)}`,
        { template: id },
      );
    }
  }
}

function validateRequest(request: RenderRequest): {
  intent: Intent;
  channel: TemplateChannel;
  formatLocale: string;
  jurisdiction: string | null;
} {
  if (typeof request !== 'object' || request === null) {
    throw new TemplateError('invalid_request', 'render request must be an object');
  }
  if (!isIntent(request.intent)) {
    throw new TemplateError(
      'invalid_request',
      `intent "${String(request.intent)}" is not one of ${INTENTS.join(', ')}`,
      { variable: 'intent' },
    );
  }
  if (!isTemplateChannel(request.channel)) {
    throw new TemplateError(
      'invalid_request',
      `channel "${String(request.channel)}" is not one of ${TEMPLATE_CHANNELS.join(', ')}`,
      { variable: 'channel' },
    );
  }
  if (typeof request.locale !== 'string' || request.locale.trim() === '') {
    throw new TemplateError('invalid_request', 'locale is required', { variable: 'locale' });
  }
  let formatLocale = canonicalLocales.get(request.locale);
  if (formatLocale === undefined) {
    try {
      formatLocale = remember(
        canonicalLocales,
        request.locale,
        Intl.getCanonicalLocales(request.locale.trim().replace(/_/g, '-'))[0] as string,
      );
    } catch {
      throw new TemplateError('invalid_request', `locale "${request.locale}" is not a BCP 47 language tag`, {
        variable: 'locale',
      });
    }
  }
  if (typeof request.firstCommunication !== 'boolean') {
    throw new TemplateError('invalid_request', 'firstCommunication must be true or false', {
      variable: 'firstCommunication',
    });
  }
  if (typeof request.vars !== 'object' || request.vars === null) {
    throw new TemplateError('invalid_request', 'vars must be an object', { variable: 'vars' });
  }
  let jurisdiction: string | null = null;
  if (request.jurisdiction !== null && request.jurisdiction !== undefined) {
    jurisdiction = typeof request.jurisdiction === 'string' ? normaliseJurisdiction(request.jurisdiction) : null;
    if (jurisdiction === null) {
      throw new TemplateError(
        'invalid_request',
        `jurisdiction "${String(request.jurisdiction)}" is not an ISO 3166 code like "US", "US-MA" or "US-NY-NYC"`,
        { variable: 'jurisdiction' },
      );
    }
  }
  return { intent: request.intent, channel: request.channel, formatLocale, jurisdiction };
}

function partsOf(template: LoadedTemplate): CompiledPart[] {
  switch (template.channel) {
    case 'sms':
      return [template.body];
    case 'email':
      return [template.subject, template.body];
    case 'voice':
      return [template.say, template.menu, template.voicemail];
    case 'letter':
      return [template.subject, template.body, template.paymentInstructions];
  }
}

/** Display values for every variable the template uses; refuses missing or empty ones. */
// A loaded template never changes, so the variables it needs are worked out once.
const neededVariables = new WeakMap<LoadedTemplate, ReadonlySet<string>>();

function variablesOf(template: LoadedTemplate): ReadonlySet<string> {
  let needed = neededVariables.get(template);
  if (!needed) {
    const names = new Set(partsOf(template).flatMap((part) => part.variables));
    if (template.channel === 'letter') for (const key of template.amountTable) names.add(key);
    needed = names;
    neededVariables.set(template, needed);
  }
  return needed;
}

function buildContext(
  template: LoadedTemplate,
  vars: MessageVars,
  locale: string,
  disclosure: string,
  dueStatus: DueStatusStrings,
): Record<string, string> {
  const needed = variablesOf(template);
  const context: Record<string, string> = {};
  for (const name of needed) {
    if (!isTemplateVariable(name)) continue; // rejected at load time
    if (name === 'disclosure') {
      context[name] = disclosure;
      continue;
    }
    try {
      context[name] = name === 'dueStatus' ? dueStatusText(vars, locale, dueStatus) : displayValue(name, vars, locale);
    } catch (error) {
      if (!(error instanceof VariableProblem)) throw error;
      throw new TemplateError(
        error.code,
        `template ${template.id}: variable "${error.variable}" ${error.message}; refusing to render a message with a blank or wrong value`,
        { template: template.id, variable: error.variable },
      );
    }
  }
  return context;
}

function checkOptOutConfirmation(id: string, text: string): void {
  const findings = optOutConfirmationFindings(text);
  if (findings.length > 0) {
    throw new TemplateError(
      'forbidden_content',
      `${id}: an opt-out confirmation may only say the request will be honoured (no balance, no link): ${describeFindings(findings)}`,
      { template: id },
    );
  }
}

/** The HELP answer, like an opt-out confirmation, carries no balance and no link (values can smuggle them in). */
function checkHelpReply(id: string, text: string): void {
  const findings = optOutConfirmationFindings(text);
  if (findings.length > 0) {
    throw new TemplateError(
      'forbidden_content',
      `${id}: the HELP answer carries no balance and no link: ${describeFindings(findings)}`,
      { template: id },
    );
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function emailHtml(locale: string, subject: string, bodyHtml: string): string {
  return [
    '<!DOCTYPE html>',
    `<html lang="${escapeHtml(locale)}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; color: #1a1a1a;">',
    bodyHtml,
    '</body>',
    '</html>',
  ].join('\n');
}

// ───────────────────────────── loading ─────────────────────────────

/** The shipped templates directory: the nearest `templates/` above this module. */
export function defaultTemplatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i += 1) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, BASE_LOCALE, LOCALE_FILE))) return candidate;
    dir = dirname(dir);
  }
  return resolve(process.cwd(), 'templates');
}

class ProblemCollector {
  readonly problems: TemplateProblem[] = [];
  constructor(private readonly root: string) {}

  add(path: string, rule: TemplateProblem['rule'], message: string, variable?: string): void {
    const file = relative(this.root, path) || path;
    this.problems.push(variable === undefined ? { file, rule, message } : { file, rule, message, variable });
  }
}

/** Compiles one named part, recording syntax and unknown-variable problems. */
function compileChecked(
  problems: ProblemCollector,
  path: string,
  label: string,
  source: string,
): CompiledPart | undefined {
  const result = compilePart(source);
  if ('problems' in result) {
    for (const problem of result.problems) problems.add(path, problem.rule, `${label}: ${problem.message}`);
    return undefined;
  }
  // Unknown variables are recorded but the part is still returned, so the
  // file's other rules are checked too (the caller drops the file anyway).
  for (const name of result.part.variables) {
    if (!isTemplateVariable(name)) {
      problems.add(path, 'unknown_variable', `${label}: unknown variable "{{${name}}}"`, name);
    }
  }
  return result.part;
}

function requireDisclosure(problems: ProblemCollector, path: string, label: string, part: CompiledPart): void {
  if (!part.variables.includes('disclosure')) {
    problems.add(
      path,
      'missing_disclosure',
      `${label} must include {{disclosure}} (debt-collector disclosure, Reg F §1006.18(e))`,
      'disclosure',
    );
  }
}

function restrictVariables(
  problems: ProblemCollector,
  path: string,
  label: string,
  part: CompiledPart,
  allowed: ReadonlySet<string>,
  why: string,
): void {
  for (const name of part.variables) {
    if (!allowed.has(name)) problems.add(path, 'forbidden_content', `${label} may not use {{${name}}}: ${why}`, name);
  }
}

function loadTemplateFile(
  problems: ProblemCollector,
  path: string,
  locale: string,
  intent: Intent,
  channel: TemplateChannel,
): LoadedTemplate | undefined {
  const id = templateId(locale, intent, channel);
  const before = problems.problems.length;
  const isOptOutConfirmation = intent === 'opt-out-confirmation';
  const optOutWhy = 'an opt-out confirmation carries no balance and no link (TCPA, Reg F §1006.14(h))';
  const meta = (m: { step?: number | undefined; tone?: Tone | undefined }): TemplateMeta => ({
    step: m.step,
    tone: m.tone,
  });

  const checkOptOutConfirmationPart = (label: string, part: CompiledPart): void => {
    restrictVariables(problems, path, label, part, OPT_OUT_CONFIRMATION_ALLOWED_VARIABLES, optOutWhy);
    const findings = optOutConfirmationFindings(part.staticText);
    if (findings.length > 0)
      problems.add(path, 'forbidden_content', `${label}: ${optOutWhy}; found ${describeFindings(findings)}`);
  };

  let raw: string;
  try {
    raw = readText(path);
  } catch (error) {
    problems.add(path, 'invalid_layout', `cannot read: ${(error as Error).message}`);
    return undefined;
  }

  if (channel === 'voice') {
    let parsed: unknown;
    try {
      parsed = readYamlFile(path);
    } catch (error) {
      problems.add(path, 'invalid_front_matter', `YAML does not parse: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    }
    const file = voiceFile.safeParse(parsed);
    if (!file.success) {
      problems.add(path, 'invalid_front_matter', formatZodIssues(file.error));
      return undefined;
    }
    const say = compileChecked(problems, path, 'say', file.data.say);
    const menu = compileChecked(problems, path, 'menu', file.data.menu);
    const voicemail = compileChecked(problems, path, 'voicemail', file.data.voicemail);
    if (say) requireDisclosure(problems, path, 'say', say);
    if (menu) {
      for (const digit of Object.keys(VOICE_MENU_DIGITS)) {
        if (!new RegExp(`(^|\\D)${digit}(\\D|$)`).test(menu.staticText)) {
          problems.add(
            path,
            'missing_menu_option',
            `menu must offer key ${digit} (${VOICE_MENU_DIGITS[digit as keyof typeof VOICE_MENU_DIGITS]})`,
          );
        }
      }
    }
    if (voicemail) {
      restrictVariables(
        problems,
        path,
        'voicemail',
        voicemail,
        VOICEMAIL_ALLOWED_VARIABLES,
        'a voicemail is a limited-content message (Reg F §1006.2(j)): business name, agent name, callback number, salutation only',
      );
      const findings = voicemailFindings(voicemail.staticText);
      if (findings.length > 0) {
        problems.add(
          path,
          'forbidden_content',
          `voicemail is not a limited-content message (Reg F §1006.2(j)): found ${describeFindings(findings)}`,
        );
      }
    }
    if (!say || !menu || !voicemail || problems.problems.length > before) return undefined;
    return { id, locale, intent, channel, meta: meta(file.data), say, menu, voicemail };
  }

  let split: { frontMatter: unknown; body: string };
  try {
    split = splitFrontMatter(raw);
  } catch (error) {
    problems.add(path, 'invalid_front_matter', (error as Error).message.split('\n')[0] as string);
    return undefined;
  }
  if (split.body.trim() === '') {
    problems.add(path, 'invalid_layout', 'template body is empty');
    return undefined;
  }

  if (channel === 'sms') {
    const fm = smsFrontMatter.safeParse(split.frontMatter);
    if (!fm.success) problems.add(path, 'invalid_front_matter', formatZodIssues(fm.error));
    const body = compileChecked(problems, path, 'body', split.body);
    if (body) {
      requireDisclosure(problems, path, 'body', body);
      if (isOptOutConfirmation) {
        checkOptOutConfirmationPart('body', body);
      } else if (!hasSmsOptOutInstruction(body.staticText)) {
        problems.add(
          path,
          'missing_opt_out',
          'SMS must tell the recipient how to opt out in its own text, e.g. "Reply STOP to opt out" (Reg F §1006.6(e))',
        );
      }
      if (intent === 'help') {
        const helpWhy = 'the HELP answer says who we are and how to reach us; no balance, no link';
        restrictVariables(problems, path, 'body', body, HELP_REPLY_ALLOWED_VARIABLES, helpWhy);
        const findings = optOutConfirmationFindings(body.staticText);
        if (findings.length > 0)
          problems.add(path, 'forbidden_content', `body: ${helpWhy}; found ${describeFindings(findings)}`);
      }
    }
    if (!fm.success || !body || problems.problems.length > before) return undefined;
    return { id, locale, intent, channel, meta: meta(fm.data), body };
  }

  if (channel === 'email') {
    const fm = emailFrontMatter.safeParse(split.frontMatter);
    if (!fm.success) {
      problems.add(path, 'invalid_front_matter', formatZodIssues(fm.error));
      return undefined;
    }
    const subject = compileChecked(problems, path, 'subject', fm.data.subject);
    const body = compileChecked(problems, path, 'body', split.body);
    if (body) {
      requireDisclosure(problems, path, 'body', body);
      if (isOptOutConfirmation) {
        checkOptOutConfirmationPart('body', body);
      } else if (!body.variables.includes('unsubscribeLink')) {
        problems.add(
          path,
          'missing_opt_out',
          'email must carry the unsubscribe link: add {{link unsubscribeLink}} (Reg F §1006.6(e))',
          'unsubscribeLink',
        );
      }
    }
    if (subject && isOptOutConfirmation) checkOptOutConfirmationPart('subject', subject);
    if (!subject || !body || problems.problems.length > before) return undefined;
    return { id, locale, intent, channel, meta: meta(fm.data), subject, body };
  }

  const fm = letterFrontMatter.safeParse(split.frontMatter);
  if (!fm.success) {
    problems.add(path, 'invalid_front_matter', formatZodIssues(fm.error));
    return undefined;
  }
  const subject = compileChecked(problems, path, 'subject', fm.data.subject);
  const body = compileChecked(problems, path, 'body', split.body);
  const paymentInstructions = compileChecked(problems, path, 'payment_instructions', fm.data.payment_instructions);
  if (body) requireDisclosure(problems, path, 'body', body);
  if (!subject || !body || !paymentInstructions || problems.problems.length > before) return undefined;
  return {
    id,
    locale,
    intent,
    channel,
    meta: meta(fm.data),
    subject,
    body,
    paymentInstructions,
    amountTable: fm.data.amount_table,
    mailType: fm.data.mail_type,
    extraService: fm.data.extra_service,
  };
}

/**
 * Loads and validates every template under `dir` (default: the shipped
 * `templates/`). Returns a registry, or throws one TemplateValidationError
 * listing every problem (file, rule, message).
 */
export function loadTemplates(
  dir: string = defaultTemplatesDir(),
  options: LoadTemplatesOptions = {},
): TemplateRegistry {
  const root = resolve(dir);
  const problems = new ProblemCollector(root);
  const templates = new Map<string, LoadedTemplate>();
  const locales = new Map<string, LocaleFile>();

  let localeEntries: { name: string; isDirectory: boolean }[];
  try {
    localeEntries = listEntries(root);
  } catch (error) {
    throw new TemplateValidationError(root, [
      { file: root, rule: 'invalid_layout', message: `cannot read templates directory: ${(error as Error).message}` },
    ]);
  }

  for (const localeEntry of localeEntries) {
    const localeDir = join(root, localeEntry.name);
    if (!localeEntry.isDirectory) {
      if (!/\.(md|txt)$/i.test(localeEntry.name))
        problems.add(localeDir, 'invalid_layout', 'unexpected file; expected locale folders like en/ or es-MX/');
      continue;
    }
    if (!isLocaleDirName(localeEntry.name)) {
      problems.add(localeDir, 'invalid_layout', 'folder name is not a locale tag like "en" or "es-MX"');
      continue;
    }
    const locale = localeEntry.name;
    const localePath = join(localeDir, LOCALE_FILE);
    if (!existsSync(localePath)) {
      problems.add(
        localePath,
        'invalid_layout',
        `every locale folder needs ${LOCALE_FILE} (disclosures, markings, labels)`,
      );
    } else {
      try {
        const parsed = localeFile.safeParse(readYamlFile(localePath));
        if (parsed.success) locales.set(locale, parsed.data);
        else problems.add(localePath, 'invalid_front_matter', formatZodIssues(parsed.error));
        // Every locale's calls fall back to the base locale's voice and keypad follow-ups.
        if (parsed.success && locale === BASE_LOCALE && !parsed.data.voice)
          problems.add(
            localePath,
            'invalid_front_matter',
            `the base locale "${BASE_LOCALE}" needs a voice section (language, tts_voice, keypad follow-ups)`,
          );
      } catch (error) {
        problems.add(
          localePath,
          'invalid_front_matter',
          `YAML does not parse: ${(error as Error).message.split('\n')[0]}`,
        );
      }
    }

    for (const intentEntry of listEntries(localeDir)) {
      const intentDir = join(localeDir, intentEntry.name);
      if (!intentEntry.isDirectory) {
        if (intentEntry.name !== LOCALE_FILE)
          problems.add(intentDir, 'invalid_layout', `unexpected file; expected ${LOCALE_FILE} or intent folders`);
        continue;
      }
      if (!isIntent(intentEntry.name)) {
        problems.add(intentDir, 'invalid_layout', `unknown intent "${intentEntry.name}"; known: ${INTENTS.join(', ')}`);
        continue;
      }
      const intent = intentEntry.name;
      for (const fileEntry of listEntries(intentDir)) {
        const filePath = join(intentDir, fileEntry.name);
        const match = /^([a-z]+)\.([a-z]+)$/.exec(fileEntry.name);
        const channel = match?.[1];
        if (
          fileEntry.isDirectory ||
          !match ||
          !isTemplateChannel(channel) ||
          CHANNEL_FILE_EXTENSION[channel] !== match[2]
        ) {
          const expected = TEMPLATE_CHANNELS.map((c) => `${c}.${CHANNEL_FILE_EXTENSION[c]}`).join(', ');
          problems.add(filePath, 'invalid_layout', `unexpected entry; expected one of ${expected}`);
          continue;
        }
        if (!ALLOWED_CHANNELS[intent].includes(channel)) {
          problems.add(
            filePath,
            'invalid_layout',
            `intent ${intent} is not sent by ${channel} (allowed: ${ALLOWED_CHANNELS[intent].join(', ')})`,
          );
          continue;
        }
        const template = loadTemplateFile(problems, filePath, locale, intent, channel);
        if (template) templates.set(template.id, template);
      }
    }
  }

  // The base locale is every other locale's last fallback, so it must be complete.
  for (const intent of INTENTS) {
    for (const channel of REQUIRED_CHANNELS[intent]) {
      const path = join(root, BASE_LOCALE, intent, `${channel}.${CHANNEL_FILE_EXTENSION[channel]}`);
      if (!existsSync(path))
        problems.add(path, 'missing_template', `base locale "${BASE_LOCALE}" must ship ${intent} by ${channel}`);
    }
  }

  if (problems.problems.length > 0) throw new TemplateValidationError(root, problems.problems);
  return new TemplateRegistry(templates, locales, options.jurisdictionRules ?? DEFAULT_JURISDICTION_RULES);
}

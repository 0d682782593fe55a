// Turns a routed request into message content: the template variables from
// the debtor and debt records, and the rendered text for the chosen channel.
// A missing variable is refused by the template engine (never a blank).
import { senderNumber } from '../providers.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { AppContext } from '../context.js';
import { minorDigits } from '../domain/debtors.js';
import { unsubscribeUrl } from '../messaging/consent.js';
import { externalPortalUrl, portalUrl } from '../portal/links.js';
import { join } from 'node:path';
import {
  defaultTemplatesDir,
  localeFallbackChain,
  measureSms,
  TemplateError,
  type Intent,
  type MessageVars,
  type RenderedMessage,
  type SmsEncoding,
} from '../templates/index.js';
import { htmlParagraphs, tidyText } from '../templates/compile.js';
import { describeFindings, hasSmsOptOutInstruction, suitThreatFindings } from '../templates/content-rules.js';
import { DEFAULT_JURISDICTION_RULES, requiresDebtCollectorDisclosure } from '../templates/jurisdiction-rules.js';
import { LOCALE_FILE, localeFile, readYamlFile, type LocaleFile } from '../templates/template-files.js';

/** The debt fields a message's text uses (a Prisma Debt with its creditor has them; so does the snapshot's read). */
export interface ContentDebt {
  id: string;
  externalRef: string;
  currency: string;
  dueDate: Date;
  jurisdiction: string | null;
  paymentLink: string | null;
  balance: Prisma.Decimal;
  /** kind: who collects (absent: AGENCY, the stricter regime). */
  creditor: { name: string; kind?: 'FIRST_PARTY' | 'AGENCY' };
  /** Reg F §1006.26: no suit may be threatened; states add a disclosure. */
  timeBarred?: boolean;
}

/**
 * FCRA §605(a), (c): a delinquent account may be reported for 7 years from 180 days after the
 * delinquency began (the due date here). Past that, a time-barred debt is "obsolete" and some
 * states' time-barred disclosures say it will not be reported.
 */
const REPORTING_YEARS = 7;
const REPORTING_GRACE_DAYS = 180;

/** What the sender's regime changes in a message about this debt (docs/domain.md §2.1, §2.2.12). */
export function regimeOf(ctx: AppContext, debt: Pick<ContentDebt, 'creditor' | 'timeBarred' | 'dueDate'>, now: Date) {
  const obsoleteAt = new Date(debt.dueDate.getTime() + REPORTING_GRACE_DAYS * 86_400_000);
  obsoleteAt.setUTCFullYear(obsoleteAt.getUTCFullYear() + REPORTING_YEARS);
  return {
    collector: debt.creditor.kind ?? 'AGENCY',
    timeBarred: debt.timeBarred ? { creditReportingObsolete: now >= obsoleteAt } : null,
    senderName: ctx.config.COMPANY_NAME,
  } as const;
}
export type Regime = ReturnType<typeof regimeOf>;
type Debtor = { id: string; fullName: string; locale: string; jurisdiction: string | null };

/** Signed calendar days from today (UTC) to the due date: 3 due in three days, 0 today, −150 overdue. */
export function dueInDays(dueDate: Date, now: Date): number {
  return Math.round(
    (dueDate.getTime() - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())) / 86_400_000,
  );
}

export function daysPastDue(dueDate: Date, now: Date): number {
  const ms = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - dueDate.getTime();
  return Math.max(0, Math.floor(ms / 86_400_000));
}

/**
 * The debt's own link if it has one; else an external portal (PAYMENT_LINK_BASE,
 * `?debt=<id>`); else the gateway's debtor page, signed for this debtor, debt
 * and the contact point the message goes to (src/portal/links.ts).
 */
export function paymentLink(
  ctx: AppContext,
  debt: ContentDebt,
  to: { debtorId: string; contactPointId: string; now: Date },
): string {
  if (debt.paymentLink) return debt.paymentLink;
  if (ctx.config.PAYMENT_LINK_BASE) return externalPortalUrl(ctx.config.PAYMENT_LINK_BASE, debt.id);
  return portalUrl(ctx, { debtorId: to.debtorId, debtId: debt.id, contactPointId: to.contactPointId, now: to.now });
}

export function templateVars(
  ctx: AppContext,
  opts: {
    debtor: Debtor;
    debt: ContentDebt;
    contactPointId: string;
    now: Date;
    agentName?: string;
    extra?: Record<string, string>;
  },
): MessageVars {
  const { debtor, debt } = opts;
  const digits = minorDigits(debt.currency);
  const finalDate = new Date(opts.now.getTime() + 14 * 86_400_000).toISOString().slice(0, 10);
  return {
    debtorName: debtor.fullName,
    companyName: ctx.config.COMPANY_NAME,
    creditorName: debt.creditor.name,
    agentName: opts.agentName ?? ctx.config.AGENT_NAME,
    callbackNumber: ctx.config.AGENT_PHONE_NUMBER ?? senderNumber(ctx.providers, 'VOICE') ?? '',
    accountReference: debt.externalRef,
    voicemailBusinessName: ctx.config.VOICEMAIL_BUSINESS_NAME,
    amount: debt.balance.toFixed(digits),
    currency: debt.currency,
    dueDate: debt.dueDate.toISOString().slice(0, 10),
    finalDate,
    daysPastDue: daysPastDue(debt.dueDate, opts.now),
    dueInDays: dueInDays(debt.dueDate, opts.now),
    paymentLink: paymentLink(ctx, debt, { debtorId: debtor.id, contactPointId: opts.contactPointId, now: opts.now }),
    unsubscribeLink: unsubscribeUrl(ctx, { contactPointId: opts.contactPointId }),
    ...opts.extra,
  };
}

export function renderFor(
  ctx: AppContext,
  opts: {
    intent: Intent;
    channel: 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER';
    locale: string;
    vars: MessageVars;
    firstCommunication: boolean;
    jurisdiction: string | null;
    regime?: Regime;
  },
): RenderedMessage {
  return ctx.templates.render({
    intent: opts.intent,
    channel: opts.channel.toLowerCase() as 'sms',
    locale: opts.locale,
    vars: opts.vars,
    firstCommunication: opts.firstCommunication,
    jurisdiction: opts.jurisdiction,
    ...(opts.regime ?? {}),
  });
}

/** The text stored as the message body (what an agent reads in the thread). */
/** A rendered message as the message row's content columns (what a channel does not use is null). */
export function bodyOf(r: RenderedMessage | FreeTextMessage): {
  body: string;
  subject: string | null;
  html: string | null;
  segments: number | null;
  encoding: string | null;
} {
  const none = { subject: null, html: null, segments: null, encoding: null };
  switch (r.channel) {
    case 'sms':
      return { ...none, body: r.text, segments: r.segments, encoding: r.encoding };
    case 'email':
      return { ...none, body: r.text, subject: r.subject, html: r.html };
    case 'voice':
      return { ...none, body: `${r.say}\n\n${r.menu}\n\n[voicemail] ${r.voicemail}` };
    case 'letter':
      return { ...none, body: r.body, subject: r.subject };
  }
}

// ── free text (an agent's own words) ────────────────────────────────────
// An agent's reply carries the same compliance parts a template must contain
// (templates/README.md): the debt-collector disclosure where the jurisdiction
// requires it (Reg F §1006.18(e)), and the opt-out way — "Reply STOP" in an
// SMS, the unsubscribe link in an email (Reg F §1006.6(e)). The agent cannot
// leave them out: they are appended here, after the agent's text.

/** The intent recorded for free-text messages; the router permits it nowhere a restriction limits messages to named ones. */
export const FREE_TEXT_INTENT = 'free-text';
export const FREE_TEXT_MAX_LENGTH = 2000;
export const FREE_TEXT_SUBJECT_MAX_LENGTH = 200;

export type FreeTextMessage =
  | { channel: 'sms'; templateId: string; text: string; encoding: SmsEncoding; segments: number }
  | { channel: 'email'; templateId: string; subject: string; text: string; html: string };

/** The opt-out sentences per language; STOP stays in capitals in every language (carriers match it). */
const OPT_OUT_WORDING: Record<string, { sms: string; email: string }> = {
  en: { sms: 'Reply STOP to opt out.', email: 'To stop receiving emails at this address, unsubscribe here:' },
  es: {
    sms: 'Responda STOP para darse de baja.',
    email: 'Para dejar de recibir correos en esta dirección, cancele la suscripción aquí:',
  },
};

const localeStrings = new Map<string, LocaleFile | null>();
/** The locale's disclosures (templates/<locale>/_locale.yaml), following the template fallback chain. */
function disclosureStrings(locale: string): { locale: string; strings: LocaleFile } {
  for (const candidate of localeFallbackChain(locale)) {
    if (!localeStrings.has(candidate)) {
      let parsed: LocaleFile | null = null;
      try {
        const r = localeFile.safeParse(readYamlFile(join(defaultTemplatesDir(), candidate, LOCALE_FILE)));
        parsed = r.success ? r.data : null;
      } catch {
        parsed = null; // no such locale folder
      }
      localeStrings.set(candidate, parsed);
    }
    const strings = localeStrings.get(candidate);
    if (strings) return { locale: candidate, strings };
  }
  throw new TemplateError('unknown_template', `no locale strings for ${locale} or its fallbacks`, {
    variable: 'locale',
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderFreeText(opts: {
  channel: 'SMS' | 'EMAIL';
  body: string;
  subject?: string;
  locale: string;
  firstCommunication: boolean;
  jurisdiction: string | null;
  unsubscribeLink: string;
  companyName: string;
  regime?: Regime;
}): FreeTextMessage {
  const body = tidyText(opts.body);
  if (!body) throw new TemplateError('invalid_request', 'the reply text is empty', { variable: 'body' });
  if (body.length > FREE_TEXT_MAX_LENGTH)
    throw new TemplateError('invalid_request', `the reply text is longer than ${FREE_TEXT_MAX_LENGTH} characters`, {
      variable: 'body',
    });
  // Reg F §1006.26(b): an agent's words about a time-barred debt may not threaten suit either.
  const threat = opts.regime?.timeBarred ? suitThreatFindings(`${opts.subject ?? ''}\n${body}`) : [];
  if (threat.length > 0) {
    throw new TemplateError(
      'forbidden_content',
      `the debt is time-barred; no message about it may threaten suit (Reg F §1006.26(b)): ${describeFindings(threat)}`,
      { variable: 'body' },
    );
  }
  const { locale, strings } = disclosureStrings(opts.locale);
  const wording = OPT_OUT_WORDING[locale.split('-')[0]!] ?? OPT_OUT_WORDING.en!;
  const disclosure =
    opts.regime?.collector !== 'FIRST_PARTY' &&
    requiresDebtCollectorDisclosure(opts.jurisdiction, DEFAULT_JURISDICTION_RULES)
      ? opts.firstCommunication
        ? strings.disclosure_first
        : strings.disclosure_subsequent
      : '';
  if (opts.channel === 'SMS') {
    const text = tidyText([body, disclosure, wording.sms].filter(Boolean).join(' '));
    // The appended wording is what satisfies the rule; checked anyway, as templates are.
    if (!hasSmsOptOutInstruction(text))
      throw new TemplateError('missing_opt_out', 'SMS without an opt-out instruction', { variable: 'body' });
    const { encoding, segments } = measureSms(text);
    return { channel: 'sms', templateId: `${FREE_TEXT_INTENT}/sms`, text, encoding, segments };
  }
  const subject = tidyText(opts.subject ?? '').replace(/\s+/g, ' ');
  if (!subject) throw new TemplateError('invalid_request', 'an email reply needs a subject', { variable: 'subject' });
  if (subject.length > FREE_TEXT_SUBJECT_MAX_LENGTH)
    throw new TemplateError(
      'invalid_request',
      `the subject is longer than ${FREE_TEXT_SUBJECT_MAX_LENGTH} characters`,
      { variable: 'subject' },
    );
  const paragraphs = [body, opts.companyName, disclosure].filter(Boolean);
  const text = tidyText(`${paragraphs.join('\n\n')}\n\n${wording.email} ${opts.unsubscribeLink}`);
  const link = escapeHtml(opts.unsubscribeLink);
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${escapeHtml(locale)}">`,
    `<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; color: #1a1a1a;">',
    htmlParagraphs(paragraphs.map(escapeHtml).join('\n\n')),
    `<p>${escapeHtml(wording.email)} <a href="${link}">${link}</a></p>`,
    '</body>',
    '</html>',
  ].join('\n');
  return { channel: 'email', templateId: `${FREE_TEXT_INTENT}/email`, subject, text, html };
}

export interface FreeText {
  body: string;
  /** Email only (required there). */
  subject?: string;
}

/**
 * The content of one outreach: the template of the intent, or the agent's
 * free text with the compliance parts added. Shared by the send path
 * (requestOutreach) and the inbox preview, so what is previewed is what is sent.
 */
export function renderContent(
  ctx: AppContext,
  opts: {
    intent: Intent | typeof FREE_TEXT_INTENT;
    freeText?: FreeText;
    channel: 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER';
    locale: string;
    debtor: Debtor;
    debt: ContentDebt;
    contactPointId: string;
    now: Date;
    agentName?: string;
    extra?: Record<string, string>;
    firstCommunication: boolean;
  },
): RenderedMessage | FreeTextMessage {
  const jurisdiction = opts.debt.jurisdiction ?? opts.debtor.jurisdiction;
  const regime = regimeOf(ctx, opts.debt, opts.now);
  const vars = templateVars(ctx, {
    debtor: opts.debtor,
    debt: opts.debt,
    contactPointId: opts.contactPointId,
    now: opts.now,
    agentName: opts.agentName,
    extra: opts.extra,
  });
  if (opts.intent === FREE_TEXT_INTENT) {
    if (!opts.freeText) throw new TemplateError('invalid_request', 'free text needs a body', { variable: 'body' });
    if (opts.channel !== 'SMS' && opts.channel !== 'EMAIL')
      throw new TemplateError('invalid_request', 'free text is sent by SMS or email only', { variable: 'channel' });
    return renderFreeText({
      channel: opts.channel,
      body: opts.freeText.body,
      subject: opts.freeText.subject,
      locale: opts.locale,
      firstCommunication: opts.firstCommunication,
      jurisdiction,
      unsubscribeLink: String(vars.unsubscribeLink),
      companyName: ctx.config.COMPANY_NAME,
      regime,
    });
  }
  return renderFor(ctx, {
    intent: opts.intent,
    channel: opts.channel,
    locale: opts.locale,
    vars,
    firstCommunication: opts.firstCommunication,
    jurisdiction,
    regime,
  });
}

// ── right at send time ──────────────────────────────────────────────────
// A queued message is rendered again when it leaves, from the debt as it
// stands then: a partial payment since queuing shows in the amount, days
// past due count to the day it is sent, and links are fresh. (A debt paid in
// full meanwhile never gets here: the send-time re-check refuses it.)
// Letters keep their PDF — it is the document that was printed — and free
// text is the agent's own words.

/** The content columns of a message as it is sent now, or null to keep what was rendered at queue time. */
export function contentAtSend(
  ctx: AppContext,
  m: {
    id: string;
    intent: string | null;
    channel: 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER';
    locale: string | null;
    decision: unknown;
    createdById: string | null;
  },
  at: { debtor: Debtor & { contactedBefore: boolean }; debt: ContentDebt | null; contactPointId: string; now: Date },
):
  | { content: ReturnType<typeof bodyOf>; voice?: { say: string; menu: string; voicemail: string } }
  | { refused: string }
  | null {
  if (!m.intent || m.intent === FREE_TEXT_INTENT || m.channel === 'LETTER' || !at.debt) return null;
  const decision = (m.decision ?? {}) as { vars?: Record<string, string>; agentName?: string };
  try {
    const rendered = renderContent(ctx, {
      intent: m.intent as Intent,
      channel: m.channel,
      locale: m.locale ?? at.debtor.locale,
      debtor: at.debtor,
      debt: at.debt,
      contactPointId: at.contactPointId,
      now: at.now,
      agentName: decision.agentName,
      extra: decision.vars,
      firstCommunication: !at.debtor.contactedBefore,
    });
    return {
      content: bodyOf(rendered),
      ...(rendered.channel === 'voice'
        ? { voice: { say: rendered.say, menu: rendered.menu, voicemail: rendered.voicemail } }
        : {}),
    };
  } catch (err) {
    // Content the rules now forbid (the debt became time-barred and the text threatens suit) is not sent at all.
    if (err instanceof TemplateError && err.code === 'forbidden_content') return { refused: err.message };
    ctx.log.warn(
      { err, messageId: m.id },
      'message could not be rendered again at send time; it keeps the text it was queued with',
    );
    return null;
  }
}

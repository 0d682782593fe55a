// The debtor page's screens: refusal (bad or expired link), identity check,
// lock, and the account with its actions. Words come from the locale files
// (i18n.ts); every value is escaped.
import { Prisma } from '../generated/prisma/client.js';
import { formatDate, formatMoney } from '../templates/index.js';
import { esc, notice, pageHtml } from './html.js';
import type { Translator } from './i18n.js';
import type { VerificationMethod } from './settings.js';
import type { AccountView, DebtView } from './view.js';

export interface Flash {
  text: string;
  kind: 'info' | 'error' | 'success';
}

const money = (tr: Translator, amount: string, currency: string) => formatMoney(amount, currency, tr.lang);
const day = (tr: Translator, iso: string) => formatDate(iso, tr.lang);

export function refusalPage(tr: Translator, kind: 'invalid' | 'expired', phone: string): string {
  return pageHtml({
    tr,
    title: tr.t(`${kind}_title`),
    body: `<h1>${esc(tr.t(`${kind}_title`))}</h1><section><p>${esc(tr.t(`${kind}_body`, { phone }))}</p></section>`,
  });
}

export function lockedPage(tr: Translator, until: Date, phone: string, langHref: (l: string) => string): string {
  const when = `${new Intl.DateTimeFormat(tr.lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(until)} UTC`;
  return pageHtml({
    tr,
    langHref,
    title: tr.t('locked_title'),
    body: `<h1>${esc(tr.t('locked_title'))}</h1><section><p>${esc(tr.t('locked_body', { until: when, phone }))}</p></section>`,
  });
}

export interface VerifyPageInput {
  tr: Translator;
  action: string;
  csrf: string;
  methods: readonly VerificationMethod[];
  /** Where a code can be sent (masked), or null when the link went to a postal address. */
  codeTo: string | null;
  codeSent: boolean;
  flash?: Flash;
  langHref: (l: string) => string;
  phone: string;
}

export function verifyPage(p: VerifyPageInput): string {
  const { tr } = p;
  const hidden = `<input type="hidden" name="csrf" value="${esc(p.csrf)}">`;
  const parts: string[] = [`<h1>${esc(tr.t('verify_title'))}</h1>`, `<p>${esc(tr.t('verify_intro'))}</p>`];
  if (p.flash) parts.push(notice(p.flash.text, p.flash.kind));
  if (p.methods.includes('code')) {
    if (p.codeTo) {
      parts.push(`<section aria-labelledby="code-h"><h2 id="code-h">${esc(tr.t('code_label'))}</h2><p>${esc(tr.t('code_explain', { to: p.codeTo }))}</p>
<form method="post" action="${esc(p.action)}/code">${hidden}<button type="submit" class="${p.codeSent ? 'secondary' : ''}" id="send-code">${esc(tr.t(p.codeSent ? 'code_resend' : 'code_send'))}</button></form>
${p.codeSent ? `<form method="post" action="${esc(p.action)}/verify">${hidden}<input type="hidden" name="method" value="code"><label for="code">${esc(tr.t('code_label'))}</label><input id="code" name="value" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" required><button type="submit" id="verify-code">${esc(tr.t('verify_submit'))}</button></form>` : ''}</section>`);
    } else {
      parts.push(notice(tr.t('code_unavailable', { phone: p.phone }), 'info'));
    }
  }
  const facts = p.methods.filter((m): m is Exclude<VerificationMethod, 'code'> => m !== 'code');
  if (facts.length) {
    parts.push(
      `<section aria-labelledby="fact-h"><h2 id="fact-h">${esc(tr.t(p.methods.includes('code') ? 'or_fact' : 'verify_title'))}</h2>`,
    );
    for (const m of facts) {
      const id = `fact-${m}`;
      const input =
        m === 'date_of_birth'
          ? `<input id="${id}" name="value" type="date" autocomplete="bday" required>`
          : `<input id="${id}" name="value" autocomplete="${m === 'postcode' ? 'postal-code' : 'off'}" maxlength="100" required>`;
      parts.push(
        `<form method="post" action="${esc(p.action)}/verify">${hidden}<input type="hidden" name="method" value="${m}"><label for="${id}">${esc(tr.t(`method_${m}`))}</label>${input}<button type="submit">${esc(tr.t('verify_submit'))}</button></form>`,
      );
    }
    parts.push('</section>');
  }
  return pageHtml({ tr, langHref: p.langHref, title: tr.t('verify_title'), body: parts.join('\n') });
}

export interface AccountPageInput {
  tr: Translator;
  action: string;
  csrf: string;
  view: AccountView;
  flash?: Flash;
  phone: string;
  /** Per debt: whether card payment / plans can be offered (a provider is configured for its currency). */
  canPay: (d: DebtView) => boolean;
  langHref: (l: string) => string;
  formTargets: string[];
  today: string;
  /** Self-collecting plans are offered (a provider that saves payment methods is configured). */
  plansEnabled: boolean;
}

function planOptions(tr: Translator, d: DebtView): { count: number; amount: string }[] {
  const plans = d.settings.plans;
  if (!plans.enabled || d.activePlan) return [];
  const balance = new Prisma.Decimal(d.balance);
  const min = new Prisma.Decimal(plans.minInstalment);
  const out: { count: number; amount: string }[] = [];
  for (let n = 2; n <= plans.maxInstalments; n++) {
    const each = balance.div(n).toDecimalPlaces(d.digits, Prisma.Decimal.ROUND_UP);
    if (each.lt(min)) break;
    out.push({ count: n, amount: money(tr, each.toFixed(d.digits), d.currency) });
  }
  return out;
}

function debtSection(p: AccountPageInput, d: DebtView): string {
  const { tr } = p;
  const hidden = `<input type="hidden" name="csrf" value="${esc(p.csrf)}"><input type="hidden" name="debt" value="${esc(d.id)}">`;
  const open = !['PAID', 'SETTLED', 'WRITTEN_OFF', 'CLOSED'].includes(d.status);
  const rows: [string, string][] = [
    [tr.t('creditor'), d.creditorName],
    [tr.t('account_reference'), d.externalRef],
    [tr.t('original_amount'), money(tr, d.originalAmount, d.currency)],
    [tr.t('paid_so_far'), money(tr, d.paid, d.currency)],
    [tr.t('balance'), money(tr, d.balance, d.currency)],
    [tr.t('due_date'), day(tr, d.dueDate)],
    [tr.t('days_past_due'), String(d.daysPastDue)],
    [tr.t('status'), tr.t(`status_${d.status}`)],
  ];
  const parts = [
    `<section aria-labelledby="debt-${esc(d.id)}"><h2 id="debt-${esc(d.id)}">${esc(d.creditorName)} · ${esc(d.externalRef)}</h2><dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd data-field="${esc(k)}">${esc(v)}</dd>`).join('')}</dl>`,
  ];
  if (d.activePlan) {
    parts.push(`<p>${esc(tr.t('plan_active', { count: d.activePlan.instalments }))}</p>`);
    if (p.canPay(d))
      parts.push(
        `<form method="post" action="${esc(p.action)}/actions/plan-card">${hidden}<button type="submit" class="secondary" id="plan-card">${esc(tr.t('plan_card'))}</button></form>`,
      );
  }
  if (d.showValidation) parts.push(`<h3>${esc(tr.t('validation_heading'))}</h3><p>${esc(tr.t('validation_body'))}</p>`);
  parts.push('</section>');
  if (!open) return parts.join('');
  const balance = money(tr, d.balance, d.currency);
  const actions: string[] = [];
  if (p.canPay(d) && new Prisma.Decimal(d.balance).gt(0)) {
    actions.push(`<section aria-labelledby="pay-${esc(d.id)}"><h2 id="pay-${esc(d.id)}">${esc(tr.t('pay_heading'))}</h2>
<form method="post" action="${esc(p.action)}/actions/pay">${hidden}<input type="hidden" name="amount" value="${esc(d.balance)}"><button type="submit" id="pay-full">${esc(tr.t('pay_full', { amount: balance }))}</button></form>
<form method="post" action="${esc(p.action)}/actions/pay">${hidden}<label for="amount-${esc(d.id)}">${esc(tr.t('pay_other'))} — ${esc(tr.t('pay_amount_label', { currency: d.currency }))}</label><input id="amount-${esc(d.id)}" name="amount" inputmode="decimal" autocomplete="transaction-amount" maxlength="20" required><button type="submit" class="secondary" id="pay-part">${esc(tr.t('pay_submit'))}</button></form></section>`);
    const options = p.plansEnabled ? planOptions(tr, d) : [];
    if (options.length) {
      actions.push(`<section aria-labelledby="plan-${esc(d.id)}"><h2 id="plan-${esc(d.id)}">${esc(tr.t('plan_heading'))}</h2><p>${esc(tr.t('plan_explain', { days: d.settings.plans.intervalDays, max: d.settings.plans.maxInstalments, min: money(tr, d.settings.plans.minInstalment, d.currency) }))}</p>
<form method="post" action="${esc(p.action)}/actions/plan">${hidden}<label for="plan-count-${esc(d.id)}">${esc(tr.t('plan_count_label'))}</label><select id="plan-count-${esc(d.id)}" name="count">${options.map((o) => `<option value="${o.count}">${esc(tr.t('plan_option', { count: o.count, amount: o.amount }))}</option>`).join('')}</select>
<label for="plan-first-${esc(d.id)}">${esc(tr.t('plan_first_label'))}</label><input id="plan-first-${esc(d.id)}" name="first" type="date" min="${esc(p.today)}" value="${esc(p.today)}" required><button type="submit" id="plan-submit">${esc(tr.t('plan_submit'))}</button></form></section>`);
    }
  } else if (!p.canPay(d)) {
    actions.push(
      `<section><h2>${esc(tr.t('pay_heading'))}</h2><p>${esc(tr.t('pay_unavailable', { phone: p.phone }))}</p></section>`,
    );
  }
  if (d.status !== 'DISPUTED') {
    actions.push(`<section aria-labelledby="promise-${esc(d.id)}"><h2 id="promise-${esc(d.id)}">${esc(tr.t('promise_heading'))}</h2><form method="post" action="${esc(p.action)}/actions/promise">${hidden}
<div class="row"><div><label for="promise-date-${esc(d.id)}">${esc(tr.t('promise_date_label'))}</label><input id="promise-date-${esc(d.id)}" name="date" type="date" required></div>
<div><label for="promise-amount-${esc(d.id)}">${esc(tr.t('promise_amount_label'))}</label><input id="promise-amount-${esc(d.id)}" name="amount" inputmode="decimal" value="${esc(d.balance)}" maxlength="20" required></div></div>
<button type="submit" class="secondary">${esc(tr.t('promise_submit'))}</button></form></section>`);
    actions.push(`<section aria-labelledby="dispute-${esc(d.id)}"><h2 id="dispute-${esc(d.id)}">${esc(tr.t('dispute_heading'))}</h2><form method="post" action="${esc(p.action)}/actions/dispute">${hidden}
<label for="dispute-reason-${esc(d.id)}">${esc(tr.t('dispute_reason_label'))}</label><textarea id="dispute-reason-${esc(d.id)}" name="reason" maxlength="2000" required></textarea><button type="submit" class="secondary">${esc(tr.t('dispute_submit'))}</button></form></section>`);
  }
  return parts.join('') + `<div class="grid">${actions.join('')}</div>`;
}

export function accountPage(p: AccountPageInput): string {
  const { tr, view } = p;
  const hidden = `<input type="hidden" name="csrf" value="${esc(p.csrf)}">`;
  const first = view.debts[0];
  const parts: string[] = [
    `<h1>${esc(tr.t('heading', { creditor: first?.creditorName ?? '' }))}</h1>`,
    `<p class="muted">${esc(tr.t('signed_in_note'))}</p>`,
  ];
  if (p.flash) parts.push(notice(p.flash.text, p.flash.kind));
  parts.push(`<h2 class="visually-section">${esc(tr.t('debts_heading'))}</h2>`);
  for (const d of view.debts) parts.push(debtSection(p, d));
  parts.push(
    `<section aria-labelledby="letters-h"><h2 id="letters-h">${esc(tr.t('letters_heading'))}</h2>${view.letters.length ? `<ul>${view.letters.map((l) => `<li><a href="${esc(p.action)}/letters/${esc(l.messageId)}.pdf">${esc(tr.t('letter_item', { date: day(tr, l.date) }))}</a></li>`).join('')}</ul>` : `<p>${esc(tr.t('letters_none'))}</p>`}</section>`,
  );
  parts.push(
    `<section aria-labelledby="payments-h"><h2 id="payments-h">${esc(tr.t('payments_heading'))}</h2>${view.payments.length ? `<ul id="payments">${view.payments.map((x) => `<li>${esc(day(tr, x.paidAt))} — ${esc(money(tr, x.amount, x.currency))} (${esc(x.debtRef)})${x.status === 'REFUNDED' ? ` — ${esc(tr.t('payment_reversed'))}` : x.status === 'DISPUTED' ? ` — ${esc(tr.t('payment_disputed'))}` : ''}</li>`).join('')}</ul>` : `<p>${esc(tr.t('payments_none'))}</p>`}</section>`,
  );
  const channels = ['SMS', 'EMAIL', 'VOICE', 'LETTER'];
  parts.push(`<div class="grid"><section aria-labelledby="prefs-h"><h2 id="prefs-h">${esc(tr.t('prefs_heading'))}</h2><form method="post" action="${esc(p.action)}/actions/preferences">${hidden}
<label for="pref-channel">${esc(tr.t('prefs_channel_label'))}</label><select id="pref-channel" name="channel"><option value="">${esc(tr.t('prefs_channel_any'))}</option>${channels.map((c) => `<option value="${c}"${view.preferences.channel === c ? ' selected' : ''}>${esc(tr.t(`channel_${c}`))}</option>`).join('')}</select>
<fieldset style="border:0;padding:0;margin:0"><legend style="font-weight:600;margin-top:.75rem">${esc(tr.t('prefs_times_label'))}</legend><div class="row"><div><label for="pref-from">${esc(tr.t('prefs_from'))}</label><input id="pref-from" name="from" type="time" value="${esc(view.preferences.inconvenient?.from ?? '')}"></div><div><label for="pref-to">${esc(tr.t('prefs_to'))}</label><input id="pref-to" name="to" type="time" value="${esc(view.preferences.inconvenient?.to ?? '')}"></div></div></fieldset>
<label for="pref-lang">${esc(tr.t('prefs_language_label'))}</label><select id="pref-lang" name="locale"><option value="en"${tr.lang === 'en' ? ' selected' : ''} lang="en">English</option><option value="es"${tr.lang === 'es' ? ' selected' : ''} lang="es">Español</option></select>
<button type="submit" class="secondary">${esc(tr.t('prefs_submit'))}</button></form></section>
<section aria-labelledby="optout-h"><h2 id="optout-h">${esc(tr.t('optout_heading'))}</h2><form method="post" action="${esc(p.action)}/actions/opt-out">${hidden}<label for="optout-channel">${esc(tr.t('optout_label'))}</label><select id="optout-channel" name="channel">${['SMS', 'EMAIL', 'VOICE'].map((c) => `<option value="${c}">${esc(tr.t(`channel_${c}`))}</option>`).join('')}</select><button type="submit" class="secondary">${esc(tr.t('optout_submit'))}</button></form></section>
<section aria-labelledby="callback-h"><h2 id="callback-h">${esc(tr.t('callback_heading'))}</h2><form method="post" action="${esc(p.action)}/actions/callback">${hidden}<label for="callback-when">${esc(tr.t('callback_label'))}</label><input id="callback-when" name="when" maxlength="200"><button type="submit" class="secondary">${esc(tr.t('callback_submit'))}</button></form></section></div>`);
  const signOut = `<form method="post" action="${esc(p.action)}/actions/sign-out" style="display:inline">${hidden}<button type="submit" class="secondary" style="width:auto;margin:0 0 0 .75rem;padding:.3rem .75rem">${esc(tr.t('sign_out'))}</button></form>`;
  return pageHtml({
    tr,
    langHref: p.langHref,
    title: tr.t('heading', { creditor: first?.creditorName ?? '' }),
    body: parts.join('\n'),
    signOut,
    formTargets: p.formTargets,
  });
}

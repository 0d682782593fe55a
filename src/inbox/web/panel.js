// The debtor panel beside a thread: who the debtor is and under which rules
// (their jurisdiction), restrictions and flags (each can be lifted or
// cleared with a reason — a cease only by an admin), debts with promises and
// plans, contact points with consent, and what contact is allowed now. For
// an unmatched sender: find the debtor and link. In sandbox mode: act as
// the debtor.

import { h, api } from './kit.js';
import { state, actions, CHANNEL_ICONS, words } from './store.js';

const CONSENT_CHANNELS = { PHONE: ['SMS', 'VOICE'], EMAIL: ['EMAIL'], ADDRESS: ['LETTER'] };
const CONSENT_STATES = ['GRANTED', 'UNKNOWN', 'REVOKED'];
const ADMIN_ONLY = new Set(['CEASE', 'CEASE_COMMUNICATION']);
const JURISDICTIONS = {
  US: 'United States (Reg F, FDCPA, TCPA)',
  GB: 'United Kingdom (FCA CONC 7)',
  IN: 'India (RBI recovery-agent guidelines)',
  CA: 'Canada',
};
// What the agent typed into the panel's forms survives live re-renders of the panel.
const panelDraft = {
  debtId: '',
  amount: '',
  date: '',
  planCount: '3',
  planAmount: '',
  planFirst: '',
  linkQuery: '',
  reason: {},
};

const draftInput = (id, key, label, attrs = {}) =>
  h(
    'label',
    { class: 'field' },
    h('span', { class: 'sr-only' }, label),
    h('input', {
      id,
      value: panelDraft[key],
      oninput: (e) => {
        panelDraft[key] = e.target.value;
      },
      ...attrs,
    }),
  );

function panelResult(text, ok) {
  const el = document.getElementById('panel-action-result');
  if (el) el.replaceChildren(h('div', { class: ok ? 'muted' : 'refusal', role: ok ? 'status' : 'alert' }, text));
}

async function panelAct(fn, done) {
  try {
    await fn();
    await actions.reloadThread();
    panelResult(done, true);
  } catch (err) {
    panelResult(
      `${err.message}${Array.isArray(err.body?.details) ? ` (${err.body.details.map((d) => `${d.field}: ${d.reason}`).join('; ')})` : ''}`,
      false,
    );
  }
}

function jurisdictionLabel(j) {
  if (!j) return 'jurisdiction unknown (US rules assumed)';
  const country = j.slice(0, 2);
  return `${j} — ${JURISDICTIONS[country] ?? 'local rules'}`;
}

/** A flag or restriction with a "clear with a reason" control. */
function clearable(kind, value, onClear) {
  const key = `${kind}:${value}`;
  const adminOnly = ADMIN_ONLY.has(value) && state.me.role !== 'ADMIN';
  const id = `clear-${kind}-${value}`;
  const reason = h('input', {
    id: `${id}-reason`,
    value: panelDraft.reason[key] ?? '',
    placeholder: 'Why is it wrong?',
    oninput: (e) => {
      panelDraft.reason[key] = e.target.value;
    },
  });
  const form = h(
    'form',
    {
      class: 'clear-form hidden',
      onsubmit: (e) => {
        e.preventDefault();
        const why = reason.value.trim();
        if (why.length < 3) return panelResult('Say why it is cleared (a few words).', false);
        delete panelDraft.reason[key];
        onClear(why);
      },
    },
    h('label', {}, `Reason for clearing ${words(value)} `, reason),
    h('button', { type: 'submit', id: `${id}-confirm` }, 'Clear'),
  );
  const toggle = h(
    'button',
    {
      type: 'button',
      class: 'linkish',
      id,
      'aria-expanded': 'false',
      disabled: adminOnly,
      title: adminOnly ? 'A cease is lifted by an admin' : null,
      onclick: () => {
        const open = form.classList.toggle('hidden') === false;
        toggle.setAttribute('aria-expanded', String(open));
        if (open) reason.focus();
      },
    },
    adminOnly ? 'admin only' : 'clear…',
  );
  return h(
    'div',
    { class: 'clearable', 'data-kind': kind, 'data-value': value },
    h('span', { class: 'badge flag' }, words(value)),
    ' ',
    toggle,
    form,
  );
}

export function renderPanel() {
  const col = document.getElementById('side-col');
  if (!col) return;
  const p = state.panel;
  const focused = col.contains(document.activeElement)
    ? { id: document.activeElement.id, at: document.activeElement.selectionStart }
    : null;
  const sections = [];
  if (p) {
    const c = state.thread.conversation;
    const debtRestrictions = p.debts.flatMap((d) => d.restrictions.map((r) => ({ debt: d, r })));
    sections.push(
      h(
        'section',
        { id: 'debtor-panel', 'aria-labelledby': 'debtor-name' },
        h('h3', { id: 'debtor-name' }, p.debtor.fullName),
        h('div', { class: 'muted' }, [p.debtor.timeZone, p.debtor.locale].filter(Boolean).join(' · ')),
        h('div', { class: 'muted', id: 'debtor-jurisdiction' }, `Rules: ${jurisdictionLabel(p.debtor.jurisdiction)}`),
        p.debtor.restrictions.length || debtRestrictions.length || c.flags.length
          ? h(
              'div',
              { id: 'panel-flags', class: 'flags' },
              p.debtor.restrictions.map((r) =>
                clearable('restriction', r, (reason) =>
                  panelAct(
                    () =>
                      api('POST', `/api/v1/inbox/debtors/${p.debtor.id}/restrictions`, {
                        restriction: r,
                        change: 'remove',
                        reason,
                      }),
                    `${words(r)} lifted.`,
                  ),
                ),
              ),
              debtRestrictions.map(({ debt, r }) =>
                clearable('restriction', r, (reason) =>
                  panelAct(
                    () =>
                      api('POST', `/api/v1/inbox/debtors/${p.debtor.id}/restrictions`, {
                        restriction: r,
                        change: 'remove',
                        reason,
                        debtId: debt.id,
                      }),
                    `${words(r)} lifted on ${debt.externalRef}.`,
                  ),
                ),
              ),
              c.flags.map((f) =>
                clearable('flag', f, (reason) =>
                  panelAct(
                    () =>
                      api('POST', `/api/v1/inbox/conversations/${c.id}/flags`, { flag: f, change: 'remove', reason }),
                    `Flag ${words(f)} cleared.`,
                  ),
                ),
              ),
            )
          : null,
      ),
    );
    sections.push(
      h(
        'section',
        { id: 'panel-debts', 'aria-label': 'Debts' },
        h('h3', {}, 'Debts'),
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { scope: 'col' }, 'Ref'),
              h('th', { scope: 'col' }, 'Balance'),
              h('th', { scope: 'col' }, 'Due'),
              h('th', { scope: 'col' }, 'DPD'),
              h('th', { scope: 'col' }, 'Status'),
            ),
          ),
          h(
            'tbody',
            {},
            p.debts.flatMap((d) => [
              h(
                'tr',
                { 'data-debt': d.id },
                h('td', {}, `${d.externalRef} (${d.creditor})`),
                h('td', {}, `${d.currency} ${d.balance}`),
                h('td', {}, d.dueDate),
                h('td', {}, String(d.daysPastDue)),
                h('td', { class: 'debt-status' }, words(d.status)),
              ),
              d.activePromises.length
                ? h(
                    'tr',
                    { class: 'promises', 'data-debt-promises': d.id },
                    h(
                      'td',
                      { colspan: '5' },
                      `${d.activePromises.some((x) => x.planId) ? 'Plan' : 'Promised'}: `,
                      d.activePromises.map((x) => `${d.currency} ${x.amount} by ${x.dueDate}`).join(' · '),
                    ),
                  )
                : null,
            ]),
          ),
        ),
        renderPromiseForm(p),
      ),
    );
    sections.push(
      h(
        'section',
        { id: 'panel-contacts', 'aria-label': 'Contact points' },
        h('h3', {}, 'Contact points'),
        p.contactPoints.map((cp) =>
          h(
            'div',
            { class: 'cp', 'data-cp': cp.id },
            h(
              'div',
              {},
              `${cp.kind === 'PHONE' ? '📱' : cp.kind === 'EMAIL' ? '✉️' : '🏠'} ${cp.value}${cp.label ? ` (${cp.label})` : ''}${cp.valid ? '' : ' — invalid'}`,
            ),
            h(
              'div',
              { class: 'muted consents' },
              (CONSENT_CHANNELS[cp.kind] || []).map((ch) => consentControl(cp, ch)),
            ),
          ),
        ),
      ),
    );
    if (p.preferences)
      sections.push(
        h(
          'section',
          {},
          h('h3', {}, 'Preferences'),
          h(
            'div',
            {},
            p.preferences.channelOrder.length
              ? `Prefers ${p.preferences.channelOrder.join(' → ')}`
              : 'No channel preference',
          ),
        ),
      );
    sections.push(
      h(
        'section',
        { id: 'panel-allowance', 'aria-label': 'Contact allowed now' },
        h('h3', {}, `Contact allowed now${p.allowance.debtRef ? ` (debt ${p.allowance.debtRef})` : ''}`),
        p.allowance.channels.map((a) =>
          h(
            'div',
            { class: `allow-${a.outcome}`, 'data-channel': a.channel },
            `${CHANNEL_ICONS[a.channel]} ${a.channel}: ${a.summary}`,
            a.outcome !== 'send' && a.reasons.length
              ? h(
                  'div',
                  { class: 'muted' },
                  a.reasons
                    .slice(0, 2)
                    .map((r) => r.detail)
                    .join(' '),
                )
              : null,
          ),
        ),
        h(
          'ul',
          { class: 'muted' },
          p.allowance.caps.map((x) => h('li', {}, x)),
        ),
      ),
    );
  } else if (state.thread) sections.push(renderLinkSection());
  if (state.sandbox && state.thread) sections.push(renderSandboxPanel());
  col.replaceChildren(...sections);
  if (focused?.id) {
    const field = document.getElementById(focused.id);
    field?.focus();
    if (field && typeof focused.at === 'number' && field.setSelectionRange)
      field.setSelectionRange(focused.at, focused.at);
  }
}

/** Promise to pay (amount, date) or a payment plan (n monthly instalments) on one debt. */
function renderPromiseForm(p) {
  const open = p.debts.filter((d) => !d.closed);
  if (!open.length) return null;
  if (!open.some((d) => d.id === panelDraft.debtId)) panelDraft.debtId = open[0].id;
  const debt = h(
    'select',
    {
      id: 'promise-debt',
      onchange: (e) => {
        panelDraft.debtId = e.target.value;
      },
    },
    open.map((d) =>
      h(
        'option',
        { value: d.id, selected: d.id === panelDraft.debtId },
        `${d.externalRef} · ${d.currency} ${d.balance}`,
      ),
    ),
  );
  const promise = () =>
    panelAct(async () => {
      await api('POST', `/api/v1/debts/${panelDraft.debtId}/promises`, {
        amount: panelDraft.amount.trim(),
        dueDate: panelDraft.date,
      });
      Object.assign(panelDraft, { amount: '', date: '' });
    }, 'Promise recorded.');
  const plan = () => {
    const n = Number(panelDraft.planCount);
    if (!Number.isInteger(n) || n < 2 || n > 60 || !panelDraft.planFirst)
      return panelResult('A plan needs 2–60 instalments, an amount and a first date.', false);
    // Monthly instalments from the first date (same day of month, clamped to the month's end).
    const [y, m, day] = panelDraft.planFirst.split('-').map(Number);
    const instalments = Array.from({ length: n }, (_, i) => {
      const last = new Date(Date.UTC(y, m - 1 + i + 1, 0)).getUTCDate();
      const d = new Date(Date.UTC(y, m - 1 + i, Math.min(day, last)));
      return { amount: panelDraft.planAmount.trim(), dueDate: d.toISOString().slice(0, 10) };
    });
    return panelAct(async () => {
      await api('POST', `/api/v1/debts/${panelDraft.debtId}/payment-plans`, { instalments });
      Object.assign(panelDraft, { planAmount: '', planFirst: '' });
    }, `Payment plan of ${n} instalments recorded.`);
  };
  return h(
    'div',
    { class: 'panel-forms' },
    open.length > 1 ? h('label', {}, 'Debt ', debt) : null,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Promise to pay'),
      h(
        'div',
        { class: 'row' },
        draftInput('promise-amount', 'amount', 'Promised amount', {
          placeholder: 'Amount',
          inputmode: 'decimal',
          size: '8',
        }),
        draftInput('promise-date', 'date', 'Promised date', { type: 'date' }),
        h('button', { type: 'button', id: 'promise-add', onclick: promise }, 'Record'),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Payment plan (monthly)'),
      h(
        'div',
        { class: 'row' },
        draftInput('plan-count', 'planCount', 'Number of instalments', {
          type: 'number',
          min: '2',
          max: '60',
          size: '3',
        }),
        '×',
        draftInput('plan-amount', 'planAmount', 'Instalment amount', {
          placeholder: 'Amount',
          inputmode: 'decimal',
          size: '8',
        }),
        'from',
        draftInput('plan-first', 'planFirst', 'First instalment date', { type: 'date' }),
        h('button', { type: 'button', id: 'plan-add', onclick: plan }, 'Record plan'),
      ),
    ),
    h('div', { id: 'panel-action-result', 'aria-live': 'polite' }),
  );
}

function consentControl(cp, channel) {
  const current = cp.consents[channel]?.state || 'UNKNOWN';
  return h(
    'label',
    { class: `consent-${current}` },
    `${channel} `,
    h(
      'select',
      {
        id: `consent-${cp.id}-${channel}`,
        'data-state': current,
        'aria-label': `${channel} consent for ${cp.value}`,
        onchange: (e) =>
          panelAct(
            () => api('PATCH', `/api/v1/contact-points/${cp.id}`, { consents: { [channel]: e.target.value } }),
            `${channel} consent for ${cp.value} set to ${e.target.value.toLowerCase()}.`,
          ),
      },
      CONSENT_STATES.map((st) => h('option', { value: st, selected: st === current }, st.toLowerCase())),
    ),
  );
}

/** An unmatched sender: find the debtor (name, phone or email) and move the thread to them. */
function renderLinkSection() {
  const results = h('div', { id: 'link-results', 'aria-live': 'polite' });
  const address = state.thread.conversation.unmatchedAddress;
  const search = async () => {
    const text = panelDraft.linkQuery.trim();
    if (text.length < 2) return results.replaceChildren(h('div', { class: 'muted' }, 'Type at least 2 characters.'));
    try {
      const r = await api('GET', `/api/v1/debtors?q=${encodeURIComponent(text)}&limit=10`);
      results.replaceChildren(
        ...(r.data.length
          ? r.data.map((d) =>
              h(
                'div',
                { class: 'link-hit', 'data-debtor': d.id },
                h(
                  'span',
                  {},
                  `${d.fullName}${d.externalRef ? ` · ${d.externalRef}` : ''} · ${d.contactPoints
                    .filter((x) => x.kind !== 'ADDRESS')
                    .map((x) => x.value)
                    .join(', ')}`,
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link-go',
                    onclick: async () => {
                      try {
                        const linked = await api('POST', `/api/v1/conversations/${state.currentId}/link`, {
                          debtorId: d.id,
                          addContactPoint: Boolean(address),
                        });
                        panelDraft.linkQuery = '';
                        await actions.openConversation(linked.conversationId);
                        actions.reloadList?.();
                      } catch (err) {
                        results.replaceChildren(h('div', { class: 'refusal' }, err.message));
                      }
                    },
                  },
                  'Link',
                ),
              ),
            )
          : [h('div', { class: 'muted' }, 'No debtor found.')]),
      );
    } catch (err) {
      results.replaceChildren(h('div', { class: 'refusal' }, err.message));
    }
  };
  return h(
    'section',
    { id: 'link-section', 'aria-label': 'Unmatched sender' },
    h('h3', {}, 'Unmatched sender'),
    h(
      'div',
      { class: 'muted' },
      `Messages from ${address || 'an unknown address'}. Find the debtor to link this conversation to (the address is added to their contact points).`,
    ),
    h(
      'div',
      { class: 'row' },
      draftInput('link-query', 'linkQuery', 'Find a debtor', {
        type: 'search',
        placeholder: 'Name, phone or email',
        onkeydown: (e) => {
          if (e.key === 'Enter') search();
        },
      }),
      h('button', { type: 'button', id: 'link-search', onclick: search }, 'Search'),
    ),
    results,
  );
}

function renderSandboxPanel() {
  const phones = (state.panel?.contactPoints || []).filter((x) => x.kind === 'PHONE').map((x) => x.value);
  const emails = (state.panel?.contactPoints || []).filter((x) => x.kind === 'EMAIL').map((x) => x.value);
  const from = h('input', {
    id: 'sandbox-from',
    value: phones[0] || state.thread.conversation.unmatchedAddress || '+13125550100',
  });
  const body = h('input', { id: 'sandbox-body', placeholder: 'Text the debtor sends' });
  const result = h('div', { class: 'muted', id: 'sandbox-result', 'aria-live': 'polite' });
  const emailFrom = h('input', { id: 'sandbox-email-from', value: emails[0] || 'debtor@example.net' });
  const emailText = h('input', { id: 'sandbox-email-text', placeholder: 'Email reply text' });
  const run = (fn) => async () => {
    result.textContent = 'sending…';
    try {
      const r = await fn();
      result.textContent = r.delivered === false ? `gateway answered ${r.status}` : 'delivered to the gateway';
    } catch (err) {
      result.textContent = err.message;
    }
  };
  return h(
    'section',
    { class: 'sandbox', id: 'sandbox-panel', 'aria-label': 'Sandbox' },
    h('h3', {}, 'Sandbox: act as the debtor'),
    h('label', { class: 'block' }, 'SMS from ', from),
    h('label', { class: 'block' }, 'Text ', body),
    h(
      'button',
      {
        type: 'button',
        id: 'sandbox-send',
        onclick: run(() =>
          api('POST', '/sandbox/twilio/inbound-sms', {
            from: from.value.trim(),
            to: state.sandbox.twilioNumber,
            body: body.value,
          }),
        ),
      },
      'Send SMS to gateway',
    ),
    h('label', { class: 'block' }, 'Email from ', emailFrom),
    h('label', { class: 'block' }, 'Email text ', emailText),
    h(
      'button',
      {
        type: 'button',
        id: 'sandbox-email-send',
        onclick: run(() =>
          api('POST', '/sandbox/sendgrid/inbound-email', {
            from: emailFrom.value.trim(),
            to: state.thread.replyAddress,
            subject: 'Re: your account',
            text: emailText.value,
          }),
        ),
      },
      'Send email reply',
    ),
    result,
  );
}

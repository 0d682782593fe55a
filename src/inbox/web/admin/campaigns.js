// Admin tab: campaigns. List them with their status and headline counts,
// create one (audience filter, steps, throttle, stop conditions, optional
// cron), start / pause / resume / cancel it, and follow its per-step results
// live. Everything goes through /api/v1/campaigns (admins only); the API is
// the one place that validates, and its field errors are shown by the form.
//
// Live updates: the runner emits `campaign.status` and `campaign.progress` to
// the admin room (enrolment and each wave's planning). What providers do
// afterwards (sent → delivered, failed) is only published as inbox events, so
// while a started campaign is open the tab also listens to the inbox room and
// refetches that campaign's results, debounced.

/**
 * The form's fixed choices; they mirror src/campaigns/schemas.ts, and a drift
 * shows as the API's field error next to the input. Intents (and the channels
 * each ships on) come from GET /api/v1/templates/intents instead.
 */
const FIXED_CHOICES = {
  channels: ['SMS', 'EMAIL', 'VOICE', 'LETTER'],
  anchors: ['ENROLLMENT', 'DUE_DATE'],
  debtStatuses: ['OPEN', 'PROMISED', 'PAYMENT_PLAN', 'DISPUTED', 'PAID', 'SETTLED', 'WRITTEN_OFF', 'CLOSED'],
  stopConditions: ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL', 'REPLIED'],
};
/** The API applies these when stopConditions is omitted; the form starts with them ticked. */
const DEFAULT_STOP_CONDITIONS = ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL'];
/** Debt statuses an audience takes when none is chosen (src/campaigns/audience.ts). */
const DEFAULT_AUDIENCE_STATUSES = 'open, promised, payment plan';

const STOP_LABELS = {
  PAID: 'paid in full',
  PROMISE: 'active promise to pay',
  DISPUTE: 'dispute',
  CEASE: 'cease communication',
  OPTED_OUT_ALL: 'opted out of every channel',
  REPLIED: 'replied',
};
const ANCHOR_LABELS = { ENROLLMENT: 'after enrolment', DUE_DATE: 'after the due date' };
const CONDITIONS = [
  ['noReplySincePrevious', 'no reply'],
  ['noPaymentSincePrevious', 'no payment'],
  ['noPromiseSincePrevious', 'no promise'],
];
const ACTIONS = {
  DRAFT: ['start', 'cancel'],
  ACTIVE: ['pause', 'cancel'],
  PAUSED: ['resume', 'cancel'],
  CANCELLED: [],
  COMPLETED: [],
};
/** Results columns per step: [results key, heading, kind]; `reasons` cells are { total, byReason }. */
const RESULT_COLUMNS = [
  ['runs', 'Reached', 'count'],
  ['queued', 'Queued', 'count'],
  ['pending', 'Pending', 'count'],
  ['sent', 'Sent', 'count'],
  ['delivered', 'Delivered', 'count'],
  ['failed', 'Failed', 'count'],
  ['deferred', 'Deferred', 'reasons'],
  ['suppressed', 'Suppressed', 'reasons'],
  ['refused', 'Refused', 'reasons'],
  ['skipped', 'Skipped', 'reasons'],
  ['replied', 'Replied', 'count'],
  ['promised', 'Promised', 'count'],
  ['paid', 'Paid', 'count'],
];
const DONE = { start: 'started', pause: 'paused', resume: 'resumed', cancel: 'cancelled' };
/** Results refresh this long after the last event of a burst. */
const REFRESH_MS = 300;

/**
 * The form's choices: the fixed ones plus the template intents the server has
 * loaded, with the channels each ships on (a step on a channel without a
 * template would be refused at send time, so those options are disabled).
 */
async function loadChoices(api) {
  const r = await api('GET', '/api/v1/templates/intents');
  const intentChannels = new Map(r.data.map((i) => [i.intent, new Set(i.channels.map((c) => c.channel))]));
  return { ...FIXED_CHOICES, intents: r.data.map((i) => i.intent), intentChannels };
}

const listOf = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const lower = (s) => String(s).toLowerCase().replace(/_/g, ' ');
/** A number input's value as a number; text that is not a number goes as typed, so the API names the field. */
const numberOf = (input) => {
  const raw = input.value.trim();
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
};
const reasonsText = (counted) => Object.entries(counted?.byReason ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');

function stepSummary(s) {
  const when = `day ${s.offsetDays >= 0 ? '+' : ''}${s.offsetDays} ${ANCHOR_LABELS[s.anchor] ?? lower(s.anchor)}`;
  const conds = CONDITIONS.filter(([k]) => s.conditions?.[k]).map(([, label]) => label);
  return [
    `${s.position}. ${when}`,
    s.intent,
    s.channel ?? "debtor's preference",
    s.window ? `${s.window.from}–${s.window.to} local` : null,
    conds.length ? `only if ${conds.join(', ')} since the previous step` : null,
  ].filter(Boolean).join(' · ');
}

/** The draft's preview as definition-list terms: count, then one line per breakdown. */
function previewTerms(p, h) {
  const line = (o) => Object.entries(o).map(([k, v]) => `${k} ${typeof v === 'object' ? `${v.debts} (${v.balance})` : v}`).join(', ') || 'none';
  return [
    h('dt', {}, 'Would enrol'), h('dd', { id: 'campaigns-preview-count' }, `${p.count} debt(s) of ${p.debtors} debtor(s) today`),
    h('dt', {}, 'By jurisdiction'), h('dd', {}, line(p.byJurisdiction)),
    h('dt', {}, 'By preferred channel'), h('dd', {}, line(p.byPreferredChannel)),
    h('dt', {}, 'By currency'), h('dd', {}, line(p.byCurrency)),
    h('dt', {}, 'By balance'), h('dd', {}, line(p.byBalanceBand)),
  ];
}

function audienceSummary(a = {}) {
  const parts = [];
  const range = (r, unit = '') => [r.min !== undefined ? `≥ ${r.min}${unit}` : null, r.max !== undefined ? `≤ ${r.max}${unit}` : null].filter(Boolean).join(' and ');
  if (a.daysPastDue) parts.push(`days past due ${range(a.daysPastDue)}`);
  if (a.balance) parts.push(`balance ${range(a.balance)}${a.balance.currency ? ` ${a.balance.currency}` : ''}`);
  parts.push(`status ${a.status?.length ? a.status.map(lower).join(', ') : DEFAULT_AUDIENCE_STATUSES}`);
  if (a.creditorRefs?.length) parts.push(`creditors ${a.creditorRefs.join(', ')}`);
  if (a.creditorIds?.length) parts.push(`${a.creditorIds.length} creditor id(s)`);
  if (a.tags?.length) parts.push(`tags ${a.tags.join(', ')}`);
  if (a.jurisdictions?.length) parts.push(`jurisdictions ${a.jurisdictions.join(', ')}`);
  if (a.noContactDays) parts.push(`no contact in ${a.noContactDays} days`);
  return parts.join('; ');
}

export async function mount(container, kit) {
  const { h, api, timeOf, debounce, socket } = kit;
  let choices;
  try {
    choices = await loadChoices(api);
  } catch (err) {
    container.replaceChildren(h('h2', {}, 'Campaigns'), h('p', { class: 'error', id: 'campaigns-message' }, `Could not read the template intents: ${err.message}`));
    return undefined;
  }

  /** The campaign shown in the detail panel (its id), and its last known status. */
  let selected = null;
  let selectedStatus = null;
  let unmounted = false;

  const message = h('div', { id: 'campaigns-message' });
  const say = (text, ok = true) => message.replaceChildren(h('p', { class: ok ? 'muted' : 'error' }, text));
  const failure = (err) => say(`${err.message}${Array.isArray(err.body?.details) ? ` (${err.body.details.map((d) => `${d.field}: ${d.reason}`).join('; ')})` : ''}`, false);

  // ---- list -------------------------------------------------------------
  const listRows = h('tbody', { id: 'campaigns-rows' });

  /** Fills a row's counts from a list summary ({ enrolled, sent, delivered, replied, paid }). */
  function setCounts(tr, summary) {
    const set = (cls, v) => { const td = tr.querySelector(`.${cls}`); if (td) td.textContent = String(v ?? '…'); };
    set('campaigns-row-enrolled', summary?.enrolled);
    set('campaigns-row-sent', summary?.sent);
    set('campaigns-row-delivered', summary?.delivered);
    set('campaigns-row-replied', summary?.replied);
    set('campaigns-row-paid', summary?.paid);
  }

  /** Refreshes a row from a campaign's full results (the detail view reads them anyway). */
  function headline(tr, r) {
    setCounts(tr, { enrolled: r.enrolled, sent: r.total.sent, delivered: r.total.delivered, replied: r.total.replied, paid: r.total.paid });
    setRowStatus(tr, r.campaign.status);
  }

  function setRowStatus(tr, status) {
    const td = tr.querySelector('.campaigns-row-status');
    td.replaceChildren(h('span', { class: `campaigns-status campaigns-status-${status.toLowerCase()}` }, status));
  }

  const rowOf = (id) => listRows.querySelector(`tr[data-campaign="${CSS.escape(id)}"]`);

  function listRow(c) {
    const tr = h('tr', { 'data-campaign': c.id, class: c.id === selected ? 'campaigns-selected' : '', onclick: () => select(c.id) },
      h('td', { class: 'campaigns-row-name' }, c.name),
      h('td', { class: 'campaigns-row-status' }),
      h('td', {}, String(c.steps.length)),
      h('td', { class: 'campaigns-row-enrolled' }, '…'),
      h('td', { class: 'campaigns-row-sent' }, '…'),
      h('td', { class: 'campaigns-row-delivered' }, '…'),
      h('td', { class: 'campaigns-row-replied' }, '…'),
      h('td', { class: 'campaigns-row-paid' }, '…'),
      h('td', {}, timeOf(c.createdAt)));
    setRowStatus(tr, c.status);
    setCounts(tr, c.summary);
    return tr;
  }

  async function loadList() {
    try {
      // Each campaign comes with its headline counts (one request for the whole page).
      const r = await api('GET', '/api/v1/campaigns?limit=50');
      listRows.replaceChildren(...r.data.map(listRow));
      if (!r.data.length) listRows.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No campaigns yet.')));
    } catch (err) { failure(err); }
  }

  // ---- detail -----------------------------------------------------------
  const detail = h('section', { id: 'campaigns-detail', class: 'campaigns-detail' }, h('p', { class: 'muted' }, 'Select a campaign to see its results.'));

  function actionButtons(c) {
    const run = async (action) => {
      if (action === 'cancel' && !window.confirm(`Cancel "${c.name}"? Every enrolment stops and pending messages are cancelled.`)) return;
      try {
        const r = await api('POST', `/api/v1/campaigns/${c.id}/${action}`);
        const extra = r.messagesWithdrawn !== undefined ? ` (${r.messagesWithdrawn} unsent message(s) withdrawn)` : r.messagesCancelled !== undefined ? ` (${r.messagesCancelled} message(s) cancelled)` : '';
        say(`${c.name}: ${DONE[action]}${extra}.`);
        await select(c.id);
      } catch (err) { failure(err); }
    };
    const labels = { start: 'Start', pause: 'Pause', resume: 'Resume', cancel: 'Cancel campaign' };
    return (ACTIONS[c.status] ?? []).map((a) => h('button', { id: `campaigns-${a}`, class: a === 'start' || a === 'resume' ? 'primary' : '', type: 'button', onclick: () => run(a) }, labels[a]));
  }

  function resultsTable(r) {
    const cell = (stats, [key, , kind]) => {
      if (kind === 'count') return h('td', { 'data-k': key }, String(stats[key] ?? 0));
      const why = reasonsText(stats[key]);
      return h('td', { 'data-k': key }, String(stats[key]?.total ?? 0), why ? h('div', { class: 'campaigns-reasons', 'data-reasons': key }, why) : null);
    };
    const rows = r.steps.map((s) => h('tr', { 'data-step': String(s.position) },
      h('th', { scope: 'row' }, `${s.position}. ${s.intent}`, h('div', { class: 'muted' }, s.channel ?? "debtor's preference")),
      RESULT_COLUMNS.map((col) => cell(s, col))));
    rows.push(h('tr', { 'data-step': 'total', class: 'campaigns-total' }, h('th', { scope: 'row' }, 'All steps'), RESULT_COLUMNS.map((col) => cell(r.total, col))));
    return h('table', { class: 'campaigns-results', id: 'campaigns-results' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Step'), RESULT_COLUMNS.map(([, label]) => h('th', {}, label)))),
      h('tbody', {}, rows));
  }

  function enrolmentLine(r) {
    const stopped = Object.entries(r.enrollments.stoppedByReason).map(([k, v]) => `${lower(k)} ${v}`).join(', ');
    return h('div', { class: 'campaigns-counters' },
      h('span', {}, 'enrolled ', h('b', { id: 'campaigns-enrolled' }, String(r.enrolled))),
      h('span', {}, 'active ', h('b', { id: 'campaigns-active' }, String(r.enrollments.active))),
      h('span', {}, 'completed ', h('b', { id: 'campaigns-completed' }, String(r.enrollments.completed))),
      h('span', {}, 'stopped ', h('b', { id: 'campaigns-stopped' }, String(r.enrollments.stopped)), stopped ? ` (${stopped})` : ''));
  }

  const resultsSlot = h('div', { id: 'campaigns-results-slot' });

  function showResults(r) {
    resultsSlot.replaceChildren(enrolmentLine(r), resultsTable(r));
    const tr = rowOf(r.campaign.id);
    if (tr) headline(tr, r);
  }

  async function refreshResults(id) {
    try {
      const r = await api('GET', `/api/v1/campaigns/${id}/results`);
      if (unmounted) return;
      const tr = rowOf(id);
      if (tr) headline(tr, r);
      if (id !== selected) return;
      if (r.campaign.status !== selectedStatus) return select(id); // the buttons change with the status
      showResults(r);
    } catch (err) { if (id === selected) failure(err); }
  }

  /** One debounced refresh per campaign, so a burst of events costs one request each. */
  const refreshers = new Map();
  const refreshSoon = (id) => {
    if (!refreshers.has(id)) refreshers.set(id, debounce(() => refreshResults(id), REFRESH_MS));
    refreshers.get(id)();
  };

  async function select(id) {
    selected = id;
    for (const tr of listRows.querySelectorAll('tr')) tr.classList.toggle('campaigns-selected', tr.dataset.campaign === id);
    try {
      const [c, r] = await Promise.all([api('GET', `/api/v1/campaigns/${id}`), api('GET', `/api/v1/campaigns/${id}/results`)]);
      // A draft shows who it would reach before anyone is contacted.
      const preview = c.status === 'DRAFT' ? await api('GET', `/api/v1/campaigns/${id}/preview`) : null;
      if (selected !== id || unmounted) return;
      selectedStatus = c.status;
      const stops = (c.stopConditions ?? []).map((s) => STOP_LABELS[s] ?? lower(s)).join(', ') || 'none';
      const throttle = Object.entries(c.throttle ?? {}).map(([ch, n]) => `${ch} ${n}/min`).join(', ') || 'provider limits only';
      detail.replaceChildren(
        h('div', { class: 'campaigns-detail-head' },
          h('h3', { id: 'campaigns-detail-name' }, c.name),
          h('span', { id: 'campaigns-detail-status', class: `campaigns-status campaigns-status-${c.status.toLowerCase()}` }, c.status),
          h('span', { class: 'campaigns-actions' }, actionButtons(c)),
          h('a', { id: 'campaigns-csv', href: `/api/v1/campaigns/${c.id}/results.csv`, download: `campaign-${c.id}-results.csv` }, 'Export CSV')),
        h('dl', { class: 'campaigns-definition' },
          h('dt', {}, 'Audience'), h('dd', {}, audienceSummary(c.audience)),
          h('dt', {}, 'Steps'), h('dd', {}, c.steps.map((s) => h('div', {}, stepSummary(s)))),
          h('dt', {}, 'Throttle'), h('dd', {}, throttle),
          h('dt', {}, 'Stops when'), h('dd', {}, stops),
          h('dt', {}, 'Recurring'), h('dd', {}, c.cron ? `${c.cron}${c.timeZone ? ` (${c.timeZone})` : ''}` : 'no'),
          ...(preview ? previewTerms(preview, h) : [])),
        resultsSlot);
      showResults(r);
    } catch (err) { failure(err); }
  }

  // ---- live -------------------------------------------------------------
  function onStatus(ev) {
    const tr = rowOf(ev.campaignId);
    if (tr) setRowStatus(tr, ev.status);
    else loadList();
    if (ev.campaignId === selected && ev.status !== selectedStatus) select(ev.campaignId);
    else refreshSoon(ev.campaignId);
  }
  function onProgress(ev) {
    if (ev.campaignId === selected || rowOf(ev.campaignId)) refreshSoon(ev.campaignId);
  }
  // Delivery receipts reach us only as inbox activity: refresh the open campaign once it has started.
  function onInbox() {
    if (selected && selectedStatus && selectedStatus !== 'DRAFT') refreshSoon(selected);
  }
  function onConnect() {
    socket.emit('inbox:subscribe');
    if (selected) refreshSoon(selected);
  }
  socket.on('campaign.status', onStatus);
  socket.on('campaign.progress', onProgress);
  socket.on('inbox', onInbox);
  socket.on('connect', onConnect);
  if (socket.connected) socket.emit('inbox:subscribe');

  // ---- create form ------------------------------------------------------
  /** Error slots by API field path ("steps.0.window.to"), filled from a 400's details. */
  const slots = new Map();
  const formErrors = h('ul', { id: 'campaigns-form-errors', class: 'campaigns-form-errors' });

  /** A labelled input with an error slot for the API field `path`. */
  function field(label, input, path) {
    const slot = h('span', { class: 'campaigns-field-error', 'data-error-for': path });
    slots.set(path, { slot, input });
    return h('label', { class: 'campaigns-field' }, h('span', { class: 'campaigns-label' }, label), input, slot);
  }
  const input = (id, attrs = {}) => h('input', { id, ...attrs });
  const checkbox = (id, label, checked, value) => h('label', { class: 'campaigns-check' }, h('input', { type: 'checkbox', id, value, checked }), ` ${label}`);

  const name = input('campaigns-name', { placeholder: 'e.g. November cycle', size: 30 });
  const audience = {
    dpdMin: input('campaigns-dpd-min', { type: 'number', step: 1, size: 6 }),
    dpdMax: input('campaigns-dpd-max', { type: 'number', step: 1, size: 6 }),
    balMin: input('campaigns-balance-min', { inputmode: 'decimal', placeholder: '0.00', size: 9 }),
    balMax: input('campaigns-balance-max', { inputmode: 'decimal', placeholder: '0.00', size: 9 }),
    balCurrency: input('campaigns-balance-currency', { placeholder: 'USD', size: 4, maxlength: 3 }),
    creditors: input('campaigns-creditors', { placeholder: 'creditor refs, comma-separated', size: 24 }),
    tags: input('campaigns-tags', { placeholder: 'tags, comma-separated', size: 20 }),
    jurisdictions: input('campaigns-jurisdictions', { placeholder: 'US, US-MA, GB…', size: 14 }),
    noContact: input('campaigns-no-contact', { type: 'number', step: 1, size: 5 }),
  };
  const statusBoxes = choices.debtStatuses.map((s) => checkbox(`campaigns-status-${s}`, lower(s), false, s));

  // Steps: editors rebuilt from their values whenever one is added or removed, so indexes match the API's paths.
  const stepsBox = h('div', { id: 'campaigns-steps' });
  let stepEditors = [];
  const newStep = () => ({ offsetDays: 0, anchor: 'ENROLLMENT', intent: choices.intents[0], channel: '', conditions: {}, from: '', to: '' });

  function stepEditor(i, v, removable) {
    const p = `steps.${i}`;
    const offset = input(`campaigns-step-${i}-offset`, { type: 'number', step: 1, size: 5, value: String(v.offsetDays ?? '') });
    const anchor = h('select', { id: `campaigns-step-${i}-anchor` }, choices.anchors.map((a) => h('option', { value: a, selected: a === v.anchor }, ANCHOR_LABELS[a] ?? lower(a))));
    const channel = h('select', { id: `campaigns-step-${i}-channel` },
      h('option', { value: '', selected: !v.channel }, "debtor's preference"),
      choices.channels.map((c) => h('option', { value: c, selected: c === v.channel }, c)));
    // Only the channels the chosen intent has a template for can be picked.
    const fitChannels = () => {
      const shipped = choices.intentChannels.get(intent.value) ?? new Set();
      for (const option of channel.options) {
        if (!option.value) continue;
        option.disabled = !shipped.has(option.value);
        option.textContent = option.disabled ? `${option.value} (no template)` : option.value;
      }
      if (channel.selectedOptions[0]?.disabled) channel.value = '';
    };
    const intent = h('select', { id: `campaigns-step-${i}-intent`, onchange: fitChannels }, choices.intents.map((t) => h('option', { value: t, selected: t === v.intent }, t)));
    fitChannels();
    const conds = CONDITIONS.map(([k, label]) => checkbox(`campaigns-step-${i}-${k}`, label, Boolean(v.conditions?.[k]), k));
    const from = input(`campaigns-step-${i}-from`, { type: 'time', value: v.from });
    const to = input(`campaigns-step-${i}-to`, { type: 'time', value: v.to });
    const remove = h('button', { type: 'button', class: 'campaigns-step-remove', onclick: () => { const values = readStepValues(); values.splice(i, 1); renderSteps(values); } }, 'Remove');
    const el = h('fieldset', { class: 'campaigns-step', 'data-index': String(i) },
      h('legend', {}, `Step ${i + 1}`),
      field('Offset (days)', offset, `${p}.offsetDays`),
      field('Counted', anchor, `${p}.anchor`),
      field('Intent', intent, `${p}.intent`),
      field('Channel', channel, `${p}.channel`),
      h('span', { class: 'campaigns-field' }, h('span', { class: 'campaigns-label' }, 'Only if, since the previous step'), h('span', { class: 'campaigns-checks' }, conds), h('span', { class: 'campaigns-field-error', 'data-error-for': `${p}.conditions` })),
      field('Local window from', from, `${p}.window.from`),
      field('to', to, `${p}.window.to`),
      removable ? remove : null);
    slots.set(`${p}.conditions`, { slot: el.querySelector(`[data-error-for="${p}.conditions"]`), input: null });
    slots.set(`${p}.window`, { slot: el.querySelector(`[data-error-for="${p}.window.to"]`), input: to });
    slots.set(p, { slot: el.querySelector(`[data-error-for="${p}.window.to"]`), input: null });
    const read = () => ({
      offsetDays: offset.value, anchor: anchor.value, intent: intent.value, channel: channel.value,
      conditions: Object.fromEntries(conds.map((c) => c.querySelector('input')).map((cb) => [cb.value, cb.checked])),
      from: from.value, to: to.value, offsetInput: offset,
    });
    return { el, read };
  }

  const readStepValues = () => stepEditors.map((e) => e.read());

  function renderSteps(values) {
    for (const key of [...slots.keys()]) if (key.startsWith('steps.')) slots.delete(key);
    stepEditors = [];
    for (const [i, v] of values.entries()) stepEditors.push(stepEditor(i, v, values.length > 1));
    stepsBox.replaceChildren(...stepEditors.map((e) => e.el));
  }

  const throttleInputs = choices.channels.map((c) => [c, input(`campaigns-throttle-${c}`, { type: 'number', step: 1, size: 6, placeholder: 'no limit' })]);
  const stopBoxes = choices.stopConditions.map((s) => checkbox(`campaigns-stop-${s}`, STOP_LABELS[s] ?? lower(s), DEFAULT_STOP_CONDITIONS.includes(s), s));
  const cron = input('campaigns-cron', { placeholder: 'e.g. 0 9 * * 1 or 1 day', size: 16 });
  const timeZone = input('campaigns-timezone', { placeholder: 'e.g. America/Chicago', size: 18 });

  /** The request body as the form holds it; empty inputs are left out so the API's defaults apply. */
  function body() {
    const range = (min, max) => {
      const r = { min: min(), max: max() };
      return r.min === undefined && r.max === undefined ? undefined : r;
    };
    const text = (el) => (el.value.trim() === '' ? undefined : el.value.trim());
    const statuses = statusBoxes.map((l) => l.querySelector('input')).filter((cb) => cb.checked).map((cb) => cb.value);
    const a = {
      daysPastDue: range(() => numberOf(audience.dpdMin), () => numberOf(audience.dpdMax)),
      balance: (() => {
        const r = range(() => text(audience.balMin), () => text(audience.balMax));
        const cur = text(audience.balCurrency)?.toUpperCase();
        return r || cur ? { ...r, currency: cur } : undefined;
      })(),
      status: statuses.length ? statuses : undefined,
      creditorRefs: listOf(audience.creditors.value),
      tags: listOf(audience.tags.value),
      jurisdictions: listOf(audience.jurisdictions.value).map((j) => j.toUpperCase()),
      noContactDays: numberOf(audience.noContact),
    };
    for (const k of Object.keys(a)) if (a[k] === undefined || (Array.isArray(a[k]) && !a[k].length)) delete a[k];
    const steps = readStepValues().map((v) => {
      const conditions = Object.fromEntries(Object.entries(v.conditions).filter(([, on]) => on));
      return {
        offsetDays: numberOf(v.offsetInput) ?? 0,
        anchor: v.anchor,
        intent: v.intent,
        channel: v.channel || null,
        ...(Object.keys(conditions).length ? { conditions } : {}),
        // Either end given sends the window, so a half-filled one is reported rather than dropped.
        ...(v.from || v.to ? { window: { from: v.from, to: v.to } } : {}),
      };
    });
    const throttle = {};
    for (const [c, el] of throttleInputs) { const n = numberOf(el); if (n !== undefined) throttle[c] = n; }
    return {
      name: name.value,
      audience: a,
      steps,
      throttle,
      stopConditions: stopBoxes.map((l) => l.querySelector('input')).filter((cb) => cb.checked).map((cb) => cb.value),
      ...(text(cron) ? { cron: text(cron) } : {}),
      ...(text(timeZone) ? { timeZone: text(timeZone) } : {}),
    };
  }

  function clearErrors() {
    formErrors.replaceChildren();
    for (const { slot, input: el } of slots.values()) {
      slot?.replaceChildren();
      el?.removeAttribute('aria-invalid');
    }
  }

  /** Each field error next to its input (the closest registered path), and all of them above the button. */
  function showErrors(err) {
    const details = Array.isArray(err.body?.details) ? err.body.details : [];
    if (!details.length) {
      formErrors.append(h('li', {}, err.message));
      return;
    }
    for (const d of details) {
      formErrors.append(h('li', { 'data-field': d.field }, h('code', {}, d.field), ` ${d.reason}`));
      let path = d.field;
      while (path && !slots.has(path)) path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
      const target = slots.get(path);
      if (!target) continue;
      target.slot.append(h('span', { class: 'error', 'data-field': d.field }, d.reason));
      target.input?.setAttribute('aria-invalid', 'true');
    }
  }

  const submit = h('button', { class: 'primary', type: 'submit', id: 'campaigns-create' }, 'Create campaign');
  const form = h('form', { id: 'campaigns-form', class: 'campaigns-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    clearErrors();
    submit.disabled = true;
    try {
      const c = await api('POST', '/api/v1/campaigns', body());
      say(`Created ${c.name} (draft): review it and press Start.`);
      form.reset();
      renderSteps([newStep()]);
      formBox.open = false;
      await loadList();
      await select(c.id);
    } catch (err) {
      showErrors(err);
      say(`The campaign was not created: ${err.body?.details?.length ? 'see the fields marked below' : err.message}.`, false);
    } finally {
      submit.disabled = false;
    }
  } },
  h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Campaign'), field('Name', name, 'name')),
  h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Audience (debts)'),
    field('Days past due from', audience.dpdMin, 'audience.daysPastDue.min'),
    field('to', audience.dpdMax, 'audience.daysPastDue.max'),
    field('Balance from', audience.balMin, 'audience.balance.min'),
    field('to', audience.balMax, 'audience.balance.max'),
    field('in currency', audience.balCurrency, 'audience.balance.currency'),
    h('span', { class: 'campaigns-field' }, h('span', { class: 'campaigns-label' }, `Statuses (none ticked: ${DEFAULT_AUDIENCE_STATUSES})`), h('span', { class: 'campaigns-checks' }, statusBoxes), h('span', { class: 'campaigns-field-error', 'data-error-for': 'audience.status' })),
    field('Creditors', audience.creditors, 'audience.creditorRefs'),
    field('Tags (debt or debtor)', audience.tags, 'audience.tags'),
    field('Jurisdictions', audience.jurisdictions, 'audience.jurisdictions'),
    field('No contact in the last (days)', audience.noContact, 'audience.noContactDays')),
  h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Steps'),
    stepsBox,
    h('span', { class: 'campaigns-field-error', 'data-error-for': 'steps' }),
    h('button', { type: 'button', id: 'campaigns-add-step', onclick: () => renderSteps([...readStepValues(), newStep()]) }, 'Add step')),
  h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Throttle (messages per minute)'),
    throttleInputs.map(([c, el]) => field(c, el, `throttle.${c}`))),
  h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Stop a debt\'s enrolment when'),
    h('span', { class: 'campaigns-checks' }, stopBoxes), h('span', { class: 'campaigns-field-error', 'data-error-for': 'stopConditions' })),
  h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Recurring (optional): enrol newly matching debts on a schedule'),
    field('Cron or interval', cron, 'cron'),
    field('Time zone', timeZone, 'timeZone')),
  formErrors,
  submit);
  // Slots declared inline above (not through field()) are registered here.
  for (const path of ['audience.status', 'steps', 'stopConditions']) slots.set(path, { slot: form.querySelector(`[data-error-for="${path}"]`), input: null });
  form.addEventListener('reset', () => queueMicrotask(clearErrors));
  renderSteps([newStep()]);
  const formBox = h('details', { class: 'campaigns-new', id: 'campaigns-new' }, h('summary', { id: 'campaigns-new-toggle' }, 'New campaign'), form);

  container.replaceChildren(
    h('h2', {}, 'Campaigns'),
    message,
    formBox,
    h('div', { class: 'campaigns-layout' },
      h('table', { class: 'campaigns-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Status', 'Steps', 'Enrolled', 'Sent', 'Delivered', 'Replied', 'Paid', 'Created'].map((t) => h('th', {}, t)))),
        listRows),
      detail));
  await loadList();
  const newest = listRows.querySelector('tr[data-campaign]');
  if (newest) await select(newest.dataset.campaign);

  return () => {
    unmounted = true;
    socket.off('campaign.status', onStatus);
    socket.off('campaign.progress', onProgress);
    socket.off('inbox', onInbox);
    socket.off('connect', onConnect);
    socket.emit('inbox:unsubscribe');
  };
}

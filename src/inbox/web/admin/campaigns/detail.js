// The detail panel of one campaign: its definition, the actions its status
// allows (start, pause, resume, cancel), enrolment counters and per-step
// results, refreshed (debounced) as live events arrive.
import {
  ACTIONS,
  DONE,
  REFRESH_MS,
  RESULT_COLUMNS,
  STOP_LABELS,
  audienceSummary,
  lower,
  reasonsText,
  stepSummary,
} from './shared.js';

export function campaignDetail({ h, api, debounce }, { list, say, failure }) {
  /** The campaign shown (its id), and its last known status. */
  let selected = null;
  let selectedStatus = null;
  let unmounted = false;

  const detail = h(
    'section',
    { id: 'campaigns-detail', class: 'campaigns-detail' },
    h('p', { class: 'muted' }, 'Select a campaign to see its results.'),
  );

  function actionButtons(c) {
    const run = async (action) => {
      if (
        action === 'cancel' &&
        !window.confirm(`Cancel "${c.name}"? Every enrolment stops and pending messages are cancelled.`)
      )
        return;
      try {
        const r = await api('POST', `/api/v1/campaigns/${c.id}/${action}`);
        const extra =
          r.messagesWithdrawn !== undefined
            ? ` (${r.messagesWithdrawn} unsent message(s) withdrawn)`
            : r.messagesCancelled !== undefined
              ? ` (${r.messagesCancelled} message(s) cancelled)`
              : '';
        say(`${c.name}: ${DONE[action]}${extra}.`);
        await select(c.id);
      } catch (err) {
        failure(err);
      }
    };
    const labels = { start: 'Start', pause: 'Pause', resume: 'Resume', cancel: 'Cancel campaign' };
    return (ACTIONS[c.status] ?? []).map((a) =>
      h(
        'button',
        {
          id: `campaigns-${a}`,
          class: a === 'start' || a === 'resume' ? 'primary' : '',
          type: 'button',
          onclick: () => run(a),
        },
        labels[a],
      ),
    );
  }

  function resultsTable(r) {
    const cell = (stats, [key, , kind]) => {
      if (kind === 'count') return h('td', { 'data-k': key }, String(stats[key] ?? 0));
      const why = reasonsText(stats[key]);
      return h(
        'td',
        { 'data-k': key },
        String(stats[key]?.total ?? 0),
        why ? h('div', { class: 'campaigns-reasons', 'data-reasons': key }, why) : null,
      );
    };
    const rows = r.steps.map((s) =>
      h(
        'tr',
        { 'data-step': String(s.position) },
        h(
          'th',
          { scope: 'row' },
          `${s.position}. ${s.intent}`,
          h('div', { class: 'muted' }, s.channel ?? "debtor's preference"),
        ),
        RESULT_COLUMNS.map((col) => cell(s, col)),
      ),
    );
    rows.push(
      h(
        'tr',
        { 'data-step': 'total', class: 'campaigns-total' },
        h('th', { scope: 'row' }, 'All steps'),
        RESULT_COLUMNS.map((col) => cell(r.total, col)),
      ),
    );
    return h(
      'table',
      { class: 'campaigns-results', id: 'campaigns-results' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Step'),
          RESULT_COLUMNS.map(([, label]) => h('th', {}, label)),
        ),
      ),
      h('tbody', {}, rows),
    );
  }

  function enrolmentLine(r) {
    const stopped = Object.entries(r.enrollments.stoppedByReason)
      .map(([k, v]) => `${lower(k)} ${v}`)
      .join(', ');
    return h(
      'div',
      { class: 'campaigns-counters' },
      h('span', {}, 'enrolled ', h('b', { id: 'campaigns-enrolled' }, String(r.enrolled))),
      h('span', {}, 'active ', h('b', { id: 'campaigns-active' }, String(r.enrollments.active))),
      h('span', {}, 'completed ', h('b', { id: 'campaigns-completed' }, String(r.enrollments.completed))),
      h(
        'span',
        {},
        'stopped ',
        h('b', { id: 'campaigns-stopped' }, String(r.enrollments.stopped)),
        stopped ? ` (${stopped})` : '',
      ),
    );
  }

  const resultsSlot = h('div', { id: 'campaigns-results-slot' });

  function showResults(r) {
    resultsSlot.replaceChildren(enrolmentLine(r), resultsTable(r));
    const tr = list.rowOf(r.campaign.id);
    if (tr) list.headline(tr, r);
  }

  async function refreshResults(id) {
    try {
      const r = await api('GET', `/api/v1/campaigns/${id}/results`);
      if (unmounted) return;
      const tr = list.rowOf(id);
      if (tr) list.headline(tr, r);
      if (id !== selected) return;
      if (r.campaign.status !== selectedStatus) return select(id); // the buttons change with the status
      showResults(r);
    } catch (err) {
      if (id === selected) failure(err);
    }
  }

  /** One debounced refresh per campaign, so a burst of events costs one request each. */
  const refreshers = new Map();
  const refreshSoon = (id) => {
    if (!refreshers.has(id))
      refreshers.set(
        id,
        debounce(() => refreshResults(id), REFRESH_MS),
      );
    refreshers.get(id)();
  };

  async function select(id) {
    selected = id;
    list.mark(id);
    try {
      const [c, r] = await Promise.all([
        api('GET', `/api/v1/campaigns/${id}`),
        api('GET', `/api/v1/campaigns/${id}/results`),
      ]);
      // A draft shows who it would reach before anyone is contacted.
      const preview = c.status === 'DRAFT' ? await api('GET', `/api/v1/campaigns/${id}/preview`) : null;
      if (selected !== id || unmounted) return;
      selectedStatus = c.status;
      const stops = (c.stopConditions ?? []).map((s) => STOP_LABELS[s] ?? lower(s)).join(', ') || 'none';
      const throttle =
        Object.entries(c.throttle ?? {})
          .map(([ch, n]) => `${ch} ${n}/min`)
          .join(', ') || 'provider limits only';
      detail.replaceChildren(
        h(
          'div',
          { class: 'campaigns-detail-head' },
          h('h3', { id: 'campaigns-detail-name' }, c.name),
          h(
            'span',
            { id: 'campaigns-detail-status', class: `campaigns-status campaigns-status-${c.status.toLowerCase()}` },
            c.status,
          ),
          h('span', { class: 'campaigns-actions' }, actionButtons(c)),
          h(
            'a',
            {
              id: 'campaigns-csv',
              href: `/api/v1/campaigns/${c.id}/results.csv`,
              download: `campaign-${c.id}-results.csv`,
            },
            'Export CSV',
          ),
        ),
        h(
          'dl',
          { class: 'campaigns-definition' },
          h('dt', {}, 'Audience'),
          h('dd', {}, audienceSummary(c.audience)),
          h('dt', {}, 'Steps'),
          h(
            'dd',
            {},
            c.steps.map((s) => h('div', {}, stepSummary(s))),
          ),
          h('dt', {}, 'Throttle'),
          h('dd', {}, throttle),
          h('dt', {}, 'Stops when'),
          h('dd', {}, stops),
          h('dt', {}, 'Recurring'),
          h('dd', {}, c.cron ? `${c.cron}${c.timeZone ? ` (${c.timeZone})` : ''}` : 'no'),
          ...(preview ? previewTerms(preview, h) : []),
        ),
        resultsSlot,
      );
      showResults(r);
    } catch (err) {
      failure(err);
    }
  }

  return {
    el: detail,
    select,
    refreshSoon,
    selected: () => selected,
    selectedStatus: () => selectedStatus,
    unmount: () => {
      unmounted = true;
    },
  };
}

/** The draft's preview as definition-list terms: count, then one line per breakdown. */
function previewTerms(p, h) {
  const line = (o) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${typeof v === 'object' ? `${v.debts} (${v.balance})` : v}`)
      .join(', ') || 'none';
  return [
    h('dt', {}, 'Would enrol'),
    h('dd', { id: 'campaigns-preview-count' }, `${p.count} debt(s) of ${p.debtors} debtor(s) today`),
    h('dt', {}, 'By jurisdiction'),
    h('dd', {}, line(p.byJurisdiction)),
    h('dt', {}, 'By preferred channel'),
    h('dd', {}, line(p.byPreferredChannel)),
    h('dt', {}, 'By currency'),
    h('dd', {}, line(p.byCurrency)),
    h('dt', {}, 'By balance'),
    h('dd', {}, line(p.byBalanceBand)),
  ];
}

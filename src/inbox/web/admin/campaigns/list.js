// The campaigns table: one row per campaign with its status and headline
// counts (from the list's summaries, then from each campaign's results).
export function campaignList({ h, api, timeOf }, { onSelect, isSelected, failure }) {
  const listRows = h('tbody', { id: 'campaigns-rows' });

  /** Fills a row's counts from a list summary ({ enrolled, sent, delivered, replied, paid }). */
  function setCounts(tr, summary) {
    const set = (cls, v) => {
      const td = tr.querySelector(`.${cls}`);
      if (td) td.textContent = String(v ?? '…');
    };
    set('campaigns-row-enrolled', summary?.enrolled);
    set('campaigns-row-sent', summary?.sent);
    set('campaigns-row-delivered', summary?.delivered);
    set('campaigns-row-replied', summary?.replied);
    set('campaigns-row-paid', summary?.paid);
  }

  /** Refreshes a row from a campaign's full results (the detail view reads them anyway). */
  function headline(tr, r) {
    setCounts(tr, {
      enrolled: r.enrolled,
      sent: r.total.sent,
      delivered: r.total.delivered,
      replied: r.total.replied,
      paid: r.total.paid,
    });
    setRowStatus(tr, r.campaign.status);
  }

  function setRowStatus(tr, status) {
    const td = tr.querySelector('.campaigns-row-status');
    td.replaceChildren(h('span', { class: `campaigns-status campaigns-status-${status.toLowerCase()}` }, status));
  }

  const rowOf = (id) => listRows.querySelector(`tr[data-campaign="${CSS.escape(id)}"]`);

  function listRow(c) {
    const tr = h(
      'tr',
      {
        'data-campaign': c.id,
        class: c.id === isSelected() ? 'campaigns-selected' : '',
        onclick: () => onSelect(c.id),
      },
      h('td', { class: 'campaigns-row-name' }, c.name),
      h('td', { class: 'campaigns-row-status' }),
      h('td', {}, String(c.steps.length)),
      h('td', { class: 'campaigns-row-enrolled' }, '…'),
      h('td', { class: 'campaigns-row-sent' }, '…'),
      h('td', { class: 'campaigns-row-delivered' }, '…'),
      h('td', { class: 'campaigns-row-replied' }, '…'),
      h('td', { class: 'campaigns-row-paid' }, '…'),
      h('td', {}, timeOf(c.createdAt)),
    );
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
    } catch (err) {
      failure(err);
    }
  }

  const table = h(
    'table',
    { class: 'campaigns-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Name', 'Status', 'Steps', 'Enrolled', 'Sent', 'Delivered', 'Replied', 'Paid', 'Created'].map((t) =>
          h('th', {}, t),
        ),
      ),
    ),
    listRows,
  );
  /** Marks the row of the campaign shown in the detail panel. */
  const mark = (id) => {
    for (const tr of listRows.querySelectorAll('tr'))
      tr.classList.toggle('campaigns-selected', tr.dataset.campaign === id);
  };
  const newest = () => listRows.querySelector('tr[data-campaign]')?.dataset.campaign ?? null;
  return { table, rowOf, headline, setRowStatus, load: loadList, mark, newest };
}

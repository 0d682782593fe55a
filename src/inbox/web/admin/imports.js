// Admin tab: bulk import of debtors, contact points and debts. Upload a CSV or
// JSON/NDJSON file (sent as the raw request body to POST /api/v1/imports, never
// read into memory here), follow it live through the socket event
// `import.progress` (admins receive every job's events in the admin room),
// browse past jobs and read a job's rejected rows (line, field, reason).

// The columns, as documented in src/import/row.ts (JSON uses the same keys).
const FORMAT = [
  ['debtor_external_ref', "required — the debtor's id in your system; re-imports update by it, never duplicate"],
  ['full_name', 'required'],
  [
    'locale, jurisdiction, time_zone',
    'optional: en / es-US…, US-MA / GB / IN…, an IANA zone; the jurisdiction is otherwise derived from the address, then the phone',
  ],
  ['debtor_tags, preferred_channels', 'lists separated by ";" (e.g. SMS;EMAIL)'],
  [
    'phone, phone_label, phone_is_mobile, phone_consent_sms, phone_consent_voice',
    'E.164 or national with the country given; consent GRANTED / UNKNOWN / REVOKED (or yes / no)',
  ],
  ['email, email_consent', ''],
  [
    'address_line1, address_line2, city, region, postal_code, country, letter_consent',
    'line1, city, postal code and country (ISO alpha-2) together',
  ],
  [
    'creditor_ref, creditor_name, debt_ref, amount, balance, currency, due_date, debt_status, debt_tags, payment_link',
    'a debt needs creditor_ref, debt_ref, amount, currency and due_date (YYYY-MM-DD); balance defaults to amount and is kept on re-import unless given',
  ],
];

const FINISHED = new Set(['SUCCEEDED', 'FAILED']);

function formatOf(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.json') || name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'json';
  return null;
}

export async function mount(container, kit) {
  const { h, api, timeOf, socket } = kit;
  /** The job shown in the live panel and the error table. */
  let selected = null;
  /** Errors shown for the selected job, keyed line|field, so live events and a reload never double a row. */
  let shownErrors = new Set();

  const message = h('div', { id: 'imports-message' });
  const say = (text, ok = true) => message.replaceChildren(h('p', { class: ok ? 'muted' : 'error' }, text));

  const live = {
    title: h('strong', { id: 'imports-live-title' }, 'No import selected'),
    status: h('span', { id: 'imports-live-status', class: 'imports-status' }, '—'),
    rows: h('span', { id: 'imports-live-rows' }, '0'),
    rate: h('span', { id: 'imports-live-rate' }, '0'),
    failed: h('span', { id: 'imports-live-failed' }, '0'),
  };
  const livePanel = h(
    'section',
    { class: 'imports-live', id: 'imports-live' },
    live.title,
    ' ',
    live.status,
    h(
      'div',
      { class: 'imports-counters' },
      h('span', {}, 'rows done ', live.rows),
      h('span', {}, 'rows/s ', live.rate),
      h('span', {}, 'rejected ', live.failed),
    ),
  );
  const errorRows = h('tbody', { id: 'imports-errors' });
  const jobRows = h('tbody', { id: 'imports-jobs' });

  function showCounters(j) {
    live.status.textContent = j.status;
    live.status.className = `imports-status imports-status-${String(j.status).toLowerCase()}`;
    live.rows.textContent = String(j.rowsDone ?? 0);
    if (j.rowsPerSecond !== undefined) live.rate.textContent = String(j.rowsPerSecond);
    live.failed.textContent = String(j.rowsFailed ?? 0);
  }

  function addErrors(errors) {
    for (const e of errors ?? []) {
      const key = `${e.line}|${e.field}`;
      if (shownErrors.has(key)) continue;
      shownErrors.add(key);
      errorRows.append(
        h(
          'tr',
          { class: e.field === '(file)' ? 'imports-file-error' : '' },
          h('td', {}, String(e.line)),
          h('td', {}, e.field),
          h('td', {}, e.reason),
        ),
      );
    }
  }

  async function select(jobId, label) {
    selected = jobId;
    shownErrors = new Set();
    errorRows.replaceChildren();
    live.title.textContent = label ?? 'Import';
    for (const tr of jobRows.querySelectorAll('tr')) tr.classList.toggle('imports-selected', tr.dataset.job === jobId);
    try {
      const j = await api('GET', `/api/v1/imports/${jobId}`);
      if (selected !== jobId) return;
      live.title.textContent = j.filename ?? `Import of ${timeOf(j.createdAt)}`;
      showCounters(j);
      addErrors(j.errors);
    } catch (err) {
      say(err.message, false);
    }
  }

  function jobRow(j) {
    return h(
      'tr',
      { 'data-job': j.id, class: j.id === selected ? 'imports-selected' : '', onclick: () => select(j.id, j.filename) },
      h('td', {}, timeOf(j.createdAt)),
      h('td', {}, j.filename ?? '—'),
      h('td', {}, j.format),
      h('td', { class: 'imports-job-status' }, j.status),
      h('td', { class: 'imports-job-rows' }, String(j.rowsDone)),
      h('td', { class: 'imports-job-failed' }, String(j.rowsFailed)),
      h('td', { class: 'imports-job-rate' }, String(j.rowsPerSecond)),
    );
  }

  async function loadJobs() {
    try {
      const r = await api('GET', '/api/v1/imports?limit=20');
      jobRows.replaceChildren(...r.data.map(jobRow));
    } catch (err) {
      say(err.message, false);
    }
  }

  function onProgress(ev) {
    const tr = jobRows.querySelector(`tr[data-job="${CSS.escape(ev.jobId)}"]`);
    if (tr) {
      tr.querySelector('.imports-job-status').textContent = ev.status;
      tr.querySelector('.imports-job-rows').textContent = String(ev.rowsDone);
      tr.querySelector('.imports-job-failed').textContent = String(ev.rowsFailed);
      if (ev.rowsPerSecond !== undefined) tr.querySelector('.imports-job-rate').textContent = String(ev.rowsPerSecond);
    } else {
      loadJobs();
    }
    if (ev.jobId !== selected) return;
    showCounters(ev);
    addErrors(ev.newErrors);
    if (ev.error) addErrors([{ line: (ev.linesDone ?? 0) + 1, field: '(file)', reason: ev.error }]);
    // The final event carries no errors list: reload the job once for the complete table.
    if (FINISHED.has(ev.status)) {
      say(
        ev.status === 'SUCCEEDED'
          ? `${live.title.textContent}: ${ev.rowsDone - ev.rowsFailed} rows imported, ${ev.rowsFailed} rejected.`
          : `${live.title.textContent} stopped: ${ev.error ?? 'failed'}`,
        ev.status === 'SUCCEEDED',
      );
      select(ev.jobId, live.title.textContent);
    }
  }
  socket.on('import.progress', onProgress);

  const file = h('input', {
    id: 'imports-file',
    type: 'file',
    accept: '.csv,.json,.ndjson,.jsonl,text/csv,application/json',
    required: true,
    'aria-label': 'File to import (CSV, JSON or NDJSON)',
  });
  const submit = h('button', { class: 'primary', type: 'submit', id: 'imports-upload' }, 'Upload and import');
  const form = h(
    'form',
    {
      class: 'imports-form',
      id: 'imports-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const f = file.files?.[0];
        if (!f) return say('Choose a file first.', false);
        const format = formatOf(f);
        if (!format) return say('The file name must end in .csv, .json, .ndjson or .jsonl.', false);
        submit.disabled = true;
        say(`Uploading ${f.name} (${Math.ceil(f.size / 1024)} KiB)…`);
        try {
          // The file goes as the raw body (the browser streams it), with the session's CSRF token.
          const session = await api('GET', '/api/v1/session');
          const res = await fetch(
            `/api/v1/imports?format=${format}&filename=${encodeURIComponent(f.name.slice(0, 200))}`,
            {
              method: 'POST',
              credentials: 'same-origin',
              headers: {
                'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
                'x-csrf-token': session.csrfToken,
              },
              body: f,
            },
          );
          const body = await res.json().catch(() => ({}));
          if (!res.ok) throw new Error(body.message ?? `upload failed (HTTP ${res.status})`);
          say(`${f.name} uploaded; importing.`);
          form.reset();
          await loadJobs();
          await select(body.jobId, f.name);
        } catch (err) {
          say(err.message, false);
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('strong', {}, 'New import'),
    file,
    submit,
  );

  const docs = h(
    'details',
    { class: 'imports-format', id: 'imports-format' },
    h('summary', {}, 'File format: CSV with a header row, or JSON (an array of objects, or one object per line)'),
    h(
      'p',
      { class: 'muted' },
      'Columns (JSON keys) — empty means not given; each row is checked on its own and a bad row never stops the rest:',
    ),
    h(
      'dl',
      {},
      FORMAT.flatMap(([cols, note]) => [h('dt', {}, cols), h('dd', {}, note || '—')]),
    ),
    h(
      'p',
      { class: 'muted' },
      'The API takes the same file: POST /api/v1/imports?format=csv|json with the file as the body (the OpenAPI description is at /api/openapi.json).',
    ),
  );

  container.replaceChildren(
    h('h2', {}, 'Imports'),
    form,
    message,
    docs,
    livePanel,
    h('h3', {}, 'Rejected rows'),
    h(
      'table',
      { class: 'imports-errors-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Line', 'Field', 'Reason'].map((t) => h('th', {}, t)),
        ),
      ),
      errorRows,
    ),
    h('h3', {}, 'Recent imports'),
    h(
      'table',
      { class: 'imports-jobs-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Started', 'File', 'Format', 'Status', 'Rows', 'Rejected', 'Rows/s'].map((t) => h('th', {}, t)),
        ),
      ),
      jobRows,
    ),
  );
  await loadJobs();
  const newest = jobRows.querySelector('tr');
  if (newest) await select(newest.dataset.job, newest.children[1].textContent);

  return () => socket.off('import.progress', onProgress);
}
